//! How guest states read and look in every window: always text beside the
//! icon, never colour alone.

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
