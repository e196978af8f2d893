//! Hextile (5): 16x16 tiles, each raw or a background with subrectangles.
//! A tile is drawn once all its bytes are present; the rectangle goes on
//! tile by tile (`Partial`), so a long rectangle is parsed once.
//!
//! The hot path is a tile whose bytes are all there: its length is known
//! from its header, so it is checked once and the tile is then drawn from
//! fixed-size chunks, straight into the tile's span of the framebuffer
//! (one bounds check per tile for its background rows, one per write for
//! its subrectangles, none per row lookup). Most subrectangles of real
//! sessions are single pixels (anti-aliased text): those are one store.

use virt_manager_plugin_api::{Decoded, Target};

use crate::error::DecodeError;
use crate::pixel::{copy_pixels, pixel, rect_span};
use crate::RectDecoder;

const RAW: u8 = 1;
const BACKGROUND: u8 = 2;
const FOREGROUND: u8 = 4;
const ANY_SUBRECTS: u8 = 8;
const COLOURED: u8 = 16;

const OUTSIDE: DecodeError =
    DecodeError::Malformed("Hextile: a subrectangle lies outside its tile");

#[derive(Default)]
pub struct Hextile {
    /// Index of the next tile, row-major.
    tile: usize,
    /// Carried from tile to tile within a rectangle; `None` until sent.
    bg: Option<u32>,
    fg: Option<u32>,
}

/// The pixel at `at` of a slice known to hold it.
#[inline(always)]
fn pixel_at(d: &[u8], at: usize) -> u32 {
    pixel([d[at], d[at + 1], d[at + 2], d[at + 3]])
}

/// One tile's place in the rectangle's span: its first pixel, its size
/// and the distance between rows.
#[derive(Clone, Copy)]
struct Tile {
    base: usize,
    pitch: usize,
    w: usize,
    h: usize,
}

impl Tile {
    /// The tile's own span: from its first pixel to its last (one bounds
    /// check for the tile; the writes into it are checked against it).
    #[inline(always)]
    fn span(self, span: &mut [u32]) -> &mut [u32] {
        &mut span[self.base..self.base + (self.h - 1) * self.pitch + self.w]
    }

    /// Fills the whole tile, `ts` (its span).
    #[inline(always)]
    fn fill(self, ts: &mut [u32], colour: u32) {
        if self.w == 16 {
            assert_eq!(ts.len(), (self.h - 1) * self.pitch + 16);
            for r in 0..self.h {
                let o = r * self.pitch;
                // SAFETY: r < h, so o + 16 <= (h - 1) * pitch + 16, the
                // length of `ts` (checked above): the row is inside it.
                // Every tile's background goes through here, and a
                // checked slice costs as much again as the four vector
                // stores of the row.
                unsafe { ts.get_unchecked_mut(o..o + 16) }.fill(colour);
            }
        } else {
            for r in 0..self.h {
                let o = r * self.pitch;
                ts[o..o + self.w].fill(colour);
            }
        }
    }

    /// Copies a raw tile (`src` holds exactly its pixels): memcpy rows.
    #[inline(always)]
    fn raw(self, ts: &mut [u32], src: &[u8]) {
        if self.w == 16 {
            for (r, s) in src.chunks_exact(64).enumerate() {
                let o = r * self.pitch;
                copy_pixels(&mut ts[o..o + 16], s);
            }
        } else {
            for (r, s) in src.chunks_exact(self.w * 4).enumerate() {
                let o = r * self.pitch;
                copy_pixels(&mut ts[o..o + self.w], s);
            }
        }
    }
}

/// Draws a tile's subrectangles, `d` (six bytes each when `COLOURED`,
/// else two in `fg`), into `ts`, the tile's span with rows `pitch` apart,
/// each checked against the tile, `tw`x`th` (16x16 when `FULL`: a single
/// pixel then cannot fall outside). Out of line, so that the loop over
/// them has the registers to itself.
#[inline(never)]
fn subrects<const COLOURED: bool, const FULL: bool>(
    ts: &mut [u32],
    pitch: usize,
    (tw, th): (usize, usize),
    d: &[u8],
    fg: u32,
) -> Result<(), DecodeError> {
    let (tw, th) = if FULL { (16, 16) } else { (tw, th) };
    let mut each = |colour: u32, xy: u8, wh: u8| -> Result<(), DecodeError> {
        let (sx, sy) = ((xy >> 4) as usize, (xy & 15) as usize);
        let o = sy * pitch + sx;
        if wh == 0 {
            // A single pixel: most subrectangles (anti-aliased text).
            if !FULL && (sx >= tw || sy >= th) {
                return Err(OUTSIDE);
            }
            ts[o] = colour;
            return Ok(());
        }
        let (sw, sh) = ((wh >> 4) as usize + 1, (wh & 15) as usize + 1);
        if sx + sw > tw || sy + sh > th {
            return Err(OUTSIDE);
        }
        if sh == 1 {
            ts[o..o + sw].fill(colour);
        } else {
            for r in 0..sh {
                let o = o + r * pitch;
                ts[o..o + sw].fill(colour);
            }
        }
        Ok(())
    };
    // Arrays rather than chunks: the loop keeps a pointer, no length.
    if COLOURED {
        for s in d.as_chunks::<6>().0 {
            each(pixel([s[0], s[1], s[2], s[3]]), s[4], s[5])?;
        }
    } else {
        for &[xy, wh] in d.as_chunks::<2>().0 {
            each(fg, xy, wh)?;
        }
    }
    Ok(())
}

impl RectDecoder for Hextile {
    fn step(&mut self, data: &[u8], target: &mut Target<'_>) -> Result<Decoded, DecodeError> {
        let (w, h) = (target.width(), target.height());
        let across = w.div_ceil(16);
        let total = across * h.div_ceil(16);
        if self.tile >= total {
            // An empty rectangle: no tiles, no bytes.
            self.abort();
            return Ok(Decoded::Done(0));
        }
        // SAFETY: every write below is inside a tile, and tiles lie inside
        // the rectangle (x + tw <= w, y + th <= h): only the first `w`
        // pixels of each row of the span are written.
        let (span, pitch) = unsafe { rect_span(target) }.expect("a non-empty rectangle");
        // The state lives in locals while tiles go by, and is stored back
        // only when the rectangle stops part-way.
        let mut tile = self.tile;
        let (mut x, mut y) = ((tile % across) * 16, (tile / across) * 16);
        let (mut bg, mut fg) = (self.bg, self.fg);
        let mut pos = 0;
        // How many bytes the tile at `pos` needs in all, when it is not
        // all there: stops the rectangle.
        let need = loop {
            let (tw, th) = ((w - x).min(16), (h - y).min(16));
            let t = Tile {
                base: y * pitch + x,
                pitch,
                w: tw,
                h: th,
            };
            let rest = &data[pos..];
            let Some(&mask) = rest.first() else {
                break 1;
            };
            let len = if mask & RAW != 0 {
                let len = 1 + tw * th * 4;
                let Some(src) = rest.get(1..len) else {
                    break len;
                };
                t.raw(t.span(span), src);
                len
            } else {
                // The header: mask, background, foreground, count.
                let mut n = 1;
                if mask & BACKGROUND != 0 {
                    n += 4;
                }
                if mask & FOREGROUND != 0 {
                    n += 4;
                }
                let (count, each) = if mask & ANY_SUBRECTS != 0 {
                    n += 1;
                    let Some(&count) = rest.get(n - 1) else {
                        break n;
                    };
                    (count as usize, if mask & COLOURED != 0 { 6 } else { 2 })
                } else {
                    (0, 0)
                };
                let len = n + count * each;
                let Some(d) = rest.get(..len) else {
                    break len;
                };
                // All of the tile is here: draw it.
                let mut p = 1;
                if mask & BACKGROUND != 0 {
                    bg = Some(pixel_at(d, p));
                    p += 4;
                }
                if mask & FOREGROUND != 0 {
                    fg = Some(pixel_at(d, p));
                }
                let Some(bg) = bg else {
                    return Err(DecodeError::Malformed(
                        "Hextile: a tile without a background",
                    ));
                };
                let ts = t.span(span);
                t.fill(ts, bg);
                if count > 0 {
                    let subs = &d[n..];
                    let full = tw == 16 && th == 16;
                    let dims = (tw, th);
                    if mask & COLOURED != 0 {
                        if full {
                            subrects::<true, true>(ts, pitch, dims, subs, 0)?;
                        } else {
                            subrects::<true, false>(ts, pitch, dims, subs, 0)?;
                        }
                    } else {
                        let fg = fg.ok_or(DecodeError::Malformed(
                            "Hextile: subrectangles without a foreground",
                        ))?;
                        if full {
                            subrects::<false, true>(ts, pitch, dims, subs, fg)?;
                        } else {
                            subrects::<false, false>(ts, pitch, dims, subs, fg)?;
                        }
                    }
                }
                len
            };
            pos += len;
            tile += 1;
            if tile == total {
                self.abort();
                return Ok(Decoded::Done(pos));
            }
            x += 16;
            if x >= w {
                x = 0;
                y += 16;
            }
        };
        if pos == 0 {
            return Ok(Decoded::NeedMore(need - data.len()));
        }
        self.tile = tile;
        self.bg = bg;
        self.fg = fg;
        Ok(Decoded::Partial(pos))
    }

    fn abort(&mut self) {
        *self = Hextile::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    fn px(v: u32) -> [u8; 4] {
        v.to_ne_bytes()
    }

    #[test]
    fn every_subencoding() {
        // 20x18: tiles of 16x16, 4x16, 16x2, 4x2.
        let r = rect(2, 3, 20, 18, crate::HEXTILE);
        let mut d = Vec::new();
        // Tile 0: background, foreground, two plain subrectangles.
        d.push(BACKGROUND | FOREGROUND | ANY_SUBRECTS);
        d.extend(px(0x101010));
        d.extend(px(0xff0000));
        d.extend([2, 0x11, 0x00]); // 2 subrects: (1,1) 1x1
        d.extend([0xf0, 0x0f]); // (15,0) 1x16
                                // Tile 1: raw 4x16.
        d.push(RAW);
        for i in 0..64u32 {
            d.extend(px(0x020000 + i));
        }
        // Tile 2: nothing specified: carried background, solid.
        d.push(0);
        // Tile 3: coloured subrectangles over a new background.
        d.push(BACKGROUND | ANY_SUBRECTS | COLOURED);
        d.extend(px(0x303030));
        d.push(1);
        d.extend(px(0x00ff00));
        d.extend([0x10, 0x21]); // (1,0) 3x2
        let mut want = vec![0u32; 20 * 18];
        for y in 0..18 {
            for x in 0..20 {
                want[y * 20 + x] = match (x, y) {
                    (1, 1) | (15, 0..=15) => 0xff0000,
                    (0..=15, 0..=15) => 0x101010,
                    (16.., 0..=15) => 0x020000 + ((y * 4) + x - 16) as u32,
                    (0..=15, _) => 0x101010,
                    (17..=19, 16..) => 0x00ff00,
                    _ => 0x303030,
                };
            }
        }
        seed("hextile", "every-subencoding", &[(r, d.clone())]);
        let mut fb = Fb::new(24, 24);
        assert_eq!(
            feed_bytewise(crate::HEXTILE, &r, &d, &mut fb).unwrap(),
            d.len()
        );
        fb.assert_rect(&r, &want);
        let mut fb = Fb::new(24, 24);
        assert_eq!(
            decode_all(crate::HEXTILE, &r, &d, &mut fb).unwrap(),
            d.len()
        );
        fb.assert_rect(&r, &want);
    }

    #[test]
    fn state_does_not_leak_between_rectangles() {
        let r = rect(0, 0, 4, 4, crate::HEXTILE);
        let mut dec = crate::new_decoder(crate::HEXTILE, &HOST).unwrap();
        let mut fb = Fb::new(4, 4);
        let mut d = vec![BACKGROUND];
        d.extend(px(5));
        decode_with(&mut *dec, &r, &d, &mut fb).unwrap();
        // The next rectangle's first tile may not lean on the old background.
        assert!(decode_with(&mut *dec, &r, &[0], &mut fb).is_err());
    }

    #[test]
    fn hostile_tiles_fail() {
        let r = rect(0, 0, 4, 4, crate::HEXTILE);
        let mut fb = Fb::new(4, 4);
        // A subrectangle past the 4x4 tile.
        let mut d = vec![BACKGROUND | FOREGROUND | ANY_SUBRECTS];
        d.extend(px(1));
        d.extend(px(2));
        d.extend([1, 0x22, 0x22]);
        assert!(decode_all(crate::HEXTILE, &r, &d, &mut fb).is_err());
        // Subrectangles with no foreground ever given.
        let mut d = vec![BACKGROUND | ANY_SUBRECTS];
        d.extend(px(1));
        d.extend([1, 0, 0]);
        assert!(decode_all(crate::HEXTILE, &r, &d, &mut fb).is_err());
    }

    #[test]
    fn many_tiles_are_parsed_once() {
        // 256x256 of solid tiles: each call after the first consumes.
        let r = rect(0, 0, 256, 256, crate::HEXTILE);
        let mut d = vec![BACKGROUND];
        d.extend(px(9));
        d.extend(std::iter::repeat_n(0u8, 255));
        let mut fb = Fb::new(256, 256);
        let mut dec = crate::new_decoder(crate::HEXTILE, &HOST).unwrap();
        assert_eq!(
            fb.decode(&mut *dec, &r, &d[..100]).unwrap(),
            Decoded::Partial(100)
        );
        assert_eq!(
            fb.decode(&mut *dec, &r, &d[100..]).unwrap(),
            Decoded::Done(d.len() - 100)
        );
        fb.assert_rect(&r, &vec![9; 256 * 256]);
    }
}
