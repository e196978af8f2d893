//! Statistics history: what the seed's domain.py records each tick.
//!
//! Backends report cumulative counters ([`DomainStats`]); a [`Sampler`]
//! keeps the previous counters of each guest and turns two readings into a
//! [`Sample`] of rates and percentages, as virt-manager shows them. Each
//! guest keeps a bounded [`SampleHistory`] of samples, stored compactly:
//! a host of 1500 guests keeps 120 samples of each, so a sample costs a
//! few bytes per figure actually sampled, not a full [`Sample`].

use std::collections::{HashMap, VecDeque};
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

/// How many samples a guest's history holds before it first grows; the
/// default history length (120) fits, so its memory is flat from the first
/// tick on.
const INITIAL_SLOTS: usize = 128;

/// One figure of a [`SampleHistory`], encoded in a few bytes.
trait Slot: Copy + PartialEq {
    const NONE: Self;
    fn is_none(self) -> bool {
        self == Self::NONE
    }
}

impl Slot for u16 {
    const NONE: u16 = u16::MAX;
}

impl Slot for u32 {
    const NONE: u32 = u32::MAX;
}

impl Slot for f32 {
    // NaN never equals itself: compared by bits.
    const NONE: f32 = f32::NAN;
    fn is_none(self) -> bool {
        self.is_nan()
    }
}

/// A percentage in hundredths (0 to 655.34 %).
fn pct_in(v: Option<f32>) -> u16 {
    match v {
        Some(x) if x.is_finite() => (x.clamp(0.0, 655.34) * 100.0).round() as u16,
        _ => u16::NONE,
    }
}

fn pct_out(v: u16) -> Option<f32> {
    (!v.is_none()).then(|| v as f32 / 100.0)
}

/// KiB, up to 4 TiB.
fn kib_in(v: Option<u64>) -> u32 {
    v.map_or(u32::NONE, |k| k.min(u32::NONE as u64 - 1) as u32)
}

fn kib_out(v: u32) -> Option<u64> {
    (!v.is_none()).then_some(v as u64)
}

/// A rate in bytes per second (f32: plenty for display).
fn rate_in(v: Option<f64>) -> f32 {
    match v {
        Some(x) if x.is_finite() => x as f32,
        _ => f32::NONE,
    }
}

fn rate_out(v: f32) -> Option<f64> {
    (!v.is_none()).then_some(v as f64)
}

/// A column of one figure: absent until the figure is first sampled (a
/// stopped guest never allocates its CPU column, and disk and network
/// rates cost nothing unless they are polled).
type Column<T> = Option<Box<[T]>>;

fn col_write<T: Slot>(col: &mut Column<T>, slots: usize, idx: usize, v: T) {
    if col.is_none() {
        if v.is_none() {
            return;
        }
        *col = Some(vec![T::NONE; slots].into_boxed_slice());
    }
    if let Some(c) = col {
        c[idx] = v;
    }
}

fn col_read<T: Slot>(col: &Column<T>, idx: usize) -> T {
    col.as_ref().map_or(T::NONE, |c| c[idx])
}

/// Re-lays a column out oldest-first in `slots` slots.
fn col_regrow<T: Slot>(col: &mut Column<T>, start: usize, len: usize, slots: usize) {
    if let Some(old) = col.take() {
        let mut new = vec![T::NONE; slots];
        for (i, v) in new.iter_mut().enumerate().take(len) {
            *v = old[(start + i) % old.len()];
        }
        *col = Some(new.into_boxed_slice());
    }
}

/// A guest's bounded history of [`Sample`]s, oldest first, stored by
/// column in compact encodings: percentages in hundredths (u16), memory in
/// KiB (u32), rates as f32. A figure never sampled takes no memory.
#[derive(Clone, Debug, Default)]
pub struct SampleHistory {
    capacity: usize,
    /// Allocated length of every present column.
    slots: usize,
    /// Index of the oldest sample.
    start: usize,
    len: usize,
    cpu: Column<u16>,
    host_cpu: Column<u16>,
    memory_percent: Column<u16>,
    memory_used: Column<u32>,
    /// Disk read, disk write, network receive, network transmit.
    rates: [Column<f32>; 4],
}

impl SampleHistory {
    pub fn new(capacity: usize) -> Self {
        SampleHistory {
            capacity: capacity.max(1),
            ..Default::default()
        }
    }

    fn regrow(&mut self, slots: usize) {
        let (start, len) = (self.start, self.len);
        col_regrow(&mut self.cpu, start, len, slots);
        col_regrow(&mut self.host_cpu, start, len, slots);
        col_regrow(&mut self.memory_percent, start, len, slots);
        col_regrow(&mut self.memory_used, start, len, slots);
        for c in &mut self.rates {
            col_regrow(c, start, len, slots);
        }
        self.slots = slots;
        self.start = 0;
    }

    pub fn push(&mut self, sample: Sample) {
        if self.len == self.capacity {
            self.start = (self.start + 1) % self.slots;
            self.len -= 1;
        } else if self.len == self.slots {
            let slots = (self.slots * 2).max(INITIAL_SLOTS).min(self.capacity);
            self.regrow(slots);
        }
        let (slots, idx) = (self.slots, (self.start + self.len) % self.slots);
        col_write(&mut self.cpu, slots, idx, pct_in(sample.cpu_percent));
        col_write(
            &mut self.host_cpu,
            slots,
            idx,
            pct_in(sample.host_cpu_percent),
        );
        col_write(
            &mut self.memory_percent,
            slots,
            idx,
            pct_in(sample.memory_percent),
        );
        col_write(
            &mut self.memory_used,
            slots,
            idx,
            kib_in(sample.memory_used_kib),
        );
        let rates = [
            sample.disk_read_bps,
            sample.disk_write_bps,
            sample.net_rx_bps,
            sample.net_tx_bps,
        ];
        for (c, v) in self.rates.iter_mut().zip(rates) {
            col_write(c, slots, idx, rate_in(v));
        }
        self.len += 1;
    }

    /// The `i`th sample, oldest first.
    fn get(&self, i: usize) -> Sample {
        let idx = (self.start + i) % self.slots;
        Sample {
            cpu_percent: pct_out(col_read(&self.cpu, idx)),
            host_cpu_percent: pct_out(col_read(&self.host_cpu, idx)),
            memory_used_kib: kib_out(col_read(&self.memory_used, idx)),
            memory_percent: pct_out(col_read(&self.memory_percent, idx)),
            disk_read_bps: rate_out(col_read(&self.rates[0], idx)),
            disk_write_bps: rate_out(col_read(&self.rates[1], idx)),
            net_rx_bps: rate_out(col_read(&self.rates[2], idx)),
            net_tx_bps: rate_out(col_read(&self.rates[3], idx)),
        }
    }

    /// Changes the length, dropping the oldest samples if it shrinks.
    pub fn set_capacity(&mut self, capacity: usize) {
        let capacity = capacity.max(1);
        if capacity == self.capacity {
            return;
        }
        let keep: Vec<Sample> = self.last_n(capacity).collect();
        *self = SampleHistory::new(capacity);
        for s in keep {
            self.push(s);
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn latest(&self) -> Option<Sample> {
        self.len.checked_sub(1).map(|i| self.get(i))
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Sample> + ExactSizeIterator + '_ {
        (0..self.len).map(|i| self.get(i))
    }

    /// The last `n` samples, oldest first.
    pub fn last_n(&self, n: usize) -> impl Iterator<Item = Sample> + '_ {
        (self.len.saturating_sub(n)..self.len).map(|i| self.get(i))
    }

    /// Heap bytes held (for tests and the benchmark notes).
    pub fn heap_bytes(&self) -> usize {
        let n = |present: bool, size: usize| if present { self.slots * size } else { 0 };
        n(self.cpu.is_some(), 2)
            + n(self.host_cpu.is_some(), 2)
            + n(self.memory_percent.is_some(), 2)
            + n(self.memory_used.is_some(), 4)
            + self.rates.iter().map(|c| n(c.is_some(), 4)).sum::<usize>()
    }
}

impl PartialEq for SampleHistory {
    fn eq(&self, other: &Self) -> bool {
        self.capacity == other.capacity && self.len == other.len && self.iter().eq(other.iter())
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

/// The counters of a guest's previous reading that rates need.
#[derive(Clone, Copy, Debug)]
struct Counters {
    at: Instant,
    cpu_time_ns: Option<u64>,
    disk_read_bytes: Option<u64>,
    disk_write_bytes: Option<u64>,
    net_rx_bytes: Option<u64>,
    net_tx_bytes: Option<u64>,
}

impl Counters {
    fn of(stats: &DomainStats, at: Instant) -> Self {
        Counters {
            at,
            cpu_time_ns: stats.cpu_time_ns,
            disk_read_bytes: stats.disk_read_bytes,
            disk_write_bytes: stats.disk_write_bytes,
            net_rx_bytes: stats.net_rx_bytes,
            net_tx_bytes: stats.net_tx_bytes,
        }
    }
}

/// Turns successive counter readings into samples.
#[derive(Debug, Default)]
pub struct Sampler {
    previous: HashMap<String, Counters>,
    host_previous: Option<HostStats>,
}

impl Sampler {
    /// A sample for one guest from its new counters. `host_cpus` is the
    /// number of host CPUs (for the host-relative CPU figure).
    pub fn sample(&mut self, stats: &DomainStats, now: Instant, host_cpus: u32) -> Sample {
        self.sample_with(stats, None, now, host_cpus)
    }

    /// As [`Sampler::sample`], with the guest's vCPU count as listed for
    /// when the backend's statistics leave it out (libvirt answers it
    /// only with the costlier per-vCPU group).
    pub fn sample_with(
        &mut self,
        stats: &DomainStats,
        listed_vcpus: Option<u32>,
        now: Instant,
        host_cpus: u32,
    ) -> Sample {
        let fresh = Counters::of(stats, now);
        let prev = match self.previous.get_mut(stats.uuid.as_str()) {
            Some(p) => Some(std::mem::replace(p, fresh)),
            None => {
                self.previous.insert(stats.uuid.clone(), fresh);
                None
            }
        };
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
        let Some(prev) = prev else { return s };
        let seconds = now.duration_since(prev.at).as_secs_f64();
        // Test-driver CPU time advances for paused guests too: CPU use is
        // shown for running guests only.
        let running = matches!(
            stats.state,
            Some(DomainState::Running) | Some(DomainState::Blocked) | None
        );
        if running {
            if let Some(cpu_ns_per_s) = rate(prev.cpu_time_ns, stats.cpu_time_ns, seconds) {
                let busy = cpu_ns_per_s / 1e9 * 100.0;
                let vcpus = stats.vcpus.or(listed_vcpus).unwrap_or(1).max(1) as f64;
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
    fn listed_vcpus_stand_in_for_missing_ones() {
        let mut sampler = Sampler::default();
        let t0 = Instant::now();
        let mut st = stats(0, 1, DomainState::Running);
        st.vcpus = None;
        sampler.sample_with(&st, Some(4), t0, 8);
        st.cpu_time_ns = Some(1_000_000_000);
        let s = sampler.sample_with(&st, Some(4), t0 + Duration::from_secs(1), 8);
        assert_eq!(s.cpu_percent, Some(25.0));
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

    fn sample(i: u32) -> Sample {
        Sample {
            cpu_percent: Some(i as f32 / 4.0),
            host_cpu_percent: Some(12.5),
            memory_used_kib: Some(1024 * i as u64),
            memory_percent: Some(50.0),
            ..Default::default()
        }
    }

    #[test]
    fn sample_history_round_trips_and_is_bounded() {
        let mut h = SampleHistory::new(3);
        assert!(h.is_empty());
        assert_eq!(h.latest(), None);
        for i in 0..10 {
            h.push(sample(i));
        }
        assert_eq!(h.len(), 3);
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            [sample(7), sample(8), sample(9)]
        );
        assert_eq!(h.last_n(2).collect::<Vec<_>>(), [sample(8), sample(9)]);
        assert_eq!(h.latest(), Some(sample(9)));
        h.set_capacity(1);
        assert_eq!(h.iter().collect::<Vec<_>>(), [sample(9)]);
        h.set_capacity(5);
        h.push(sample(10));
        assert_eq!(h.iter().collect::<Vec<_>>(), [sample(9), sample(10)]);
    }

    #[test]
    fn sample_history_grows_past_its_first_allocation() {
        let mut h = SampleHistory::new(1000);
        for i in 0..1200 {
            h.push(Sample {
                net_rx_bps: Some(i as f64),
                ..Default::default()
            });
        }
        assert_eq!(h.len(), 1000);
        let rx: Vec<f64> = h.iter().map(|s| s.net_rx_bps.unwrap()).collect();
        assert_eq!(rx.first(), Some(&200.0));
        assert_eq!(rx.last(), Some(&1199.0));
        assert!(rx.windows(2).all(|w| w[1] == w[0] + 1.0));
        assert!(h.iter().all(|s| s.cpu_percent.is_none()));
    }

    #[test]
    fn sample_history_is_compact() {
        // A stopped guest: memory only. A running one: CPU and memory.
        let mut stopped = SampleHistory::new(120);
        let mut running = SampleHistory::new(120);
        for i in 0..200 {
            stopped.push(Sample {
                memory_used_kib: Some(4096),
                memory_percent: Some(100.0),
                ..Default::default()
            });
            running.push(sample(i));
        }
        assert_eq!(stopped.heap_bytes(), 120 * 6);
        assert_eq!(running.heap_bytes(), 120 * 10);
        assert_eq!(SampleHistory::new(120).heap_bytes(), 0);
        assert_eq!(running.latest().unwrap().host_cpu_percent, Some(12.5));
        // Percentages keep hundredths; rates keep f32 precision.
        let mut h = SampleHistory::new(2);
        h.push(Sample {
            cpu_percent: Some(33.333),
            disk_read_bps: Some(1.5e6),
            ..Default::default()
        });
        let s = h.latest().unwrap();
        assert_eq!(s.cpu_percent, Some(33.33));
        assert_eq!(s.disk_read_bps, Some(1.5e6));
        assert_eq!(s.disk_write_bps, None);
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
