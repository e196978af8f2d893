//! One zlib stream that lives as long as the connection (RFB's Zlib, ZRLE
//! and the four Tight streams). Callers hand it whole length-prefixed
//! chunks only, so its state never advances on a chunk that might still
//! be incomplete.

use flate2::{Decompress, FlushDecompress};

use crate::error::DecodeError;

pub struct ZStream {
    z: Decompress,
    /// The encoding, for messages.
    name: &'static str,
}

impl ZStream {
    pub fn new(name: &'static str) -> Self {
        ZStream {
            z: Decompress::new(true),
            name,
        }
    }

    /// Starts a fresh stream (Tight's reset bits), reusing the memory.
    pub fn reset(&mut self) {
        self.z.reset(true);
    }

    /// One inflate call: (input consumed, output produced).
    fn step(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), DecodeError> {
        let (in0, out0) = (self.z.total_in(), self.z.total_out());
        self.z
            .decompress(input, out, FlushDecompress::Sync)
            .map_err(|e| DecodeError::Zlib(self.name, e.to_string()))?;
        Ok((
            (self.z.total_in() - in0) as usize,
            (self.z.total_out() - out0) as usize,
        ))
    }

    /// Fills `out` completely from `input`, advancing `input`.
    pub fn fill(&mut self, input: &mut &[u8], mut out: &mut [u8]) -> Result<(), DecodeError> {
        while !out.is_empty() {
            let (used, made) = self.step(input, out)?;
            *input = &input[used..];
            out = &mut out[made..];
            if used == 0 && made == 0 {
                return Err(DecodeError::Zlib(
                    self.name,
                    "the data ends before the rectangle does".into(),
                ));
            }
        }
        Ok(())
    }

    /// Consumes the rest of a chunk, which must inflate to nothing (a
    /// server's sync-flush marker does): more pixels than the rectangle
    /// needs are an error.
    pub fn finish(&mut self, mut input: &[u8]) -> Result<(), DecodeError> {
        loop {
            let mut sink = [0u8; 1];
            let (used, made) = self.step(input, &mut sink)?;
            if made > 0 {
                return Err(DecodeError::Zlib(
                    self.name,
                    "more data than the rectangle needs".into(),
                ));
            }
            input = &input[used..];
            if used == 0 {
                return match input.is_empty() {
                    true => Ok(()),
                    false => Err(DecodeError::Zlib(
                        self.name,
                        "data after the end of the stream".into(),
                    )),
                };
            }
        }
    }

    /// Inflates the whole chunk into `scratch` (grown as needed, never past
    /// `limit` bytes) and returns the inflated length.
    pub fn inflate_all(
        &mut self,
        mut input: &[u8],
        scratch: &mut Vec<u8>,
        limit: usize,
    ) -> Result<usize, DecodeError> {
        let mut len = 0;
        loop {
            if len == scratch.len() {
                if len >= limit {
                    break;
                }
                // Grow with what arrives, not to `limit` at once: a tiny
                // hostile chunk should not cost a framebuffer-sized buffer.
                let want = (len * 2).max(64 * 1024).min(limit);
                scratch.resize(want, 0);
            }
            let end = scratch.len().min(limit);
            let (used, made) = self.step(input, &mut scratch[len..end])?;
            input = &input[used..];
            len += made;
            if used == 0 && made == 0 {
                break;
            }
        }
        self.finish(input)?;
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Deflater;

    #[test]
    fn exact_chunks_pass_and_oversized_ones_fail() {
        let mut enc = Deflater::new();
        let mut z = ZStream::new("test");
        let chunk = enc.chunk(&[7u8; 100]);
        let mut out = [0u8; 100];
        let mut input = &chunk[..];
        z.fill(&mut input, &mut out).unwrap();
        z.finish(input).unwrap();
        assert_eq!(out, [7u8; 100]);

        // The stream carries on across chunks.
        let chunk = enc.chunk(&[9u8; 50]);
        let mut out = [0u8; 40];
        let mut input = &chunk[..];
        z.fill(&mut input, &mut out).unwrap();
        assert!(z.finish(input).is_err(), "10 bytes too many");
    }

    #[test]
    fn short_and_corrupt_chunks_fail() {
        let mut enc = Deflater::new();
        let chunk = enc.chunk(&[1u8; 64]);
        let mut z = ZStream::new("test");
        let mut out = [0u8; 65];
        let mut input = &chunk[..];
        assert!(z.fill(&mut input, &mut out).is_err());

        let mut z = ZStream::new("test");
        let mut out = [0u8; 8];
        let mut input: &[u8] = &[0x78, 0x9c, 0xff, 0xff, 0xff];
        assert!(z.fill(&mut input, &mut out).is_err());
    }

    #[test]
    fn inflate_all_grows_up_to_the_limit() {
        let mut enc = Deflater::new();
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let chunk = enc.chunk(&data);
        let mut z = ZStream::new("test");
        let mut scratch = Vec::new();
        let n = z.inflate_all(&chunk, &mut scratch, 300_000).unwrap();
        assert_eq!(&scratch[..n], &data[..]);

        let chunk = enc.chunk(&data);
        assert!(z.inflate_all(&chunk, &mut scratch, 199_999).is_err());
    }
}
