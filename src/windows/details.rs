//! The details window of one guest (the seed's details.py): overview,
//! performance graphs and hardware, in a GtkStack with a GtkStackSidebar
//! inside an AdwLeaflet, so it folds to one pane on narrow screens.
//!
//! Edits on the Overview and Hardware pages collect into one
//! [`ConfigChanges`]; Apply sends it to the engine, which applies it all or
//! nothing through the backend and reports back.

mod hardware;
mod overview;
mod performance;

use std::rc::Rc;

use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::gtk::{gio, glib};
use relm4::prelude::*;
use virt_manager_plugin_api::{
    capability, ApplyResult, BackendInfo, ConfigChanges, DomainAction, DomainConfig, DomainInfo,
    DomainState,
};

use crate::i18n::{gettext, gettext_f};
use crate::model::{ConnectionId, Sample};
use crate::windows::manager::GuestCommand;

use hardware::HardwarePage;
use overview::OverviewPage;
use performance::PerformancePage;

/// A page to show first (`--show-domain-performance` and friends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetailsPage {
    Overview,
    Performance,
    Hardware,
}

impl DetailsPage {
    fn name(self) -> &'static str {
        match self {
            DetailsPage::Overview => "overview",
            DetailsPage::Performance => "performance",
            DetailsPage::Hardware => "hardware",
        }
    }
}

pub struct DetailsInit {
    pub id: ConnectionId,
    pub info: DomainInfo,
    pub history: Vec<Sample>,
    pub history_len: usize,
    pub backend: Option<BackendInfo>,
    /// Which statistics are sampled (memory, disk, network).
    pub polling: (bool, bool, bool),
    pub page: DetailsPage,
}

#[derive(Debug)]
pub enum DetailsInput {
    Info(DomainInfo),
    Sample(Sample),
    Config(Result<DomainConfig, String>),
    Applied(Result<ApplyResult, String>),
    ShowError(String),
    ShowPage(DetailsPage),
    Polling(bool, bool, bool),
    HistoryLength(usize),
    Edited,
    Apply,
    Revert,
    Command(GuestCommand),
    Closed,
}

#[derive(Debug)]
pub enum DetailsOutput {
    Lifecycle {
        id: ConnectionId,
        uuid: String,
        name: String,
        action: DomainAction,
    },
    Apply {
        id: ConnectionId,
        uuid: String,
        changes: ConfigChanges,
    },
    Reload {
        id: ConnectionId,
        uuid: String,
    },
    OpenConsole {
        id: ConnectionId,
        uuid: String,
    },
    Closed {
        id: ConnectionId,
        uuid: String,
    },
}

pub struct DetailsWindow {
    id: ConnectionId,
    info: DomainInfo,
    backend: Option<BackendInfo>,
    history: std::collections::VecDeque<Sample>,
    history_len: usize,
    config: Option<DomainConfig>,
    dirty: bool,
    applying: bool,
    actions: Vec<(GuestCommand, gio::SimpleAction)>,
}

pub struct DetailsWidgets {
    overview: Rc<OverviewPage>,
    performance: PerformancePage,
    hardware: Rc<HardwarePage>,
    stack: gtk::Stack,
    apply: gtk::Button,
    revert: gtk::Button,
    toasts: adw::ToastOverlay,
    content_title: adw::WindowTitle,
    sidebar_title: adw::WindowTitle,
    loading: gtk::Spinner,
}

impl DetailsWindow {
    fn changes(&self, widgets: &DetailsWidgets) -> ConfigChanges {
        let mut changes = ConfigChanges::default();
        if let Some(config) = &self.config {
            widgets.overview.changes(config, &mut changes);
            widgets.hardware.changes(config, &mut changes);
        }
        changes
    }

    fn update_actions(&self) {
        for (cmd, action) in &self.actions {
            action.set_enabled(cmd.allowed(self.info.state, self.backend.as_ref()));
        }
    }
}

fn is_empty(c: &ConfigChanges) -> bool {
    *c == ConfigChanges::default()
}

fn lifecycle_menu() -> gio::Menu {
    let menu = gio::Menu::new();
    menu.append(Some(&gettext("Re_boot")), Some("win.guest-reboot"));
    menu.append(Some(&gettext("Shut _Down")), Some("win.guest-shutdown"));
    menu.append(Some(&gettext("Force _Reset")), Some("win.guest-reset"));
    menu.append(Some(&gettext("_Force Off")), Some("win.guest-force-off"));
    menu.append(Some(&gettext("_Save")), Some("win.guest-save"));
    menu
}

fn header_button(icon: &str, tooltip: &str, action: &str) -> gtk::Button {
    let b = gtk::Button::builder()
        .icon_name(icon)
        .tooltip_text(tooltip)
        .action_name(action)
        .build();
    crate::windows::a11y::set_label(&b, tooltip);
    b
}

impl Component for DetailsWindow {
    type Init = DetailsInit;
    type Input = DetailsInput;
    type Output = DetailsOutput;
    type CommandOutput = ();
    type Root = adw::ApplicationWindow;
    type Widgets = DetailsWidgets;

    fn init_root() -> Self::Root {
        adw::ApplicationWindow::builder()
            .default_width(860)
            .default_height(620)
            .width_request(360)
            .height_request(294)
            .build()
    }

    fn init(
        init: Self::Init,
        root: Self::Root,
        sender: ComponentSender<Self>,
    ) -> ComponentParts<Self> {
        let title = gettext_f("{guest} – Details", &[("guest", &init.info.name)]);
        root.set_title(Some(&title));

        let edited = {
            let s = sender.clone();
            Rc::new(move || s.input(DetailsInput::Edited)) as Rc<dyn Fn()>
        };
        let overview = OverviewPage::new(edited.clone());
        let performance = PerformancePage::new();
        let hardware = HardwarePage::new(edited);

        let stack = gtk::Stack::builder().vexpand(true).hexpand(true).build();
        stack.add_titled(&overview.root, Some("overview"), &gettext("Overview"));
        stack.add_titled(
            &performance.root,
            Some("performance"),
            &gettext("Performance"),
        );
        stack.add_titled(&hardware.root, Some("hardware"), &gettext("Hardware"));

        // Sidebar pane.
        let sidebar_title = adw::WindowTitle::new(&init.info.name, "");
        let sidebar_header = adw::HeaderBar::builder()
            .title_widget(&sidebar_title)
            .show_end_title_buttons(false)
            .build();
        let sidebar = gtk::StackSidebar::builder()
            .stack(&stack)
            .vexpand(true)
            .width_request(180)
            .build();
        let sidebar_box = gtk::Box::builder()
            .orientation(gtk::Orientation::Vertical)
            .build();
        sidebar_box.append(&sidebar_header);
        sidebar_box.append(&sidebar);

        // Content pane.
        let content_title = adw::WindowTitle::new(&gettext("Overview"), &init.info.name);
        let content_header = adw::HeaderBar::builder()
            .title_widget(&content_title)
            .show_start_title_buttons(false)
            .build();
        let back = gtk::Button::builder()
            .icon_name("go-previous-symbolic")
            .tooltip_text(gettext("Back"))
            .visible(false)
            .build();
        crate::windows::a11y::set_label(&back, &gettext("Back"));
        content_header.pack_start(&back);
        let power = gtk::Box::builder().css_classes(["linked"]).build();
        power.append(&header_button(
            "media-playback-start-symbolic",
            &gettext("Run"),
            "win.guest-run",
        ));
        power.append(&header_button(
            "media-playback-pause-symbolic",
            &gettext("Pause"),
            "win.guest-pause",
        ));
        let shutdown = gtk::MenuButton::builder()
            .icon_name("system-shutdown-symbolic")
            .tooltip_text(gettext("Shut Down"))
            .menu_model(&lifecycle_menu())
            .build();
        power.append(&shutdown);
        content_header.pack_start(&power);
        content_header.pack_start(&header_button(
            "utilities-terminal-symbolic",
            &gettext("Open the Console"),
            "win.guest-open",
        ));
        let apply = gtk::Button::builder()
            .label(gettext("_Apply"))
            .use_underline(true)
            .css_classes(["suggested-action"])
            .sensitive(false)
            .build();
        let revert = gtk::Button::builder()
            .label(gettext("_Revert"))
            .use_underline(true)
            .sensitive(false)
            .build();
        let loading = gtk::Spinner::builder()
            .spinning(true)
            .visible(false)
            .build();
        content_header.pack_end(&apply);
        content_header.pack_end(&revert);
        content_header.pack_end(&loading);
        let toasts = {
            let t = adw::ToastOverlay::new();
            t.set_child(Some(&stack));
            t.set_vexpand(true);
            t
        };
        let content_box = gtk::Box::builder()
            .orientation(gtk::Orientation::Vertical)
            .hexpand(true)
            .build();
        content_box.append(&content_header);
        content_box.append(&toasts);

        let leaflet = adw::Leaflet::builder().can_navigate_back(true).build();
        leaflet.append(&sidebar_box);
        let sep = leaflet.append(&gtk::Separator::new(gtk::Orientation::Vertical));
        sep.set_navigatable(false);
        leaflet.append(&content_box);
        leaflet.set_visible_child(&content_box);
        root.set_content(Some(&leaflet));

        // Folded: one pane at a time, each with the window buttons.
        leaflet
            .bind_property("folded", &sidebar_header, "show-end-title-buttons")
            .sync_create()
            .build();
        leaflet
            .bind_property("folded", &content_header, "show-start-title-buttons")
            .sync_create()
            .build();
        leaflet
            .bind_property("folded", &back, "visible")
            .sync_create()
            .build();
        {
            let l = leaflet.downgrade();
            back.connect_clicked(move |_| {
                if let Some(l) = l.upgrade() {
                    l.navigate(adw::NavigationDirection::Back);
                }
            });
        }
        {
            let l = leaflet.downgrade();
            let content = content_box.downgrade();
            let title = content_title.clone();
            stack.connect_visible_child_notify(move |stack| {
                if let Some(page) = stack.visible_child() {
                    title.set_title(&stack.page(&page).title().unwrap_or_default());
                }
                if let (Some(l), Some(c)) = (l.upgrade(), content.upgrade()) {
                    if l.is_folded() {
                        l.set_visible_child(&c);
                    }
                }
            });
        }
        {
            let s = sender.clone();
            apply.connect_clicked(move |_| s.input(DetailsInput::Apply));
            let s = sender.clone();
            revert.connect_clicked(move |_| s.input(DetailsInput::Revert));
        }
        {
            let s = sender.clone();
            root.connect_close_request(move |_| {
                s.input(DetailsInput::Closed);
                glib::Propagation::Proceed
            });
        }

        let mut actions = Vec::new();
        for cmd in [
            GuestCommand::Open,
            GuestCommand::Run,
            GuestCommand::Pause,
            GuestCommand::Shutdown,
            GuestCommand::Reboot,
            GuestCommand::Reset,
            GuestCommand::ForceOff,
            GuestCommand::Save,
        ] {
            let name = match cmd {
                GuestCommand::Open => "guest-open",
                GuestCommand::Run => "guest-run",
                GuestCommand::Pause => "guest-pause",
                GuestCommand::Shutdown => "guest-shutdown",
                GuestCommand::Reboot => "guest-reboot",
                GuestCommand::Reset => "guest-reset",
                GuestCommand::ForceOff => "guest-force-off",
                _ => "guest-save",
            };
            let action = gio::SimpleAction::new(name, None);
            let s = sender.clone();
            action.connect_activate(move |_, _| s.input(DetailsInput::Command(cmd)));
            root.add_action(&action);
            actions.push((cmd, action));
        }

        overview.set_info(&init.info);
        performance.set_polling(init.polling.0, init.polling.1, init.polling.2);
        let history: std::collections::VecDeque<Sample> = init.history.into_iter().collect();
        performance.update(
            &history.iter().copied().collect::<Vec<_>>(),
            init.history_len,
        );
        stack.set_visible_child_name(init.page.name());
        if !init
            .backend
            .as_ref()
            .is_some_and(|b| b.has(capability::CONFIGURATION))
        {
            hardware.root.set_sensitive(false);
        }

        let model = DetailsWindow {
            id: init.id,
            info: init.info,
            backend: init.backend,
            history,
            history_len: init.history_len,
            config: None,
            dirty: false,
            applying: false,
            actions,
        };
        model.update_actions();
        let widgets = DetailsWidgets {
            overview,
            performance,
            hardware,
            stack,
            apply,
            revert,
            toasts,
            content_title,
            sidebar_title,
            loading,
        };
        crate::windows::a11y::name_buttons(&root);
        ComponentParts { model, widgets }
    }

    fn update_with_view(
        &mut self,
        w: &mut Self::Widgets,
        msg: Self::Input,
        sender: ComponentSender<Self>,
        _root: &Self::Root,
    ) {
        let (id, uuid) = (self.id, self.info.uuid.clone());
        let toast = |text: &str, timeout: u32| {
            let t = adw::Toast::builder()
                .title(glib::markup_escape_text(text).as_str())
                .timeout(timeout)
                .build();
            w.toasts.add_toast(t);
        };
        match msg {
            DetailsInput::Info(info) => {
                self.info = info;
                w.overview.set_info(&self.info);
                w.sidebar_title.set_title(&self.info.name);
                w.content_title.set_subtitle(&self.info.name);
                self.update_actions();
            }
            DetailsInput::Sample(sample) => {
                while self.history.len() >= self.history_len.max(1) {
                    self.history.pop_front();
                }
                self.history.push_back(sample);
                let h: Vec<Sample> = self.history.iter().copied().collect();
                w.performance.update(&h, self.history_len);
            }
            DetailsInput::HistoryLength(n) => {
                self.history_len = n;
                while self.history.len() > n.max(1) {
                    self.history.pop_front();
                }
            }
            DetailsInput::Polling(memory, disk, net) => {
                w.performance.set_polling(memory, disk, net)
            }
            DetailsInput::Config(Ok(config)) => {
                // Never overwrite the user's unsaved edits with a reload.
                if !self.dirty || self.applying {
                    w.overview.set_config(&config);
                    w.hardware.set_config(&config);
                    self.config = Some(config);
                    self.dirty = false;
                }
                self.applying = false;
            }
            DetailsInput::Config(Err(e)) => {
                toast(
                    &gettext_f(
                        "Could not read the configuration: {reason}",
                        &[("reason", &e)],
                    ),
                    0,
                );
            }
            DetailsInput::ShowError(e) => toast(&e, 0),
            DetailsInput::Applied(Ok(result)) => {
                self.dirty = false;
                let text = if result.next_boot.is_empty() {
                    gettext("Changes applied")
                } else {
                    gettext("Changes saved; some take effect when the guest next boots")
                };
                toast(&text, 5);
                let _ = sender.output(DetailsOutput::Reload { id, uuid });
            }
            DetailsInput::Applied(Err(e)) => {
                self.applying = false;
                toast(
                    &gettext_f("Could not apply the changes: {reason}", &[("reason", &e)]),
                    0,
                );
            }
            DetailsInput::Edited => {
                self.dirty = !is_empty(&self.changes(w));
            }
            DetailsInput::Apply => {
                let changes = self.changes(w);
                if !is_empty(&changes) && !self.applying {
                    self.applying = true;
                    let _ = sender.output(DetailsOutput::Apply { id, uuid, changes });
                }
            }
            DetailsInput::Revert => {
                if let Some(config) = &self.config {
                    w.overview.set_config(config);
                    w.hardware.set_config(config);
                }
                self.dirty = false;
            }
            DetailsInput::ShowPage(page) => w.stack.set_visible_child_name(page.name()),
            DetailsInput::Command(GuestCommand::Open) => {
                let _ = sender.output(DetailsOutput::OpenConsole { id, uuid });
            }
            DetailsInput::Command(cmd) => {
                if let Some(action) = cmd.action(self.info.state) {
                    if cmd.allowed(self.info.state, self.backend.as_ref()) {
                        let name = self.info.name.clone();
                        let _ = sender.output(DetailsOutput::Lifecycle {
                            id,
                            uuid,
                            name,
                            action,
                        });
                    }
                }
            }
            DetailsInput::Closed => {
                let _ = sender.output(DetailsOutput::Closed { id, uuid });
            }
        }
        w.apply.set_sensitive(self.dirty && !self.applying);
        w.revert.set_sensitive(self.dirty && !self.applying);
        w.loading
            .set_visible(self.applying || self.config.is_none());
    }
}

impl DetailsWindow {
    pub fn is_running(&self) -> bool {
        matches!(
            self.info.state,
            DomainState::Running | DomainState::Blocked | DomainState::Paused
        )
    }
}
