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
