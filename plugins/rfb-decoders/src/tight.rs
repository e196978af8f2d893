//! Tight (7) and TightPNG (-260).
//!
//! A compression-control byte picks fill, JPEG, PNG (TightPNG) or basic
//! compression (copy, palette or gradient filter over one of four zlib
//! streams); its low four bits reset streams. Every form is either short
//! or length-prefixed, so a rectangle waits for all its bytes (`NeedMore`
//! with the exact remainder) and is then decoded at once: stream resets and
//! inflation happen only on complete data.
//!
//! TightPNG is meant to carry fill, JPEG and PNG only; basic compression is
//! accepted there too, since it costs nothing and some servers mix them.

use virt_manager_plugin_api::{Decoded, Target};

use crate::error::DecodeError;
use crate::image::Images;
use crate::pixel::{copy_tpixels, fill, read_palette, tpixel};
use crate::wire::compact_len;
use crate::zlib::max_compressed;
use crate::zstream::ZStream;
use crate::RectDecoder;

const FILL: u8 = 0x8;
const JPEG: u8 = 0x9;
const PNG: u8 = 0xA;
const FILTER_COPY: u8 = 0;
const FILTER_PALETTE: u8 = 1;
const FILTER_GRADIENT: u8 = 2;
/// Basic data shorter than this is sent without zlib.
const MIN_TO_COMPRESS: usize = 12;
const TPIXEL: usize = 3;

pub struct Tight {
    png: bool,
    streams: [ZStream; 4],
    /// Inflated basic data; reused.
    scratch: Vec<u8>,
    /// The gradient filter's previous row of components; reused.
    prev: Vec<u8>,
    palette: [u32; 256],
    images: Images,
}

/// How a basic rectangle's pixels are coded before zlib.
#[derive(Clone, Copy)]
enum Filter {
    Copy,
    Palette { size: usize },
    Gradient,
}

impl Tight {
    pub fn new(png: bool) -> Self {
        let name = if png { "TightPNG" } else { "Tight" };
        Tight {
            png,
            streams: std::array::from_fn(|_| ZStream::new(name)),
            scratch: Vec::new(),
            prev: Vec::new(),
            palette: [0; 256],
            images: Images::default(),
        }
    }

    fn reset_streams(&mut self, ctl: u8) {
        for (i, s) in self.streams.iter_mut().enumerate() {
            if ctl & (1 << i) != 0 {
                s.reset();
            }
        }
    }

    /// A compact length at `at` and the end of the data it announces.
    fn sized(data: &[u8], at: usize) -> Result<(usize, usize), usize> {
        let (len, n) = compact_len(data, at)?;
        let end = at + n + len;
        if data.len() < end {
            Err(end - data.len())
        } else {
            Ok((at + n, end))
        }
    }

    fn basic(&mut self, ctl: u8, data: &[u8], t: &mut Target<'_>) -> Result<Decoded, DecodeError> {
        let (w, h) = (t.width(), t.height());
        let mut pos = 1;
        let filter_id = if ctl & 0x40 != 0 {
            let Some(&f) = data.get(pos) else {
                return Ok(Decoded::NeedMore(1));
            };
            pos += 1;
            f
        } else {
            FILTER_COPY
        };
        let filter = match filter_id {
            FILTER_COPY => Filter::Copy,
            FILTER_GRADIENT => Filter::Gradient,
            FILTER_PALETTE => {
                let Some(&n) = data.get(pos) else {
                    return Ok(Decoded::NeedMore(1));
                };
                let size = n as usize + 1;
                pos += 1;
                if data.len() < pos + size * TPIXEL {
                    return Ok(Decoded::NeedMore(pos + size * TPIXEL - data.len()));
                }
                read_palette(
                    &mut self.palette[..size],
                    &data[pos..pos + size * TPIXEL],
                    tpixel,
                );
                pos += size * TPIXEL;
                Filter::Palette { size }
            }
            _ => return Err(DecodeError::Malformed("Tight: an unknown filter")),
        };
        let raw_len = match filter {
            Filter::Copy | Filter::Gradient => (w * h).saturating_mul(TPIXEL),
            // Two colours take one bit a pixel, rows padded to bytes.
            Filter::Palette { size: 2 } => w.div_ceil(8) * h,
            Filter::Palette { .. } => w * h,
        };
        let (pixels, end) = if raw_len < MIN_TO_COMPRESS {
            if data.len() < pos + raw_len {
                return Ok(Decoded::NeedMore(pos + raw_len - data.len()));
            }
            self.reset_streams(ctl);
            (&data[pos..pos + raw_len], pos + raw_len)
        } else {
            if let Ok((len, _)) = compact_len(data, pos) {
                if len > max_compressed(raw_len) {
                    return Err(DecodeError::Malformed(
                        "Tight: the compressed length is larger than the rectangle could need",
                    ));
                }
            }
            let (start, end) = match Self::sized(data, pos) {
                Ok(range) => range,
                Err(missing) => return Ok(Decoded::NeedMore(missing)),
            };
            self.reset_streams(ctl);
            let stream = &mut self.streams[((ctl >> 4) & 3) as usize];
            if self.scratch.len() < raw_len {
                self.scratch.resize(raw_len, 0);
            }
            let mut input = &data[start..end];
            stream.fill(&mut input, &mut self.scratch[..raw_len])?;
            stream.finish(input)?;
            (&self.scratch[..raw_len], end)
        };
        if w == 0 {
            // Nothing to draw, and rows of zero bytes cannot be chunked.
            return Ok(Decoded::Done(end));
        }
        match filter {
            Filter::Copy => {
                for (y, src) in pixels.chunks_exact(w * TPIXEL).enumerate() {
                    copy_tpixels(t.row_mut(y)?, src);
                }
            }
            Filter::Palette { size } => draw_palette(&self.palette[..size], pixels, t)?,
            Filter::Gradient => gradient(pixels, &mut self.prev, t)?,
        }
        Ok(Decoded::Done(end))
    }
}

/// Palette indices: one bit a pixel for two colours, else a byte.
fn draw_palette(palette: &[u32], src: &[u8], t: &mut Target<'_>) -> Result<(), DecodeError> {
    let w = t.width();
    let bad = || DecodeError::Malformed("Tight: a palette index is out of range");
    if palette.len() == 2 {
        for (y, row) in src.chunks_exact(w.div_ceil(8)).enumerate() {
            let dst = t.row_mut(y)?;
            for (x, d) in dst.iter_mut().enumerate() {
                *d = palette[((row[x / 8] >> (7 - x % 8)) & 1) as usize];
            }
        }
    } else {
        for (y, row) in src.chunks_exact(w).enumerate() {
            let dst = t.row_mut(y)?;
            for (d, &i) in dst.iter_mut().zip(row) {
                *d = *palette.get(i as usize).ok_or_else(bad)?;
            }
        }
    }
    Ok(())
}

/// The gradient filter: each component is the prediction left + above -
/// above-left (clamped to 0..=255) plus the sent difference, modulo 256.
fn gradient(src: &[u8], prev: &mut Vec<u8>, t: &mut Target<'_>) -> Result<(), DecodeError> {
    let w = t.width();
    let row_len = w * TPIXEL;
    prev.clear();
    prev.resize(row_len, 0);
    for (y, diff) in src.chunks_exact(row_len).enumerate() {
        let mut left = [0u8; 3];
        let mut up_left = [0u8; 3];
        for (up, d) in prev.chunks_exact_mut(TPIXEL).zip(diff.chunks_exact(TPIXEL)) {
            let mut cur = [0u8; 3];
            for c in 0..3 {
                let p = (left[c] as i16 + up[c] as i16 - up_left[c] as i16).clamp(0, 255) as u8;
                cur[c] = p.wrapping_add(d[c]);
            }
            up_left = [up[0], up[1], up[2]];
            up.copy_from_slice(&cur);
            left = cur;
        }
        copy_tpixels(t.row_mut(y)?, prev);
    }
    Ok(())
}

impl RectDecoder for Tight {
    fn step(&mut self, data: &[u8], t: &mut Target<'_>) -> Result<Decoded, DecodeError> {
        let Some(&ctl) = data.first() else {
            return Ok(Decoded::NeedMore(1));
        };
        match ctl >> 4 {
            FILL => {
                if data.len() < 1 + TPIXEL {
                    return Ok(Decoded::NeedMore(1 + TPIXEL - data.len()));
                }
                self.reset_streams(ctl);
                let (w, h) = (t.width(), t.height());
                fill(t, 0, 0, w, h, tpixel([data[1], data[2], data[3]]))?;
                Ok(Decoded::Done(1 + TPIXEL))
            }
            kind @ (JPEG | PNG) => {
                if kind == PNG && !self.png {
                    return Err(DecodeError::Malformed(
                        "Tight: PNG compression outside TightPNG",
                    ));
                }
                let (start, end) = match Self::sized(data, 1) {
                    Ok(range) => range,
                    Err(missing) => return Ok(Decoded::NeedMore(missing)),
                };
                self.reset_streams(ctl);
                match kind {
                    JPEG => self.images.jpeg(&data[start..end], t)?,
                    _ => self.images.png(&data[start..end], t)?,
                }
                Ok(Decoded::Done(end))
            }
            k if k & 0x8 == 0 => self.basic(ctl, data, t),
            _ => Err(DecodeError::Malformed("Tight: an invalid compression type")),
        }
    }

    fn abort(&mut self) {}
}

#[cfg(test)]
mod tests;
