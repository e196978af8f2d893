//! Loading one library file and checking that it is a plugin we can use.
//!
//! Nothing a library file does short of crashing makes this fail hard:
//! each problem becomes a [`LoadError`] with a reason for the user, and the
//! caller skips the file. Loaded libraries are never unloaded (see
//! docs/plugins.md: unloading Rust code with thread-locals or live
//! callbacks is unsound).

use std::ffi::CStr;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use virt_manager_plugin_api::abi::{self, EntryFn, PluginDescriptor};

use super::backend::BackendPlugin;
use super::decoder::DecoderPlugin;
use super::ffi::HOST_API;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("refused: {0}")]
    Untrusted(String),
    #[error("not a loadable library: {0}")]
    NotALibrary(String),
    #[error("not a Virtual Machine Manager plugin (no `virt_manager_plugin_v1` symbol)")]
    NoEntrySymbol,
    #[error("incompatible: {0}")]
    Incompatible(String),
    #[error("{0}")]
    Broken(String),
}

/// A library that passed every check.
#[derive(Debug)]
pub struct LoadedPlugin {
    pub name: String,
    pub version: String,
    pub abi_major: u32,
    pub abi_minor: u32,
    pub backend: Option<Arc<BackendPlugin>>,
    pub decoders: Option<Arc<DecoderPlugin>>,
}

/// Refuses files and directories that users other than the owner (and
/// root) could have replaced. A group-writable file is accepted only when
/// the group is the owner's own primary group (Debian's user private
/// groups make `cargo build` output group-writable).
pub fn check_trust(path: &Path) -> Result<(), LoadError> {
    for p in [path, path.parent().unwrap_or(Path::new("/"))] {
        let meta = std::fs::metadata(p)
            .map_err(|e| LoadError::Untrusted(format!("cannot inspect {}: {e}", p.display())))?;
        let mode = meta.mode();
        if mode & 0o002 != 0 {
            return Err(LoadError::Untrusted(format!(
                "{} is writable by every user",
                p.display()
            )));
        }
        if mode & 0o020 != 0 && !is_private_group(meta.uid(), meta.gid()) {
            return Err(LoadError::Untrusted(format!(
                "{} is writable by its group, which other users may belong to",
                p.display()
            )));
        }
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me && meta.uid() != 0 {
            return Err(LoadError::Untrusted(format!(
                "{} belongs to another user (uid {})",
                p.display(),
                meta.uid()
            )));
        }
    }
    Ok(())
}

/// True when `gid` is the primary group of `uid` and bears its name.
fn is_private_group(uid: u32, gid: u32) -> bool {
    unsafe {
        let pw = libc::getpwuid(uid);
        let gr = libc::getgrgid(gid);
        if pw.is_null() || gr.is_null() || (*pw).pw_gid != gid {
            return false;
        }
        let members = (*gr).gr_mem;
        let no_other_members = members.is_null() || (*members).is_null();
        CStr::from_ptr((*pw).pw_name) == CStr::from_ptr((*gr).gr_name) && no_other_members
    }
}

fn c_string(ptr: *const std::ffi::c_char, what: &str) -> Result<String, LoadError> {
    if ptr.is_null() {
        return Err(LoadError::Broken(format!("the descriptor has no {what}")));
    }
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .map(str::to_owned)
        .map_err(|_| LoadError::Broken(format!("the descriptor's {what} is not UTF-8")))
}

/// An error and its causes in one line (libloading keeps dlerror()'s text
/// in the source).
fn with_sources(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Loads `path`, calls its entry point and checks what it describes.
pub fn load(path: &Path) -> Result<LoadedPlugin, LoadError> {
    check_trust(path)?;
    let flags = libc::RTLD_NOW | libc::RTLD_LOCAL;
    let lib = unsafe { libloading::os::unix::Library::open(Some(path), flags) }
        .map_err(|e| LoadError::NotALibrary(with_sources(&e)))?;
    // Never unloaded, whatever happens next (see the module comment).
    let lib: &'static libloading::os::unix::Library = Box::leak(Box::new(lib));

    let entry: EntryFn = unsafe { lib.get::<EntryFn>(abi::ENTRY_SYMBOL) }
        .map(|sym| *sym)
        .map_err(|_| LoadError::NoEntrySymbol)?;
    let desc = unsafe { entry(&HOST_API) };
    if desc.is_null() {
        return Err(LoadError::Broken(
            "the entry point returned no descriptor".into(),
        ));
    }
    check_descriptor(unsafe { &*desc })
}

/// The version and size checks, before anything else in the descriptor
/// is read.
fn check_descriptor(desc: &'static PluginDescriptor) -> Result<LoadedPlugin, LoadError> {
    // `size` and the versions are at the same offsets in every version.
    if desc.abi_major != abi::ABI_MAJOR {
        return Err(LoadError::Incompatible(format!(
            "built for plugin ABI {}.{}, this version of the application supports {}.x",
            desc.abi_major,
            desc.abi_minor,
            abi::ABI_MAJOR
        )));
    }
    if desc.size < abi::DESCRIPTOR_MIN_SIZE {
        return Err(LoadError::Incompatible(format!(
            "descriptor is {} bytes, smaller than the {} of ABI 1.0",
            desc.size,
            abi::DESCRIPTOR_MIN_SIZE
        )));
    }
    let name = c_string(desc.name, "name")?;
    let version = c_string(desc.version, "version")?;
    let backend = if desc.backend.is_null() {
        None
    } else {
        let b = unsafe { BackendPlugin::new(&name, desc.backend) }.map_err(LoadError::Broken)?;
        Some(Arc::new(b))
    };
    // `decoders` arrived in 1.1: a 1.0 descriptor is shorter.
    let has_decoders = abi::has_field(
        desc.size,
        std::mem::offset_of!(PluginDescriptor, decoders),
        std::mem::size_of::<*const abi::DecoderVtable>(),
    );
    let decoders = if !has_decoders || desc.decoders.is_null() {
        None
    } else {
        let d = unsafe { DecoderPlugin::new(&name, desc.decoders) }.map_err(LoadError::Broken)?;
        Some(Arc::new(d))
    };
    if backend.is_none() && decoders.is_none() {
        return Err(LoadError::Broken(
            "the plugin provides neither a backend nor decoders".into(),
        ));
    }
    Ok(LoadedPlugin {
        name,
        version,
        abi_major: desc.abi_major,
        abi_minor: desc.abi_minor,
        backend,
        decoders,
    })
}
