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
    use std::cell::{Cell, OnceCell, RefCell};

    use super::*;

    #[derive(Default)]
    pub struct ManagerRow {
        /// The guest half, built the first time the row shows a guest.
        pub guest: OnceCell<GuestParts>,
        /// The connection half, built the first time it shows a header.
        pub header: OnceCell<HeaderParts>,
        pub on_connection: OnceCell<ConnectionHandler>,
        pub bindings: RefCell<Vec<glib::Binding>>,
        pub handlers: RefCell<Vec<(glib::Object, glib::SignalHandlerId)>>,
        pub connection: Cell<Option<u64>>,
        /// The state whose CSS class the icon carries.
        pub state_class: RefCell<String>,
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

/// The widgets of a guest row.
pub struct GuestParts {
    root: gtk::Box,
    icon: gtk::Image,
    name: gtk::Label,
    summary: gtk::Label,
    sparkline: Sparkline,
    cpu: gtk::Label,
    memory: gtk::Label,
    state: gtk::Label,
    compact_state: gtk::Label,
}

/// The widgets of a connection header.
pub struct HeaderParts {
    root: gtk::Box,
    title: gtk::Label,
    status: gtk::Label,
}

fn label(classes: &[&str], xalign: f32) -> gtk::Label {
    gtk::Label::builder()
        .xalign(xalign)
        .ellipsize(gtk::pango::EllipsizeMode::End)
        .css_classes(classes.iter().map(|c| c.to_string()).collect::<Vec<_>>())
        .build()
}

impl GuestParts {
    fn new() -> Self {
        let root = gtk::Box::builder()
            .spacing(12)
            .hexpand(true)
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
        state.set_width_chars(10);
        root.append(&icon);
        root.append(&text);
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
        let squeezer = adw::Squeezer::builder()
            .homogeneous(false)
            .transition_type(adw::SqueezerTransitionType::None)
            .xalign(1.0)
            .build();
        squeezer.add(&full);
        squeezer.add(&compact_state);
        root.append(&squeezer);
        GuestParts {
            root,
            icon,
            name,
            summary,
            sparkline,
            cpu,
            memory,
            state,
            compact_state,
        }
    }
}

impl HeaderParts {
    fn new(row: &ManagerRow, on_connection: ConnectionHandler) -> Self {
        let root = gtk::Box::builder()
            .spacing(12)
            .hexpand(true)
            .css_classes(["connection-row"])
            .build();
        let htext = gtk::Box::builder()
            .orientation(gtk::Orientation::Vertical)
            .hexpand(true)
            .spacing(2)
            .build();
        let title = label(&["heading"], 0.0);
        let status = label(&["dim-label", "caption"], 0.0);
        status.set_ellipsize(gtk::pango::EllipsizeMode::End);
        htext.append(&title);
        htext.append(&status);
        root.append(&htext);
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
        root.append(&menu_button);
        HeaderParts {
            root,
            title,
            status,
        }
    }
}

impl ManagerRow {
    /// An empty row: GTK 4.8's list view makes some 200 of them whatever
    /// the window shows, so each half is built only when first needed.
    fn new(on_connection: ConnectionHandler) -> Self {
        let row: Self = glib::Object::new();
        row.set_hexpand(true);
        let _ = row.imp().on_connection.set(on_connection);
        row
    }

    fn guest_parts(&self) -> &GuestParts {
        let imp = self.imp();
        imp.guest.get_or_init(|| {
            let parts = GuestParts::new();
            self.append(&parts.root);
            parts
        })
    }

    fn header_parts(&self) -> &HeaderParts {
        let imp = self.imp();
        imp.header.get_or_init(|| {
            let handler = imp.on_connection.get().expect("set in new").clone();
            let parts = HeaderParts::new(self, handler);
            self.append(&parts.root);
            parts
        })
    }

    fn keep(&self, b: glib::Binding) {
        self.imp().bindings.borrow_mut().push(b);
    }

    /// Shows one property of the guest (all of them for `None`).
    fn show_guest(&self, g: &GuestObject, prop: Option<&str>) {
        let parts = self.guest_parts();
        let all = prop.is_none();
        let is = |p: &str| all || prop == Some(p);
        if is("name") {
            parts.name.set_label(&g.name());
        }
        if is("summary") {
            parts.summary.set_label(&g.summary());
        }
        if is("state-label") {
            let label = g.state_label();
            parts.state.set_label(&label);
            parts.compact_state.set_label(&label);
        }
        if is("cpu-text") {
            parts.cpu.set_label(&g.cpu_text());
        }
        if is("memory-text") {
            parts.memory.set_label(&g.memory_text());
        }
        if is("icon-name") {
            parts.icon.set_icon_name(Some(&g.icon_name()));
        }
        if is("state") {
            let state = g.domain_state().as_str();
            let mut class = self.imp().state_class.borrow_mut();
            if *class != state {
                if !class.is_empty() {
                    parts.icon.remove_css_class(&class);
                }
                parts.icon.add_css_class("guest-state-icon");
                parts.icon.add_css_class(state);
                *class = state.to_owned();
            }
        }
        if is("cpu-history") {
            parts.sparkline.set_samples(g.cpu_history());
        }
        if is("description") {
            parts.sparkline.set_tooltip_text(Some(&g.description()));
        }
    }

    /// Shows a guest and follows its changes with one notify handler (not
    /// a binding per label: 200 rows times nine bindings add up).
    fn bind_guest(&self, g: &GuestObject) {
        let imp = self.imp();
        self.guest_parts().root.set_visible(true);
        if let Some(h) = imp.header.get() {
            h.root.set_visible(false);
        }
        imp.connection.set(None);
        self.show_guest(g, None);
        let weak = self.downgrade();
        let id = g.connect_notify_local(None, move |g, pspec| {
            if let (Some(row), Some(g)) = (weak.upgrade(), g.downcast_ref::<GuestObject>()) {
                row.show_guest(g, Some(pspec.name()));
            }
        });
        imp.handlers.borrow_mut().push((g.clone().upcast(), id));
    }

    fn bind_connection(&self, c: &ConnectionObject) {
        let imp = self.imp();
        let parts = self.header_parts();
        parts.root.set_visible(true);
        if let Some(g) = imp.guest.get() {
            g.root.set_visible(false);
        }
        imp.connection.set(Some(c.id()));
        self.keep(
            c.bind_property("title", &parts.title, "label")
                .sync_create()
                .build(),
        );
        self.keep(
            c.bind_property("status", &parts.status, "label")
                .sync_create()
                .build(),
        );
        self.keep(
            c.bind_property("status", &parts.status, "tooltip-text")
                .sync_create()
                .build(),
        );
    }

    fn unbind(&self) {
        for b in self.imp().bindings.borrow_mut().drain(..) {
            b.unbind();
        }
        for (obj, id) in self.imp().handlers.borrow_mut().drain(..) {
            obj.disconnect(id);
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
