//! The manager window (the seed's manager.py): every guest of every
//! connection in one live list, with lifecycle actions, search and sorting.
//!
//! The list is a one-column `GtkGridView` over a `gio::ListStore` of
//! [`GuestObject`]s through a filter and a sort model, with recycled rows:
//! a statistics tick updates objects, and only visible rows repaint. Not a
//! `GtkListView`: GTK 4.8's list view keeps 200 row widgets alive whatever
//! the window shows (`GTK_LIST_VIEW_MAX_LIST_ITEMS`), which on a host of
//! 1500 guests cost some 10 MB and 100 ms at start; its grid view keeps 30
//! rows (`GTK_GRID_VIEW_MAX_VISIBLE_ROWS`) plus a few. The grid says it is a
//! list to assistive technologies, and draws separators like one. A list
//! area taller than those rows (a portrait or 4K screen at scale 1) gets a
//! list view instead, which has rows enough. Lifecycle requests go to the
//! engine, which confirms, runs and reports them.

mod connection_object;
mod guest_object;
mod row;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::gtk::{gio, glib};
use relm4::prelude::*;
use virt_manager_plugin_api::{capability, BackendInfo, DomainAction, DomainInfo, DomainState};

use crate::i18n::{gettext, gettext_f};
use crate::model::{ConnectionId, ConnectionState, Sample};
use crate::settings::Settings;

use connection_object::ConnectionObject;
pub use guest_object::GuestObject;
pub use row::ConnectionCommand;

pub struct ManagerInit {
    pub settings: Settings,
}

/// What the user asks of the selected guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GuestCommand {
    /// The console of a running guest, else its details.
    Open,
    Details,
    /// Start a stopped guest or resume a paused one.
    Run,
    Pause,
    Shutdown,
    Reboot,
    Reset,
    ForceOff,
    Save,
    Delete,
}

impl GuestCommand {
    const ALL: [GuestCommand; 10] = [
        GuestCommand::Open,
        GuestCommand::Details,
        GuestCommand::Run,
        GuestCommand::Pause,
        GuestCommand::Shutdown,
        GuestCommand::Reboot,
        GuestCommand::Reset,
        GuestCommand::ForceOff,
        GuestCommand::Save,
        GuestCommand::Delete,
    ];

    /// The window action's name (`win.guest-…`).
    fn action_name(self) -> &'static str {
        match self {
            GuestCommand::Open => "guest-open",
            GuestCommand::Details => "guest-details",
            GuestCommand::Run => "guest-run",
            GuestCommand::Pause => "guest-pause",
            GuestCommand::Shutdown => "guest-shutdown",
            GuestCommand::Reboot => "guest-reboot",
            GuestCommand::Reset => "guest-reset",
            GuestCommand::ForceOff => "guest-force-off",
            GuestCommand::Save => "guest-save",
            GuestCommand::Delete => "guest-delete",
        }
    }

    /// Whether the command makes sense for a guest in `state` on a backend
    /// offering `caps`.
    pub fn allowed(self, state: DomainState, caps: Option<&BackendInfo>) -> bool {
        let has = |c: &str| caps.is_some_and(|b| b.has(c));
        let active = matches!(
            state,
            DomainState::Running | DomainState::Blocked | DomainState::Paused
        );
        match self {
            GuestCommand::Open | GuestCommand::Details => true,
            GuestCommand::Run => {
                has(capability::LIFECYCLE)
                    && matches!(
                        state,
                        DomainState::Shutoff
                            | DomainState::Crashed
                            | DomainState::Nostate
                            | DomainState::Paused
                    )
            }
            GuestCommand::Pause => {
                has(capability::LIFECYCLE)
                    && matches!(state, DomainState::Running | DomainState::Blocked)
            }
            GuestCommand::Shutdown
            | GuestCommand::Reboot
            | GuestCommand::Reset
            | GuestCommand::ForceOff => has(capability::LIFECYCLE) && active,
            GuestCommand::Save => has(capability::MANAGED_SAVE) && active,
            GuestCommand::Delete => {
                has(capability::DELETE)
                    && matches!(state, DomainState::Shutoff | DomainState::Crashed)
            }
        }
    }

    /// The backend action, for lifecycle commands.
    pub fn action(self, state: DomainState) -> Option<DomainAction> {
        Some(match self {
            GuestCommand::Run if state == DomainState::Paused => DomainAction::Resume,
            GuestCommand::Run => DomainAction::Start,
            GuestCommand::Pause => DomainAction::Pause,
            GuestCommand::Shutdown => DomainAction::Shutdown,
            GuestCommand::Reboot => DomainAction::Reboot,
            GuestCommand::Reset => DomainAction::Reset,
            GuestCommand::ForceOff => DomainAction::ForceOff,
            GuestCommand::Save => DomainAction::Save,
            GuestCommand::Delete => DomainAction::Delete {
                delete_storage: false,
            },
            GuestCommand::Open | GuestCommand::Details => return None,
        })
    }
}

/// How the list is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Name,
    State,
    Cpu,
}

impl SortKey {
    fn from_name(s: &str) -> Self {
        match s {
            "state" => SortKey::State,
            "cpu" => SortKey::Cpu,
            _ => SortKey::Name,
        }
    }
}

#[derive(Debug)]
pub enum ManagerInput {
    ConnectionState {
        id: ConnectionId,
        uri: String,
        state: ConnectionState,
    },
    Capabilities {
        id: ConnectionId,
        backend: BackendInfo,
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
    Stats {
        id: ConnectionId,
        domains: Vec<(String, Sample)>,
    },
    /// A failure the user should read (a lifecycle action's, say).
    ShowError(String),
    /// A short confirmation ("“web” paused").
    ShowInfo(String),
    /// Filters the list to guests matching this search.
    Search(String),
    RetryClicked,
    Command(GuestCommand),
    SelectionChanged,
    Activated(u32),
    SortBy(SortKey),
    ContextMenu {
        position: u32,
        row: gtk::Widget,
        x: f64,
        y: f64,
    },
    HostDetails,
    ConnectionRemoved(ConnectionId),
    /// Shows the search bar with this text (Shell's LaunchSearch).
    SetSearch(String),
    /// Enter in the search field: open the first guest found.
    SearchActivated,
    KeyboardMenu,
    ConnectionCommand(ConnectionId, ConnectionCommand),
}

#[derive(Debug)]
pub enum ManagerOutput {
    Reconnect(ConnectionId),
    /// A lifecycle action on a guest; the engine confirms where needed.
    Lifecycle {
        id: ConnectionId,
        uuid: String,
        name: String,
        action: DomainAction,
    },
    /// The guest's console if it is running, else its details.
    Open {
        id: ConnectionId,
        uuid: String,
    },
    ShowDetails {
        id: ConnectionId,
        uuid: String,
    },
    ShowHostSummary(ConnectionId),
    Connect(ConnectionId),
    Disconnect(ConnectionId),
    RemoveConnection(ConnectionId),
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
    NoResults,
    Guests,
}

struct ConnectionEntry {
    uri: String,
    state: ConnectionState,
    backend: Option<BackendInfo>,
    object: ConnectionObject,
}

pub struct ManagerWindow {
    /// The connections, each with its guests (the tree's roots).
    roots: gio::ListStore,
    filter: gtk::CustomFilter,
    sorter: gtk::CustomSorter,
    selection: gtk::SingleSelection,
    /// Each connection's guests by UUID (looked up by `&str`, so a
    /// statistics tick allocates nothing to find its rows).
    index: HashMap<ConnectionId, HashMap<String, GuestObject>>,
    connections: BTreeMap<ConnectionId, ConnectionEntry>,
    search: Rc<RefCell<String>>,
    sort_key: Rc<Cell<SortKey>>,
    page: Page,
    subtitle: String,
    /// The page or the subtitle changed in the last update: only then does
    /// the view touch the status pages and the header (setting a label,
    /// even to the same text, makes GTK lay the window out again).
    view_dirty: bool,
    /// Free heap pages are handed back once, after the first big list.
    trimmed: bool,
    settings: Settings,
    actions: HashMap<GuestCommand, gio::SimpleAction>,
    toasts: adw::ToastOverlay,
    context_menu: gtk::PopoverMenu,
    /// Holds the guest list (a grid view, or a list view when tall).
    scroller: gtk::ScrolledWindow,
    search_bar: gtk::SearchBar,
    search_entry: gtk::SearchEntry,
}

impl ManagerWindow {
    fn guest_count(&self) -> u32 {
        self.connections
            .values()
            .map(|c| c.object.guests().n_items())
            .sum()
    }

    fn shown_count(&self) -> u32 {
        self.connections
            .values()
            .map(|c| c.object.view().n_items())
            .sum()
    }

    fn compute_page(&self) -> Page {
        // With guests, or with several connections, the list shows every
        // connection's state in its header row.
        if self.guest_count() > 0 {
            return if self.shown_count() > 0 {
                Page::Guests
            } else {
                Page::NoResults
            };
        }
        if self.connections.len() > 1 {
            return Page::Guests;
        }
        let Some((id, c)) = self.connections.iter().next() else {
            return Page::NoConnection;
        };
        match &c.state {
            ConnectionState::Connecting => Page::Connecting(c.uri.clone()),
            ConnectionState::Failed(r) | ConnectionState::Disconnected(r) => Page::Failed {
                id: *id,
                uri: c.uri.clone(),
                reason: r.clone(),
            },
            ConnectionState::Active => Page::NoGuests(c.uri.clone()),
        }
    }

    fn subtitle(&self) -> String {
        match self.connections.len() {
            0 => String::new(),
            1 => display_uri(&self.connections.values().next().unwrap().uri),
            n => gettext_f("{n} connections", &[("n", &n.to_string())]),
        }
    }

    fn entry(&mut self, id: ConnectionId) -> &mut ConnectionEntry {
        if !self.connections.contains_key(&id) {
            let object = ConnectionObject::new(id, &self.filter, &self.sorter);
            self.roots.append(&object);
            self.connections.insert(
                id,
                ConnectionEntry {
                    uri: String::new(),
                    state: ConnectionState::Connecting,
                    backend: None,
                    object,
                },
            );
        }
        self.connections.get_mut(&id).unwrap()
    }

    fn refresh_status(&self, id: ConnectionId) {
        if let Some(c) = self.connections.get(&id) {
            c.object.refresh_status(&c.state);
        }
    }

    fn guest(&self, id: ConnectionId, uuid: &str) -> Option<&GuestObject> {
        self.index.get(&id).and_then(|m| m.get(uuid))
    }

    fn upsert(&mut self, id: ConnectionId, info: &DomainInfo) {
        match self.guest(id, &info.uuid) {
            Some(obj) => obj.update(info),
            None => {
                let obj = GuestObject::new(id, info);
                self.entry(id).object.guests().append(&obj);
                self.index
                    .entry(id)
                    .or_default()
                    .insert(info.uuid.clone(), obj);
                self.refresh_status(id);
            }
        }
    }

    /// Removes the guests of connection `id` for which `drop` is true.
    fn remove_where(&mut self, id: ConnectionId, drop: impl Fn(&GuestObject) -> bool) {
        if let Some(c) = self.connections.get(&id) {
            c.object
                .guests()
                .retain(|o| o.downcast_ref::<GuestObject>().is_some_and(|g| !drop(g)));
        }
        if let Some(m) = self.index.get_mut(&id) {
            m.retain(|_, o| !drop(o));
        }
        self.refresh_status(id);
    }

    fn selected(&self) -> Option<GuestObject> {
        self.selection
            .selected_item()
            .and_downcast::<gtk::TreeListRow>()
            .and_then(|r| r.item())
            .and_downcast::<GuestObject>()
    }

    /// Enables exactly the commands that apply to the selected guest.
    fn update_actions(&self) {
        let selected = self.selected();
        for (cmd, action) in &self.actions {
            let enabled = selected.as_ref().is_some_and(|g| {
                let caps = self
                    .connections
                    .get(&g.connection())
                    .and_then(|c| c.backend.as_ref());
                cmd.allowed(g.domain_state(), caps)
            });
            action.set_enabled(enabled);
        }
    }

    fn emit_command(&self, cmd: GuestCommand, sender: &ComponentSender<Self>) {
        let Some(guest) = self.selected() else { return };
        let (id, uuid) = (guest.connection(), guest.uuid());
        let caps = self.connections.get(&id).and_then(|c| c.backend.as_ref());
        if !cmd.allowed(guest.domain_state(), caps) {
            return;
        }
        let out = match cmd {
            GuestCommand::Open => ManagerOutput::Open { id, uuid },
            GuestCommand::Details => ManagerOutput::ShowDetails { id, uuid },
            _ => match cmd.action(guest.domain_state()) {
                Some(action) => ManagerOutput::Lifecycle {
                    id,
                    uuid,
                    name: guest.name(),
                    action,
                },
                None => return,
            },
        };
        let _ = sender.output(out);
    }

    fn toast(&self, text: &str, timeout: u32) {
        let toast = adw::Toast::builder()
            .title(glib::markup_escape_text(text).as_str())
            .timeout(timeout)
            .build();
        self.toasts.add_toast(toast);
    }
}

pub use crate::labels::display_uri;

/// True when `guest` matches every word of the search: in its name
/// (case-insensitive) or as its state ("running", "shutoff", "paused", or
/// the translated state).
fn matches_search(guest: &GuestObject, search: &str) -> bool {
    let name = guest.name_key();
    let state = guest.domain_state();
    let label = crate::windows::state_label(state).to_lowercase();
    let state = state.as_str();
    search
        .split_whitespace()
        .map(str::to_lowercase)
        .all(|word| {
            name.contains(&word)
                || state == word
                || label == word
                || (word == "shut off" && state == "shutoff")
        })
}

fn state_rank(state: DomainState) -> u8 {
    match state {
        DomainState::Running | DomainState::Blocked => 0,
        DomainState::Paused => 1,
        DomainState::Pmsuspended => 2,
        DomainState::Shutdown => 3,
        DomainState::Crashed => 4,
        DomainState::Shutoff => 5,
        DomainState::Nostate => 6,
    }
}

fn compare(a: &GuestObject, b: &GuestObject, key: SortKey) -> std::cmp::Ordering {
    // In place: a first sort of 1500 guests compares some 16,000 pairs.
    let by_name = || a.name_key().as_str().cmp(b.name_key().as_str());
    match key {
        SortKey::Name => by_name(),
        SortKey::State => state_rank(a.domain_state())
            .cmp(&state_rank(b.domain_state()))
            .then_with(by_name),
        SortKey::Cpu => {
            let (ca, cb) = (a.cpu().unwrap_or(-1.0), b.cpu().unwrap_or(-1.0));
            cb.partial_cmp(&ca)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(by_name)
        }
    }
}

/// The guest list: a grid of one column that reads as a list (see the
/// module comment).
fn guest_list_view(factory: &gtk::SignalListItemFactory) -> gtk::GridView {
    let view = glib::Object::builder::<gtk::GridView>()
        .property("accessible-role", gtk::AccessibleRole::List)
        .property("factory", factory)
        .property("min-columns", 1u32)
        .property("max-columns", 1u32)
        .build();
    view.add_css_class("guest-list");
    // As a list view's rows: full width, square, with separators.
    thread_local! {
        static CSS: std::cell::OnceCell<()> = const { std::cell::OnceCell::new() };
    }
    CSS.with(|done| {
        done.get_or_init(|| {
            let provider = gtk::CssProvider::new();
            provider.load_from_data(
                "gridview.guest-list > child { padding: 2px; margin: 0; border-radius: 0; \
                 border-bottom: 1px solid alpha(currentColor, 0.15); }",
            );
            if let Some(display) = gtk::gdk::Display::default() {
                gtk::style_context_add_provider_for_display(
                    &display,
                    &provider,
                    gtk::STYLE_PROVIDER_PRIORITY_APPLICATION,
                );
            }
        });
    });
    view
}

/// A one-column grid lays out at most this many rows (GTK 4.8); a list
/// area taller than this many guest rows (about 53 px each at the default
/// font size) gets a list view instead, and a grid again below the lower
/// mark.
const GRID_ROWS_UP: f64 = 26.0 * 53.0;
const GRID_ROWS_DOWN: f64 = 23.0 * 53.0;

/// The guest list's two views over one selection model: the grid view,
/// and, only while the list area is taller than the grid lays out, a list
/// view. The one not shown has no model, so it keeps no rows.
struct GuestViews {
    /// Weak: the scroller's adjustment holds these views.
    scroller: glib::WeakRef<gtk::ScrolledWindow>,
    grid: gtk::GridView,
    list: std::cell::OnceCell<gtk::ListView>,
    factory: gtk::SignalListItemFactory,
    selection: gtk::SingleSelection,
    on_activate: Rc<dyn Fn(u32)>,
    tall: Cell<bool>,
}

impl GuestViews {
    fn install(
        scroller: &gtk::ScrolledWindow,
        factory: &gtk::SignalListItemFactory,
        selection: &gtk::SingleSelection,
        on_activate: Rc<dyn Fn(u32)>,
    ) {
        let grid = guest_list_view(factory);
        grid.set_model(Some(selection));
        {
            let on_activate = on_activate.clone();
            grid.connect_activate(move |_, position| on_activate(position));
        }
        crate::windows::a11y::set_label(&grid, &gettext("Virtual machines"));
        scroller.set_child(Some(&grid));
        let views = Rc::new(GuestViews {
            scroller: scroller.downgrade(),
            grid,
            list: std::cell::OnceCell::new(),
            factory: factory.clone(),
            selection: selection.clone(),
            on_activate,
            tall: Cell::new(false),
        });
        // The page size is set while the view is allocated: swap after.
        scroller.vadjustment().connect_page_size_notify(move |adj| {
            let page = adj.page_size();
            let tall = views.tall.get();
            if (!tall && page > GRID_ROWS_UP) || (tall && page > 0.0 && page < GRID_ROWS_DOWN) {
                views.tall.set(!tall);
                let views = views.clone();
                glib::idle_add_local_once(move || views.show(views.tall.get()));
            }
        });
    }

    fn list(&self) -> &gtk::ListView {
        self.list.get_or_init(|| {
            let list = glib::Object::builder::<gtk::ListView>()
                .property("factory", &self.factory)
                .property("show-separators", true)
                .build();
            let on_activate = self.on_activate.clone();
            list.connect_activate(move |_, position| on_activate(position));
            crate::windows::a11y::set_label(&list, &gettext("Virtual machines"));
            list
        })
    }

    fn show(&self, tall: bool) {
        let Some(scroller) = self.scroller.upgrade() else {
            return;
        };
        let shown = scroller.child();
        if tall && shown.as_ref() != Some(self.list().upcast_ref()) {
            self.grid.set_model(None::<&gtk::SingleSelection>);
            self.list().set_model(Some(&self.selection));
            scroller.set_child(Some(self.list()));
        } else if !tall && shown.as_ref() != Some(self.grid.upcast_ref()) {
            if let Some(list) = self.list.get() {
                list.set_model(None::<&gtk::SingleSelection>);
            }
            self.grid.set_model(Some(&self.selection));
            scroller.set_child(Some(&self.grid));
        }
    }
}

fn guest_menu() -> gio::Menu {
    let menu = gio::Menu::new();
    let section = gio::Menu::new();
    section.append(Some(&gettext("_Open")), Some("win.guest-open"));
    section.append(Some(&gettext("_Details")), Some("win.guest-details"));
    menu.append_section(None, &section);
    let power = gio::Menu::new();
    power.append(Some(&gettext("_Run")), Some("win.guest-run"));
    power.append(Some(&gettext("_Pause")), Some("win.guest-pause"));
    power.append(Some(&gettext("Shut _Down")), Some("win.guest-shutdown"));
    power.append(Some(&gettext("Re_boot")), Some("win.guest-reboot"));
    power.append(Some(&gettext("Force _Reset")), Some("win.guest-reset"));
    power.append(Some(&gettext("_Force Off")), Some("win.guest-force-off"));
    power.append(Some(&gettext("_Save")), Some("win.guest-save"));
    menu.append_section(None, &power);
    let delete = gio::Menu::new();
    delete.append(Some(&gettext("De_lete…")), Some("win.guest-delete"));
    menu.append_section(None, &delete);
    menu
}

fn shutdown_menu() -> gio::Menu {
    let menu = gio::Menu::new();
    menu.append(Some(&gettext("Re_boot")), Some("win.guest-reboot"));
    menu.append(Some(&gettext("Shut _Down")), Some("win.guest-shutdown"));
    menu.append(Some(&gettext("Force _Reset")), Some("win.guest-reset"));
    menu.append(Some(&gettext("_Force Off")), Some("win.guest-force-off"));
    menu.append(Some(&gettext("_Save")), Some("win.guest-save"));
    menu
}

fn primary_menu() -> gio::Menu {
    let menu = gio::Menu::new();
    let sort = gio::Menu::new();
    sort.append(Some(&gettext("Sort by _Name")), Some("win.sort-by::name"));
    sort.append(Some(&gettext("Sort by _State")), Some("win.sort-by::state"));
    sort.append(
        Some(&gettext("Sort by _CPU Usage")),
        Some("win.sort-by::cpu"),
    );
    menu.append_section(None, &sort);
    let host = gio::Menu::new();
    host.append(Some(&gettext("_Host Details")), Some("win.host-details"));
    menu.append_section(None, &host);
    let app = gio::Menu::new();
    app.append(Some(&gettext("_Preferences")), Some("app.preferences"));
    app.append(
        Some(&gettext("_About Virtual Machine Manager")),
        Some("app.about"),
    );
    menu.append_section(None, &app);
    menu
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
                        #[track(model.view_dirty)]
                        set_subtitle: &model.subtitle,
                    },
                    pack_start = &gtk::Box {
                        add_css_class: "linked",
                        gtk::Button {
                            set_icon_name: "media-playback-start-symbolic",
                            set_tooltip_text: Some(&gettext("Run")),
                            set_action_name: Some("win.guest-run"),
                        },
                        gtk::Button {
                            set_icon_name: "media-playback-pause-symbolic",
                            set_tooltip_text: Some(&gettext("Pause")),
                            set_action_name: Some("win.guest-pause"),
                        },
                        gtk::MenuButton {
                            set_icon_name: "system-shutdown-symbolic",
                            set_tooltip_text: Some(&gettext("Shut Down")),
                            set_menu_model: Some(&shutdown_menu()),
                        },
                    },
                    pack_end = &gtk::MenuButton {
                        set_icon_name: "open-menu-symbolic",
                        set_tooltip_text: Some(&gettext("Main Menu")),
                        set_primary: true,
                        set_menu_model: Some(&primary_menu()),
                    },
                    #[name = "search_toggle"]
                    pack_end = &gtk::ToggleButton {
                        set_icon_name: "system-search-symbolic",
                        set_tooltip_text: Some(&gettext("Search")),
                    },
                    // Open and Details give way first in narrow windows; Enter,
                    // Ctrl+D and the context menu still reach them.
                    pack_end = &adw::Squeezer {
                        set_homogeneous: false,
                        set_transition_type: adw::SqueezerTransitionType::None,
                        gtk::Box {
                            set_spacing: 6,
                            gtk::Button {
                                set_icon_name: "document-properties-symbolic",
                                set_tooltip_text: Some(&gettext("Details")),
                                set_action_name: Some("win.guest-details"),
                            },
                            gtk::Button {
                                set_icon_name: "utilities-terminal-symbolic",
                                set_tooltip_text: Some(&gettext("Open the Console")),
                                set_action_name: Some("win.guest-open"),
                            },
                        },
                        gtk::Box {},
                    },
                },

                #[name = "search_bar"]
                gtk::SearchBar {
                    #[name = "search_entry"]
                    #[wrap(Some)]
                    set_child = &gtk::SearchEntry {
                        set_placeholder_text: Some(&gettext("Search guests by name or state")),
                        set_hexpand: true,
                        set_max_width_chars: 40,
                        connect_search_changed[sender] => move |e| sender.input(ManagerInput::Search(e.text().to_string())),
                        connect_activate[sender] => move |_| sender.input(ManagerInput::SearchActivated),
                    },
                },

                #[local_ref]
                toasts -> adw::ToastOverlay {
                    set_vexpand: true,

                    #[name = "stack"]
                    gtk::Stack {
                        set_transition_type: gtk::StackTransitionType::Crossfade,

                        add_named[Some("no-connection")] = &adw::StatusPage {
                            set_icon_name: Some("network-server-symbolic"),
                            set_title: &gettext("No Connection"),
                            set_description: Some(&gettext("Connect to a hypervisor to see its virtual machines.")),
                        },
                        add_named[Some("connecting")] = &adw::StatusPage {
                            set_title: &gettext("Connecting…"),
                            #[track(model.view_dirty)]
                            set_description: match &model.page {
                                Page::Connecting(uri) => Some(glib::markup_escape_text(&display_uri(uri)).to_string()),
                                _ => None,
                            }.as_deref(),
                            #[wrap(Some)]
                            set_child = &gtk::Spinner {
                                // Only while shown: a spinning spinner on a
                                // hidden page still animates, and makes GTK
                                // lay the window out on every frame.
                                #[track(model.view_dirty)]
                                set_spinning: matches!(model.page, Page::Connecting(_)),
                                set_size_request: (32, 32),
                                set_halign: gtk::Align::Center,
                            },
                        },
                        add_named[Some("failed")] = &adw::StatusPage {
                            set_icon_name: Some("network-error-symbolic"),
                            #[track(model.view_dirty)]
                            set_title: &match &model.page {
                                Page::Failed { uri, .. } => gettext_f("Could not connect to {uri}", &[("uri", &display_uri(uri))]),
                                _ => String::new(),
                            },
                            #[track(model.view_dirty)]
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
                            #[track(model.view_dirty)]
                            set_description: match &model.page {
                                Page::NoGuests(uri) => Some(gettext_f("{host} has no virtual machines yet.", &[("host", &glib::markup_escape_text(&display_uri(uri)))])),
                                _ => None,
                            }.as_deref(),
                        },
                        add_named[Some("no-results")] = &adw::StatusPage {
                            set_icon_name: Some("system-search-symbolic"),
                            set_title: &gettext("No Results Found"),
                            set_description: Some(&gettext("No guest matches the search.")),
                        },
                        #[local_ref]
                        add_named[Some("guests")] = scroller -> gtk::ScrolledWindow {
                            set_hscrollbar_policy: gtk::PolicyType::Never,
                        },

                        #[track(model.view_dirty)]
                        set_visible_child_name: match model.page {
                            Page::NoConnection => "no-connection",
                            Page::Connecting(_) => "connecting",
                            Page::Failed { .. } => "failed",
                            Page::NoGuests(_) => "no-guests",
                            Page::NoResults => "no-results",
                            Page::Guests => "guests",
                        },
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
        let search = Rc::new(RefCell::new(String::new()));
        let sort_key = Rc::new(Cell::new(SortKey::from_name(
            &init.settings.string("sort-by", "name"),
        )));

        let filter = {
            let search = search.clone();
            gtk::CustomFilter::new(move |obj| {
                let search = search.borrow();
                search.trim().is_empty()
                    || obj
                        .downcast_ref::<GuestObject>()
                        .is_some_and(|g| matches_search(g, &search))
            })
        };
        let sorter = {
            let key = sort_key.clone();
            gtk::CustomSorter::new(move |a, b| {
                match (
                    a.downcast_ref::<GuestObject>(),
                    b.downcast_ref::<GuestObject>(),
                ) {
                    (Some(a), Some(b)) => compare(a, b, key.get()).into(),
                    _ => gtk::Ordering::Equal,
                }
            })
        };
        // Connections at the root, each expanding into its own filtered
        // and sorted guests.
        let roots = gio::ListStore::new::<ConnectionObject>();
        let tree = gtk::TreeListModel::new(roots.clone(), false, true, |item| {
            item.downcast_ref::<ConnectionObject>()
                .map(|c| c.view().clone().upcast::<gio::ListModel>())
        });
        let selection = gtk::SingleSelection::new(Some(tree));
        {
            let sender = sender.clone();
            selection.connect_selected_item_notify(move |_| {
                sender.input(ManagerInput::SelectionChanged)
            });
        }

        let context_sender = sender.clone();
        let connection_sender = sender.clone();
        let factory = row::factory(
            Rc::new(move |position, row, x, y| {
                context_sender.input(ManagerInput::ContextMenu {
                    position,
                    row: row.clone(),
                    x,
                    y,
                });
            }),
            Rc::new(move |id, cmd| {
                connection_sender.input(ManagerInput::ConnectionCommand(id, cmd))
            }),
        );
        let scroller = gtk::ScrolledWindow::new();
        {
            let sender = sender.clone();
            GuestViews::install(
                &scroller,
                &factory,
                &selection,
                Rc::new(move |position| sender.input(ManagerInput::Activated(position))),
            );
        }
        let context_menu = gtk::PopoverMenu::from_model(Some(&guest_menu()));
        context_menu.set_parent(&scroller);
        context_menu.set_has_arrow(false);
        context_menu.set_halign(gtk::Align::Start);
        let toasts = adw::ToastOverlay::new();

        let mut actions = HashMap::new();
        for cmd in GuestCommand::ALL {
            let action = gio::SimpleAction::new(cmd.action_name(), None);
            let sender = sender.clone();
            action.connect_activate(move |_, _| sender.input(ManagerInput::Command(cmd)));
            action.set_enabled(false);
            root.add_action(&action);
            actions.insert(cmd, action);
        }
        let sort_action = gio::SimpleAction::new_stateful(
            "sort-by",
            Some(glib::VariantTy::STRING),
            &init.settings.string("sort-by", "name").to_variant(),
        );
        {
            let sender = sender.clone();
            sort_action.connect_activate(move |action, param| {
                if let Some(name) = param.and_then(|p| p.get::<String>()) {
                    action.set_state(&name.to_variant());
                    sender.input(ManagerInput::SortBy(SortKey::from_name(&name)));
                }
            });
        }
        root.add_action(&sort_action);
        let search_action = gio::SimpleAction::new("search", None);
        root.add_action(&search_action);
        let host_action = gio::SimpleAction::new("host-details", None);
        {
            let sender = sender.clone();
            host_action.connect_activate(move |_, _| sender.input(ManagerInput::HostDetails));
        }
        root.add_action(&host_action);
        // Shift+F10 or the Menu key: the selected guest's actions.
        let menu_action = gio::SimpleAction::new("guest-menu", None);
        {
            let sender = sender.clone();
            menu_action.connect_activate(move |_, _| sender.input(ManagerInput::KeyboardMenu));
        }
        root.add_action(&menu_action);

        let model = ManagerWindow {
            roots,
            filter,
            sorter,
            selection,
            index: HashMap::new(),
            connections: BTreeMap::new(),
            search,
            sort_key,
            page: Page::NoConnection,
            subtitle: String::new(),
            view_dirty: true,
            trimmed: false,
            settings: init.settings,
            actions,
            toasts: toasts.clone(),
            context_menu,
            scroller: scroller.clone(),
            search_bar: gtk::SearchBar::new(),
            search_entry: gtk::SearchEntry::new(),
        };
        let toasts = &model.toasts;
        let scroller = &model.scroller;
        let widgets = view_output!();
        crate::windows::a11y::name_buttons(&root);
        // The real ones exist only now.
        let mut model = model;
        model.search_bar = widgets.search_bar.clone();
        model.search_entry = widgets.search_entry.clone();

        widgets
            .search_toggle
            .bind_property("active", &widgets.search_bar, "search-mode-enabled")
            .bidirectional()
            .sync_create()
            .build();
        widgets.search_bar.set_key_capture_widget(Some(&root));
        widgets.search_bar.connect_entry(&widgets.search_entry);
        crate::windows::a11y::set_label(&widgets.search_entry, &gettext("Search guests"));
        {
            let bar = widgets.search_bar.clone();
            let entry = widgets.search_entry.clone();
            search_action.connect_activate(move |_, _| {
                bar.set_search_mode(true);
                entry.grab_focus();
            });
        }
        ComponentParts { model, widgets }
    }

    fn update(&mut self, msg: Self::Input, sender: ComponentSender<Self>) {
        match msg {
            ManagerInput::ConnectionState { id, uri, state } => {
                let gone = matches!(
                    state,
                    ConnectionState::Failed(_) | ConnectionState::Disconnected(_)
                );
                let entry = self.entry(id);
                entry.object.set_state(&uri, &state);
                entry.uri = uri;
                entry.state = state;
                if gone {
                    self.remove_where(id, |_| true);
                }
            }
            ManagerInput::ConnectionRemoved(id) => {
                self.remove_where(id, |_| true);
                if let Some(c) = self.connections.remove(&id) {
                    if let Some(pos) = self.roots.find(&c.object) {
                        self.roots.remove(pos);
                    }
                }
            }
            ManagerInput::ConnectionCommand(id, cmd) => {
                let out = match cmd {
                    ConnectionCommand::Connect => ManagerOutput::Connect(id),
                    ConnectionCommand::Disconnect => ManagerOutput::Disconnect(id),
                    ConnectionCommand::HostDetails => ManagerOutput::ShowHostSummary(id),
                    ConnectionCommand::Remove => ManagerOutput::RemoveConnection(id),
                };
                let _ = sender.output(out);
            }
            ManagerInput::Capabilities { id, backend } => {
                if let Some(c) = self.connections.get_mut(&id) {
                    c.backend = Some(backend);
                }
            }
            ManagerInput::DomainsListed { id, domains } => {
                let started = std::time::Instant::now();
                let keep: HashSet<&str> = domains.iter().map(|d| d.uuid.as_str()).collect();
                if self.index.get(&id).is_some_and(|m| !m.is_empty()) {
                    self.remove_where(id, |o| !keep.contains(o.uuid_ref().as_str()));
                }
                // One splice, not one re-sort per appended guest.
                let known = self.index.entry(id).or_default();
                let mut fresh: Vec<GuestObject> = Vec::with_capacity(domains.len());
                for d in &domains {
                    match known.get(&d.uuid) {
                        Some(obj) => obj.update(d),
                        None => {
                            let obj = GuestObject::new(id, d);
                            known.insert(d.uuid.clone(), obj.clone());
                            fresh.push(obj);
                        }
                    }
                }
                drop(domains);
                let guests = self.entry(id).object.guests().clone();
                guests.splice(guests.n_items(), 0, &fresh);
                self.refresh_status(id);
                tracing::debug!(
                    "connection {id}: {} guests into the list in {:.0?}",
                    fresh.len(),
                    started.elapsed()
                );
                if !self.trimmed && fresh.len() >= 100 {
                    // The first big list leaves parser and staging memory
                    // free in the heap: hand it back once the first frame
                    // is drawn.
                    self.trimmed = true;
                    glib::idle_add_local_once(crate::model::release_free_memory);
                }
            }
            ManagerInput::DomainAdded { id, domain }
            | ManagerInput::DomainChanged { id, domain } => {
                self.upsert(id, &domain);
                // A state change can move a guest in or out of the search.
                if !self.search.borrow().trim().is_empty() {
                    self.filter.changed(gtk::FilterChange::Different);
                }
                if self.sort_key.get() != SortKey::Name {
                    self.sorter.changed(gtk::SorterChange::Different);
                }
            }
            ManagerInput::DomainRemoved { id, uuid } => {
                self.remove_where(id, |o| o.uuid() == uuid);
            }
            ManagerInput::Stats { id, domains } => {
                // Objects notify only what changed, and only rows on
                // screen listen.
                if let Some(known) = self.index.get(&id) {
                    for (uuid, sample) in &domains {
                        if let Some(obj) = known.get(uuid.as_str()) {
                            obj.push_sample(sample);
                        }
                    }
                }
                if self.sort_key.get() == SortKey::Cpu {
                    self.sorter.changed(gtk::SorterChange::Different);
                }
            }
            ManagerInput::ShowError(text) => self.toast(&text, 0),
            ManagerInput::ShowInfo(text) => self.toast(&text, 3),
            ManagerInput::Search(text) => {
                *self.search.borrow_mut() = text;
                self.filter.changed(gtk::FilterChange::Different);
            }
            ManagerInput::RetryClicked => {
                if let Page::Failed { id, .. } = self.page {
                    let _ = sender.output(ManagerOutput::Reconnect(id));
                }
            }
            ManagerInput::Command(cmd) => self.emit_command(cmd, &sender),
            ManagerInput::SelectionChanged => {}
            ManagerInput::SearchActivated => {
                let n = self.selection.n_items();
                let first = (0..n).find(|i| {
                    self.selection
                        .item(*i)
                        .and_downcast::<gtk::TreeListRow>()
                        .and_then(|r| r.item())
                        .is_some_and(|o| o.is::<GuestObject>())
                });
                if let Some(i) = first {
                    self.selection.set_selected(i);
                    self.emit_command(GuestCommand::Open, &sender);
                }
            }
            ManagerInput::SetSearch(text) => {
                self.search_entry.set_text(&text);
                self.search_bar.set_search_mode(true);
            }
            ManagerInput::KeyboardMenu => {
                if self.selected().is_some() {
                    // Point at the focused row, or the list's top left.
                    let (x, y) = self
                        .scroller
                        .child()
                        .and_then(|view| view.focus_child())
                        .and_then(|row| {
                            row.compute_point(
                                &self.scroller,
                                &gtk::graphene::Point::new(24.0, row.height() as f32),
                            )
                        })
                        .map_or((24, 24), |p| (p.x() as i32, p.y() as i32));
                    self.context_menu
                        .set_pointing_to(Some(&gtk::gdk::Rectangle::new(x, y, 1, 1)));
                    self.context_menu.popup();
                }
            }
            ManagerInput::HostDetails => {
                // The selected guest's host, else the first active one.
                let id = self.selected().map(|g| g.connection()).or_else(|| {
                    self.connections
                        .iter()
                        .find(|(_, c)| c.state == ConnectionState::Active)
                        .map(|(id, _)| *id)
                });
                if let Some(id) = id {
                    let _ = sender.output(ManagerOutput::ShowHostSummary(id));
                }
            }
            ManagerInput::Activated(position) => {
                self.selection.set_selected(position);
                // Enter on a connection header folds or unfolds it.
                let row = self
                    .selection
                    .selected_item()
                    .and_downcast::<gtk::TreeListRow>();
                match row {
                    Some(r) if r.item().is_some_and(|i| i.is::<ConnectionObject>()) => {
                        r.set_expanded(!r.is_expanded())
                    }
                    _ => self.emit_command(GuestCommand::Open, &sender),
                }
            }
            ManagerInput::SortBy(key) => {
                self.sort_key.set(key);
                self.settings.set_string(
                    "sort-by",
                    match key {
                        SortKey::Name => "name",
                        SortKey::State => "state",
                        SortKey::Cpu => "cpu",
                    },
                );
                self.sorter.changed(gtk::SorterChange::Different);
            }
            ManagerInput::ContextMenu {
                position,
                row,
                x,
                y,
            } => {
                self.selection.set_selected(position);
                self.update_actions();
                if let Some(p) = row.compute_point(
                    &self.scroller,
                    &gtk::graphene::Point::new(x as f32, y as f32),
                ) {
                    let rect = gtk::gdk::Rectangle::new(p.x() as i32, p.y() as i32, 1, 1);
                    self.context_menu.set_pointing_to(Some(&rect));
                    self.context_menu.popup();
                }
            }
        }
        let page = self.compute_page();
        let subtitle = self.subtitle();
        self.view_dirty = page != self.page || subtitle != self.subtitle;
        self.page = page;
        self.subtitle = subtitle;
        self.update_actions();
    }
}
