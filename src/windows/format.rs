//! Numbers as people read them, the same in every window, with the
//! decimal separator of the user's locale ("1,5 GiB" in German).

use std::sync::OnceLock;

/// The locale's decimal separator, read once (after `setlocale`, which
/// the application does before any window exists).
fn decimal_separator() -> &'static str {
    static SEP: OnceLock<String> = OnceLock::new();
    SEP.get_or_init(|| {
        // SAFETY: nl_langinfo returns a pointer to a NUL-terminated string
        // owned by the C library, valid until the next setlocale; it is
        // copied at once.
        let p = unsafe { libc::nl_langinfo(libc::RADIXCHAR) };
        if p.is_null() {
            return ".".to_owned();
        }
        let sep = unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy();
        if sep.is_empty() {
            ".".to_owned()
        } else {
            sep.into_owned()
        }
    })
}

/// `{v:.1}` with the locale's separator.
fn one_decimal(v: f64) -> String {
    let s = format!("{v:.1}");
    match decimal_separator() {
        "." => s,
        sep => s.replacen('.', sep, 1),
    }
}

/// "12 %" (one decimal below 10 %).
pub fn percent(p: f32) -> String {
    if p < 10.0 && p > 0.0 {
        format!("{} %", one_decimal(f64::from(p)))
    } else {
        format!("{p:.0} %")
    }
}

/// A size in KiB as "512 MiB" or "1.5 GiB".
pub fn kib(kib: u64) -> String {
    bytes(kib.saturating_mul(1024))
}

/// A size in bytes with binary units.
pub fn bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit <= 2 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{} {}", one_decimal(v), UNITS[unit])
    }
}

/// A rate in bytes per second, "1.2 MiB/s".
pub fn rate(bps: f64) -> String {
    format!("{}/s", bytes(bps.max(0.0) as u64))
}

#[cfg(test)]
mod tests {
    #[test]
    fn units() {
        assert_eq!(super::kib(262144), "256 MiB");
        assert_eq!(super::kib(1572864), "1.5 GiB");
        assert_eq!(super::bytes(500), "500 B");
        assert_eq!(super::percent(5.25), "5.2 %");
        assert_eq!(super::percent(55.0), "55 %");
    }
}
