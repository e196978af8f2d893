//! `virt-manager vnc-direct add|remove|list`: the plain VNC servers of
//! the vnc-direct backend.
//!
//! Everything goes through the plugin (`define_domain`, `domain_action`
//! Delete, `list_domains`), never the plugin's file, so the CLI works with
//! whatever list format the installed plugin keeps. Passwords go to the
//! host's keyring (crate::credentials), never to the plugin.

use std::io::{Read, Write};

use serde::Serialize;
use virt_manager_plugin_api::{DomainAction, DomainInfo};

use super::{Cli, CliError};
use crate::credentials::{self, CredentialError, Target};
use crate::plugin_host::{uri_scheme, BackendConnection, PluginRegistry};

const SCHEME: &str = "vnc-direct";
const DEFAULT_URI: &str = "vnc-direct:///";

#[derive(Debug, Clone, clap::Args)]
pub struct VncDirectArgs {
    #[command(subcommand)]
    pub command: VncDirectCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum VncDirectCommand {
    /// Add a VNC server
    Add {
        /// A name for it, unique in the list
        name: String,
        /// Where it listens; PORT is the TCP port (5900 + display number),
        /// IPv6 addresses in brackets: [2001:db8::7]:5900
        #[arg(value_name = "HOST:PORT")]
        address: String,
        /// Read its password from standard input and keep it in the keyring
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a VNC server, and its saved password
    Remove {
        /// The server's name
        name: String,
    },
    /// List the VNC servers and whether they answer
    List {
        /// Print a JSON array of {name, uuid, host, port, state}
        #[arg(long)]
        json: bool,
    },
}

/// One server as `list --json` prints it (a stable interface).
#[derive(Serialize)]
struct Row {
    name: String,
    uuid: String,
    host: String,
    port: u16,
    state: &'static str,
}

/// `HOST:PORT` or `[IPV6]:PORT`, as host and port.
fn parse_address(address: &str) -> Result<(String, u16), CliError> {
    let bad = || {
        CliError::Other(format!(
            "“{address}” is not HOST:PORT (e.g. 192.0.2.7:5901 or [2001:db8::7]:5900)"
        ))
    };
    let (host, port) = match address.strip_prefix('[') {
        Some(rest) => {
            let (host, port) = rest.split_once(']').ok_or_else(bad)?;
            (host, port.strip_prefix(':').ok_or_else(bad)?)
        }
        None => address.rsplit_once(':').ok_or_else(bad)?,
    };
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || port == 0 || (host.contains(':') && !address.starts_with('[')) {
        return Err(bad());
    }
    Ok((host.to_owned(), port))
}

/// `host:port`, with IPv6 addresses in brackets.
fn show_address(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The connection to the vnc-direct plugin (`--connect` may name another
/// list file: `vnc-direct:///PATH`).
fn open(cli: &Cli) -> Result<BackendConnection, CliError> {
    let uri = cli.connect.as_deref().unwrap_or(DEFAULT_URI);
    if uri_scheme(uri) != Some(SCHEME) {
        return Err(CliError::Other(format!(
            "vnc-direct manages {DEFAULT_URI} lists, not “{uri}”"
        )));
    }
    let plugins = PluginRegistry::discover();
    let backend = plugins.backend_for_uri(uri).ok_or_else(|| {
        CliError::Other(format!(
            "the vnc-direct plugin is not installed: no plugin on the search path handles \
             {SCHEME} URIs (see `virt-manager plugins`)"
        ))
    })?;
    backend.open(uri).map_err(|e| CliError::Connect {
        uri: uri.to_owned(),
        reason: e.message,
    })
}

/// A listed server's address, from its configuration.
fn address_of(conn: &BackendConnection, uuid: &str) -> Result<(String, u16), CliError> {
    #[derive(serde::Deserialize)]
    struct Native {
        host: String,
        port: u16,
    }
    let config = conn
        .domain_config(uuid)
        .map_err(|e| CliError::Other(e.message))?;
    config
        .native
        .as_deref()
        .and_then(|n| serde_json::from_str::<Native>(n).ok())
        .map(|n| (n.host, n.port))
        .ok_or_else(|| CliError::Other(format!("the plugin gave no address for {uuid}")))
}

fn read_password() -> Result<String, CliError> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let password = input
        .strip_suffix('\n')
        .map(|p| p.strip_suffix('\r').unwrap_or(p))
        .unwrap_or(&input);
    if password.is_empty() {
        return Err(CliError::Other("no password on standard input".into()));
    }
    Ok(password.to_owned())
}

fn add(cli: &Cli, name: &str, address: &str, password_stdin: bool) -> Result<(), CliError> {
    let (host, port) = parse_address(address)?;
    // Read first: a missing password must not leave a half-added server.
    let password = password_stdin.then(read_password).transpose()?;
    let conn = open(cli)?;
    let spec = serde_json::json!({"name": name, "host": host, "port": port});
    let added = conn
        .define_domain(&spec)
        .map_err(|e| CliError::Other(e.message))?;
    println!(
        "Added {} ({}), {}",
        added.name,
        show_address(&host, port),
        added.state
    );
    let Some(password) = password else {
        return Ok(());
    };
    match credentials::store_password(&Target::Server { host, port }, &password) {
        Ok(()) => println!("The password is saved in the keyring."),
        Err(CredentialError::NoKeyring(why)) => eprintln!(
            "virt-manager: {why}: the password was not saved, you will be asked for it when \
             connecting"
        ),
        Err(e) => {
            return Err(CliError::Other(format!(
                "{name} was added, but its password could not be saved: {e}"
            )))
        }
    }
    Ok(())
}

fn find(conn: &BackendConnection, name: &str) -> Result<DomainInfo, CliError> {
    conn.list_domains()
        .map_err(|e| CliError::Other(e.message))?
        .into_iter()
        .find(|d| d.name == name)
        .ok_or_else(|| CliError::Other(format!("there is no VNC server named “{name}”")))
}

fn remove(cli: &Cli, name: &str) -> Result<(), CliError> {
    let conn = open(cli)?;
    let server = find(&conn, name)?;
    let (host, port) = address_of(&conn, &server.uuid)?;
    conn.domain_action(
        &server.uuid,
        &DomainAction::Delete {
            delete_storage: false,
        },
    )
    .map_err(|e| CliError::Other(e.message))?;
    println!("Removed {name}");
    // The password belongs to the address: keep it while another entry
    // still points there.
    let still_used = conn
        .list_domains()
        .map_err(|e| CliError::Other(e.message))?
        .iter()
        .any(|d| address_of(&conn, &d.uuid).is_ok_and(|a| a == (host.clone(), port)));
    if !still_used {
        match credentials::delete_password(&Target::Server { host, port }) {
            Ok(()) | Err(CredentialError::NoKeyring(_)) => {}
            Err(e) => eprintln!("virt-manager: the saved password was not removed: {e}"),
        }
    }
    Ok(())
}

fn list(cli: &Cli, json: bool) -> Result<(), CliError> {
    let conn = open(cli)?;
    let domains = conn
        .list_domains()
        .map_err(|e| CliError::Other(e.message))?;
    let mut rows = Vec::with_capacity(domains.len());
    for d in domains {
        let (host, port) = address_of(&conn, &d.uuid)?;
        rows.push(Row {
            name: d.name,
            uuid: d.uuid,
            host,
            port,
            state: d.state.as_str(),
        });
    }
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &rows).map_err(std::io::Error::from)?;
        writeln!(out)?;
        return Ok(());
    }
    let width = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    writeln!(out, "{:<width$}  {:<7}  Address", "Name", "State")?;
    for r in &rows {
        let address = show_address(&r.host, r.port);
        writeln!(out, "{:<width$}  {:<7}  {address}", r.name, r.state)?;
    }
    Ok(())
}

pub fn run(cli: &Cli, args: &VncDirectArgs) -> Result<(), CliError> {
    match &args.command {
        VncDirectCommand::Add {
            name,
            address,
            password_stdin,
        } => add(cli, name, address, *password_stdin),
        VncDirectCommand::Remove { name } => remove(cli, name),
        VncDirectCommand::List { json } => list(cli, *json),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(parse_address("h:5901").unwrap(), ("h".into(), 5901));
        assert_eq!(parse_address("[::1]:5900").unwrap(), ("::1".into(), 5900));
        for bad in [
            "h",
            "h:",
            "h:0",
            ":5900",
            "::1:5900",
            "[::1]5900",
            "h:99999",
        ] {
            assert!(parse_address(bad).is_err(), "{bad}");
        }
        assert_eq!(show_address("::1", 5900), "[::1]:5900");
    }
}
