//! `virDomainOpenGraphicsFD` as an owned file descriptor.
//!
//! libvirt hands over a connected socket to the guest's display server;
//! it becomes ours to close. The `virt` crate returns it as a bare
//! integer: this module is where it gets an owner.

use std::os::fd::{FromRawFd, OwnedFd};

use virt::domain::Domain;
use virt::error::Error;

/// A socket connected to graphics device `idx` of a running guest.
/// `skip_auth` asks the server to skip its password check for this
/// client (libvirt already authorised the caller).
pub fn open_graphics_fd(dom: &Domain, idx: u32, skip_auth: bool) -> Result<OwnedFd, Error> {
    let flags = if skip_auth {
        virt_sys::VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH
    } else {
        0
    };
    let fd = dom.open_graphics_fd(idx, flags)? as i32;
    // Safety: on success libvirt returns a new descriptor that nobody else
    // owns or closes.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // Do not leak it into programs the host starts later.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFD);
        if fl >= 0 {
            libc::fcntl(fd, libc::F_SETFD, fl | libc::FD_CLOEXEC);
        }
    }
    Ok(owned)
}
