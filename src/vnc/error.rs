//! What can go wrong on an RFB connection, worded for the user: every
//! variant reads as one clear, translated line (the console window shows
//! it; the CLI prints it as is).

use std::fmt;

use crate::i18n::{gettext, gettext_f};

/// An RFB connection failed, or a server broke the protocol.
#[derive(Debug, thiserror::Error)]
pub enum VncError {
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    Io(#[from] std::io::Error),
    /// The server closed the connection where the protocol does not allow
    /// it (`during` says where, e.g. "during the handshake", marked with
    /// `gettext_noop` where it is made).
    Closed {
        during: &'static str,
    },
    Timeout(&'static str),
    NotRfb(String),
    Refused(String),
    UnsupportedSecurity {
        offered: String,
    },
    AuthFailed(String),
    Cancelled(&'static str),
    Tls(String),
    Untrusted(String),
    Protocol(String),
    Limit(String),
    NoDecoder {
        encoding: String,
    },
    Decode {
        encoding: String,
        message: String,
    },
}

impl fmt::Display for VncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            VncError::Connect { addr, source } => gettext_f(
                "cannot connect to {addr}: {reason}",
                &[("addr", addr), ("reason", &source.to_string())],
            ),
            VncError::Io(e) => gettext_f("connection error: {reason}", &[("reason", &e.to_string())]),
            VncError::Closed { during } => gettext_f(
                "the server closed the connection {during}",
                &[("during", &gettext(*during))],
            ),
            VncError::Timeout(what) => gettext_f("timed out {what}", &[("what", &gettext(*what))]),
            VncError::NotRfb(greeting) => gettext_f(
                "not a VNC server (it greeted with {greeting})",
                &[("greeting", &format!("{greeting:?}"))],
            ),
            VncError::Refused(reason) => gettext_f(
                "the server refused the connection: {reason}",
                &[("reason", reason)],
            ),
            VncError::UnsupportedSecurity { offered } => gettext_f(
                "no security type in common: the server offers {offered}; this client supports None, VNC password and VeNCrypt",
                &[("offered", offered)],
            ),
            VncError::AuthFailed(reason) => {
                gettext_f("authentication failed: {reason}", &[("reason", reason)])
            }
            VncError::Cancelled(what) => gettext_f(
                "authentication cancelled: no {what} given",
                &[("what", &gettext(*what))],
            ),
            VncError::Tls(reason) => gettext_f("TLS failed: {reason}", &[("reason", reason)]),
            VncError::Untrusted(reason) => gettext_f(
                "the server's certificate is not trusted: {reason}",
                &[("reason", reason)],
            ),
            VncError::Protocol(reason) => {
                gettext_f("protocol error: {reason}", &[("reason", reason)])
            }
            VncError::Limit(reason) => {
                gettext_f("the server exceeded a limit: {reason}", &[("reason", reason)])
            }
            VncError::NoDecoder { encoding } => gettext_f(
                "the server sent {encoding} rectangles, and no loaded decoder plugin handles them",
                &[("encoding", encoding)],
            ),
            VncError::Decode { encoding, message } => gettext_f(
                "{encoding} decoding failed: {reason}",
                &[("encoding", encoding), ("reason", message)],
            ),
        };
        f.write_str(&text)
    }
}

impl VncError {
    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        VncError::Protocol(message.into())
    }

    pub(crate) fn limit(message: impl Into<String>) -> Self {
        VncError::Limit(message.into())
    }

    /// Rewords "closed" for the phase it happened in.
    pub(crate) fn closed_during(self, during: &'static str) -> Self {
        match self {
            VncError::Closed { .. } => VncError::Closed { during },
            other => other,
        }
    }
}

pub type Result<T, E = VncError> = std::result::Result<T, E>;
