//! Real servers' output, decoded: sessions recorded from TigerVNC's Xvnc
//! and from x11vnc (benches/tools/record-sessions.sh) must end on exactly
//! the screen `import` saw (within a PSNR for JPEG).

use std::path::PathBuf;

use virt_manager_rfb::recording::{replay, Frame, Linked, Recording};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../benches/data")
}

/// A truth screenshot as 0x00RRGGBB.
fn truth_of(file: &str) -> (usize, usize, Vec<u32>) {
    let file = std::fs::File::open(data_dir().join(file)).expect("a truth picture in benches/data");
    let mut dec = png::Decoder::new(std::io::BufReader::new(file));
    dec.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let px = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|c| u32::from_be_bytes([0, c[0], c[1 % channels], c[2 % channels]]))
        .collect();
    (info.width as usize, info.height as usize, px)
}

/// The X screen's truth (Xvnc and x11vnc sessions).
fn truth() -> (usize, usize, Vec<u32>) {
    truth_of("truth.png")
}

fn decode(name: &str) -> (Frame, virt_manager_rfb::recording::Stats) {
    let rec = Recording::load(&data_dir().join(format!("{name}.rfb.gz"))).unwrap();
    let mut frame = Frame::new(rec.width, rec.height);
    let mut linked = Linked::default();
    let stats = replay(&rec, &mut frame, &mut |r, d, f| linked.decode(r, d, f))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    (frame, stats)
}

fn psnr(a: &[u32], b: &[u32]) -> f64 {
    let mut se = 0f64;
    for (x, y) in a.iter().zip(b) {
        for s in [0, 8, 16] {
            let d = ((x >> s) & 0xff) as f64 - ((y >> s) & 0xff) as f64;
            se += d * d;
        }
    }
    let mse = se / (a.len() * 3) as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

#[test]
fn lossless_recordings_end_on_the_true_screen() {
    let (w, h, want) = truth();
    for name in ["raw", "copyrect", "rre", "hextile", "zrle", "tight", "zlib"] {
        let (frame, stats) = decode(name);
        eprintln!(
            "{name}: {} updates, rectangles per encoding {:?}",
            stats.updates, stats.rects
        );
        assert_eq!((frame.width, frame.height), (w, h));
        let diff: Vec<usize> = (0..want.len())
            .filter(|&i| frame.px[i] & 0xffffff != want[i] & 0xffffff)
            .collect();
        let wrong = diff.len();
        if let (Some(first), Some(last)) = (diff.first(), diff.last()) {
            eprintln!(
                "{name}: differs from ({},{}) to ({},{})",
                first % w,
                first / w,
                last % w,
                last / w
            );
        }
        assert_eq!(wrong, 0, "{name}: {wrong} pixels differ ({stats:?})");
        assert!(stats.updates > 1, "{name}: {stats:?}");
    }
}

#[test]
fn jpeg_recording_is_close() {
    let (_, _, want) = truth();
    let (frame, stats) = decode("tight-jpeg");
    let db = psnr(&frame.px, &want);
    assert!(db > 30.0, "PSNR {db:.1} dB ({stats:?})");
}

#[test]
fn qemu_tightpng_recording_matches_its_screendump() {
    let (w, h, want) = truth_of("qemu-truth.png");
    let (frame, stats) = decode("tightpng");
    eprintln!(
        "tightpng: {} updates, rectangles per encoding {:?}",
        stats.updates, stats.rects
    );
    assert_eq!((frame.width, frame.height), (w, h));
    assert!(stats
        .rects
        .get(&virt_manager_rfb::TIGHT_PNG)
        .is_some_and(|n| *n > 0));
    // SeaBIOS's text cursor blinks: differences may fill one 9x16 cell.
    let diff: Vec<usize> = (0..want.len())
        .filter(|&i| frame.px[i] & 0xffffff != want[i] & 0xffffff)
        .collect();
    if let (Some(lo), Some(hi)) = (
        diff.iter().min_by_key(|&&i| i % w),
        diff.iter().max_by_key(|&&i| i % w),
    ) {
        let (x0, x1) = (lo % w, hi % w);
        let (y0, y1) = (diff[0] / w, diff[diff.len() - 1] / w);
        assert!(
            x1 - x0 < 9 && y1 - y0 < 16,
            "differs in ({x0},{y0})-({x1},{y1})"
        );
    }
}
