//! Test support: a framebuffer that checks nothing outside the rectangle
//! changes, host-like feeding loops, and a zlib stream encoder.

use flate2::{Compress, Compression, FlushCompress};
use virt_manager_plugin_api::abi::{self, PixelFormat, Rect};
use virt_manager_plugin_api::{Decoded, Decoder, PluginError, Target};

pub const HOST: PixelFormat = PixelFormat::HOST;
const CANARY: u32 = 0xdead_beef;

pub fn rect(x: u16, y: u16, width: u16, height: u16, encoding: i32) -> Rect {
    Rect {
        x,
        y,
        width,
        height,
        encoding,
    }
}

pub struct Fb {
    pub w: usize,
    pub h: usize,
    pub px: Vec<u32>,
}

impl Fb {
    pub fn new(w: usize, h: usize) -> Self {
        Fb {
            w,
            h,
            px: vec![CANARY; w * h],
        }
    }

    pub fn at(&self, x: usize, y: usize) -> u32 {
        self.px[y * self.w + x]
    }

    /// One decode call; panics if anything outside `r` changed.
    pub fn decode(
        &mut self,
        dec: &mut dyn Decoder,
        r: &Rect,
        data: &[u8],
    ) -> Result<Decoded, PluginError> {
        let before = self.px.clone();
        let fb = abi::Framebuffer {
            pixels: self.px.as_mut_ptr() as *mut u8,
            stride: self.w * 4,
            width: self.w as u32,
            height: self.h as u32,
        };
        let mut target = unsafe { Target::new(fb, *r) }.expect("rectangle inside the framebuffer");
        let result = dec.decode(r, data, &mut target);
        for y in 0..self.h {
            for x in 0..self.w {
                let inside = (r.x as usize..r.x as usize + r.width as usize).contains(&x)
                    && (r.y as usize..r.y as usize + r.height as usize).contains(&y);
                if !inside {
                    assert_eq!(
                        self.px[y * self.w + x],
                        before[y * self.w + x],
                        "pixel ({x},{y}) outside {r:?} changed"
                    );
                }
            }
        }
        result
    }

    /// Asserts the rectangle's pixels, row-major.
    pub fn assert_rect(&self, r: &Rect, want: &[u32]) {
        let (rw, rh) = (r.width as usize, r.height as usize);
        assert_eq!(want.len(), rw * rh);
        for y in 0..rh {
            for x in 0..rw {
                let got = self.at(r.x as usize + x, r.y as usize + y) & 0x00ff_ffff;
                assert_eq!(
                    got,
                    want[y * rw + x] & 0x00ff_ffff,
                    "pixel ({x},{y}) of {r:?}"
                );
            }
        }
    }
}

/// Decodes with all of `data` available, as a host with a full buffer would.
pub fn decode_with(
    dec: &mut dyn Decoder,
    r: &Rect,
    data: &[u8],
    fb: &mut Fb,
) -> Result<usize, PluginError> {
    let mut base = 0;
    loop {
        match fb.decode(dec, r, &data[base..])? {
            Decoded::Done(k) => {
                assert!(k <= data.len() - base);
                return Ok(base + k);
            }
            Decoded::Partial(k) => {
                assert!(
                    k > 0 && k <= data.len() - base,
                    "Partial({k}) of {}",
                    data.len() - base
                );
                base += k;
            }
            Decoded::NeedMore(n) => {
                assert!(n > 0);
                return Err(PluginError::failed(format!("incomplete: needs {n} more")));
            }
        }
    }
}

pub fn decode_all(encoding: i32, r: &Rect, data: &[u8], fb: &mut Fb) -> Result<usize, PluginError> {
    let mut dec = crate::new_decoder(encoding, &HOST).unwrap();
    decode_with(&mut *dec, r, data, fb)
}

/// Feeds one byte at a time, like the slowest socket, checking that each
/// `NeedMore(n)` holds: with fewer than `n` new bytes the answer is again
/// `NeedMore`, and it never asks for bytes that are not part of the data.
pub fn feed_bytewise_with(
    dec: &mut dyn Decoder,
    r: &Rect,
    data: &[u8],
    fb: &mut Fb,
) -> Result<usize, PluginError> {
    let (mut base, mut avail, mut promised) = (0, 0, 0);
    loop {
        match fb.decode(dec, r, &data[base..avail])? {
            Decoded::Done(k) => {
                assert!(avail >= promised, "Done before the promised bytes arrived");
                assert!(k <= avail - base);
                return Ok(base + k);
            }
            Decoded::Partial(k) => {
                assert!(
                    avail >= promised,
                    "Partial before the promised bytes arrived"
                );
                assert!(k > 0 && k <= avail - base);
                base += k;
                continue;
            }
            Decoded::NeedMore(n) => {
                assert!(n > 0);
                assert!(
                    avail + n >= promised,
                    "NeedMore({n}) at {avail} retracts an earlier promise of {promised}"
                );
                promised = avail + n;
                assert!(
                    promised <= data.len(),
                    "asks for {n} bytes past the end of {}",
                    data.len()
                );
            }
        }
        avail += 1;
    }
}

pub fn feed_bytewise(
    encoding: i32,
    r: &Rect,
    data: &[u8],
    fb: &mut Fb,
) -> Result<usize, PluginError> {
    let mut dec = crate::new_decoder(encoding, &HOST).unwrap();
    feed_bytewise_with(&mut *dec, r, data, fb)
}

/// A server's side of one zlib stream: each chunk ends in a sync flush.
pub struct Deflater(Compress);

impl Deflater {
    pub fn new() -> Self {
        Deflater(Compress::new(Compression::new(6), true))
    }

    pub fn chunk(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 1024);
        let start_in = self.0.total_in();
        loop {
            let used = (self.0.total_in() - start_in) as usize;
            out.reserve(4096);
            self.0
                .compress_vec(&data[used..], &mut out, FlushCompress::Sync)
                .unwrap();
            if (self.0.total_in() - start_in) as usize == data.len() && out.len() < out.capacity() {
                return out;
            }
        }
    }
}

/// Tight's compact length.
pub fn compact(n: usize) -> Vec<u8> {
    assert!(n < 1 << 22);
    if n < 128 {
        vec![n as u8]
    } else if n < 1 << 14 {
        vec![(n & 0x7f) as u8 | 0x80, (n >> 7) as u8]
    } else {
        vec![
            (n & 0x7f) as u8 | 0x80,
            ((n >> 7) & 0x7f) as u8 | 0x80,
            (n >> 14) as u8,
        ]
    }
}

/// A deterministic pseudo-random picture with flat areas and noise.
pub fn picture(w: usize, h: usize, seed: u32) -> Vec<u32> {
    let mut s = seed | 1;
    (0..w * h)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let (x, y) = (i % w, i / w);
            if (x / 5 + y / 3) % 3 == 0 {
                0x00ff_8040
            } else {
                s & 0x00ff_ffff
            }
        })
        .collect()
}

/// With `RFB_FUZZ_SEEDS=DIR` set, saves rectangles that a test decoded as
/// one seed for the fuzz target `target` (`DIR/<target>/<name>`), in the
/// fuzz input format (fuzz/src/lib.rs): delivery byte 0, then each
/// rectangle's x, y, w, h bytes and payload.
pub fn seed(target: &str, name: &str, rects: &[(Rect, Vec<u8>)]) {
    let Ok(dir) = std::env::var("RFB_FUZZ_SEEDS") else {
        return;
    };
    let mut d = vec![0u8];
    for (r, data) in rects {
        if r.x as usize + r.width as usize > 100 || r.y as usize + r.height as usize > 70 {
            return;
        }
        d.extend([r.x as u8, r.y as u8, r.width as u8, r.height as u8]);
        d.extend(data);
    }
    let dir = std::path::Path::new(&dir).join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), d).unwrap();
}
