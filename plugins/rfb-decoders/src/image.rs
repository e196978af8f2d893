//! The JPEG and PNG pictures inside Tight and TightPNG rectangles.
//!
//! JPEG: libjpeg-turbo (feature `turbojpeg`, the default) decodes straight
//! into the framebuffer rows in the host format; measured on the Tight
//! JPEG recording it takes about three quarters of zune-jpeg's time and
//! instructions (zune-jpeg rebuilds its Huffman lookup tables for every
//! picture, and Tight sends hundreds of small ones), and no conversion
//! pass follows. Without the feature, zune-jpeg decodes into a reused
//! buffer converted row by row. PNG: the png crate, likewise.

use std::io::Cursor;

use virt_manager_plugin_api::Target;

use crate::error::DecodeError;
use crate::pixel::copy_tpixels;

/// Scratch for decoded pictures, and the JPEG decompressor, kept by the
/// decoder instance.
#[derive(Default)]
pub struct Images {
    buf: Vec<u8>,
    #[cfg(feature = "turbojpeg")]
    tj: Option<turbojpeg::Decompressor>,
}

impl Images {
    /// Decodes a JPEG exactly the rectangle's size straight into it.
    #[cfg(feature = "turbojpeg")]
    pub fn jpeg(&mut self, data: &[u8], t: &mut Target<'_>) -> Result<(), DecodeError> {
        let (w, h) = (t.width(), t.height());
        if w == 0 || h == 0 {
            return Err(DecodeError::Jpeg("a picture for an empty rectangle".into()));
        }
        let tj_err = |e: turbojpeg::Error| DecodeError::Jpeg(e.to_string());
        let tj = match &mut self.tj {
            Some(tj) => tj,
            slot => slot.insert(turbojpeg::Decompressor::new().map_err(tj_err)?),
        };
        // The header first: a picture of any other size is refused before
        // anything is decoded (libjpeg-turbo would scale it to fit).
        let header = tj.read_header(data).map_err(tj_err)?;
        if (header.width, header.height) != (w, h) {
            return Err(DecodeError::ImageSize(
                "Tight JPEG",
                header.width,
                header.height,
                w,
                h,
            ));
        }
        // The host format, 0x00RRGGBB in native order, is BGRX in memory
        // on little-endian machines and XRGB on big-endian ones.
        let format = if cfg!(target_endian = "little") {
            turbojpeg::PixelFormat::BGRX
        } else {
            turbojpeg::PixelFormat::XRGB
        };
        // SAFETY: libjpeg-turbo writes `w` pixels of each of the `h` rows
        // `pitch` apart, which is exactly the rectangle.
        let (span, pitch) = unsafe { crate::pixel::rect_span(t) }
            .ok_or(DecodeError::Jpeg("an empty rectangle".into()))?;
        let image = turbojpeg::Image {
            pixels: bytemuck::cast_slice_mut::<u32, u8>(span),
            width: w,
            pitch: pitch * 4,
            height: h,
            format,
        };
        tj.decompress(data, image).map_err(tj_err)
    }

    /// Decodes a JPEG exactly the rectangle's size into it.
    #[cfg(not(feature = "turbojpeg"))]
    pub fn jpeg(&mut self, data: &[u8], t: &mut Target<'_>) -> Result<(), DecodeError> {
        use zune_core::bytestream::ZCursor;
        use zune_core::colorspace::ColorSpace;
        use zune_core::options::DecoderOptions;
        use zune_jpeg::JpegDecoder;

        let (w, h) = (t.width(), t.height());
        if w == 0 || h == 0 {
            return Err(DecodeError::Jpeg("a picture for an empty rectangle".into()));
        }
        // The size limits stop a hostile header from asking for memory the
        // rectangle never needs.
        let options = DecoderOptions::default()
            .set_max_width(w)
            .set_max_height(h)
            .jpeg_set_out_colorspace(ColorSpace::RGB);
        let mut dec = JpegDecoder::new_with_options(ZCursor::new(data), options);
        dec.decode_headers()
            .map_err(|e| DecodeError::Jpeg(format!("{e:?}")))?;
        let (iw, ih) = dec.dimensions().unwrap_or((0, 0));
        if (iw, ih) != (w, h) {
            return Err(DecodeError::ImageSize("Tight JPEG", iw, ih, w, h));
        }
        let size = w * h * 3;
        if self.buf.len() < size {
            self.buf.resize(size, 0);
        }
        dec.decode_into(&mut self.buf[..size])
            .map_err(|e| DecodeError::Jpeg(format!("{e:?}")))?;
        if dec.output_colorspace() != Some(ColorSpace::RGB) {
            return Err(DecodeError::Jpeg("no RGB output".into()));
        }
        for (y, src) in self.buf[..size].chunks_exact(w * 3).enumerate() {
            copy_tpixels(t.row_mut(y)?, src);
        }
        Ok(())
    }

    /// Decodes a PNG exactly the rectangle's size into it (any colour
    /// type: palettes and low bit depths expand, 16-bit channels strip).
    pub fn png(&mut self, data: &[u8], t: &mut Target<'_>) -> Result<(), DecodeError> {
        let (w, h) = (t.width(), t.height());
        if w == 0 || h == 0 {
            return Err(DecodeError::Png("a picture for an empty rectangle".into()));
        }
        let png_err = |e: png::DecodingError| DecodeError::Png(e.to_string());
        // Room for the decoded picture and the decoder's own buffers, no more.
        let limits = png::Limits {
            bytes: w * h * 8 + (1 << 20),
        };
        let mut dec = png::Decoder::new_with_limits(Cursor::new(data), limits);
        dec.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = dec.read_info().map_err(png_err)?;
        let (iw, ih) = (reader.info().width as usize, reader.info().height as usize);
        if (iw, ih) != (w, h) {
            return Err(DecodeError::ImageSize("TightPNG", iw, ih, w, h));
        }
        let size = reader
            .output_buffer_size()
            .ok_or(DecodeError::Png("picture too large".into()))?;
        if self.buf.len() < size {
            self.buf.resize(size, 0);
        }
        let frame = reader.next_frame(&mut self.buf[..size]).map_err(png_err)?;
        let channels = frame.color_type.samples();
        let line = frame.line_size;
        if frame.bit_depth != png::BitDepth::Eight || line < w * channels {
            return Err(DecodeError::Png("unexpected sample layout".into()));
        }
        for y in 0..h {
            let src = &self.buf[y * line..y * line + w * channels];
            let dst = t.row_mut(y)?;
            match channels {
                3 => copy_tpixels(dst, src),
                4 => dst
                    .iter_mut()
                    .zip(src.chunks_exact(4))
                    .for_each(|(d, s)| *d = rgb(s[0], s[1], s[2])),
                1 => dst
                    .iter_mut()
                    .zip(src)
                    .for_each(|(d, &g)| *d = rgb(g, g, g)),
                2 => dst
                    .iter_mut()
                    .zip(src.chunks_exact(2))
                    .for_each(|(d, s)| *d = rgb(s[0], s[0], s[0])),
                _ => return Err(DecodeError::Png("unexpected colour type".into())),
            }
        }
        Ok(())
    }
}

#[inline(always)]
fn rgb(r: u8, g: u8, b: u8) -> u32 {
    u32::from_be_bytes([0, r, g, b])
}
