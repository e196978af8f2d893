//! Screenshots as PNG: backends hand over PNG or binary PPM (libvirt's
//! screenshots are PPM for QEMU); the application always gives PNG.

/// PNG bytes for a PNG or binary (P6) PPM picture.
pub fn to_png(bytes: &[u8]) -> Result<Vec<u8>, String> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(bytes.to_vec());
    }
    let (width, height, pixels) = parse_ppm(bytes)?;
    encode_rgb(width, height, pixels)
}

/// Encodes 8-bit RGB rows as PNG.
pub fn encode_rgb(width: u32, height: u32, rgb: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| e.to_string())?;
        w.write_image_data(rgb).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// (width, height, RGB bytes) of a P6 PPM with maxval 255.
fn parse_ppm(bytes: &[u8]) -> Result<(u32, u32, &[u8]), String> {
    let bad = || "the picture is neither PNG nor binary PPM".to_owned();
    if !bytes.starts_with(b"P6") {
        return Err(bad());
    }
    // Header: "P6" then width, height, maxval, separated by whitespace and
    // comments, then exactly one whitespace byte before the pixels.
    let mut fields = Vec::with_capacity(3);
    let mut i = 2;
    while fields.len() < 3 {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'#') {
            if bytes[i] == b'#' {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let n: u32 = std::str::from_utf8(&bytes[start..i])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        fields.push(n);
    }
    i += 1;
    let (w, h, max) = (fields[0], fields[1], fields[2]);
    if max != 255 || w == 0 || h == 0 || w > 32768 || h > 32768 {
        return Err(format!("unsupported PPM picture ({w}x{h}, maxval {max})"));
    }
    let len = w as usize * h as usize * 3;
    let pixels = bytes
        .get(i..i + len)
        .ok_or_else(|| "the PPM picture is truncated".to_owned())?;
    Ok((w, h, pixels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppm_becomes_png() {
        let mut ppm = b"P6\n# comment\n2 1\n255\n".to_vec();
        ppm.extend_from_slice(&[255, 0, 0, 0, 255, 0]);
        let png = to_png(&ppm).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let reader = decoder.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (2, 1));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(to_png(b"hello").is_err());
        assert!(to_png(b"P6 2 2 255 \x00").is_err());
    }
}
