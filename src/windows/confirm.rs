//! Confirmations before actions that lose work: forcing a guest off,
//! pausing it, deleting it. Each can be turned off in the preferences.

use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;

use crate::i18n::{gettext, gettext_f};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirm {
    ForceOff,
    Pause,
    Delete,
}

impl Confirm {
    /// The GSettings key that turns this confirmation on or off.
    pub fn settings_key(self) -> &'static str {
        match self {
            Confirm::ForceOff => "confirm-force-off",
            Confirm::Pause => "confirm-pause",
            Confirm::Delete => "confirm-delete",
        }
    }
}

/// Asks the user; `done(Some(delete_storage))` when they agree (the flag
/// only means something for Delete), `done(None)` when they decline.
pub fn ask(
    parent: Option<&gtk::Window>,
    kind: Confirm,
    guest: &str,
    done: impl FnOnce(Option<bool>) + 'static,
) {
    let (heading, body, verb) = match kind {
        Confirm::ForceOff => (
            gettext_f("Force “{guest}” Off?", &[("guest", guest)]),
            gettext("The guest stops at once, as if its power cable were pulled. Unsaved work in it is lost."),
            gettext("Force Off"),
        ),
        Confirm::Pause => (
            gettext_f("Pause “{guest}”?", &[("guest", guest)]),
            gettext("The guest stops running until it is resumed. Its network connections may time out."),
            gettext("Pause"),
        ),
        Confirm::Delete => (
            gettext_f("Delete “{guest}”?", &[("guest", guest)]),
            gettext("The guest's configuration is removed from the host. This cannot be undone."),
            gettext("Delete"),
        ),
    };
    let dialog = adw::MessageDialog::builder()
        .heading(heading)
        .body(body)
        .modal(true)
        .build();
    if let Some(p) = parent {
        dialog.set_transient_for(Some(p));
    }
    // No mnemonics: GTK 4.8 would read "_Cancel Cancel" to screen readers;
    // Escape and Enter answer the dialog from the keyboard.
    dialog.add_response("cancel", &gettext("Cancel"));
    dialog.add_response("confirm", &verb);
    let appearance = if kind == Confirm::Pause {
        adw::ResponseAppearance::Suggested
    } else {
        adw::ResponseAppearance::Destructive
    };
    dialog.set_response_appearance("confirm", appearance);
    dialog.set_default_response(Some("cancel"));
    dialog.set_close_response("cancel");

    let storage = (kind == Confirm::Delete).then(|| {
        let check = gtk::CheckButton::with_mnemonic(&gettext("Also delete its _storage files"));
        crate::windows::a11y::set_label(&check, &gettext("Also delete its storage files"));
        dialog.set_extra_child(Some(&check));
        check
    });
    let done = std::cell::Cell::new(Some(done));
    dialog.connect_response(None, move |_, response| {
        if let Some(done) = done.take() {
            let storage = storage.as_ref().is_some_and(|c| c.is_active());
            done((response == "confirm").then_some(storage));
        }
    });
    dialog.present();
    crate::windows::a11y::name_buttons(&dialog);
}
