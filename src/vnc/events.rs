//! What a connection reports to its owner.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::framebuffer::{Damage, Framebuffer};
use super::handshake::SecurityInfo;

/// Something that happened on a connection. Delivered in order, on the
/// connection's own thread; [`VncEvent::Disconnected`] is always the
/// last one.
#[derive(Debug)]
pub enum VncEvent {
    /// The handshake is done; the framebuffer exists (black until the
    /// first update).
    Connected {
        name: String,
        width: u32,
        height: u32,
        security: SecurityInfo,
        framebuffer: Arc<Mutex<Framebuffer>>,
    },
    /// The framebuffer changed size (its content is kept where the sizes
    /// overlap, and the server repaints).
    Resized {
        width: u32,
        height: u32,
    },
    /// One FramebufferUpdate is decoded: these areas changed. Repaint
    /// them from the framebuffer.
    Updated {
        damage: Vec<Damage>,
    },
    /// The server's pointer shape (drawn by the client).
    Cursor(CursorImage),
    /// QEMU's pointer mode: absolute (tablet) or relative (mouse: send
    /// deltas with [`super::VncClient::relative_pointer_event`]).
    PointerMode {
        absolute: bool,
    },
    Bell,
    /// The server's clipboard changed to this text.
    ClipboardText(String),
    DesktopName(String),
    /// The server refused a [`super::VncClient::set_desktop_size`] request.
    ResizeRefused {
        reason: String,
    },
    Disconnected {
        reason: String,
        kind: DisconnectKind,
    },
}

/// Why a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisconnectKind {
    /// [`super::VncClient::close`] (or dropping the last handle).
    ClosedByClient,
    /// The server closed the connection between messages, after the
    /// handshake.
    ClosedByServer,
    /// The password (or user name) was refused: ask again.
    AuthFailed,
    /// The credential provider returned nothing.
    Cancelled,
    /// Anything else: the reason says what.
    Failed,
}

/// A pointer image: `width` x `height` RGBA pixels, 8 bits per channel,
/// alpha not premultiplied, rows `width * 4` bytes long. Empty (0x0)
/// means the server hides the pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CursorImage {
    pub rgba: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub hot_x: u32,
    pub hot_y: u32,
}

/// Counters of a connection, for diagnostics and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes received from the server, handshake included.
    pub bytes_received: u64,
    /// FramebufferUpdate messages decoded.
    pub updates: u64,
    /// Rectangles decoded, by encoding number (pseudo-encodings too).
    pub rects: BTreeMap<i32, u64>,
}
