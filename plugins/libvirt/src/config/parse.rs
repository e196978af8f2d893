//! Reading a domain's XML into the plugin API's `DomainConfig`: the
//! values the details window shows and edits, and one readable `Device`
//! per element of `<devices>`.

use std::collections::HashMap;

use roxmltree::{Document, Node};
use virt_manager_plugin_api::{Device, DomainConfig};

/// The first child element named `name` (in no namespace).
pub fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.has_tag_name(name))
}

/// Every child element named `name`.
pub fn children<'a, 'i: 'a>(
    node: Node<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.has_tag_name(name))
}

fn text_of(node: Option<Node>) -> String {
    node.and_then(|n| n.text()).unwrap_or("").trim().to_owned()
}

/// An attribute of a child element: `attr_at(disk, "target", "dev")`.
fn attr_at<'a>(node: Node<'a, '_>, child_name: &str, attr: &str) -> Option<&'a str> {
    child(node, child_name).and_then(|c| c.attribute(attr))
}

/// A memory amount in KiB from libvirt's value and `unit` attribute.
pub fn memory_kib(node: Node) -> Option<u64> {
    let value: u64 = node.text()?.trim().parse().ok()?;
    let bytes_per_unit: u64 = match node.attribute("unit").unwrap_or("KiB") {
        "b" | "bytes" => 1,
        "KB" => 1000,
        "k" | "KiB" => 1 << 10,
        "MB" => 1_000_000,
        "M" | "MiB" => 1 << 20,
        "GB" => 1_000_000_000,
        "G" | "GiB" => 1 << 30,
        "TB" => 1_000_000_000_000,
        "T" | "TiB" => 1 << 40,
        _ => return None,
    };
    Some(value.saturating_mul(bytes_per_unit) / 1024)
}

/// Reads a domain's XML. `max_memory_kib` and the runtime-only fields
/// (autostart, persistent) are filled in by the caller.
pub fn parse_domain(xml: &str) -> Result<DomainConfig, String> {
    let doc = Document::parse(xml).map_err(|e| format!("unreadable domain XML: {e}"))?;
    let root = doc.root_element();
    if !root.has_tag_name("domain") {
        return Err("not a domain XML document".into());
    }
    let os = child(root, "os");
    let os_type = os.and_then(|o| child(o, "type"));
    let vcpu = child(root, "vcpu");
    let max_vcpus: u32 = text_of(vcpu).parse().unwrap_or(1);
    let vcpus = vcpu
        .and_then(|v| v.attribute("current"))
        .and_then(|c| c.parse().ok())
        .unwrap_or(max_vcpus);
    let memory = child(root, "memory").and_then(memory_kib).unwrap_or(0);
    let current = child(root, "currentMemory")
        .and_then(memory_kib)
        .unwrap_or(memory);
    let devices: Vec<Device> = match child(root, "devices") {
        Some(devs) => describe_devices(devs),
        None => Vec::new(),
    };
    Ok(DomainConfig {
        uuid: text_of(child(root, "uuid")),
        name: text_of(child(root, "name")),
        title: text_of(child(root, "title")),
        description: child(root, "description")
            .and_then(|d| d.text())
            .unwrap_or("")
            .to_owned(),
        hypervisor: root.attribute("type").unwrap_or("").to_owned(),
        os_type: text_of(os_type),
        arch: os_type
            .and_then(|t| t.attribute("arch"))
            .unwrap_or("")
            .to_owned(),
        machine: os_type
            .and_then(|t| t.attribute("machine"))
            .unwrap_or("")
            .to_owned(),
        vcpus,
        max_vcpus,
        memory_kib: current,
        // The hotplug ceiling if the guest has one; else the caller puts
        // the host's memory here (see config.rs).
        max_memory_kib: child(root, "maxMemory").and_then(memory_kib).unwrap_or(0),
        boot_order: boot_order(root),
        devices,
        native: Some(xml.to_owned()),
        ..Default::default()
    })
}

/// `<os><boot dev=...>` in order; without those, the order of the
/// devices' own `<boot order='N'/>`.
fn boot_order(root: Node) -> Vec<String> {
    if let Some(os) = child(root, "os") {
        let order: Vec<String> = children(os, "boot")
            .filter_map(|b| b.attribute("dev"))
            .map(str::to_owned)
            .collect();
        if !order.is_empty() {
            return order;
        }
    }
    let Some(devices) = child(root, "devices") else {
        return Vec::new();
    };
    let mut by_order: Vec<(u32, &str)> = devices
        .children()
        .filter(|d| d.is_element())
        .filter_map(|d| {
            let n: u32 = attr_at(d, "boot", "order")?.parse().ok()?;
            let dev = match (d.tag_name().name(), d.attribute("device")) {
                ("disk", Some("cdrom")) => "cdrom",
                ("disk", Some("floppy")) => "fd",
                ("disk", _) => "hd",
                ("interface", _) => "network",
                _ => return None,
            };
            Some((n, dev))
        })
        .collect();
    by_order.sort();
    let mut out: Vec<String> = Vec::new();
    for (_, dev) in by_order {
        if !out.iter().any(|d| d == dev) {
            out.push(dev.to_owned());
        }
    }
    out
}

/// One `Device` per element of `<devices>` (the emulator path is not a
/// device and is left out).
pub fn describe_devices(devices: Node) -> Vec<Device> {
    let mut counters: HashMap<String, u32> = HashMap::new();
    let mut next = |key: String| {
        let n = counters.entry(key).or_insert(0);
        *n += 1;
        *n
    };
    devices
        .children()
        .filter(|d| d.is_element() && d.tag_name().name() != "emulator")
        .map(|d| describe(d, &mut next))
        .collect()
}

type Props = Vec<(String, String)>;

fn push(props: &mut Props, name: &str, value: Option<&str>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        props.push((name.to_owned(), v.to_owned()));
    }
}

fn yes_no(b: bool) -> Option<&'static str> {
    Some(if b { "yes" } else { "no" })
}

fn bus_label(bus: &str) -> String {
    match bus {
        "virtio" => "VirtIO".into(),
        "sata" | "ide" | "scsi" | "usb" | "sd" => bus.to_uppercase(),
        "fdc" => "Floppy".into(),
        "xen" => "Xen".into(),
        "ps2" => "PS/2".into(),
        other => capitalize(other),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn describe(d: Node, next: &mut impl FnMut(String) -> u32) -> Device {
    let tag = d.tag_name().name();
    let mut props = Props::new();
    let ty = d.attribute("type");
    let (kind, title) = match tag {
        "disk" => return describe_disk(d, next),
        "interface" => {
            let mac = attr_at(d, "mac", "address").unwrap_or("");
            push(&mut props, "Type", ty);
            push(&mut props, "Source", source_summary(d));
            push(&mut props, "MAC address", Some(mac));
            push(&mut props, "Model", attr_at(d, "model", "type"));
            push(&mut props, "Host device", attr_at(d, "target", "dev"));
            push(&mut props, "Link state", attr_at(d, "link", "state"));
            push(&mut props, "Boot order", attr_at(d, "boot", "order"));
            let tail = &mac[mac.len().saturating_sub(9)..];
            ("interface", format!("NIC {tail}"))
        }
        "graphics" => {
            let t = ty.unwrap_or("");
            push(&mut props, "Type", ty);
            let listen = d
                .attribute("listen")
                .or_else(|| attr_at(d, "listen", "address"))
                .or_else(|| attr_at(d, "listen", "socket"));
            push(&mut props, "Address", listen);
            let auto = d.attribute("autoport") == Some("yes") || d.attribute("port") == Some("-1");
            push(
                &mut props,
                "Port",
                if auto && t != "sdl" {
                    Some("auto")
                } else {
                    d.attribute("port")
                },
            );
            push(&mut props, "TLS port", d.attribute("tlsPort"));
            push(&mut props, "Keymap", d.attribute("keymap"));
            if d.attribute("passwd").is_some() {
                push(&mut props, "Password", Some("set"));
            }
            let label = match t {
                "vnc" => "VNC".to_owned(),
                "spice" => "Spice".to_owned(),
                "sdl" => "SDL".to_owned(),
                "rdp" => "RDP".to_owned(),
                other => capitalize(other),
            };
            ("graphics", format!("Display {label}"))
        }
        "video" => {
            let model = child(d, "model");
            let m = model.and_then(|m| m.attribute("type")).unwrap_or("");
            push(&mut props, "Model", Some(m));
            push(
                &mut props,
                "VRAM (KiB)",
                model.and_then(|m| m.attribute("vram")),
            );
            push(
                &mut props,
                "Heads",
                model.and_then(|m| m.attribute("heads")),
            );
            if let Some(accel) = model.and_then(|m| child(m, "acceleration")) {
                push(&mut props, "3D acceleration", accel.attribute("accel3d"));
            }
            let label = match m {
                "qxl" | "vga" => m.to_uppercase(),
                other => capitalize(other),
            };
            ("video", format!("Video {label}"))
        }
        "controller" => {
            let t = ty.unwrap_or("");
            push(&mut props, "Type", ty);
            push(&mut props, "Index", d.attribute("index"));
            push(&mut props, "Model", d.attribute("model"));
            let label = match t {
                "virtio-serial" => "VirtIO Serial".to_owned(),
                "usb" | "pci" | "scsi" | "sata" | "ide" | "ccid" => t.to_uppercase(),
                other => bus_label(other),
            };
            let index = d.attribute("index").unwrap_or("0");
            ("controller", format!("Controller {label} {index}"))
        }
        "input" => {
            let bus = d.attribute("bus").unwrap_or("");
            push(&mut props, "Type", ty);
            push(&mut props, "Bus", Some(bus));
            let t = capitalize(ty.unwrap_or("input"));
            let title = if bus.is_empty() {
                t
            } else {
                format!("{} {t}", bus_label(bus))
            };
            ("input", title)
        }
        "sound" => {
            let model = d.attribute("model").unwrap_or("");
            push(&mut props, "Model", Some(model));
            ("sound", format!("Sound {model}").trim_end().to_owned())
        }
        "serial" | "console" | "parallel" | "channel" => {
            push(&mut props, "Type", ty);
            push(
                &mut props,
                "Source",
                attr_at(d, "source", "path").or_else(|| attr_at(d, "source", "host")),
            );
            push(&mut props, "Target type", attr_at(d, "target", "type"));
            let target_name = attr_at(d, "target", "name");
            push(&mut props, "Target name", target_name);
            push(&mut props, "Target port", attr_at(d, "target", "port"));
            let title = if tag == "channel" {
                let name = match target_name {
                    Some("org.qemu.guest_agent.0") => "qemu-ga",
                    Some("com.redhat.spice.0") => "spice",
                    Some(n) => n,
                    None => ty.unwrap_or(""),
                };
                format!("Channel {name}")
            } else {
                let n = next(tag.to_owned());
                format!("{} {n}", capitalize(tag))
            };
            (tag, title)
        }
        "hostdev" => {
            let src = child(d, "source");
            let mode = d.attribute("mode").unwrap_or("subsystem");
            push(&mut props, "Mode", Some(mode));
            push(&mut props, "Type", ty);
            push(&mut props, "Managed", d.attribute("managed"));
            let title = match ty.unwrap_or("") {
                "pci" => {
                    let a = src.and_then(|s| child(s, "address"));
                    let get = |k| a.and_then(|a| a.attribute(k)).unwrap_or("0");
                    let addr = format!(
                        "{:04x}:{:02x}:{:02x}.{:x}",
                        hex(get("domain")),
                        hex(get("bus")),
                        hex(get("slot")),
                        hex(get("function"))
                    );
                    push(&mut props, "Address", Some(&addr));
                    format!("PCI {addr}")
                }
                "usb" => {
                    let vendor = src.and_then(|s| attr_at(s, "vendor", "id"));
                    let product = src.and_then(|s| attr_at(s, "product", "id"));
                    match (vendor, product) {
                        (Some(v), Some(p)) => {
                            let id = format!("{:04x}:{:04x}", hex(v), hex(p));
                            push(&mut props, "Vendor:product", Some(&id));
                            format!("USB {id}")
                        }
                        _ => {
                            let a = src.and_then(|s| child(s, "address"));
                            let bus = a.and_then(|a| a.attribute("bus")).unwrap_or("?");
                            let dev = a.and_then(|a| a.attribute("device")).unwrap_or("?");
                            push(&mut props, "Address", Some(&format!("{bus}.{dev}")));
                            format!("USB {bus}.{dev}")
                        }
                    }
                }
                other => format!("Host device {}", other.to_uppercase())
                    .trim_end()
                    .to_owned(),
            };
            ("hostdev", title)
        }
        "rng" => {
            let backend = child(d, "backend");
            push(&mut props, "Model", d.attribute("model"));
            push(
                &mut props,
                "Backend",
                backend.and_then(|b| b.attribute("model")),
            );
            let source = backend.and_then(|b| b.text()).map(str::trim);
            push(&mut props, "Source", source);
            let title = match source.filter(|s| !s.is_empty()) {
                Some(s) => format!("RNG {s}"),
                None => "RNG".to_owned(),
            };
            ("rng", title)
        }
        "tpm" => {
            let backend = child(d, "backend");
            let version = backend.and_then(|b| b.attribute("version"));
            push(&mut props, "Model", d.attribute("model"));
            push(
                &mut props,
                "Backend",
                backend.and_then(|b| b.attribute("type")),
            );
            push(&mut props, "Version", version);
            let title = match version {
                Some(v) => format!("TPM v{v}"),
                None => "TPM".to_owned(),
            };
            ("tpm", title)
        }
        "watchdog" => {
            push(&mut props, "Model", d.attribute("model"));
            push(&mut props, "Action", d.attribute("action"));
            ("watchdog", "Watchdog".to_owned())
        }
        "memballoon" => {
            push(&mut props, "Model", d.attribute("model"));
            push(&mut props, "Auto-deflate", d.attribute("autodeflate"));
            ("memballoon", "Memory balloon".to_owned())
        }
        "redirdev" => {
            push(&mut props, "Type", ty);
            push(&mut props, "Bus", d.attribute("bus"));
            let n = next("redirdev".into());
            ("redirdev", format!("USB redirector {n}"))
        }
        "filesystem" => {
            push(&mut props, "Type", ty);
            push(&mut props, "Driver", attr_at(d, "driver", "type"));
            push(&mut props, "Source", source_summary(d));
            let target = attr_at(d, "target", "dir");
            push(&mut props, "Target", target);
            push(
                &mut props,
                "Read-only",
                yes_no(child(d, "readonly").is_some()),
            );
            (
                "filesystem",
                format!("Filesystem {}", target.unwrap_or(""))
                    .trim_end()
                    .to_owned(),
            )
        }
        "smartcard" => {
            push(&mut props, "Mode", d.attribute("mode"));
            push(&mut props, "Type", ty);
            ("smartcard", "Smartcard".to_owned())
        }
        "panic" => {
            push(&mut props, "Model", d.attribute("model"));
            ("panic", "Panic notifier".to_owned())
        }
        "vsock" => {
            push(&mut props, "Model", d.attribute("model"));
            push(&mut props, "CID", attr_at(d, "cid", "address"));
            ("vsock", "VirtIO VSOCK".to_owned())
        }
        "memory" => {
            push(&mut props, "Model", d.attribute("model"));
            let size = child(d, "target")
                .and_then(|t| child(t, "size"))
                .and_then(memory_kib)
                .map(|k| format!("{} MiB", k / 1024));
            push(&mut props, "Size", size.as_deref());
            ("memory", "Memory module".to_owned())
        }
        other => {
            for a in d.attributes() {
                push(&mut props, a.name(), Some(a.value()));
            }
            (other, capitalize(other))
        }
    };
    Device {
        kind: kind.to_owned(),
        title,
        properties: props,
    }
}

fn hex(s: &str) -> u32 {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16).unwrap_or(0),
        None => s.parse().unwrap_or(0),
    }
}

/// Where a disk, interface or filesystem gets its data, for display.
fn source_summary<'a>(d: Node<'a, '_>) -> Option<&'a str> {
    let src = child(d, "source")?;
    [
        "file", "dev", "dir", "network", "bridge", "name", "path", "volume",
    ]
    .iter()
    .find_map(|k| src.attribute(*k))
}

fn describe_disk(d: Node, next: &mut impl FnMut(String) -> u32) -> Device {
    let device = d.attribute("device").unwrap_or("disk");
    let bus = attr_at(d, "target", "bus").unwrap_or("");
    let mut props = Props::new();
    let src = child(d, "source");
    let source = match (d.attribute("type"), src) {
        (Some("volume"), Some(s)) => Some(format!(
            "{}/{}",
            s.attribute("pool").unwrap_or(""),
            s.attribute("volume").unwrap_or("")
        )),
        (Some("network"), Some(s)) => Some(format!(
            "{}://{}/{}",
            s.attribute("protocol").unwrap_or(""),
            attr_at(s, "host", "name").unwrap_or(""),
            s.attribute("name").unwrap_or("")
        )),
        _ => source_summary(d).map(str::to_owned),
    };
    let empty = device == "cdrom" || device == "floppy";
    push(
        &mut props,
        "Source",
        Some(
            source
                .as_deref()
                .unwrap_or(if empty { "(empty)" } else { "" }),
        ),
    );
    push(&mut props, "Device type", Some(device));
    push(&mut props, "Target", attr_at(d, "target", "dev"));
    push(&mut props, "Bus", Some(bus));
    push(&mut props, "Format", attr_at(d, "driver", "type"));
    push(&mut props, "Cache", attr_at(d, "driver", "cache"));
    push(
        &mut props,
        "Read-only",
        yes_no(child(d, "readonly").is_some()),
    );
    push(
        &mut props,
        "Shareable",
        yes_no(child(d, "shareable").is_some()),
    );
    push(&mut props, "Serial", Some(&text_of(child(d, "serial"))));
    push(&mut props, "Boot order", attr_at(d, "boot", "order"));
    let (kind, label) = match device {
        "cdrom" => ("cdrom", "CDROM"),
        "floppy" => ("floppy", "Floppy"),
        "lun" => ("disk", "LUN"),
        _ => ("disk", "Disk"),
    };
    let n = next(format!("disk/{bus}/{label}"));
    let title = if bus.is_empty() {
        format!("{label} {n}")
    } else {
        format!("{} {label} {n}", bus_label(bus))
    };
    Device {
        kind: kind.to_owned(),
        title,
        properties: props,
    }
}

/// A disk whose storage a delete may remove.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiskSource {
    Path(String),
    Volume { pool: String, volume: String },
}

/// The disks a delete-with-storage removes: writable, unshared disks
/// with a source. CD-ROMs and floppies (install media), read-only and
/// shareable disks are kept, as virt-manager does by default.
pub fn deletable_disks(xml: &str) -> Result<Vec<DiskSource>, String> {
    let doc = Document::parse(xml).map_err(|e| format!("unreadable domain XML: {e}"))?;
    let Some(devices) = child(doc.root_element(), "devices") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for disk in children(devices, "disk") {
        let device = disk.attribute("device").unwrap_or("disk");
        if matches!(device, "cdrom" | "floppy")
            || child(disk, "readonly").is_some()
            || child(disk, "shareable").is_some()
        {
            continue;
        }
        let Some(src) = child(disk, "source") else {
            continue;
        };
        let found = match disk.attribute("type").unwrap_or("file") {
            "file" => src.attribute("file").map(|p| DiskSource::Path(p.into())),
            "block" => src.attribute("dev").map(|p| DiskSource::Path(p.into())),
            "volume" => match (src.attribute("pool"), src.attribute("volume")) {
                (Some(pool), Some(volume)) => Some(DiskSource::Volume {
                    pool: pool.into(),
                    volume: volume.into(),
                }),
                _ => None,
            },
            // Network disks (rbd, iscsi, ...) are named, not pathed:
            // leave them to their storage's own tools.
            _ => None,
        };
        out.extend(found);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARIED: &str = include_str!("../../tests/data/varied-guest.xml");

    fn config() -> DomainConfig {
        parse_domain(VARIED).unwrap()
    }

    #[test]
    fn reads_the_basics() {
        let c = config();
        assert_eq!(c.name, "varied");
        assert_eq!(c.title, "A guest with every device");
        assert!(c.description.contains("Second line"));
        assert_eq!(c.hypervisor, "test");
        assert_eq!((c.os_type.as_str(), c.arch.as_str()), ("hvm", "x86_64"));
        assert_eq!(c.machine, "pc-q35-7.2");
        assert_eq!((c.vcpus, c.max_vcpus), (2, 4));
        assert_eq!(c.memory_kib, 1024 * 1024);
        assert_eq!(c.max_memory_kib, 0, "no <maxMemory>: the caller decides");
        assert_eq!(c.boot_order, ["cdrom", "hd"]);
        assert!(c.native.as_deref().unwrap().contains("libosinfo"));
    }

    #[test]
    fn every_device_kind_has_a_title() {
        let c = config();
        let kinds: Vec<&str> = c.devices.iter().map(|d| d.kind.as_str()).collect();
        for want in [
            "disk",
            "cdrom",
            "interface",
            "graphics",
            "video",
            "controller",
            "input",
            "sound",
            "serial",
            "console",
            "channel",
            "hostdev",
            "rng",
            "tpm",
            "watchdog",
            "memballoon",
            "redirdev",
            "filesystem",
            "panic",
        ] {
            assert!(kinds.contains(&want), "no {want} in {kinds:?}");
        }
        let titles: Vec<&str> = c.devices.iter().map(|d| d.title.as_str()).collect();
        for want in [
            "VirtIO Disk 1",
            "SATA CDROM 1",
            "NIC :6d:01:01",
            "Display Spice",
            "Video QXL",
            "Controller USB 0",
            "USB Tablet",
            "Sound ich9",
            "Serial 1",
            "Console 1",
            "Channel qemu-ga",
            "Channel spice",
            "PCI 0000:01:00.0",
            "USB 046d:c52b",
            "RNG /dev/urandom",
            "TPM v2.0",
            "Watchdog",
            "Memory balloon",
        ] {
            assert!(titles.contains(&want), "no {want:?} in {titles:?}");
        }
        let disk = &c.devices[0];
        assert!(disk.properties.contains(&("Format".into(), "qcow2".into())));
        assert!(!titles.iter().any(|t| t.contains("emulator")));
    }

    #[test]
    fn device_boot_order_is_used_without_os_boot() {
        let xml = "<domain type='kvm'><name>x</name><os><type>hvm</type></os><devices>\
            <interface type='network'><source network='default'/><boot order='2'/></interface>\
            <disk type='file' device='disk'><source file='/a'/><target dev='vda'/><boot order='1'/></disk>\
            </devices></domain>";
        assert_eq!(parse_domain(xml).unwrap().boot_order, ["hd", "network"]);
    }

    #[test]
    fn memory_units_convert() {
        let doc = Document::parse("<m unit='MiB'>64</m>").unwrap();
        assert_eq!(memory_kib(doc.root_element()), Some(65536));
        let doc = Document::parse("<m unit='GB'>1</m>").unwrap();
        assert_eq!(memory_kib(doc.root_element()), Some(976_562));
        let doc = Document::parse("<m>512</m>").unwrap();
        assert_eq!(memory_kib(doc.root_element()), Some(512));
    }

    #[test]
    fn deletable_disks_skip_media_and_shared() {
        let disks = deletable_disks(VARIED).unwrap();
        assert_eq!(
            disks,
            [
                DiskSource::Path("/var/lib/libvirt/images/varied.qcow2".into()),
                DiskSource::Volume {
                    pool: "default".into(),
                    volume: "data.img".into()
                }
            ]
        );
    }
}
