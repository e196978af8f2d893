//! How to connect: where the server is, and what to ask of it.

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::time::Duration;

use super::encodings::{self as enc, DEFAULT_PREFERENCE};
use crate::plugin_host::PluginRegistry;

/// Most bytes the read buffer may hold at once: the largest message or
/// decoder look-ahead a server can make us keep.
pub const MAX_BUFFERED: usize = 64 << 20;

/// Where the server is.
#[derive(Debug)]
pub enum Transport {
    Tcp {
        host: String,
        port: u16,
    },
    /// An already connected socket (e.g. from a backend's console
    /// endpoint, libvirt's open-graphics-fd).
    Fd(OwnedFd),
}

/// How to connect.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Pixel encodings in order of preference, sent as given (those no
    /// decoder is loaded for are left out). Empty: every encoding a
    /// decoder is loaded for, in [`DEFAULT_PREFERENCE`] order.
    pub encodings: Vec<i32>,
    /// JPEG quality 0-9 for Tight. None keeps Tight lossless.
    pub quality: Option<u8>,
    /// zlib effort 0-9 the server may use.
    pub compress_level: Option<u8>,
    /// Let other clients stay connected (ClientInit's shared flag).
    pub shared: bool,
    /// Ask the server for the pointer shape, to draw it locally, instead
    /// of having it drawn into the framebuffer.
    pub local_cursor: bool,
    /// Let the server push updates without being asked, when it can.
    pub continuous_updates: bool,
    /// CA certificates (PEM) that VeNCrypt X509 server certificates must
    /// chain to; None: the system's trust store.
    pub ca_file: Option<PathBuf>,
    /// The name the certificate must carry; None: the TCP host name
    /// (descriptors have none, and then only the chain is checked).
    pub tls_host: Option<String>,
    pub connect_timeout: Duration,
    /// Longest wait for any one answer during the handshake.
    pub handshake_timeout: Duration,
    /// Longest clipboard text accepted from the server.
    pub max_cut_text: usize,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            encodings: Vec::new(),
            quality: None,
            compress_level: None,
            shared: true,
            local_cursor: true,
            continuous_updates: false,
            ca_file: None,
            tls_host: None,
            connect_timeout: Duration::from_secs(15),
            handshake_timeout: Duration::from_secs(30),
            max_cut_text: 16 << 20,
        }
    }
}

/// What the server has confirmed it supports (all false until it says).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerFeatures {
    /// QEMU Extended Key Events: [`VncClient::qemu_key_event`] sends scancodes.
    pub scancodes: bool,
    /// ExtendedDesktopSize: [`VncClient::set_desktop_size`] works.
    pub set_desktop_size: bool,
    /// The server wants relative pointer motion.
    pub relative_pointer: bool,
    pub continuous_updates: bool,
    /// Extended Clipboard (UTF-8 clipboard text).
    pub extended_clipboard: bool,
}

/// The encodings to announce: pixel encodings in the caller's order,
/// then the pseudo-encodings this client implements.
pub(crate) fn offered_encodings(options: &ConnectOptions, plugins: &PluginRegistry) -> Vec<i32> {
    let wanted: &[i32] = if options.encodings.is_empty() {
        DEFAULT_PREFERENCE
    } else {
        &options.encodings
    };
    let mut list: Vec<i32> = Vec::new();
    for &e in wanted {
        if list.contains(&e) {
            continue;
        }
        if e == enc::RAW || plugins.decoder_for(e).is_some() {
            list.push(e);
        } else if !options.encodings.is_empty() {
            tracing::warn!("no decoder for {}, not offering it", enc::name(e));
        }
    }
    if let Some(q) = options.quality {
        list.push(enc::QUALITY_LEVEL_0 + q.min(9) as i32);
    }
    if let Some(c) = options.compress_level {
        list.push(enc::COMPRESS_LEVEL_0 + c.min(9) as i32);
    }
    list.extend_from_slice(&[
        enc::EXTENDED_DESKTOP_SIZE,
        enc::DESKTOP_SIZE,
        enc::LAST_RECT,
    ]);
    if options.local_cursor {
        list.extend_from_slice(&[enc::CURSOR_WITH_ALPHA, enc::CURSOR]);
    }
    list.extend_from_slice(&[
        enc::DESKTOP_NAME,
        enc::QEMU_EXTENDED_KEY_EVENT,
        enc::QEMU_POINTER_MOTION_CHANGE,
        enc::FENCE,
        enc::CONTINUOUS_UPDATES,
        enc::EXTENDED_CLIPBOARD,
    ]);
    list
}
