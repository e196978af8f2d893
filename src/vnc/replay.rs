//! The protocol without a network: decode a recorded session from memory
//! (benchmarks, `capture --until-closed` replays), and entry points that
//! take arbitrary bytes for the fuzzer. None of these panic, whatever the
//! input.

use std::sync::{Arc, Mutex};

use super::auth::{Credentials, StaticCredentials};
use super::error::{Result, VncError};
use super::events::{Stats, VncEvent};
use super::framebuffer::{Framebuffer, MAX_DIMENSION};
use super::handshake::{self, Conn, HandshakeConfig};
use super::io::{Reader, Stream};
use super::options::{offered_encodings, ConnectOptions};
use super::session::{lock, Features, Session, SessionConfig, SessionSink};
use crate::plugin_host::PluginRegistry;

/// The outcome of a replay.
#[derive(Debug)]
pub struct Replay {
    pub framebuffer: Framebuffer,
    pub stats: Stats,
    /// Events the session reported (updates, cursors, ...).
    pub events: u64,
}

struct CountingSink {
    events: u64,
}

impl SessionSink for CountingSink {
    fn event(&mut self, _event: VncEvent) {
        self.events += 1;
    }

    fn send(&mut self, _message: Vec<u8>) {}
}

/// Decodes `data`, the server-to-client bytes of a session after
/// ServerInit, into a `width` x `height` framebuffer with the decoders of
/// `plugins`, until the data ends. Every encoding and extension is taken
/// as offered.
pub fn decode_stream(
    data: Vec<u8>,
    width: u32,
    height: u32,
    plugins: Arc<PluginRegistry>,
) -> Result<Replay> {
    decode_stream_bounded(data, width, height, plugins, MAX_DIMENSION)
}

/// [`decode_stream`] with a smaller limit on the framebuffer's sides (the
/// fuzzer's memory limit is below what a 16384x16384 screen takes).
pub fn decode_stream_bounded(
    data: Vec<u8>,
    width: u32,
    height: u32,
    plugins: Arc<PluginRegistry>,
    max_dimension: u32,
) -> Result<Replay> {
    let max_dimension = max_dimension.min(MAX_DIMENSION);
    if width > max_dimension || height > max_dimension {
        return Err(VncError::limit(format!("a {width}x{height} framebuffer")));
    }
    let fb = Arc::new(Mutex::new(Framebuffer::new(width, height)));
    let features = Arc::new(Features::default());
    let config = SessionConfig {
        offered: offered_encodings(&ConnectOptions::default(), &plugins),
        continuous_updates: false,
        max_cut_text: ConnectOptions::default().max_cut_text,
        max_dimension,
    };
    let mut session = Session::new(fb.clone(), plugins, features.clone(), config);
    let mut reader = Reader::from_vec(data);
    let mut sink = CountingSink { events: 0 };
    session.run(&mut reader, &mut sink)?;
    drop(session);
    let framebuffer = std::mem::take(&mut *lock(&fb));
    let stats = lock(&features.stats).clone();
    Ok(Replay {
        framebuffer,
        stats,
        events: sink.events,
    })
}

/// Runs the client's handshake against `data` as the server's side
/// (client output is discarded; TLS subtypes fail, having no socket).
/// Returns the desktop name.
pub fn run_handshake(data: Vec<u8>) -> Result<String> {
    let mut conn = Conn {
        reader: Reader::from_vec(data),
        writer: Stream::Other(Box::new(std::io::empty())),
        network: None,
    };
    let credentials = StaticCredentials(Credentials {
        username: Some("user".into()),
        password: Some("password".into()),
    });
    let cfg = HandshakeConfig {
        shared: true,
        ca_file: None,
        tls_host: None,
        credentials: &credentials,
    };
    let (init, _) = handshake::run(&mut conn, &cfg)?;
    Ok(init.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vnc::encodings as enc;

    fn rect(x: u16, y: u16, w: u16, h: u16, e: i32) -> Vec<u8> {
        let mut v = Vec::new();
        for n in [x, y, w, h] {
            v.extend_from_slice(&n.to_be_bytes());
        }
        v.extend_from_slice(&e.to_be_bytes());
        v
    }

    fn update(rects: &[Vec<u8>]) -> Vec<u8> {
        let mut v = vec![0, 0];
        v.extend_from_slice(&(rects.len() as u16).to_be_bytes());
        for r in rects {
            v.extend_from_slice(r);
        }
        v
    }

    fn no_plugins() -> Arc<PluginRegistry> {
        Arc::new(PluginRegistry::default())
    }

    #[test]
    fn raw_updates_resizes_and_names() {
        let mut r = rect(1, 0, 1, 2, enc::RAW);
        r.extend(7u32.to_ne_bytes());
        r.extend(9u32.to_ne_bytes());
        let mut name = rect(0, 0, 0, 0, enc::DESKTOP_NAME);
        name.extend(3u32.to_be_bytes());
        name.extend(b"abc");
        let mut data = update(&[r, name]);
        data.push(2); // bell
        data.extend(update(&[rect(0, 0, 3, 1, enc::DESKTOP_SIZE)]));
        let replay = decode_stream(data, 2, 2, no_plugins()).unwrap();
        assert_eq!(replay.framebuffer.pixels, vec![0, 7, 0]);
        assert_eq!(replay.stats.updates, 2);
        // Updated, DesktopName, Bell, Resized.
        assert_eq!(replay.events, 4);
    }

    #[test]
    fn hostile_streams_are_errors() {
        let outside = update(&[rect(1, 1, 2, 2, enc::RAW)]);
        assert!(matches!(
            decode_stream(outside, 2, 2, no_plugins()),
            Err(VncError::Protocol(_))
        ));
        let truncated = update(&[rect(0, 0, 2, 2, enc::RAW)]);
        assert!(matches!(
            decode_stream(truncated, 2, 2, no_plugins()),
            Err(VncError::Closed { .. })
        ));
        let huge = update(&[rect(0, 0, 40000, 40000, enc::DESKTOP_SIZE)]);
        assert!(matches!(
            decode_stream(huge, 2, 2, no_plugins()),
            Err(VncError::Limit(_))
        ));
        let no_decoder = update(&[rect(0, 0, 1, 1, enc::ZRLE)]);
        assert!(matches!(
            decode_stream(no_decoder, 2, 2, no_plugins()),
            Err(VncError::NoDecoder { .. })
        ));
        assert!(matches!(
            decode_stream(vec![77], 2, 2, no_plugins()),
            Err(VncError::Protocol(_))
        ));
    }

    #[test]
    fn handshake_none_and_refusal() {
        let mut ok = b"RFB 003.008\n".to_vec();
        ok.extend([1, 1, 0, 0, 0, 0]);
        ok.extend([0, 4, 0, 3]);
        ok.extend([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
        ok.extend([0, 0, 0, 2]);
        ok.extend(b"hi");
        assert_eq!(run_handshake(ok).unwrap(), "hi");
        let mut refused = b"RFB 003.008\n".to_vec();
        refused.extend([0, 0, 0, 0, 3]);
        refused.extend(b"no!");
        assert_eq!(
            run_handshake(refused).unwrap_err().to_string(),
            "the server refused the connection: no!"
        );
        assert!(matches!(
            run_handshake(b"HTTP/1.1 400".to_vec()),
            Err(VncError::NotRfb(_))
        ));
        assert!(matches!(
            run_handshake(b"RFB 003.008\n".to_vec()),
            Err(VncError::Closed { .. })
        ));
    }
}
