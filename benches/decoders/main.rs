//! Decoder benchmarks, run by `make bench` through tools/bench-decoders.sh.
//!
//! - ABI overhead: every recorded session (benches/data) decoded through
//!   the plugin loaded from its .so by the plugin host (`PluginRegistry`,
//!   `DecoderInstance`) and through the same decoders linked in (their
//!   `Decoder` trait called directly), interleaved, best of N each.
//! - Throughput: in-process decoding of each recording from memory, in MB/s
//!   of framebuffer pixels written (and of wire bytes read), beside this
//!   machine's memcpy bandwidth; plus a full-HD Raw rectangle and a full-HD
//!   CopyRect scroll, the two that memcpy bounds.
//!
//! Environment: RFB_BENCH_DATA (recordings, default benches/data),
//! RFB_PLUGIN_DIR (a directory holding libvirt_manager_rfb.so; without it
//! the plugin side is skipped), RFB_BENCH_REPS (default 15), and
//! RFB_BENCH=callgrind-linked|callgrind-plugin to decode every recording
//! once through one side only, for `valgrind --tool=callgrind
//! --toggle-collect` (tools/bench-decoders.sh counts instructions so; the
//! pixels written go to stderr, for instructions per pixel), and
//! RFB_BENCH_SESSIONS=hextile,rre (file names in benches/data, without
//! .rfb.gz) to take only those recordings.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use virt_manager::plugin_host::{DecoderInstance, DecoderPlugin, FramebufferMut, PluginRegistry};
use virt_manager_plugin_api::abi::{PixelFormat, Rect};
use virt_manager_plugin_api::Decoded;
use virt_manager_rfb::recording::{replay, Frame, Linked, Recording};

/// Recordings in benches/data, with the encoding each was made for.
const SESSIONS: [(&str, &str); 9] = [
    ("raw", "Raw"),
    ("copyrect", "CopyRect (+Raw)"),
    ("rre", "RRE"),
    ("hextile", "Hextile"),
    ("zlib", "Zlib"),
    ("tight", "Tight (lossless)"),
    ("tight-jpeg", "Tight (JPEG q8)"),
    ("zrle", "ZRLE"),
    ("tightpng", "TightPNG"),
];

/// The decoders behind the plugin host, one instance per encoding.
struct Plugged {
    plugins: BTreeMap<i32, Arc<DecoderPlugin>>,
    instances: BTreeMap<i32, DecoderInstance>,
}

impl Plugged {
    fn new(registry: &PluginRegistry) -> Self {
        let plugins = virt_manager_rfb::ENCODINGS
            .iter()
            .filter_map(|&(e, _)| registry.decoder_for(e).map(|p| (e, p)))
            .collect();
        Plugged {
            plugins,
            instances: BTreeMap::new(),
        }
    }

    fn decode(&mut self, r: &Rect, data: &[u8], frame: &mut Frame) -> Result<Decoded, String> {
        if !self.instances.contains_key(&r.encoding) {
            let plugin = self
                .plugins
                .get(&r.encoding)
                .ok_or(format!("no plugin decodes {}", r.encoding))?;
            let instance = plugin
                .create(r.encoding, &PixelFormat::HOST)
                .map_err(|e| e.message)?;
            self.instances.insert(r.encoding, instance);
        }
        let instance = self.instances.get_mut(&r.encoding).expect("just made");
        let mut fb = FramebufferMut {
            pixels: &mut frame.px,
            width: frame.width as u32,
            height: frame.height as u32,
            stride: frame.width,
        };
        instance.decode(r, data, &mut fb).map_err(|e| e.message)
    }
}

/// One pass over a recording with fresh linked decoders.
#[inline(never)]
fn bench_pass_linked(rec: &Recording, frame: &mut Frame) -> u64 {
    let mut linked = Linked::default();
    let stats = replay(rec, frame, &mut |r, d, f| linked.decode(r, d, f)).expect("replay");
    stats.pixels.values().sum()
}

/// One pass over a recording with fresh decoders from the plugin.
#[inline(never)]
fn bench_pass_plugin(rec: &Recording, frame: &mut Frame, registry: &PluginRegistry) -> u64 {
    let mut plugged = Plugged::new(registry);
    let stats = replay(rec, frame, &mut |r, d, f| plugged.decode(r, d, f)).expect("replay");
    stats.pixels.values().sum()
}

fn best(times: &[Duration]) -> Duration {
    times.iter().copied().min().unwrap_or_default()
}

fn mbps(bytes: u64, t: Duration) -> f64 {
    bytes as f64 / t.as_secs_f64() / 1e6
}

fn data_dir() -> PathBuf {
    std::env::var_os("RFB_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data"))
}

fn load_sessions() -> Vec<(&'static str, &'static str, Recording)> {
    let only: Option<Vec<String>> = std::env::var("RFB_BENCH_SESSIONS")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    SESSIONS
        .iter()
        .filter(|(file, _)| only.as_ref().is_none_or(|o| o.iter().any(|f| f == file)))
        .filter_map(|&(file, name)| {
            let path = data_dir().join(format!("{file}.rfb.gz"));
            match Recording::load(&path) {
                Ok(rec) => Some((file, name, rec)),
                Err(e) => {
                    eprintln!("skipping {name}: {e}");
                    None
                }
            }
        })
        .collect()
}

fn registry() -> Option<PluginRegistry> {
    let dir = PathBuf::from(std::env::var_os("RFB_PLUGIN_DIR")?);
    let registry = PluginRegistry::discover_in(std::slice::from_ref(&dir));
    if registry.decoder_for(virt_manager_rfb::ZRLE).is_none() {
        eprintln!("no RFB decoder plugin loaded from {}", dir.display());
        return None;
    }
    Some(registry)
}

/// memcpy bandwidth on a full-HD framebuffer's worth of bytes.
fn memcpy_mbps(reps: usize) -> f64 {
    let len = 1920 * 1080 * 4;
    let src = vec![0x5au8; len];
    let mut dst = vec![0u8; len];
    let times: Vec<Duration> = (0..reps * 4)
        .map(|_| {
            let t = Instant::now();
            dst.copy_from_slice(black_box(&src));
            black_box(&mut dst);
            t.elapsed()
        })
        .collect();
    mbps(len as u64, best(&times))
}

/// A one-rectangle FramebufferUpdate recording.
fn synthetic(width: u16, height: u16, rect: Rect, payload: &[u8]) -> Recording {
    let mut d = b"VMMRFB1\n".to_vec();
    d.extend(width.to_be_bytes());
    d.extend(height.to_be_bytes());
    d.extend([0, 0, 0, 1]);
    for v in [rect.x, rect.y, rect.width, rect.height] {
        d.extend(v.to_be_bytes());
    }
    d.extend(rect.encoding.to_be_bytes());
    d.extend(payload);
    Recording::parse(d).expect("synthetic recording")
}

fn time_passes(reps: usize, mut pass: impl FnMut() -> u64) -> (Duration, u64) {
    let mut pixels = 0;
    let times: Vec<Duration> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            pixels = black_box(pass());
            t.elapsed()
        })
        .collect();
    (best(&times), pixels)
}

fn main() {
    let mode = std::env::var("RFB_BENCH").unwrap_or_default();
    let reps: usize = std::env::var("RFB_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let sessions = load_sessions();
    match mode.as_str() {
        "callgrind-linked" => {
            for (file, _, rec) in &sessions {
                let px = black_box(bench_pass_linked(
                    rec,
                    &mut Frame::new(rec.width, rec.height),
                ));
                eprintln!("pixels {file} {px}");
            }
            return;
        }
        "callgrind-plugin" => {
            let registry = registry().expect("RFB_PLUGIN_DIR with the decoder plugin");
            for (file, _, rec) in &sessions {
                let px = black_box(bench_pass_plugin(
                    rec,
                    &mut Frame::new(rec.width, rec.height),
                    &registry,
                ));
                eprintln!("pixels {file} {px}");
            }
            return;
        }
        _ => {}
    }

    let memcpy = memcpy_mbps(reps);
    println!(
        "memcpy bandwidth (8 MB blocks, best of {}): {memcpy:.0} MB/s\n",
        reps * 4
    );

    // Raw and CopyRect at full HD, the memcpy-bound cases.
    let (w, h) = (1920u16, 1080u16);
    let raw_px: Vec<u8> = (0..w as usize * h as usize * 4)
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    let raw = synthetic(
        w,
        h,
        Rect {
            x: 0,
            y: 0,
            width: w,
            height: h,
            encoding: 0,
        },
        &raw_px,
    );
    let mut frame = Frame::new(w as usize, h as usize);
    let (t, px) = time_passes(reps, || bench_pass_linked(&raw, &mut frame));
    let raw_mbps = mbps(px * 4, t);
    let scroll = synthetic(
        w,
        h,
        Rect {
            x: 0,
            y: 0,
            width: w,
            height: h - 16,
            encoding: 1,
        },
        &[0, 0, 0, 16],
    );
    let (t, px) = time_passes(reps, || bench_pass_linked(&scroll, &mut frame));
    let copy_mbps = mbps(px * 4, t);
    println!("| full-HD synthetic | MB/s | of memcpy |");
    println!("|---|---:|---:|");
    println!(
        "| Raw 1920x1080 | {raw_mbps:.0} | {:.0} % |",
        raw_mbps / memcpy * 100.0
    );
    println!(
        "| CopyRect 1920x1064 scroll by 16 | {copy_mbps:.0} | {:.0} % |\n",
        copy_mbps / memcpy * 100.0
    );

    println!("In-process decoding of recorded sessions (linked, best of {reps}):\n");
    println!("| session | size | wire bytes | rects | ms | MB/s pixels | MB/s wire |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (_, name, rec) in &sessions {
        let mut frame = Frame::new(rec.width, rec.height);
        let rects: usize = {
            let mut linked = Linked::default();
            replay(rec, &mut frame, &mut |r, d, f| linked.decode(r, d, f))
                .expect("replay")
                .rects
                .values()
                .sum()
        };
        let (t, px) = time_passes(reps, || bench_pass_linked(rec, &mut frame));
        println!(
            "| {name} | {}x{} | {} | {rects} | {:.2} | {:.0} | {:.0} |",
            rec.width,
            rec.height,
            rec.data.len(),
            t.as_secs_f64() * 1e3,
            mbps(px * 4, t),
            mbps(rec.data.len() as u64, t)
        );
    }

    let Some(registry) = registry() else {
        println!("\n(plugin side skipped: set RFB_PLUGIN_DIR to a directory with libvirt_manager_rfb.so)");
        return;
    };
    println!("\nABI overhead: plugin through the host vs the same decoders linked in (best of {reps}, interleaved):\n");
    println!("| session | linked ms | plugin ms | plugin / linked |");
    println!("|---|---:|---:|---:|");
    let (mut sum_linked, mut sum_plugin) = (Duration::ZERO, Duration::ZERO);
    for (_, name, rec) in &sessions {
        let mut frame = Frame::new(rec.width, rec.height);
        let (mut linked, mut plugin) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            let t = Instant::now();
            black_box(bench_pass_linked(rec, &mut frame));
            linked.push(t.elapsed());
            let t = Instant::now();
            black_box(bench_pass_plugin(rec, &mut frame, &registry));
            plugin.push(t.elapsed());
        }
        let (l, p) = (best(&linked), best(&plugin));
        sum_linked += l;
        sum_plugin += p;
        println!(
            "| {name} | {:.3} | {:.3} | {:.4} |",
            l.as_secs_f64() * 1e3,
            p.as_secs_f64() * 1e3,
            p.as_secs_f64() / l.as_secs_f64()
        );
    }
    println!(
        "| **all** | {:.3} | {:.3} | **{:.4}** |",
        sum_linked.as_secs_f64() * 1e3,
        sum_plugin.as_secs_f64() * 1e3,
        sum_plugin.as_secs_f64() / sum_linked.as_secs_f64()
    );
}
