//! Key names for SendKeys and the console's Send Key menu, as Linux input
//! key codes (what libvirt's `send-key` takes with the `linux` code set).

/// A key by name: Linux names (`KEY_LEFTCTRL`), or the short names people
/// type (`ctrl`, `alt`, `del`, `f1`, `a`, `1`). Case-insensitive.
pub fn linux_keycode(name: &str) -> Option<u32> {
    let n = name.trim().to_ascii_lowercase();
    let n = n.strip_prefix("key_").unwrap_or(&n);
    let code = match n {
        "esc" | "escape" => 1,
        "1" => 2,
        "2" => 3,
        "3" => 4,
        "4" => 5,
        "5" => 6,
        "6" => 7,
        "7" => 8,
        "8" => 9,
        "9" => 10,
        "0" => 11,
        "minus" => 12,
        "equal" => 13,
        "backspace" => 14,
        "tab" => 15,
        "q" => 16,
        "w" => 17,
        "e" => 18,
        "r" => 19,
        "t" => 20,
        "y" => 21,
        "u" => 22,
        "i" => 23,
        "o" => 24,
        "p" => 25,
        "enter" | "return" => 28,
        "ctrl" | "control" | "leftctrl" | "control_l" => 29,
        "a" => 30,
        "s" => 31,
        "d" => 32,
        "f" => 33,
        "g" => 34,
        "h" => 35,
        "j" => 36,
        "k" => 37,
        "l" => 38,
        "shift" | "leftshift" | "shift_l" => 42,
        "z" => 44,
        "x" => 45,
        "c" => 46,
        "v" => 47,
        "b" => 48,
        "n" => 49,
        "m" => 50,
        "rightshift" | "shift_r" => 54,
        "alt" | "leftalt" | "alt_l" => 56,
        "space" => 57,
        "capslock" => 58,
        "f1" => 59,
        "f2" => 60,
        "f3" => 61,
        "f4" => 62,
        "f5" => 63,
        "f6" => 64,
        "f7" => 65,
        "f8" => 66,
        "f9" => 67,
        "f10" => 68,
        "f11" => 87,
        "f12" => 88,
        "rightctrl" | "control_r" => 97,
        "sysrq" | "print" | "printscreen" => 99,
        "rightalt" | "altgr" | "alt_r" => 100,
        "home" => 102,
        "up" => 103,
        "pageup" => 104,
        "left" => 105,
        "right" => 106,
        "end" => 107,
        "down" => 108,
        "pagedown" => 109,
        "insert" => 110,
        "del" | "delete" => 111,
        "pause" => 119,
        "meta" | "super" | "leftmeta" | "super_l" => 125,
        "rightmeta" | "super_r" => 126,
        "menu" | "compose" => 127,
        _ => return None,
    };
    Some(code)
}

/// The Send Key combinations of the console and their key codes.
pub fn send_key_combos() -> Vec<(&'static str, Vec<u32>)> {
    let ca = |k: u32| vec![29, 56, k];
    let mut combos = vec![("Ctrl+Alt+Del", ca(111)), ("Ctrl+Alt+Backspace", ca(14))];
    const FKEYS: [(&str, u32); 12] = [
        ("Ctrl+Alt+F1", 59),
        ("Ctrl+Alt+F2", 60),
        ("Ctrl+Alt+F3", 61),
        ("Ctrl+Alt+F4", 62),
        ("Ctrl+Alt+F5", 63),
        ("Ctrl+Alt+F6", 64),
        ("Ctrl+Alt+F7", 65),
        ("Ctrl+Alt+F8", 66),
        ("Ctrl+Alt+F9", 67),
        ("Ctrl+Alt+F10", 68),
        ("Ctrl+Alt+F11", 87),
        ("Ctrl+Alt+F12", 88),
    ];
    combos.extend(FKEYS.iter().map(|(n, k)| (*n, ca(*k))));
    combos.push(("PrintScreen", vec![99]));
    combos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(linux_keycode("KEY_LEFTCTRL"), Some(29));
        assert_eq!(linux_keycode("ctrl"), Some(29));
        assert_eq!(linux_keycode("Delete"), Some(111));
        assert_eq!(linux_keycode("f12"), Some(88));
        assert_eq!(linux_keycode("nonsense"), None);
        assert_eq!(send_key_combos()[0].1, vec![29, 56, 111]);
        assert_eq!(send_key_combos().len(), 15);
    }
}

/// The XT scancode QEMU's Extended Key Event wants for a Linux key code
/// ("qnum": one-byte scancodes as they are, `E0 xx` as `0x80 | xx`).
pub fn linux_to_qnum(code: u32) -> Option<u32> {
    Some(match code {
        // Keys 1-88 have the same number in both sets.
        1..=83 | 87 | 88 => code,
        86 => 0x56,  // KEY_102ND
        89 => 0x73,  // KEY_RO
        92 => 0x79,  // KEY_HENKAN
        93 => 0x70,  // KEY_KATAKANAHIRAGANA
        94 => 0x7b,  // KEY_MUHENKAN
        96 => 0x9c,  // KEY_KPENTER
        97 => 0x9d,  // KEY_RIGHTCTRL
        98 => 0xb5,  // KEY_KPSLASH
        99 => 0xb7,  // KEY_SYSRQ (Print)
        100 => 0xb8, // KEY_RIGHTALT
        102 => 0xc7, // KEY_HOME
        103 => 0xc8, // KEY_UP
        104 => 0xc9, // KEY_PAGEUP
        105 => 0xcb, // KEY_LEFT
        106 => 0xcd, // KEY_RIGHT
        107 => 0xcf, // KEY_END
        108 => 0xd0, // KEY_DOWN
        109 => 0xd1, // KEY_PAGEDOWN
        110 => 0xd2, // KEY_INSERT
        111 => 0xd3, // KEY_DELETE
        113 => 0xa0, // KEY_MUTE
        114 => 0xae, // KEY_VOLUMEDOWN
        115 => 0xb0, // KEY_VOLUMEUP
        116 => 0xde, // KEY_POWER
        117 => 0x59, // KEY_KPEQUAL
        119 => 0xc6, // KEY_PAUSE
        124 => 0x7d, // KEY_YEN
        125 => 0xdb, // KEY_LEFTMETA
        126 => 0xdc, // KEY_RIGHTMETA
        127 => 0xdd, // KEY_COMPOSE
        _ => return None,
    })
}

/// The X keysym of the keys the Send Key menu uses, for servers that take
/// keysyms only.
pub fn linux_to_keysym(code: u32) -> Option<u32> {
    Some(match code {
        1 => 0xff1b,                     // Escape
        14 => 0xff08,                    // BackSpace
        15 => 0xff09,                    // Tab
        28 => 0xff0d,                    // Return
        29 => 0xffe3,                    // Control_L
        42 => 0xffe1,                    // Shift_L
        56 => 0xffe9,                    // Alt_L
        59..=68 => 0xffbe + (code - 59), // F1-F10
        87 => 0xffc8,                    // F11
        88 => 0xffc9,                    // F12
        97 => 0xffe4,                    // Control_R
        99 => 0xff61,                    // Print
        100 => 0xffea,                   // Alt_R
        111 => 0xffff,                   // Delete
        125 => 0xffeb,                   // Super_L
        _ => return None,
    })
}

#[cfg(test)]
mod scancode_tests {
    use super::*;

    #[test]
    fn qnum() {
        assert_eq!(linux_to_qnum(29), Some(0x1d)); // left ctrl
        assert_eq!(linux_to_qnum(97), Some(0x9d)); // right ctrl: E0 1D
        assert_eq!(linux_to_qnum(111), Some(0xd3)); // delete: E0 53
        assert_eq!(linux_to_keysym(68), Some(0xffc7)); // F10
    }
}
