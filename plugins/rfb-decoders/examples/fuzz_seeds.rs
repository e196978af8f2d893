//! Turns recorded sessions into fuzz seeds (fuzz/src/lib.rs describes the
//! input format): each recording's rectangles of its own encoding, in
//! order from the first (zlib streams start there), up to a size budget.
//! Only rectangles inside the fuzz framebuffer (100x70) qualify, so record
//! a small screen: `benches/tools/record-sessions.sh DIR 100x70 3`.
//!
//! cargo run -p virt-manager-rfb-decoders --example fuzz_seeds -- OUT DIR/zrle.rfb.gz ...

use std::path::Path;

use virt_manager_plugin_api::abi::Rect;
use virt_manager_plugin_api::Decoded;
use virt_manager_rfb::recording::{replay, Frame, Linked, Recording};

/// Seeds stay small so that libFuzzer mutates them quickly.
const BUDGET: usize = 48 * 1024;

fn target_of(encoding: i32) -> Option<&'static str> {
    Some(match encoding {
        virt_manager_rfb::COPYRECT => "copyrect",
        virt_manager_rfb::RRE => "rre",
        virt_manager_rfb::HEXTILE => "hextile",
        virt_manager_rfb::ZLIB => "zlib",
        virt_manager_rfb::TIGHT => "tight",
        virt_manager_rfb::ZRLE => "zrle",
        virt_manager_rfb::TIGHT_PNG => "tightpng",
        _ => return None,
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, files) = args
        .split_first()
        .expect("usage: fuzz_seeds OUT RECORDING...");
    for file in files {
        let rec = Recording::load(Path::new(file)).unwrap();
        let mut frame = Frame::new(rec.width, rec.height);
        let mut linked = Linked::default();
        let mut rects: Vec<(Rect, Vec<u8>)> = Vec::new();
        let mut payload = Vec::new();
        replay(&rec, &mut frame, &mut |r, d, f| {
            let answer = linked.decode(r, d, f)?;
            match answer {
                Decoded::Partial(k) => payload.extend_from_slice(&d[..k]),
                Decoded::Done(k) => {
                    payload.extend_from_slice(&d[..k]);
                    rects.push((*r, std::mem::take(&mut payload)));
                }
                Decoded::NeedMore(_) => {}
            }
            Ok(answer)
        })
        .unwrap();
        let Some(&(first, _)) = rects.first() else {
            continue;
        };
        let Some(target) = target_of(first.encoding) else {
            continue;
        };
        let mut seed = vec![0u8];
        for (r, data) in &rects {
            let fits =
                r.x as usize + r.width as usize <= 100 && r.y as usize + r.height as usize <= 70;
            if !fits || seed.len() + 4 + data.len() > BUDGET {
                break;
            }
            seed.extend([r.x as u8, r.y as u8, r.width as u8, r.height as u8]);
            seed.extend(data);
        }
        if seed.len() == 1 {
            continue;
        }
        let stem = Path::new(file)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".rfb.gz", "");
        let dir = Path::new(out).join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("recorded-{stem}")), &seed).unwrap();
        println!("{target}: recorded-{stem}, {} bytes", seed.len());
    }
}
