//! RFB framebuffer decoders for Virtual Machine Manager, as one plugin
//! library: CopyRect, RRE, Hextile, Zlib, Tight, ZRLE and TightPNG.
//!
//! Each decoder is a push parser (see `virt_manager_plugin_api::Decoder`):
//! encodings whose data can be long and is not length-prefixed (RRE,
//! Hextile) consume what they can and answer `Partial`, so the host never
//! re-parses; length-prefixed ones (Zlib, ZRLE, Tight) answer `NeedMore`
//! with the exact remainder and decode the whole chunk at once, so a zlib
//! stream never advances on data that might still be incomplete.
//!
//! Only the host's pixel format (`PixelFormat::HOST`, 32-bit 0x00RRGGBB)
//! is accepted. Every decoder writes through the bounds-checked `Target`.

mod copyrect;
mod error;
mod hextile;
mod image;
mod pixel;
pub mod recording;
mod rre;
mod tight;
mod wire;
mod zlib;
mod zrle;
mod zstream;

#[cfg(test)]
mod testutil;

pub use error::DecodeError;

use virt_manager_plugin_api::abi::{PixelFormat, Rect};
use virt_manager_plugin_api::{
    Decoded, Decoder, DecoderLibrary, EncodingInfo, PluginError, Target,
};

pub const COPYRECT: i32 = 1;
pub const RRE: i32 = 2;
pub const HEXTILE: i32 = 5;
pub const ZLIB: i32 = 6;
pub const TIGHT: i32 = 7;
pub const ZRLE: i32 = 16;
pub const TIGHT_PNG: i32 = -260;

/// Every encoding this library decodes, with its usual name.
pub const ENCODINGS: [(i32, &str); 7] = [
    (COPYRECT, "CopyRect"),
    (RRE, "RRE"),
    (HEXTILE, "Hextile"),
    (ZLIB, "Zlib"),
    (TIGHT, "Tight"),
    (ZRLE, "ZRLE"),
    (TIGHT_PNG, "TightPNG"),
];

/// One encoding's decoding state machine. `step` may keep state between
/// calls only when it answers `Partial`; `abort` forgets any
/// half-decoded rectangle.
trait RectDecoder: Send {
    fn step(&mut self, data: &[u8], target: &mut Target<'_>) -> Result<Decoded, DecodeError>;
    fn abort(&mut self);
}

/// Adapts a [`RectDecoder`] to the plugin trait: checks that a rectangle
/// continued after `Partial` is the same one, and resets on errors so a
/// failed rectangle cannot poison the next.
struct Stateful<D> {
    inner: D,
    /// The rectangle a `Partial` answer left half-decoded.
    current: Option<Rect>,
}

impl<D: RectDecoder> Decoder for Stateful<D> {
    fn decode(
        &mut self,
        rect: &Rect,
        data: &[u8],
        target: &mut Target<'_>,
    ) -> Result<Decoded, PluginError> {
        if self.current.is_some_and(|r| r != *rect) {
            self.inner.abort();
            self.current = None;
            return Err(DecodeError::Malformed("a rectangle was abandoned half-decoded").into());
        }
        match self.inner.step(data, target) {
            Ok(Decoded::Partial(n)) => {
                self.current = Some(*rect);
                Ok(Decoded::Partial(n))
            }
            Ok(Decoded::Done(n)) => {
                self.current = None;
                Ok(Decoded::Done(n))
            }
            Ok(more) => Ok(more),
            Err(e) => {
                self.inner.abort();
                self.current = None;
                Err(e.into())
            }
        }
    }
}

fn boxed<D: RectDecoder + 'static>(inner: D) -> Box<dyn Decoder> {
    Box::new(Stateful {
        inner,
        current: None,
    })
}

/// True when `f` is the host format (padding ignored).
fn is_host_format(f: &PixelFormat) -> bool {
    let h = PixelFormat::HOST;
    (f.bits_per_pixel, f.depth, f.big_endian, f.true_colour)
        == (h.bits_per_pixel, h.depth, h.big_endian, h.true_colour)
        && (f.red_max, f.green_max, f.blue_max) == (h.red_max, h.green_max, h.blue_max)
        && (f.red_shift, f.green_shift, f.blue_shift) == (h.red_shift, h.green_shift, h.blue_shift)
}

/// A fresh decoder for `encoding` on a new connection (what the plugin's
/// `create` does; public for the fuzz targets and the linked benchmark).
pub fn new_decoder(encoding: i32, format: &PixelFormat) -> Result<Box<dyn Decoder>, PluginError> {
    if !is_host_format(format) {
        return Err(PluginError::not_supported(format!(
            "RFB decoders take only the 32-bit host pixel format, not {format:?}"
        )));
    }
    Ok(match encoding {
        COPYRECT => boxed(copyrect::CopyRect),
        RRE => boxed(rre::Rre::default()),
        HEXTILE => boxed(hextile::Hextile::default()),
        ZLIB => boxed(zlib::Zlib::new()),
        TIGHT => boxed(tight::Tight::new(false)),
        TIGHT_PNG => boxed(tight::Tight::new(true)),
        ZRLE => boxed(zrle::Zrle::new()),
        other => {
            return Err(PluginError::not_supported(format!(
                "encoding {other} is not decoded here"
            )))
        }
    })
}

/// The plugin's decoder library.
pub struct RfbDecoders;

impl DecoderLibrary for RfbDecoders {
    fn encodings() -> Vec<EncodingInfo> {
        ENCODINGS
            .iter()
            .map(|&(encoding, name)| EncodingInfo {
                encoding,
                name: name.into(),
            })
            .collect()
    }

    fn create(encoding: i32, format: &PixelFormat) -> Result<Box<dyn Decoder>, PluginError> {
        new_decoder(encoding, format)
    }
}

virt_manager_plugin_api::export_plugin! {
    name: "rfb-decoders",
    version: env!("CARGO_PKG_VERSION"),
    decoders: RfbDecoders,
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;

    /// Zero-width and zero-height rectangles, with data that would be
    /// valid or typical for a real one: an answer, never a panic.
    #[test]
    fn empty_rectangles_never_panic() {
        let payloads: [&[u8]; 8] = [
            &[0, 0, 0, 0, 0, 0, 0, 0],
            &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            &[0x40, 1, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0],
            &[0x40, 2, 0, 0, 0],
            &[0x00, 0, 0, 0],
            &[0x90, 3, 0xff, 0xd8, 0xff],
            &[0xa0, 3, 0x89, b'P', b'N'],
            &[0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ];
        let mut fb = Fb::new(8, 8);
        for &(encoding, _) in crate::ENCODINGS.iter() {
            for (w, h) in [(0, 5), (5, 0), (0, 0)] {
                let r = rect(1, 1, w, h, encoding);
                for data in payloads {
                    let _ = decode_all(encoding, &r, data, &mut fb);
                    for n in 0..data.len() {
                        let mut dec = crate::new_decoder(encoding, &HOST).unwrap();
                        let _ = fb.decode(&mut *dec, &r, &data[..n]);
                    }
                }
            }
        }
    }
}
