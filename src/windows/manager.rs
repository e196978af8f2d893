//! The manager window (the seed's manager.py): every guest of every
//! connection in one live list.
//!
//! The list is a `GtkListView` over a `gio::ListStore` of [`GuestObject`]s,
//! sorted by name, with recycled rows: updating a guest notifies its
//! object's properties and only its row (if visible) repaints.

mod guest_object;
mod guest_row;

use std::collections::{BTreeMap, HashMap};

use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::gtk::{gio, glib};
use relm4::prelude::*;
use virt_manager_plugin_api::DomainInfo;

use crate::i18n::{gettext, gettext_f};
use crate::model::{ConnectionId, ConnectionState};
use crate::settings::Settings;

pub use guest_object::GuestObject;

pub struct ManagerInit {
    pub settings: Settings,
}

#[derive(Debug)]
pub enum ManagerInput {
    ConnectionState {
        id: ConnectionId,
        uri: String,
        state: ConnectionState,
    },
    DomainsListed {
        id: ConnectionId,
        domains: Vec<DomainInfo>,
    },
    DomainAdded {
        id: ConnectionId,
        domain: DomainInfo,
    },
    DomainChanged {
        id: ConnectionId,
        domain: DomainInfo,
    },
    DomainRemoved {
        id: ConnectionId,
        uuid: String,
    },
    /// The user asked to retry a failed or lost connection.
    RetryClicked,
}

#[derive(Debug)]
pub enum ManagerOutput {
    Reconnect(ConnectionId),
}

/// Which page the window shows.
#[derive(Clone, Debug, PartialEq)]
enum Page {
    NoConnection,
    Connecting(String),
    Failed {
        id: ConnectionId,
        uri: String,
        reason: String,
    },
    NoGuests(String),
    Guests,
}

struct ConnectionEntry {
    uri: String,
    state: ConnectionState,
}

pub struct ManagerWindow {
    store: gio::ListStore,
    /// (connection, uuid) to its position-independent list object.
    index: HashMap<(ConnectionId, String), GuestObject>,
    connections: BTreeMap<ConnectionId, ConnectionEntry>,
    page: Page,
    settings: Settings,
}

impl ManagerWindow {
    fn compute_page(&self) -> Page {
        if self.store.n_items() > 0 {
            return Page::Guests;
        }
        let states = || self.connections.iter();
        if let Some((_, c)) = states().find(|(_, c)| c.state == ConnectionState::Connecting) {
            return Page::Connecting(c.uri.clone());
        }
        if let Some((id, c)) = states().find(|(_, c)| {
            matches!(
                c.state,
                ConnectionState::Failed(_) | ConnectionState::Disconnected(_)
            )
        }) {
            let reason = match &c.state {
                ConnectionState::Failed(r) | ConnectionState::Disconnected(r) => r.clone(),
                _ => unreachable!(),
            };
            return Page::Failed {
                id: *id,
                uri: c.uri.clone(),
                reason,
            };
        }
        if let Some((_, c)) = states().find(|(_, c)| c.state == ConnectionState::Active) {
            return Page::NoGuests(c.uri.clone());
        }
        Page::NoConnection
    }

    fn subtitle(&self) -> String {
        match self.connections.len() {
            0 => String::new(),
            1 => {
                let c = self.connections.values().next().unwrap();
                display_uri(&c.uri)
            }
            n => gettext_f("{n} connections", &[("n", &n.to_string())]),
        }
    }

    fn upsert(&mut self, id: ConnectionId, info: &DomainInfo) {
        match self.index.get(&(id, info.uuid.clone())) {
            Some(obj) => obj.update(info),
            None => {
                let obj = GuestObject::new(id, info);
                self.store.append(&obj);
                self.index.insert((id, info.uuid.clone()), obj);
            }
        }
    }

    fn remove_where(&mut self, keep: impl Fn(&GuestObject) -> bool) {
        self.store
            .retain(|o| o.downcast_ref::<GuestObject>().is_some_and(&keep));
        self.index.retain(|_, o| keep(o));
    }
}

/// A URI as the user reads it: the demo host by name, not by file path.
pub fn display_uri(uri: &str) -> String {
    if uri.starts_with("test://") && uri.ends_with("/demo-host.xml") {
        gettext("Demo host (libvirt test driver)")
    } else {
        uri.to_owned()
    }
}

#[relm4::component(pub)]
impl SimpleComponent for ManagerWindow {
    type Init = ManagerInit;
    type Input = ManagerInput;
    type Output = ManagerOutput;

    view! {
        #[root]
        adw::ApplicationWindow {
            set_title: Some(&gettext("Virtual Machine Manager")),
            set_default_width: model.settings.int("window-width", 760),
            set_default_height: model.settings.int("window-height", 560),
            set_maximized: model.settings.boolean("window-maximized", false),
            set_width_request: 360,
            set_height_request: 294,

            connect_close_request[settings = model.settings.clone()] => move |window| {
                let (w, h) = window.default_size();
                settings.set_int("window-width", w);
                settings.set_int("window-height", h);
                settings.set_boolean("window-maximized", window.is_maximized());
                glib::Propagation::Proceed
            },

            gtk::Box {
                set_orientation: gtk::Orientation::Vertical,

                adw::HeaderBar {
                    #[wrap(Some)]
                    set_title_widget = &adw::WindowTitle {
                        set_title: &gettext("Virtual Machine Manager"),
                        #[watch]
                        set_subtitle: &model.subtitle(),
                    },
                    pack_end = &gtk::MenuButton {
                        set_icon_name: "open-menu-symbolic",
                        set_tooltip_text: Some(&gettext("Main Menu")),
                        set_primary: true,
                        set_menu_model: Some(&primary_menu),
                    },
                },

                #[name = "stack"]
                gtk::Stack {
                    set_vexpand: true,
                    set_transition_type: gtk::StackTransitionType::Crossfade,

                    add_named[Some("no-connection")] = &adw::StatusPage {
                        set_icon_name: Some("network-server-symbolic"),
                        set_title: &gettext("No Connection"),
                        set_description: Some(&gettext("Connect to a hypervisor to see its virtual machines.")),
                    },
                    add_named[Some("connecting")] = &adw::StatusPage {
                        set_title: &gettext("Connecting…"),
                        #[watch]
                        set_description: match &model.page {
                            Page::Connecting(uri) => Some(display_uri(uri)),
                            _ => None,
                        }.as_deref(),
                        #[wrap(Some)]
                        set_child = &gtk::Spinner {
                            set_spinning: true,
                            set_size_request: (32, 32),
                            set_halign: gtk::Align::Center,
                        },
                    },
                    add_named[Some("failed")] = &adw::StatusPage {
                        set_icon_name: Some("dialog-error-symbolic"),
                        #[watch]
                        set_title: &match &model.page {
                            Page::Failed { uri, .. } => gettext_f("Could not connect to {uri}", &[("uri", &display_uri(uri))]),
                            _ => String::new(),
                        },
                        #[watch]
                        set_description: match &model.page {
                            Page::Failed { reason, .. } => Some(glib::markup_escape_text(reason).to_string()),
                            _ => None,
                        }.as_deref(),
                        #[wrap(Some)]
                        set_child = &gtk::Button {
                            set_label: &gettext("_Try Again"),
                            set_use_underline: true,
                            set_halign: gtk::Align::Center,
                            add_css_class: "pill",
                            add_css_class: "suggested-action",
                            connect_clicked => ManagerInput::RetryClicked,
                        },
                    },
                    add_named[Some("no-guests")] = &adw::StatusPage {
                        set_icon_name: Some("computer-symbolic"),
                        set_title: &gettext("No Virtual Machines"),
                        #[watch]
                        set_description: match &model.page {
                            Page::NoGuests(uri) => Some(gettext_f("{host} has no virtual machines yet.", &[("host", &glib::markup_escape_text(&display_uri(uri)))])),
                            _ => None,
                        }.as_deref(),
                    },
                    add_named[Some("guests")] = &gtk::ScrolledWindow {
                        set_hscrollbar_policy: gtk::PolicyType::Never,
                        #[name = "list_view"]
                        gtk::ListView {
                            set_factory: Some(&guest_row::factory()),
                            set_model: Some(&selection),
                            set_show_separators: true,
                        },
                    },

                    #[watch]
                    set_visible_child_name: match model.page {
                        Page::NoConnection => "no-connection",
                        Page::Connecting(_) => "connecting",
                        Page::Failed { .. } => "failed",
                        Page::NoGuests(_) => "no-guests",
                        Page::Guests => "guests",
                    },
                },
            },
        }
    }

    fn init(
        init: Self::Init,
        root: Self::Root,
        sender: ComponentSender<Self>,
    ) -> ComponentParts<Self> {
        let store = gio::ListStore::new::<GuestObject>();
        let sorter = gtk::StringSorter::builder()
            .expression(gtk::PropertyExpression::new(
                GuestObject::static_type(),
                gtk::Expression::NONE,
                "name",
            ))
            .ignore_case(true)
            .build();
        let sorted = gtk::SortListModel::new(Some(store.clone()), Some(sorter));
        let selection = gtk::SingleSelection::new(Some(sorted));

        let primary_menu = gio::Menu::new();
        primary_menu.append(
            Some(&gettext("_About Virtual Machine Manager")),
            Some("app.about"),
        );

        let model = ManagerWindow {
            store,
            index: HashMap::new(),
            connections: BTreeMap::new(),
            page: Page::NoConnection,
            settings: init.settings,
        };
        let widgets = view_output!();
        crate::windows::a11y::set_label(&widgets.list_view, &gettext("Virtual machines"));
        ComponentParts { model, widgets }
    }

    fn update(&mut self, msg: Self::Input, sender: ComponentSender<Self>) {
        match msg {
            ManagerInput::ConnectionState { id, uri, state } => {
                if matches!(
                    state,
                    ConnectionState::Failed(_) | ConnectionState::Disconnected(_)
                ) {
                    self.remove_where(|o| o.connection() != id);
                }
                self.connections.insert(id, ConnectionEntry { uri, state });
            }
            ManagerInput::DomainsListed { id, domains } => {
                let keep: std::collections::HashSet<&str> =
                    domains.iter().map(|d| d.uuid.as_str()).collect();
                self.remove_where(|o| o.connection() != id || keep.contains(o.uuid().as_str()));
                // Appending one by one would re-sort per item; splice once.
                let fresh: Vec<GuestObject> = domains
                    .iter()
                    .filter_map(|d| match self.index.get(&(id, d.uuid.clone())) {
                        Some(obj) => {
                            obj.update(d);
                            None
                        }
                        None => Some(GuestObject::new(id, d)),
                    })
                    .collect();
                for obj in &fresh {
                    self.index.insert((id, obj.uuid()), obj.clone());
                }
                self.store.splice(self.store.n_items(), 0, &fresh);
            }
            ManagerInput::DomainAdded { id, domain }
            | ManagerInput::DomainChanged { id, domain } => self.upsert(id, &domain),
            ManagerInput::DomainRemoved { id, uuid } => {
                self.remove_where(|o| !(o.connection() == id && o.uuid() == uuid));
            }
            ManagerInput::RetryClicked => {
                if let Page::Failed { id, .. } = self.page {
                    let _ = sender.output(ManagerOutput::Reconnect(id));
                }
            }
        }
        self.page = self.compute_page();
    }
}
