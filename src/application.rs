//! The GtkApplication: single instance, command line, actions, the D-Bus
//! service, and the engine's message loop on the main thread.
//!
//! A second `virt-manager` with window options (or none) does not start a
//! second application: GApplication forwards its command line to the
//! running one, whose `command-line` handler turns it into engine
//! requests. Subcommands (`list`, `plugins`, ...) never get here.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use clap::Parser;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk::{gio, glib};

use crate::cli::Cli;
use crate::config;
use crate::engine::{Engine, EngineMsg, ShowWhat};
use crate::plugin_host::PluginRegistry;
use crate::settings::Settings;

/// How long a D-Bus activated instance with no window waits for calls
/// before it exits.
const SERVICE_IDLE_MS: u32 = 60_000;

/// Without a GPU render node Mesa's GL is llvmpipe, on which GTK 4.8's GL
/// renderer repaints a whole window in software at 8 to 10 frames a second
/// (tools/bench-console.sh); its cairo renderer keeps the console at the
/// server's frame rate. The user's own GSK_RENDERER always wins. Runs
/// before GTK starts and before any thread exists.
fn choose_renderer() {
    if std::env::var_os("GSK_RENDERER").is_some() {
        return;
    }
    let render_node = std::fs::read_dir("/dev/dri").is_ok_and(|dir| {
        dir.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    });
    if !render_node {
        tracing::debug!("no GPU render node: using the cairo renderer");
        std::env::set_var("GSK_RENDERER", "cairo");
    }
}

pub fn run(service: bool) -> glib::ExitCode {
    choose_renderer();
    gio::resources_register_include!("resources.gresource")
        .expect("the resource bundle is built in");

    let mut flags = gio::ApplicationFlags::HANDLES_COMMAND_LINE;
    if service {
        flags |= gio::ApplicationFlags::IS_SERVICE;
    }
    let app = adw::Application::builder()
        .application_id(config::APP_ID)
        .flags(flags)
        .resource_base_path(config::RESOURCE_BASE)
        .build();
    if service {
        app.set_inactivity_timeout(SERVICE_IDLE_MS);
    }
    let (sender, receiver) = relm4::channel::<EngineMsg>();

    // SSH's questions (qemu+ssh://) come to the app's dialogs. Set up
    // before any thread exists: it sets SSH_ASKPASS in the environment.
    {
        let s = sender.clone();
        let served = crate::askpass::serve(move |prompt| {
            let (tx, rx) = std::sync::mpsc::channel();
            s.emit(EngineMsg::AskPass { prompt, reply: tx });
            rx.recv().ok().flatten()
        });
        if let Err(e) = served {
            tracing::warn!("no SSH password prompts in the app: {e}");
        }
    }
    let engine: Rc<RefCell<Option<Engine>>> = Rc::new(RefCell::new(None));

    {
        let engine = engine.clone();
        let sender = sender.clone();
        app.connect_startup(move |app| {
            relm4::gtk::Window::set_default_icon_name(config::APP_ID);
            *engine.borrow_mut() = Some(Engine::new(
                app.clone(),
                sender.clone(),
                Settings::new(),
                service,
            ));
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

            // The public API, on a thread of its own.
            let dbus_sender = sender.clone();
            std::thread::Builder::new()
                .name("dbus-service".into())
                .spawn(move || crate::dbus::serve(dbus_sender))
                .expect("spawning the D-Bus service");

            if service {
                // Activated by a call: connect so that the call finds guests.
                sender.emit(EngineMsg::Startup { explicit: None });
            }
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
            match Cli::try_parse_from(&args) {
                Ok(cli) => handle_command_line(&cli, &sender),
                // main() parsed its own arguments already; this is a
                // forwarded command line from another instance.
                Err(e) => tracing::warn!("ignoring a command line: {e}"),
            }
            // The manager opens unless only a console was asked for.
            if !only_console(&args) {
                app.activate();
            }
            0.into()
        });
    }

    {
        let sender = sender.clone();
        app.connect_activate(move |_| sender.emit(EngineMsg::ShowManager));
    }

    let args: Vec<String> = std::env::args()
        .filter(|a| a != "--gapplication-service")
        .collect();
    app.run_with_args(&args)
}

/// True for a command line that asks for a console on a URL and nothing else.
fn only_console(args: &[String]) -> bool {
    Cli::try_parse_from(args).is_ok_and(|c| c.url.is_some() && c.connect.is_none() && !c.demo)
}

/// Turns window options into engine requests.
fn handle_command_line(cli: &Cli, sender: &relm4::Sender<EngineMsg>) {
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
    let uri = explicit.as_ref().and_then(|c| c.first().cloned());
    // A console on a URL alone opens no connection (as remote-viewer).
    if cli.url.is_none() || explicit.is_some() {
        sender.emit(EngineMsg::Startup { explicit });
    }
    let shows = [
        (&cli.show_domain_console, ShowWhat::Console),
        (&cli.show_domain_editor, ShowWhat::Details),
        (&cli.show_domain_performance, ShowWhat::Performance),
    ];
    for (guest, what) in shows {
        if let Some(guest) = guest {
            sender.emit(EngineMsg::Show {
                uri: uri.clone(),
                guest: Some(guest.clone()),
                what,
            });
        }
    }
    if let Some((host, port)) = cli
        .url
        .as_deref()
        .and_then(|u| crate::uri::parse_vnc_url(u).ok())
    {
        sender.emit(EngineMsg::OpenVncUrl { host, port });
    }
    if cli.show_host_summary {
        sender.emit(EngineMsg::Show {
            uri,
            guest: None,
            what: ShowWhat::HostSummary,
        });
    }
}

fn install_actions(app: &adw::Application, sender: &relm4::Sender<EngineMsg>) {
    let simple = |name: &str, msg: fn() -> EngineMsg| {
        let action = gio::SimpleAction::new(name, None);
        let s = sender.clone();
        action.connect_activate(move |_, _| s.emit(msg()));
        app.add_action(&action);
    };
    simple("about", || EngineMsg::ShowAbout);
    simple("new-connection", || EngineMsg::ShowConnect);
    simple("preferences", || EngineMsg::ShowPreferences);

    let quit = gio::SimpleAction::new("quit", None);
    let a = app.clone();
    quit.connect_activate(move |_, _| a.quit());
    app.add_action(&quit);

    for (action, accels) in [
        ("app.new-connection", &["<Control>n"][..]),
        ("app.preferences", &["<Control>comma"]),
        ("app.quit", &["<Control>q"]),
        ("win.search", &["<Control>f"]),
        ("win.guest-details", &["<Control>d"]),
        ("win.guest-run", &["<Control>r"]),
        ("win.guest-pause", &["<Control>p"]),
        ("win.guest-shutdown", &["<Control><Shift>s"]),
        ("win.show-help-overlay", &["<Control>question"]),
        ("win.guest-menu", &["<Shift>F10", "Menu"]),
    ] {
        app.set_accels_for_action(action, accels);
    }
}
