//! Opening connections that need credentials (SASL user names and
//! passwords): libvirt's auth callback asks the user through the host's
//! `ask_credentials`, which shows the application's own dialog. Polkit is
//! answered by the desktop's agent; SSH passwords and host keys by the
//! application's SSH_ASKPASS helper.

use std::cell::RefCell;

use virt::connect::{Connect, ConnectAuth, ConnectCredential};
use virt::error::Error;
use virt_manager_plugin_api::{ask_credentials, CredentialPrompt, CredentialQuestions};
use virt_sys as sys;

thread_local! {
    /// The URI being opened on this thread: the callback is a plain
    /// function, called synchronously during `open_auth`.
    static OPENING: RefCell<String> = const { RefCell::new(String::new()) };
}

fn kind(typed: i32) -> &'static str {
    match typed as u32 {
        sys::VIR_CRED_USERNAME => "username",
        sys::VIR_CRED_AUTHNAME => "authname",
        sys::VIR_CRED_PASSPHRASE => "passphrase",
        sys::VIR_CRED_ECHOPROMPT => "echo",
        sys::VIR_CRED_NOECHOPROMPT => "noecho",
        sys::VIR_CRED_REALM => "realm",
        _ => "echo",
    }
}

/// libvirt's credential callback: one question set, answered or not.
// The virt crate fixes this signature.
#[allow(clippy::ptr_arg)]
fn callback(creds: &mut Vec<ConnectCredential>) {
    let uri = OPENING.with(|u| u.borrow().clone());
    let questions = CredentialQuestions {
        uri,
        prompts: creds
            .iter()
            .map(|c| CredentialPrompt {
                kind: kind(c.typed).to_owned(),
                prompt: c.prompt.clone(),
                challenge: c.challenge.clone(),
                default: c.def_result.clone(),
            })
            .collect(),
    };
    match ask_credentials(&questions) {
        Ok(answers) => {
            for (c, a) in creds.iter_mut().zip(answers) {
                c.result = Some(a);
            }
        }
        // Unanswered: libvirt fails the open with its own message.
        Err(e) => log::info!("credentials for {}: {e}", questions.uri),
    }
}

/// Opens `uri`, asking the user for credentials if the driver wants any.
pub fn open(uri: &str) -> Result<Connect, Error> {
    let creds = vec![
        sys::VIR_CRED_AUTHNAME,
        sys::VIR_CRED_USERNAME,
        sys::VIR_CRED_PASSPHRASE,
        sys::VIR_CRED_ECHOPROMPT,
        sys::VIR_CRED_NOECHOPROMPT,
        sys::VIR_CRED_REALM,
    ];
    let mut auth = ConnectAuth::new(creds, callback);
    OPENING.with(|u| *u.borrow_mut() = uri.to_owned());
    let result = Connect::open_auth(Some(uri), &mut auth, 0);
    OPENING.with(|u| u.borrow_mut().clear());
    result
}
