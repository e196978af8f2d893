//! The demo host: a libvirt test-driver host described by ui/demo-host.xml,
//! built into the binary so that it works installed, uninstalled and in
//! Flatpak alike. The test driver needs a file path, so the XML is written
//! to the runtime directory first.

use std::io::Write;

use crate::paths;

pub const DEMO_HOST_XML: &str = include_str!("../ui/demo-host.xml");

/// Writes the demo host's XML and returns its `test://` URI.
pub fn demo_uri() -> std::io::Result<String> {
    let path = paths::runtime_dir()?.join("demo-host.xml");
    let tmp = path.with_extension("xml.tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(DEMO_HOST_XML.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(format!(
        "test://{}",
        uri_escape_path(&path.to_string_lossy())
    ))
}

/// Percent-escapes what a URI path cannot hold as is.
fn uri_escape_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The default connection when none is named: the local system
/// hypervisor if it opens, else the demo host.
pub const SYSTEM_URI: &str = "qemu:///system";

/// What to try to open, in order, for the given command-line choices.
pub fn candidate_uris(connect: Option<&str>, demo: bool) -> std::io::Result<Vec<String>> {
    Ok(match (connect, demo) {
        (Some(uri), _) => vec![uri.to_owned()],
        (None, true) => vec![demo_uri()?],
        (None, false) => vec![SYSTEM_URI.to_owned(), demo_uri()?],
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        assert_eq!(
            super::uri_escape_path("/run/user/1000/a b"),
            "/run/user/1000/a%20b"
        );
    }
}
