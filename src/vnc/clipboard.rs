//! Extended Clipboard (pseudo-encoding 0xC0A1E5CE): capabilities,
//! request, peek, notify and provide, for UTF-8 text. The classic cut
//! text messages carry only Latin-1; this carries any text.

use std::io::{Read, Write};

use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;

use super::error::{Result, VncError};

pub const FORMAT_TEXT: u32 = 1;
const FORMAT_MASK: u32 = 0xFFFF;
pub const ACTION_CAPS: u32 = 1 << 24;
pub const ACTION_REQUEST: u32 = 1 << 25;
pub const ACTION_PEEK: u32 = 1 << 26;
pub const ACTION_NOTIFY: u32 = 1 << 27;
pub const ACTION_PROVIDE: u32 = 1 << 28;

/// What the peer said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ClipboardMessage {
    /// The formats and actions the peer accepts, and for text the largest
    /// size it takes unasked (None when it did not list text).
    Caps {
        flags: u32,
        text_max: Option<u32>,
    },
    Request {
        formats: u32,
    },
    Peek,
    Notify {
        formats: u32,
    },
    /// The peer's clipboard; `text` when it included text.
    Provide {
        text: Option<String>,
    },
}

/// The clipboard state a connection keeps.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClipboardState {
    /// The server's capabilities, once it has sent them.
    pub server_caps: Option<(u32, Option<u32>)>,
    /// Our own clipboard text, to answer requests with.
    pub local_text: Option<String>,
}

/// Parses one extended message (the bytes after the length field).
/// `max_text` bounds the decompressed text.
pub(crate) fn parse(payload: &[u8], max_text: usize) -> Result<ClipboardMessage> {
    let Some((head, rest)) = payload.split_first_chunk::<4>() else {
        return Err(VncError::protocol(
            "extended clipboard message without flags",
        ));
    };
    let flags = u32::from_be_bytes(*head);
    let formats = flags & FORMAT_MASK;
    if flags & ACTION_CAPS != 0 {
        // One size per format bit, in bit order; text is bit 0.
        let text_max = (formats & FORMAT_TEXT != 0)
            .then(|| rest.first_chunk::<4>().map(|b| u32::from_be_bytes(*b)))
            .flatten();
        return Ok(ClipboardMessage::Caps { flags, text_max });
    }
    if flags & ACTION_REQUEST != 0 {
        return Ok(ClipboardMessage::Request { formats });
    }
    if flags & ACTION_PEEK != 0 {
        return Ok(ClipboardMessage::Peek);
    }
    if flags & ACTION_NOTIFY != 0 {
        return Ok(ClipboardMessage::Notify { formats });
    }
    if flags & ACTION_PROVIDE != 0 {
        let text = if formats & FORMAT_TEXT != 0 {
            Some(provided_text(rest, max_text)?)
        } else {
            None
        };
        return Ok(ClipboardMessage::Provide { text });
    }
    Err(VncError::protocol(format!(
        "extended clipboard message with unknown action (flags {flags:#x})"
    )))
}

/// The text of a provide message: a zlib stream of (size, data) pairs, one
/// per format, text first.
fn provided_text(compressed: &[u8], max_text: usize) -> Result<String> {
    let bad = |e: std::io::Error| VncError::protocol(format!("extended clipboard data: {e}"));
    // Never inflate more than the size field and the largest text allowed.
    let mut z = ZlibDecoder::new(compressed).take(4 + max_text as u64 + 1);
    let mut size = [0u8; 4];
    z.read_exact(&mut size).map_err(bad)?;
    let size = u32::from_be_bytes(size) as usize;
    if size > max_text {
        return Err(VncError::limit(format!("clipboard text of {size} bytes")));
    }
    // Only what the stream really holds, not what the size field claims.
    let mut text = Vec::new();
    z.take(size as u64).read_to_end(&mut text).map_err(bad)?;
    if text.len() < size {
        return Err(VncError::protocol(
            "extended clipboard data: the text is cut short",
        ));
    }
    while text.last() == Some(&0) {
        text.pop();
    }
    Ok(String::from_utf8_lossy(&text).replace("\r\n", "\n"))
}

/// The flags word alone (request, peek, notify).
pub(crate) fn encode_flags(flags: u32) -> Vec<u8> {
    flags.to_be_bytes().to_vec()
}

/// Our capabilities: text only, accepted unasked up to `text_max` bytes.
pub(crate) fn encode_caps(text_max: u32) -> Vec<u8> {
    let mut m = encode_flags(
        ACTION_CAPS | ACTION_REQUEST | ACTION_PEEK | ACTION_NOTIFY | ACTION_PROVIDE | FORMAT_TEXT,
    );
    m.extend_from_slice(&text_max.to_be_bytes());
    m
}

/// A provide message with `text` (CRLF line ends, NUL terminated, as the
/// format requires).
pub(crate) fn encode_provide_text(text: &str) -> Vec<u8> {
    let mut data = text
        .replace("\r\n", "\n")
        .replace('\n', "\r\n")
        .into_bytes();
    data.push(0);
    let mut z = ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = z.write_all(&(data.len() as u32).to_be_bytes());
    let _ = z.write_all(&data);
    let mut m = encode_flags(ACTION_PROVIDE | FORMAT_TEXT);
    m.extend_from_slice(&z.finish().unwrap_or_default());
    m
}

/// Text length as the provide message counts it (for the peer's limit).
pub(crate) fn provided_len(text: &str) -> usize {
    text.len() + text.matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provide_round_trips() {
        let m = encode_provide_text("héllo\nwörld");
        assert_eq!(
            parse(&m, 1024).unwrap(),
            ClipboardMessage::Provide {
                text: Some("héllo\nwörld".into())
            }
        );
        assert!(matches!(parse(&m, 4), Err(VncError::Limit(_))));
    }

    #[test]
    fn caps_and_actions() {
        assert_eq!(
            parse(&encode_caps(77), 10).unwrap(),
            ClipboardMessage::Caps {
                flags: ACTION_CAPS
                    | ACTION_REQUEST
                    | ACTION_PEEK
                    | ACTION_NOTIFY
                    | ACTION_PROVIDE
                    | FORMAT_TEXT,
                text_max: Some(77)
            }
        );
        assert_eq!(
            parse(&encode_flags(ACTION_NOTIFY | FORMAT_TEXT), 10).unwrap(),
            ClipboardMessage::Notify {
                formats: FORMAT_TEXT
            }
        );
        assert!(parse(&[0, 0], 10).is_err());
        assert!(parse(&encode_flags(ACTION_PROVIDE | FORMAT_TEXT), 10).is_err());
        let mut bad = encode_flags(ACTION_PROVIDE | FORMAT_TEXT);
        bad.extend_from_slice(b"not zlib at all");
        assert!(parse(&bad, 10).is_err());
    }
}
