//! The safe side of a framebuffer decoder plugin.
//!
//! A decoder is a push parser for one RFB encoding on one connection: the
//! host hands it a rectangle and the bytes it has so far, and the decoder
//! writes pixels through a [`Target`], which lets it write only inside its
//! own rectangle.

use crate::abi::{self, PixelFormat, Rect};
use crate::types::{EncodingInfo, PluginError};

/// The decoders of one library.
pub trait DecoderLibrary: 'static {
    /// The encodings offered.
    fn encodings() -> Vec<EncodingInfo>;

    /// A fresh decoder for `encoding` on a new connection.
    fn create(encoding: i32, format: &PixelFormat) -> Result<Box<dyn Decoder>, PluginError>;
}

/// What one [`Decoder::decode`] call achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// Call again with the same data and at least this many more bytes.
    NeedMore(usize),
    /// This many bytes are consumed and the decoder kept its place; call
    /// again with the bytes after them.
    Partial(usize),
    /// The rectangle is complete after this many bytes.
    Done(usize),
}

/// One decoder instance (stateful: zlib streams live here).
pub trait Decoder: Send {
    /// Decodes from `data`, the bytes of the rectangle's payload that the
    /// host has (from the start, or after the last `Partial`).
    fn decode(
        &mut self,
        rect: &Rect,
        data: &[u8],
        target: &mut Target<'_>,
    ) -> Result<Decoded, PluginError>;
}

/// A write was outside the decoder's rectangle (or a read outside the
/// framebuffer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfBounds;

impl std::fmt::Display for OutOfBounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the decoder tried to write outside its rectangle")
    }
}

impl std::error::Error for OutOfBounds {}

impl From<OutOfBounds> for PluginError {
    fn from(e: OutOfBounds) -> Self {
        PluginError::new(crate::ErrorCode::InvalidArgument, e.to_string())
    }
}

/// The decoder's bounds-checked view of the framebuffer: it may write
/// inside its rectangle only, and read anywhere (for CopyRect).
///
/// Coordinates of writes are relative to the rectangle's top-left corner.
pub struct Target<'a> {
    fb: abi::Framebuffer,
    rect: Rect,
    _life: std::marker::PhantomData<&'a mut [u32]>,
}

impl<'a> Target<'a> {
    /// # Safety
    /// `fb` must describe a live, 4-byte aligned framebuffer that nothing
    /// else touches for `'a`.
    pub unsafe fn new(fb: abi::Framebuffer, rect: Rect) -> Result<Self, OutOfBounds> {
        let fits = fb.stride >= fb.width as usize * 4
            && fb.stride.is_multiple_of(4)
            && (fb.pixels as usize).is_multiple_of(4)
            && !fb.pixels.is_null()
            && rect.x as u32 + rect.width as u32 <= fb.width
            && rect.y as u32 + rect.height as u32 <= fb.height;
        if !fits {
            return Err(OutOfBounds);
        }
        Ok(Target {
            fb,
            rect,
            _life: std::marker::PhantomData,
        })
    }

    #[inline]
    pub fn width(&self) -> usize {
        self.rect.width as usize
    }

    #[inline]
    pub fn height(&self) -> usize {
        self.rect.height as usize
    }

    fn row_ptr(&self, abs_y: usize) -> *mut u32 {
        unsafe { self.fb.pixels.add(abs_y * self.fb.stride) as *mut u32 }
    }

    /// Row `y` of the rectangle, exactly its width.
    #[inline]
    pub fn row_mut(&mut self, y: usize) -> Result<&mut [u32], OutOfBounds> {
        if y >= self.height() {
            return Err(OutOfBounds);
        }
        let ptr = unsafe {
            self.row_ptr(self.rect.y as usize + y)
                .add(self.rect.x as usize)
        };
        Ok(unsafe { std::slice::from_raw_parts_mut(ptr, self.width()) })
    }

    /// Sets one pixel.
    #[inline]
    pub fn put(&mut self, x: usize, y: usize, pixel: u32) -> Result<(), OutOfBounds> {
        if x >= self.width() {
            return Err(OutOfBounds);
        }
        self.row_mut(y)?[x] = pixel;
        Ok(())
    }

    /// Fills a sub-rectangle with one pixel value.
    #[inline]
    pub fn fill(
        &mut self,
        x: usize,
        y: usize,
        w: usize,
        h: usize,
        pixel: u32,
    ) -> Result<(), OutOfBounds> {
        if x.checked_add(w).is_none_or(|e| e > self.width())
            || y.checked_add(h).is_none_or(|e| e > self.height())
        {
            return Err(OutOfBounds);
        }
        for row in y..y + h {
            self.row_mut(row)?[x..x + w].fill(pixel);
        }
        Ok(())
    }

    /// Copies the rectangle-sized area at (`src_x`, `src_y`) of the whole
    /// framebuffer into the rectangle (CopyRect); overlapping areas copy as
    /// if through a temporary.
    pub fn copy_from(&mut self, src_x: usize, src_y: usize) -> Result<(), OutOfBounds> {
        let (w, h) = (self.width(), self.height());
        if src_x + w > self.fb.width as usize || src_y + h > self.fb.height as usize {
            return Err(OutOfBounds);
        }
        let (dx, dy) = (self.rect.x as usize, self.rect.y as usize);
        let copy_row = |r: usize| unsafe {
            let src = self.row_ptr(src_y + r).add(src_x);
            let dst = self.row_ptr(dy + r).add(dx);
            std::ptr::copy(src, dst, w);
        };
        // Row order matters when source and destination overlap
        // vertically; no allocation per rectangle.
        if src_y < dy {
            (0..h).rev().for_each(copy_row);
        } else {
            (0..h).for_each(copy_row);
        }
        Ok(())
    }

    /// Reads one pixel anywhere in the framebuffer.
    pub fn pixel_at(&self, abs_x: usize, abs_y: usize) -> Option<u32> {
        if abs_x >= self.fb.width as usize || abs_y >= self.fb.height as usize {
            return None;
        }
        Some(unsafe { *self.row_ptr(abs_y).add(abs_x) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fb(buf: &mut [u32], w: u32, h: u32) -> abi::Framebuffer {
        abi::Framebuffer {
            pixels: buf.as_mut_ptr() as *mut u8,
            stride: w as usize * 4,
            width: w,
            height: h,
        }
    }

    fn rect(x: u16, y: u16, w: u16, h: u16) -> Rect {
        Rect {
            x,
            y,
            width: w,
            height: h,
            encoding: 0,
        }
    }

    #[test]
    fn writes_stay_inside_the_rectangle() {
        let mut buf = vec![7u32; 16 * 16];
        let mut t = unsafe { Target::new(fb(&mut buf, 16, 16), rect(4, 4, 4, 4)) }.unwrap();
        t.fill(0, 0, 4, 4, 1).unwrap();
        assert_eq!(t.put(4, 0, 9), Err(OutOfBounds));
        assert_eq!(t.row_mut(4).map(|_| ()), Err(OutOfBounds));
        assert_eq!(t.fill(2, 2, 3, 1, 9), Err(OutOfBounds));
        assert_eq!(t.fill(usize::MAX, 0, 2, 1, 9), Err(OutOfBounds));
        for y in 0..16 {
            for x in 0..16 {
                let inside = (4..8).contains(&x) && (4..8).contains(&y);
                assert_eq!(buf[y * 16 + x], if inside { 1 } else { 7 }, "({x},{y})");
            }
        }
    }

    #[test]
    fn rectangles_outside_the_framebuffer_are_refused() {
        let mut buf = vec![0u32; 8 * 8];
        assert!(unsafe { Target::new(fb(&mut buf, 8, 8), rect(6, 0, 4, 1)) }.is_err());
        assert!(unsafe { Target::new(fb(&mut buf, 8, 8), rect(0, 8, 1, 1)) }.is_err());
    }

    #[test]
    fn overlapping_copies_behave_like_memmove() {
        let mut buf: Vec<u32> = (0..64).collect();
        let expected: Vec<u32> = (0..64).collect();
        let mut t = unsafe { Target::new(fb(&mut buf, 8, 8), rect(1, 1, 4, 4)) }.unwrap();
        t.copy_from(0, 0).unwrap();
        for y in 0..4 {
            for x in 0..4 {
                assert_eq!(buf[(y + 1) * 8 + x + 1], expected[y * 8 + x]);
            }
        }
    }
}
