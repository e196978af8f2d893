//! Replaying recorded RFB sessions (benches/tools/rfb_record.py): what a
//! server sent after ServerInit, in the host pixel format, behind the
//! header `b"VMMRFB1\n"`, u16 width, u16 height. The decoder tests, the
//! benchmarks and the fuzz seed extraction walk recordings with this; the
//! decoding itself is the caller's, so the same walk drives the linked
//! decoders and the ones loaded through the plugin host.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use virt_manager_plugin_api::abi::{self, PixelFormat, Rect};
use virt_manager_plugin_api::{Decoded, Decoder, Target};

const MAGIC: &[u8] = b"VMMRFB1\n";
/// Pseudo-encodings a recording may hold, and Raw (which hosts decode).
pub const RAW: i32 = 0;
pub const CURSOR: i32 = -239;
pub const LAST_RECT: i32 = -224;
pub const CURSOR_POSITION: i32 = 0x574d_5666;

/// A recorded session.
pub struct Recording {
    pub width: usize,
    pub height: usize,
    /// The server's messages.
    pub data: Vec<u8>,
}

impl Recording {
    /// Reads a recording, gzip-compressed when the name ends in `.gz`.
    pub fn load(path: &Path) -> Result<Self, String> {
        let raw = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let bytes = if path.extension().is_some_and(|e| e == "gz") {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            out
        } else {
            raw
        };
        Self::parse(bytes)
    }

    pub fn parse(mut bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() < MAGIC.len() + 4 || !bytes.starts_with(MAGIC) {
            return Err("not a VMMRFB1 recording".into());
        }
        let at = MAGIC.len();
        let width = u16::from_be_bytes([bytes[at], bytes[at + 1]]) as usize;
        let height = u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize;
        bytes.drain(..at + 4);
        Ok(Recording {
            width,
            height,
            data: bytes,
        })
    }
}

/// A host-format framebuffer, rows `width` pixels apart.
pub struct Frame {
    pub px: Vec<u32>,
    pub width: usize,
    pub height: usize,
}

impl Frame {
    pub fn new(width: usize, height: usize) -> Self {
        Frame {
            px: vec![0; width * height],
            width,
            height,
        }
    }

    /// The C view of it, for `Target::new` or a plugin call.
    pub fn raw(&mut self) -> abi::Framebuffer {
        abi::Framebuffer {
            pixels: self.px.as_mut_ptr() as *mut u8,
            stride: self.width * 4,
            width: self.width as u32,
            height: self.height as u32,
        }
    }
}

/// What a replay went through, per encoding: rectangles and pixels.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub updates: usize,
    pub rects: BTreeMap<i32, usize>,
    pub pixels: BTreeMap<i32, u64>,
}

/// Decodes one rectangle from `data` (its payload and everything after).
pub type DecodeFn<'a> = dyn FnMut(&Rect, &[u8], &mut Frame) -> Result<Decoded, String> + 'a;

fn be16(d: &[u8], at: usize) -> Result<usize, String> {
    d.get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
        .ok_or_else(|| "truncated".to_string())
}

/// Walks every server message, drawing rectangles into `frame`: Raw
/// here, cursor shapes skipped, everything else through `decode`.
pub fn replay(
    rec: &Recording,
    frame: &mut Frame,
    decode: &mut DecodeFn<'_>,
) -> Result<Stats, String> {
    let d = &rec.data[..];
    let mut stats = Stats::default();
    let mut pos = 0;
    while pos < d.len() {
        match d[pos] {
            0 => {
                let count = be16(d, pos + 2)?;
                pos += 4;
                stats.updates += 1;
                for _ in 0..count {
                    let h = d.get(pos..pos + 12).ok_or("truncated rectangle header")?;
                    let r = Rect {
                        x: u16::from_be_bytes([h[0], h[1]]),
                        y: u16::from_be_bytes([h[2], h[3]]),
                        width: u16::from_be_bytes([h[4], h[5]]),
                        height: u16::from_be_bytes([h[6], h[7]]),
                        encoding: i32::from_be_bytes([h[8], h[9], h[10], h[11]]),
                    };
                    pos += 12;
                    let (w, hh) = (r.width as usize, r.height as usize);
                    match r.encoding {
                        LAST_RECT => break,
                        CURSOR_POSITION => continue,
                        CURSOR => {
                            pos += w * hh * 4 + w.div_ceil(8) * hh;
                            continue;
                        }
                        RAW => {
                            let src = d
                                .get(pos..pos + w * hh * 4)
                                .ok_or("truncated Raw rectangle")?;
                            for (row, s) in src.chunks_exact(w * 4).enumerate() {
                                let start = (r.y as usize + row) * frame.width + r.x as usize;
                                let dst = frame
                                    .px
                                    .get_mut(start..start + w)
                                    .ok_or("Raw rectangle outside")?;
                                crate::pixel::copy_pixels(dst, s);
                            }
                            pos += w * hh * 4;
                        }
                        _ => loop {
                            match decode(&r, &d[pos..], frame)? {
                                Decoded::Done(k) => {
                                    pos += k;
                                    break;
                                }
                                Decoded::Partial(k) => pos += k,
                                Decoded::NeedMore(n) => {
                                    return Err(format!("{r:?} needs {n} bytes past the end"))
                                }
                            }
                        },
                    }
                    *stats.rects.entry(r.encoding).or_default() += 1;
                    *stats.pixels.entry(r.encoding).or_default() += (w * hh) as u64;
                }
            }
            1 => pos += 6 + 6 * be16(d, pos + 4)?,
            2 => pos += 1,
            3 => {
                let len = d.get(pos + 4..pos + 8).ok_or("truncated cut text")?;
                pos += 8 + u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
            }
            other => return Err(format!("unknown server message {other} at {pos}")),
        }
    }
    Ok(stats)
}

/// The decoders linked in, one instance per encoding, called through the
/// safe trait exactly as the export glue calls them (without the C hop).
#[derive(Default)]
pub struct Linked {
    decoders: BTreeMap<i32, Box<dyn Decoder>>,
}

impl Linked {
    pub fn decode(&mut self, r: &Rect, data: &[u8], frame: &mut Frame) -> Result<Decoded, String> {
        let dec = match self.decoders.entry(r.encoding) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(crate::new_decoder(r.encoding, &PixelFormat::HOST).map_err(|e| e.message)?)
            }
        };
        let mut target = unsafe { Target::new(frame.raw(), *r) }.map_err(|e| e.to_string())?;
        dec.decode(r, data, &mut target).map_err(|e| e.message)
    }
}
