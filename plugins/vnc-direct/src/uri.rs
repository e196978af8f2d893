//! `vnc-direct:///` URIs.
//!
//! - `vnc-direct:///`: the user's list, `$XDG_CONFIG_HOME/virt-manager/vnc-direct.json`;
//! - `vnc-direct:///ABSOLUTE/PATH.json`: another list file;
//! - `?interval_ms=N`: how often servers are probed in the background
//!   (default 5000; tests use less).

use std::path::PathBuf;
use std::time::Duration;

pub const SCHEME: &str = "vnc-direct";
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    pub path: PathBuf,
    pub interval: Duration,
}

/// Parses a URI; the error is a message for the user.
pub fn parse(uri: &str) -> Result<Target, String> {
    let rest = uri
        .strip_prefix(SCHEME)
        .and_then(|r| r.strip_prefix("://"))
        .ok_or_else(|| format!("“{uri}” is not a {SCHEME}:/// URI"))?;
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if !authority.is_empty() {
        return Err(format!(
            "{SCHEME} URIs name no host (the servers are in the list): use {SCHEME}:///"
        ));
    }
    let path = percent_decode(path)?;
    let path = if path.is_empty() || path == "/" {
        crate::store::default_path()
    } else {
        PathBuf::from(path)
    };
    let mut interval = DEFAULT_INTERVAL;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("interval_ms", ms)) => {
                let ms: u64 = ms
                    .parse()
                    .map_err(|_| format!("interval_ms={ms} is not a number"))?;
                interval = Duration::from_millis(ms.max(50));
            }
            _ => return Err(format!("unknown {SCHEME} URI parameter “{pair}”")),
        }
    }
    Ok(Target { path, interval })
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad escape in “{s}”"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("“{s}” is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let t = parse("vnc-direct:///tmp/a%20b.json?interval_ms=200").unwrap();
        assert_eq!(t.path, PathBuf::from("/tmp/a b.json"));
        assert_eq!(t.interval, Duration::from_millis(200));
        let t = parse("vnc-direct:///").unwrap();
        assert!(t.path.ends_with("virt-manager/vnc-direct.json"));
        assert_eq!(t.interval, DEFAULT_INTERVAL);
        assert!(parse("vnc-direct://host/").is_err());
        assert!(parse("vnc://host:5900").is_err());
        assert!(parse("vnc-direct:///?password=x").is_err());
    }
}
