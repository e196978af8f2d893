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
use super::ffi::{field, table_size, HOST_API};
use crate::i18n::{gettext, gettext_f};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}", gettext_f("refused: {reason}", &[("reason", .0)]))]
    Untrusted(String),
    #[error("{}", gettext_f("not a loadable library: {reason}", &[("reason", .0)]))]
    NotALibrary(String),
    #[error(
        "{}",
        gettext("not a Virtual Machine Manager plugin (no `virt_manager_plugin_v1` symbol)")
    )]
    NoEntrySymbol,
    #[error("{}", gettext_f("incompatible: {reason}", &[("reason", .0)]))]
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
    unsafe { check_descriptor(desc) }
}

/// The version and size checks, before anything else in the descriptor
/// is read; fields are read one by one, since a 1.0 descriptor is shorter
/// than this version's struct.
///
/// # Safety
/// `desc` points to a plugin's static descriptor of at least its `size`.
unsafe fn check_descriptor(desc: *const PluginDescriptor) -> Result<LoadedPlugin, LoadError> {
    let size = unsafe { table_size(desc) };
    // The size and the versions are at the same offsets in every version.
    let (Some(major), Some(minor)) = (
        field!(desc, size, PluginDescriptor, abi_major),
        field!(desc, size, PluginDescriptor, abi_minor),
    ) else {
        return Err(LoadError::Incompatible(format!(
            "descriptor of {size} bytes is too short"
        )));
    };
    if major != abi::ABI_MAJOR {
        return Err(LoadError::Incompatible(format!(
            "built for plugin ABI {major}.{minor}, this version of the application supports {}.x",
            abi::ABI_MAJOR
        )));
    }
    if size < abi::DESCRIPTOR_MIN_SIZE {
        return Err(LoadError::Incompatible(format!(
            "descriptor is {size} bytes, smaller than the {} of ABI 1.0",
            abi::DESCRIPTOR_MIN_SIZE
        )));
    }
    let v1_0 = "checked: a 1.0 descriptor";
    let name = c_string(
        field!(desc, size, PluginDescriptor, name).expect(v1_0),
        "name",
    )?;
    let version = c_string(
        field!(desc, size, PluginDescriptor, version).expect(v1_0),
        "version",
    )?;
    let backend_ptr = field!(desc, size, PluginDescriptor, backend).expect(v1_0);
    let backend = if backend_ptr.is_null() {
        None
    } else {
        let b = unsafe { BackendPlugin::new(&name, backend_ptr) }.map_err(LoadError::Broken)?;
        Some(Arc::new(b))
    };
    // `decoders` arrived in 1.1: absent from a 1.0 descriptor.
    let decoders = match field!(desc, size, PluginDescriptor, decoders) {
        Some(ptr) if !ptr.is_null() => {
            let d = unsafe { DecoderPlugin::new(&name, ptr) }.map_err(LoadError::Broken)?;
            Some(Arc::new(d))
        }
        _ => None,
    };
    if backend.is_none() && decoders.is_none() {
        return Err(LoadError::Broken(
            "the plugin provides neither a backend nor decoders".into(),
        ));
    }
    let (abi_major, abi_minor) = (major, minor);
    Ok(LoadedPlugin {
        name,
        version,
        abi_major,
        abi_minor,
        backend,
        decoders,
    })
}
