//! Dialogs that ask the user for credentials on behalf of a connection:
//! a backend's questions (SASL user name and password) and SSH's
//! (passwords, passphrases, unknown host keys) through the askpass helper.

use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use virt_manager_plugin_api::CredentialQuestions;

use crate::i18n::{gettext, gettext_f};

/// Asks every prompt of `questions`; `done(None)` when the user cancels.
pub fn ask_backend(
    parent: Option<&gtk::Window>,
    q: CredentialQuestions,
    done: impl FnOnce(Option<Vec<String>>) + 'static,
) {
    let dialog = adw::MessageDialog::builder()
        .heading(gettext("Authentication Required"))
        .body(gettext_f(
            "{uri} asks for credentials.",
            &[("uri", &crate::labels::display_uri(&q.uri))],
        ))
        .modal(true)
        .build();
    if let Some(p) = parent {
        dialog.set_transient_for(Some(p));
    }
    let boxx = gtk::Box::builder()
        .orientation(gtk::Orientation::Vertical)
        .spacing(12)
        .build();
    let mut entries: Vec<gtk::Editable> = Vec::new();
    for p in &q.prompts {
        let label = if p.prompt.is_empty() {
            p.kind.clone()
        } else {
            p.prompt.trim_end_matches(':').to_owned()
        };
        let title = gtk::Label::builder()
            .label(&label)
            .xalign(0.0)
            .wrap(true)
            .build();
        boxx.append(&title);
        let entry: gtk::Editable = if p.secret() {
            gtk::PasswordEntry::builder()
                .show_peek_icon(true)
                .activates_default(true)
                .build()
                .upcast()
        } else {
            gtk::Entry::builder()
                .text(&p.default)
                .activates_default(true)
                .build()
                .upcast()
        };
        crate::windows::a11y::set_label(&entry, &label);
        boxx.append(&entry);
        entries.push(entry);
    }
    dialog.set_extra_child(Some(&boxx));
    dialog.add_response("cancel", &gettext("Cancel"));
    dialog.add_response("ok", &gettext("Connect"));
    dialog.set_response_appearance("ok", adw::ResponseAppearance::Suggested);
    dialog.set_default_response(Some("ok"));
    dialog.set_close_response("cancel");
    let done = std::cell::Cell::new(Some(done));
    dialog.connect_response(None, move |_, r| {
        if let Some(done) = done.take() {
            done((r == "ok").then(|| entries.iter().map(|e| e.text().to_string()).collect()));
        }
    });
    dialog.present();
    crate::windows::a11y::name_buttons(&dialog);
}

/// Answers one SSH askpass prompt: a yes/no question (an unknown host
/// key) gets buttons; anything else (a password) an entry.
pub fn ask_ssh(
    parent: Option<&gtk::Window>,
    prompt: &str,
    done: impl FnOnce(Option<String>) + 'static,
) {
    let question = prompt.contains("(yes/no");
    let dialog = adw::MessageDialog::builder()
        .heading(if question {
            gettext("Unknown Host")
        } else {
            gettext("SSH Authentication")
        })
        .body(prompt.trim())
        .modal(true)
        .build();
    if let Some(p) = parent {
        dialog.set_transient_for(Some(p));
    }
    let entry = (!question).then(|| {
        let e = gtk::PasswordEntry::builder()
            .show_peek_icon(true)
            .activates_default(true)
            .build();
        crate::windows::a11y::set_label(&e, &gettext("Password"));
        dialog.set_extra_child(Some(&e));
        e
    });
    dialog.add_response("cancel", &gettext("Cancel"));
    dialog.add_response(
        "ok",
        &if question {
            gettext("Trust and Connect")
        } else {
            gettext("Connect")
        },
    );
    dialog.set_response_appearance(
        "ok",
        if question {
            adw::ResponseAppearance::Destructive
        } else {
            adw::ResponseAppearance::Suggested
        },
    );
    dialog.set_default_response(Some(if question { "cancel" } else { "ok" }));
    dialog.set_close_response("cancel");
    let done = std::cell::Cell::new(Some(done));
    dialog.connect_response(None, move |_, r| {
        if let Some(done) = done.take() {
            let answer = (r == "ok").then(|| match &entry {
                Some(e) => e.text().to_string(),
                None => "yes".to_owned(),
            });
            done(answer);
        }
    });
    dialog.present();
    crate::windows::a11y::name_buttons(&dialog);
}
