//! One guest as a list item: a GObject whose properties the rows bind to,
//! so a state change repaints only that row.

use relm4::gtk::glib;
use relm4::gtk::subclass::prelude::*;
use virt_manager_plugin_api::{DomainInfo, DomainState};

use crate::model::ConnectionId;
use crate::windows::{state_icon_name, state_label};

mod imp {
    use std::cell::{Cell, RefCell};

    use relm4::gtk::glib;
    use relm4::gtk::glib::prelude::*;
    use relm4::gtk::glib::subclass::prelude::*;

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
        #[property(get)]
        pub summary: RefCell<String>,
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

    /// Applies new values, notifying only the properties that changed.
    pub fn update(&self, info: &DomainInfo) {
        use relm4::gtk::prelude::ObjectExt;
        let imp = self.imp();
        let set = |cell: &std::cell::RefCell<String>, value: String, prop: &str| {
            if *cell.borrow() != value {
                cell.replace(value);
                self.notify(prop);
            }
        };
        set(&imp.name, info.name.clone(), "name");
        set(&imp.state, info.state.as_str().to_owned(), "state");
        set(&imp.state_label, state_label(info.state), "state-label");
        set(
            &imp.icon_name,
            state_icon_name(info.state).to_owned(),
            "icon-name",
        );
        set(&imp.summary, summary(info), "summary");
    }

    pub fn domain_state(&self) -> DomainState {
        DomainState::from_name(&self.state()).unwrap_or(DomainState::Nostate)
    }
}

/// "2 vCPUs · 1.0 GiB": the second line of a row.
fn summary(info: &DomainInfo) -> String {
    let cpus = crate::i18n::ngettext("{n} vCPU", "{n} vCPUs", info.vcpus)
        .replace("{n}", &info.vcpus.to_string());
    let gib = info.memory_kib as f64 / (1024.0 * 1024.0);
    let mem = if gib >= 1.0 {
        format!("{gib:.1} GiB")
    } else {
        format!("{} MiB", info.memory_kib / 1024)
    };
    format!("{cpus} · {mem}")
}
