//! ZRLE (16): 64x64 tiles of CPIXELs (three bytes for the host format),
//! raw, solid, packed-palette or run-length coded, through one zlib stream
//! kept for the connection. The chunk is length-prefixed: wait for all of
//! it, inflate it into scratch, then draw tile by tile.

use virt_manager_plugin_api::{Decoded, Target};

use crate::error::DecodeError;
use crate::pixel::{copy_cpixels, cpixel, fill, read_palette};
use crate::wire::u32_at;
use crate::zlib::max_compressed;
use crate::zstream::ZStream;
use crate::RectDecoder;

const TILE: usize = 64;
const CPIXEL: usize = 3;

pub struct Zrle {
    stream: ZStream,
    /// Inflated tiles of the current rectangle; reused.
    scratch: Vec<u8>,
    palette: [u32; 128],
}

impl Zrle {
    pub fn new() -> Self {
        Zrle {
            stream: ZStream::new("ZRLE"),
            scratch: Vec::new(),
            palette: [0; 128],
        }
    }
}

/// The most inflated bytes a `w`x`h` rectangle can take: plain RLE with
/// runs of one costs four bytes a pixel, a palette tile at most 382 bytes
/// of header.
fn max_inflated(w: usize, h: usize) -> usize {
    let tiles = w.div_ceil(TILE) * h.div_ceil(TILE);
    (w * h)
        .saturating_mul(4)
        .saturating_add(tiles.saturating_mul(1 + 127 * CPIXEL + 2))
}

fn truncated() -> DecodeError {
    DecodeError::Malformed("ZRLE: the tile data ends early")
}

/// A cursor over the inflated data.
struct Reader<'a> {
    d: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let s = self.d.get(self.pos..self.pos + n).ok_or_else(truncated)?;
        self.pos += n;
        Ok(s)
    }

    #[inline]
    fn u8(&mut self) -> Result<u8, DecodeError> {
        let b = *self.d.get(self.pos).ok_or_else(truncated)?;
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    fn cpixel(&mut self) -> Result<u32, DecodeError> {
        let s = self.take(CPIXEL)?;
        Ok(cpixel([s[0], s[1], s[2]]))
    }

    /// A run length: one plus the sum of bytes up to the first non-255.
    #[inline]
    fn run(&mut self, limit: usize) -> Result<usize, DecodeError> {
        let mut len = 1;
        loop {
            let b = self.u8()?;
            len += b as usize;
            if len > limit {
                return Err(DecodeError::Malformed(
                    "ZRLE: a run goes past the end of its tile",
                ));
            }
            if b != 255 {
                return Ok(len);
            }
        }
    }
}

/// Where the next run of an RLE tile goes: runs wrap from row to row.
struct RunCursor {
    /// The tile's top-left corner in the rectangle, and its width.
    x: usize,
    y: usize,
    tw: usize,
    /// The next pixel within the tile.
    cx: usize,
    cy: usize,
}

impl RunCursor {
    #[inline]
    fn fill(&mut self, t: &mut Target<'_>, mut run: usize, colour: u32) -> Result<(), DecodeError> {
        while run > 0 {
            let n = run.min(self.tw - self.cx);
            let start = self.x + self.cx;
            t.row_mut(self.y + self.cy)?[start..start + n].fill(colour);
            run -= n;
            self.cx += n;
            if self.cx == self.tw {
                self.cx = 0;
                self.cy += 1;
            }
        }
        Ok(())
    }
}

impl Zrle {
    fn tile(
        &mut self,
        r: &mut Reader<'_>,
        t: &mut Target<'_>,
        x: usize,
        y: usize,
        tw: usize,
        th: usize,
    ) -> Result<(), DecodeError> {
        let sub = r.u8()?;
        match sub {
            0 => {
                let src = r.take(tw * th * CPIXEL)?;
                for (row, s) in src.chunks_exact(tw * CPIXEL).enumerate() {
                    copy_cpixels(&mut t.row_mut(y + row)?[x..x + tw], s);
                }
            }
            1 => {
                let c = r.cpixel()?;
                fill(t, x, y, tw, th, c)?;
            }
            2..=16 => {
                let size = sub as usize;
                read_palette(&mut self.palette[..size], r.take(size * CPIXEL)?, cpixel);
                let bits = match size {
                    2 => 1,
                    3 | 4 => 2,
                    _ => 4,
                };
                let row_bytes = (tw * bits).div_ceil(8);
                let packed = r.take(row_bytes * th)?;
                let (palette, mask) = (&self.palette[..size], (1u8 << bits) - 1);
                for (row, src) in packed.chunks_exact(row_bytes).enumerate() {
                    let dst = &mut t.row_mut(y + row)?[x..x + tw];
                    for (i, d) in dst.iter_mut().enumerate() {
                        let bit = i * bits;
                        let index = (src[bit / 8] >> (8 - bits - bit % 8)) & mask;
                        *d = *palette.get(index as usize).ok_or(DecodeError::Malformed(
                            "ZRLE: a palette index is out of range",
                        ))?;
                    }
                }
            }
            128 => {
                let (mut at, mut left) = (
                    RunCursor {
                        x,
                        y,
                        tw,
                        cx: 0,
                        cy: 0,
                    },
                    tw * th,
                );
                while left > 0 {
                    let c = r.cpixel()?;
                    let run = r.run(left)?;
                    at.fill(t, run, c)?;
                    left -= run;
                }
            }
            130..=255 => {
                let size = (sub - 128) as usize;
                read_palette(&mut self.palette[..size], r.take(size * CPIXEL)?, cpixel);
                let (mut at, mut left) = (
                    RunCursor {
                        x,
                        y,
                        tw,
                        cx: 0,
                        cy: 0,
                    },
                    tw * th,
                );
                while left > 0 {
                    let b = r.u8()?;
                    let index = (b & 0x7f) as usize;
                    if index >= size {
                        return Err(DecodeError::Malformed(
                            "ZRLE: a palette index is out of range",
                        ));
                    }
                    let run = if b & 0x80 != 0 { r.run(left)? } else { 1 };
                    at.fill(t, run, self.palette[index])?;
                    left -= run;
                }
            }
            _ => return Err(DecodeError::Malformed("ZRLE: an unknown tile subencoding")),
        }
        Ok(())
    }
}

impl RectDecoder for Zrle {
    fn step(&mut self, data: &[u8], target: &mut Target<'_>) -> Result<Decoded, DecodeError> {
        let len = match u32_at(data, 0) {
            Ok(len) => len as usize,
            Err(n) => return Ok(Decoded::NeedMore(n)),
        };
        let (w, h) = (target.width(), target.height());
        let limit = max_inflated(w, h);
        if len > max_compressed(limit) {
            return Err(DecodeError::Malformed(
                "ZRLE: the compressed length is larger than the rectangle could need",
            ));
        }
        let Some(chunk) = data.get(4..4 + len) else {
            return Ok(Decoded::NeedMore(4 + len - data.len()));
        };
        let mut scratch = std::mem::take(&mut self.scratch);
        let result = self.draw(chunk, &mut scratch, limit, target);
        self.scratch = scratch;
        result?;
        Ok(Decoded::Done(4 + len))
    }

    fn abort(&mut self) {}
}

impl Zrle {
    fn draw(
        &mut self,
        chunk: &[u8],
        scratch: &mut Vec<u8>,
        limit: usize,
        t: &mut Target<'_>,
    ) -> Result<(), DecodeError> {
        let n = self.stream.inflate_all(chunk, scratch, limit)?;
        let mut r = Reader {
            d: &scratch[..n],
            pos: 0,
        };
        let (w, h) = (t.width(), t.height());
        for y in (0..h).step_by(TILE) {
            for x in (0..w).step_by(TILE) {
                self.tile(&mut r, t, x, y, (w - x).min(TILE), (h - y).min(TILE))?;
            }
        }
        if r.pos != n {
            return Err(DecodeError::Malformed(
                "ZRLE: more data than the rectangle needs",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;

    fn cpx(v: u32) -> [u8; 3] {
        let b = v.to_ne_bytes();
        if cfg!(target_endian = "little") {
            [b[0], b[1], b[2]]
        } else {
            [b[1], b[2], b[3]]
        }
    }

    fn run(mut n: usize) -> Vec<u8> {
        let mut v = Vec::new();
        n -= 1;
        while n >= 255 {
            v.push(255);
            n -= 255;
        }
        v.push(n as u8);
        v
    }

    fn wrap(z: &mut Deflater, tiles: &[u8]) -> Vec<u8> {
        let c = z.chunk(tiles);
        let mut d = (c.len() as u32).to_be_bytes().to_vec();
        d.extend(c);
        d
    }

    /// Tiles for a 70x66 rectangle: 64x64, 6x64, 64x2, 6x2; one subencoding each,
    /// and the expected picture.
    fn sample(kinds: [u8; 4]) -> (Vec<u8>, Vec<u32>) {
        let (w, h) = (70usize, 66usize);
        let mut want = vec![0u32; w * h];
        let mut d = Vec::new();
        let tiles = [
            (0, 0, 64, 64),
            (64, 0, 6, 64),
            (0, 64, 64, 2),
            (64, 64, 6, 2),
        ];
        for (k, &(tx, ty, tw, th)) in kinds.iter().zip(tiles.iter()) {
            let pic = picture(tw, th, tx as u32 * 7 + ty as u32 + *k as u32);
            let mut put = |i: usize, v: u32| want[(ty + i / tw) * w + tx + i % tw] = v;
            d.push(*k);
            match *k {
                0 => {
                    for (i, &p) in pic.iter().enumerate() {
                        d.extend(cpx(p));
                        put(i, p);
                    }
                }
                1 => {
                    d.extend(cpx(0x123456));
                    (0..tw * th).for_each(|i| put(i, 0x123456));
                }
                2..=16 => {
                    let size = *k as usize;
                    let pal: Vec<u32> = (0..size as u32).map(|i| 0x010101 * (i * 13 + 1)).collect();
                    pal.iter().for_each(|&p| d.extend(cpx(p)));
                    let bits = match size {
                        2 => 1,
                        3 | 4 => 2,
                        _ => 4,
                    };
                    for yy in 0..th {
                        let mut row = vec![0u8; (tw * bits).div_ceil(8)];
                        for xx in 0..tw {
                            let idx = (pic[yy * tw + xx] as usize) % size;
                            let bit = xx * bits;
                            row[bit / 8] |= (idx as u8) << (8 - bits - bit % 8);
                            put(yy * tw + xx, pal[idx]);
                        }
                        d.extend(row);
                    }
                }
                128 => {
                    // Runs of 1, 300 (crossing rows), and the rest.
                    let total = tw * th;
                    let runs = [1, 300.min(total - 1), total - 1 - 300.min(total - 1)];
                    let mut i = 0;
                    for (j, &n) in runs.iter().enumerate().filter(|(_, n)| **n > 0) {
                        let c = 0x0a0b0c * (j as u32 + 1);
                        d.extend(cpx(c));
                        d.extend(run(n));
                        (i..i + n).for_each(|p| put(p, c));
                        i += n;
                    }
                }
                130..=255 => {
                    let size = (*k - 128) as usize;
                    let pal: Vec<u32> = (0..size as u32).map(|i| 0x030201 * (i + 1)).collect();
                    pal.iter().for_each(|&p| d.extend(cpx(p)));
                    let mut i = 0;
                    let mut j = 0;
                    while i < tw * th {
                        let n = [1, 2, 256, 3][j % 4].min(tw * th - i);
                        let idx = j % size;
                        if n == 1 {
                            d.push(idx as u8);
                        } else {
                            d.push(idx as u8 | 0x80);
                            d.extend(run(n));
                        }
                        (i..i + n).for_each(|p| put(p, pal[idx]));
                        i += n;
                        j += 1;
                    }
                }
                _ => unreachable!(),
            }
        }
        (d, want)
    }

    #[test]
    fn every_subencoding_bytewise_and_whole() {
        let r = rect(1, 2, 70, 66, crate::ZRLE);
        let mut z = Deflater::new();
        let mut dec = crate::new_decoder(crate::ZRLE, &HOST).unwrap();
        let mut fb = Fb::new(72, 70);
        let sets = [
            [0, 1, 2, 3],
            [4, 5, 16, 128],
            [130, 131, 255, 0],
            [128, 1, 7, 200],
            [129 + 1, 3, 1, 0],
        ];
        let mut seen = Vec::new();
        for (i, kinds) in sets.iter().enumerate() {
            let (tiles, want) = sample(*kinds);
            let d = wrap(&mut z, &tiles);
            let n = if i % 2 == 0 {
                feed_bytewise_with(&mut *dec, &r, &d, &mut fb)
            } else {
                decode_with(&mut *dec, &r, &d, &mut fb)
            };
            assert_eq!(n.unwrap(), d.len(), "{kinds:?}");
            fb.assert_rect(&r, &want);
            seed("zrle", &format!("tiles-{i}"), &[(r, d.clone())]);
            seen.push((r, d));
        }
        seed("zrle", "all-tiles", &seen);
    }

    #[test]
    fn hostile_tiles_fail() {
        let r = rect(0, 0, 4, 2, crate::ZRLE);
        let mut fb = Fb::new(4, 2);
        let cases: Vec<Vec<u8>> = vec![
            vec![17],                                      // unused subencoding
            vec![129],                                     // unused subencoding
            [&[3u8][..], &[0; 9], &[0xff, 0xff]].concat(), // index 3 of a palette of 3
            [&[130u8][..], &[0; 6], &[0x82]].concat(),     // palette RLE index 2 of 2
            [&[128u8][..], &[0; 3], &[8]].concat(),        // a run of 9 in 8 pixels
            [&[1u8][..], &[0; 3], &[0]].concat(),          // a byte too many
            vec![0, 1, 2],                                 // raw, cut short
        ];
        for tiles in cases {
            let d = wrap(&mut Deflater::new(), &tiles);
            assert!(
                decode_all(crate::ZRLE, &r, &d, &mut fb).is_err(),
                "{tiles:?}"
            );
        }
        // Bad zlib, and a length no 4x2 rectangle needs.
        let mut d = 4u32.to_be_bytes().to_vec();
        d.extend([1, 2, 3, 4]);
        assert!(decode_all(crate::ZRLE, &r, &d, &mut fb).is_err());
        let mut dec = crate::new_decoder(crate::ZRLE, &HOST).unwrap();
        assert!(fb
            .decode(&mut *dec, &r, &0x1000_0000u32.to_be_bytes())
            .is_err());
    }

    #[test]
    fn a_zero_bomb_is_bounded() {
        // 1 MiB of zeros (a raw tile, then more) for a 4x4 rectangle: it
        // passes the length check and must stop at the inflate limit.
        let mut tiles = vec![0u8; 1 << 20];
        tiles[0] = 0;
        let d = wrap(&mut Deflater::new(), &tiles);
        let r = rect(0, 0, 4, 4, crate::ZRLE);
        let mut fb = Fb::new(4, 4);
        assert!(decode_all(crate::ZRLE, &r, &d, &mut fb).is_err());
    }
}
