//! Hextile (5): 16x16 tiles, each raw or a background with subrectangles.
//! A tile is drawn once all its bytes are present; the rectangle goes on
//! tile by tile (`Partial`), so a long rectangle is parsed once.

use virt_manager_plugin_api::{Decoded, Target};

use crate::error::DecodeError;
use crate::pixel::{copy_pixels, fill, pixel};
use crate::RectDecoder;

const RAW: u8 = 1;
const BACKGROUND: u8 = 2;
const FOREGROUND: u8 = 4;
const ANY_SUBRECTS: u8 = 8;
const COLOURED: u8 = 16;

#[derive(Default)]
pub struct Hextile {
    /// Index of the next tile, row-major.
    tile: usize,
    /// Carried from tile to tile within a rectangle; `None` until sent.
    bg: Option<u32>,
    fg: Option<u32>,
}

/// The length of a tile's encoding, or `Err(n)`: at least `n` bytes in all.
fn tile_len(d: &[u8], tw: usize, th: usize) -> Result<usize, usize> {
    let mask = *d.first().ok_or(1usize)?;
    if mask & RAW != 0 {
        return Ok(1 + tw * th * 4);
    }
    let mut n = 1;
    if mask & BACKGROUND != 0 {
        n += 4;
    }
    if mask & FOREGROUND != 0 {
        n += 4;
    }
    if mask & ANY_SUBRECTS != 0 {
        let count = *d.get(n).ok_or(n + 1)? as usize;
        n += 1 + count * if mask & COLOURED != 0 { 6 } else { 2 };
    }
    Ok(n)
}

impl Hextile {
    /// Draws one complete tile at (`x`, `y`) of size `tw`x`th` from `d`.
    fn draw(
        &mut self,
        d: &[u8],
        t: &mut Target<'_>,
        x: usize,
        y: usize,
        tw: usize,
        th: usize,
    ) -> Result<(), DecodeError> {
        let mask = d[0];
        if mask & RAW != 0 {
            for (row, src) in d[1..].chunks_exact(tw * 4).enumerate() {
                copy_pixels(&mut t.row_mut(y + row)?[x..x + tw], src);
            }
            return Ok(());
        }
        let mut p = 1;
        let next_pixel = |p: &mut usize| {
            let v = pixel([d[*p], d[*p + 1], d[*p + 2], d[*p + 3]]);
            *p += 4;
            v
        };
        if mask & BACKGROUND != 0 {
            self.bg = Some(next_pixel(&mut p));
        }
        if mask & FOREGROUND != 0 {
            self.fg = Some(next_pixel(&mut p));
        }
        let bg = self.bg.ok_or(DecodeError::Malformed(
            "Hextile: a tile without a background",
        ))?;
        fill(t, x, y, tw, th, bg)?;
        if mask & ANY_SUBRECTS == 0 {
            return Ok(());
        }
        let count = d[p] as usize;
        p += 1;
        for _ in 0..count {
            let colour = if mask & COLOURED != 0 {
                next_pixel(&mut p)
            } else {
                self.fg.ok_or(DecodeError::Malformed(
                    "Hextile: subrectangles without a foreground",
                ))?
            };
            let (xy, wh) = (d[p], d[p + 1]);
            p += 2;
            let (sx, sy) = ((xy >> 4) as usize, (xy & 15) as usize);
            let (sw, sh) = ((wh >> 4) as usize + 1, (wh & 15) as usize + 1);
            if sx + sw > tw || sy + sh > th {
                return Err(DecodeError::Malformed(
                    "Hextile: a subrectangle lies outside its tile",
                ));
            }
            fill(t, x + sx, y + sy, sw, sh, colour)?;
        }
        Ok(())
    }
}

impl RectDecoder for Hextile {
    fn step(&mut self, data: &[u8], target: &mut Target<'_>) -> Result<Decoded, DecodeError> {
        let (w, h) = (target.width(), target.height());
        let across = w.div_ceil(16);
        let total = across * h.div_ceil(16);
        let mut pos = 0;
        while self.tile < total {
            let (x, y) = ((self.tile % across) * 16, (self.tile / across) * 16);
            let (tw, th) = ((w - x).min(16), (h - y).min(16));
            let rest = &data[pos..];
            let len = match tile_len(rest, tw, th) {
                Ok(len) if len <= rest.len() => len,
                Ok(len) | Err(len) => {
                    return Ok(match pos {
                        0 => Decoded::NeedMore(len - rest.len()),
                        _ => Decoded::Partial(pos),
                    });
                }
            };
            self.draw(&rest[..len], target, x, y, tw, th)?;
            pos += len;
            self.tile += 1;
        }
        self.abort();
        Ok(Decoded::Done(pos))
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
