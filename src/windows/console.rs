//! The console window (the seed's console.py and the widget half of
//! vnc.py): a guest's screen over RFB, with keyboard and pointer, scaling,
//! clipboard, screenshots, Send Key and fullscreen.
//!
//! The RFB client (crate::vnc) runs on its own threads; its events come
//! here as [`ConsoleInput::Vnc`]. Password questions come from the
//! client's thread as [`ConsoleInput::AskPassword`] and are answered from
//! a dialog (or the keyring). Losing the connection never closes the
//! window: it shows why, with Reconnect.

mod input;

use std::rc::Rc;
use std::sync::Arc;

use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::gtk::{gdk, gio, glib};
use relm4::prelude::*;
use virt_manager_plugin_api::{ConsoleEndpoint, DomainState};

use crate::credentials::{self, Target};
use crate::i18n::{gettext, gettext_f};
use crate::model::ConnectionId;
use crate::plugin_host::PluginRegistry;
use crate::settings::Settings;
use crate::vnc::{
    ConnectOptions, CredentialRequest, Credentials, DisconnectKind, SecurityInfo, Transport,
    VncClient, VncEvent,
};
use crate::windows::widgets::{AnyDisplay as Display, Scaling};

use input::InputState;

/// What the console shows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ConsoleTarget {
    /// A guest of a connection; its endpoint comes from the backend.
    Guest { id: ConnectionId, uuid: String },
    /// A VNC server given by URL (`virt-manager vnc://HOST:PORT`).
    Server { host: String, port: u16 },
}

pub struct ConsoleInit {
    pub target: ConsoleTarget,
    pub title: String,
    pub plugins: Arc<PluginRegistry>,
    pub settings: Settings,
    /// For guests: their state now.
    pub state: Option<DomainState>,
}

#[derive(Debug)]
pub enum ConsoleInput {
    /// The backend's answer to our endpoint request.
    Endpoint(Result<(ConsoleEndpoint, Option<std::os::fd::OwnedFd>), String>),
    GuestState(DomainState),
    Vnc(VncEvent),
    AskPassword {
        request: CredentialRequest,
        reply: std::sync::mpsc::Sender<Option<Credentials>>,
    },
    Reconnect,
    Run,
    SwitchToVnc,
    SendKey(usize),
    Screenshot,
    SaveScreenshot(Option<std::path::PathBuf>),
    ToggleFullscreen,
    SetScaling(Scaling),
    SetResizeGuest(bool),
    Resized,
    LocalClipboard(String),
    GrabChanged(bool),
    PointerNearTop(bool),
    /// A message for the user that needs no decision.
    Toast(String),
    /// The user asked to keep the password they typed, if it works.
    RememberPassword(Target, String),
    Closed,
}

#[derive(Debug)]
pub enum ConsoleOutput {
    /// Ask the backend for this guest's console endpoint.
    NeedEndpoint {
        target: ConsoleTarget,
    },
    Start {
        id: ConnectionId,
        uuid: String,
    },
    SwitchToVnc {
        id: ConnectionId,
        uuid: String,
    },
    ShowDetails {
        id: ConnectionId,
        uuid: String,
    },
    Closed {
        target: ConsoleTarget,
    },
}

#[derive(Clone, Debug, PartialEq)]
enum View {
    Connecting,
    Display,
    NotRunning,
    Spice,
    NoGraphics,
    Disconnected(String),
}

pub struct ConsoleWindow {
    target: ConsoleTarget,
    title: String,
    plugins: Arc<PluginRegistry>,
    settings: Settings,
    input: Rc<InputState>,
    view: View,
    guest_state: Option<DomainState>,
    security: Option<SecurityInfo>,
    /// Whether the server asks for a password: tried from the keyring
    /// first, once per connection.
    keyring_tried: bool,
    /// The password the user typed, to store if the login works.
    remember: Option<(Target, String)>,
    /// Text we put on the clipboard ourselves (not to echo it back).
    clipboard_from_guest: Option<String>,
    resize_guest: bool,
    last_requested_size: Option<(u32, u32)>,
    fullscreen: bool,
    /// The window was sized to the guest's screen once (first connect);
    /// after that its size is the user's.
    sized_to_guest: bool,
}

pub struct ConsoleWidgets {
    display: Display,
    stack: gtk::Stack,
    scroller: gtk::ScrolledWindow,
    title: adw::WindowTitle,
    header: adw::HeaderBar,
    status_disconnected: adw::StatusPage,
    grab_hint: gtk::Label,
    pointer_hint: gtk::Label,
    revealer: gtk::Revealer,
    toasts: adw::ToastOverlay,
    busy: gtk::Spinner,
}

fn security_text(s: &SecurityInfo) -> String {
    match (s.encrypted, s.server_authenticated) {
        (true, true) => gettext("Encrypted and authenticated"),
        (true, false) => gettext("Encrypted, but the server is not authenticated"),
        _ => gettext("Not encrypted"),
    }
}

fn send_key_menu() -> gio::Menu {
    let menu = gio::Menu::new();
    for (i, (name, _)) in crate::keys::send_key_combos().iter().enumerate() {
        let item = gio::MenuItem::new(Some(name), None);
        item.set_action_and_target_value(Some("win.send-key"), Some(&(i as u32).to_variant()));
        menu.append_item(&item);
    }
    menu
}

fn view_menu() -> gio::Menu {
    let menu = gio::Menu::new();
    let scale = gio::Menu::new();
    scale.append(Some(&gettext("_Fit to Window")), Some("win.scaling::fit"));
    scale.append(
        Some(&gettext("_Original Size (1:1)")),
        Some("win.scaling::one-to-one"),
    );
    menu.append_section(None, &scale);
    let other = gio::Menu::new();
    other.append(
        Some(&gettext("_Resize Guest to Window")),
        Some("win.resize-guest"),
    );
    other.append(Some(&gettext("Full_screen")), Some("win.fullscreen"));
    other.append(Some(&gettext("_Details")), Some("win.details"));
    menu.append_section(None, &other);
    menu
}

fn toolbar_buttons() -> gtk::Box {
    let b = gtk::Box::builder().spacing(6).build();
    let send = gtk::MenuButton::builder()
        .icon_name("input-keyboard-symbolic")
        .tooltip_text(gettext("Send Key"))
        .menu_model(&send_key_menu())
        .build();
    let shot = gtk::Button::builder()
        .icon_name("camera-photo-symbolic")
        .tooltip_text(gettext("Take a Screenshot"))
        .action_name("win.screenshot")
        .build();
    let view = gtk::MenuButton::builder()
        .icon_name("view-more-symbolic")
        .tooltip_text(gettext("View"))
        .menu_model(&view_menu())
        .build();
    b.append(&send);
    b.append(&shot);
    b.append(&view);
    b
}

impl ConsoleWindow {
    fn connect(
        &mut self,
        transport: Transport,
        endpoint: Option<&ConsoleEndpoint>,
        sender: &ComponentSender<Self>,
    ) {
        if let Some(old) = self.input.client.borrow_mut().take() {
            old.close();
        }
        self.view = View::Connecting;
        self.keyring_tried = false;
        self.security = None;
        let s = sender.clone();
        let known_password = endpoint.and_then(|e| e.password.clone());
        let ask = sender.clone();
        let credentials: Arc<dyn crate::vnc::CredentialProvider> =
            Arc::new(move |request: &CredentialRequest| -> Option<Credentials> {
                if let (Some(p), true, false) =
                    (&known_password, request.password, request.username)
                {
                    return Some(Credentials {
                        username: None,
                        password: Some(p.clone()),
                    });
                }
                let (tx, rx) = std::sync::mpsc::channel();
                ask.input(ConsoleInput::AskPassword {
                    request: request.clone(),
                    reply: tx,
                });
                rx.recv().ok().flatten()
            });
        let options = ConnectOptions::default();
        let client = VncClient::connect(
            transport,
            options,
            self.plugins.clone(),
            credentials,
            move |ev| {
                s.input(ConsoleInput::Vnc(ev));
            },
        );
        *self.input.client.borrow_mut() = Some(client);
    }

    fn keyring_target(&self) -> Target {
        match &self.target {
            ConsoleTarget::Guest { uuid, .. } => Target::Guest { uuid: uuid.clone() },
            ConsoleTarget::Server { host, port } => Target::Server {
                host: host.clone(),
                port: *port,
            },
        }
    }

    fn start(&mut self, sender: &ComponentSender<Self>) {
        match self.target.clone() {
            ConsoleTarget::Server { host, port } => {
                self.connect(Transport::Tcp { host, port }, None, sender)
            }
            ConsoleTarget::Guest { .. } => {
                if self.guest_state.is_some_and(|s| !s.is_active()) {
                    self.view = View::NotRunning;
                    return;
                }
                self.view = View::Connecting;
                let _ = sender.output(ConsoleOutput::NeedEndpoint {
                    target: self.target.clone(),
                });
            }
        }
    }

    fn toast(w: &ConsoleWidgets, text: &str) {
        let t = adw::Toast::builder()
            .title(glib::markup_escape_text(text).as_str())
            .timeout(4)
            .build();
        w.toasts.add_toast(t);
    }

    /// Asks the guest to match the window, in device pixels.
    fn maybe_resize_guest(&mut self, w: &ConsoleWidgets) {
        if !self.resize_guest || self.view != View::Display {
            return;
        }
        let (dw, dh) = w.display.device_size();
        if dw < 64 || dh < 64 || self.last_requested_size == Some((dw, dh)) {
            return;
        }
        if let Some(client) = self.input.client.borrow().as_ref() {
            if client.features().set_desktop_size {
                self.last_requested_size = Some((dw, dh));
                client.set_desktop_size(dw.min(8192) as u16, dh.min(8192) as u16);
            }
        }
    }
}

impl Component for ConsoleWindow {
    type Init = ConsoleInit;
    type Input = ConsoleInput;
    type Output = ConsoleOutput;
    type CommandOutput = ();
    type Root = adw::ApplicationWindow;
    type Widgets = ConsoleWidgets;

    fn init_root() -> Self::Root {
        adw::ApplicationWindow::builder()
            .default_width(1024)
            .default_height(768)
            .width_request(360)
            .height_request(294)
            .build()
    }

    fn init(
        init: Self::Init,
        root: Self::Root,
        sender: ComponentSender<Self>,
    ) -> ComponentParts<Self> {
        root.set_title(Some(&gettext_f(
            "{guest} – Console",
            &[("guest", &init.title)],
        )));

        let display = Display::default();
        display.set_hexpand(true);
        display.set_vexpand(true);
        crate::windows::a11y::set_label(
            &*display,
            &gettext_f("Screen of {guest}", &[("guest", &init.title)]),
        );
        let scroller = gtk::ScrolledWindow::builder().child(&*display).build();

        let busy = gtk::Spinner::builder()
            .spinning(true)
            .width_request(32)
            .height_request(32)
            .halign(gtk::Align::Center)
            .build();
        let connecting = adw::StatusPage::builder()
            .title(gettext("Connecting…"))
            .child(&busy)
            .build();
        let reconnect = gtk::Button::builder()
            .label(gettext("_Reconnect"))
            .use_underline(true)
            .halign(gtk::Align::Center)
            .css_classes(["pill", "suggested-action"])
            .build();
        let status_disconnected = adw::StatusPage::builder()
            .icon_name("network-offline-symbolic")
            .title(gettext("Disconnected"))
            .child(&reconnect)
            .build();
        let run = gtk::Button::builder()
            .label(gettext("_Run"))
            .use_underline(true)
            .halign(gtk::Align::Center)
            .css_classes(["pill", "suggested-action"])
            .build();
        let not_running = adw::StatusPage::builder()
            .icon_name("media-playback-stop-symbolic")
            .title(gettext("The Guest Is Not Running"))
            .description(gettext("Run it to see its screen."))
            .child(&run)
            .build();
        let switch = gtk::Button::builder()
            .label(gettext("_Switch to VNC…"))
            .use_underline(true)
            .halign(gtk::Align::Center)
            .css_classes(["pill"])
            .build();
        let spice = adw::StatusPage::builder()
            .icon_name("video-display-symbolic")
            .title(gettext("This Guest Uses SPICE"))
            .description(gettext(
                "This console speaks VNC only. Switching the guest's graphics to VNC takes effect at its next boot.",
            ))
            .child(&switch)
            .build();
        let no_graphics = adw::StatusPage::builder()
            .icon_name("video-display-symbolic")
            .title(gettext("No Graphical Console"))
            .description(gettext("This guest has no graphics device."))
            .build();

        let stack = gtk::Stack::builder().vexpand(true).hexpand(true).build();
        stack.add_named(&connecting, Some("connecting"));
        stack.add_named(&scroller, Some("display"));
        stack.add_named(&status_disconnected, Some("disconnected"));
        stack.add_named(&not_running, Some("not-running"));
        stack.add_named(&spice, Some("spice"));
        stack.add_named(&no_graphics, Some("no-graphics"));

        let grab_hint = gtk::Label::builder()
            .halign(gtk::Align::Center)
            .valign(gtk::Align::End)
            .margin_bottom(12)
            .css_classes(["osd", "console-hint"])
            .visible(false)
            .build();
        let pointer_hint = gtk::Label::builder()
            .label(gettext("This guest takes relative pointer motion only: add a tablet device to it for a pointer that follows yours."))
            .wrap(true)
            .halign(gtk::Align::Center)
            .valign(gtk::Align::Start)
            .margin_top(12)
            .css_classes(["osd", "console-hint"])
            .visible(false)
            .build();

        // Fullscreen toolbar, revealed at the top edge.
        let fs_bar = gtk::Box::builder()
            .spacing(6)
            .css_classes(["osd", "toolbar", "console-fullscreen-bar"])
            .halign(gtk::Align::Center)
            .build();
        fs_bar.append(&toolbar_buttons());
        let leave = gtk::Button::builder()
            .icon_name("view-restore-symbolic")
            .tooltip_text(gettext("Leave Fullscreen"))
            .action_name("win.fullscreen")
            .build();
        fs_bar.append(&leave);
        let revealer = gtk::Revealer::builder()
            .child(&fs_bar)
            .valign(gtk::Align::Start)
            .halign(gtk::Align::Center)
            .transition_type(gtk::RevealerTransitionType::SlideDown)
            .build();

        let overlay = gtk::Overlay::builder().child(&stack).build();
        overlay.add_overlay(&grab_hint);
        overlay.add_overlay(&pointer_hint);
        overlay.add_overlay(&revealer);
        let toasts = adw::ToastOverlay::new();
        toasts.set_child(Some(&overlay));

        let title = adw::WindowTitle::new(&init.title, "");
        let header = adw::HeaderBar::builder().title_widget(&title).build();
        header.pack_end(&toolbar_buttons());
        let content = gtk::Box::builder()
            .orientation(gtk::Orientation::Vertical)
            .build();
        content.append(&header);
        content.append(&toasts);
        root.set_content(Some(&content));

        // Actions.
        let add = |name: &str, input: fn() -> ConsoleInput| {
            let a = gio::SimpleAction::new(name, None);
            let s = sender.clone();
            a.connect_activate(move |_, _| s.input(input()));
            root.add_action(&a);
        };
        add("screenshot", || ConsoleInput::Screenshot);
        add("fullscreen", || ConsoleInput::ToggleFullscreen);
        {
            let s = sender.clone();
            let target = init.target.clone();
            let a = gio::SimpleAction::new("details", None);
            a.connect_activate(move |_, _| {
                if let ConsoleTarget::Guest { id, uuid } = &target {
                    let _ = s.output(ConsoleOutput::ShowDetails {
                        id: *id,
                        uuid: uuid.clone(),
                    });
                }
            });
            a.set_enabled(matches!(init.target, ConsoleTarget::Guest { .. }));
            root.add_action(&a);
        }
        let send_key = gio::SimpleAction::new("send-key", Some(glib::VariantTy::UINT32));
        {
            let s = sender.clone();
            send_key.connect_activate(move |_, p| {
                if let Some(i) = p.and_then(|p| p.get::<u32>()) {
                    s.input(ConsoleInput::SendKey(i as usize));
                }
            });
        }
        root.add_action(&send_key);
        let scaling_name = init.settings.string("console-scaling", "fit");
        let scaling = gio::SimpleAction::new_stateful(
            "scaling",
            Some(glib::VariantTy::STRING),
            &scaling_name.to_variant(),
        );
        {
            let s = sender.clone();
            scaling.connect_activate(move |a, p| {
                if let Some(v) = p.and_then(|p| p.get::<String>()) {
                    a.set_state(&v.to_variant());
                    s.input(ConsoleInput::SetScaling(if v == "one-to-one" {
                        Scaling::OneToOne
                    } else {
                        Scaling::Fit
                    }));
                }
            });
        }
        root.add_action(&scaling);
        let resize_guest_on = init.settings.boolean("console-resize-guest", false);
        let resize =
            gio::SimpleAction::new_stateful("resize-guest", None, &resize_guest_on.to_variant());
        {
            let s = sender.clone();
            resize.connect_activate(move |a, _| {
                let on = !a.state().and_then(|v| v.get::<bool>()).unwrap_or(false);
                a.set_state(&on.to_variant());
                s.input(ConsoleInput::SetResizeGuest(on));
            });
        }
        root.add_action(&resize);

        {
            let s = sender.clone();
            reconnect.connect_clicked(move |_| s.input(ConsoleInput::Reconnect));
            let s = sender.clone();
            run.connect_clicked(move |_| s.input(ConsoleInput::Run));
            let s = sender.clone();
            switch.connect_clicked(move |_| s.input(ConsoleInput::SwitchToVnc));
            let s = sender.clone();
            root.connect_close_request(move |_| {
                s.input(ConsoleInput::Closed);
                glib::Propagation::Proceed
            });
        }
        // Resize-guest-to-window follows the window's size.
        {
            let s = sender.clone();
            display.connect_notify_local(Some("width-request"), move |_, _| {
                s.input(ConsoleInput::Resized)
            });
            let s = sender.clone();
            root.connect_default_width_notify(move |_| s.input(ConsoleInput::Resized));
            let s = sender.clone();
            root.connect_default_height_notify(move |_| s.input(ConsoleInput::Resized));
        }
        // The top edge reveals the fullscreen toolbar.
        {
            let motion = gtk::EventControllerMotion::new();
            let s = sender.clone();
            motion.connect_motion(move |_, _, y| s.input(ConsoleInput::PointerNearTop(y < 6.0)));
            overlay.add_controller(motion);
        }
        // The local clipboard goes to the guest when it changes.
        {
            let clipboard = root.clipboard();
            let s = sender.clone();
            clipboard.connect_changed(move |cb| {
                if cb.is_local() {
                    // Our own write (the guest's text): nothing to send.
                    return;
                }
                let s = s.clone();
                cb.read_text_async(None::<&gio::Cancellable>, move |r| {
                    if let Ok(Some(text)) = r {
                        s.input(ConsoleInput::LocalClipboard(text.to_string()));
                    }
                });
            });
        }

        let input = Rc::new(InputState::default());
        input.absolute.set(true);
        *input.release_combo.borrow_mut() =
            release_combo(&init.settings.string("grab-release-keys", "Control_L+Alt_L"));
        {
            let s = sender.clone();
            *input.on_grab_changed.borrow_mut() =
                Some(Box::new(move |on| s.input(ConsoleInput::GrabChanged(on))));
        }
        input::attach(&display, input.clone());
        display.set_scaling(if scaling_name == "one-to-one" {
            Scaling::OneToOne
        } else {
            Scaling::Fit
        });

        let mut model = ConsoleWindow {
            target: init.target,
            title: init.title,
            plugins: init.plugins,
            settings: init.settings,
            input,
            view: View::Connecting,
            guest_state: init.state,
            security: None,
            keyring_tried: false,
            remember: None,
            clipboard_from_guest: None,
            resize_guest: resize_guest_on,
            last_requested_size: None,
            fullscreen: false,
            sized_to_guest: false,
        };
        let widgets = ConsoleWidgets {
            display,
            stack,
            scroller,
            title,
            header,
            status_disconnected,
            grab_hint,
            pointer_hint,
            revealer,
            toasts,
            busy,
        };
        model.start(&sender);
        crate::windows::a11y::name_buttons(&root);
        model.show(&widgets);
        ComponentParts { model, widgets }
    }

    fn update_with_view(
        &mut self,
        w: &mut Self::Widgets,
        msg: Self::Input,
        sender: ComponentSender<Self>,
        root: &Self::Root,
    ) {
        if let ConsoleInput::Vnc(VncEvent::Updated { damage }) = &msg {
            // The hot path, up to hundreds of times a second: nothing else
            // in the window changes, so nothing else is touched.
            w.display.damaged(damage);
            return;
        }
        match msg {
            ConsoleInput::Endpoint(Ok((endpoint, fd))) => match endpoint.protocol.as_str() {
                "vnc" => {
                    let transport = match (fd, &endpoint.host, endpoint.port) {
                        (Some(fd), _, _) => Some(Transport::Fd(fd)),
                        (None, Some(host), Some(port)) => Some(Transport::Tcp {
                            host: host.clone(),
                            port,
                        }),
                        _ => None,
                    };
                    match transport {
                        Some(t) => self.connect(t, Some(&endpoint), &sender),
                        None => {
                            self.view = View::Disconnected(gettext(
                                "The backend gave no way to reach the console.",
                            ))
                        }
                    }
                }
                "spice" => self.view = View::Spice,
                "none" => self.view = View::NoGraphics,
                other => {
                    self.view = View::Disconnected(gettext_f(
                        "Unsupported console protocol “{p}”",
                        &[("p", other)],
                    ))
                }
            },
            ConsoleInput::Endpoint(Err(reason)) => self.view = View::Disconnected(reason),
            ConsoleInput::GuestState(state) => {
                let was = self.guest_state.replace(state);
                let started = was.is_some_and(|s| !s.is_active()) && state.is_active();
                if started && matches!(self.view, View::NotRunning | View::Disconnected(_)) {
                    self.start(&sender);
                } else if !state.is_active() && self.view != View::Display {
                    self.view = View::NotRunning;
                }
            }
            ConsoleInput::Vnc(ev) => self.vnc_event(ev, w, root),
            ConsoleInput::AskPassword { request, reply } => {
                self.ask_password(request, reply, root, &sender)
            }
            ConsoleInput::Reconnect => self.start(&sender),
            ConsoleInput::Run => {
                if let ConsoleTarget::Guest { id, uuid } = &self.target {
                    self.view = View::Connecting;
                    let _ = sender.output(ConsoleOutput::Start {
                        id: *id,
                        uuid: uuid.clone(),
                    });
                }
            }
            ConsoleInput::SwitchToVnc => {
                if let ConsoleTarget::Guest { id, uuid } = self.target.clone() {
                    let dialog = adw::MessageDialog::builder()
                        .heading(gettext("Switch the Graphics to VNC?"))
                        .body(gettext(
                            "The guest's SPICE graphics are replaced by VNC on the local host. This takes effect when the guest next boots.",
                        ))
                        .transient_for(root)
                        .modal(true)
                        .build();
                    dialog.add_response("cancel", &gettext("Cancel"));
                    dialog.add_response("switch", &gettext("Switch"));
                    dialog.set_response_appearance("switch", adw::ResponseAppearance::Suggested);
                    dialog.set_close_response("cancel");
                    let s = sender.clone();
                    dialog.connect_response(None, move |_, r| {
                        if r == "switch" {
                            let _ = s.output(ConsoleOutput::SwitchToVnc {
                                id,
                                uuid: uuid.clone(),
                            });
                        }
                    });
                    dialog.present();
                    crate::windows::a11y::name_buttons(&dialog);
                }
            }
            ConsoleInput::SendKey(i) => {
                if let (Some(client), Some((_, keys))) = (
                    self.input.client.borrow().clone(),
                    crate::keys::send_key_combos().get(i),
                ) {
                    let scancodes = client.features().scancodes;
                    let press = |code: u32, down: bool| {
                        let keysym = crate::keys::linux_to_keysym(code).unwrap_or(0);
                        match crate::keys::linux_to_qnum(code) {
                            Some(scan) if scancodes => client.qemu_key_event(keysym, scan, down),
                            _ if keysym != 0 => client.key_event(keysym, down),
                            _ => {}
                        }
                    };
                    for k in keys {
                        press(*k, true);
                    }
                    for k in keys.iter().rev() {
                        press(*k, false);
                    }
                }
            }
            ConsoleInput::Screenshot => {
                let name = format!(
                    "{}-{}.png",
                    self.title.replace(['/', ' '], "_"),
                    glib::DateTime::now_local()
                        .ok()
                        .and_then(|d| d.format("%Y-%m-%d-%H%M%S").ok())
                        .map(|s| s.to_string())
                        .unwrap_or_default()
                );
                let chooser = gtk::FileChooserNative::builder()
                    .title(gettext("Save Screenshot"))
                    .action(gtk::FileChooserAction::Save)
                    .accept_label(gettext("_Save"))
                    .modal(true)
                    .transient_for(root)
                    .build();
                chooser.set_current_name(&name);
                if let Some(pictures) = glib::user_special_dir(glib::UserDirectory::Pictures) {
                    let _ = chooser.set_current_folder(Some(&gio::File::for_path(pictures)));
                }
                let s = sender.clone();
                chooser.connect_response(move |c, r| {
                    let path = (r == gtk::ResponseType::Accept)
                        .then(|| c.file().and_then(|f| f.path()))
                        .flatten();
                    s.input(ConsoleInput::SaveScreenshot(path));
                });
                chooser.show();
                // Kept alive by the closure's reference until it answers.
                std::mem::forget(chooser);
            }
            ConsoleInput::SaveScreenshot(Some(path)) => {
                let Some(fb) = self
                    .input
                    .client
                    .borrow()
                    .as_ref()
                    .and_then(|c| c.framebuffer())
                else {
                    return;
                };
                // Copy under the lock, encode and write off the main thread.
                let copy = fb.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let s = sender.clone();
                std::thread::spawn(move || {
                    let result = std::fs::File::create(&path)
                        .map_err(|e| e.to_string())
                        .and_then(|f| {
                            copy.write_png(std::io::BufWriter::new(f))
                                .map_err(|e| e.to_string())
                        });
                    let text = match result {
                        Ok(()) => gettext_f(
                            "Screenshot saved to {path}",
                            &[("path", &path.display().to_string())],
                        ),
                        Err(e) => {
                            gettext_f("Could not save the screenshot: {reason}", &[("reason", &e)])
                        }
                    };
                    s.input(ConsoleInput::Toast(text));
                });
            }
            ConsoleInput::SaveScreenshot(None) => {}
            ConsoleInput::ToggleFullscreen => {
                self.fullscreen = !self.fullscreen;
                if self.fullscreen {
                    root.fullscreen();
                } else {
                    root.unfullscreen();
                }
                w.header.set_visible(!self.fullscreen);
                w.revealer.set_reveal_child(false);
            }
            ConsoleInput::PointerNearTop(near) => {
                // Shown at the top edge; hidden once the pointer is back
                // on the guest's screen, below the toolbar.
                if self.fullscreen && near {
                    w.revealer.set_reveal_child(true);
                }
            }
            ConsoleInput::SetScaling(s) => {
                w.display.set_scaling(s);
                self.settings.set_string(
                    "console-scaling",
                    if s == Scaling::OneToOne {
                        "one-to-one"
                    } else {
                        "fit"
                    },
                );
            }
            ConsoleInput::SetResizeGuest(on) => {
                self.resize_guest = on;
                self.last_requested_size = None;
                self.settings.set_boolean("console-resize-guest", on);
                self.maybe_resize_guest(w);
            }
            ConsoleInput::Resized => self.maybe_resize_guest(w),
            ConsoleInput::LocalClipboard(text) => {
                if self.clipboard_from_guest.as_deref() != Some(text.as_str()) {
                    if let Some(c) = self.input.client.borrow().as_ref() {
                        c.cut_text(&text);
                    }
                }
            }
            ConsoleInput::GrabChanged(on) => {
                let surface = root.surface().and_downcast::<gdk::Toplevel>();
                if let Some(top) = surface {
                    if on {
                        top.inhibit_system_shortcuts(None::<&gdk::Event>);
                    } else {
                        top.restore_system_shortcuts();
                    }
                }
                let combo =
                    combo_label(&self.settings.string("grab-release-keys", "Control_L+Alt_L"));
                w.grab_hint.set_label(&gettext_f(
                    "Keyboard grabbed: press {keys} to release it",
                    &[("keys", &combo)],
                ));
                w.grab_hint.set_visible(on);
            }
            ConsoleInput::Toast(text) => Self::toast(w, &text),
            ConsoleInput::RememberPassword(target, password) => {
                self.remember = Some((target, password))
            }
            ConsoleInput::Closed => {
                if let Some(c) = self.input.client.borrow_mut().take() {
                    self.input.release_all();
                    c.close();
                }
                let _ = sender.output(ConsoleOutput::Closed {
                    target: self.target.clone(),
                });
            }
        }
        self.show(w);
    }
}

impl ConsoleWindow {
    fn show(&self, w: &ConsoleWidgets) {
        let page = match &self.view {
            View::Connecting => "connecting",
            View::Display => "display",
            View::NotRunning => "not-running",
            View::Spice => "spice",
            View::NoGraphics => "no-graphics",
            View::Disconnected(reason) => {
                w.status_disconnected
                    .set_description(Some(&glib::markup_escape_text(reason)));
                "disconnected"
            }
        };
        w.stack.set_visible_child_name(page);
        // A spinning spinner animates (and makes GTK draw the window) on
        // every frame even on a page that is not shown.
        w.busy.set_spinning(page == "connecting");
        let subtitle = match (&self.view, &self.security) {
            (View::Display, Some(s)) => security_text(s),
            (View::Connecting, _) => gettext("Connecting…"),
            (View::Disconnected(_), _) => gettext("Disconnected"),
            _ => String::new(),
        };
        w.title.set_subtitle(&subtitle);
        let one_to_one = w.display.scaling() == Scaling::OneToOne;
        w.scroller.set_policy(
            if one_to_one {
                gtk::PolicyType::Automatic
            } else {
                gtk::PolicyType::Never
            },
            if one_to_one {
                gtk::PolicyType::Automatic
            } else {
                gtk::PolicyType::Never
            },
        );
    }

    /// As virt-manager does on first connect: the window takes the guest's
    /// screen at 1:1 plus its header bar and frame, within 90 % of the
    /// monitor. Done
    /// on the next frame: a window mapped a moment ago has not had its
    /// first size from the display server yet, which would win.
    fn size_to_guest(w: &ConsoleWidgets, root: &adw::ApplicationWindow) {
        let (fw, fh) = w.display.framebuffer_size();
        // The scrolled window's size, not the display's: at 1:1 the display
        // is at least the guest's size, so it would count nothing around it
        // and leave the window too small (scrollbars over the guest).
        let display: gtk::Widget = w.scroller.clone().upcast();
        root.add_tick_callback(move |root, _| {
            if root.is_maximized() || root.is_fullscreen() || display.height() == 0 {
                // Not laid out yet: try on the next frame.
                return if root.is_maximized() || root.is_fullscreen() {
                    glib::ControlFlow::Break
                } else {
                    glib::ControlFlow::Continue
                };
            }
            // What the window adds around the display: header bar and
            // frame (the default size counts the frame, the window's own
            // width does not).
            let Some(surface) = root.surface() else {
                return glib::ControlFlow::Continue;
            };
            let (extra_w, extra_h) = (
                (surface.width() - display.width()).max(0),
                (surface.height() - display.height()).max(0),
            );
            let scale = root.scale_factor().max(1) as u32;
            let (mut width, mut height) = (
                fw.div_ceil(scale) as i32 + extra_w,
                fh.div_ceil(scale) as i32 + extra_h,
            );
            let monitor = WidgetExt::display(root).monitor_at_surface(&surface);
            if let Some(m) = monitor {
                let g = m.geometry();
                width = width.min(g.width() * 9 / 10);
                height = height.min(g.height() * 9 / 10);
            }
            tracing::debug!("console: sizing the window to the guest: {width}x{height}");
            if width >= 360 && height >= 294 {
                root.set_default_size(width, height);
            }
            glib::ControlFlow::Break
        });
    }

    fn vnc_event(&mut self, ev: VncEvent, w: &ConsoleWidgets, root: &adw::ApplicationWindow) {
        match ev {
            VncEvent::Connected {
                name,
                security,
                framebuffer,
                ..
            } => {
                self.view = View::Display;
                if !name.is_empty() && matches!(self.target, ConsoleTarget::Server { .. }) {
                    w.title.set_title(&name);
                }
                self.security = Some(security);
                w.display.set_framebuffer(Some(framebuffer));
                w.display.grab_focus();
                if !self.sized_to_guest && !self.resize_guest {
                    self.sized_to_guest = true;
                    Self::size_to_guest(w, root);
                }
                self.last_requested_size = None;
                if let Some((target, password)) = self.remember.take() {
                    // The password worked: keep it, off the main thread.
                    std::thread::spawn(move || {
                        if let Err(e) = credentials::store_password(&target, &password) {
                            tracing::info!("not remembering the password: {e}");
                        }
                    });
                }
                self.maybe_resize_guest(w);
            }
            VncEvent::Resized { width, height } => w.display.resized(width, height),
            VncEvent::Updated { damage } => w.display.damaged(&damage),
            VncEvent::Cursor(c) => {
                let cursor = if c.width == 0 || c.height == 0 {
                    gdk::Cursor::from_name("none", None)
                } else {
                    // Straight alpha in, GDK wants premultiplied.
                    let mut bytes = c.rgba.clone();
                    for px in bytes.chunks_exact_mut(4) {
                        let a = px[3] as u32;
                        for ch in &mut px[..3] {
                            *ch = ((*ch as u32 * a + 127) / 255) as u8;
                        }
                    }
                    let tex = gdk::MemoryTexture::new(
                        c.width as i32,
                        c.height as i32,
                        gdk::MemoryFormat::R8g8b8a8Premultiplied,
                        &glib::Bytes::from_owned(bytes),
                        (c.width * 4) as usize,
                    );
                    Some(gdk::Cursor::from_texture(
                        &tex,
                        c.hot_x as i32,
                        c.hot_y as i32,
                        None,
                    ))
                };
                w.display.set_cursor(cursor.as_ref());
            }
            VncEvent::PointerMode { absolute } => {
                self.input.absolute.set(absolute);
                w.pointer_hint.set_visible(!absolute);
            }
            VncEvent::Bell => root.error_bell(),
            VncEvent::ClipboardText(text) => {
                self.clipboard_from_guest = Some(text.clone());
                root.clipboard().set_text(&text);
            }
            VncEvent::DesktopName(name) => {
                if matches!(self.target, ConsoleTarget::Server { .. }) && !name.is_empty() {
                    w.title.set_title(&name);
                }
            }
            VncEvent::ResizeRefused { reason } => {
                Self::toast(
                    w,
                    &gettext_f("The guest did not resize: {reason}", &[("reason", &reason)]),
                );
            }
            VncEvent::Disconnected { reason, kind } => {
                self.input.client.borrow_mut().take();
                self.input.set_grab(false);
                w.pointer_hint.set_visible(false);
                let text = match kind {
                    DisconnectKind::ClosedByClient => return,
                    DisconnectKind::AuthFailed => {
                        gettext_f("The password was refused: {reason}", &[("reason", &reason)])
                    }
                    DisconnectKind::Cancelled => gettext("No password was given."),
                    // The reason would only say the same again.
                    DisconnectKind::ClosedByServer => gettext("The server closed the connection."),
                    DisconnectKind::Failed => reason,
                };
                if kind == DisconnectKind::AuthFailed {
                    // A stored password that fails is forgotten.
                    let target = self.keyring_target();
                    std::thread::spawn(move || {
                        let _ = credentials::delete_password(&target);
                    });
                }
                self.view = if self.guest_state.is_some_and(|s| !s.is_active()) {
                    View::NotRunning
                } else {
                    View::Disconnected(text)
                };
            }
        }
    }

    /// Answers the client's password question: from the keyring the
    /// first time, else from the user.
    fn ask_password(
        &mut self,
        request: CredentialRequest,
        reply: std::sync::mpsc::Sender<Option<Credentials>>,
        root: &adw::ApplicationWindow,
        sender: &ComponentSender<Self>,
    ) {
        let target = self.keyring_target();
        if !self.keyring_tried && request.password && !request.username {
            self.keyring_tried = true;
            // The keyring blocks: look it up on a thread, come back here.
            let s = sender.clone();
            let t = target.clone();
            std::thread::spawn(move || match credentials::lookup_password(&t) {
                Ok(Some(password)) => {
                    let _ = reply.send(Some(Credentials {
                        username: None,
                        password: Some(password),
                    }));
                }
                _ => s.input(ConsoleInput::AskPassword { request, reply }),
            });
            return;
        }
        let dialog = adw::MessageDialog::builder()
            .heading(gettext("Password Required"))
            .body(gettext_f(
                "“{guest}” asks for a password ({security}).",
                &[("guest", &self.title), ("security", &request.security)],
            ))
            .transient_for(root)
            .modal(true)
            .build();
        let boxx = gtk::Box::builder()
            .orientation(gtk::Orientation::Vertical)
            .spacing(12)
            .build();
        let user = gtk::Entry::builder()
            .placeholder_text(gettext("User name"))
            .visible(request.username)
            .build();
        crate::windows::a11y::set_label(&user, &gettext("User name"));
        let pass = gtk::PasswordEntry::builder()
            .show_peek_icon(true)
            .activates_default(true)
            .build();
        crate::windows::a11y::set_label(&pass, &gettext("Password"));
        let keep = gtk::CheckButton::with_mnemonic(&gettext("_Remember in the keyring"));
        crate::windows::a11y::set_label(&keep, &gettext("Remember in the keyring"));
        boxx.append(&user);
        boxx.append(&pass);
        boxx.append(&keep);
        dialog.set_extra_child(Some(&boxx));
        dialog.add_response("cancel", &gettext("Cancel"));
        dialog.add_response("connect", &gettext("Connect"));
        dialog.set_response_appearance("connect", adw::ResponseAppearance::Suggested);
        dialog.set_default_response(Some("connect"));
        dialog.set_close_response("cancel");
        let s = sender.clone();
        let reply = std::cell::Cell::new(Some(reply));
        dialog.connect_response(None, move |_, r| {
            let Some(reply) = reply.take() else { return };
            if r != "connect" {
                let _ = reply.send(None);
                return;
            }
            let password = pass.text().to_string();
            let remember = keep.is_active().then(|| (target.clone(), password.clone()));
            let creds = Credentials {
                username: request.username.then(|| user.text().to_string()),
                password: Some(password),
            };
            let _ = reply.send(Some(creds));
            if let Some((target, password)) = remember {
                s.input(ConsoleInput::RememberPassword(target, password));
            }
        });
        dialog.present();
        crate::windows::a11y::name_buttons(&dialog);
    }
}

/// The keyvals of a release combination like "Control_L+Alt_L".
fn release_combo(spec: &str) -> Vec<gdk::Key> {
    spec.split('+').filter_map(gdk::Key::from_name).collect()
}

/// "Ctrl+Alt" for "Control_L+Alt_L".
fn combo_label(spec: &str) -> String {
    spec.split('+')
        .map(|k| match k {
            "Control_L" | "Control_R" => "Ctrl",
            "Alt_L" => "Alt",
            "Alt_R" => "AltGr",
            "Shift_L" | "Shift_R" => "Shift",
            "Super_L" | "Super_R" => "Super",
            "Escape" => "Esc",
            other => other,
        })
        .collect::<Vec<_>>()
        .join("+")
}
