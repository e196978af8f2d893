//! RFB encoding numbers, their names, and the default order of preference.

use std::borrow::Cow;

pub const RAW: i32 = 0;
pub const COPY_RECT: i32 = 1;
pub const RRE: i32 = 2;
pub const CORRE: i32 = 4;
pub const HEXTILE: i32 = 5;
pub const ZLIB: i32 = 6;
pub const TIGHT: i32 = 7;
pub const ZLIBHEX: i32 = 8;
pub const TRLE: i32 = 15;
pub const ZRLE: i32 = 16;
pub const TIGHT_PNG: i32 = -260;

/// JPEG quality 0 (lowest); quality `q` is `QUALITY_LEVEL_0 + q`, q <= 9.
pub const QUALITY_LEVEL_0: i32 = -32;
/// zlib level 0; level `c` is `COMPRESS_LEVEL_0 + c`, c <= 9.
pub const COMPRESS_LEVEL_0: i32 = -256;
pub const DESKTOP_SIZE: i32 = -223;
pub const LAST_RECT: i32 = -224;
pub const CURSOR: i32 = -239;
pub const QEMU_POINTER_MOTION_CHANGE: i32 = -257;
pub const QEMU_EXTENDED_KEY_EVENT: i32 = -258;
pub const DESKTOP_NAME: i32 = -307;
pub const EXTENDED_DESKTOP_SIZE: i32 = -308;
pub const FENCE: i32 = -312;
pub const CONTINUOUS_UPDATES: i32 = -313;
pub const CURSOR_WITH_ALPHA: i32 = -314;
pub const EXTENDED_CLIPBOARD: i32 = 0xC0A1_E5CE_u32 as i32;

const NAMES: &[(i32, &str)] = &[
    (RAW, "raw"),
    (COPY_RECT, "copyrect"),
    (RRE, "rre"),
    (CORRE, "corre"),
    (HEXTILE, "hextile"),
    (ZLIB, "zlib"),
    (TIGHT, "tight"),
    (ZLIBHEX, "zlibhex"),
    (TRLE, "trle"),
    (ZRLE, "zrle"),
    (TIGHT_PNG, "tightpng"),
    (DESKTOP_SIZE, "DesktopSize"),
    (LAST_RECT, "LastRect"),
    (CURSOR, "Cursor"),
    (QEMU_POINTER_MOTION_CHANGE, "QEMU PointerMotionChange"),
    (QEMU_EXTENDED_KEY_EVENT, "QEMU ExtendedKeyEvent"),
    (DESKTOP_NAME, "DesktopName"),
    (EXTENDED_DESKTOP_SIZE, "ExtendedDesktopSize"),
    (FENCE, "Fence"),
    (CONTINUOUS_UPDATES, "ContinuousUpdates"),
    (CURSOR_WITH_ALPHA, "CursorWithAlpha"),
    (EXTENDED_CLIPBOARD, "ExtendedClipboard"),
];

/// A readable name for an encoding number ("zrle", "encoding 42").
pub fn name(encoding: i32) -> Cow<'static, str> {
    match NAMES.iter().find(|(e, _)| *e == encoding) {
        Some((_, n)) => Cow::Borrowed(n),
        None => Cow::Owned(format!("encoding {encoding}")),
    }
}

/// The encoding for a name as the command line takes it ("hextile",
/// "ZRLE", or a number).
pub fn from_name(name: &str) -> Option<i32> {
    let lower = name.trim().to_ascii_lowercase();
    NAMES
        .iter()
        .find(|(e, n)| is_pixel_encoding(*e) && n.eq_ignore_ascii_case(&lower))
        .map(|(e, _)| *e)
        .or_else(|| lower.parse().ok())
}

/// Real (pixel) encodings in the order a client prefers them when the
/// user has not chosen: CopyRect first (cheapest of all), then the
/// lossless compressed ones, Raw last.
pub const DEFAULT_PREFERENCE: &[i32] =
    &[COPY_RECT, ZRLE, TIGHT, HEXTILE, ZLIB, TIGHT_PNG, RRE, RAW];

/// True for numbers that carry pixels (as opposed to pseudo-encodings).
pub fn is_pixel_encoding(encoding: i32) -> bool {
    (0..=255).contains(&encoding) || encoding == TIGHT_PNG
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in [RAW, COPY_RECT, RRE, HEXTILE, ZLIB, TIGHT, ZRLE, TIGHT_PNG] {
            assert_eq!(from_name(&name(e)), Some(e));
        }
        assert_eq!(from_name("ZRLE"), Some(ZRLE));
        assert_eq!(from_name("21"), Some(21));
        assert_eq!(from_name("nonsense"), None);
        assert_eq!(EXTENDED_CLIPBOARD, -1063131698);
    }
}
