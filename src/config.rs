//! Build-time configuration: identity and installation directories.
//!
//! The directories come from build.rs, which reads `PREFIX` (and the
//! more specific `PLUGINDIR`, `LOCALEDIR`, `DATADIR`) from the build
//! environment, as `make install` sets them.

pub const APP_ID: &str = "org.virt_manager.VirtManager";
/// The public D-Bus API's own, versioned name.
pub const DBUS_API_NAME: &str = "org.virt_manager.VirtManager1";
pub const APP_NAME: &str = "Virtual Machine Manager";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const WEBSITE: &str = "https://github.com/virt-manager/virt-manager-rs";
/// gettext text domain: the application ID, since Debian's virt-manager
/// owns the `virt-manager` domain under /usr/share/locale.
pub const GETTEXT_PACKAGE: &str = APP_ID;
pub const RESOURCE_BASE: &str = "/org/virt_manager/VirtManager";

pub const PREFIX: &str = env!("VIRT_MANAGER_PREFIX");
pub const PLUGINDIR: &str = env!("VIRT_MANAGER_PLUGINDIR");
pub const LOCALEDIR: &str = env!("VIRT_MANAGER_LOCALEDIR");
pub const DATADIR: &str = env!("VIRT_MANAGER_DATADIR");

/// Compiled GSettings schema and translations of this build, so that
/// `cargo run` and `target/release/virt-manager` work uninstalled.
pub const BUILD_SCHEMA_DIR: &str = env!("VIRT_MANAGER_BUILD_SCHEMA_DIR");
pub const BUILD_LOCALE_DIR: &str = env!("VIRT_MANAGER_BUILD_LOCALE_DIR");
