//! Raw encoding, built into the host because every RFB client must have
//! it: rows of pixels already in the framebuffer's format, copied as they
//! arrive (a large rectangle never has to be buffered whole).
//!
//! A large rectangle on a socket is read straight into the framebuffer
//! rows ([`read_direct`]): one copy, kernel to framebuffer, instead of
//! kernel to buffer to framebuffer. Smaller ones, and streams that are
//! not a socket (TLS, recordings), go through the buffer and
//! [`RawDecoder`].

use std::sync::Mutex;

use virt_manager_plugin_api::abi::Rect;
use virt_manager_plugin_api::{Decoded, PluginError};

use super::error::Result;
use super::framebuffer::Framebuffer;
use super::io::Reader;
use super::session::lock;
use crate::plugin_host::FramebufferMut;

/// Raw rectangles with at least this many bytes still to arrive (beyond
/// what is buffered) are read straight into the framebuffer.
pub(crate) const DIRECT_MIN: usize = 64 * 1024;

/// Most rows described to one read.
const ROWS_PER_READ: usize = 1024;

/// Reads a Raw rectangle straight from the socket into the framebuffer
/// rows, buffered bytes first. The caller has checked that `rect` lies
/// inside the framebuffer and that the reader has a socket
/// ([`Reader::direct_fd`]). The framebuffer is locked only during
/// non-blocking reads, never while waiting for the network.
pub(crate) fn read_direct(r: &mut Reader, fb: &Mutex<Framebuffer>, rect: &Rect) -> Result<()> {
    let (x, y) = (rect.x as usize, rect.y as usize);
    let (w, h) = (rect.width as usize, rect.height as usize);
    let row_bytes = w * 4;
    let total = row_bytes * h;
    let mut iov: Vec<libc::iovec> = Vec::with_capacity(h.min(ROWS_PER_READ));
    let mut done = 0;
    while done < total {
        let (asked, got) = {
            let mut fb = lock(fb);
            let stride = fb.stride;
            debug_assert!(x + w <= fb.width as usize && y + h <= fb.height as usize);
            let base = fb.pixels.as_mut_ptr().cast::<u8>();
            let at = |off: usize| {
                let (row, col) = (off / row_bytes, off % row_bytes);
                // SAFETY: inside the rectangle, which lies inside the
                // framebuffer (checked by the caller).
                unsafe { base.add(((y + row) * stride + x) * 4 + col) }
            };
            iov.clear();
            if stride == w {
                // Full-width rows lie back to back: one area.
                iov.push(libc::iovec {
                    iov_base: at(done).cast(),
                    iov_len: total - done,
                });
            } else {
                let mut off = done;
                while off < total && iov.len() < ROWS_PER_READ {
                    let len = row_bytes - off % row_bytes;
                    iov.push(libc::iovec {
                        iov_base: at(off).cast(),
                        iov_len: len,
                    });
                    off += len;
                }
            }
            let asked: usize = iov.iter().map(|v| v.iov_len).sum();
            // SAFETY: the areas are disjoint parts of the rectangle's rows,
            // and the framebuffer stays locked for the call.
            let got = unsafe { r.read_nowait(&mut iov)? };
            (asked, got)
        };
        done += got;
        if done < total && got < asked {
            // The socket is drained: wait without holding the lock.
            r.wait_readable()?;
        }
    }
    Ok(())
}

/// Raw's only state: how many rows of the current rectangle are done.
#[derive(Debug, Default)]
pub(crate) struct RawDecoder {
    rows_done: usize,
}

impl RawDecoder {
    /// Called before the first `decode` of each rectangle.
    pub fn begin(&mut self) {
        self.rows_done = 0;
    }

    /// Copies the whole rows `data` holds; the host has checked that
    /// `rect` lies inside `fb`.
    pub fn decode(
        &mut self,
        rect: &Rect,
        data: &[u8],
        fb: &mut FramebufferMut<'_>,
    ) -> Result<Decoded, PluginError> {
        let (w, h) = (rect.width as usize, rect.height as usize);
        let row_bytes = w * 4;
        if row_bytes == 0 || h == 0 {
            return Ok(Decoded::Done(0));
        }
        let rows = (data.len() / row_bytes).min(h - self.rows_done);
        if rows == 0 {
            return Ok(Decoded::NeedMore(row_bytes - data.len()));
        }
        for (i, src) in data.chunks_exact(row_bytes).take(rows).enumerate() {
            let start = (rect.y as usize + self.rows_done + i) * fb.stride + rect.x as usize;
            let dst = fb
                .pixels
                .get_mut(start..start + w)
                .ok_or_else(|| PluginError::failed("raw rectangle outside the framebuffer"))?;
            // Pixels arrive in the format asked for (PixelFormat::HOST,
            // native-endian words), so each row is a plain byte copy.
            for (d, s) in dst.iter_mut().zip(src.chunks_exact(4)) {
                *d = u32::from_ne_bytes([s[0], s[1], s[2], s[3]]);
            }
        }
        self.rows_done += rows;
        let used = rows * row_bytes;
        Ok(if self.rows_done == h {
            Decoded::Done(used)
        } else {
            Decoded::Partial(used)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vnc::io::Stream;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    /// Large rectangles, partial rows and buffered bytes: what arrives
    /// lands in the right pixels, and nothing outside the rectangle moves.
    #[test]
    fn reads_straight_into_the_framebuffer() {
        for (x, y, w, h) in [(3u16, 5u16, 200u16, 150u16), (0, 2, 256, 100)] {
            let (fw, fh) = (256u32, 160u32);
            let fb = Mutex::new(Framebuffer::new(fw, fh));
            lock(&fb).pixels.fill(0xdead);
            let px: Vec<u32> = (0..w as u32 * h as u32).map(|i| i * 7 + 1).collect();
            let mut bytes: Vec<u8> = px.iter().flat_map(|p| p.to_ne_bytes()).collect();
            bytes.extend([0xAB; 3]); // the next message's first bytes
            let (a, mut b) = UnixStream::pair().unwrap();
            let mut r = Reader::new(Stream::Unix(a), 1 << 20);
            let tail = bytes.split_off(1001); // 1001 bytes buffered first
            b.write_all(&bytes).unwrap();
            r.fill(1001).unwrap();
            let writer = std::thread::spawn(move || {
                for chunk in tail.chunks(7919) {
                    b.write_all(chunk).unwrap();
                    std::thread::yield_now();
                }
            });
            let rect = Rect {
                x,
                y,
                width: w,
                height: h,
                encoding: 0,
            };
            read_direct(&mut r, &fb, &rect).unwrap();
            writer.join().unwrap();
            let fb = lock(&fb);
            for yy in 0..fh as usize {
                for xx in 0..fw as usize {
                    let inside = (x as usize..(x + w) as usize).contains(&xx)
                        && (y as usize..(y + h) as usize).contains(&yy);
                    let want = if inside {
                        px[(yy - y as usize) * w as usize + xx - x as usize]
                    } else {
                        0xdead
                    };
                    assert_eq!(fb.pixels[yy * fb.stride + xx], want, "({xx},{yy})");
                }
            }
            assert_eq!(r.read_bytes::<3>().unwrap(), [0xAB; 3]);
        }
    }

    #[test]
    fn decodes_row_by_row() {
        let mut pixels = vec![0u32; 4 * 3];
        let mut fb = FramebufferMut {
            pixels: &mut pixels,
            width: 4,
            height: 3,
            stride: 4,
        };
        let rect = Rect {
            x: 1,
            y: 1,
            width: 2,
            height: 2,
            encoding: 0,
        };
        let data: Vec<u8> = [1u32, 2, 3, 4]
            .iter()
            .flat_map(|p| p.to_ne_bytes())
            .collect();
        let mut raw = RawDecoder::default();
        raw.begin();
        assert_eq!(
            raw.decode(&rect, &data[..5], &mut fb).unwrap(),
            Decoded::NeedMore(3)
        );
        assert_eq!(
            raw.decode(&rect, &data[..12], &mut fb).unwrap(),
            Decoded::Partial(8)
        );
        assert_eq!(
            raw.decode(&rect, &data[8..], &mut fb).unwrap(),
            Decoded::Done(8)
        );
        assert_eq!(pixels, vec![0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0]);
    }
}
