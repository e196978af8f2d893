//! `virt-manager plugins`: every plugin file found, what it provides, and
//! whether it loaded (with the reason when it did not).

use super::{Cli, CliError};

#[derive(Debug, Clone, clap::Args)]
pub struct PluginsArgs {}

pub fn run(_cli: &Cli, _args: &PluginsArgs) -> Result<(), CliError> {
    Err(CliError::Other("not implemented yet".into()))
}
