//! How guest states and connections read for people, the same in every
//! window, the Shell search and the command line: always text beside an
//! icon, never colour alone. No GTK here.

use virt_manager_plugin_api::DomainState;

use crate::i18n::gettext;

pub fn state_label(state: DomainState) -> String {
    match state {
        DomainState::Running => gettext("Running"),
        DomainState::Blocked => gettext("Blocked"),
        DomainState::Paused => gettext("Paused"),
        DomainState::Shutdown => gettext("Shutting down"),
        DomainState::Shutoff => gettext("Shut off"),
        DomainState::Crashed => gettext("Crashed"),
        DomainState::Pmsuspended => gettext("Suspended"),
        DomainState::Nostate => gettext("Unknown"),
    }
}

/// Characters of the longest state label in the user's language: the
/// manager's state column is that wide, so the columns beside it line up
/// whatever the translation.
pub fn widest_state_label_chars() -> i32 {
    DomainState::ALL
        .into_iter()
        .map(|s| state_label(s).chars().count() as i32)
        .max()
        .unwrap_or(10)
}

pub fn state_icon_name(state: DomainState) -> &'static str {
    match state {
        DomainState::Running | DomainState::Blocked => "media-playback-start-symbolic",
        DomainState::Paused => "media-playback-pause-symbolic",
        DomainState::Shutdown => "system-shutdown-symbolic",
        DomainState::Shutoff => "media-playback-stop-symbolic",
        DomainState::Crashed => "dialog-error-symbolic",
        DomainState::Pmsuspended => "weather-clear-night-symbolic",
        DomainState::Nostate => "dialog-question-symbolic",
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

/// The label of a state given by its machine name ("running").
pub fn state_name_label(name: &str) -> String {
    DomainState::from_name(name)
        .map(state_label)
        .unwrap_or_else(|| name.to_owned())
}
