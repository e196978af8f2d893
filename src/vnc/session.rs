//! The normal protocol phase: reads server messages from the growing
//! buffer, decodes rectangles into the framebuffer (Raw here, every other
//! encoding through its decoder plugin), handles the pseudo-encodings, and
//! reports events. Pure over a [`Reader`]: the same code runs on a live
//! socket, on a recording in memory, and under the fuzzer.

use crate::i18n::{gettext, gettext_noop};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use virt_manager_plugin_api::abi::{PixelFormat, Rect};
use virt_manager_plugin_api::{Decoded, PluginError};

use super::clipboard::{self, ClipboardMessage, ClipboardState};
use super::encodings::{self as enc, is_pixel_encoding};
use super::error::{Result, VncError};
use super::events::{CursorImage, Stats, VncEvent};
use super::framebuffer::{Damage, Framebuffer};
use super::io::Reader;
use super::messages::{self as msg, Screen};
use super::raw::RawDecoder;
use crate::plugin_host::{DecoderInstance, FramebufferMut, PluginRegistry};

/// Largest pointer image accepted, per side.
const MAX_CURSOR: usize = 1024;
/// Longest desktop name accepted.
const MAX_NAME: u32 = 64 * 1024;

/// Where a session's output goes: events for the owner, messages for the
/// server.
pub(crate) trait SessionSink {
    fn event(&mut self, event: VncEvent);
    fn send(&mut self, message: Vec<u8>);
    /// An incremental FramebufferUpdateRequest: one still waiting to be
    /// written makes another redundant, so a sink may drop it (this keeps
    /// a flood of tiny updates from queueing requests without bound).
    fn request_update(&mut self, message: Vec<u8>) {
        self.send(message);
    }
}

/// What the server has shown it supports, read by the handle's input
/// methods on other threads.
#[derive(Debug, Default)]
pub(crate) struct Features {
    pub qemu_keys: AtomicBool,
    pub set_desktop_size: AtomicBool,
    pub relative_pointer: AtomicBool,
    pub continuous_updates: AtomicBool,
    pub screens: Mutex<Vec<Screen>>,
    pub clipboard: Mutex<ClipboardState>,
    pub stats: Mutex<Stats>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere never leaves these structures half-written in a
    // way that matters more than losing the connection would.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) struct SessionConfig {
    /// The encodings sent in SetEncodings (to know which extensions the
    /// server may use).
    pub offered: Vec<i32>,
    /// Switch to continuous updates when the server supports them.
    pub continuous_updates: bool,
    /// Largest clipboard text kept; longer ones are skipped.
    pub max_cut_text: usize,
    /// Largest framebuffer width or height accepted in a resize.
    pub max_dimension: u32,
}

pub(crate) struct Session {
    fb: Arc<Mutex<Framebuffer>>,
    plugins: Arc<PluginRegistry>,
    /// One instance per encoding, created on first use, kept for the
    /// connection (decoders keep zlib streams between rectangles).
    decoders: HashMap<i32, DecoderInstance>,
    raw: RawDecoder,
    features: Arc<Features>,
    config: SessionConfig,
    damage: Vec<Damage>,
    rects: HashMap<i32, u64>,
    continuous_active: bool,
}

enum AnyDecoder<'a> {
    Raw(&'a mut RawDecoder),
    Plugin(&'a mut DecoderInstance),
}

impl AnyDecoder<'_> {
    fn decode(
        &mut self,
        rect: &Rect,
        data: &[u8],
        fb: &mut FramebufferMut<'_>,
    ) -> Result<Decoded, PluginError> {
        match self {
            AnyDecoder::Raw(d) => d.decode(rect, data, fb),
            AnyDecoder::Plugin(d) => d.decode(rect, data, fb),
        }
    }
}

impl Session {
    pub fn new(
        fb: Arc<Mutex<Framebuffer>>,
        plugins: Arc<PluginRegistry>,
        features: Arc<Features>,
        config: SessionConfig,
    ) -> Self {
        Session {
            fb,
            plugins,
            decoders: HashMap::new(),
            raw: RawDecoder::default(),
            features,
            config,
            damage: Vec::new(),
            rects: HashMap::new(),
            continuous_active: false,
        }
    }

    fn offered(&self, encoding: i32) -> bool {
        self.config.offered.contains(&encoding)
    }

    fn size(&self) -> (u32, u32) {
        let fb = lock(&self.fb);
        (fb.width, fb.height)
    }

    /// Reads and handles messages until the server closes the connection
    /// cleanly (Ok) or something fails.
    pub fn run(&mut self, reader: &mut Reader, sink: &mut dyn SessionSink) -> Result<()> {
        while self.next(reader, sink)? {}
        Ok(())
    }

    /// Handles one server message; Ok(false) when the server closed the
    /// connection between messages.
    pub fn next(&mut self, r: &mut Reader, sink: &mut dyn SessionSink) -> Result<bool> {
        if !r.wait_data()? {
            return Ok(false);
        }
        let result = match r.available()[0] {
            msg::FRAMEBUFFER_UPDATE => self.framebuffer_update(r, sink),
            msg::SET_COLOUR_MAP_ENTRIES => colour_map(r),
            msg::BELL => {
                r.consume(1);
                sink.event(VncEvent::Bell);
                Ok(())
            }
            msg::SERVER_CUT_TEXT => self.cut_text(r, sink),
            msg::END_OF_CONTINUOUS_UPDATES if self.offered(enc::CONTINUOUS_UPDATES) => {
                r.consume(1);
                self.end_of_continuous_updates(sink);
                Ok(())
            }
            msg::SERVER_FENCE if self.offered(enc::FENCE) => fence(r, sink),
            other => Err(VncError::protocol(format!(
                "unknown server message type {other}"
            ))),
        };
        result.map_err(|e| e.closed_during(gettext_noop("in the middle of a message")))?;
        Ok(true)
    }

    fn framebuffer_update(&mut self, r: &mut Reader, sink: &mut dyn SessionSink) -> Result<()> {
        let head: [u8; 4] = r.read_bytes()?;
        let count = u16::from_be_bytes([head[2], head[3]]);
        self.damage.clear();
        let mut plain_resize = false;
        for _ in 0..count {
            let h: [u8; 12] = r.read_bytes()?;
            let be16 = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
            let rect = Rect {
                x: be16(0),
                y: be16(2),
                width: be16(4),
                height: be16(6),
                encoding: i32::from_be_bytes([h[8], h[9], h[10], h[11]]),
            };
            *self.rects.entry(rect.encoding).or_default() += 1;
            match rect.encoding {
                enc::LAST_RECT => break,
                enc::DESKTOP_SIZE => {
                    self.resize(rect.width as u32, rect.height as u32, sink)?;
                    plain_resize = true;
                }
                enc::EXTENDED_DESKTOP_SIZE => self.extended_desktop_size(r, &rect, sink)?,
                enc::CURSOR => cursor(r, &rect, sink)?,
                enc::CURSOR_WITH_ALPHA => alpha_cursor(r, &rect, sink)?,
                enc::DESKTOP_NAME => {
                    let len = r.read_u32()?;
                    if len > MAX_NAME {
                        return Err(VncError::limit(format!("a desktop name of {len} bytes")));
                    }
                    let name = r.read_vec(len as usize)?;
                    sink.event(VncEvent::DesktopName(
                        String::from_utf8_lossy(&name).into_owned(),
                    ));
                }
                enc::QEMU_POINTER_MOTION_CHANGE => {
                    let absolute = rect.x != 0;
                    self.features
                        .relative_pointer
                        .store(!absolute, Ordering::Relaxed);
                    sink.event(VncEvent::PointerMode { absolute });
                }
                enc::QEMU_EXTENDED_KEY_EVENT => {
                    self.features.qemu_keys.store(true, Ordering::Relaxed)
                }
                e if is_pixel_encoding(e) => {
                    self.decode_rect(r, &rect)?;
                    if rect.width > 0 && rect.height > 0 {
                        self.damage.push(Damage {
                            x: rect.x as u32,
                            y: rect.y as u32,
                            width: rect.width as u32,
                            height: rect.height as u32,
                        });
                    }
                }
                e => {
                    return Err(VncError::protocol(format!(
                        "the server sent a pseudo-rectangle ({}) that was not asked for",
                        enc::name(e)
                    )))
                }
            }
        }
        {
            let mut stats = lock(&self.features.stats);
            stats.updates += 1;
            stats.bytes_received = r.received;
            for (e, n) in self.rects.drain() {
                *stats.rects.entry(e).or_default() += n;
            }
        }
        if !self.damage.is_empty() {
            sink.event(VncEvent::Updated {
                damage: std::mem::take(&mut self.damage),
            });
        }
        if !self.continuous_active {
            // After a plain DesktopSize ask for everything again (servers
            // differ on whether they resend); never after
            // ExtendedDesktopSize, where that would loop.
            let (w, h) = self.size();
            let request = msg::update_request(!plain_resize, 0, 0, w as u16, h as u16);
            if plain_resize {
                sink.send(request);
            } else {
                sink.request_update(request);
            }
        }
        Ok(())
    }

    /// Decodes one pixel rectangle, feeding its decoder from the buffer
    /// until it is done. The framebuffer is locked only while a decoder
    /// runs on bytes already received, never while waiting for more.
    fn decode_rect(&mut self, r: &mut Reader, rect: &Rect) -> Result<()> {
        let (fw, fh) = self.size();
        if rect.x as u32 + rect.width as u32 > fw || rect.y as u32 + rect.height as u32 > fh {
            return Err(VncError::protocol(format!(
                "a {} rectangle at {},{} of {}x{} lies outside the {fw}x{fh} framebuffer",
                enc::name(rect.encoding),
                rect.x,
                rect.y,
                rect.width,
                rect.height
            )));
        }
        if rect.encoding == enc::RAW && r.direct_fd().is_some() {
            let bytes = rect.width as usize * rect.height as usize * 4;
            if bytes.saturating_sub(r.len()) >= super::raw::DIRECT_MIN {
                return super::raw::read_direct(r, &self.fb, rect);
            }
        }
        let mut decoder = if rect.encoding == enc::RAW {
            self.raw.begin();
            AnyDecoder::Raw(&mut self.raw)
        } else {
            let instance = match self.decoders.entry(rect.encoding) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    let plugin = self.plugins.decoder_for(rect.encoding).ok_or_else(|| {
                        VncError::NoDecoder {
                            encoding: enc::name(rect.encoding).into_owned(),
                        }
                    })?;
                    let instance =
                        plugin
                            .create(rect.encoding, &PixelFormat::HOST)
                            .map_err(|e| VncError::Decode {
                                encoding: enc::name(rect.encoding).into_owned(),
                                message: format!("cannot create a decoder: {e}"),
                            })?;
                    v.insert(instance)
                }
            };
            AnyDecoder::Plugin(instance)
        };
        loop {
            let result = {
                let mut fb = lock(&self.fb);
                decoder.decode(rect, r.available(), &mut fb.as_decoder_target())
            };
            match result {
                Ok(Decoded::NeedMore(n)) => {
                    let want = r.len().saturating_add(n);
                    r.fill(want)?;
                }
                Ok(Decoded::Partial(k)) => r.consume(k),
                Ok(Decoded::Done(k)) => {
                    r.consume(k);
                    return Ok(());
                }
                Err(e) => {
                    return Err(VncError::Decode {
                        encoding: enc::name(rect.encoding).into_owned(),
                        message: e.message,
                    })
                }
            }
        }
    }

    fn resize(&mut self, width: u32, height: u32, sink: &mut dyn SessionSink) -> Result<()> {
        let max = self.config.max_dimension;
        if width > max || height > max {
            return Err(VncError::limit(format!(
                "a {width}x{height} framebuffer is larger than {max}x{max}"
            )));
        }
        lock(&self.fb).resize(width, height);
        // Damage before a resize is meaningless after it.
        self.damage.clear();
        sink.event(VncEvent::Resized { width, height });
        if self.continuous_active {
            sink.send(msg::enable_continuous_updates(
                true,
                0,
                0,
                width as u16,
                height as u16,
            ));
        }
        Ok(())
    }

    fn extended_desktop_size(
        &mut self,
        r: &mut Reader,
        rect: &Rect,
        sink: &mut dyn SessionSink,
    ) -> Result<()> {
        let head: [u8; 4] = r.read_bytes()?;
        let n = head[0] as usize;
        r.fill(n * 16)?;
        let screens: Vec<Screen> = r.available()[..n * 16]
            .chunks_exact(16)
            .filter_map(|c| c.try_into().ok().map(Screen::parse))
            .collect();
        r.consume(n * 16);
        self.features
            .set_desktop_size
            .store(true, Ordering::Relaxed);
        let (reason, status) = (rect.x, rect.y);
        if reason == 1 && status != 0 {
            // Our own request did not happen (yet); the other fields are
            // undefined. Status 4: QEMU passed it on to the guest, whose
            // answer, if any, comes as a later resize.
            let why = match status {
                1 => gettext("resizing is administratively prohibited"),
                2 => gettext("the server is out of resources"),
                3 => gettext("invalid screen layout"),
                4 => return Ok(()),
                s => format!("error {s}"),
            };
            sink.event(VncEvent::ResizeRefused { reason: why });
            return Ok(());
        }
        *lock(&self.features.screens) = screens;
        if (rect.width as u32, rect.height as u32) != self.size() {
            self.resize(rect.width as u32, rect.height as u32, sink)?;
        }
        Ok(())
    }

    fn cut_text(&mut self, r: &mut Reader, sink: &mut dyn SessionSink) -> Result<()> {
        let head: [u8; 8] = r.read_bytes()?;
        let len = i32::from_be_bytes([head[4], head[5], head[6], head[7]]);
        let max = self.config.max_cut_text;
        if len < 0 && self.offered(enc::EXTENDED_CLIPBOARD) {
            let n = len.unsigned_abs() as usize;
            // The compressed form can never need to be longer than this.
            if n > max + 1024 {
                tracing::debug!("skipping a {n}-byte clipboard message");
                return r.skip(n as u64);
            }
            r.fill(n)?;
            let parsed = clipboard::parse(&r.available()[..n], max);
            r.consume(n);
            match parsed {
                Ok(m) => self.clipboard_message(m, sink),
                // A clipboard the user cannot get is not worth the session.
                Err(e) => tracing::debug!("ignoring a clipboard message: {e}"),
            }
            return Ok(());
        }
        let n = len as u32 as usize;
        if n > max {
            tracing::debug!("skipping {n} bytes of clipboard text");
            return r.skip(n as u64);
        }
        let bytes = r.read_vec(n)?;
        // Classic cut text is ISO 8859-1: each byte is the code point.
        let text: String = bytes.iter().map(|&b| b as char).collect();
        sink.event(VncEvent::ClipboardText(text));
        Ok(())
    }

    fn clipboard_message(&mut self, m: ClipboardMessage, sink: &mut dyn SessionSink) {
        let mut state = lock(&self.features.clipboard);
        match m {
            ClipboardMessage::Caps { flags, text_max } => {
                state.server_caps = Some((flags, text_max));
                let max = self.config.max_cut_text.min(u32::MAX as usize) as u32;
                sink.send(msg::client_cut_text_extended(&clipboard::encode_caps(max)));
            }
            ClipboardMessage::Notify { formats } => {
                if formats & clipboard::FORMAT_TEXT != 0 {
                    let request = clipboard::ACTION_REQUEST | clipboard::FORMAT_TEXT;
                    sink.send(msg::client_cut_text_extended(&clipboard::encode_flags(
                        request,
                    )));
                }
            }
            ClipboardMessage::Request { formats } => {
                if let (true, Some(text)) =
                    (formats & clipboard::FORMAT_TEXT != 0, &state.local_text)
                {
                    sink.send(msg::client_cut_text_extended(
                        &clipboard::encode_provide_text(text),
                    ));
                }
            }
            ClipboardMessage::Peek => {
                let formats = if state.local_text.is_some() {
                    clipboard::FORMAT_TEXT
                } else {
                    0
                };
                let notify = clipboard::ACTION_NOTIFY | formats;
                sink.send(msg::client_cut_text_extended(&clipboard::encode_flags(
                    notify,
                )));
            }
            ClipboardMessage::Provide { text: Some(text) } => {
                drop(state);
                sink.event(VncEvent::ClipboardText(text));
            }
            ClipboardMessage::Provide { text: None } => {}
        }
    }

    fn end_of_continuous_updates(&mut self, sink: &mut dyn SessionSink) {
        let first = !self
            .features
            .continuous_updates
            .swap(true, Ordering::Relaxed);
        if first && self.config.continuous_updates {
            let (w, h) = self.size();
            sink.send(msg::enable_continuous_updates(
                true, 0, 0, w as u16, h as u16,
            ));
            self.continuous_active = true;
        } else if self.continuous_active {
            // The server stopped them: go back to asking.
            self.continuous_active = false;
            let (w, h) = self.size();
            sink.send(msg::update_request(true, 0, 0, w as u16, h as u16));
        }
    }
}

fn colour_map(r: &mut Reader) -> Result<()> {
    // We asked for true colour, so a colour map means nothing to us; it
    // is skipped rather than refused (some servers send one anyway).
    let head: [u8; 6] = r.read_bytes()?;
    let n = u16::from_be_bytes([head[4], head[5]]) as u64;
    r.skip(n * 6)
}

fn fence(r: &mut Reader, sink: &mut dyn SessionSink) -> Result<()> {
    let head: [u8; 9] = r.read_bytes()?;
    let flags = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
    let len = head[8] as usize;
    if len > msg::FENCE_MAX_PAYLOAD {
        return Err(VncError::protocol(format!(
            "a fence with {len} bytes of payload (64 at most)"
        )));
    }
    let payload = r.read_vec(len)?;
    if flags & msg::FENCE_REQUEST != 0 {
        // Messages are handled in order, so every synchronisation the
        // server may ask for already holds: answer at once.
        let known = msg::FENCE_BLOCK_BEFORE | msg::FENCE_BLOCK_AFTER | msg::FENCE_SYNC_NEXT;
        sink.send(msg::client_fence(flags & known, &payload));
    }
    Ok(())
}

fn check_cursor_size(rect: &Rect) -> Result<(usize, usize)> {
    let (w, h) = (rect.width as usize, rect.height as usize);
    if w > MAX_CURSOR || h > MAX_CURSOR {
        return Err(VncError::limit(format!("a {w}x{h} pointer image")));
    }
    Ok((w, h))
}

fn cursor_event(rect: &Rect, w: usize, h: usize, rgba: Vec<u8>) -> VncEvent {
    VncEvent::Cursor(CursorImage {
        rgba,
        width: w as u32,
        height: h as u32,
        hot_x: (rect.x as u32).min((w as u32).saturating_sub(1)),
        hot_y: (rect.y as u32).min((h as u32).saturating_sub(1)),
    })
}

/// Cursor pseudo-encoding: pixels in the session's format, then a
/// one-bit mask per pixel.
fn cursor(r: &mut Reader, rect: &Rect, sink: &mut dyn SessionSink) -> Result<()> {
    let (w, h) = check_cursor_size(rect)?;
    let mask_row = w.div_ceil(8);
    let len = w * h * 4 + mask_row * h;
    r.fill(len)?;
    let (pixels, mask) = r.available()[..len].split_at(w * h * 4);
    let mut rgba = Vec::with_capacity(w * h * 4);
    for (i, px) in pixels.chunks_exact(4).enumerate() {
        let p = u32::from_ne_bytes([px[0], px[1], px[2], px[3]]);
        let (x, y) = (i % w, i / w);
        let visible = mask[y * mask_row + x / 8] & (0x80 >> (x % 8)) != 0;
        rgba.extend_from_slice(&[
            (p >> 16) as u8,
            (p >> 8) as u8,
            p as u8,
            if visible { 255 } else { 0 },
        ]);
    }
    r.consume(len);
    sink.event(cursor_event(rect, w, h, rgba));
    Ok(())
}

/// Cursor With Alpha: an encoding number, then RGBA pixels with
/// premultiplied alpha. Servers send these raw; other encodings would
/// carry a pixel format the decoders are not made for.
fn alpha_cursor(r: &mut Reader, rect: &Rect, sink: &mut dyn SessionSink) -> Result<()> {
    let (w, h) = check_cursor_size(rect)?;
    let encoding = i32::from_be_bytes(r.read_bytes()?);
    if encoding != enc::RAW {
        return Err(VncError::protocol(format!(
            "a pointer image in {}, only raw is supported",
            enc::name(encoding)
        )));
    }
    let len = w * h * 4;
    r.fill(len)?;
    let rgba = r.available()[..len]
        .chunks_exact(4)
        .flat_map(|p| {
            let a = p[3] as u32;
            let un = |c: u8| {
                (c as u32 * 255 + a / 2)
                    .checked_div(a)
                    .map_or(0, |v| v.min(255) as u8)
            };
            [un(p[0]), un(p[1]), un(p[2]), p[3]]
        })
        .collect();
    r.consume(len);
    sink.event(cursor_event(rect, w, h, rgba));
    Ok(())
}
