//! The command line: options of the application window (as virt-manager
//! has them) and subcommands that run without a window.

pub mod capture;
mod list;
pub mod plugins;
pub mod vnc_direct;

use clap::{Parser, Subcommand};

pub use list::{open_first, run_list};

use crate::plugin_host::PluginRegistry;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "virt-manager",
    version,
    about = "Manage virtual machines: guests, consoles and hosts",
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Connect to this hypervisor URI (e.g. qemu:///system, qemu+ssh://host/system)
    #[arg(short = 'c', long, value_name = "URI", global = true)]
    pub connect: Option<String>,

    /// Open the demo host (libvirt's test driver) instead of a real hypervisor
    #[arg(long, global = true, conflicts_with = "connect")]
    pub demo: bool,

    /// Print debug messages
    #[arg(long, global = true)]
    pub debug: bool,

    /// Accepted for compatibility with virt-manager; this application never forks
    #[arg(long, hide = true)]
    pub no_fork: bool,

    /// Show the console of this guest (name or UUID)
    #[arg(long, value_name = "NAME")]
    pub show_domain_console: Option<String>,

    /// Show the details of this guest (name or UUID)
    #[arg(long, value_name = "NAME")]
    pub show_domain_editor: Option<String>,

    /// Show the performance graphs of this guest (name or UUID)
    #[arg(long, value_name = "NAME")]
    pub show_domain_performance: Option<String>,

    /// Show the host summary of the connection
    #[arg(long)]
    pub show_host_summary: bool,

    /// Run as a D-Bus activated service (no window until asked)
    #[arg(long = "gapplication-service", hide = true)]
    pub gapplication_service: bool,

    /// Open a console on this VNC server: vnc://HOST[:PORT]
    #[arg(value_name = "URL", value_parser = parse_url)]
    pub url: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

fn parse_url(s: &str) -> Result<String, String> {
    crate::uri::parse_vnc_url(s).map(|_| s.to_owned())
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// List the guests of a connection
    List {
        /// Print a JSON array of {name, uuid, state, vcpus, memory_kib}
        #[arg(long)]
        json: bool,
    },
    /// Connect to a VNC server or a guest's console and save its screen as PNG
    Capture(capture::CaptureArgs),
    /// List the plugins found, with what they provide and whether they loaded
    Plugins(plugins::PluginsArgs),
    /// Manage the plain VNC servers of the vnc-direct backend
    VncDirect(vnc_direct::VncDirectArgs),
}

/// Runs a subcommand to completion.
pub fn run(cli: &Cli, command: &Command) -> Result<(), CliError> {
    match command {
        Command::List { json } => {
            let candidates = crate::demo::candidate_uris(cli.connect.as_deref(), cli.demo)?;
            let plugins = PluginRegistry::discover();
            run_list(&plugins, &candidates, *json, &mut std::io::stdout().lock())
        }
        Command::Capture(args) => capture::run(cli, args),
        Command::Plugins(args) => plugins::run(cli, args),
        Command::VncDirect(args) => vnc_direct::run(cli, args),
    }
}

/// A subcommand's failure: printed as one line, exit status 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot connect to {uri}: {reason}")]
    Connect { uri: String, reason: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}
