//! One connection as a group header of the manager's list. Its guests live
//! in its own store, seen through the window's shared filter and sorter;
//! the tree model shows them below it.

use relm4::gtk;
use relm4::gtk::prelude::*;
use relm4::gtk::subclass::prelude::*;
use relm4::gtk::{gio, glib};

use super::guest_object::GuestObject;
use crate::i18n::{gettext, gettext_f, ngettext};
use crate::model::{ConnectionId, ConnectionState};

mod imp {
    use std::cell::{Cell, OnceCell, RefCell};

    use super::*;

    #[derive(Default, glib::Properties)]
    #[properties(wrapper_type = super::ConnectionObject)]
    pub struct ConnectionObject {
        #[property(get)]
        pub id: Cell<u64>,
        /// The URI as the user reads it.
        #[property(get)]
        pub title: RefCell<String>,
        /// "connecting", "active", "disconnected", "failed".
        #[property(get)]
        pub state: RefCell<String>,
        /// "Connected · 8 guests", "Failed: reason", ...
        #[property(get)]
        pub status: RefCell<String>,
        pub uri: RefCell<String>,
        pub guests: OnceCell<gio::ListStore>,
        pub view: OnceCell<gtk::SortListModel>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ConnectionObject {
        const NAME: &'static str = "VmmConnectionObject";
        type Type = super::ConnectionObject;
    }

    #[glib::derived_properties]
    impl ObjectImpl for ConnectionObject {}
}

glib::wrapper! {
    pub struct ConnectionObject(ObjectSubclass<imp::ConnectionObject>);
}

impl ConnectionObject {
    pub fn new(id: ConnectionId, filter: &gtk::CustomFilter, sorter: &gtk::CustomSorter) -> Self {
        let obj: Self = glib::Object::new();
        obj.imp().id.set(id);
        let guests = gio::ListStore::new::<GuestObject>();
        let filtered = gtk::FilterListModel::new(Some(guests.clone()), Some(filter.clone()));
        let sorted = gtk::SortListModel::new(Some(filtered), Some(sorter.clone()));
        let _ = obj.imp().guests.set(guests);
        let _ = obj.imp().view.set(sorted);
        obj
    }

    pub fn guests(&self) -> &gio::ListStore {
        self.imp().guests.get().expect("set in new")
    }

    /// The guests as shown: filtered and sorted.
    pub fn view(&self) -> &gtk::SortListModel {
        self.imp().view.get().expect("set in new")
    }

    pub fn uri(&self) -> String {
        self.imp().uri.borrow().clone()
    }

    fn set(&self, cell: &std::cell::RefCell<String>, value: String, prop: &str) {
        if *cell.borrow() != value {
            cell.replace(value);
            self.notify(prop);
        }
    }

    pub fn set_state(&self, uri: &str, state: &ConnectionState) {
        let imp = self.imp();
        imp.uri.replace(uri.to_owned());
        self.set(&imp.title, super::display_uri(uri), "title");
        self.set(&imp.state, state.as_str().to_owned(), "state");
        self.refresh_status(state);
    }

    /// Recomputes the status line (after a state change or a guest count
    /// change).
    pub fn refresh_status(&self, state: &ConnectionState) {
        let n = self.guests().n_items();
        let status = match state {
            ConnectionState::Connecting => gettext("Connecting…"),
            ConnectionState::Active => {
                ngettext("Connected · {n} guest", "Connected · {n} guests", n)
                    .replace("{n}", &n.to_string())
            }
            ConnectionState::Disconnected(r) if r == "closed" => gettext("Disconnected"),
            ConnectionState::Disconnected(r) => {
                gettext_f("Disconnected: {reason}", &[("reason", r)])
            }
            ConnectionState::Failed(r) => gettext_f("Failed: {reason}", &[("reason", r)]),
        };
        self.set(&self.imp().status, status, "status");
    }
}
