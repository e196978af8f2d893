//! Client-to-server messages as bytes (RFC 6143 7.5 and the community
//! extensions), and the few fixed server structures. Pure functions.

use virt_manager_plugin_api::abi::PixelFormat;

pub const SET_PIXEL_FORMAT: u8 = 0;
pub const SET_ENCODINGS: u8 = 2;
pub const FRAMEBUFFER_UPDATE_REQUEST: u8 = 3;
pub const KEY_EVENT: u8 = 4;
pub const POINTER_EVENT: u8 = 5;
pub const CLIENT_CUT_TEXT: u8 = 6;
pub const ENABLE_CONTINUOUS_UPDATES: u8 = 150;
pub const CLIENT_FENCE: u8 = 248;
pub const SET_DESKTOP_SIZE: u8 = 251;
pub const QEMU_CLIENT: u8 = 255;

pub const FRAMEBUFFER_UPDATE: u8 = 0;
pub const SET_COLOUR_MAP_ENTRIES: u8 = 1;
pub const BELL: u8 = 2;
pub const SERVER_CUT_TEXT: u8 = 3;
pub const END_OF_CONTINUOUS_UPDATES: u8 = 150;
pub const SERVER_FENCE: u8 = 248;

/// Fence flags.
pub const FENCE_BLOCK_BEFORE: u32 = 1;
pub const FENCE_BLOCK_AFTER: u32 = 2;
pub const FENCE_SYNC_NEXT: u32 = 4;
pub const FENCE_REQUEST: u32 = 1 << 31;
/// Largest fence payload the protocol allows.
pub const FENCE_MAX_PAYLOAD: usize = 64;

/// One screen of a multi-head layout (ExtendedDesktopSize).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Screen {
    pub id: u32,
    pub x: u16,
    pub y: u16,
    pub width: u16,
    pub height: u16,
    pub flags: u32,
}

impl Screen {
    pub fn parse(b: &[u8; 16]) -> Screen {
        Screen {
            id: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            x: u16::from_be_bytes([b[4], b[5]]),
            y: u16::from_be_bytes([b[6], b[7]]),
            width: u16::from_be_bytes([b[8], b[9]]),
            height: u16::from_be_bytes([b[10], b[11]]),
            flags: u32::from_be_bytes([b[12], b[13], b[14], b[15]]),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.x.to_be_bytes());
        out.extend_from_slice(&self.y.to_be_bytes());
        out.extend_from_slice(&self.width.to_be_bytes());
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&self.flags.to_be_bytes());
    }
}

pub fn parse_pixel_format(b: &[u8; 16]) -> PixelFormat {
    PixelFormat {
        bits_per_pixel: b[0],
        depth: b[1],
        big_endian: b[2],
        true_colour: b[3],
        red_max: u16::from_be_bytes([b[4], b[5]]),
        green_max: u16::from_be_bytes([b[6], b[7]]),
        blue_max: u16::from_be_bytes([b[8], b[9]]),
        red_shift: b[10],
        green_shift: b[11],
        blue_shift: b[12],
        _padding: [0; 3],
    }
}

pub fn set_pixel_format(pf: &PixelFormat) -> Vec<u8> {
    let mut m = vec![
        SET_PIXEL_FORMAT,
        0,
        0,
        0,
        pf.bits_per_pixel,
        pf.depth,
        pf.big_endian,
        pf.true_colour,
    ];
    m.extend_from_slice(&pf.red_max.to_be_bytes());
    m.extend_from_slice(&pf.green_max.to_be_bytes());
    m.extend_from_slice(&pf.blue_max.to_be_bytes());
    m.extend_from_slice(&[pf.red_shift, pf.green_shift, pf.blue_shift, 0, 0, 0]);
    m
}

pub fn set_encodings(encodings: &[i32]) -> Vec<u8> {
    let n = encodings.len().min(u16::MAX as usize);
    let mut m = vec![SET_ENCODINGS, 0];
    m.extend_from_slice(&(n as u16).to_be_bytes());
    for e in &encodings[..n] {
        m.extend_from_slice(&e.to_be_bytes());
    }
    m
}

pub fn update_request(incremental: bool, x: u16, y: u16, width: u16, height: u16) -> Vec<u8> {
    let mut m = vec![FRAMEBUFFER_UPDATE_REQUEST, incremental as u8];
    for v in [x, y, width, height] {
        m.extend_from_slice(&v.to_be_bytes());
    }
    m
}

pub fn key_event(keysym: u32, down: bool) -> Vec<u8> {
    let mut m = vec![KEY_EVENT, down as u8, 0, 0];
    m.extend_from_slice(&keysym.to_be_bytes());
    m
}

/// QEMU Extended Key Event: the XT scancode travels beside the keysym,
/// so the guest's own keymap applies.
pub fn qemu_key_event(keysym: u32, scancode: u32, down: bool) -> Vec<u8> {
    let mut m = vec![QEMU_CLIENT, 0];
    m.extend_from_slice(&(down as u16).to_be_bytes());
    m.extend_from_slice(&keysym.to_be_bytes());
    m.extend_from_slice(&scancode.to_be_bytes());
    m
}

pub fn pointer_event(x: u16, y: u16, buttons: u8) -> Vec<u8> {
    let mut m = vec![POINTER_EVENT, buttons];
    m.extend_from_slice(&x.to_be_bytes());
    m.extend_from_slice(&y.to_be_bytes());
    m
}

/// Classic ClientCutText: ISO 8859-1 with bare line feeds. Characters
/// Latin-1 cannot carry become '?'.
pub fn client_cut_text_latin1(text: &str) -> Vec<u8> {
    let bytes: Vec<u8> = text
        .chars()
        .filter(|&c| c != '\r')
        .map(|c| if (c as u32) < 256 { c as u8 } else { b'?' })
        .collect();
    let mut m = vec![CLIENT_CUT_TEXT, 0, 0, 0];
    m.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    m.extend_from_slice(&bytes);
    m
}

/// Extended Clipboard ClientCutText: a negative length announces the
/// extended format.
pub fn client_cut_text_extended(payload: &[u8]) -> Vec<u8> {
    let mut m = vec![CLIENT_CUT_TEXT, 0, 0, 0];
    m.extend_from_slice(&(-(payload.len() as i32)).to_be_bytes());
    m.extend_from_slice(payload);
    m
}

pub fn set_desktop_size(width: u16, height: u16, screens: &[Screen]) -> Vec<u8> {
    let n = screens.len().min(255);
    let mut m = vec![SET_DESKTOP_SIZE, 0];
    m.extend_from_slice(&width.to_be_bytes());
    m.extend_from_slice(&height.to_be_bytes());
    m.extend_from_slice(&[n as u8, 0]);
    for s in &screens[..n] {
        s.write(&mut m);
    }
    m
}

pub fn enable_continuous_updates(enable: bool, x: u16, y: u16, width: u16, height: u16) -> Vec<u8> {
    let mut m = vec![ENABLE_CONTINUOUS_UPDATES, enable as u8];
    for v in [x, y, width, height] {
        m.extend_from_slice(&v.to_be_bytes());
    }
    m
}

pub fn client_fence(flags: u32, payload: &[u8]) -> Vec<u8> {
    let n = payload.len().min(FENCE_MAX_PAYLOAD);
    let mut m = vec![CLIENT_FENCE, 0, 0, 0];
    m.extend_from_slice(&flags.to_be_bytes());
    m.push(n as u8);
    m.extend_from_slice(&payload[..n]);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_sizes_match_the_specification() {
        assert_eq!(set_pixel_format(&PixelFormat::HOST).len(), 20);
        assert_eq!(update_request(true, 0, 0, 1, 1).len(), 10);
        assert_eq!(key_event(0xff0d, true), vec![4, 1, 0, 0, 0, 0, 0xff, 0x0d]);
        assert_eq!(pointer_event(1, 2, 3), vec![5, 3, 0, 1, 0, 2]);
        assert_eq!(
            qemu_key_event(0x41, 0x1e, false),
            vec![255, 0, 0, 0, 0, 0, 0, 0x41, 0, 0, 0, 0x1e]
        );
        assert_eq!(set_encodings(&[0, -239]).len(), 12);
        assert_eq!(set_desktop_size(8, 8, &[Screen::default()]).len(), 8 + 16);
        assert_eq!(
            client_fence(FENCE_BLOCK_BEFORE, b"ab"),
            vec![248, 0, 0, 0, 0, 0, 0, 1, 2, b'a', b'b']
        );
        let pf = set_pixel_format(&PixelFormat::HOST);
        let parsed = parse_pixel_format(pf[4..20].try_into().unwrap());
        assert_eq!(parsed, PixelFormat::HOST);
    }

    #[test]
    fn latin1_cut_text() {
        assert_eq!(
            &client_cut_text_latin1("é\r\n€")[4..],
            &[0, 0, 0, 3, 0xe9, b'\n', b'?']
        );
        assert_eq!(
            &client_cut_text_extended(b"xy")[4..8],
            &(-2i32).to_be_bytes()
        );
    }
}
