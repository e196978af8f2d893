//! The manager's row widget. The list is a tree (connections with their
//! guests below), so one recycled row shows either a connection header or
//! a guest; binding it connects its labels to that object's properties and
//! unbinding disconnects them, so 1500 guests cost only the rows on screen.

use std::rc::Rc;

use relm4::adw;
use relm4::gtk;
use relm4::gtk::glib;
use relm4::gtk::prelude::*;
use relm4::gtk::subclass::prelude::*;

use super::connection_object::ConnectionObject;
use super::guest_object::GuestObject;
use crate::i18n::gettext;
use crate::windows::widgets::Sparkline;

/// Asks for a row's context menu: (list position, row widget, x, y).
pub type ContextMenuHandler = Rc<dyn Fn(u32, &gtk::Widget, f64, f64)>;
/// A connection header's buttons: (connection id, command).
pub type ConnectionHandler = Rc<dyn Fn(u64, ConnectionCommand)>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionCommand {
    Connect,
    Disconnect,
    HostDetails,
    Remove,
}

mod imp {
    use std::cell::{OnceCell, RefCell};

    use super::*;

    #[derive(Default)]
    pub struct ManagerRow {
        /// The guest half and the connection half: one is visible (a
        /// hidden widget is out of the accessibility tree too).
        pub guest_box: OnceCell<gtk::Box>,
        pub header_box: OnceCell<gtk::Box>,
        // Guest part.
        pub icon: OnceCell<gtk::Image>,
        pub name: OnceCell<gtk::Label>,
        pub summary: OnceCell<gtk::Label>,
        pub sparkline: OnceCell<Sparkline>,
        pub cpu: OnceCell<gtk::Label>,
        pub memory: OnceCell<gtk::Label>,
        pub state: OnceCell<gtk::Label>,
        pub compact_state: OnceCell<gtk::Label>,
        // Connection part.
        pub conn_title: OnceCell<gtk::Label>,
        pub conn_status: OnceCell<gtk::Label>,
        pub conn_menu: OnceCell<gtk::MenuButton>,
        pub bindings: RefCell<Vec<glib::Binding>>,
        pub handlers: RefCell<Vec<(glib::Object, glib::SignalHandlerId)>>,
        pub connection: std::cell::Cell<Option<u64>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ManagerRow {
        const NAME: &'static str = "VmmManagerRow";
        type Type = super::ManagerRow;
        type ParentType = gtk::Box;
    }

    impl ObjectImpl for ManagerRow {}
    impl WidgetImpl for ManagerRow {}
    impl BoxImpl for ManagerRow {}
}

glib::wrapper! {
    pub struct ManagerRow(ObjectSubclass<imp::ManagerRow>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

fn label(classes: &[&str], xalign: f32) -> gtk::Label {
    gtk::Label::builder()
        .xalign(xalign)
        .ellipsize(gtk::pango::EllipsizeMode::End)
        .css_classes(classes.iter().map(|c| c.to_string()).collect::<Vec<_>>())
        .build()
}

impl ManagerRow {
    fn new(on_connection: ConnectionHandler) -> Self {
        let row: Self = glib::Object::new();
        let imp = row.imp();
        row.set_hexpand(true);

        // Guest row.
        let guest = gtk::Box::builder()
            .spacing(12)
            .css_classes(["guest-row"])
            .build();
        let icon = gtk::Image::builder().pixel_size(16).build();
        let text = gtk::Box::builder()
            .orientation(gtk::Orientation::Vertical)
            .hexpand(true)
            .spacing(2)
            .build();
        let name = label(&["guest-name"], 0.0);
        let summary = label(&["dim-label", "caption"], 0.0);
        text.append(&name);
        text.append(&summary);
        let sparkline = Sparkline::default();
        sparkline.set_valign(gtk::Align::Center);
        sparkline.set_size_request(80, 24);
        let cpu = label(&["numeric", "caption"], 1.0);
        cpu.set_width_chars(6);
        let memory = label(&["numeric", "caption", "dim-label"], 1.0);
        memory.set_width_chars(9);
        let state = label(&["dim-label"], 1.0);
        state.set_width_chars(crate::labels::widest_state_label_chars());
        guest.append(&icon);
        guest.append(&text);
        // Narrow windows (down to 360 px) keep the state and drop the
        // graph and memory first: a squeezer shows the widest part that fits.
        let full = gtk::Box::builder()
            .spacing(12)
            .halign(gtk::Align::End)
            .build();
        full.append(&sparkline);
        full.append(&cpu);
        full.append(&memory);
        full.append(&state);
        let compact_state = label(&["dim-label"], 1.0);
        compact_state.set_hexpand(true);
        let compact = gtk::Box::builder().spacing(12).build();
        compact.append(&compact_state);
        let squeezer = adw::Squeezer::builder()
            .homogeneous(false)
            .transition_type(adw::SqueezerTransitionType::None)
            .xalign(1.0)
            .build();
        squeezer.add(&full);
        squeezer.add(&compact);
        guest.append(&squeezer);

        // Connection header.
        let header = gtk::Box::builder()
            .spacing(12)
            .css_classes(["connection-row"])
            .build();
        let htext = gtk::Box::builder()
            .orientation(gtk::Orientation::Vertical)
            .hexpand(true)
            .spacing(2)
            .build();
        let conn_title = label(&["heading"], 0.0);
        let conn_status = label(&["dim-label", "caption"], 0.0);
        conn_status.set_ellipsize(gtk::pango::EllipsizeMode::End);
        htext.append(&conn_title);
        htext.append(&conn_status);
        header.append(&htext);
        let menu_button = gtk::MenuButton::builder()
            .icon_name("view-more-symbolic")
            .css_classes(["flat"])
            .valign(gtk::Align::Center)
            .tooltip_text(gettext("Connection Actions"))
            .build();
        crate::windows::a11y::set_label(&menu_button, &gettext("Connection actions"));
        let popover = gtk::Popover::new();
        let pbox = gtk::Box::builder()
            .orientation(gtk::Orientation::Vertical)
            .css_classes(["menu"])
            .build();
        for (text, cmd) in [
            (gettext("_Connect"), ConnectionCommand::Connect),
            (gettext("_Disconnect"), ConnectionCommand::Disconnect),
            (gettext("_Host Details"), ConnectionCommand::HostDetails),
            (gettext("_Remove"), ConnectionCommand::Remove),
        ] {
            let b = gtk::Button::builder()
                .label(text)
                .use_underline(true)
                .css_classes(["flat"])
                .build();
            if let Some(l) = b.child().and_downcast::<gtk::Label>() {
                l.set_xalign(0.0);
            }
            let weak = row.downgrade();
            let handler = on_connection.clone();
            let pop = popover.downgrade();
            b.connect_clicked(move |_| {
                if let Some(p) = pop.upgrade() {
                    p.popdown();
                }
                if let Some(id) = weak.upgrade().and_then(|r| r.imp().connection.get()) {
                    handler(id, cmd);
                }
            });
            pbox.append(&b);
        }
        popover.set_child(Some(&pbox));
        menu_button.set_popover(Some(&popover));
        header.append(&menu_button);

        guest.set_hexpand(true);
        header.set_hexpand(true);
        header.set_visible(false);
        row.append(&guest);
        row.append(&header);
        let _ = imp.guest_box.set(guest);
        let _ = imp.header_box.set(header);
        let _ = imp.icon.set(icon);
        let _ = imp.name.set(name);
        let _ = imp.summary.set(summary);
        let _ = imp.sparkline.set(sparkline);
        let _ = imp.cpu.set(cpu);
        let _ = imp.memory.set(memory);
        let _ = imp.state.set(state);
        let _ = imp.compact_state.set(compact_state);
        let _ = imp.conn_title.set(conn_title);
        let _ = imp.conn_status.set(conn_status);
        let _ = imp.conn_menu.set(menu_button);
        row
    }

    fn keep(&self, b: glib::Binding) {
        self.imp().bindings.borrow_mut().push(b);
    }

    fn bind_guest(&self, g: &GuestObject) {
        let imp = self.imp();
        imp.guest_box.get().unwrap().set_visible(true);
        imp.header_box.get().unwrap().set_visible(false);
        imp.connection.set(None);
        let text =
            |prop: &str, w: &gtk::Label| g.bind_property(prop, w, "label").sync_create().build();
        self.keep(text("name", imp.name.get().unwrap()));
        self.keep(text("summary", imp.summary.get().unwrap()));
        self.keep(text("state-label", imp.state.get().unwrap()));
        self.keep(text("state-label", imp.compact_state.get().unwrap()));
        self.keep(text("cpu-text", imp.cpu.get().unwrap()));
        self.keep(text("memory-text", imp.memory.get().unwrap()));
        let icon = imp.icon.get().unwrap();
        self.keep(
            g.bind_property("icon-name", icon, "icon-name")
                .sync_create()
                .build(),
        );
        self.keep(
            g.bind_property("state", icon, "css-classes")
                .transform_to(|_, state: String| Some(vec!["guest-state-icon".to_owned(), state]))
                .sync_create()
                .build(),
        );
        let spark = imp.sparkline.get().unwrap();
        self.keep(
            g.bind_property("cpu-history", spark, "samples")
                .sync_create()
                .build(),
        );
        self.keep(
            g.bind_property("description", spark, "tooltip-text")
                .sync_create()
                .build(),
        );
    }

    fn bind_connection(&self, c: &ConnectionObject) {
        let imp = self.imp();
        imp.guest_box.get().unwrap().set_visible(false);
        imp.header_box.get().unwrap().set_visible(true);
        imp.connection.set(Some(c.id()));
        self.keep(
            c.bind_property("title", imp.conn_title.get().unwrap(), "label")
                .sync_create()
                .build(),
        );
        self.keep(
            c.bind_property("status", imp.conn_status.get().unwrap(), "label")
                .sync_create()
                .build(),
        );
        self.keep(
            c.bind_property("status", imp.conn_status.get().unwrap(), "tooltip-text")
                .sync_create()
                .build(),
        );
    }

    fn unbind(&self) {
        for b in self.imp().bindings.borrow_mut().drain(..) {
            b.unbind();
        }
        self.imp().connection.set(None);
    }
}

pub fn factory(
    on_context_menu: ContextMenuHandler,
    on_connection: ConnectionHandler,
) -> gtk::SignalListItemFactory {
    let factory = gtk::SignalListItemFactory::new();
    factory.connect_setup(move |_, item| {
        let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        let row = ManagerRow::new(on_connection.clone());
        let expander = gtk::TreeExpander::new();
        expander.set_child(Some(&row));
        let click = gtk::GestureClick::builder()
            .button(gtk::gdk::BUTTON_SECONDARY)
            .build();
        let weak_item = item.downgrade();
        let handler = on_context_menu.clone();
        let weak_row = row.downgrade();
        click.connect_pressed(move |gesture, _, x, y| {
            let (Some(item), Some(row)) = (weak_item.upgrade(), weak_row.upgrade()) else {
                return;
            };
            if item.position() != gtk::INVALID_LIST_POSITION && row.imp().connection.get().is_none()
            {
                gesture.set_state(gtk::EventSequenceState::Claimed);
                handler(item.position(), row.upcast_ref(), x, y);
            }
        });
        row.add_controller(click);
        item.set_child(Some(&expander));
    });
    factory.connect_bind(|_, item| {
        let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        let Some(tree_row) = item.item().and_downcast::<gtk::TreeListRow>() else {
            return;
        };
        let Some(expander) = item.child().and_downcast::<gtk::TreeExpander>() else {
            return;
        };
        let Some(row) = expander.child().and_downcast::<ManagerRow>() else {
            return;
        };
        expander.set_list_row(Some(&tree_row));
        match tree_row.item() {
            Some(obj) if obj.is::<GuestObject>() => {
                row.bind_guest(obj.downcast_ref().unwrap());
            }
            Some(obj) if obj.is::<ConnectionObject>() => {
                row.bind_connection(obj.downcast_ref().unwrap());
            }
            _ => {}
        }
    });
    factory.connect_unbind(|_, item| {
        let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        if let Some(expander) = item.child().and_downcast::<gtk::TreeExpander>() {
            expander.set_list_row(None);
            if let Some(row) = expander.child().and_downcast::<ManagerRow>() {
                row.unbind();
            }
        }
    });
    factory
}
