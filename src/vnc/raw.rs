//! Raw encoding, built into the host because every RFB client must have
//! it: rows of pixels already in the framebuffer's format, copied as they
//! arrive (a large rectangle never has to be buffered whole).

use virt_manager_plugin_api::abi::Rect;
use virt_manager_plugin_api::{Decoded, PluginError};

use crate::plugin_host::FramebufferMut;

/// Raw's only state: how many rows of the current rectangle are done.
#[derive(Debug, Default)]
pub(crate) struct RawDecoder {
    rows_done: usize,
}

impl RawDecoder {
    /// Called before the first `decode` of each rectangle.
    pub fn begin(&mut self) {
        self.rows_done = 0;
    }

    /// Copies the whole rows `data` holds; the host has checked that
    /// `rect` lies inside `fb`.
    pub fn decode(
        &mut self,
        rect: &Rect,
        data: &[u8],
        fb: &mut FramebufferMut<'_>,
    ) -> Result<Decoded, PluginError> {
        let (w, h) = (rect.width as usize, rect.height as usize);
        let row_bytes = w * 4;
        if row_bytes == 0 || h == 0 {
            return Ok(Decoded::Done(0));
        }
        let rows = (data.len() / row_bytes).min(h - self.rows_done);
        if rows == 0 {
            return Ok(Decoded::NeedMore(row_bytes - data.len()));
        }
        for (i, src) in data.chunks_exact(row_bytes).take(rows).enumerate() {
            let start = (rect.y as usize + self.rows_done + i) * fb.stride + rect.x as usize;
            let dst = fb
                .pixels
                .get_mut(start..start + w)
                .ok_or_else(|| PluginError::failed("raw rectangle outside the framebuffer"))?;
            // Pixels arrive in the format asked for (PixelFormat::HOST,
            // native-endian words), so each row is a plain byte copy.
            for (d, s) in dst.iter_mut().zip(src.chunks_exact(4)) {
                *d = u32::from_ne_bytes([s[0], s[1], s[2], s[3]]);
            }
        }
        self.rows_done += rows;
        let used = rows * row_bytes;
        Ok(if self.rows_done == h {
            Decoded::Done(used)
        } else {
            Decoded::Partial(used)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_row_by_row() {
        let mut pixels = vec![0u32; 4 * 3];
        let mut fb = FramebufferMut {
            pixels: &mut pixels,
            width: 4,
            height: 3,
            stride: 4,
        };
        let rect = Rect {
            x: 1,
            y: 1,
            width: 2,
            height: 2,
            encoding: 0,
        };
        let data: Vec<u8> = [1u32, 2, 3, 4]
            .iter()
            .flat_map(|p| p.to_ne_bytes())
            .collect();
        let mut raw = RawDecoder::default();
        raw.begin();
        assert_eq!(
            raw.decode(&rect, &data[..5], &mut fb).unwrap(),
            Decoded::NeedMore(3)
        );
        assert_eq!(
            raw.decode(&rect, &data[..12], &mut fb).unwrap(),
            Decoded::Partial(8)
        );
        assert_eq!(
            raw.decode(&rect, &data[8..], &mut fb).unwrap(),
            Decoded::Done(8)
        );
        assert_eq!(pixels, vec![0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0]);
    }
}
