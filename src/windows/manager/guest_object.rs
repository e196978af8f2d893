//! One guest as a list item: a GObject whose properties the rows bind to,
//! so a change repaints only that guest's row (if it is visible at all).
//!
//! A host can hold thousands of guests and only a screenful has rows, so
//! the object stays small: texts that follow from the state, the size or
//! the CPU figure (state label, icon, summary, description) are computed
//! when a bound row reads them, not stored per guest, and a property is
//! notified only when its value really changed.

use std::sync::Arc;

use relm4::gtk::glib;
use relm4::gtk::prelude::ObjectExt;
use relm4::gtk::subclass::prelude::*;
use virt_manager_plugin_api::{DomainInfo, DomainState};

use crate::model::{ConnectionId, Sample};
use crate::windows::widgets::Samples;
use crate::windows::{format, state_icon_name, state_label};

/// Samples a row's sparkline shows.
pub const SPARKLINE_SAMPLES: usize = 40;

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Default, glib::Properties)]
    #[properties(wrapper_type = super::GuestObject)]
    pub struct GuestObject {
        #[property(get)]
        pub uuid: RefCell<String>,
        #[property(get)]
        pub name: RefCell<String>,
        /// The name in lowercase, for sorting and searching.
        pub name_key: RefCell<String>,
        /// Machine name of the state ("running"), for filtering and CSS.
        #[property(name = "state", get = Self::state_name, type = String)]
        /// Translated state for display.
        #[property(name = "state-label", get = Self::state_text, type = String)]
        #[property(name = "icon-name", get = Self::icon, type = String)]
        pub domain_state: Cell<Option<DomainState>>,
        /// "2 vCPUs · 4.0 GiB".
        #[property(name = "summary", get = Self::summary_text, type = String)]
        pub size: Cell<(u32, u64)>,
        /// "12 %", or empty when not running or not sampled.
        #[property(get)]
        pub cpu_text: RefCell<String>,
        /// Memory in use, e.g. "1.2 GiB", or empty.
        #[property(get)]
        pub memory_text: RefCell<String>,
        /// The last CPU percentages, for the sparkline.
        #[property(get)]
        pub cpu_history: RefCell<Samples>,
        /// Accessible sentence for the row: name, state, CPU.
        #[property(name = "description", get = Self::description_text, type = String)]
        pub cpu: Cell<Option<f32>>,
        #[property(get)]
        pub connection: Cell<u64>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for GuestObject {
        const NAME: &'static str = "VmmGuestObject";
        type Type = super::GuestObject;
    }

    #[glib::derived_properties]
    impl ObjectImpl for GuestObject {}

    impl GuestObject {
        fn state(&self) -> DomainState {
            self.domain_state.get().unwrap_or(DomainState::Nostate)
        }

        fn state_name(&self) -> String {
            self.state().as_str().to_owned()
        }

        fn state_text(&self) -> String {
            state_label(self.state())
        }

        fn icon(&self) -> String {
            state_icon_name(self.state()).to_owned()
        }

        fn summary_text(&self) -> String {
            let (vcpus, memory_kib) = self.size.get();
            summary(vcpus, memory_kib)
        }

        fn description_text(&self) -> String {
            let mut text = format!("{}, {}", self.name.borrow(), self.state_text());
            if let Some(cpu) = self.cpu.get() {
                text.push_str(&format!(", CPU {}", format::percent(cpu)));
            }
            text
        }
    }
}

glib::wrapper! {
    pub struct GuestObject(ObjectSubclass<imp::GuestObject>);
}

impl GuestObject {
    pub fn new(connection: ConnectionId, info: &DomainInfo) -> Self {
        let obj: Self = glib::Object::new();
        let imp = obj.imp();
        imp.connection.set(connection);
        imp.uuid.replace(info.uuid.clone());
        // Nothing is bound to a new object: set without notifying.
        imp.name.replace(info.name.clone());
        imp.name_key.replace(info.name.to_lowercase());
        imp.domain_state.set(Some(info.state));
        imp.size.set((info.vcpus, info.memory_kib));
        obj
    }

    fn set_text(&self, cell: &std::cell::RefCell<String>, value: String, prop: &str) -> bool {
        if *cell.borrow() != value {
            cell.replace(value);
            self.notify(prop);
            return true;
        }
        false
    }

    /// Applies new values, notifying only the properties that changed.
    pub fn update(&self, info: &DomainInfo) {
        let imp = self.imp();
        let mut describe = false;
        if *imp.name.borrow() != info.name {
            imp.name.replace(info.name.clone());
            imp.name_key.replace(info.name.to_lowercase());
            self.notify("name");
            describe = true;
        }
        let old = imp.domain_state.replace(Some(info.state));
        if old != Some(info.state) {
            self.notify("state");
            self.notify("state-label");
            self.notify("icon-name");
            describe = true;
        }
        if imp.size.replace((info.vcpus, info.memory_kib)) != (info.vcpus, info.memory_kib) {
            self.notify("summary");
        }
        if old.is_some_and(|s| s.is_active()) && !info.state.is_active() {
            // A stopped guest uses no CPU or memory: clear stale figures.
            describe |= imp.cpu.replace(None).is_some();
            self.set_text(&imp.cpu_text, String::new(), "cpu-text");
            self.set_text(&imp.memory_text, String::new(), "memory-text");
        }
        if describe {
            self.notify("description");
        }
    }

    /// Takes one statistics sample.
    pub fn push_sample(&self, sample: &Sample) {
        let imp = self.imp();
        let running = self.domain_state().is_active();
        imp.cpu.set(sample.cpu_percent);
        let value = sample.cpu_percent.unwrap_or(0.0);
        let next = {
            let h = imp.cpu_history.borrow();
            let old = &h.0;
            // A full graph of one value (a stopped guest's zeros) does not
            // change: no copy, no notification.
            if old.len() >= SPARKLINE_SAMPLES && old.iter().all(|v| *v == value) {
                None
            } else {
                let skip = (old.len() + 1).saturating_sub(SPARKLINE_SAMPLES);
                let values: Arc<[f32]> = old
                    .iter()
                    .skip(skip)
                    .copied()
                    .chain(std::iter::once(value))
                    .collect();
                Some(values)
            }
        };
        if let Some(values) = next {
            imp.cpu_history.replace(Samples(values));
            self.notify("cpu-history");
        }
        let cpu = sample.cpu_percent.map(format::percent).unwrap_or_default();
        if self.set_text(&imp.cpu_text, cpu, "cpu-text") {
            self.notify("description");
        }
        let mem = match sample.memory_used_kib {
            Some(kib) if running => format::kib(kib),
            _ => String::new(),
        };
        self.set_text(&imp.memory_text, mem, "memory-text");
    }

    pub fn domain_state(&self) -> DomainState {
        self.imp()
            .domain_state
            .get()
            .unwrap_or(DomainState::Nostate)
    }

    /// Latest CPU use, for sorting.
    pub fn cpu(&self) -> Option<f32> {
        self.imp().cpu.get()
    }

    /// The name in lowercase (sorting and searching read it in place).
    pub fn name_key(&self) -> std::cell::Ref<'_, String> {
        self.imp().name_key.borrow()
    }

    /// The UUID, read in place.
    pub fn uuid_ref(&self) -> std::cell::Ref<'_, String> {
        self.imp().uuid.borrow()
    }
}

/// "2 vCPUs · 1.0 GiB": the second line of a row.
fn summary(vcpus: u32, memory_kib: u64) -> String {
    let cpus =
        crate::i18n::ngettext("{n} vCPU", "{n} vCPUs", vcpus).replace("{n}", &vcpus.to_string());
    format!("{cpus} · {}", format::kib(memory_kib))
}
