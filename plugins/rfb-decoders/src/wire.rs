//! Reading the big-endian integers and Tight's compact lengths of the
//! wire format. Each reader answers `Err(n)` when `n` more bytes are needed.

/// Big-endian `u16` at `at`.
#[inline]
pub fn u16_at(d: &[u8], at: usize) -> Result<u16, usize> {
    match d.get(at..at + 2) {
        Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
        None => Err(at + 2 - d.len()),
    }
}

/// Big-endian `u32` at `at`.
#[inline]
pub fn u32_at(d: &[u8], at: usize) -> Result<u32, usize> {
    match d.get(at..at + 4) {
        Some(b) => Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        None => Err(at + 4 - d.len()),
    }
}

/// Tight's compact length at `at`: one to three bytes, seven bits each
/// (the third eight), low bits first. Returns the value and its size.
pub fn compact_len(d: &[u8], at: usize) -> Result<(usize, usize), usize> {
    let byte = |i: usize| d.get(at + i).copied().ok_or_else(|| at + i + 1 - d.len());
    let b0 = byte(0)?;
    let mut value = (b0 & 0x7f) as usize;
    if b0 & 0x80 == 0 {
        return Ok((value, 1));
    }
    let b1 = byte(1)?;
    value |= ((b1 & 0x7f) as usize) << 7;
    if b1 & 0x80 == 0 {
        return Ok((value, 2));
    }
    let b2 = byte(2)?;
    value |= (b2 as usize) << 14;
    Ok((value, 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_lengths() {
        assert_eq!(compact_len(&[0x0a], 0), Ok((10, 1)));
        // The spec's example: 10000 is 90 4E.
        assert_eq!(compact_len(&[0x90, 0x4e], 0), Ok((10000, 2)));
        assert_eq!(compact_len(&[0xff, 0xff, 0xff], 0), Ok((4_194_303, 3)));
        assert_eq!(compact_len(&[0x80], 0), Err(1));
        assert_eq!(compact_len(&[0x80, 0x80], 0), Err(1));
        assert_eq!(compact_len(&[], 0), Err(1));
        assert_eq!(compact_len(&[1, 2, 0x85], 2), Err(1));
    }

    #[test]
    fn integers() {
        assert_eq!(u32_at(&[0, 0, 1, 2], 0), Ok(258));
        assert_eq!(u32_at(&[0, 0, 1], 0), Err(1));
        assert_eq!(u16_at(&[9, 1, 2], 1), Ok(258));
        assert_eq!(u16_at(&[9], 1), Err(2));
    }
}
