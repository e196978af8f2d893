use super::*;
use crate::testutil::*;

const T: i32 = crate::TIGHT;
const TP: i32 = crate::TIGHT_PNG;

fn rgb(p: u32) -> [u8; 3] {
    [(p >> 16) as u8, (p >> 8) as u8, p as u8]
}

/// Basic data: raw when short, else compact length and a zlib chunk.
fn body(z: &mut Deflater, raw: &[u8]) -> Vec<u8> {
    if raw.len() < MIN_TO_COMPRESS {
        return raw.to_vec();
    }
    let c = z.chunk(raw);
    [compact(c.len()), c].concat()
}

fn copy_rect(z: &mut Deflater, ctl: u8, px: &[u32]) -> Vec<u8> {
    let raw: Vec<u8> = px.iter().flat_map(|&p| rgb(p)).collect();
    [vec![ctl], body(z, &raw)].concat()
}

fn gradient_rect(z: &mut Deflater, stream: u8, px: &[u32], w: usize) -> Vec<u8> {
    let h = px.len() / w;
    let comp = |x: isize, y: isize, c: usize| -> i16 {
        if x < 0 || y < 0 {
            0
        } else {
            rgb(px[y as usize * w + x as usize])[c] as i16
        }
    };
    let mut raw = Vec::new();
    for y in 0..h as isize {
        for x in 0..w as isize {
            for c in 0..3 {
                let p =
                    (comp(x - 1, y, c) + comp(x, y - 1, c) - comp(x - 1, y - 1, c)).clamp(0, 255);
                raw.push((comp(x, y, c) - p) as u8);
            }
        }
    }
    [vec![0x40 | stream << 4, FILTER_GRADIENT], body(z, &raw)].concat()
}

fn palette_rect(z: &mut Deflater, stream: u8, palette: &[u32], idx: &[u8], w: usize) -> Vec<u8> {
    let mut d = vec![
        0x40 | stream << 4,
        FILTER_PALETTE,
        (palette.len() - 1) as u8,
    ];
    palette.iter().for_each(|&p| d.extend(rgb(p)));
    let raw: Vec<u8> = if palette.len() == 2 {
        idx.chunks(w)
            .flat_map(|row| {
                let mut bytes = vec![0u8; w.div_ceil(8)];
                row.iter()
                    .enumerate()
                    .for_each(|(x, &i)| bytes[x / 8] |= i << (7 - x % 8));
                bytes
            })
            .collect()
    } else {
        idx.to_vec()
    };
    [d, body(z, &raw)].concat()
}

#[test]
fn fill_bytewise() {
    let r = rect(1, 1, 5, 3, T);
    let mut fb = Fb::new(8, 8);
    assert_eq!(
        feed_bytewise(T, &r, &[0x80, 0x12, 0x34, 0x56], &mut fb).unwrap(),
        4
    );
    fb.assert_rect(&r, &[0x123456; 15]);
    seed("tight", "fill", &[(r, vec![0x80, 0x12, 0x34, 0x56])]);
}

#[test]
fn basic_copy_on_every_stream_compressed_and_not() {
    let mut zs: Vec<Deflater> = (0..4).map(|_| Deflater::new()).collect();
    let mut dec = crate::new_decoder(T, &HOST).unwrap();
    let mut fb = Fb::new(40, 40);
    let mut seen = Vec::new();
    for round in 0..3 {
        for s in 0..4u8 {
            let (w, h) = if round == 1 {
                (3, 1)
            } else {
                (13 + s as u16, 7 + round)
            };
            let r = rect(s as u16 * 2, round * 3, w, h, T);
            let px = picture(w as usize, h as usize, (round * 4) as u32 + s as u32 + 1);
            // Alternate the explicit copy filter id and the implicit one.
            let d = if s % 2 == 0 {
                copy_rect(&mut zs[s as usize], s << 4, &px)
            } else {
                let mut d = copy_rect(&mut zs[s as usize], 0x40 | s << 4, &px);
                d.insert(1, FILTER_COPY);
                d
            };
            let n = if s == 2 {
                feed_bytewise_with(&mut *dec, &r, &d, &mut fb)
            } else {
                decode_with(&mut *dec, &r, &d, &mut fb)
            };
            assert_eq!(n.unwrap(), d.len(), "round {round} stream {s}");
            fb.assert_rect(&r, &px);
            seen.push((r, d));
        }
    }
    seed("tight", "copy-four-streams", &seen);
}

#[test]
fn reset_bits_start_streams_afresh() {
    let mut dec = crate::new_decoder(T, &HOST).unwrap();
    let mut fb = Fb::new(16, 16);
    let r = rect(0, 0, 16, 16, T);
    let px = picture(16, 16, 3);
    let mut z = Deflater::new();
    let d = copy_rect(&mut z, 0x10, &px);
    decode_with(&mut *dec, &r, &d, &mut fb).unwrap();
    // A new server-side stream 1, announced by reset bit 1 (on a fill
    // rectangle, which must reset too).
    decode_with(&mut *dec, &r, &[0x82, 0, 0, 0], &mut fb).unwrap();
    let mut z = Deflater::new();
    let d = copy_rect(&mut z, 0x10, &px);
    assert_eq!(decode_with(&mut *dec, &r, &d, &mut fb).unwrap(), d.len());
    fb.assert_rect(&r, &px);
    // Without the reset, a fresh stream's header lands mid-stream.
    let d = copy_rect(&mut Deflater::new(), 0x10, &px);
    let ok = decode_with(&mut *dec, &r, &d, &mut fb).is_ok();
    assert!(
        !ok || (0..256).any(|i| fb.px[i] & 0xffffff != px[i]),
        "a stale stream decoded cleanly"
    );
}

#[test]
fn palettes_of_two_and_more_colours() {
    let mut z = Deflater::new();
    let mut dec = crate::new_decoder(T, &HOST).unwrap();
    let mut fb = Fb::new(30, 30);
    let mut seen = Vec::new();
    for (w, h, colours) in [
        (11usize, 5usize, 2usize),
        (3, 2, 2),
        (20, 9, 7),
        (2, 2, 3),
        (17, 17, 256),
    ] {
        let r = rect(2, 2, w as u16, h as u16, T);
        let palette: Vec<u32> = (0..colours as u32)
            .map(|i| 0x010203u32.wrapping_mul(i + 5))
            .collect();
        let idx: Vec<u8> = picture(w, h, 9)
            .iter()
            .map(|&p| (p % colours as u32) as u8)
            .collect();
        let d = palette_rect(&mut z, 0, &palette, &idx, w);
        assert_eq!(
            feed_bytewise_with(&mut *dec, &r, &d, &mut fb).unwrap(),
            d.len(),
            "{w}x{h} {colours}"
        );
        let want: Vec<u32> = idx.iter().map(|&i| palette[i as usize]).collect();
        fb.assert_rect(&r, &want);
        seen.push((r, d));
    }
    seed("tight", "palettes", &seen);
}

#[test]
fn palette_index_out_of_range_fails() {
    let r = rect(0, 0, 4, 4, T);
    let mut fb = Fb::new(4, 4);
    let mut idx = vec![0u8; 16];
    idx[5] = 3;
    let d = palette_rect(&mut Deflater::new(), 0, &[1, 2, 3], &idx, 4);
    assert!(decode_all(T, &r, &d, &mut fb).is_err());
}

#[test]
fn gradient_filter() {
    let mut z = Deflater::new();
    let mut dec = crate::new_decoder(T, &HOST).unwrap();
    let mut fb = Fb::new(40, 40);
    let mut seen = Vec::new();
    for (w, h, s) in [(33usize, 21usize, 3u8), (2, 1, 3), (1, 30, 3)] {
        // Smooth ramps (where the filter is meant for) and noise.
        let mut px = picture(w, h, 4);
        for (i, p) in px.iter_mut().enumerate().filter(|(i, _)| i % 3 == 0) {
            *p = (i as u32 * 0x010203) & 0xffffff;
        }
        let r = rect(5, 5, w as u16, h as u16, T);
        let d = gradient_rect(&mut z, s, &px, w);
        assert_eq!(
            feed_bytewise_with(&mut *dec, &r, &d, &mut fb).unwrap(),
            d.len()
        );
        fb.assert_rect(&r, &px);
        seen.push((r, d));
    }
    seed("tight", "gradient", &seen);
}

#[test]
fn malformed_basic_rectangles_fail() {
    let r = rect(0, 0, 4, 4, T);
    let mut fb = Fb::new(4, 4);
    // Unknown filter; invalid compression types; PNG in plain Tight.
    for d in [vec![0x40, 3], vec![0xb0], vec![0xf0], vec![0xa0, 1, 0]] {
        assert!(decode_all(T, &r, &d, &mut fb).is_err(), "{d:?}");
    }
    // A compressed length no 4x4 rectangle needs.
    assert!(decode_all(T, &r, &[0x00, 0xff, 0xff, 0x7f], &mut fb).is_err());
    // Corrupt zlib; too little and too much inflated data.
    let mut bad = vec![0x00];
    bad.extend(compact(6));
    bad.extend([0x78, 0x9c, 0xff, 0xff, 0xff, 0xff]);
    assert!(decode_all(T, &r, &bad, &mut fb).is_err());
    for n in [47, 49] {
        let c = Deflater::new().chunk(&vec![7u8; n]);
        let d = [vec![0x00], compact(c.len()), c].concat();
        assert!(decode_all(T, &r, &d, &mut fb).is_err(), "{n} bytes");
    }
}

fn jpeg_of(px: &[u32], w: usize, h: usize) -> Vec<u8> {
    let raw: Vec<u8> = px.iter().flat_map(|&p| rgb(p)).collect();
    let mut out = Vec::new();
    let enc = jpeg_encoder::Encoder::new(&mut out, 100);
    enc.encode(&raw, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

#[test]
fn jpeg_rectangles() {
    let (w, h) = (24usize, 16usize);
    // Smooth content, which JPEG keeps close at quality 100.
    let px: Vec<u32> = (0..w * h)
        .map(|i| ((i % w * 10) as u32) << 16 | ((i / w * 15) as u32) << 8 | 0x40)
        .collect();
    let jpeg = jpeg_of(&px, w, h);
    let d = [vec![0x90], compact(jpeg.len()), jpeg].concat();
    for enc in [T, TP] {
        let r = rect(3, 4, w as u16, h as u16, enc);
        let mut fb = Fb::new(32, 32);
        assert_eq!(feed_bytewise(enc, &r, &d, &mut fb).unwrap(), d.len());
        seed(
            if enc == T { "tight" } else { "tightpng" },
            "jpeg",
            &[(r, d.clone())],
        );
        for y in 0..h {
            for x in 0..w {
                let (got, want) = (fb.at(3 + x, 4 + y), px[y * w + x]);
                for shift in [0, 8, 16] {
                    let diff = ((got >> shift) & 0xff) as i32 - ((want >> shift) & 0xff) as i32;
                    assert!(diff.abs() <= 8, "({x},{y}) {got:06x} vs {want:06x}");
                }
            }
        }
    }
}

#[test]
fn undecodable_or_missized_jpeg_fails() {
    let r = rect(0, 0, 8, 8, T);
    let mut fb = Fb::new(16, 16);
    let garbage = [vec![0x90], compact(20), vec![0xff; 20]].concat();
    assert!(decode_all(T, &r, &garbage, &mut fb).is_err());
    let jpeg = jpeg_of(&[0x808080; 16 * 8], 16, 8);
    let d = [vec![0x90], compact(jpeg.len()), jpeg.clone()].concat();
    assert!(decode_all(T, &r, &d, &mut fb).is_err());
    // Truncated in the middle of the entropy-coded data.
    let cut = &jpeg[..jpeg.len() / 2];
    let d = [vec![0x90], compact(cut.len()), cut.to_vec()].concat();
    let _ = decode_all(T, &rect(0, 0, 16, 8, T), &d, &mut fb); // no panic, either answer
}

fn png_of(
    w: usize,
    h: usize,
    colour: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
    palette: Option<Vec<u8>>,
) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w as u32, h as u32);
        enc.set_color(colour);
        enc.set_depth(depth);
        if let Some(p) = palette {
            enc.set_palette(p);
        }
        let mut wr = enc.write_header().unwrap();
        wr.write_image_data(data).unwrap();
    }
    out
}

#[test]
fn png_rectangles_of_every_colour_type() {
    let (w, h) = (9usize, 5usize);
    let px = picture(w, h, 11);
    let rgb_data: Vec<u8> = px.iter().flat_map(|&p| rgb(p)).collect();
    let rgba: Vec<u8> = px
        .iter()
        .flat_map(|&p| [rgb(p)[0], rgb(p)[1], rgb(p)[2], 0x7f])
        .collect();
    let grey: Vec<u8> = px.iter().map(|&p| p as u8).collect();
    let grey_px: Vec<u32> = grey.iter().map(|&g| u32::from(g) * 0x010101).collect();
    let pal = [0x102030u32, 0xa0b0c0, 0xffffff];
    let pal_idx: Vec<u8> = px.iter().map(|&p| (p % 3) as u8).collect();
    let pal_px: Vec<u32> = pal_idx.iter().map(|&i| pal[i as usize]).collect();
    let pal_bytes: Vec<u8> = pal.iter().flat_map(|&p| rgb(p)).collect();
    let wide: Vec<u8> = px
        .iter()
        .flat_map(|&p| {
            let c = rgb(p);
            [c[0], 0, c[1], 0, c[2], 0]
        })
        .collect();
    use png::{BitDepth::*, ColorType::*};
    let cases = [
        (png_of(w, h, Rgb, Eight, &rgb_data, None), px.clone()),
        (png_of(w, h, Rgba, Eight, &rgba, None), px.clone()),
        (png_of(w, h, Grayscale, Eight, &grey, None), grey_px),
        (
            png_of(w, h, Indexed, Eight, &pal_idx, Some(pal_bytes)),
            pal_px,
        ),
        (png_of(w, h, Rgb, Sixteen, &wide, None), px.clone()),
    ];
    let mut dec = crate::new_decoder(TP, &HOST).unwrap();
    let mut fb = Fb::new(12, 12);
    let r = rect(1, 2, w as u16, h as u16, TP);
    let mut seen = Vec::new();
    for (i, (png, want)) in cases.iter().enumerate() {
        let d = [vec![0xa0], compact(png.len()), png.clone()].concat();
        assert_eq!(
            feed_bytewise_with(&mut *dec, &r, &d, &mut fb).unwrap(),
            d.len(),
            "case {i}"
        );
        fb.assert_rect(&r, want);
        seed("tightpng", &format!("png-{i}"), &[(r, d.clone())]);
        seen.push((r, d));
    }
    seed("tightpng", "png-all", &seen);
    // Basic compression inside TightPNG still decodes.
    let d = copy_rect(&mut Deflater::new(), 0x00, &px);
    assert_eq!(decode_with(&mut *dec, &r, &d, &mut fb).unwrap(), d.len());
    fb.assert_rect(&r, &px);
}

#[test]
fn bad_png_fails() {
    let r = rect(0, 0, 4, 4, TP);
    let mut fb = Fb::new(8, 8);
    let garbage = [vec![0xa0], compact(10), vec![0x89; 10]].concat();
    assert!(decode_all(TP, &r, &garbage, &mut fb).is_err());
    let png = png_of(
        5,
        4,
        png::ColorType::Grayscale,
        png::BitDepth::Eight,
        &[0; 20],
        None,
    );
    let d = [vec![0xa0], compact(png.len()), png.clone()].concat();
    assert!(decode_all(TP, &r, &d, &mut fb).is_err(), "wrong size");
    let cut = &png[..png.len() - 16];
    let d = [vec![0xa0], compact(cut.len()), cut.to_vec()].concat();
    let _ = decode_all(TP, &rect(0, 0, 5, 4, TP), &d, &mut fb);
}
