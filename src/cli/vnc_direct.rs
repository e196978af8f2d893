//! `virt-manager vnc-direct add|remove|list`: the plain VNC servers of
//! the vnc-direct backend.

use super::{Cli, CliError};

#[derive(Debug, Clone, clap::Args)]
pub struct VncDirectArgs {}

pub fn run(_cli: &Cli, _args: &VncDirectArgs) -> Result<(), CliError> {
    Err(CliError::Other("not implemented yet".into()))
}
