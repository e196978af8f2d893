use std::process::ExitCode;

use clap::Parser;
use virt_manager::cli::{self, Cli};
use virt_manager::{application, i18n, logging};

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.debug);
    i18n::init();

    match &cli.command {
        Some(command) => match cli::run(&cli, command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("virt-manager: {e}");
                ExitCode::FAILURE
            }
        },
        None => {
            let status = application::run(cli.gapplication_service);
            ExitCode::from(status.get() as u8)
        }
    }
}
