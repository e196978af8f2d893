//! CopyRect (1): copy an area the client already has.

use virt_manager_plugin_api::{Decoded, Target};

use crate::error::DecodeError;
use crate::wire::u16_at;
use crate::RectDecoder;

pub struct CopyRect;

impl RectDecoder for CopyRect {
    fn step(&mut self, data: &[u8], target: &mut Target<'_>) -> Result<Decoded, DecodeError> {
        let (sx, sy) = match (u16_at(data, 0), u16_at(data, 2)) {
            (Ok(x), Ok(y)) => (x, y),
            _ => return Ok(Decoded::NeedMore(4 - data.len())),
        };
        target.copy_from(sx as usize, sy as usize).map_err(|_| {
            DecodeError::Malformed("CopyRect: the source lies outside the framebuffer")
        })?;
        Ok(Decoded::Done(4))
    }

    fn abort(&mut self) {}
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;

    #[test]
    fn copies_and_checks_the_source() {
        let mut fb = Fb::new(8, 8);
        for (i, p) in fb.px.iter_mut().enumerate() {
            *p = i as u32;
        }
        let before = fb.px.clone();
        let r = rect(4, 4, 3, 2, crate::COPYRECT);
        let out = feed_bytewise(crate::COPYRECT, &r, &[0, 1, 0, 2], &mut fb).unwrap();
        seed("copyrect", "copy", &[(r, vec![0, 1, 0, 2])]);
        assert_eq!(out, 4);
        for y in 0..2 {
            for x in 0..3 {
                assert_eq!(fb.at(4 + x, 4 + y), before[(2 + y) * 8 + 1 + x]);
            }
        }
        let r = rect(0, 0, 3, 2, crate::COPYRECT);
        assert!(decode_all(crate::COPYRECT, &r, &[0, 6, 0, 7], &mut fb).is_err());
    }
}
