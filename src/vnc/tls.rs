//! TLS for VeNCrypt, on OpenSSL: anonymous Diffie-Hellman for the TLS*
//! subtypes (suites rustls does not offer) and certificate checks for the
//! X509* ones.
//!
//! After the handshake a relay thread owns the TLS stream and moves bytes
//! between it and one end of a UNIX socket pair; the client reads and
//! writes the other end like any socket. That keeps the protocol code
//! free of TLS, and lets one thread read while another writes, which an
//! OpenSSL stream cannot do by itself.

use crate::i18n::gettext_noop;
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use openssl::ssl::{
    ErrorCode, HandshakeError, Ssl, SslContext, SslMethod, SslMode, SslStream, SslVerifyMode,
    SslVersion,
};
use openssl::x509::X509VerifyResult;

use super::error::{Result, VncError};
use super::io::Socket;

/// How the server proves who it is.
#[derive(Clone, Debug)]
pub(crate) enum TlsMode {
    /// No certificate: encrypted, but the server is not authenticated.
    Anonymous,
    /// A certificate checked against `ca_file` (or the system's trust
    /// store) and, when known, the host name.
    X509 {
        ca_file: Option<PathBuf>,
        host: Option<String>,
    },
}

/// What the TLS session turned out to be.
#[derive(Clone, Debug)]
pub(crate) struct TlsInfo {
    pub version: String,
    pub cipher: String,
    pub verified: bool,
}

fn tls_err(e: impl std::fmt::Display) -> VncError {
    VncError::Tls(e.to_string())
}

fn context(mode: &TlsMode) -> Result<SslContext> {
    let mut ctx = SslContext::builder(SslMethod::tls_client()).map_err(tls_err)?;
    // The relay retries writes with the same bytes but maybe another buffer.
    ctx.set_mode(SslMode::ACCEPT_MOVING_WRITE_BUFFER | SslMode::ENABLE_PARTIAL_WRITE);
    match mode {
        TlsMode::Anonymous => {
            // Anonymous suites exist up to TLS 1.2 only, and OpenSSL 3
            // hides them below security level 0.
            ctx.set_max_proto_version(Some(SslVersion::TLS1_2))
                .map_err(tls_err)?;
            ctx.set_cipher_list("aNULL:!eNULL:@SECLEVEL=0")
                .map_err(tls_err)?;
            ctx.set_verify(SslVerifyMode::NONE);
        }
        TlsMode::X509 { ca_file, .. } => {
            match ca_file {
                Some(path) => ctx.set_ca_file(path).map_err(|e| {
                    VncError::Tls(format!("cannot read the CA file {}: {e}", path.display()))
                })?,
                None => ctx.set_default_verify_paths().map_err(tls_err)?,
            }
            ctx.set_verify(SslVerifyMode::PEER);
        }
    }
    Ok(ctx.build())
}

/// Runs the TLS handshake on `socket` (blocking; the socket's read
/// timeout applies).
pub(crate) fn connect(socket: Socket, mode: &TlsMode) -> Result<(SslStream<Socket>, TlsInfo)> {
    let ctx = context(mode)?;
    let mut ssl = Ssl::new(&ctx).map_err(tls_err)?;
    if let TlsMode::X509 {
        host: Some(host), ..
    } = mode
    {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        match host.parse::<IpAddr>() {
            Ok(ip) => ssl.param_mut().set_ip(ip).map_err(tls_err)?,
            Err(_) => {
                ssl.set_hostname(host).map_err(tls_err)?;
                ssl.param_mut().set_host(host).map_err(tls_err)?;
            }
        }
    }
    let stream = match ssl.connect(socket) {
        Ok(s) => s,
        Err(HandshakeError::Failure(mid)) | Err(HandshakeError::WouldBlock(mid)) => {
            let verify = mid.ssl().verify_result();
            if verify != X509VerifyResult::OK {
                let against = match mode {
                    TlsMode::X509 {
                        ca_file: Some(p), ..
                    } => format!("the CA file {}", p.display()),
                    _ => "the system's trusted CAs".to_owned(),
                };
                return Err(VncError::Untrusted(format!(
                    "{} (checked against {against})",
                    verify.error_string()
                )));
            }
            let e = mid.error();
            return Err(match e.io_error() {
                Some(io) if io.kind() == io::ErrorKind::WouldBlock => {
                    VncError::Timeout(gettext_noop("in the TLS handshake"))
                }
                _ => VncError::Tls(format!("handshake failed: {e}")),
            });
        }
        Err(HandshakeError::SetupFailure(e)) => return Err(tls_err(e)),
    };
    let info = TlsInfo {
        version: stream.ssl().version_str().to_owned(),
        cipher: stream
            .ssl()
            .current_cipher()
            .map(|c| c.name().to_owned())
            .unwrap_or_default(),
        verified: matches!(mode, TlsMode::X509 { .. }),
    };
    Ok((stream, info))
}

/// Starts the relay thread; returns the plaintext end.
pub(crate) fn spawn_relay(tls: SslStream<Socket>) -> io::Result<UnixStream> {
    let (app, relay) = UnixStream::pair()?;
    tls.get_ref().set_nonblocking(true)?;
    tls.get_ref().set_read_timeout(None)?;
    relay.set_nonblocking(true)?;
    std::thread::Builder::new()
        .name("vnc-tls".into())
        .spawn(move || {
            if let Err(e) = relay_loop(tls, relay) {
                tracing::debug!("TLS relay ended: {e}");
            }
        })?;
    Ok(app)
}

/// Decrypted bytes waiting for the client: past this, stop reading the
/// network until the client catches up.
const RELAY_BACKLOG: usize = 1 << 20;

fn relay_loop(mut tls: SslStream<Socket>, mut local: UnixStream) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut to_local: Vec<u8> = Vec::new();
    let mut to_remote: Vec<u8> = Vec::new();
    let (mut remote_eof, mut local_eof) = (false, false);
    loop {
        let mut tls_wants_write = false;
        let mut progress = true;
        while progress {
            progress = false;
            if !remote_eof && to_local.len() < RELAY_BACKLOG {
                match tls.ssl_read(&mut buf) {
                    Ok(0) => remote_eof = true,
                    Ok(n) => {
                        to_local.extend_from_slice(&buf[..n]);
                        progress = true;
                    }
                    Err(e) => match e.code() {
                        ErrorCode::WANT_READ => {}
                        ErrorCode::WANT_WRITE => tls_wants_write = true,
                        ErrorCode::ZERO_RETURN => remote_eof = true,
                        // An abrupt close (or any failure) ends the stream
                        // for the client, which sees end of file.
                        _ => remote_eof = true,
                    },
                }
            }
            if !to_local.is_empty() {
                match local.write(&to_local) {
                    Ok(n) => {
                        to_local.drain(..n);
                        progress = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            if !local_eof && to_remote.is_empty() {
                match local.read(&mut buf) {
                    Ok(0) => local_eof = true,
                    Ok(n) => {
                        to_remote.extend_from_slice(&buf[..n]);
                        progress = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            if !to_remote.is_empty() {
                match tls.ssl_write(&to_remote) {
                    Ok(n) => {
                        to_remote.drain(..n);
                        progress = true;
                    }
                    Err(e) => match e.code() {
                        ErrorCode::WANT_WRITE => tls_wants_write = true,
                        ErrorCode::WANT_READ => {}
                        _ => return Err(io::Error::other(format!("TLS write failed: {e}"))),
                    },
                }
            }
        }
        if remote_eof && to_local.is_empty() {
            return Ok(());
        }
        if local_eof && to_remote.is_empty() {
            let _ = tls.shutdown();
            return Ok(());
        }
        let mut remote_events = 0;
        if !remote_eof && to_local.len() < RELAY_BACKLOG {
            remote_events |= libc::POLLIN;
        }
        if tls_wants_write || !to_remote.is_empty() {
            remote_events |= libc::POLLOUT;
        }
        let mut local_events = 0;
        if !local_eof && to_remote.is_empty() {
            local_events |= libc::POLLIN;
        }
        if !to_local.is_empty() {
            local_events |= libc::POLLOUT;
        }
        // A finished side is left out: its hang-up would wake poll forever.
        let mut fds = [
            libc::pollfd {
                fd: if remote_eof {
                    -1
                } else {
                    tls.get_ref().as_raw_fd()
                },
                events: remote_events,
                revents: 0,
            },
            libc::pollfd {
                fd: if local_eof && to_local.is_empty() {
                    -1
                } else {
                    local.as_raw_fd()
                },
                events: local_events,
                revents: 0,
            },
        ];
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        if fds.iter().any(|f| f.revents & libc::POLLNVAL != 0) {
            return Err(io::Error::other("relay descriptor closed"));
        }
    }
}
