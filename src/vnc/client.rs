//! The client a window (or the command line) holds: connect in the
//! background, send input without blocking, receive events.
//!
//! Threads: one per connection connects, runs the handshake (asking the
//! credential provider, which may block), then reads and decodes server
//! messages and calls the event callback; a second writes every outgoing
//! message in order, fed by a channel, so no caller ever waits on the
//! network. With TLS a third relays between the socket and OpenSSL
//! (see `tls`). The threads are in `connection`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam_channel::Sender;

use super::auth::CredentialProvider;
use super::clipboard;
use super::connection;
use super::events::{Stats, VncEvent};
use super::framebuffer::Framebuffer;
use super::io::Socket;
use super::messages as msg;
use super::options::{ConnectOptions, ServerFeatures, Transport};
use super::session::{lock, Features};
use crate::plugin_host::PluginRegistry;

/// What the writer thread is given.
pub(super) enum Outgoing {
    Message(Vec<u8>),
    /// An incremental update request (at most one queued at a time).
    UpdateRequest(Vec<u8>),
    Close,
}

/// Messages queued for the writer at most. Input beyond it (a server that
/// stopped reading) is dropped; the client thread waits instead, which
/// stops it reading a server that does not read.
const QUEUE_LIMIT: usize = 4096;

/// What a connection's handles and threads share.
pub(super) struct Shared {
    pub tx: Sender<Outgoing>,
    pub closing: AtomicBool,
    /// A handle on the socket, only for waking blocked threads.
    pub socket: Mutex<Option<Socket>>,
    pub features: Arc<Features>,
    pub framebuffer: Mutex<Option<Arc<Mutex<Framebuffer>>>>,
    pub write_error: Mutex<Option<String>>,
    pub update_request_queued: AtomicBool,
}

impl Shared {
    /// Queues without waiting (the callers are GUI threads).
    fn send(&self, message: Vec<u8>) {
        if let Err(crossbeam_channel::TrySendError::Full(_)) =
            self.tx.try_send(Outgoing::Message(message))
        {
            tracing::warn!("the VNC server is not reading: input dropped");
        }
    }

    pub fn shutdown(&self) {
        if let Some(s) = lock(&self.socket).as_ref() {
            s.shutdown();
        }
    }
}

struct Owner {
    shared: Arc<Shared>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        close(&self.shared);
    }
}

fn close(shared: &Shared) {
    shared.closing.store(true, Ordering::SeqCst);
    let _ = shared.tx.try_send(Outgoing::Close);
    shared.shutdown();
}

/// A connection to one VNC server. Cheap to clone; every method returns
/// at once. The connection closes on [`VncClient::close`] or when the
/// last clone is dropped.
#[derive(Clone)]
pub struct VncClient {
    owner: Arc<Owner>,
}

impl std::fmt::Debug for VncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VncClient").finish_non_exhaustive()
    }
}

impl VncClient {
    /// Starts connecting in the background and returns at once. `events`
    /// is called on the connection's thread, in order, ending with
    /// [`VncEvent::Disconnected`]; keep it quick (forward to a channel).
    /// `credentials` is asked on that thread when the server wants a
    /// password and may block until the user answers.
    pub fn connect(
        transport: Transport,
        options: ConnectOptions,
        plugins: Arc<PluginRegistry>,
        credentials: Arc<dyn CredentialProvider>,
        events: impl FnMut(VncEvent) + Send + 'static,
    ) -> VncClient {
        let (tx, rx) = crossbeam_channel::bounded(QUEUE_LIMIT);
        let shared = Arc::new(Shared {
            tx,
            closing: AtomicBool::new(false),
            socket: Mutex::new(None),
            features: Arc::new(Features::default()),
            framebuffer: Mutex::new(None),
            write_error: Mutex::new(None),
            update_request_queued: AtomicBool::new(false),
        });
        let thread_shared = shared.clone();
        let mut events = events;
        let spawned = std::thread::Builder::new()
            .name("vnc-client".into())
            .spawn(move || {
                let result = connection::run(
                    transport,
                    &options,
                    plugins,
                    credentials.as_ref(),
                    &thread_shared,
                    rx,
                    &mut events,
                );
                thread_shared.shutdown();
                let _ = thread_shared.tx.try_send(Outgoing::Close);
                events(connection::disconnected(result, &thread_shared));
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the VNC client thread: {e}");
        }
        VncClient {
            owner: Arc::new(Owner { shared }),
        }
    }

    fn shared(&self) -> &Shared {
        &self.owner.shared
    }

    /// The framebuffer, once connected.
    pub fn framebuffer(&self) -> Option<Arc<Mutex<Framebuffer>>> {
        lock(&self.shared().framebuffer).clone()
    }

    pub fn features(&self) -> ServerFeatures {
        let f = &self.shared().features;
        ServerFeatures {
            scancodes: f.qemu_keys.load(Ordering::Relaxed),
            set_desktop_size: f.set_desktop_size.load(Ordering::Relaxed),
            relative_pointer: f.relative_pointer.load(Ordering::Relaxed),
            continuous_updates: f.continuous_updates.load(Ordering::Relaxed),
            extended_clipboard: lock(&f.clipboard).server_caps.is_some(),
        }
    }

    pub fn stats(&self) -> Stats {
        lock(&self.shared().features.stats).clone()
    }

    /// A key by X keysym.
    pub fn key_event(&self, keysym: u32, down: bool) {
        self.shared().send(msg::key_event(keysym, down));
    }

    /// A key by keysym and XT scancode (QEMU's extension, so the guest's
    /// keymap decides); a plain key event when the server lacks it or
    /// the scancode is unknown (0).
    pub fn qemu_key_event(&self, keysym: u32, scancode: u32, down: bool) {
        if scancode != 0 && self.shared().features.qemu_keys.load(Ordering::Relaxed) {
            self.shared()
                .send(msg::qemu_key_event(keysym, scancode, down));
        } else {
            self.key_event(keysym, down);
        }
    }

    /// The pointer at (`x`, `y`) with buttons 1-8 as bits 0-7.
    pub fn pointer_event(&self, x: u16, y: u16, buttons: u8) {
        self.shared().send(msg::pointer_event(x, y, buttons));
    }

    /// Pointer motion as a delta, for servers in relative mode
    /// ([`VncEvent::PointerMode`]); (0, 0) changes only the buttons.
    pub fn relative_pointer_event(&self, dx: i16, dy: i16, buttons: u8) {
        let enc = |d: i16| (0x7FFF + d as i32).clamp(0, 0xFFFF) as u16;
        self.shared()
            .send(msg::pointer_event(enc(dx), enc(dy), buttons));
    }

    /// Our clipboard changed: UTF-8 through Extended Clipboard when the
    /// server has it, else Latin-1 cut text.
    pub fn cut_text(&self, text: &str) {
        let shared = self.shared();
        let mut state = lock(&shared.features.clipboard);
        state.local_text = Some(text.to_owned());
        let message = match state.server_caps {
            Some((flags, max)) if flags & clipboard::FORMAT_TEXT != 0 => {
                let fits = max.is_some_and(|m| clipboard::provided_len(text) <= m as usize);
                if flags & clipboard::ACTION_PROVIDE != 0 && fits {
                    clipboard::encode_provide_text(text)
                } else if flags & clipboard::ACTION_NOTIFY != 0 {
                    clipboard::encode_flags(clipboard::ACTION_NOTIFY | clipboard::FORMAT_TEXT)
                } else {
                    clipboard::encode_provide_text(text)
                }
            }
            _ => {
                drop(state);
                shared.send(msg::client_cut_text_latin1(text));
                return;
            }
        };
        drop(state);
        shared.send(msg::client_cut_text_extended(&message));
    }

    /// Asks the server to resize its desktop (one screen); the answer
    /// comes as [`VncEvent::Resized`] or [`VncEvent::ResizeRefused`].
    /// False (and nothing sent) when the server cannot be asked.
    pub fn set_desktop_size(&self, width: u16, height: u16) -> bool {
        let f = &self.shared().features;
        if !f.set_desktop_size.load(Ordering::Relaxed) || width == 0 || height == 0 {
            return false;
        }
        // Keep the first screen's id and flags, as the protocol asks.
        let first = lock(&f.screens).first().copied().unwrap_or_default();
        let screen = msg::Screen {
            x: 0,
            y: 0,
            width,
            height,
            ..first
        };
        self.shared()
            .send(msg::set_desktop_size(width, height, &[screen]));
        true
    }

    /// Asks for the whole screen again (after the window lost its copy).
    pub fn request_full_update(&self) {
        if let Some(fb) = self.framebuffer() {
            let (w, h) = {
                let fb = lock(&fb);
                (fb.width, fb.height)
            };
            self.shared()
                .send(msg::update_request(false, 0, 0, w as u16, h as u16));
        }
    }

    /// Closes the connection; [`VncEvent::Disconnected`] follows.
    pub fn close(&self) {
        close(self.shared());
    }
}
