//! Zlib (6): raw pixels through one zlib stream kept for the connection.
//! The chunk is length-prefixed: wait for all of it, then inflate straight
//! into the framebuffer: in one call when the rectangle's rows are
//! contiguous (full width), else through a small band buffer. Inflating
//! row by row costs more than the copy: zlib's fast loop needs 258 bytes
//! of room, so the end of every short output goes through its slow one.

use virt_manager_plugin_api::{Decoded, Target};

use crate::error::DecodeError;
use crate::pixel::{contiguous, copy_pixels};
use crate::wire::u32_at;
use crate::zstream::ZStream;
use crate::RectDecoder;

pub struct Zlib {
    stream: ZStream,
    /// Rows of a rectangle that is not full width, a band at a time;
    /// reused.
    band: Vec<u8>,
}

/// Bytes inflated at once for a rectangle that is not full width.
const BAND: usize = 64 * 1024;

impl Zlib {
    pub fn new() -> Self {
        Zlib {
            stream: ZStream::new("Zlib"),
            band: Vec::new(),
        }
    }
}

/// The most compressed bytes a chunk of `raw` bytes can honestly take:
/// deflate's worst case is a few bytes per 16 KiB block, plus sync-flush
/// markers. Anything longer is refused before the host buffers it.
pub fn max_compressed(raw: usize) -> usize {
    raw.saturating_add(raw / 2).saturating_add(4096)
}

impl RectDecoder for Zlib {
    fn step(&mut self, data: &[u8], target: &mut Target<'_>) -> Result<Decoded, DecodeError> {
        let len = match u32_at(data, 0) {
            Ok(len) => len as usize,
            Err(n) => return Ok(Decoded::NeedMore(n)),
        };
        let (w, h) = (target.width(), target.height());
        if len > max_compressed((w * h).saturating_mul(4)) {
            return Err(DecodeError::Malformed(
                "Zlib: the compressed length is larger than the rectangle could need",
            ));
        }
        let Some(chunk) = data.get(4..4 + len) else {
            return Ok(Decoded::NeedMore(4 + len - data.len()));
        };
        let mut input = chunk;
        if let Some(pixels) = contiguous(target) {
            self.stream
                .fill(&mut input, bytemuck::cast_slice_mut(pixels))?;
        } else if w > 0 {
            let row_bytes = w * 4;
            let rows = (BAND / row_bytes).max(1);
            let mut y = 0;
            while y < h {
                let n = rows.min(h - y);
                if self.band.len() < n * row_bytes {
                    self.band.resize(n * row_bytes, 0);
                }
                let band = &mut self.band[..n * row_bytes];
                self.stream.fill(&mut input, band)?;
                for (i, src) in band.chunks_exact(row_bytes).enumerate() {
                    copy_pixels(target.row_mut(y + i)?, src);
                }
                y += n;
            }
        }
        self.stream.finish(input)?;
        Ok(Decoded::Done(4 + len))
    }

    fn abort(&mut self) {}
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;

    fn encode(z: &mut Deflater, px: &[u32]) -> Vec<u8> {
        let raw: Vec<u8> = px.iter().flat_map(|p| p.to_ne_bytes()).collect();
        let c = z.chunk(&raw);
        let mut d = (c.len() as u32).to_be_bytes().to_vec();
        d.extend(c);
        d
    }

    #[test]
    fn one_stream_across_rectangles() {
        let mut z = Deflater::new();
        let mut dec = crate::new_decoder(crate::ZLIB, &HOST).unwrap();
        let mut fb = Fb::new(40, 30);
        let mut seen = Vec::new();
        for (i, (x, y, w, h)) in [(0, 0, 40, 30), (3, 4, 17, 9), (39, 29, 1, 1)]
            .into_iter()
            .enumerate()
        {
            let r = rect(x, y, w, h, crate::ZLIB);
            let px = picture(w as usize, h as usize, i as u32 + 1);
            let d = encode(&mut z, &px);
            let n = if i == 1 {
                feed_bytewise_with(&mut *dec, &r, &d, &mut fb)
            } else {
                decode_with(&mut *dec, &r, &d, &mut fb)
            };
            assert_eq!(n.unwrap(), d.len());
            fb.assert_rect(&r, &px);
            seen.push((r, d));
        }
        seed("zlib", "three-rects", &seen);
    }

    #[test]
    fn wrong_sizes_fail() {
        let mut fb = Fb::new(8, 8);
        let r = rect(0, 0, 4, 4, crate::ZLIB);
        // Too few pixels, too many pixels.
        for n in [15, 17] {
            let d = encode(&mut Deflater::new(), &vec![1; n]);
            assert!(
                decode_all(crate::ZLIB, &r, &d, &mut fb).is_err(),
                "{n} pixels"
            );
        }
        // Not zlib at all.
        let mut d = 8u32.to_be_bytes().to_vec();
        d.extend([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]);
        assert!(decode_all(crate::ZLIB, &r, &d, &mut fb).is_err());
        // A length no 4x4 rectangle needs is refused before buffering.
        let mut dec = crate::new_decoder(crate::ZLIB, &HOST).unwrap();
        assert!(fb
            .decode(&mut *dec, &r, &0x7fff_ffffu32.to_be_bytes())
            .is_err());
    }
}
