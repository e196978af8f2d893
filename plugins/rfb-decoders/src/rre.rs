//! RRE (2): a background and a list of solid subrectangles. The list can be
//! long, so subrectangles are drawn as they arrive (`Partial`).
//!
//! Subrectangles are drawn straight into the rectangle's span of the
//! framebuffer, from the whole ones that are there, each checked once
//! against the rectangle; most of them in real sessions are single pixels
//! (anti-aliased text), one store each.

use virt_manager_plugin_api::{Decoded, Target};

use crate::error::DecodeError;
use crate::pixel::{fill, pixel, rect_span};
use crate::RectDecoder;

/// Bytes per subrectangle: pixel, x, y, w, h.
const SUBRECT: usize = 4 + 8;

#[derive(Default)]
pub struct Rre {
    /// Subrectangles still to come; `None` before the header.
    remaining: Option<u32>,
}

impl RectDecoder for Rre {
    fn step(&mut self, data: &[u8], target: &mut Target<'_>) -> Result<Decoded, DecodeError> {
        let (w, h) = (target.width(), target.height());
        let mut pos = 0;
        let mut remaining = match self.remaining {
            Some(n) => n,
            None => {
                if data.len() < 8 {
                    return Ok(Decoded::NeedMore(8 - data.len()));
                }
                let n = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
                let bg = pixel([data[4], data[5], data[6], data[7]]);
                fill(target, 0, 0, w, h, bg)?;
                pos = 8;
                n
            }
        };
        // The whole subrectangles that are here, at most `remaining`.
        let here = ((data.len() - pos) / SUBRECT).min(remaining as usize);
        if here > 0 {
            let mut none: [u32; 0] = [];
            // SAFETY: every write below is inside a subrectangle checked
            // to lie inside the rectangle: only the first `w` pixels of
            // each row of the span are written. An empty rectangle has no
            // span and can hold only empty subrectangles, which draw
            // nothing.
            let (span, pitch) = unsafe { rect_span(target) }.unwrap_or((&mut none[..], 0));
            for s in data[pos..pos + here * SUBRECT].chunks_exact(SUBRECT) {
                let colour = pixel([s[0], s[1], s[2], s[3]]);
                let x = u16::from_be_bytes([s[4], s[5]]) as usize;
                let y = u16::from_be_bytes([s[6], s[7]]) as usize;
                let sw = u16::from_be_bytes([s[8], s[9]]) as usize;
                let sh = u16::from_be_bytes([s[10], s[11]]) as usize;
                if x + sw > w || y + sh > h {
                    return Err(DecodeError::Malformed(
                        "RRE: a subrectangle lies outside the rectangle",
                    ));
                }
                let o = y * pitch + x;
                if sw == 1 && sh == 1 {
                    span[o] = colour;
                } else if sw != 0 {
                    for r in 0..sh {
                        let o = o + r * pitch;
                        span[o..o + sw].fill(colour);
                    }
                }
            }
            pos += here * SUBRECT;
            remaining -= here as u32;
        }
        if remaining == 0 {
            self.remaining = None;
            Ok(Decoded::Done(pos))
        } else if pos > 0 {
            self.remaining = Some(remaining);
            Ok(Decoded::Partial(pos))
        } else {
            Ok(Decoded::NeedMore(SUBRECT - data.len()))
        }
    }

    fn abort(&mut self) {
        self.remaining = None;
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;

    fn encode(bg: u32, subs: &[(u32, u16, u16, u16, u16)]) -> Vec<u8> {
        let mut d = (subs.len() as u32).to_be_bytes().to_vec();
        d.extend(bg.to_ne_bytes());
        for &(c, x, y, w, h) in subs {
            d.extend(c.to_ne_bytes());
            for v in [x, y, w, h] {
                d.extend(v.to_be_bytes());
            }
        }
        d
    }

    #[test]
    fn background_and_subrectangles() {
        let data = encode(0x111111, &[(0xff0000, 1, 1, 2, 2), (0x00ff00, 0, 3, 4, 1)]);
        let mut fb = Fb::new(6, 6);
        let r = rect(1, 1, 4, 4, crate::RRE);
        let n = feed_bytewise(crate::RRE, &r, &data, &mut fb).unwrap();
        seed("rre", "subrects", &[(r, data.clone())]);
        assert_eq!(n, data.len());
        let mut want = vec![0x111111; 16];
        for (x, y) in [(1, 1), (2, 1), (1, 2), (2, 2)] {
            want[y * 4 + x] = 0xff0000;
        }
        for x in 0..4 {
            want[12 + x] = 0x00ff00;
        }
        fb.assert_rect(&r, &want);
        // The same through whole-buffer and chunked feeding.
        let mut fb2 = Fb::new(6, 6);
        assert_eq!(
            decode_all(crate::RRE, &r, &data, &mut fb2).unwrap(),
            data.len()
        );
        fb2.assert_rect(&r, &want);
    }

    #[test]
    fn no_subrectangles() {
        let data = encode(0xabcdef, &[]);
        let mut fb = Fb::new(3, 3);
        let r = rect(0, 0, 3, 3, crate::RRE);
        assert_eq!(feed_bytewise(crate::RRE, &r, &data, &mut fb).unwrap(), 8);
        fb.assert_rect(&r, &[0xabcdef; 9]);
    }

    #[test]
    fn subrectangles_outside_fail() {
        let mut fb = Fb::new(8, 8);
        let r = rect(0, 0, 4, 4, crate::RRE);
        for bad in [(1, 3, 0, 2, 1), (1, 0, 4, 1, 1), (1, 0xffff, 0xffff, 2, 2)] {
            assert!(decode_all(crate::RRE, &r, &encode(0, &[bad]), &mut fb).is_err());
        }
    }

    #[test]
    fn a_huge_count_needs_data_not_memory() {
        let mut d = u32::MAX.to_be_bytes().to_vec();
        d.extend([0; 4]);
        let mut fb = Fb::new(4, 4);
        let r = rect(0, 0, 4, 4, crate::RRE);
        let mut dec = crate::new_decoder(crate::RRE, &HOST).unwrap();
        assert_eq!(
            fb.decode(&mut *dec, &r, &d).unwrap(),
            virt_manager_plugin_api::Decoded::Partial(8)
        );
        assert_eq!(
            fb.decode(&mut *dec, &r, &[]).unwrap(),
            virt_manager_plugin_api::Decoded::NeedMore(12)
        );
    }
}
