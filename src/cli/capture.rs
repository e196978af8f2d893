//! `virt-manager capture`: connect, take the first full frame (or every
//! update until the server closes), write a PNG.
//!
//! The target is a VNC server (`vnc://HOST:PORT`) or a guest's console
//! (`--connect URI --domain NAME`, through the backend's console
//! endpoint, usually an already connected socket). A full frame is the
//! moment every pixel has been painted since the last size change,
//! however many updates the server split it into.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{open_first, Cli, CliError};
use crate::plugin_host::PluginRegistry;
use crate::vnc::{
    encodings, ConnectOptions, Coverage, Credentials, DisconnectKind, Framebuffer, SecurityInfo,
    StaticCredentials, Transport, VncClient, VncEvent,
};

#[derive(Debug, Clone, clap::Args)]
pub struct CaptureArgs {
    /// vnc://HOST:PORT and the PNG file to write (only the file with --domain)
    #[arg(value_name = "TARGET OUT.png", num_args = 1..=2, required = true)]
    pub paths: Vec<String>,

    /// Capture this guest's console (name or UUID), on the --connect URI
    #[arg(long, value_name = "NAME")]
    pub domain: Option<String>,

    /// Offer exactly these encodings, in this order (raw, copyrect, rre, hextile, zlib, tight, zrle, tightpng)
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub encodings: Vec<String>,

    /// Let Tight use JPEG at this quality (0-9); without it Tight stays lossless
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=9))]
    pub quality: Option<u8>,

    /// zlib compression level the server may use (0-9)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=9))]
    pub compress: Option<u8>,

    /// Read the password from the first line of this file
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// User name, for VeNCrypt's Plain subtypes
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,

    /// CA certificates (PEM) the server's certificate must chain to (VeNCrypt X509)
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Decode every update until the server closes the connection, then write the last framebuffer
    #[arg(long)]
    pub until_closed: bool,

    /// Give up after this many seconds (default 30; no limit with --until-closed)
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
}

enum Outcome {
    Frame(Framebuffer),
    Failed(String),
}

pub fn run(cli: &Cli, args: &CaptureArgs) -> Result<(), CliError> {
    let (target, output) = match (&args.domain, args.paths.as_slice()) {
        (Some(_), [out]) => (None, PathBuf::from(out)),
        (None, [target, out]) => (Some(target.clone()), PathBuf::from(out)),
        (Some(_), _) => {
            return Err(CliError::Other(
                "with --domain, give only the PNG file to write".into(),
            ))
        }
        (None, _) => {
            return Err(CliError::Other(
                "give a target (vnc://HOST:PORT) and the PNG file to write".into(),
            ))
        }
    };
    let plugins = Arc::new(PluginRegistry::discover());
    let mut options = ConnectOptions {
        encodings: encoding_list(&args.encodings, &plugins)?,
        quality: args.quality,
        compress_level: args.compress,
        ca_file: args.ca_file.clone(),
        ..ConnectOptions::default()
    };
    let mut credentials = Credentials {
        username: args.username.clone(),
        password: args
            .password_file
            .as_deref()
            .map(read_password)
            .transpose()?,
    };

    // Keeps the backend connection open for as long as its console is used.
    let mut _backend = None;
    let (label, transport) = match (&args.domain, target) {
        (Some(domain), None) => {
            let candidates = crate::demo::candidate_uris(cli.connect.as_deref(), cli.demo)?;
            let (uri, conn) = open_first(&plugins, &candidates)?;
            let fail = |reason: String| CliError::Connect {
                uri: uri.clone(),
                reason,
            };
            let guests = conn.list_domains().map_err(|e| fail(e.message))?;
            let guest = guests
                .iter()
                .find(|g| &g.name == domain || g.uuid.eq_ignore_ascii_case(domain))
                .ok_or_else(|| CliError::Other(format!("no guest named “{domain}” on {uri}")))?;
            let (endpoint, fd) = conn.open_console(&guest.uuid).map_err(|e| {
                CliError::Other(format!(
                    "cannot open the console of {domain}: {}",
                    e.message
                ))
            })?;
            if endpoint.protocol != "vnc" {
                return Err(CliError::Other(format!(
                    "the console of {domain} is {}, not VNC",
                    if endpoint.protocol == "none" {
                        "absent"
                    } else {
                        &endpoint.protocol
                    }
                )));
            }
            if credentials.password.is_none() {
                credentials.password = endpoint.password.clone();
            }
            let transport = match (fd, endpoint.host, endpoint.port) {
                (Some(fd), _, _) => Transport::Fd(fd),
                (None, Some(host), Some(port)) => Transport::Tcp { host, port },
                _ => {
                    return Err(CliError::Other(format!(
                        "the backend gave no way to reach the console of {domain}"
                    )))
                }
            };
            _backend = Some(conn);
            (format!("{domain}'s console"), transport)
        }
        (_, Some(target)) => {
            let (host, port) = parse_target(&target)?;
            options.tls_host = Some(host.clone());
            (target, Transport::Tcp { host, port })
        }
        (None, None) => return Err(CliError::Other("no target given".into())),
    };

    let (tx, rx) = crossbeam_channel::unbounded::<Outcome>();
    let info: Arc<Mutex<Option<(String, SecurityInfo)>>> = Arc::default();
    let until_closed = args.until_closed;
    let callback_info = info.clone();
    let mut state = CaptureState::default();
    let client = VncClient::connect(
        transport,
        options,
        plugins,
        Arc::new(StaticCredentials(credentials)),
        move |event| {
            if let VncEvent::Connected { name, security, .. } = &event {
                *callback_info.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((name.clone(), security.clone()));
            }
            if let Some(outcome) = state.handle(event, until_closed) {
                let _ = tx.send(outcome);
            }
        },
    );

    let timeout = match (args.timeout, args.until_closed) {
        (Some(s), _) if s > 0.0 => Some(Duration::from_secs_f64(s)),
        (Some(_), _) | (None, true) => None,
        (None, false) => Some(Duration::from_secs(30)),
    };
    let outcome = match timeout {
        Some(t) => rx.recv_timeout(t).ok(),
        None => rx.recv().ok(),
    };
    let stats = client.stats();
    client.close();
    let frame = match outcome {
        Some(Outcome::Frame(fb)) => fb,
        Some(Outcome::Failed(reason)) => return Err(CliError::Other(format!("{label}: {reason}"))),
        None => {
            let what = if until_closed {
                "for the server to close"
            } else {
                "for a full frame"
            };
            return Err(CliError::Other(format!(
                "{label}: timed out waiting {what}"
            )));
        }
    };
    write_png(&frame, &output)?;

    let (name, security) = info
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_default();
    let mut protection = vec![if security.encrypted {
        "encrypted"
    } else {
        "not encrypted"
    }];
    if security.encrypted {
        protection.push(if security.server_authenticated {
            "server authenticated"
        } else {
            "server not authenticated"
        });
    }
    println!(
        "wrote {} ({}x{}) from “{name}”: RFB {}, security {} ({})",
        output.display(),
        frame.width,
        frame.height,
        security.protocol_version,
        security.security,
        protection.join(", ")
    );
    let rects: Vec<String> = stats
        .rects
        .iter()
        .map(|(e, n)| format!("{} {n}", encodings::name(*e)))
        .collect();
    println!(
        "{} updates, {} bytes; rectangles: {}",
        stats.updates,
        stats.bytes_received,
        rects.join(", ")
    );
    Ok(())
}

/// What the event callback keeps between events.
#[derive(Default)]
struct CaptureState {
    framebuffer: Option<Arc<Mutex<Framebuffer>>>,
    coverage: Coverage,
    done: bool,
}

impl CaptureState {
    fn snapshot(&self) -> Option<Framebuffer> {
        self.framebuffer
            .as_ref()
            .map(|fb| fb.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    /// Runs on the client's thread, so the framebuffer is exactly the
    /// state after the update just reported.
    fn handle(&mut self, event: VncEvent, until_closed: bool) -> Option<Outcome> {
        if self.done {
            return None;
        }
        let outcome = match event {
            VncEvent::Connected {
                width,
                height,
                framebuffer,
                ..
            } => {
                self.framebuffer = Some(framebuffer);
                self.coverage = Coverage::new(width, height);
                None
            }
            VncEvent::Resized { width, height } => {
                self.coverage = Coverage::new(width, height);
                None
            }
            VncEvent::Updated { damage } if !until_closed => {
                damage.iter().for_each(|d| self.coverage.add(d));
                if self.coverage.is_complete() {
                    self.snapshot().map(Outcome::Frame)
                } else {
                    None
                }
            }
            VncEvent::Disconnected { reason, kind } => Some(match (kind, self.snapshot()) {
                (DisconnectKind::ClosedByServer, Some(fb)) if until_closed => Outcome::Frame(fb),
                (DisconnectKind::ClosedByServer, _) => {
                    Outcome::Failed(format!("{reason} before sending a full frame"))
                }
                _ => Outcome::Failed(reason),
            }),
            _ => None,
        };
        self.done = outcome.is_some();
        outcome
    }
}

fn encoding_list(names: &[String], plugins: &PluginRegistry) -> Result<Vec<i32>, CliError> {
    let mut list = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let e = encodings::from_name(name).ok_or_else(|| {
            CliError::Other(format!(
                "unknown encoding “{name}” (known: raw, copyrect, rre, hextile, zlib, tight, zrle, tightpng)"
            ))
        })?;
        if e != encodings::RAW && plugins.decoder_for(e).is_none() {
            return Err(CliError::Other(format!(
                "no decoder plugin offers the {} encoding (is the rfb-decoders plugin installed?)",
                encodings::name(e)
            )));
        }
        list.push(e);
    }
    Ok(list)
}

fn read_password(path: &Path) -> Result<String, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::Other(format!(
            "cannot read the password file {}: {e}",
            path.display()
        ))
    })?;
    Ok(text.lines().next().unwrap_or("").to_owned())
}

/// `vnc://HOST:PORT`, `vnc://[IPv6]:PORT` or `HOST:PORT`; port 5900 when
/// absent.
fn parse_target(target: &str) -> Result<(String, u16), CliError> {
    let bad = || {
        CliError::Other(format!(
            "“{target}” is not a VNC address (expected vnc://HOST:PORT)"
        ))
    };
    let rest = target
        .strip_prefix("vnc://")
        .unwrap_or(target)
        .trim_end_matches('/');
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(bad)?;
        (host, after.strip_prefix(':'))
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() || host.contains(['/', '@']) {
        return Err(bad());
    }
    let port = match port {
        Some(p) => p.parse().map_err(|_| bad())?,
        None => 5900,
    };
    Ok((host.to_owned(), port))
}

fn write_png(frame: &Framebuffer, path: &Path) -> Result<(), CliError> {
    if frame.width == 0 || frame.height == 0 {
        return Err(CliError::Other(
            "the server's screen is empty (0 pixels)".into(),
        ));
    }
    let fail = |e: &dyn std::fmt::Display| {
        CliError::Other(format!("cannot write {}: {e}", path.display()))
    };
    let file = std::fs::File::create(path).map_err(|e| fail(&e))?;
    frame
        .write_png(std::io::BufWriter::new(file))
        .map_err(|e| fail(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("vnc://127.0.0.1:5901").unwrap(),
            ("127.0.0.1".into(), 5901)
        );
        assert_eq!(
            parse_target("vnc://[::1]:5902/").unwrap(),
            ("::1".into(), 5902)
        );
        assert_eq!(
            parse_target("localhost").unwrap(),
            ("localhost".into(), 5900)
        );
        assert!(parse_target("vnc://host:port").is_err());
        assert!(parse_target("vnc://:5900").is_err());
    }
}
