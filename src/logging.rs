//! Logging (tracing) to stderr: warnings by default, everything with
//! `--debug` (as virt-manager's flag), or as `RUST_LOG` says.

use tracing_subscriber::EnvFilter;

pub fn init(debug: bool) {
    let default = if debug { "debug" } else { "warn" };
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
