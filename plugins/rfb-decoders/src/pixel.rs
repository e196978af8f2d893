//! Wire pixels to the host format (`PixelFormat::HOST`: a native-endian
//! `u32` 0x00RRGGBB). Row converters work on whole slices so that the
//! compiler drops the bounds checks and vectorises the loops.

use virt_manager_plugin_api::{OutOfBounds, Target};

/// A PIXEL: four bytes in the host's own byte order.
#[inline(always)]
pub fn pixel(b: [u8; 4]) -> u32 {
    u32::from_ne_bytes(b)
}

/// A CPIXEL (ZRLE): the three least significant bytes of a PIXEL, in wire
/// order, which for the host format is the host's byte order.
#[inline(always)]
pub fn cpixel(b: [u8; 3]) -> u32 {
    if cfg!(target_endian = "little") {
        u32::from_le_bytes([b[0], b[1], b[2], 0])
    } else {
        u32::from_be_bytes([0, b[0], b[1], b[2]])
    }
}

/// A TPIXEL (Tight): red, green, blue, whatever the shifts.
#[inline(always)]
pub fn tpixel(b: [u8; 3]) -> u32 {
    u32::from_be_bytes([0, b[0], b[1], b[2]])
}

/// Fills a sub-rectangle of the target: `Target::fill`, kept here so it
/// inlines into the hot loops (in the cdylib the compiler left the API
/// crate's copy out of line, which cost RRE and Hextile a quarter).
#[inline(always)]
pub fn fill(
    t: &mut Target<'_>,
    x: usize,
    y: usize,
    w: usize,
    h: usize,
    colour: u32,
) -> Result<(), OutOfBounds> {
    if x + w > t.width() || y + h > t.height() {
        return Err(OutOfBounds);
    }
    for row in y..y + h {
        t.row_mut(row)?[x..x + w].fill(colour);
    }
    Ok(())
}

/// The rectangle's pixels as one slice when its rows lie back to back in
/// the framebuffer (a full-width rectangle, or a single row): writers that
/// want one flat buffer (inflate) can then fill it in one call.
#[inline]
pub fn contiguous<'t>(t: &'t mut Target<'_>) -> Option<&'t mut [u32]> {
    let (w, h) = (t.width(), t.height());
    if w == 0 || h == 0 {
        return None;
    }
    let first = t.row_mut(0).ok()?.as_mut_ptr();
    if h > 1 && t.row_mut(1).ok()?.as_mut_ptr() != first.wrapping_add(w) {
        return None;
    }
    // SAFETY: rows 0..h of the rectangle are `w` pixels each and start
    // `w` pixels apart, so these `w * h` pixels are exactly the
    // rectangle's, all inside the framebuffer the target borrows
    // exclusively for as long as this borrow of it.
    Some(unsafe { std::slice::from_raw_parts_mut(first, w * h) })
}

/// The framebuffer span from the rectangle's first pixel to its last, and
/// the distance between its rows in pixels: for a writer that takes a
/// pointer and a pitch (libjpeg-turbo), or that indexes it directly
/// (Hextile, RRE: one bounds check per write, none per row lookup).
///
/// # Safety
/// The span also covers the pixels between the rectangle's rows, which
/// belong to other rectangles: the caller must write only the first
/// `t.width()` pixels of each of the `t.height()` rows.
#[inline]
pub unsafe fn rect_span<'t>(t: &'t mut Target<'_>) -> Option<(&'t mut [u32], usize)> {
    let (w, h) = (t.width(), t.height());
    if w == 0 || h == 0 {
        return None;
    }
    let first = t.row_mut(0).ok()?.as_mut_ptr();
    let pitch = if h > 1 {
        // Rows of one framebuffer, in order: the difference is its stride.
        (t.row_mut(1).ok()?.as_mut_ptr() as usize - first as usize) / 4
    } else {
        w
    };
    // SAFETY: row h-1 starts (h-1) * pitch pixels after row 0 and holds w
    // pixels, all inside the framebuffer the target borrows exclusively.
    Some((
        unsafe { std::slice::from_raw_parts_mut(first, (h - 1) * pitch + w) },
        pitch,
    ))
}

/// Copies PIXELs (`src` is exactly four bytes per `dst` pixel): a memcpy.
#[inline]
pub fn copy_pixels(dst: &mut [u32], src: &[u8]) {
    bytemuck::cast_slice_mut::<u32, u8>(dst).copy_from_slice(src);
}

/// Converts CPIXELs (`src` is exactly three bytes per `dst` pixel).
#[inline]
pub fn copy_cpixels(dst: &mut [u32], src: &[u8]) {
    debug_assert_eq!(src.len(), dst.len() * 3);
    for (d, s) in dst.iter_mut().zip(src.chunks_exact(3)) {
        *d = cpixel([s[0], s[1], s[2]]);
    }
}

/// Converts TPIXELs (`src` is exactly three bytes per `dst` pixel).
#[inline]
pub fn copy_tpixels(dst: &mut [u32], src: &[u8]) {
    debug_assert_eq!(src.len(), dst.len() * 3);
    for (d, s) in dst.iter_mut().zip(src.chunks_exact(3)) {
        *d = tpixel([s[0], s[1], s[2]]);
    }
}

/// Reads `N`-byte pixels into `palette` (up to its length) with `conv`.
#[inline]
pub fn read_palette<const N: usize>(palette: &mut [u32], src: &[u8], conv: fn([u8; N]) -> u32) {
    for (d, s) in palette.iter_mut().zip(src.chunks_exact(N)) {
        *d = conv(s.try_into().expect("chunks_exact"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        // Host format on the wire is the host's own order.
        let wire = 0x00123456u32.to_ne_bytes();
        assert_eq!(pixel(wire), 0x123456);
        let lsb3 = if cfg!(target_endian = "little") {
            [wire[0], wire[1], wire[2]]
        } else {
            [wire[1], wire[2], wire[3]]
        };
        assert_eq!(cpixel(lsb3), 0x123456);
        assert_eq!(tpixel([0x12, 0x34, 0x56]), 0x123456);
        let mut row = [0u32; 2];
        copy_tpixels(&mut row, &[1, 2, 3, 4, 5, 6]);
        assert_eq!(row, [0x010203, 0x040506]);
    }
}
