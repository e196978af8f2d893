//! One guest as a list item: a GObject whose properties the rows bind to,
//! so a change repaints only that guest's row (if it is visible at all).

use std::collections::VecDeque;
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
        /// Machine name of the state ("running"), for filtering and CSS.
        #[property(get)]
        pub state: RefCell<String>,
        /// Translated state for display.
        #[property(get)]
        pub state_label: RefCell<String>,
        #[property(get)]
        pub icon_name: RefCell<String>,
        /// "2 vCPUs · 4.0 GiB".
        #[property(get)]
        pub summary: RefCell<String>,
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
        #[property(get)]
        pub description: RefCell<String>,
        #[property(get)]
        pub connection: Cell<u64>,
        pub cpu: Cell<Option<f32>>,
        pub history: RefCell<VecDeque<f32>>,
        pub domain_state: Cell<Option<DomainState>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for GuestObject {
        const NAME: &'static str = "VmmGuestObject";
        type Type = super::GuestObject;
    }

    #[glib::derived_properties]
    impl ObjectImpl for GuestObject {}
}

glib::wrapper! {
    pub struct GuestObject(ObjectSubclass<imp::GuestObject>);
}

impl GuestObject {
    pub fn new(connection: ConnectionId, info: &DomainInfo) -> Self {
        let obj: Self = glib::Object::new();
        obj.imp().connection.set(connection);
        obj.imp().uuid.replace(info.uuid.clone());
        obj.update(info);
        obj
    }

    fn set_text(&self, cell: &std::cell::RefCell<String>, value: String, prop: &str) {
        if *cell.borrow() != value {
            cell.replace(value);
            self.notify(prop);
        }
    }

    /// Applies new values, notifying only the properties that changed.
    pub fn update(&self, info: &DomainInfo) {
        let imp = self.imp();
        let was_active = imp.domain_state.get().is_some_and(|s| s.is_active());
        imp.domain_state.set(Some(info.state));
        self.set_text(&imp.name, info.name.clone(), "name");
        self.set_text(&imp.state, info.state.as_str().to_owned(), "state");
        self.set_text(&imp.state_label, state_label(info.state), "state-label");
        self.set_text(
            &imp.icon_name,
            state_icon_name(info.state).to_owned(),
            "icon-name",
        );
        self.set_text(&imp.summary, summary(info), "summary");
        if was_active && !info.state.is_active() {
            // A stopped guest uses no CPU or memory: clear stale figures.
            imp.cpu.set(None);
            self.set_text(&imp.cpu_text, String::new(), "cpu-text");
            self.set_text(&imp.memory_text, String::new(), "memory-text");
        }
        self.update_description();
    }

    /// Takes one statistics sample.
    pub fn push_sample(&self, sample: &Sample) {
        let imp = self.imp();
        let running = imp.domain_state.get().is_some_and(|s| s.is_active());
        imp.cpu.set(sample.cpu_percent);
        {
            let mut h = imp.history.borrow_mut();
            if h.len() >= SPARKLINE_SAMPLES {
                h.pop_front();
            }
            h.push_back(sample.cpu_percent.unwrap_or(0.0));
        }
        let cpu = sample.cpu_percent.map(format::percent).unwrap_or_default();
        self.set_text(&imp.cpu_text, cpu, "cpu-text");
        let mem = match sample.memory_used_kib {
            Some(kib) if running => format::kib(kib),
            _ => String::new(),
        };
        self.set_text(&imp.memory_text, mem, "memory-text");
        let values: Arc<[f32]> = imp.history.borrow().iter().copied().collect();
        imp.cpu_history.replace(Samples(values));
        self.notify("cpu-history");
        self.update_description();
    }

    fn update_description(&self) {
        let imp = self.imp();
        let mut text = format!("{}, {}", imp.name.borrow(), imp.state_label.borrow());
        if let Some(cpu) = imp.cpu.get() {
            text.push_str(&format!(", CPU {}", format::percent(cpu)));
        }
        self.set_text(&imp.description, text, "description");
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
}

/// "2 vCPUs · 1.0 GiB": the second line of a row.
fn summary(info: &DomainInfo) -> String {
    let cpus = crate::i18n::ngettext("{n} vCPU", "{n} vCPUs", info.vcpus)
        .replace("{n}", &info.vcpus.to_string());
    format!("{cpus} · {}", format::kib(info.memory_kib))
}
