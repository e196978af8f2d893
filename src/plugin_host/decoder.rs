//! Safe wrappers around a loaded decoder library.
//!
//! The data plane: `decode` crosses with raw pointers into the host's
//! framebuffer and read buffer, with no allocation or copy per rectangle;
//! the only per-call buffer is the error writer's, which stays empty (and
//! unallocated) unless the decoder fails.

use std::sync::Arc;

use virt_manager_plugin_api::abi::{self, DecoderHandle, DecoderVtable, PixelFormat, Rect};
use virt_manager_plugin_api::{Decoded, DecoderLibraryInfo, EncodingInfo, ErrorCode, PluginError};

use super::backend::call;
use super::ffi::vec_writer;

/// A decoder library, checked and ready.
pub struct DecoderPlugin {
    name: String,
    vtable: &'static DecoderVtable,
    encodings: Vec<EncodingInfo>,
}

impl std::fmt::Debug for DecoderPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecoderPlugin")
            .field("name", &self.name)
            .field("encodings", &self.encodings)
            .finish()
    }
}

impl DecoderPlugin {
    /// # Safety
    /// `vtable` must point into a library that is never unloaded.
    pub(super) unsafe fn new(name: &str, vtable: *const DecoderVtable) -> Result<Self, String> {
        let vtable = unsafe { &*vtable };
        if vtable.size < abi::DECODER_VTABLE_MIN_SIZE {
            return Err(format!(
                "decoder table is {} bytes, smaller than the {} of ABI 1.1",
                vtable.size,
                abi::DECODER_VTABLE_MIN_SIZE
            ));
        }
        let bytes = call(|out, err| unsafe { (vtable.info)(out, err) })
            .map_err(|e| format!("decoder info failed: {e}"))?;
        let info: DecoderLibraryInfo = serde_json::from_slice(&bytes)
            .map_err(|e| format!("decoder info is malformed: {e}"))?;
        Ok(DecoderPlugin {
            name: name.to_owned(),
            vtable,
            encodings: info.encodings,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn encodings(&self) -> &[EncodingInfo] {
        &self.encodings
    }

    /// A new stateful decoder for one console connection.
    pub fn create(
        self: &Arc<Self>,
        encoding: i32,
        format: &PixelFormat,
    ) -> Result<DecoderInstance, PluginError> {
        let mut handle: DecoderHandle = std::ptr::null_mut();
        call(|_out, err| unsafe { (self.vtable.create)(encoding, format, &mut handle, err) })?;
        if handle.is_null() {
            return Err(PluginError::failed(format!(
                "decoder plugin {} created no decoder",
                self.name
            )));
        }
        Ok(DecoderInstance {
            plugin: self.clone(),
            handle,
            encoding,
            err: Vec::new(),
        })
    }
}

/// The framebuffer as a decoder call sees it: rows of 32-bit pixels in
/// [`PixelFormat::HOST`], `stride` pixels apart.
pub struct FramebufferMut<'a> {
    pub pixels: &'a mut [u32],
    pub width: u32,
    pub height: u32,
    /// Distance between rows, in pixels (at least `width`).
    pub stride: usize,
}

/// One decoder of one connection; destroyed when dropped.
pub struct DecoderInstance {
    plugin: Arc<DecoderPlugin>,
    handle: DecoderHandle,
    encoding: i32,
    /// Reused for error messages; empty unless a call fails.
    err: Vec<u8>,
}

// Safety: the ABI lets an instance move between threads (one at a time).
unsafe impl Send for DecoderInstance {}

impl DecoderInstance {
    pub fn encoding(&self) -> i32 {
        self.encoding
    }

    pub fn plugin(&self) -> &Arc<DecoderPlugin> {
        &self.plugin
    }

    /// Decodes (part of) `rect` from `data`; checks what the decoder
    /// claims before believing it.
    pub fn decode(
        &mut self,
        rect: &Rect,
        data: &[u8],
        fb: &mut FramebufferMut<'_>,
    ) -> Result<Decoded, PluginError> {
        let inside = rect.x as u32 + rect.width as u32 <= fb.width
            && rect.y as u32 + rect.height as u32 <= fb.height;
        let sized =
            fb.stride >= fb.width as usize && fb.pixels.len() >= fb.stride * fb.height as usize;
        if !inside || !sized {
            return Err(PluginError::new(
                ErrorCode::InvalidArgument,
                "rectangle outside the framebuffer",
            ));
        }
        let raw = abi::Framebuffer {
            pixels: fb.pixels.as_mut_ptr() as *mut u8,
            stride: fb.stride * 4,
            width: fb.width,
            height: fb.height,
        };
        let mut result = abi::DecodeResult::default();
        self.err.clear();
        #[cfg(debug_assertions)]
        let ring = canary::Ring::save(fb, rect);
        let status = unsafe {
            (self.plugin.vtable.decode)(
                self.handle,
                rect,
                abi::Bytes::from_slice(data),
                &raw,
                &mut result,
                vec_writer(&mut self.err),
            )
        };
        #[cfg(debug_assertions)]
        if let changed @ 1.. = ring.restore(fb) {
            return Err(PluginError::failed(format!(
                "decoder plugin {} wrote outside its rectangle ({changed} canary pixels changed)",
                self.plugin.name
            )));
        }
        if let Some(code) = ErrorCode::from_status(status) {
            let mut message = String::from_utf8_lossy(&self.err).into_owned();
            if message.is_empty() {
                message = format!("decoder {} failed without a message", self.plugin.name);
            }
            return Err(PluginError::new(code, message));
        }
        let broken = |what: String| {
            Err(PluginError::failed(format!(
                "decoder plugin {} misbehaved: {what}",
                self.plugin.name
            )))
        };
        match result.kind {
            abi::DECODE_NEED_MORE if result.count > 0 => Ok(Decoded::NeedMore(result.count)),
            abi::DECODE_NEED_MORE => broken("asked for 0 more bytes".into()),
            abi::DECODE_PARTIAL | abi::DECODE_DONE if result.count > data.len() => broken(format!(
                "claims {} bytes consumed of {} given",
                result.count,
                data.len()
            )),
            abi::DECODE_PARTIAL if result.count == 0 => broken("made no progress".into()),
            abi::DECODE_PARTIAL => Ok(Decoded::Partial(result.count)),
            abi::DECODE_DONE => Ok(Decoded::Done(result.count)),
            other => broken(format!("unknown result kind {other}")),
        }
    }
}

impl Drop for DecoderInstance {
    fn drop(&mut self) {
        unsafe { (self.plugin.vtable.destroy)(self.handle) }
    }
}

/// Debug builds only: the ring of pixels just outside a rectangle, saved
/// before a decode call and compared after it, catches a native decoder
/// that writes outside its rectangle (a Rust decoder cannot, through
/// `Target`). Release builds skip it: it costs a copy per rectangle.
#[cfg(debug_assertions)]
mod canary {
    use super::{FramebufferMut, Rect};

    pub struct Ring(Vec<(usize, u32)>);

    impl Ring {
        pub fn save(fb: &FramebufferMut<'_>, r: &Rect) -> Ring {
            let (left, top) = (i64::from(r.x) - 1, i64::from(r.y) - 1);
            let (right, bottom) = (
                i64::from(r.x) + i64::from(r.width),
                i64::from(r.y) + i64::from(r.height),
            );
            let mut ring = Vec::new();
            let mut add = |x: i64, y: i64| {
                if (0..i64::from(fb.width)).contains(&x) && (0..i64::from(fb.height)).contains(&y) {
                    let i = y as usize * fb.stride + x as usize;
                    ring.push((i, fb.pixels[i]));
                }
            };
            for x in left..=right {
                add(x, top);
                add(x, bottom);
            }
            for y in top + 1..bottom {
                add(left, y);
                add(right, y);
            }
            Ring(ring)
        }

        /// Puts back every changed pixel and says how many there were.
        pub fn restore(&self, fb: &mut FramebufferMut<'_>) -> usize {
            let mut changed = 0;
            for &(i, value) in &self.0 {
                if fb.pixels[i] != value {
                    fb.pixels[i] = value;
                    changed += 1;
                }
            }
            changed
        }
    }
}
