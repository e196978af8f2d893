//! VNC passwords in the user's Secret Service keyring (GNOME Keyring,
//! KWallet, or the portal's file keyring inside Flatpak), through oo7.
//!
//! Credentials belong to the host, never to plugins: a backend reports
//! that a console needs a password and the host asks here, then the user.
//! Items carry the attributes `application` (the app ID), `kind` (`vnc`)
//! and `target` (`vnc://HOST:PORT` for a server, `guest:UUID` for a guest
//! whose console moves between ports).
//!
//! Every call blocks (D-Bus round trips, and possibly an unlock prompt):
//! call it from a worker thread, never the GTK main thread. oo7 is async;
//! each [`Keyring`] drives it with its own single-threaded tokio runtime on
//! the calling thread, so no executor runs in the background. With no
//! keyring at all ([`CredentialError::NoKeyring`]) the user is asked for
//! the password each time instead.

use crate::i18n::{gettext, gettext_f};
use std::collections::HashMap;

use crate::config::APP_ID;

/// What a password unlocks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// A VNC server by address: shared by every way of reaching it
    /// (vnc-direct, `vnc://HOST:PORT` on the command line).
    Server { host: String, port: u16 },
    /// A guest's console by guest UUID (its port may change each boot).
    Guest { uuid: String },
}

impl Target {
    /// The `target` attribute.
    pub fn key(&self) -> String {
        match self {
            Target::Server { host, port } if host.contains(':') => format!("vnc://[{host}]:{port}"),
            Target::Server { host, port } => format!("vnc://{host}:{port}"),
            Target::Guest { uuid } => format!("guest:{}", uuid.to_ascii_lowercase()),
        }
    }

    /// The label keyring managers (Seahorse) show.
    fn label(&self) -> String {
        match self {
            Target::Server { .. } => format!("VNC password for {}", &self.key()["vnc://".len()..]),
            Target::Guest { uuid } => format!("VNC password for guest {uuid}"),
        }
    }

    fn attributes(&self) -> HashMap<&'static str, String> {
        HashMap::from([
            ("application", APP_ID.to_owned()),
            ("kind", "vnc".to_owned()),
            ("target", self.key()),
        ])
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// No Secret Service on the session bus (or no session bus): ask the
    /// user each time.
    #[error("{}", gettext_f("no keyring is available: {reason}", &[("reason", .0)]))]
    NoKeyring(String),
    /// The user dismissed the keyring's unlock prompt.
    #[error("{}", gettext("the keyring stayed locked"))]
    Locked,
    #[error("{}", gettext_f("keyring error: {reason}", &[("reason", .0)]))]
    Keyring(String),
}

impl From<oo7::Error> for CredentialError {
    fn from(e: oo7::Error) -> Self {
        match e {
            oo7::Error::DBus(oo7::dbus::Error::Dismissed) => CredentialError::Locked,
            other => CredentialError::Keyring(other.to_string()),
        }
    }
}

/// An open keyring. Blocking: use it on a worker thread.
pub struct Keyring {
    runtime: tokio::runtime::Runtime,
    // An Option so that Drop can drop it inside the runtime: oo7 closes
    // its D-Bus session by spawning a task.
    inner: Option<oo7::Keyring>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").finish_non_exhaustive()
    }
}

/// Catches a blocking call made from the GTK main thread in debug builds.
fn assert_not_main_thread() {
    debug_assert!(
        !glib::MainContext::default().is_owner(),
        "keyring calls block: make them from a worker thread"
    );
}

impl Keyring {
    /// Connects to the user's keyring.
    pub fn open() -> Result<Self, CredentialError> {
        assert_not_main_thread();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CredentialError::Keyring(format!("cannot start a runtime: {e}")))?;
        let inner = runtime
            .block_on(oo7::Keyring::new())
            .map_err(|e| CredentialError::NoKeyring(e.to_string()))?;
        Ok(Keyring {
            runtime,
            inner: Some(inner),
        })
    }

    fn run<T>(
        &self,
        op: impl AsyncFnOnce(&oo7::Keyring) -> Result<T, oo7::Error>,
    ) -> Result<T, CredentialError> {
        assert_not_main_thread();
        let keyring = self.inner.as_ref().expect("present until drop");
        self.runtime
            .block_on(async {
                if keyring.is_locked().await? {
                    keyring.unlock().await?;
                }
                op(keyring).await
            })
            .map_err(CredentialError::from)
    }

    /// Stores (or replaces) the password for `target`.
    pub fn store(&self, target: &Target, password: &str) -> Result<(), CredentialError> {
        let (label, attributes) = (target.label(), target.attributes());
        self.run(async |k| {
            k.create_item(&label, &attributes, oo7::Secret::text(password), true)
                .await
        })
    }

    /// The password for `target`, if one is stored.
    pub fn lookup(&self, target: &Target) -> Result<Option<String>, CredentialError> {
        let attributes = target.attributes();
        let secret = self.run(async |k| match k.search_items(&attributes).await?.first() {
            Some(item) => Ok(Some(item.secret().await?)),
            None => Ok(None),
        })?;
        secret
            .map(|s| {
                String::from_utf8(s.as_bytes().to_vec())
                    .map_err(|_| CredentialError::Keyring("the stored password is not text".into()))
            })
            .transpose()
    }

    /// Forgets the password for `target` (nothing to forget is fine).
    pub fn delete(&self, target: &Target) -> Result<(), CredentialError> {
        let attributes = target.attributes();
        self.run(async |k| k.delete(&attributes).await)
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        let _inside = self.runtime.enter();
        self.inner.take();
    }
}

/// [`Keyring::store`] on a freshly opened keyring. Blocking.
pub fn store_password(target: &Target, password: &str) -> Result<(), CredentialError> {
    Keyring::open()?.store(target, password)
}

/// [`Keyring::lookup`] on a freshly opened keyring. Blocking.
pub fn lookup_password(target: &Target) -> Result<Option<String>, CredentialError> {
    Keyring::open()?.lookup(target)
}

/// [`Keyring::delete`] on a freshly opened keyring. Blocking.
pub fn delete_password(target: &Target) -> Result<(), CredentialError> {
    Keyring::open()?.delete(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_keys() {
        let server = |host: &str| Target::Server {
            host: host.into(),
            port: 5901,
        };
        assert_eq!(server("example.org").key(), "vnc://example.org:5901");
        assert_eq!(server("::1").key(), "vnc://[::1]:5901");
        assert_eq!(server("::1").label(), "VNC password for [::1]:5901");
        let guest = Target::Guest { uuid: "ABC".into() };
        assert_eq!(guest.key(), "guest:abc");
        assert_eq!(guest.attributes()["application"], APP_ID);
    }
}
