//! Applying `ConfigChanges` to a domain's inactive XML text.
//!
//! Each change splices the original text (see `splice.rs`), so whatever
//! the plugin does not understand (namespaced metadata, devices, comments)
//! is redefined exactly as libvirt gave it. The result is checked to
//! parse before it is handed back; libvirt validates the rest when the
//! caller redefines the guest, in one call.

use roxmltree::{Document, Node};
use virt_manager_plugin_api::{ConfigChanges, ErrorCode, PluginError};

use super::parse::{child, children, memory_kib};
use super::splice::{element, element_xml, Splice};

/// Boot device names libvirt's `<os><boot dev=...>` takes.
const BOOT_DEVICES: &[&str] = &["hd", "cdrom", "network", "fd"];

/// What limits a change, from outside the XML.
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    /// The host's memory in KiB: no guest is given more (as in
    /// virt-manager). 0: unknown, not checked.
    pub host_memory_kib: u64,
}

fn invalid(msg: impl Into<String>) -> PluginError {
    PluginError::new(ErrorCode::InvalidArgument, msg)
}

/// The most memory a guest may be given: its `<maxMemory>` (the hotplug
/// ceiling, which libvirt enforces) if it has one, else the host's memory.
pub fn memory_ceiling_kib(root: Node, limits: &Limits) -> Option<u64> {
    child(root, "maxMemory")
        .and_then(memory_kib)
        .or((limits.host_memory_kib > 0).then_some(limits.host_memory_kib))
}

/// The domain XML with `changes` applied (autostart is not in the XML:
/// the caller applies it). Returns the text unchanged when nothing in it
/// changes.
pub fn edit_domain_xml(
    xml: &str,
    changes: &ConfigChanges,
    limits: &Limits,
) -> Result<String, PluginError> {
    let doc = Document::parse(xml)
        .map_err(|e| PluginError::failed(format!("unreadable domain XML: {e}")))?;
    let root = doc.root_element();
    let mut s = Splice::new(xml);

    if let Some(n) = changes.vcpus {
        set_vcpus(&mut s, root, n)?;
    }
    if let Some(kib) = changes.memory_kib {
        set_memory(&mut s, root, kib, limits)?;
    }
    if let Some(order) = &changes.boot_order {
        set_boot_order(&mut s, root, order)?;
    }
    if let Some(title) = &changes.title {
        if title.contains('\n') {
            return Err(invalid("a title is one line; use the description for more"));
        }
        set_named_text(&mut s, root, "title", title.trim(), &["uuid", "name"]);
    }
    if let Some(desc) = &changes.description {
        set_named_text(
            &mut s,
            root,
            "description",
            desc,
            &["title", "uuid", "name"],
        );
    }
    if let Some(protocol) = &changes.graphics {
        match protocol.as_str() {
            "vnc" => switch_to_vnc(&mut s, root)?,
            other => {
                return Err(PluginError::not_supported(format!(
                    "switching the console to {other:?} is not supported (only \"vnc\")"
                )))
            }
        }
    }

    if s.is_empty() {
        return Ok(xml.to_owned());
    }
    let out = s.finish().map_err(PluginError::failed)?;
    Document::parse(&out)
        .map_err(|e| PluginError::failed(format!("edited XML does not parse: {e}")))?;
    Ok(out)
}

/// `<vcpu current='C'>MAX</vcpu>`: lowers `current` where there is
/// headroom below the maximum, else sets the maximum itself.
fn set_vcpus(s: &mut Splice, root: Node, n: u32) -> Result<(), PluginError> {
    if n == 0 {
        return Err(invalid("a guest needs at least one vCPU"));
    }
    let Some(vcpu) = child(root, "vcpu") else {
        let anchor = child(root, "currentMemory")
            .or_else(|| child(root, "memory"))
            .or_else(|| child(root, "name"));
        let new = element("vcpu", &[("placement", "static")], Some(&n.to_string()));
        match anchor {
            Some(a) => s.insert_after(a, &new),
            None => s.append_child(root, &new),
        }
        return Ok(());
    };
    let max: u32 = vcpu.text().unwrap_or("1").trim().parse().unwrap_or(1);
    let current: u32 = vcpu
        .attribute("current")
        .and_then(|c| c.parse().ok())
        .unwrap_or(max);
    if n == current {
        return Ok(());
    }
    // The per-vCPU list must agree with both counts: libvirt rebuilds it
    // when it is absent.
    if let Some(list) = child(root, "vcpus") {
        s.remove(list);
    }
    if vcpu.attribute("current").is_some() && n < max {
        s.set_attr(vcpu, "current", &n.to_string());
        return Ok(());
    }
    s.remove_attr(vcpu, "current");
    if n != max {
        s.set_text(vcpu, &n.to_string());
        fit_topology(s, root, n);
    }
    Ok(())
}

/// Keeps `<cpu><topology>` consistent with a new vCPU maximum: the same
/// cores and threads per socket if they divide it, else one socket.
fn fit_topology(s: &mut Splice, root: Node, max: u32) {
    let Some(topo) = child(root, "cpu").and_then(|c| child(c, "topology")) else {
        return;
    };
    let get = |k: &str| -> u32 {
        topo.attribute(k)
            .and_then(|v| v.parse().ok())
            .unwrap_or(1)
            .max(1)
    };
    let (dies, clusters, cores, threads) =
        (get("dies"), get("clusters"), get("cores"), get("threads"));
    let per_socket = dies * clusters * cores * threads;
    if get("sockets") * per_socket == max {
        return;
    }
    if max.is_multiple_of(per_socket) {
        s.set_attr(topo, "sockets", &(max / per_socket).to_string());
    } else {
        s.set_attr(topo, "sockets", "1");
        for k in ["dies", "clusters", "threads"] {
            if topo.attribute(k).is_some() {
                s.set_attr(topo, k, "1");
            }
        }
        s.set_attr(topo, "cores", &max.to_string());
    }
}

/// Sets the guest's memory: the boot amount (`<memory>`) and the current
/// allocation (`<currentMemory>`) both become `kib`.
fn set_memory(s: &mut Splice, root: Node, kib: u64, limits: &Limits) -> Result<(), PluginError> {
    if kib < 1024 {
        return Err(invalid("a guest needs at least 1 MiB of memory"));
    }
    if let Some(max) = memory_ceiling_kib(root, limits) {
        if kib > max {
            return Err(invalid(format!(
                "{} MiB of memory is above this guest's maximum of {} MiB",
                kib / 1024,
                max / 1024
            )));
        }
    }
    let numa = child(root, "cpu")
        .and_then(|c| child(c, "numa"))
        .is_some_and(|n| children(n, "cell").next().is_some());
    if numa {
        return Err(PluginError::not_supported(
            "this guest's memory is set per NUMA node; change it in the XML",
        ));
    }
    let value = kib.to_string();
    for name in ["memory", "currentMemory"] {
        if let Some(node) = child(root, name) {
            if node.attribute("unit").is_some() {
                s.set_attr(node, "unit", "KiB");
            }
            s.set_text(node, &value);
        }
    }
    if child(root, "memory").is_none() {
        let new = element("memory", &[("unit", "KiB")], Some(&value));
        match child(root, "uuid").or_else(|| child(root, "name")) {
            Some(a) => s.insert_after(a, &new),
            None => s.append_child(root, &new),
        }
    }
    Ok(())
}

/// Replaces `<os><boot dev=...>` with the new order. Per-device
/// `<boot order=.../>` elements are dropped: libvirt refuses both kinds.
fn set_boot_order(s: &mut Splice, root: Node, order: &[String]) -> Result<(), PluginError> {
    for (i, dev) in order.iter().enumerate() {
        if !BOOT_DEVICES.contains(&dev.as_str()) {
            return Err(invalid(format!(
                "unknown boot device {dev:?} (expected one of {BOOT_DEVICES:?})"
            )));
        }
        if order[..i].contains(dev) {
            return Err(invalid(format!("boot device {dev:?} is listed twice")));
        }
    }
    let Some(os) = child(root, "os") else {
        return Err(PluginError::failed("the guest's XML has no <os> element"));
    };
    let old: Vec<Node> = children(os, "boot").collect();
    let same = old.len() == order.len()
        && old
            .iter()
            .zip(order)
            .all(|(b, d)| b.attribute("dev") == Some(d.as_str()));
    if same {
        return Ok(());
    }
    let new: Vec<String> = order
        .iter()
        .map(|d| element("boot", &[("dev", d)], None))
        .collect();
    match (old.first(), child(os, "type")) {
        (Some(first), _) => {
            let joined = new.join(&format!("\n{}", s.indent(*first)));
            if joined.is_empty() {
                s.remove(*first);
            } else {
                s.replace_node(*first, joined);
            }
            for b in &old[1..] {
                s.remove(*b);
            }
        }
        (None, _) if new.is_empty() => {}
        (None, Some(ty)) => {
            let joined = new.join(&format!("\n{}", s.indent(ty)));
            s.insert_after(ty, &joined);
        }
        (None, None) => s.append_child(os, &new.join("")),
    }
    if !order.is_empty() {
        if let Some(devices) = child(root, "devices") {
            for dev in devices.children().filter(|d| d.is_element()) {
                if let Some(b) = child(dev, "boot") {
                    s.remove(b);
                }
            }
        }
    }
    Ok(())
}

/// Sets `<title>` or `<description>`; empty removes it. A new one goes
/// after the first of `after` that exists, as libvirt orders them.
fn set_named_text(s: &mut Splice, root: Node, name: &str, text: &str, after: &[&str]) {
    match child(root, name) {
        Some(node) if text.is_empty() => s.remove(node),
        Some(node) => {
            if node.text().unwrap_or("") != text {
                s.set_text(node, text);
            }
        }
        None if text.is_empty() => {}
        None => {
            let new = element(name, &[], Some(text));
            match after.iter().find_map(|a| child(root, a)) {
                Some(a) => s.insert_after(a, &new),
                None => s.append_child(root, &new),
            }
        }
    }
}

/// Switches a SPICE guest's console to VNC on 127.0.0.1 with a port
/// chosen at start. SPICE-only devices go (the guest would not start
/// with them): spicevmc channels and USB redirectors, SPICE audio
/// (becomes "none"), SPICE smartcards. QXL video becomes virtio (VGA
/// compatible, so firmware and old guests still show a picture).
fn switch_to_vnc(s: &mut Splice, root: Node) -> Result<(), PluginError> {
    let Some(devices) = child(root, "devices") else {
        return Err(PluginError::failed(
            "the guest's XML has no <devices> element",
        ));
    };
    let graphics: Vec<Node> = children(devices, "graphics").collect();
    let has_vnc = graphics.iter().any(|g| g.attribute("type") == Some("vnc"));
    let spice: Vec<Node> = graphics
        .iter()
        .copied()
        .filter(|g| g.attribute("type") == Some("spice"))
        .collect();
    if has_vnc && spice.is_empty() {
        return Ok(());
    }
    // Keep the user's password and keyboard map.
    let mut attrs = vec![
        ("type", "vnc"),
        ("port", "-1"),
        ("autoport", "yes"),
        ("listen", "127.0.0.1"),
    ];
    let first_spice = spice.first();
    for key in ["passwd", "keymap"] {
        if let Some(v) = first_spice.and_then(|g| g.attribute(key)) {
            attrs.push((key, v));
        }
    }
    let listen = element(
        "listen",
        &[("type", "address"), ("address", "127.0.0.1")],
        None,
    );
    let vnc = element_xml("graphics", &attrs, &listen);
    match first_spice {
        Some(first) if !has_vnc => {
            s.replace_node(*first, vnc);
            for g in &spice[1..] {
                s.remove(*g);
            }
        }
        Some(_) => {
            for g in &spice {
                s.remove(*g);
            }
        }
        None => s.append_child(devices, &vnc),
    }

    for dev in devices.children().filter(|d| d.is_element()) {
        let ty = dev.attribute("type");
        match dev.tag_name().name() {
            "channel" if matches!(ty, Some("spicevmc" | "spiceport")) => s.remove(dev),
            "redirdev" if ty == Some("spicevmc") => s.remove(dev),
            "smartcard" if ty == Some("spicevmc") => s.remove(dev),
            "audio" if ty == Some("spice") => {
                let id = dev.attribute("id").unwrap_or("1");
                s.replace_node(dev, element("audio", &[("id", id), ("type", "none")], None));
            }
            "video" => {
                if let Some(model) =
                    child(dev, "model").filter(|m| m.attribute("type") == Some("qxl"))
                {
                    let mut a = vec![("type", "virtio"), ("heads", "1")];
                    if let Some(p) = model.attribute("primary") {
                        a.push(("primary", p));
                    }
                    // QXL's ram/vram/vgamem sizes mean nothing to virtio.
                    s.replace_node(model, element("model", &a, None));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse::parse_domain;

    const VARIED: &str = include_str!("../../tests/data/varied-guest.xml");
    const LIMITS: Limits = Limits {
        host_memory_kib: 16 * 1024 * 1024,
    };

    fn edit(changes: ConfigChanges) -> String {
        edit_domain_xml(VARIED, &changes, &LIMITS).unwrap()
    }

    fn metadata(xml: &str) -> &str {
        let a = xml.find("<metadata>").unwrap();
        let b = xml.find("</metadata>").unwrap();
        &xml[a..b]
    }

    #[test]
    fn nothing_to_change_leaves_the_text_alone() {
        assert_eq!(edit(ConfigChanges::default()), VARIED);
        let same = ConfigChanges {
            boot_order: Some(vec!["cdrom".into(), "hd".into()]),
            title: Some("A guest with every device".into()),
            ..Default::default()
        };
        assert_eq!(edit(same), VARIED);
    }

    #[test]
    fn vcpus_use_headroom_then_raise_the_maximum() {
        let c = parse_domain(&edit(ConfigChanges {
            vcpus: Some(3),
            ..Default::default()
        }))
        .unwrap();
        assert_eq!((c.vcpus, c.max_vcpus), (3, 4));

        let xml = edit(ConfigChanges {
            vcpus: Some(6),
            ..Default::default()
        });
        let c = parse_domain(&xml).unwrap();
        assert_eq!((c.vcpus, c.max_vcpus), (6, 6));
        // 6 is not a multiple of 2 cores x 2 threads: one socket of 6.
        assert!(
            xml.contains("<topology sockets=\"1\" dies=\"1\" cores=\"6\" threads=\"1\"/>"),
            "{xml}"
        );
        let xml = edit(ConfigChanges {
            vcpus: Some(8),
            ..Default::default()
        });
        assert!(xml.contains("<topology sockets=\"2\" dies=\"1\" cores=\"2\" threads=\"2\"/>"));
        assert!(edit_domain_xml(
            VARIED,
            &ConfigChanges {
                vcpus: Some(0),
                ..Default::default()
            },
            &LIMITS
        )
        .is_err());
    }

    #[test]
    fn memory_sets_both_and_refuses_above_the_maximum() {
        let xml = edit(ConfigChanges {
            memory_kib: Some(3 * 1024 * 1024),
            ..Default::default()
        });
        assert!(
            xml.contains("<memory unit=\"KiB\">3145728</memory>"),
            "{xml}"
        );
        assert!(xml.contains("<currentMemory unit=\"KiB\">3145728</currentMemory>"));

        let err = edit_domain_xml(
            VARIED,
            &ConfigChanges {
                memory_kib: Some(17 * 1024 * 1024),
                ..Default::default()
            },
            &LIMITS,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(
            err.message
                .contains("above this guest's maximum of 16384 MiB"),
            "{}",
            err.message
        );

        // <maxMemory> is the ceiling where it exists.
        let hotplug = VARIED.replace(
            "<memory unit=\"MiB\">2048</memory>",
            "<maxMemory slots=\"4\" unit=\"MiB\">4096</maxMemory>\n  <memory unit=\"MiB\">2048</memory>",
        );
        let changes = ConfigChanges {
            memory_kib: Some(5 * 1024 * 1024),
            ..Default::default()
        };
        assert!(edit_domain_xml(&hotplug, &changes, &LIMITS).is_err());
    }

    #[test]
    fn boot_order_replaces_os_boot_and_device_boot() {
        let xml = edit(ConfigChanges {
            boot_order: Some(vec!["network".into(), "hd".into(), "cdrom".into()]),
            ..Default::default()
        });
        assert!(
            xml.contains(
                "<boot dev='network'/>\n    <boot dev='hd'/>\n    <boot dev='cdrom'/>\n  </os>"
            ),
            "{xml}"
        );
        assert_eq!(
            parse_domain(&xml).unwrap().boot_order,
            ["network", "hd", "cdrom"]
        );

        let with_device_boot = "<domain type='kvm'><name>x</name><os><type>hvm</type></os><devices>\
            <disk type='file' device='disk'><source file='/a'/><target dev='vda'/><boot order='1'/></disk>\
            </devices></domain>";
        let xml = edit_domain_xml(
            with_device_boot,
            &ConfigChanges {
                boot_order: Some(vec!["hd".into()]),
                ..Default::default()
            },
            &LIMITS,
        )
        .unwrap();
        assert!(!xml.contains("order="), "{xml}");
        assert!(
            xml.contains("<type>hvm</type>\n<boot dev='hd'/>") || xml.contains("<boot dev='hd'/>")
        );

        let bad = ConfigChanges {
            boot_order: Some(vec!["usb".into()]),
            ..Default::default()
        };
        assert!(edit_domain_xml(VARIED, &bad, &LIMITS).is_err());
    }

    #[test]
    fn title_and_description_keep_metadata_intact() {
        let xml = edit(ConfigChanges {
            title: Some("New <title> & more".into()),
            description: Some(String::new()),
            ..Default::default()
        });
        let c = parse_domain(&xml).unwrap();
        assert_eq!(c.title, "New <title> & more");
        assert_eq!(c.description, "");
        assert_eq!(metadata(&xml), metadata(VARIED));

        let bare = "<domain type='kvm'>\n  <name>x</name>\n  <uuid>u</uuid>\n  <os><type>hvm</type></os>\n</domain>";
        let xml = edit_domain_xml(
            bare,
            &ConfigChanges {
                title: Some("T".into()),
                description: Some("D\nE".into()),
                ..Default::default()
            },
            &LIMITS,
        )
        .unwrap();
        assert!(
            xml.contains("<uuid>u</uuid>\n  <title>T</title>\n  <description>D\nE</description>"),
            "{xml}"
        );
    }

    #[test]
    fn spice_becomes_vnc_without_spice_only_devices() {
        let xml = edit(ConfigChanges {
            graphics: Some("vnc".into()),
            ..Default::default()
        });
        let c = parse_domain(&xml).unwrap();
        let titles: Vec<&str> = c.devices.iter().map(|d| d.title.as_str()).collect();
        assert!(titles.contains(&"Display VNC"), "{titles:?}");
        assert!(!titles.contains(&"Display Spice"));
        assert!(!titles.contains(&"Channel spice"));
        assert!(titles.contains(&"Channel qemu-ga"));
        assert!(!titles.iter().any(|t| t.starts_with("USB redirector")));
        assert!(titles.contains(&"Video Virtio"), "{titles:?}");
        assert!(xml.contains("<audio id='1' type='none'/>"));
        assert!(xml.contains(
            "<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>\
             <listen type='address' address='127.0.0.1'/></graphics>"
        ));
        assert_eq!(metadata(&xml), metadata(VARIED));
        // Once VNC, again is a no-op.
        let again = edit_domain_xml(
            &xml,
            &ConfigChanges {
                graphics: Some("vnc".into()),
                ..Default::default()
            },
            &LIMITS,
        )
        .unwrap();
        assert_eq!(again, xml);
    }
}
