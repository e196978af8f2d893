//! Hypervisor URIs as the connect dialog builds them.

use crate::i18n::{gettext, gettext_f};

/// Turns a local URI into its SSH form: `qemu:///system` with user `root`,
/// host `h` and port 2222 becomes `qemu+ssh://root@h:2222/system`.
pub fn ssh_uri(local: &str, user: &str, host: &str, port: Option<u16>) -> Result<String, String> {
    let (scheme, rest) = local
        .split_once("://")
        .ok_or_else(|| format!("“{local}” is not a URI"))?;
    let host = host.trim();
    if host.is_empty() {
        return Err("a host name is needed".into());
    }
    if host.contains(['/', '@', ' ']) {
        return Err(format!("“{host}” is not a host name"));
    }
    let user = user.trim();
    if user.contains(['/', '@', ':', ' ']) {
        return Err(format!("“{user}” is not a user name"));
    }
    let driver = scheme.split('+').next().unwrap_or(scheme);
    // Keep the path and query of the local URI (`/system`, `/session`).
    let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
    let mut uri = format!("{driver}+ssh://");
    if !user.is_empty() {
        uri.push_str(user);
        uri.push('@');
    }
    if host.contains(':') && !host.starts_with('[') {
        // An IPv6 address.
        uri.push_str(&format!("[{host}]"));
    } else {
        uri.push_str(host);
    }
    if let Some(p) = port {
        uri.push_str(&format!(":{p}"));
    }
    uri.push_str(path);
    Ok(uri)
}

/// Checks a typed URI enough to give a useful message before connecting.
pub fn validate(uri: &str) -> Result<(), String> {
    let uri = uri.trim();
    if uri.is_empty() {
        return Err(gettext("enter a URI, e.g. qemu:///system"));
    }
    if crate::plugin_host::uri_scheme(uri).is_none() {
        return Err(gettext_f(
            "“{uri}” is not a URI (expected e.g. qemu:///system)",
            &[("uri", uri)],
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_ssh_uris() {
        assert_eq!(
            ssh_uri("qemu:///system", "root", "host", None).unwrap(),
            "qemu+ssh://root@host/system"
        );
        assert_eq!(
            ssh_uri("qemu:///session", "", "h", Some(2222)).unwrap(),
            "qemu+ssh://h:2222/session"
        );
        assert_eq!(
            ssh_uri("xen:///system", "u", "::1", None).unwrap(),
            "xen+ssh://u@[::1]/system"
        );
        assert!(ssh_uri("qemu:///system", "root", "", None).is_err());
        assert!(ssh_uri("qemu:///system", "a@b", "h", None).is_err());
    }

    #[test]
    fn validates() {
        assert!(validate("qemu:///system").is_ok());
        assert!(validate("not a uri").is_err());
        assert!(validate("  ").is_err());
    }
}

/// Host and port of a `vnc://HOST[:PORT]` URL (port 5900 when absent;
/// IPv6 hosts in brackets).
pub fn parse_vnc_url(url: &str) -> Result<(String, u16), String> {
    let rest = url
        .strip_prefix("vnc://")
        .ok_or_else(|| gettext_f("“{url}” is not a vnc:// URL", &[("url", url)]))?
        .trim_end_matches('/');
    if rest.is_empty() {
        return Err(gettext_f("“{url}” names no host", &[("url", url)]));
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| gettext_f("“{url}”: unclosed [ in the host", &[("url", url)]))?;
        (h.to_owned(), after.strip_prefix(':'))
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (rest.to_owned(), None),
        }
    };
    if host.is_empty() || host.contains(['/', '@', ' ']) {
        return Err(gettext_f("“{url}” has no valid host", &[("url", url)]));
    }
    let port = match port {
        None | Some("") => 5900,
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| gettext_f("“{port}” is not a port number", &[("port", p)]))?,
    };
    Ok((host, port))
}

#[cfg(test)]
mod vnc_url_tests {
    use super::parse_vnc_url;

    #[test]
    fn urls() {
        assert_eq!(parse_vnc_url("vnc://h:5901").unwrap(), ("h".into(), 5901));
        assert_eq!(parse_vnc_url("vnc://h").unwrap(), ("h".into(), 5900));
        assert_eq!(
            parse_vnc_url("vnc://[::1]:5902/").unwrap(),
            ("::1".into(), 5902)
        );
        assert!(parse_vnc_url("http://h").is_err());
        assert!(parse_vnc_url("vnc://h:x").is_err());
        assert!(parse_vnc_url("vnc://").is_err());
    }
}
