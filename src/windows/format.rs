//! Numbers as people read them, the same in every window.

/// "12 %" (one decimal below 10 %).
pub fn percent(p: f32) -> String {
    if p < 10.0 && p > 0.0 {
        format!("{p:.1} %")
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
        format!("{v:.1} {}", UNITS[unit])
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
