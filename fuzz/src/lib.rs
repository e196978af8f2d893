//! The host side of the decoder fuzz targets.
//!
//! Each target links the decoder crate as an rlib and drives it only
//! through its exported entry (`virt_manager_plugin_v1`) and the returned
//! `DecoderVtable`, the way the application calls a loaded plugin, so the
//! export glue is instrumented too.
//!
//! Input format (the seeds in fuzz/corpus follow it):
//!
//! - byte 0: how the simulated socket delivers the payload: 0 = all at
//!   once, n = n bytes at a time (NeedMore is always honoured in full);
//! - then rectangles, one after another on one decoder instance (so zlib
//!   streams carry over): 4 bytes x, y, w, h, each reduced modulo what fits
//!   the 100x70 framebuffer (values that fit are taken as they are), and the
//!   rectangle's payload; the next rectangle starts where the decoder said
//!   `Done`.
//!
//! Crashes are: a panic inside the decoder (the export glue turns it into
//! error 6), an answer the host would reject (NeedMore 0, Partial 0, more
//! consumed than given), an error without a message, or any write outside
//! the rectangle (the framebuffer sits inside canary margins and every
//! pixel outside the rectangle is compared after each one).

use std::ffi::c_void;
use std::sync::OnceLock;

use virt_manager_plugin_api::abi::{
    self, Bytes, DecodeResult, DecoderHandle, DecoderVtable, PixelFormat, Rect, Writer,
};
use virt_manager_plugin_api::ErrorCode;

pub const FB_W: usize = 100;
pub const FB_H: usize = 70;
const MARGIN: usize = 8;
const CANVAS_W: usize = FB_W + 2 * MARGIN;
const CANVAS_H: usize = FB_H + 2 * MARGIN;
const CANARY: u32 = 0xa5a5_a5a5;

unsafe extern "C" fn append(ctx: *mut c_void, ptr: *const u8, len: usize) {
    let buf = unsafe { &mut *(ctx as *mut Vec<u8>) };
    buf.extend_from_slice(unsafe { std::slice::from_raw_parts(ptr, len) });
}

fn writer(buf: &mut Vec<u8>) -> Writer {
    Writer {
        ctx: buf as *mut Vec<u8> as *mut c_void,
        write: append,
    }
}

fn vtable() -> &'static DecoderVtable {
    let desc = unsafe { &*virt_manager_rfb::virt_manager_plugin_v1(std::ptr::null()) };
    assert!(desc.size >= abi::DESCRIPTOR_MIN_SIZE && !desc.decoders.is_null());
    let vt = unsafe { &*desc.decoders };
    assert!(vt.size >= abi::DECODER_VTABLE_MIN_SIZE);
    vt
}

/// The framebuffer inside canary margins.
struct Canvas {
    px: Vec<u32>,
}

impl Canvas {
    /// A copy of one template (built once: the fuzzer runs this per input).
    fn new() -> Self {
        static TEMPLATE: OnceLock<Vec<u32>> = OnceLock::new();
        let px = TEMPLATE.get_or_init(|| {
            let mut px = vec![CANARY; CANVAS_W * CANVAS_H];
            for y in 0..FB_H {
                for x in 0..FB_W {
                    px[(y + MARGIN) * CANVAS_W + x + MARGIN] =
                        ((x * 7 + y * 13) as u32).wrapping_mul(0x9e37_79b9) & 0x00ff_ffff;
                }
            }
            px
        });
        Canvas { px: px.clone() }
    }

    fn framebuffer(&mut self) -> abi::Framebuffer {
        abi::Framebuffer {
            pixels: self.px[MARGIN * CANVAS_W + MARGIN..].as_mut_ptr() as *mut u8,
            stride: CANVAS_W * 4,
            width: FB_W as u32,
            height: FB_H as u32,
        }
    }

    /// Everything outside `r` (margins included) is as it was. Compares
    /// row slices, which become memcmp: per-pixel loops under ASan would
    /// cost most of the fuzzer's time.
    fn check_outside(&self, before: &[u32], r: &Rect) {
        let (x0, x1) = (
            MARGIN + r.x as usize,
            MARGIN + r.x as usize + r.width as usize,
        );
        let ys = MARGIN + r.y as usize..MARGIN + r.y as usize + r.height as usize;
        let rows = self
            .px
            .chunks_exact(CANVAS_W)
            .zip(before.chunks_exact(CANVAS_W));
        for (y, (now, was)) in rows.enumerate() {
            let same = if ys.contains(&y) {
                now[..x0] == was[..x0] && now[x1..] == was[x1..]
            } else {
                now == was
            };
            assert!(same, "canvas row {y} was written outside {r:?}");
        }
    }
}

/// A rectangle inside the framebuffer from four fuzzer bytes.
fn rect_from(h: &[u8], encoding: i32) -> Rect {
    let x = h[0] as usize % FB_W;
    let y = h[1] as usize % FB_H;
    let width = h[2] as usize % (FB_W - x + 1);
    let height = h[3] as usize % (FB_H - y + 1);
    Rect {
        x: x as u16,
        y: y as u16,
        width: width as u16,
        height: height as u16,
        encoding,
    }
}

/// Feeds one rectangle like the host does; the bytes it took, or `None`
/// when the data ran out or the decoder refused it (a host then drops the
/// connection).
fn feed_rect(
    vt: &DecoderVtable,
    handle: DecoderHandle,
    rect: &Rect,
    data: &[u8],
    step: usize,
    canvas: &mut Canvas,
) -> Option<usize> {
    let before = canvas.px.clone();
    let (mut base, mut avail) = (0, data.len().min(step));
    let mut err = Vec::new();
    let outcome = loop {
        let given = &data[base..avail];
        let mut result = DecodeResult::default();
        err.clear();
        let fb = canvas.framebuffer();
        let status = unsafe {
            (vt.decode)(
                handle,
                rect,
                Bytes::from_slice(given),
                &fb,
                &mut result,
                writer(&mut err),
            )
        };
        if status != 0 {
            let msg = String::from_utf8_lossy(&err);
            assert_ne!(
                status,
                ErrorCode::Panicked as i32,
                "the decoder panicked: {msg}"
            );
            assert!(!msg.is_empty(), "error {status} without a message");
            break None;
        }
        match result.kind {
            abi::DECODE_NEED_MORE => {
                assert!(result.count > 0, "NeedMore(0)");
                let want = avail.checked_add(result.count)?;
                if want > data.len() {
                    break None;
                }
                avail = want.max(avail.saturating_add(step).min(data.len()));
            }
            abi::DECODE_PARTIAL => {
                assert!(result.count > 0, "Partial(0)");
                assert!(
                    result.count <= given.len(),
                    "Partial({}) of {} bytes",
                    result.count,
                    given.len()
                );
                base += result.count;
            }
            abi::DECODE_DONE => {
                assert!(
                    result.count <= given.len(),
                    "Done({}) of {} bytes",
                    result.count,
                    given.len()
                );
                break Some(base + result.count);
            }
            other => panic!("unknown result kind {other}"),
        }
    };
    canvas.check_outside(&before, rect);
    outcome
}

/// Runs one fuzz input against a fresh decoder for `encoding`.
pub fn run_decoder(encoding: i32, input: &[u8]) {
    let Some((&feed, mut rest)) = input.split_first() else {
        return;
    };
    let step = if feed == 0 { usize::MAX } else { feed as usize };
    let vt = vtable();
    let mut handle: DecoderHandle = std::ptr::null_mut();
    let mut err = Vec::new();
    let status =
        unsafe { (vt.create)(encoding, &PixelFormat::HOST, &mut handle, writer(&mut err)) };
    assert_eq!(status, 0, "create: {}", String::from_utf8_lossy(&err));
    assert!(!handle.is_null());
    let mut canvas = Canvas::new();
    while rest.len() >= 4 {
        let rect = rect_from(&rest[..4], encoding);
        rest = &rest[4..];
        match feed_rect(vt, handle, &rect, rest, step, &mut canvas) {
            Some(used) => rest = &rest[used..],
            None => break,
        }
    }
    unsafe { (vt.destroy)(handle) };
}
