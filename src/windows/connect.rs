//! The connect dialog (the seed's connect.py): choose a hypervisor, local
//! or over SSH, or type a URI; see the URI as it is built; connect. A
//! connection that fails shows the backend's reason here and keeps what was
//! typed; one that works is remembered (GSettings) by the engine.

use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::gtk::glib;
use relm4::prelude::*;

use crate::i18n::{gettext, gettext_f};

/// One choice of the Hypervisor list.
#[derive(Clone, Debug)]
pub struct Preset {
    pub label: String,
    pub uri: String,
    pub remote_ssh: bool,
}

pub struct ConnectInit {
    /// Choices from every loaded backend.
    pub presets: Vec<Preset>,
}

#[derive(Debug)]
pub enum ConnectInput {
    Changed,
    /// The user typed in the URI entry: it becomes a custom URI.
    UriTyped,
    Connect,
    /// How the connection attempt ended.
    Outcome(Result<(), String>),
    Close,
}

#[derive(Debug)]
pub enum ConnectOutput {
    Connect { uri: String, autoconnect: bool },
    Closed,
}

pub struct ConnectDialog {
    presets: Vec<Preset>,
    /// Set while the dialog itself writes the URI entry.
    writing_uri: std::rc::Rc<std::cell::Cell<bool>>,
    uri: Result<String, String>,
    connecting: bool,
    error: Option<String>,
}

pub struct ConnectWidgets {
    hypervisor: adw::ComboRow,
    custom: adw::EntryRow,
    remote: adw::ExpanderRow,
    user: adw::EntryRow,
    host: adw::EntryRow,
    port: adw::EntryRow,
    autoconnect: gtk::Switch,
    error: gtk::Label,
    connect: gtk::Button,
    spinner: gtk::Spinner,
}

impl ConnectDialog {
    /// The URI the form describes, or why it does not describe one.
    fn build_uri(&self, w: &ConnectWidgets) -> Result<String, String> {
        let idx = w.hypervisor.selected() as usize;
        let Some(preset) = self.presets.get(idx) else {
            let typed = w.custom.text().trim().to_owned();
            crate::uri::validate(&typed)?;
            return Ok(typed);
        };
        if preset.remote_ssh && w.remote.enables_expansion() {
            let port = match w.port.text().trim() {
                "" => None,
                p => Some(
                    p.parse::<u16>()
                        .map_err(|_| gettext_f("“{port}” is not a port number", &[("port", p)]))?,
                ),
            };
            return crate::uri::ssh_uri(&preset.uri, &w.user.text(), &w.host.text(), port);
        }
        Ok(preset.uri.clone())
    }
}

impl Component for ConnectDialog {
    type Init = ConnectInit;
    type Input = ConnectInput;
    type Output = ConnectOutput;
    type CommandOutput = ();
    type Root = adw::Window;
    type Widgets = ConnectWidgets;

    fn init_root() -> Self::Root {
        adw::Window::builder()
            .title(gettext("Add Connection"))
            .default_width(480)
            .default_height(540)
            .width_request(360)
            .modal(true)
            .destroy_with_parent(true)
            .build()
    }

    fn init(
        init: Self::Init,
        root: Self::Root,
        sender: ComponentSender<Self>,
    ) -> ComponentParts<Self> {
        let cancel = gtk::Button::builder()
            .label(gettext("_Cancel"))
            .use_underline(true)
            .build();
        let connect = gtk::Button::builder()
            .label(gettext("C_onnect"))
            .use_underline(true)
            .css_classes(["suggested-action"])
            .build();
        let spinner = gtk::Spinner::builder().visible(false).build();
        let header = adw::HeaderBar::builder()
            .show_end_title_buttons(false)
            .show_start_title_buttons(false)
            .title_widget(&adw::WindowTitle::new(&gettext("Add Connection"), ""))
            .build();
        header.pack_start(&cancel);
        header.pack_end(&connect);
        header.pack_end(&spinner);

        let page = adw::PreferencesPage::new();
        let group = adw::PreferencesGroup::new();
        let mut labels: Vec<String> = init.presets.iter().map(|p| p.label.clone()).collect();
        labels.push(gettext("Custom URI"));
        let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        let hypervisor = adw::ComboRow::builder()
            .title(gettext("_Hypervisor"))
            .use_underline(true)
            .model(&gtk::StringList::new(&label_refs))
            .build();
        group.add(&hypervisor);
        // The URI as built, always shown and editable: typing in it makes
        // it a custom URI.
        let custom = adw::EntryRow::builder()
            .title(gettext("_URI"))
            .use_underline(true)
            .build();
        group.add(&custom);
        page.add(&group);

        let remote_group = adw::PreferencesGroup::new();
        let remote = adw::ExpanderRow::builder()
            .title(gettext("Connect to a _Remote Host over SSH"))
            .use_underline(true)
            .show_enable_switch(true)
            .enable_expansion(false)
            .build();
        let user = adw::EntryRow::builder()
            .title(gettext("User Name"))
            .text("root")
            .build();
        let host = adw::EntryRow::builder().title(gettext("Host Name")).build();
        let port = adw::EntryRow::builder()
            .title(gettext("SSH Port (optional)"))
            .input_purpose(gtk::InputPurpose::Digits)
            .build();
        remote.add_row(&user);
        remote.add_row(&host);
        remote.add_row(&port);
        remote_group.add(&remote);
        page.add(&remote_group);

        let options = adw::PreferencesGroup::new();
        let autoconnect = gtk::Switch::builder().valign(gtk::Align::Center).build();
        let auto_row = adw::ActionRow::builder()
            .title(gettext("Connect _Automatically"))
            .subtitle(gettext("At start, and again when the connection drops"))
            .use_underline(true)
            .activatable_widget(&autoconnect)
            .build();
        auto_row.add_suffix(&autoconnect);
        options.add(&auto_row);
        page.add(&options);

        let summary = adw::PreferencesGroup::new();
        let error = gtk::Label::builder()
            .xalign(0.0)
            .wrap(true)
            .selectable(true)
            .css_classes(["error"])
            .visible(false)
            .build();
        let sbox = gtk::Box::builder()
            .orientation(gtk::Orientation::Vertical)
            .spacing(6)
            .build();
        sbox.append(&error);
        summary.add(&sbox);
        page.add(&summary);

        let content = gtk::Box::builder()
            .orientation(gtk::Orientation::Vertical)
            .build();
        content.append(&header);
        content.append(&page);
        root.set_content(Some(&content));
        root.set_default_widget(Some(&connect));

        let writing_uri = std::rc::Rc::new(std::cell::Cell::new(false));
        let changed = |s: &ComponentSender<Self>| {
            let s = s.clone();
            move || s.input(ConnectInput::Changed)
        };
        {
            let f = changed(&sender);
            hypervisor.connect_selected_notify(move |_| f());
            let f = changed(&sender);
            remote.connect_enable_expansion_notify(move |_| f());
            for entry in [&user, &host, &port] {
                let f = changed(&sender);
                entry.connect_changed(move |_| f());
            }
            let s = sender.clone();
            let writing = writing_uri.clone();
            custom.connect_changed(move |_| {
                if !writing.get() {
                    s.input(ConnectInput::UriTyped);
                }
            });
            let s = sender.clone();
            connect.connect_clicked(move |_| s.input(ConnectInput::Connect));
            let s = sender.clone();
            custom.connect_entry_activated(move |_| s.input(ConnectInput::Connect));
            let s = sender.clone();
            host.connect_entry_activated(move |_| s.input(ConnectInput::Connect));
            let r = root.clone();
            cancel.connect_clicked(move |_| r.close());
            let s = sender.clone();
            root.connect_close_request(move |_| {
                s.input(ConnectInput::Close);
                glib::Propagation::Proceed
            });
        }

        let model = ConnectDialog {
            presets: init.presets,
            writing_uri,
            uri: Err(String::new()),
            connecting: false,
            error: None,
        };
        let widgets = ConnectWidgets {
            hypervisor,
            custom,
            remote,
            user,
            host,
            port,
            autoconnect,
            error,
            connect,
            spinner,
        };
        sender.input(ConnectInput::Changed);
        crate::windows::a11y::name_buttons(&root);
        ComponentParts { model, widgets }
    }

    fn update_with_view(
        &mut self,
        w: &mut Self::Widgets,
        msg: Self::Input,
        sender: ComponentSender<Self>,
        root: &Self::Root,
    ) {
        match msg {
            ConnectInput::Changed => {
                let preset = self.presets.get(w.hypervisor.selected() as usize);
                w.remote.set_sensitive(preset.is_some_and(|p| p.remote_ssh));
                self.uri = self.build_uri(w);
                // Show the URI as it is built (not for a custom one: that
                // is what the user typed).
                if preset.is_some() {
                    if let Ok(uri) = &self.uri {
                        self.writing_uri.set(true);
                        w.custom.set_text(uri);
                        self.writing_uri.set(false);
                    }
                }
                self.error = None;
            }
            ConnectInput::UriTyped => {
                let custom = self.presets.len() as u32;
                if w.hypervisor.selected() != custom {
                    // Switching the combo fires Changed; the text stays.
                    w.hypervisor.set_selected(custom);
                }
                self.uri = self.build_uri(w);
                self.error = None;
            }
            ConnectInput::Connect => {
                if let (Ok(uri), false) = (&self.uri, self.connecting) {
                    self.connecting = true;
                    self.error = None;
                    let _ = sender.output(ConnectOutput::Connect {
                        uri: uri.clone(),
                        autoconnect: w.autoconnect.is_active(),
                    });
                }
            }
            ConnectInput::Outcome(Ok(())) => {
                self.connecting = false;
                root.close();
            }
            ConnectInput::Outcome(Err(reason)) => {
                self.connecting = false;
                self.error = Some(reason);
            }
            ConnectInput::Close => {
                let _ = sender.output(ConnectOutput::Closed);
            }
        }
        // Why the form is not a URI yet, under the entry.
        if let (Err(why), None) = (&self.uri, &self.error) {
            w.error.set_label(why);
            w.error.set_visible(!why.is_empty());
        }
        match &self.error {
            Some(reason) => {
                w.error.set_label(&gettext_f(
                    "Could not connect: {reason}",
                    &[("reason", reason)],
                ));
                w.error.set_visible(true);
            }
            None if self.uri.is_ok() => w.error.set_visible(false),
            None => {}
        }
        w.connect
            .set_sensitive(self.uri.is_ok() && !self.connecting);
        w.spinner.set_visible(self.connecting);
        w.spinner.set_spinning(self.connecting);
    }
}
