use std::process::ExitCode;

use clap::Parser;
use virt_manager::cli::{self, Cli, Command};
use virt_manager::plugin_host::PluginRegistry;
use virt_manager::{application, demo, i18n, logging};

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.debug);
    i18n::init();

    match cli.command {
        Some(Command::List { json }) => {
            let result = demo::candidate_uris(cli.connect.as_deref(), cli.demo)
                .map_err(cli::CliError::from)
                .and_then(|candidates| {
                    let plugins = PluginRegistry::discover();
                    cli::run_list(&plugins, &candidates, json, &mut std::io::stdout().lock())
                });
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("virt-manager: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        None => {
            let status = application::run();
            ExitCode::from(status.get() as u8)
        }
    }
}
