//! `virConnectGetAllDomainStats`, without the leak.
//!
//! The `virt` crate's `get_all_domain_stats` frees only the array and
//! leaks every record (and its typed parameters) on each call: at one call
//! per tick that is a steady leak. This wrapper copies each record's
//! parameters into Rust values and frees the whole list with
//! `virDomainStatsRecordListFree`, on every path (a guard owns the list).
//!
//! Parameters are read by walking each record's `virTypedParameter` array
//! once: block and interface statistics have numbered names
//! (`block.3.rd.bytes`), so looking names up one by one would cost more.

use std::ffi::CStr;

use virt::connect::Connect;
use virt::domain::Domain;
use virt::error::Error;
use virt_sys as sys;

/// One typed parameter's value, copied out of libvirt's memory.
#[derive(Clone, Debug, PartialEq)]
pub enum TypedValue {
    Int(i32),
    UInt(u32),
    LLong(i64),
    ULLong(u64),
    Double(f64),
    Boolean(bool),
    String(String),
}

impl TypedValue {
    /// The value as an unsigned counter, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            TypedValue::Int(v) => u64::try_from(v).ok(),
            TypedValue::UInt(v) => Some(u64::from(v)),
            TypedValue::LLong(v) => u64::try_from(v).ok(),
            TypedValue::ULLong(v) => Some(v),
            _ => None,
        }
    }
}

/// One guest's statistics record.
pub struct StatsRecord {
    /// Our own reference to the guest (the list's is freed with it).
    pub domain: Domain,
    /// Parameters in libvirt's order: `state.state`, `cpu.time`, ...
    pub params: Vec<(String, TypedValue)>,
}

/// Frees the record list however the caller leaves.
struct RecordList(*mut sys::virDomainStatsRecordPtr);

impl Drop for RecordList {
    fn drop(&mut self) {
        // Frees every record, its parameters and its domain reference,
        // then the array. Accepts NULL.
        unsafe { sys::virDomainStatsRecordListFree(self.0) }
    }
}

/// Statistics of the guests on `conn` in one call. `stats` is a mask of
/// `VIR_DOMAIN_STATS_*` groups, `flags` of
/// `VIR_CONNECT_GET_ALL_DOMAINS_STATS_*` (0: every guest).
pub fn get_all_domain_stats(
    conn: &Connect,
    stats: u32,
    flags: u32,
) -> Result<Vec<StatsRecord>, Error> {
    let mut raw: *mut sys::virDomainStatsRecordPtr = std::ptr::null_mut();
    let n = unsafe { sys::virConnectGetAllDomainStats(conn.as_ptr(), stats, &mut raw, flags) };
    if n < 0 {
        return Err(Error::last_error());
    }
    let list = RecordList(raw);
    let mut records = Vec::with_capacity(n as usize);
    for i in 0..n as usize {
        // Safety: libvirt returned `n` valid record pointers (the array
        // is NULL-terminated after them).
        let record = unsafe { &**list.0.add(i) };
        // Take a reference of our own so the Domain outlives the list.
        if unsafe { sys::virDomainRef(record.dom) } < 0 {
            return Err(Error::last_error());
        }
        let domain = unsafe { Domain::from_ptr(record.dom) };
        let params = unsafe { read_params(record.params, record.nparams) };
        records.push(StatsRecord { domain, params });
    }
    Ok(records)
}

/// Copies a typed parameter array into owned values.
///
/// # Safety
/// `params` must point to `n` initialised parameters (or `n` <= 0).
pub(crate) unsafe fn read_params(
    params: sys::virTypedParameterPtr,
    n: std::ffi::c_int,
) -> Vec<(String, TypedValue)> {
    if params.is_null() || n <= 0 {
        return Vec::new();
    }
    let slice = unsafe { std::slice::from_raw_parts(params, n as usize) };
    slice
        .iter()
        .filter_map(|p| {
            // `field` is NUL-terminated within its 80 bytes.
            let name = unsafe { CStr::from_ptr(p.field.as_ptr()) }
                .to_string_lossy()
                .into_owned();
            let value = unsafe {
                match p.type_ as u32 {
                    sys::VIR_TYPED_PARAM_INT => TypedValue::Int(p.value.i),
                    sys::VIR_TYPED_PARAM_UINT => TypedValue::UInt(p.value.ui),
                    sys::VIR_TYPED_PARAM_LLONG => TypedValue::LLong(p.value.l),
                    sys::VIR_TYPED_PARAM_ULLONG => TypedValue::ULLong(p.value.ul),
                    sys::VIR_TYPED_PARAM_DOUBLE => TypedValue::Double(p.value.d),
                    sys::VIR_TYPED_PARAM_BOOLEAN => TypedValue::Boolean(p.value.b != 0),
                    sys::VIR_TYPED_PARAM_STRING if !p.value.s.is_null() => {
                        TypedValue::String(CStr::from_ptr(p.value.s).to_string_lossy().into_owned())
                    }
                    // A type newer than these bindings: skip it.
                    _ => return None,
                }
            };
            Some((name, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_conn() -> Connect {
        crate::runtime::init();
        let uri = concat!(
            "test://",
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/few.xml"
        );
        Connect::open(Some(uri)).expect("test driver")
    }

    #[test]
    fn every_guest_has_a_state() {
        let mut conn = test_conn();
        let records = get_all_domain_stats(&conn, sys::VIR_DOMAIN_STATS_STATE, 0).unwrap();
        assert_eq!(records.len(), 5);
        for r in &records {
            let state = r
                .params
                .iter()
                .find(|(k, _)| k == "state.state")
                .and_then(|(_, v)| v.as_u64());
            assert!(state.is_some(), "{:?}", r.params);
            // The domain reference is ours and usable after the free.
            assert!(r.domain.get_name().is_ok());
        }
        drop(records);
        conn.close().unwrap();
    }

    /// Resident set size in KiB, from /proc.
    fn rss_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// 200 guests, 2000 calls: the virt crate's wrapper leaks some 400,000
    /// records here (tens of MiB); this one must stay flat.
    #[test]
    fn repeated_calls_do_not_leak() {
        crate::runtime::init();
        let uri = concat!(
            "test://",
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/many.xml"
        );
        let mut conn = Connect::open(Some(uri)).unwrap();
        let call = || {
            let r = get_all_domain_stats(&conn, sys::VIR_DOMAIN_STATS_STATE, 0).unwrap();
            assert_eq!(r.len(), 200);
        };
        // Warm up allocator pools before measuring.
        for _ in 0..200 {
            call();
        }
        let before = rss_kib();
        for _ in 0..2000 {
            call();
        }
        let grown = rss_kib().saturating_sub(before);
        eprintln!("RSS grew by {grown} KiB over 2000 calls of 200 records");
        assert!(grown < 4096, "RSS grew by {grown} KiB over 2000 calls");
        conn.close().unwrap();
    }
}
