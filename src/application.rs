//! The GtkApplication: single instance, command line, actions, and the
//! engine's message loop on the main thread.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use clap::Parser;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk::{gio, glib};

use crate::cli::Cli;
use crate::config;
use crate::engine::{Engine, EngineMsg};
use crate::plugin_host::PluginRegistry;
use crate::settings::Settings;

pub fn run() -> glib::ExitCode {
    gio::resources_register_include!("resources.gresource")
        .expect("the resource bundle is built in");

    let app = adw::Application::builder()
        .application_id(config::APP_ID)
        .flags(gio::ApplicationFlags::HANDLES_COMMAND_LINE)
        .resource_base_path(config::RESOURCE_BASE)
        .build();
    let (sender, receiver) = relm4::channel::<EngineMsg>();
    let engine: Rc<RefCell<Option<Engine>>> = Rc::new(RefCell::new(None));

    {
        let engine = engine.clone();
        let sender = sender.clone();
        app.connect_startup(move |app| {
            relm4::gtk::Window::set_default_icon_name(config::APP_ID);
            *engine.borrow_mut() = Some(Engine::new(app.clone(), sender.clone(), Settings::new()));
            install_actions(app, &sender);

            // Loading plugins opens libraries: not on the main thread.
            let plugin_sender = sender.clone();
            std::thread::Builder::new()
                .name("plugin-scan".into())
                .spawn(move || {
                    let registry = PluginRegistry::discover();
                    plugin_sender.emit(EngineMsg::PluginsLoaded(Arc::new(registry)));
                })
                .expect("spawning the plugin scan");
        });
    }

    {
        let engine = engine.clone();
        relm4::spawn_local(async move {
            while let Some(msg) = receiver.recv().await {
                if let Some(engine) = engine.borrow_mut().as_mut() {
                    engine.update(msg);
                }
            }
        });
    }

    {
        let sender = sender.clone();
        app.connect_command_line(move |app, cmdline| {
            let args: Vec<String> = cmdline
                .arguments()
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            let cli = match Cli::try_parse_from(&args) {
                Ok(cli) => cli,
                Err(e) => {
                    // main() parsed the same arguments already; this is a
                    // forwarded command line from another instance.
                    tracing::warn!("ignoring a command line: {e}");
                    return 1.into();
                }
            };
            let explicit = match (&cli.connect, cli.demo) {
                (None, false) => None,
                (connect, demo) => match crate::demo::candidate_uris(connect.as_deref(), demo) {
                    Ok(candidates) => Some(candidates),
                    Err(e) => {
                        tracing::error!("cannot prepare the demo host: {e}");
                        None
                    }
                },
            };
            sender.emit(EngineMsg::Startup { explicit });
            app.activate();
            0.into()
        });
    }

    {
        let sender = sender.clone();
        app.connect_activate(move |_| sender.emit(EngineMsg::ShowManager));
    }

    let args: Vec<String> = std::env::args().collect();
    app.run_with_args(&args)
}

fn install_actions(app: &adw::Application, sender: &relm4::Sender<EngineMsg>) {
    let about = gio::SimpleAction::new("about", None);
    let s = sender.clone();
    about.connect_activate(move |_, _| s.emit(EngineMsg::ShowAbout));
    app.add_action(&about);

    let new_connection = gio::SimpleAction::new("new-connection", None);
    let s = sender.clone();
    new_connection.connect_activate(move |_, _| s.emit(EngineMsg::ShowConnect));
    app.add_action(&new_connection);
    app.set_accels_for_action("app.new-connection", &["<Control>n"]);

    let preferences = gio::SimpleAction::new("preferences", None);
    let s = sender.clone();
    preferences.connect_activate(move |_, _| s.emit(EngineMsg::ShowPreferences));
    app.add_action(&preferences);
    app.set_accels_for_action("app.preferences", &["<Control>comma"]);

    let quit = gio::SimpleAction::new("quit", None);
    let a = app.clone();
    quit.connect_activate(move |_, _| a.quit());
    app.add_action(&quit);
    app.set_accels_for_action("app.quit", &["<Control>q"]);
    app.set_accels_for_action("win.search", &["<Control>f"]);
    app.set_accels_for_action("win.guest-details", &["<Control>d"]);
    app.set_accels_for_action("win.guest-run", &["<Control>r"]);
    app.set_accels_for_action("win.guest-pause", &["<Control>p"]);
    app.set_accels_for_action("win.guest-shutdown", &["<Control><Shift>s"]);
    app.set_accels_for_action("win.show-help-overlay", &["<Control>question"]);
    app.set_accels_for_action("win.guest-menu", &["<Shift>F10", "Menu"]);
}
