//! `virNodeGetCPUStats` and `virNodeGetMemoryStats`, which the `virt`
//! crate (0.4.3) does not wrap. Both use libvirt's two-call protocol: ask
//! for the number of fields, then fill a caller-owned array; nothing is
//! allocated by libvirt, so nothing needs freeing.

use std::ffi::c_int;

use virt::connect::Connect;
use virt::error::Error;
use virt_sys as sys;

/// The host's cumulative CPU times in nanoseconds, summed over all CPUs,
/// by field name (`kernel`, `user`, `idle`, `iowait` on Linux).
pub fn node_cpu_stats(conn: &Connect) -> Result<Vec<(String, u64)>, Error> {
    let mut n: c_int = 0;
    let all = sys::VIR_NODE_CPU_STATS_ALL_CPUS;
    if unsafe { sys::virNodeGetCPUStats(conn.as_ptr(), all, std::ptr::null_mut(), &mut n, 0) } < 0 {
        return Err(Error::last_error());
    }
    let empty = sys::virNodeCPUStats {
        field: [0; 80],
        value: 0,
    };
    let mut params = vec![empty; n.max(0) as usize];
    if n > 0
        && unsafe { sys::virNodeGetCPUStats(conn.as_ptr(), all, params.as_mut_ptr(), &mut n, 0) }
            < 0
    {
        return Err(Error::last_error());
    }
    params.truncate(n.max(0) as usize);
    Ok(params
        .iter()
        .map(|p| (field_name(&p.field), p.value))
        .collect())
}

/// The host's memory in KiB by field name (`total`, `free`, `buffers`,
/// `cached` on Linux), over all NUMA cells.
pub fn node_memory_stats(conn: &Connect) -> Result<Vec<(String, u64)>, Error> {
    let mut n: c_int = 0;
    let all = sys::VIR_NODE_MEMORY_STATS_ALL_CELLS;
    if unsafe { sys::virNodeGetMemoryStats(conn.as_ptr(), all, std::ptr::null_mut(), &mut n, 0) }
        < 0
    {
        return Err(Error::last_error());
    }
    let empty = sys::virNodeMemoryStats {
        field: [0; 80],
        value: 0,
    };
    let mut params = vec![empty; n.max(0) as usize];
    if n > 0
        && unsafe { sys::virNodeGetMemoryStats(conn.as_ptr(), all, params.as_mut_ptr(), &mut n, 0) }
            < 0
    {
        return Err(Error::last_error());
    }
    params.truncate(n.max(0) as usize);
    Ok(params
        .iter()
        .map(|p| (field_name(&p.field), p.value))
        .collect())
}

/// A fixed-size field name; libvirt NUL-terminates it, but do not read
/// past the array if it did not.
fn field_name(field: &[std::ffi::c_char; 80]) -> String {
    let bytes: Vec<u8> = field
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_driver_has_cpu_stats_but_no_memory_stats() {
        crate::runtime::init();
        let mut conn = Connect::open(Some("test:///default")).unwrap();
        let cpu = node_cpu_stats(&conn).unwrap();
        let names: Vec<&str> = cpu.iter().map(|(n, _)| n.as_str()).collect();
        for want in ["user", "idle"] {
            assert!(names.contains(&want), "{names:?}");
        }
        // libvirt 9.0's test driver does not implement memory stats; the
        // caller falls back to node info.
        assert!(node_memory_stats(&conn).is_err());
        conn.close().unwrap();
    }
}
