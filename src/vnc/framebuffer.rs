//! The client's copy of the remote screen, in the one fixed 32-bit format
//! every decoder writes ([`PixelFormat::HOST`]), and the bookkeeping of
//! which parts of it have changed.

use crate::plugin_host::FramebufferMut;
use virt_manager_plugin_api::abi::PixelFormat;

/// Largest framebuffer width or height accepted from a server.
pub const MAX_DIMENSION: u32 = 16384;

/// The remote screen: `height` rows of `width` pixels, rows `stride`
/// pixels apart. A pixel is the native-endian word `0x00RRGGBB`
/// ([`PixelFormat::HOST`]); its top byte is undefined.
///
/// Shared as `Arc<Mutex<Framebuffer>>`: the client thread locks it only
/// while decoding bytes it already holds, never while waiting for the
/// network, so a GUI thread can lock it to copy damaged areas.
#[derive(Clone, Default)]
pub struct Framebuffer {
    pub pixels: Vec<u32>,
    pub width: u32,
    pub height: u32,
    pub stride: usize,
}

impl Framebuffer {
    pub const FORMAT: PixelFormat = PixelFormat::HOST;

    /// A black framebuffer. Sizes must already be checked against
    /// [`MAX_DIMENSION`].
    pub fn new(width: u32, height: u32) -> Self {
        let (w, h) = (width.min(MAX_DIMENSION), height.min(MAX_DIMENSION));
        Framebuffer {
            // Zeroed allocations are lazily backed by the OS: a large,
            // mostly unused framebuffer costs address space, not memory.
            pixels: vec![0; w as usize * h as usize],
            width: w,
            height: h,
            stride: w as usize,
        }
    }

    /// Changes the size, keeping the pixels of the area both sizes share
    /// (servers differ on whether they resend everything after a resize).
    pub fn resize(&mut self, width: u32, height: u32) {
        let mut next = Framebuffer::new(width, height);
        let (w, h) = (
            self.width.min(next.width) as usize,
            self.height.min(next.height) as usize,
        );
        for y in 0..h {
            next.pixels[y * next.stride..y * next.stride + w]
                .copy_from_slice(&self.pixels[y * self.stride..y * self.stride + w]);
        }
        *self = next;
    }

    /// Row `y`, exactly `width` pixels.
    pub fn row(&self, y: u32) -> &[u32] {
        let start = y as usize * self.stride;
        &self.pixels[start..start + self.width as usize]
    }

    /// The view decoders write through.
    pub fn as_decoder_target(&mut self) -> FramebufferMut<'_> {
        FramebufferMut {
            pixels: &mut self.pixels,
            width: self.width,
            height: self.height,
            stride: self.stride,
        }
    }

    /// The picture as 8-bit RGB bytes, row after row (for PNG files).
    pub fn to_rgb(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.width as usize * self.height as usize * 3);
        for y in 0..self.height {
            for &p in self.row(y) {
                out.extend_from_slice(&[(p >> 16) as u8, (p >> 8) as u8, p as u8]);
            }
        }
        out
    }

    /// Writes the picture as an 8-bit RGB PNG.
    pub fn write_png(&self, out: impl std::io::Write) -> Result<(), png::EncodingError> {
        let mut encoder = png::Encoder::new(out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&self.to_rgb())?;
        writer.finish()
    }
}

/// A changed area of the framebuffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Damage {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// Which pixels have been painted at least once since it was reset: how
/// the capture command knows it holds a full frame, whether the server
/// sent it in one update or several.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    width: u32,
    height: u32,
    /// One bit per pixel.
    bits: Vec<u64>,
    missing: u64,
}

impl Coverage {
    pub fn new(width: u32, height: u32) -> Self {
        let n = width as u64 * height as u64;
        Coverage {
            width,
            height,
            bits: vec![0; n.div_ceil(64) as usize],
            missing: n,
        }
    }

    pub fn add(&mut self, d: &Damage) {
        let x1 = d.x.saturating_add(d.width).min(self.width);
        let y1 = d.y.saturating_add(d.height).min(self.height);
        for y in d.y.min(y1)..y1 {
            let row = y as u64 * self.width as u64;
            for x in d.x.min(x1)..x1 {
                let i = row + x as u64;
                let (word, bit) = ((i / 64) as usize, 1u64 << (i % 64));
                if self.bits[word] & bit == 0 {
                    self.bits[word] |= bit;
                    self.missing -= 1;
                }
            }
        }
    }

    /// True when every pixel has been painted.
    pub fn is_complete(&self) -> bool {
        self.missing == 0
    }
}

/// Its size, never its pixels: events carrying a framebuffer are logged
/// at debug level.
impl std::fmt::Debug for Framebuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Framebuffer")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("stride", &self.stride)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_keeps_the_shared_area() {
        let mut fb = Framebuffer::new(3, 2);
        fb.pixels.copy_from_slice(&[1, 2, 3, 4, 5, 6]);
        fb.resize(2, 3);
        assert_eq!(fb.pixels, vec![1, 2, 4, 5, 0, 0]);
        assert_eq!(fb.row(1), &[4, 5]);
    }

    #[test]
    fn coverage_counts_each_pixel_once() {
        let mut c = Coverage::new(10, 10);
        c.add(&Damage {
            x: 0,
            y: 0,
            width: 10,
            height: 5,
        });
        c.add(&Damage {
            x: 0,
            y: 0,
            width: 10,
            height: 5,
        });
        assert!(!c.is_complete());
        c.add(&Damage {
            x: 0,
            y: 5,
            width: 20,
            height: 20,
        });
        assert!(c.is_complete());
    }

    #[test]
    fn rgb_bytes() {
        let mut fb = Framebuffer::new(1, 1);
        fb.pixels[0] = 0xFF11_2233;
        assert_eq!(fb.to_rgb(), vec![0x11, 0x22, 0x33]);
    }
}
