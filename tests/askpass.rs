//! SSH_ASKPASS served by the application: ssh's questions (passwords,
//! unknown host keys) reach the user in the app's dialogs. The helper is
//! run here as ssh runs it, and answered through AT-SPI.

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::{wait_for, RunningApp};

/// The socket the running app listens on for askpass questions.
fn socket(app: &RunningApp) -> std::path::PathBuf {
    let dir = app.home.path().join("runtime/virt-manager");
    wait_for(Duration::from_secs(10), || {
        std::fs::read_dir(&dir)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("askpass-"))
            })
    })
    .expect("the app serves askpass")
}

/// Runs `virt-manager PROMPT` as ssh would, in the background.
fn helper(app: &RunningApp, prompt: &str) -> std::thread::JoinHandle<Output> {
    let mut cmd = Command::new(common::bin());
    cmd.arg(prompt)
        .env("VIRT_MANAGER_ASKPASS_SOCKET", socket(app));
    std::thread::spawn(move || cmd.output().unwrap())
}

#[test]
fn passwords_and_host_keys_are_asked_in_the_app() {
    let app = RunningApp::start("askpass", &["--demo"]);

    // A password: typed into the app's dialog, printed by the helper.
    let h = helper(&app, "root@example.org's password: ");
    assert!(
        app.atspi("password text", "Password", "set-text=s3cret", 20),
        "a password dialog"
    );
    assert!(app.atspi("push button", "Connect|Connect Connect", "click", 10));
    let out = h.join().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "s3cret\n");

    // An unknown host key: a question with its own buttons; "yes".
    let prompt = "The authenticity of host 'example.org' can't be established.\n\
                  Are you sure you want to continue connecting (yes/no/[fingerprint])? ";
    let h = helper(&app, prompt);
    assert!(app.atspi(
        "push button",
        "Trust and Connect|Trust and Connect Trust and Connect",
        "click",
        20
    ));
    let out = h.join().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "yes\n");

    // Cancelled: the helper fails, so ssh gives up.
    let h = helper(&app, "root@example.org's password: ");
    assert!(app.atspi("push button", "Cancel|Cancel Cancel", "click", 20));
    let out = h.join().unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}
