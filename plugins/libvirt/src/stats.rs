//! Guest statistics: one bulk call per connection per tick.
//!
//! `virConnectGetAllDomainStats` (through `ffi::domain_stats`, which frees
//! what it gets) answers for every guest at once, inactive ones included
//! (they carry their state only). The groups asked for follow the
//! request: state always; `cpu-total` for CPU; `balloon` for memory;
//! `block` and `interface` for disk and network. Not `vcpu`: on QEMU it
//! reads every vCPU thread of every running guest each tick, for nothing
//! but the vCPU count, which the host already has from the guest list.
//! Without it (and without memory, disk and network, as by default) no
//! group needs a job on the guest, so a tick costs libvirtd little. NOWAIT keeps a
//! guest that is busy with a job (a migration, a backup) from stalling
//! the whole tick: libvirt then skips that guest's job-bound groups.
//! BACKING is not asked for: it adds the capacity of each backing image,
//! never I/O counters, at the price of extra queries.
//!
//! Some drivers return fewer groups than asked: libvirt 9.0's test driver
//! answers with the state group only. A connection on which no active
//! guest has ever carried a group is taken to lack it, and only there are
//! CPU time and memory read with the cheap per-guest `virDomainGetInfo`.
//! Once a driver has returned a group it is trusted from then on, so a
//! real hypervisor never pays one call per guest. The test driver's CPU
//! time is synthetic (wall-clock time, for paused guests too): it is
//! reported for running guests only.

use std::sync::Mutex;

use virt::connect::Connect;
use virt_manager_plugin_api::{DomainState, DomainStats, PluginError, StatsRequest};
use virt_sys as sys;

use crate::convert::{is_unsupported, plugin_error, state_from_raw};
use crate::ffi::domain_stats::{get_all_domain_stats, StatsRecord, TypedValue};

/// What this connection's driver has shown it returns.
#[derive(Debug, Default)]
pub struct StatsSupport {
    inner: Mutex<Support>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Support {
    /// Refused NOWAIT once: never ask again.
    no_nowait: bool,
    /// Some active guest has carried `cpu.time` / `balloon.*`.
    seen_cpu: bool,
    seen_balloon: bool,
}

/// The `VIR_DOMAIN_STATS_*` groups for a request.
pub fn groups_for(request: &StatsRequest) -> u32 {
    let mut groups = sys::VIR_DOMAIN_STATS_STATE;
    if request.cpu {
        groups |= sys::VIR_DOMAIN_STATS_CPU_TOTAL;
    }
    if request.memory {
        groups |= sys::VIR_DOMAIN_STATS_BALLOON;
    }
    if request.disk {
        groups |= sys::VIR_DOMAIN_STATS_BLOCK;
    }
    if request.net {
        groups |= sys::VIR_DOMAIN_STATS_INTERFACE;
    }
    groups
}

/// Every guest's statistics, in one call (plus the per-guest fallback on
/// drivers that lack a group, see the module comment).
pub fn domain_stats(
    conn: &Connect,
    support: &StatsSupport,
    request: &StatsRequest,
) -> Result<Vec<DomainStats>, PluginError> {
    let groups = groups_for(request);
    let known = *support.inner.lock().unwrap();
    let records = if known.no_nowait {
        get_all_domain_stats(conn, groups, 0)
    } else {
        let nowait = sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT;
        match get_all_domain_stats(conn, groups, nowait) {
            Err(e) if is_unsupported(&e) => {
                log::debug!("statistics without NOWAIT: {}", e.message());
                support.inner.lock().unwrap().no_nowait = true;
                get_all_domain_stats(conn, groups, 0)
            }
            other => other,
        }
    }
    .map_err(plugin_error)?;

    // Local: the UUID is in the handle, no RPC.
    let mut parsed: Vec<(DomainStats, &StatsRecord)> = records
        .iter()
        .filter_map(|r| {
            let uuid = r.domain.get_uuid_string().ok()?;
            Some((stats_from_params(uuid, &r.params), r))
        })
        .collect();

    let plain: Vec<&DomainStats> = parsed.iter().map(|(s, _)| s).collect();
    let fallback = detect_missing(support, request, &plain);
    if fallback.cpu || fallback.memory {
        for (stats, record) in &mut parsed {
            fill_from_info(stats, record, fallback);
        }
    }
    Ok(parsed.into_iter().map(|(s, _)| s).collect())
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Fallback {
    cpu: bool,
    memory: bool,
}

/// Decides which requested groups this driver lacks (see module comment).
fn detect_missing(
    support: &StatsSupport,
    request: &StatsRequest,
    stats: &[&DomainStats],
) -> Fallback {
    let active: Vec<&DomainStats> = stats
        .iter()
        .copied()
        .filter(|s| s.state.is_some_and(|st| st.is_active()))
        .collect();
    let mut s = support.inner.lock().unwrap();
    if active.iter().any(|d| d.cpu_time_ns.is_some()) {
        s.seen_cpu = true;
    }
    if active.iter().any(|d| d.memory_kib.is_some()) {
        s.seen_balloon = true;
    }
    Fallback {
        cpu: request.cpu && !s.seen_cpu && !active.is_empty(),
        memory: request.memory && !s.seen_balloon && !active.is_empty(),
    }
}

/// Fills what the bulk call did not return from `virDomainGetInfo`.
fn fill_from_info(stats: &mut DomainStats, record: &StatsRecord, fallback: Fallback) {
    let Some(state) = stats.state.filter(|s| s.is_active()) else {
        return;
    };
    let info = match record.domain.get_info() {
        Ok(info) => info,
        Err(e) => {
            log::debug!("info for {}: {}", stats.uuid, e.message());
            return;
        }
    };
    if fallback.cpu {
        // Synthetic on the test driver (wall-clock time): running only.
        if matches!(state, DomainState::Running | DomainState::Blocked) {
            stats.cpu_time_ns.get_or_insert(info.cpu_time);
        }
        stats.vcpus.get_or_insert(info.nr_virt_cpu);
    }
    if fallback.memory {
        stats.memory_kib.get_or_insert(info.memory);
        stats.memory_max_kib.get_or_insert(info.max_mem);
    }
}

/// Maps one record's parameters to the plugin's statistics.
pub fn stats_from_params(uuid: String, params: &[(String, TypedValue)]) -> DomainStats {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_u64())
    };
    let mut stats = DomainStats {
        uuid,
        state: get("state.state").map(|s| state_from_raw(s as sys::virDomainState)),
        cpu_time_ns: get("cpu.time"),
        vcpus: get("vcpu.current").map(|v| v as u32),
        memory_kib: get("balloon.current"),
        memory_max_kib: get("balloon.maximum"),
        ..Default::default()
    };
    // As virt-manager: the guest's own view (allocation minus unused) when
    // its balloon driver reports it, else the host's view (RSS).
    stats.memory_used_kib = match (get("balloon.available"), get("balloon.unused")) {
        (Some(available), Some(unused)) => Some(available.saturating_sub(unused)),
        _ => get("balloon.rss"),
    };
    (stats.disk_read_bytes, stats.disk_write_bytes) =
        sum_pair(params, "block", "rd.bytes", "wr.bytes");
    (stats.net_rx_bytes, stats.net_tx_bytes) = sum_pair(params, "net", "rx.bytes", "tx.bytes");
    stats
}

/// Sums `PREFIX.N.A` and `PREFIX.N.B` over every device N. None when the
/// group is absent (`PREFIX.count` missing); a device without counters
/// (an empty CD-ROM drive) adds nothing.
fn sum_pair(
    params: &[(String, TypedValue)],
    prefix: &str,
    a: &str,
    b: &str,
) -> (Option<u64>, Option<u64>) {
    let count_key = format!("{prefix}.count");
    if !params.iter().any(|(k, _)| *k == count_key) {
        return (None, None);
    }
    let (mut sum_a, mut sum_b) = (0u64, 0u64);
    for (key, value) in params {
        let Some(rest) = key.strip_prefix(prefix).and_then(|r| r.strip_prefix('.')) else {
            continue;
        };
        // rest = "N.rd.bytes": the index, then the counter name.
        let Some((index, counter)) = rest.split_once('.') else {
            continue;
        };
        if index.parse::<u32>().is_err() {
            continue;
        }
        let v = value.as_u64().unwrap_or(0);
        if counter == a {
            sum_a = sum_a.saturating_add(v);
        } else if counter == b {
            sum_b = sum_b.saturating_add(v);
        }
    }
    (Some(sum_a), Some(sum_b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: &str, v: u64) -> (String, TypedValue) {
        (k.to_owned(), TypedValue::ULLong(v))
    }

    #[test]
    fn qemu_like_record_maps_every_group() {
        let params = vec![
            ("state.state".to_owned(), TypedValue::Int(1)),
            ("state.reason".to_owned(), TypedValue::Int(1)),
            p("cpu.time", 5_000_000_000),
            ("vcpu.current".to_owned(), TypedValue::UInt(2)),
            p("balloon.current", 1_048_576),
            p("balloon.maximum", 2_097_152),
            p("balloon.rss", 300_000),
            ("block.count".to_owned(), TypedValue::UInt(2)),
            ("block.0.name".to_owned(), TypedValue::String("vda".into())),
            p("block.0.rd.bytes", 100),
            p("block.0.wr.bytes", 10),
            ("block.1.name".to_owned(), TypedValue::String("sda".into())),
            p("block.1.rd.bytes", 200),
            ("net.count".to_owned(), TypedValue::UInt(1)),
            p("net.0.rx.bytes", 7),
            p("net.0.tx.bytes", 8),
            p("net.0.rx.pkts", 999),
        ];
        let s = stats_from_params("u".into(), &params);
        assert_eq!(s.state, Some(DomainState::Running));
        assert_eq!(s.cpu_time_ns, Some(5_000_000_000));
        assert_eq!(s.vcpus, Some(2));
        assert_eq!(s.memory_kib, Some(1_048_576));
        assert_eq!(s.memory_max_kib, Some(2_097_152));
        assert_eq!(s.memory_used_kib, Some(300_000));
        assert_eq!(
            (s.disk_read_bytes, s.disk_write_bytes),
            (Some(300), Some(10))
        );
        assert_eq!((s.net_rx_bytes, s.net_tx_bytes), (Some(7), Some(8)));
    }

    #[test]
    fn guest_view_of_memory_wins_over_rss() {
        let params = vec![
            p("balloon.current", 1000),
            p("balloon.available", 900),
            p("balloon.unused", 600),
            p("balloon.rss", 800),
        ];
        assert_eq!(
            stats_from_params("u".into(), &params).memory_used_kib,
            Some(300)
        );
    }

    #[test]
    fn absent_groups_stay_none() {
        let params = vec![("state.state".to_owned(), TypedValue::Int(5))];
        let s = stats_from_params("u".into(), &params);
        assert_eq!(s.state, Some(DomainState::Shutoff));
        assert_eq!(s.cpu_time_ns, None);
        assert_eq!(s.disk_read_bytes, None);
        assert_eq!(s.net_tx_bytes, None);
        // A guest without disks still says "0 bytes" once the group is there.
        let params = vec![("block.count".to_owned(), TypedValue::UInt(0))];
        let s = stats_from_params("u".into(), &params);
        assert_eq!(s.disk_read_bytes, Some(0));
    }

    #[test]
    fn groups_follow_the_request() {
        assert_eq!(
            groups_for(&StatsRequest::default()),
            sys::VIR_DOMAIN_STATS_STATE
        );
        let all = StatsRequest {
            cpu: true,
            memory: true,
            disk: true,
            net: true,
        };
        let g = groups_for(&all);
        for bit in [
            sys::VIR_DOMAIN_STATS_CPU_TOTAL,
            sys::VIR_DOMAIN_STATS_BALLOON,
            sys::VIR_DOMAIN_STATS_BLOCK,
            sys::VIR_DOMAIN_STATS_INTERFACE,
        ] {
            assert_ne!(g & bit, 0);
        }
        // The vCPU count comes from the guest list, not per tick.
        assert_eq!(g & sys::VIR_DOMAIN_STATS_VCPU, 0);
    }

    #[test]
    fn a_driver_that_returned_a_group_is_trusted() {
        let support = StatsSupport::default();
        let req = StatsRequest {
            cpu: true,
            memory: true,
            ..Default::default()
        };
        let running_bare = DomainStats {
            uuid: "a".into(),
            state: Some(DomainState::Running),
            ..Default::default()
        };
        // Nothing seen yet: fall back.
        let fb = detect_missing(&support, &req, &[&running_bare]);
        assert_eq!(
            fb,
            Fallback {
                cpu: true,
                memory: true
            }
        );
        // One guest carried cpu.time: CPU is trusted from now on.
        let with_cpu = DomainStats {
            cpu_time_ns: Some(1),
            ..running_bare.clone()
        };
        detect_missing(&support, &req, &[&with_cpu]);
        let fb = detect_missing(&support, &req, &[&running_bare]);
        assert_eq!(
            fb,
            Fallback {
                cpu: false,
                memory: true
            }
        );
        // No active guest: nothing to fill.
        let off = DomainStats {
            uuid: "b".into(),
            state: Some(DomainState::Shutoff),
            ..Default::default()
        };
        let fresh = StatsSupport::default();
        assert_eq!(detect_missing(&fresh, &req, &[&off]), Fallback::default());
    }
}
