//! The guest's screen: a console endpoint, keys, screenshots.
//!
//! For VNC guests libvirt hands over a socket already connected to QEMU's
//! display server (`virDomainOpenGraphicsFD`), which works over
//! `qemu+ssh://` without any port being reachable. Where that call is not
//! available (the test driver, other hypervisors) the endpoint carries the
//! listen address and port from the guest's XML instead.

use std::os::fd::OwnedFd;

use roxmltree::Document;
use virt::connect::Connect;
use virt::error::ErrorNumber;
use virt::stream::Stream;
use virt_manager_plugin_api::{ConsoleEndpoint, ErrorCode, KeySequence, PluginError};
use virt_sys as sys;

use crate::config::parse::{child, children};
use crate::convert::{lookup_domain, plugin_error};
use crate::ffi::graphics::open_graphics_fd;

/// libvirt's limit on keys sent at once (VIR_DOMAIN_SEND_KEY_MAX_KEYS).
const MAX_KEYS: usize = 16;
/// A screenshot larger than this is not a screenshot.
const MAX_SCREENSHOT: usize = 256 << 20;

/// A guest's graphics device, as its live XML describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Graphics {
    /// Position among the `<graphics>` elements (OpenGraphicsFD's idx).
    pub index: u32,
    pub protocol: String,
    pub listen: Option<String>,
    pub port: Option<u16>,
    pub password: Option<String>,
}

/// The graphics device a console uses: the first VNC one, else the first
/// SPICE one, else the first of any kind; None without graphics.
pub fn pick_graphics(xml: &str) -> Result<Option<Graphics>, String> {
    let doc = Document::parse(xml).map_err(|e| format!("unreadable domain XML: {e}"))?;
    let Some(devices) = child(doc.root_element(), "devices") else {
        return Ok(None);
    };
    let all: Vec<_> = children(devices, "graphics").collect();
    let by_type = |t: &str| all.iter().position(|g| g.attribute("type") == Some(t));
    let Some(index) = by_type("vnc")
        .or_else(|| by_type("spice"))
        .or((!all.is_empty()).then_some(0))
    else {
        return Ok(None);
    };
    let g = all[index];
    let listen = g
        .attribute("listen")
        .or_else(|| child(g, "listen").and_then(|l| l.attribute("address")))
        .map(str::to_owned);
    Ok(Some(Graphics {
        index: index as u32,
        protocol: g.attribute("type").unwrap_or("none").to_owned(),
        listen,
        // -1 (autoport, not started) and 0 mean no port yet.
        port: g
            .attribute("port")
            .and_then(|p| p.parse::<i32>().ok())
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p > 0),
        password: g.attribute("passwd").map(str::to_owned),
    }))
}

/// The host of a remote URI (`qemu+ssh://user@host:22/system` -> host);
/// None for a local one.
pub fn uri_host(uri: &str) -> Option<String> {
    let rest = uri.split_once("://")?.1;
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    (!host.is_empty()).then(|| host.to_owned())
}

pub fn open_console(
    conn: &Connect,
    uuid: &str,
) -> Result<(ConsoleEndpoint, Option<OwnedFd>), PluginError> {
    let dom = lookup_domain(conn, uuid)?;
    if !dom.is_active().map_err(plugin_error)? {
        return Err(PluginError::failed("the guest is not running"));
    }
    // With secrets, for the password; a read-only connection may not see
    // them.
    let xml = dom
        .get_xml_desc(sys::VIR_DOMAIN_XML_SECURE)
        .or_else(|_| dom.get_xml_desc(0))
        .map_err(plugin_error)?;
    let Some(g) = pick_graphics(&xml).map_err(PluginError::failed)? else {
        let none = ConsoleEndpoint {
            protocol: "none".into(),
            ..Default::default()
        };
        return Ok((none, None));
    };
    let mut endpoint = ConsoleEndpoint {
        protocol: g.protocol.clone(),
        needs_password: g.password.is_some(),
        password: g.password.clone(),
        ..Default::default()
    };

    if g.protocol == "vnc" {
        // libvirt already authorised us: ask QEMU to skip the VNC
        // password for this socket. A read-only connection may not do
        // that; then the server asks as usual.
        let fd = match open_graphics_fd(&dom, g.index, true) {
            Ok(fd) => {
                endpoint.needs_password = false;
                Some(fd)
            }
            Err(e) if e.code() == ErrorNumber::NoSupport => {
                log::debug!("no graphics fd for {uuid}: {}", e.message());
                None
            }
            Err(e) => {
                log::debug!("graphics fd with SKIPAUTH for {uuid}: {}", e.message());
                open_graphics_fd(&dom, g.index, false).ok()
            }
        };
        if fd.is_some() {
            return Ok((endpoint, fd));
        }
    }

    // No socket: where the server listens.
    let wildcard = matches!(g.listen.as_deref(), None | Some("" | "0.0.0.0" | "::"));
    endpoint.host = if wildcard {
        let remote = conn.get_uri().ok().and_then(|u| uri_host(&u));
        Some(remote.unwrap_or_else(|| "127.0.0.1".to_owned()))
    } else {
        g.listen.clone()
    };
    endpoint.port = g.port;
    Ok((endpoint, None))
}

/// Presses the keys together, holds them and releases them.
pub fn send_keys(conn: &Connect, uuid: &str, keys: &KeySequence) -> Result<(), PluginError> {
    if keys.linux_keycodes.is_empty() || keys.linux_keycodes.len() > MAX_KEYS {
        return Err(PluginError::new(
            ErrorCode::InvalidArgument,
            format!("send 1 to {MAX_KEYS} keys at once"),
        ));
    }
    let dom = lookup_domain(conn, uuid)?;
    let mut codes = keys.linux_keycodes.clone();
    // The pointer is valid for `len` codes for the duration of the call.
    dom.send_key(
        sys::VIR_KEYCODE_SET_LINUX,
        keys.hold_ms,
        codes.as_mut_ptr(),
        codes.len() as i32,
        0,
    )
    .map_err(plugin_error)
}

/// The guest's screen as libvirt gives it: PPM from QEMU, PNG from some
/// other drivers.
pub fn screenshot(conn: &Connect, uuid: &str) -> Result<Vec<u8>, PluginError> {
    let dom = lookup_domain(conn, uuid)?;
    let stream = Stream::new(conn, 0).map_err(plugin_error)?;
    let mime = dom.screenshot(&stream, 0, 0).map_err(plugin_error)?;
    let mut image = Vec::new();
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        match stream.recv(&mut chunk) {
            Ok(0) => break,
            Ok(n) if image.len() + n <= MAX_SCREENSHOT => image.extend_from_slice(&chunk[..n]),
            Ok(_) => {
                let _ = stream.abort();
                return Err(PluginError::failed("the screenshot is implausibly large"));
            }
            Err(e) => {
                let err = plugin_error(e);
                let _ = stream.abort();
                return Err(err);
            }
        }
    }
    stream.finish().map_err(plugin_error)?;
    log::debug!("screenshot of {uuid}: {mime}, {} bytes", image.len());
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vnc_is_preferred_and_described() {
        let xml = "<domain><devices>\
            <graphics type='spice' port='5901' autoport='no' listen='0.0.0.0'/>\
            <graphics type='vnc' port='5902' autoport='no' passwd='pw'>\
              <listen type='address' address='192.0.2.1'/></graphics>\
            </devices></domain>";
        let g = pick_graphics(xml).unwrap().unwrap();
        assert_eq!(
            g,
            Graphics {
                index: 1,
                protocol: "vnc".into(),
                listen: Some("192.0.2.1".into()),
                port: Some(5902),
                password: Some("pw".into()),
            }
        );
        let spice =
            "<domain><devices><graphics type='spice' port='-1' autoport='yes'/></devices></domain>";
        let g = pick_graphics(spice).unwrap().unwrap();
        assert_eq!((g.protocol.as_str(), g.port), ("spice", None));
        assert_eq!(pick_graphics("<domain><devices/></domain>").unwrap(), None);
    }

    #[test]
    fn remote_hosts_come_from_the_uri() {
        assert_eq!(
            uri_host("qemu+ssh://root@vm.example:2222/system").as_deref(),
            Some("vm.example")
        );
        assert_eq!(
            uri_host("qemu+tls://[2001:db8::1]/system").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(uri_host("qemu:///system"), None);
        assert_eq!(uri_host("test:///default"), None);
    }
}
