//! Virtual networks: listing with their addressing, start, stop, autostart.

use roxmltree::Document;
use virt::connect::Connect;
use virt::network::Network;
use virt_manager_plugin_api::{NetworkAction, NetworkInfo, PluginError};

use crate::config::parse::{child, children};
use crate::convert::plugin_error;

pub fn list_networks(conn: &Connect) -> Result<Vec<NetworkInfo>, PluginError> {
    let networks = conn.list_all_networks(0).map_err(plugin_error)?;
    let mut out = Vec::with_capacity(networks.len());
    for net in &networks {
        let xml = net.get_xml_desc(0).map_err(plugin_error)?;
        let mut info = parse_network(&xml).map_err(PluginError::failed)?;
        info.active = net.is_active().map_err(plugin_error)?;
        info.persistent = net.is_persistent().map_err(plugin_error)?;
        info.autostart = net.get_autostart().unwrap_or(false);
        out.push(info);
    }
    Ok(out)
}

pub fn network_action(
    conn: &Connect,
    name: &str,
    action: &NetworkAction,
) -> Result<(), PluginError> {
    let net = Network::lookup_by_name(conn, name).map_err(plugin_error)?;
    match action {
        NetworkAction::Start => net.create().map(drop),
        NetworkAction::Stop => net.destroy(),
        NetworkAction::SetAutostart { autostart } => net.set_autostart(*autostart).map(drop),
    }
    .map_err(plugin_error)
}

/// Name, UUID, bridge, forward mode, IPv4 address and DHCP range from a
/// network's XML (state and autostart are asked for separately).
pub fn parse_network(xml: &str) -> Result<NetworkInfo, String> {
    let doc = Document::parse(xml).map_err(|e| format!("unreadable network XML: {e}"))?;
    let root = doc.root_element();
    let text = |name: &str| {
        child(root, name)
            .and_then(|n| n.text())
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    // No <forward>: an isolated network; <forward> without a mode: NAT.
    let forward_mode = match child(root, "forward") {
        None => "isolated".to_owned(),
        Some(f) => f.attribute("mode").unwrap_or("nat").to_owned(),
    };
    let ipv4 = children(root, "ip").find(|ip| ip.attribute("family").is_none_or(|f| f == "ipv4"));
    let address = ipv4.and_then(|ip| {
        let addr = ip.attribute("address")?;
        let prefix = ip
            .attribute("prefix")
            .and_then(|p| p.parse::<u32>().ok())
            .or_else(|| ip.attribute("netmask").and_then(netmask_prefix));
        Some(match prefix {
            Some(p) => format!("{addr}/{p}"),
            None => addr.to_owned(),
        })
    });
    let dhcp_range = ipv4
        .and_then(|ip| child(ip, "dhcp"))
        .and_then(|d| child(d, "range"))
        .and_then(|r| {
            Some(format!(
                "{} – {}",
                r.attribute("start")?,
                r.attribute("end")?
            ))
        });
    Ok(NetworkInfo {
        name: text("name"),
        uuid: text("uuid"),
        bridge: child(root, "bridge")
            .and_then(|b| b.attribute("name"))
            .map(str::to_owned),
        forward_mode,
        ipv4: address,
        dhcp_range,
        ..Default::default()
    })
}

/// 255.255.255.0 -> 24.
fn netmask_prefix(mask: &str) -> Option<u32> {
    let ip: std::net::Ipv4Addr = mask.parse().ok()?;
    let bits = u32::from(ip);
    (bits.leading_ones() + bits.trailing_zeros() == 32).then_some(bits.leading_ones())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nat_network_with_dhcp() {
        let xml = "<network><name>default</name><uuid>u-1</uuid><forward mode='nat'/>\
            <bridge name='virbr0' stp='on'/><ip address='192.168.122.1' netmask='255.255.255.0'>\
            <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>";
        let n = parse_network(xml).unwrap();
        assert_eq!(n.name, "default");
        assert_eq!(n.uuid, "u-1");
        assert_eq!(n.bridge.as_deref(), Some("virbr0"));
        assert_eq!(n.forward_mode, "nat");
        assert_eq!(n.ipv4.as_deref(), Some("192.168.122.1/24"));
        assert_eq!(
            n.dhcp_range.as_deref(),
            Some("192.168.122.2 – 192.168.122.254")
        );
    }

    #[test]
    fn isolated_network_skips_ipv6() {
        let xml = "<network><name>iso</name><ip family='ipv6' address='fd00::1' prefix='64'/>\
            <ip address='10.0.5.1' prefix='24'/></network>";
        let n = parse_network(xml).unwrap();
        assert_eq!(n.forward_mode, "isolated");
        assert_eq!(n.ipv4.as_deref(), Some("10.0.5.1/24"));
        assert_eq!(n.dhcp_range, None);
        assert_eq!(netmask_prefix("255.255.0.0"), Some(16));
        assert_eq!(netmask_prefix("255.0.255.0"), None);
    }
}
