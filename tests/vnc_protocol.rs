//! The extensions byte for byte, against a scripted server that checks
//! what the client sends back: SetPixelFormat and SetEncodings in the
//! asked order, QEMU Extended Key Events and Pointer Motion Change, Fence,
//! Extended Clipboard (caps, notify, request, provide), Latin-1 cut text,
//! Bell, DesktopName, LastRect, colour maps, and DesktopSize with its
//! fresh full update request.

mod common;
mod vnc_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use virt_manager::vnc::{encodings as enc, ConnectOptions, VncEvent};
use vnc_support::hostile::{
    handshake, raw_rect, read_client_message, rect, update, zlib, ScriptedServer,
};
use vnc_support::live::connect;

/// The server's side, driven from the test: bytes to send, and every
/// message the client sent.
struct Peer {
    send: Sender<Vec<u8>>,
    received: Receiver<Vec<u8>>,
}

impl Peer {
    fn start(width: u16, height: u16) -> (ScriptedServer, Peer) {
        let (send, to_send) = crossbeam_channel::unbounded::<Vec<u8>>();
        let (got, received) = crossbeam_channel::unbounded();
        let server = ScriptedServer::start(move |mut s: TcpStream| {
            if handshake(&mut s, width, height).is_err() {
                return;
            }
            let mut reader = s.try_clone().unwrap();
            std::thread::spawn(move || {
                while let Ok(m) = read_client_message(&mut reader) {
                    if got.send(m).is_err() {
                        break;
                    }
                }
            });
            // Ends when the test drops its sender.
            while let Ok(bytes) = to_send.recv() {
                if s.write_all(&bytes).is_err() {
                    break;
                }
            }
        });
        (server, Peer { send, received })
    }

    fn send(&self, bytes: Vec<u8>) {
        self.send.send(bytes).unwrap();
    }

    /// The next client message of type `t`, skipping update requests and
    /// others.
    fn expect(&self, t: u8) -> Vec<u8> {
        loop {
            let m = self
                .received
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("the client sent no message of type {t}"));
            if m[0] == t {
                return m;
            }
        }
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn ext_clipboard(flags: u32, rest: &[u8]) -> Vec<u8> {
    let mut payload = flags.to_be_bytes().to_vec();
    payload.extend_from_slice(rest);
    let mut m = vec![3, 0, 0, 0];
    m.extend((-(payload.len() as i32)).to_be_bytes());
    m.extend(payload);
    m
}

const CAPS: u32 = 1 << 24;
const REQUEST: u32 = 1 << 25;
const NOTIFY: u32 = 1 << 27;
const PROVIDE: u32 = 1 << 28;
const TEXT: u32 = 1;

#[test]
fn extensions_byte_for_byte() {
    let (server, peer) = Peer::start(64, 48);
    let mut live = connect(
        server.port,
        ConnectOptions {
            encodings: vec![enc::HEXTILE, enc::RAW, enc::ZRLE],
            quality: Some(6),
            compress_level: Some(2),
            ..Default::default()
        },
    );

    // The session's opening: our pixel format, then the encodings in the
    // order asked, quality and compression, then the pseudo-encodings.
    let pf = peer.expect(0);
    assert_eq!(
        &pf[4..20],
        &[32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]
    );
    let se = peer.expect(2);
    let list: Vec<i32> = se[4..].chunks(4).map(|c| be32(c) as i32).collect();
    assert_eq!(
        &list[..5],
        &[
            enc::HEXTILE,
            enc::RAW,
            enc::ZRLE,
            enc::QUALITY_LEVEL_0 + 6,
            enc::COMPRESS_LEVEL_0 + 2
        ]
    );
    for pseudo in [
        enc::EXTENDED_DESKTOP_SIZE,
        enc::DESKTOP_SIZE,
        enc::LAST_RECT,
        enc::CURSOR,
        enc::CURSOR_WITH_ALPHA,
        enc::DESKTOP_NAME,
        enc::QEMU_EXTENDED_KEY_EVENT,
        enc::QEMU_POINTER_MOTION_CHANGE,
        enc::FENCE,
        enc::CONTINUOUS_UPDATES,
        enc::EXTENDED_CLIPBOARD,
    ] {
        assert!(
            list.contains(&pseudo),
            "{} not offered: {list:?}",
            enc::name(pseudo)
        );
    }
    let first = peer.expect(3);
    assert_eq!(
        first,
        vec![3, 0, 0, 0, 0, 0, 0, 64, 0, 48],
        "a full, non-incremental first request"
    );

    // Without the server's confirmation, keys go as plain key events.
    live.client.qemu_key_event(0x61, 0x1e, true);
    assert_eq!(peer.expect(4), vec![4, 1, 0, 0, 0, 0, 0, 0x61]);

    // One update of pseudo-rectangles, ended by LastRect (the count says
    // 65535), and a frame.
    let mut name = rect(0, 0, 0, 0, enc::DESKTOP_NAME);
    name.extend(7u32.to_be_bytes());
    name.extend(b"renamed");
    let mut m = vec![0, 0, 0xff, 0xff];
    for r in [
        rect(0, 0, 0, 0, enc::QEMU_EXTENDED_KEY_EVENT),
        rect(0, 0, 0, 0, enc::QEMU_POINTER_MOTION_CHANGE),
        name,
        raw_rect(0, 0, 64, 48, 0x00112233),
        rect(0, 0, 0, 0, enc::LAST_RECT),
    ] {
        m.extend(r);
    }
    peer.send(m);
    let incremental = peer.expect(3);
    assert_eq!(incremental, vec![3, 1, 0, 0, 0, 0, 0, 64, 0, 48]);
    assert_eq!(
        live.wait_for(Duration::from_secs(5), |e| match e {
            VncEvent::DesktopName(n) => Some(n.clone()),
            _ => None,
        })
        .as_deref(),
        Some("renamed")
    );
    let features = live.client.features();
    assert!(
        features.scancodes && features.relative_pointer,
        "{features:?}"
    );

    // Scancodes now travel with the keysym; relative motion as deltas
    // around 0x7FFF.
    live.client.qemu_key_event(0x61, 0x1e, false);
    assert_eq!(
        peer.expect(255),
        vec![255, 0, 0, 0, 0, 0, 0, 0x61, 0, 0, 0, 0x1e]
    );
    live.client.relative_pointer_event(-5, 7, 1);
    assert_eq!(peer.expect(5), vec![5, 1, 0x7f, 0xfa, 0x80, 0x06]);

    // Bell, a colour map (ignored), a fence to answer, Latin-1 cut text.
    peer.send(vec![2]);
    peer.send(vec![
        1, 0, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
    let mut fence = vec![248, 0, 0, 0];
    fence.extend((1u32 << 31 | 1 | 1 << 9).to_be_bytes());
    fence.extend([3, b'a', b'b', b'c']);
    peer.send(fence);
    peer.send(vec![3, 0, 0, 0, 0, 0, 0, 4, b'c', b'a', b'f', 0xe9]);
    let answer = peer.expect(248);
    assert_eq!(
        answer,
        vec![248, 0, 0, 0, 0, 0, 0, 1, 3, b'a', b'b', b'c'],
        "fence answer"
    );
    let mut bell = false;
    let text = live.wait_for(Duration::from_secs(5), |e| match e {
        VncEvent::Bell => {
            bell = true;
            None
        }
        VncEvent::ClipboardText(t) => Some(t.clone()),
        _ => None,
    });
    assert!(bell);
    assert_eq!(text.as_deref(), Some("café"));

    // Extended Clipboard: the server's caps get ours back; a notify gets
    // a request; a provide becomes the clipboard; our text goes as a
    // provide when it fits the server's limit.
    let mut caps = 1000u32.to_be_bytes().to_vec();
    caps.extend(0u32.to_be_bytes());
    peer.send(ext_clipboard(
        CAPS | REQUEST | NOTIFY | PROVIDE | TEXT | 2,
        &caps,
    ));
    let ours = peer.expect(6);
    assert_eq!(be32(&ours[4..]) as i32, -8);
    assert_eq!(be32(&ours[8..]) & (CAPS | TEXT), CAPS | TEXT);
    assert!(be32(&ours[12..]) > 0, "our text size limit");
    peer.send(ext_clipboard(NOTIFY | TEXT, &[]));
    let request = peer.expect(6);
    assert_eq!(be32(&request[8..]), REQUEST | TEXT);
    let text = "from server ✓\r\n\0".as_bytes();
    let mut inner = (text.len() as u32).to_be_bytes().to_vec();
    inner.extend(text);
    peer.send(ext_clipboard(PROVIDE | TEXT, &zlib(&inner)));
    let text = live.wait_for(Duration::from_secs(5), |e| match e {
        VncEvent::ClipboardText(t) => Some(t.clone()),
        _ => None,
    });
    assert_eq!(text.as_deref(), Some("from server ✓\n"));
    live.client.cut_text("naïve\n✓");
    let provide = peer.expect(6);
    assert_eq!(be32(&provide[8..]), PROVIDE | TEXT);
    let mut unpacked = Vec::new();
    flate2::read::ZlibDecoder::new(&provide[12..])
        .read_to_end(&mut unpacked)
        .unwrap();
    let expected = "naïve\r\n✓\0".as_bytes();
    assert_eq!(be32(&unpacked) as usize, expected.len());
    assert_eq!(&unpacked[4..], expected);

    // A plain DesktopSize: the framebuffer follows and everything is asked
    // for again.
    peer.send(update(&[rect(0, 0, 32, 24, enc::DESKTOP_SIZE)]));
    let resized = live.wait_for(Duration::from_secs(5), |e| match e {
        VncEvent::Resized { width, height } => Some((*width, *height)),
        _ => None,
    });
    assert_eq!(resized, Some((32, 24)));
    loop {
        let m = peer.expect(3);
        if m[1] == 0 {
            assert_eq!(m, vec![3, 0, 0, 0, 0, 0, 0, 32, 0, 24]);
            break;
        }
    }
    // The old picture is kept where it still fits.
    assert!(live
        .fb
        .lock()
        .unwrap()
        .pixels
        .iter()
        .all(|&p| p & 0xFFFFFF == 0x112233));
    live.client.close();
    drop(peer);
}

#[test]
fn alpha_cursor_and_rich_cursor() {
    let (server, peer) = Peer::start(16, 16);
    let mut live = connect(server.port, ConnectOptions::default());
    // CursorWithAlpha: 2x1, hot spot (1, 0), raw RGBA premultiplied.
    let mut alpha = rect(1, 0, 2, 1, enc::CURSOR_WITH_ALPHA);
    alpha.extend(0i32.to_be_bytes());
    alpha.extend([128, 0, 0, 128, 10, 20, 30, 255]);
    // Cursor: 2x2 in the session's format, then the mask.
    let mut rich = rect(0, 1, 2, 2, enc::CURSOR);
    for p in [0x00FF0000u32, 0x0000FF00, 0x000000FF, 0x00FFFFFF] {
        rich.extend(p.to_le_bytes());
    }
    rich.extend([0b1000_0000, 0b0100_0000]);
    peer.send(update(&[alpha, rich]));
    let mut cursors = Vec::new();
    live.wait_for(Duration::from_secs(5), |e| {
        if let VncEvent::Cursor(c) = e {
            cursors.push(c.clone());
        }
        (cursors.len() == 2).then_some(())
    });
    assert_eq!(cursors.len(), 2);
    let a = &cursors[0];
    assert_eq!((a.width, a.height, a.hot_x, a.hot_y), (2, 1, 1, 0));
    assert_eq!(
        a.rgba,
        vec![255, 0, 0, 128, 10, 20, 30, 255],
        "alpha is taken out of the colours"
    );
    let r = &cursors[1];
    assert_eq!((r.width, r.height, r.hot_x, r.hot_y), (2, 2, 0, 1));
    assert_eq!(
        r.rgba,
        vec![255, 0, 0, 255, 0, 255, 0, 0, 0, 0, 255, 0, 255, 255, 255, 255]
    );
    live.client.close();
    drop(peer);
}

/// The fuzz target's seeds (tests/data/vnc/fuzz-seeds/rfb_messages) reach
/// the parts they are meant for: each is read here as the target reads it.
#[test]
fn fuzz_seeds_exercise_what_they_claim() {
    use std::sync::Arc;
    use virt_manager::plugin_host::PluginRegistry;
    use virt_manager::vnc::{replay, VncError};
    let dir = common::repo_dir().join("tests/data/vnc/fuzz-seeds/rfb_messages");
    let seed = |name: &str| std::fs::read(dir.join(format!("{name}.bin"))).unwrap();
    let handshake = |name: &str| replay::run_handshake(seed(name)[1..].to_vec());
    let stream = |name: &str| {
        let data = seed(name);
        let mode = data[0];
        let (w, h) = (
            1 + u32::from(mode >> 1 & 7) * 9,
            1 + u32::from(mode >> 4) * 5,
        );
        replay::decode_stream(
            data[1..].to_vec(),
            w,
            h,
            Arc::new(PluginRegistry::default()),
        )
    };
    assert_eq!(handshake("hs-none-38").unwrap(), "seed");
    assert_eq!(handshake("hs-vncauth-33").unwrap(), "seed");
    assert_eq!(handshake("hs-vencrypt-plain").unwrap(), "seed");
    assert!(matches!(
        handshake("hs-refused-37"),
        Err(VncError::Refused(_))
    ));
    assert!(matches!(
        handshake("hs-vncauth-fail-38"),
        Err(VncError::AuthFailed(_))
    ));
    assert!(matches!(
        handshake("hs-vencrypt-tls"),
        Err(VncError::Tls(_))
    ));
    let all = stream("msgs-everything").unwrap();
    assert_eq!((all.framebuffer.width, all.framebuffer.height), (30, 20));
    assert_eq!(all.stats.updates, 2);
    assert!(all.events >= 8, "{all:?}");
    let raw = stream("msgs-raw-only").unwrap();
    assert_eq!((raw.framebuffer.width, raw.framebuffer.height), (10, 6));
    assert!(matches!(stream("msgs-outside"), Err(VncError::Protocol(_))));
}
