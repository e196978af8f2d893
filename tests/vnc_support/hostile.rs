//! A scripted RFB server on loopback: it accepts one client, may do the
//! normal handshake, then sends exactly the bytes a test wants (truncated
//! messages, impossible sizes, broken compressed data), while a second
//! thread reads and discards whatever the client sends.
//!
//! Every script is bounded: it writes a fixed amount (or for a fixed
//! time) and then closes or just ends; the listener takes one client.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// The server's socket; `port` is where clients connect.
pub struct ScriptedServer {
    pub port: u16,
}

impl ScriptedServer {
    /// Serves one client with `script` on its own thread.
    pub fn start(script: impl FnOnce(TcpStream) + Send + 'static) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            listener.set_nonblocking(false).unwrap();
            if let Ok((stream, _)) = listener.accept() {
                // A client that stops reading must not hang the script.
                let _ = stream.set_write_timeout(Some(Duration::from_secs(20)));
                let _ = stream.set_nodelay(true);
                script(stream);
            }
        });
        ScriptedServer { port }
    }

    /// A server that does the RFB 3.8 handshake (security None, a
    /// `width` x `height` screen), then runs `script`.
    pub fn after_handshake(
        width: u16,
        height: u16,
        script: impl FnOnce(&mut TcpStream) + Send + 'static,
    ) -> Self {
        Self::start(move |mut s| {
            if handshake(&mut s, width, height).is_ok() {
                drain_in_background(&s);
                script(&mut s);
                // End our side (the drain thread's handle keeps the socket
                // open) but keep reading until the client closes: closing
                // with unread input would reset the connection and lose
                // what the client has not read yet.
                let _ = s.shutdown(std::net::Shutdown::Write);
            }
        })
    }

    pub fn url(&self) -> String {
        format!("vnc://127.0.0.1:{}", self.port)
    }
}

/// Reads and drops everything the client sends, until it closes.
pub fn drain_in_background(s: &TcpStream) {
    if let Ok(mut r) = s.try_clone() {
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while matches!(r.read(&mut buf), Ok(n) if n > 0) {}
        });
    }
}

/// 32 bits per pixel, depth 24, little-endian, 0x00RRGGBB: what the
/// client asks for anyway.
pub const PIXEL_FORMAT: [u8; 16] = [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];

/// The server side of an RFB 3.8 handshake with security None.
pub fn handshake(s: &mut TcpStream, width: u16, height: u16) -> std::io::Result<()> {
    s.write_all(b"RFB 003.008\n")?;
    let mut version = [0u8; 12];
    s.read_exact(&mut version)?;
    s.write_all(&[1, 1])?;
    let mut chosen = [0u8; 1];
    s.read_exact(&mut chosen)?;
    s.write_all(&0u32.to_be_bytes())?;
    let mut client_init = [0u8; 1];
    s.read_exact(&mut client_init)?;
    s.write_all(&server_init(width, height, b"hostile"))
}

pub fn server_init(width: u16, height: u16, name: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&width.to_be_bytes());
    m.extend_from_slice(&height.to_be_bytes());
    m.extend_from_slice(&PIXEL_FORMAT);
    m.extend_from_slice(&(name.len() as u32).to_be_bytes());
    m.extend_from_slice(name);
    m
}

/// A rectangle header.
pub fn rect(x: u16, y: u16, w: u16, h: u16, encoding: i32) -> Vec<u8> {
    let mut v = Vec::with_capacity(12);
    for n in [x, y, w, h] {
        v.extend_from_slice(&n.to_be_bytes());
    }
    v.extend_from_slice(&encoding.to_be_bytes());
    v
}

/// A Raw rectangle of one colour (0x00RRGGBB).
pub fn raw_rect(x: u16, y: u16, w: u16, h: u16, colour: u32) -> Vec<u8> {
    let mut v = rect(x, y, w, h, 0);
    for _ in 0..w as usize * h as usize {
        v.extend_from_slice(&colour.to_le_bytes());
    }
    v
}

/// A FramebufferUpdate holding `rects` (each header plus payload).
pub fn update(rects: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![0, 0];
    v.extend_from_slice(&(rects.len() as u16).to_be_bytes());
    for r in rects {
        v.extend_from_slice(r);
    }
    v
}

/// zlib-compresses `data` (one complete stream).
pub fn zlib(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

/// Sends tiny one-pixel updates for `duration`, as fast as the client
/// takes them; returns how many were sent.
pub fn flood_tiny_updates(s: &mut TcpStream, width: u16, height: u16, duration: Duration) -> u64 {
    let deadline = Instant::now() + duration;
    let mut sent = 0u64;
    let mut batch = Vec::new();
    while Instant::now() < deadline {
        batch.clear();
        for i in 0..256u64 {
            let n = sent + i;
            let (x, y) = (
                (n % width as u64) as u16,
                ((n / width as u64) % height as u64) as u16,
            );
            batch.extend(update(&[raw_rect(x, y, 1, 1, n as u32 & 0xFFFFFF)]));
        }
        if s.write_all(&batch).is_err() {
            break;
        }
        sent += 256;
    }
    sent
}

/// Reads one whole client-to-server message (type byte included).
pub fn read_client_message(s: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut m = vec![0u8; 1];
    s.read_exact(&mut m)?;
    let mut more = |m: &mut Vec<u8>, n: usize| -> std::io::Result<()> {
        let start = m.len();
        m.resize(start + n, 0);
        s.read_exact(&mut m[start..])
    };
    match m[0] {
        0 => more(&mut m, 19)?,
        2 => {
            more(&mut m, 3)?;
            let n = u16::from_be_bytes([m[2], m[3]]) as usize;
            more(&mut m, 4 * n)?;
        }
        3 | 150 => more(&mut m, 9)?,
        4 => more(&mut m, 7)?,
        5 => more(&mut m, 5)?,
        6 => {
            more(&mut m, 7)?;
            let len = i32::from_be_bytes([m[4], m[5], m[6], m[7]]);
            more(&mut m, len.unsigned_abs() as usize)?;
        }
        248 => {
            more(&mut m, 8)?;
            let len = m[8] as usize;
            more(&mut m, len)?;
        }
        251 => {
            more(&mut m, 7)?;
            let n = m[6] as usize;
            more(&mut m, 16 * n)?;
        }
        255 => more(&mut m, 11)?,
        t => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("unknown client message type {t}"),
            ))
        }
    }
    Ok(m)
}
