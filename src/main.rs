use std::process::ExitCode;

use clap::Parser;
use virt_manager::cli::{self, Cli};
use virt_manager::{application, i18n, logging};

fn main() -> ExitCode {
    // Started by ssh as the askpass helper of a running application.
    let args: Vec<String> = std::env::args().collect();
    if virt_manager::askpass::is_helper_invocation(&args) {
        return virt_manager::askpass::run_helper(&args[1]);
    }
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
