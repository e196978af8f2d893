//! Statistics history: what the seed's domain.py records each tick.
//!
//! Backends report cumulative counters ([`DomainStats`]); a [`Sampler`]
//! keeps the previous counters of each guest and turns two readings into a
//! [`Sample`] of rates and percentages, as virt-manager shows them. Each
//! guest keeps a bounded [`History`] of samples.

use std::collections::VecDeque;
use std::time::Instant;

use virt_manager_plugin_api::{DomainState, DomainStats, HostStats};

/// One guest at one tick. `None`: not sampled, or not meaningful (CPU of a
/// guest that is not running).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sample {
    /// Guest CPU use, normalised by its vCPUs: 100 % = all vCPUs busy.
    pub cpu_percent: Option<f32>,
    /// The same time as a share of the whole host's CPUs.
    pub host_cpu_percent: Option<f32>,
    pub memory_used_kib: Option<u64>,
    /// Memory in use as a share of the guest's maximum.
    pub memory_percent: Option<f32>,
    pub disk_read_bps: Option<f64>,
    pub disk_write_bps: Option<f64>,
    pub net_rx_bps: Option<f64>,
    pub net_tx_bps: Option<f64>,
}

/// The host at one tick.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HostSample {
    pub cpu_percent: Option<f32>,
    pub memory_used_kib: u64,
    pub memory_total_kib: u64,
}

/// A bounded ring of samples, oldest first.
#[derive(Clone, Debug)]
pub struct History<T> {
    samples: VecDeque<T>,
    capacity: usize,
}

impl<T: Clone> History<T> {
    pub fn new(capacity: usize) -> Self {
        History {
            samples: VecDeque::with_capacity(capacity.min(4096)),
            capacity: capacity.max(1),
        }
    }

    pub fn push(&mut self, sample: T) {
        while self.samples.len() >= self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
    }

    /// Changes the length, dropping the oldest samples if it shrinks.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        while self.samples.len() > self.capacity {
            self.samples.pop_front();
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    pub fn latest(&self) -> Option<&T> {
        self.samples.back()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.samples.iter()
    }

    /// The last `n` samples, oldest first.
    pub fn last_n(&self, n: usize) -> impl Iterator<Item = &T> {
        self.samples
            .iter()
            .skip(self.samples.len().saturating_sub(n))
    }
}

impl<T: Clone> PartialEq for History<T>
where
    T: PartialEq,
{
    fn eq(&self, other: &Self) -> bool {
        self.samples == other.samples && self.capacity == other.capacity
    }
}

/// A counter's rate per second, or None across a reset (the counter went
/// backwards: the guest restarted) or a missing reading.
fn rate(prev: Option<u64>, now: Option<u64>, seconds: f64) -> Option<f64> {
    match (prev, now) {
        (Some(p), Some(n)) if n >= p && seconds > 0.0 => Some((n - p) as f64 / seconds),
        _ => None,
    }
}

/// Turns successive counter readings into samples.
#[derive(Debug, Default)]
pub struct Sampler {
    previous: std::collections::HashMap<String, (Instant, DomainStats)>,
    host_previous: Option<HostStats>,
}

impl Sampler {
    /// A sample for one guest from its new counters. `host_cpus` is the
    /// number of host CPUs (for the host-relative CPU figure).
    pub fn sample(&mut self, stats: &DomainStats, now: Instant, host_cpus: u32) -> Sample {
        let prev = self
            .previous
            .insert(stats.uuid.clone(), (now, stats.clone()));
        let mut s = Sample {
            memory_used_kib: stats.memory_used_kib.or(stats.memory_kib),
            ..Default::default()
        };
        if let (Some(used), Some(max)) =
            (s.memory_used_kib, stats.memory_max_kib.or(stats.memory_kib))
        {
            if max > 0 {
                s.memory_percent = Some((used as f64 * 100.0 / max as f64).min(100.0) as f32);
            }
        }
        let Some((then, prev)) = prev else { return s };
        let seconds = now.duration_since(then).as_secs_f64();
        // Test-driver CPU time advances for paused guests too: CPU use is
        // shown for running guests only.
        let running = matches!(
            stats.state,
            Some(DomainState::Running) | Some(DomainState::Blocked) | None
        );
        if running {
            if let Some(cpu_ns_per_s) = rate(prev.cpu_time_ns, stats.cpu_time_ns, seconds) {
                let busy = cpu_ns_per_s / 1e9 * 100.0;
                let vcpus = stats.vcpus.unwrap_or(1).max(1) as f64;
                s.cpu_percent = Some((busy / vcpus).clamp(0.0, 100.0) as f32);
                if host_cpus > 0 {
                    s.host_cpu_percent = Some((busy / host_cpus as f64).clamp(0.0, 100.0) as f32);
                }
            }
        }
        s.disk_read_bps = rate(prev.disk_read_bytes, stats.disk_read_bytes, seconds);
        s.disk_write_bps = rate(prev.disk_write_bytes, stats.disk_write_bytes, seconds);
        s.net_rx_bps = rate(prev.net_rx_bytes, stats.net_rx_bytes, seconds);
        s.net_tx_bps = rate(prev.net_tx_bytes, stats.net_tx_bytes, seconds);
        s
    }

    /// Forgets guests that are gone, so their memory is freed.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.previous.retain(|uuid, _| keep(uuid));
    }

    /// The host's sample from its new counters.
    pub fn host_sample(&mut self, stats: &HostStats) -> HostSample {
        let prev = self.host_previous.replace(stats.clone());
        let memory_used_kib = stats.memory_total_kib.saturating_sub(stats.memory_free_kib);
        let mut s = HostSample {
            cpu_percent: None,
            memory_used_kib,
            memory_total_kib: stats.memory_total_kib,
        };
        let total = |h: &HostStats| -> Option<(u64, u64)> {
            let busy = h.cpu_user_ns? + h.cpu_kernel_ns?;
            let idle = h.cpu_idle_ns? + h.cpu_iowait_ns.unwrap_or(0);
            Some((busy, idle))
        };
        if let (Some(prev), Some((busy, idle))) = (prev.as_ref().and_then(total), total(stats)) {
            let (pbusy, pidle) = prev;
            if busy >= pbusy && idle >= pidle {
                let db = (busy - pbusy) as f64;
                let di = (idle - pidle) as f64;
                if db + di > 0.0 {
                    s.cpu_percent = Some((db * 100.0 / (db + di)) as f32);
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn stats(cpu_s: u64, vcpus: u32, state: DomainState) -> DomainStats {
        DomainStats {
            uuid: "u".into(),
            state: Some(state),
            cpu_time_ns: Some(cpu_s * 1_000_000_000),
            vcpus: Some(vcpus),
            memory_kib: Some(1024),
            memory_max_kib: Some(2048),
            disk_read_bytes: Some(cpu_s * 1000),
            ..Default::default()
        }
    }

    #[test]
    fn cpu_is_normalised_by_vcpus_and_host_cpus() {
        let mut sampler = Sampler::default();
        let t0 = Instant::now();
        assert_eq!(
            sampler
                .sample(&stats(0, 2, DomainState::Running), t0, 8)
                .cpu_percent,
            None
        );
        // 1 s of CPU in 1 s of wall time on 2 vCPUs = 50 %; on 8 host CPUs 12.5 %.
        let s = sampler.sample(
            &stats(1, 2, DomainState::Running),
            t0 + Duration::from_secs(1),
            8,
        );
        assert_eq!(s.cpu_percent, Some(50.0));
        assert_eq!(s.host_cpu_percent, Some(12.5));
        assert_eq!(s.memory_percent, Some(50.0));
        assert_eq!(s.disk_read_bps, Some(1000.0));
    }

    #[test]
    fn paused_guests_and_counter_resets_show_no_cpu() {
        let mut sampler = Sampler::default();
        let t0 = Instant::now();
        sampler.sample(&stats(5, 1, DomainState::Paused), t0, 1);
        let s = sampler.sample(
            &stats(6, 1, DomainState::Paused),
            t0 + Duration::from_secs(1),
            1,
        );
        assert_eq!(s.cpu_percent, None);
        let s = sampler.sample(
            &stats(1, 1, DomainState::Running),
            t0 + Duration::from_secs(2),
            1,
        );
        assert_eq!(s.cpu_percent, None, "the counter went backwards: a restart");
    }

    #[test]
    fn history_is_bounded() {
        let mut h = History::new(3);
        for i in 0..10 {
            h.push(i);
        }
        assert_eq!(h.iter().copied().collect::<Vec<_>>(), [7, 8, 9]);
        assert_eq!(h.last_n(2).copied().collect::<Vec<_>>(), [8, 9]);
        h.set_capacity(1);
        assert_eq!(h.iter().copied().collect::<Vec<_>>(), [9]);
    }

    #[test]
    fn host_cpu_from_idle_share() {
        let mut sampler = Sampler::default();
        let h = |busy: u64, idle: u64| HostStats {
            cpu_user_ns: Some(busy),
            cpu_kernel_ns: Some(0),
            cpu_idle_ns: Some(idle),
            cpu_iowait_ns: Some(0),
            cpus: 4,
            memory_total_kib: 1000,
            memory_free_kib: 250,
        };
        assert_eq!(sampler.host_sample(&h(0, 0)).cpu_percent, None);
        let s = sampler.host_sample(&h(100, 300));
        assert_eq!(s.cpu_percent, Some(25.0));
        assert_eq!(s.memory_used_kib, 750);
    }
}
