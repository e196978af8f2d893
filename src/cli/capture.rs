//! `virt-manager capture`: connect, take the first full frame (or every
//! update until the server closes), write a PNG.

use super::{Cli, CliError};

#[derive(Debug, Clone, clap::Args)]
pub struct CaptureArgs {}

pub fn run(_cli: &Cli, _args: &CaptureArgs) -> Result<(), CliError> {
    Err(CliError::Other("not implemented yet".into()))
}
