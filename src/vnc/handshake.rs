//! The handshake (RFC 6143 7.1 to 7.3): protocol version, security
//! (None, VNC Authentication, VeNCrypt with its TLS and X509 subtypes),
//! ClientInit and ServerInit. Blocking, on the client's thread.

use crate::i18n::{gettext, gettext_noop};
use std::io::{self, Write};
use std::path::PathBuf;

use virt_manager_plugin_api::abi::PixelFormat;

use super::auth::{
    plain_auth_message, vnc_auth_response, CredentialProvider, CredentialRequest, Credentials,
};
use super::error::{Result, VncError};
use super::framebuffer::MAX_DIMENSION;
use super::io::{Reader, Socket, Stream};
use super::messages::parse_pixel_format;
use super::tls::{self, TlsMode};

pub const SEC_NONE: u8 = 1;
pub const SEC_VNC_AUTH: u8 = 2;
pub const SEC_VENCRYPT: u8 = 19;

const VENCRYPT_PLAIN: u32 = 256;
const VENCRYPT_TLS_NONE: u32 = 257;
const VENCRYPT_TLS_VNC: u32 = 258;
const VENCRYPT_TLS_PLAIN: u32 = 259;
const VENCRYPT_X509_NONE: u32 = 260;
const VENCRYPT_X509_VNC: u32 = 261;
const VENCRYPT_X509_PLAIN: u32 = 262;

/// Longest desktop name or failure reason taken from a server.
const MAX_STRING: u32 = 64 * 1024;

/// How the session is protected, for the user to see.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecurityInfo {
    /// The RFB version in use ("3.8").
    pub protocol_version: String,
    /// The security type ("None", "VNC password", "VeNCrypt X509Vnc").
    pub security: String,
    /// The session is encrypted (VeNCrypt over TLS).
    pub encrypted: bool,
    /// The server proved its identity with a certificate we trust.
    pub server_authenticated: bool,
    /// TLS version and cipher, when encrypted.
    pub tls: Option<String>,
}

/// What the server said about its screen.
#[derive(Clone, Debug)]
pub(crate) struct ServerInit {
    pub width: u32,
    pub height: u32,
    pub pixel_format: PixelFormat,
    pub name: String,
}

/// A connection during the handshake: the buffered reader, the writing
/// side, and the network socket itself (which TLS takes over).
pub(crate) struct Conn {
    pub reader: Reader,
    pub writer: Stream,
    pub network: Option<Socket>,
}

impl Conn {
    pub fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer
            .write_all(bytes)
            .and_then(|_| self.writer.flush())
            .map_err(|e| match e.kind() {
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => VncError::Closed {
                    during: "unexpectedly",
                },
                _ => VncError::Io(e),
            })
    }
}

pub(crate) struct HandshakeConfig<'a> {
    pub shared: bool,
    pub ca_file: Option<PathBuf>,
    /// The name the server's certificate must carry (X509 subtypes).
    pub tls_host: Option<String>,
    pub credentials: &'a dyn CredentialProvider,
}

pub(crate) fn run(
    conn: &mut Conn,
    cfg: &HandshakeConfig<'_>,
) -> Result<(ServerInit, SecurityInfo)> {
    handshake(conn, cfg).map_err(|e| e.closed_during(gettext_noop("during the handshake")))
}

fn handshake(conn: &mut Conn, cfg: &HandshakeConfig<'_>) -> Result<(ServerInit, SecurityInfo)> {
    let minor = negotiate_version(conn)?;
    let mut info = SecurityInfo {
        protocol_version: format!("3.{minor}"),
        ..Default::default()
    };
    let security = choose_security(conn, minor)?;
    match security {
        SEC_NONE => info.security = "None".into(),
        SEC_VNC_AUTH => {
            info.security = "VNC password".into();
            vnc_auth(conn, cfg)?;
        }
        _ => vencrypt(conn, cfg, &mut info)?,
    }
    if !(minor < 8 && security == SEC_NONE) {
        security_result(conn, minor)?;
    }
    conn.send(&[cfg.shared as u8])?;
    let init = server_init(conn)?;
    Ok((init, info))
}

/// Reads the server's version and answers with the highest one both
/// speak; returns the minor version (3, 7 or 8).
fn negotiate_version(conn: &mut Conn) -> Result<u32> {
    let greeting: [u8; 12] = conn.reader.read_bytes().map_err(|e| match e {
        VncError::Closed { .. } if !conn.reader.is_empty() => VncError::NotRfb(
            String::from_utf8_lossy(conn.reader.available())
                .trim()
                .to_owned(),
        ),
        e => e,
    })?;
    let text = String::from_utf8_lossy(&greeting);
    let parsed = (|| {
        let rest = text.strip_prefix("RFB ")?.strip_suffix('\n')?;
        let (major, minor) = rest.split_once('.')?;
        Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?))
    })();
    let Some((major, minor)) = parsed else {
        return Err(VncError::NotRfb(text.trim().to_owned()));
    };
    let chosen = match (major, minor) {
        (3, 0..=6) => 3,
        (3, 7) => 7,
        (3, _) => 8,
        (m, _) if m > 3 => 8,
        _ => {
            return Err(VncError::protocol(format!(
                "the server speaks RFB {major}.{minor}, older than 3.3"
            )))
        }
    };
    conn.send(format!("RFB 003.{chosen:03}\n").as_bytes())?;
    Ok(chosen)
}

fn security_name(t: u8) -> String {
    match t {
        0 => "Invalid".into(),
        1 => "None".into(),
        2 => "VNC password".into(),
        5 => "RA2".into(),
        6 => "RA2ne".into(),
        16 => "Tight".into(),
        17 => "Ultra".into(),
        18 => "TLS".into(),
        19 => "VeNCrypt".into(),
        20 => "SASL".into(),
        30 => "Apple ARD".into(),
        t => format!("type {t}"),
    }
}

fn read_reason(reader: &mut Reader) -> Result<String> {
    let len = reader.read_u32()?;
    if len > MAX_STRING {
        return Ok(format!("(a {len}-byte message, not shown)"));
    }
    match reader.read_vec(len as usize) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).trim().to_owned()),
        Err(VncError::Closed { .. }) => Ok(gettext(gettext_noop("(the message was cut short)"))),
        Err(e) => Err(e),
    }
}

fn choose_security(conn: &mut Conn, minor: u32) -> Result<u8> {
    if minor == 3 {
        // 3.3: the server decides.
        return match conn.reader.read_u32()? {
            0 => Err(VncError::Refused(read_reason(&mut conn.reader)?)),
            t @ (1 | 2) => Ok(t as u8),
            t => Err(VncError::protocol(format!(
                "RFB 3.3 server chose security type {t}"
            ))),
        };
    }
    let n = conn.reader.read_u8()?;
    if n == 0 {
        return Err(VncError::Refused(read_reason(&mut conn.reader)?));
    }
    let offered = conn.reader.read_vec(n as usize)?;
    // Prefer what protects most: VeNCrypt, then a password, then nothing.
    let Some(&chosen) = [SEC_VENCRYPT, SEC_VNC_AUTH, SEC_NONE]
        .iter()
        .find(|t| offered.contains(t))
    else {
        let names: Vec<String> = offered.iter().map(|&t| security_name(t)).collect();
        return Err(VncError::UnsupportedSecurity {
            offered: names.join(", "),
        });
    };
    conn.send(&[chosen])?;
    Ok(chosen)
}

fn ask(cfg: &HandshakeConfig<'_>, username: bool, security: &str) -> Result<Credentials> {
    let request = CredentialRequest {
        username,
        password: true,
        security: security.to_owned(),
    };
    let creds = cfg
        .credentials
        .credentials(&request)
        .ok_or(VncError::Cancelled(gettext_noop("password")))?;
    if creds.password.is_none() {
        return Err(VncError::Cancelled(gettext_noop("password")));
    }
    if username && creds.username.is_none() {
        return Err(VncError::Cancelled(gettext_noop("user name")));
    }
    Ok(creds)
}

fn vnc_auth(conn: &mut Conn, cfg: &HandshakeConfig<'_>) -> Result<()> {
    let challenge: [u8; 16] = conn.reader.read_bytes()?;
    let creds = ask(cfg, false, "VNC password")?;
    let password = creds.password.unwrap_or_default();
    conn.send(&vnc_auth_response(&password, &challenge))
}

fn plain_auth(conn: &mut Conn, cfg: &HandshakeConfig<'_>, security: &str) -> Result<()> {
    let creds = ask(cfg, true, security)?;
    let message = plain_auth_message(
        &creds.username.unwrap_or_default(),
        &creds.password.unwrap_or_default(),
    );
    conn.send(&message)
}

fn vencrypt_name(subtype: u32) -> String {
    match subtype {
        1 => "None".into(),
        2 => "VNC".into(),
        VENCRYPT_PLAIN => "Plain".into(),
        VENCRYPT_TLS_NONE => "TLSNone".into(),
        VENCRYPT_TLS_VNC => "TLSVnc".into(),
        VENCRYPT_TLS_PLAIN => "TLSPlain".into(),
        VENCRYPT_X509_NONE => "X509None".into(),
        VENCRYPT_X509_VNC => "X509Vnc".into(),
        VENCRYPT_X509_PLAIN => "X509Plain".into(),
        263 => "TLSSASL".into(),
        264 => "X509SASL".into(),
        t => format!("subtype {t}"),
    }
}

/// Never trade a checked certificate for an anonymous one, nor TLS for
/// plain text: rank subtypes X509 first, then TLS, then unencrypted, and
/// otherwise keep the server's order.
fn vencrypt_rank(subtype: u32) -> Option<u8> {
    match subtype {
        VENCRYPT_X509_NONE | VENCRYPT_X509_VNC | VENCRYPT_X509_PLAIN => Some(0),
        VENCRYPT_TLS_NONE | VENCRYPT_TLS_VNC | VENCRYPT_TLS_PLAIN => Some(1),
        VENCRYPT_PLAIN | 1 | 2 => Some(2),
        _ => None,
    }
}

fn vencrypt(conn: &mut Conn, cfg: &HandshakeConfig<'_>, info: &mut SecurityInfo) -> Result<()> {
    let [major, minor] = conn.reader.read_bytes::<2>()?;
    if (major, minor) < (0, 2) {
        return Err(VncError::protocol(format!(
            "VeNCrypt {major}.{minor} is not supported (0.2 is)"
        )));
    }
    conn.send(&[0, 2])?;
    if conn.reader.read_u8()? != 0 {
        return Err(VncError::Refused(
            "the server does not accept VeNCrypt 0.2".into(),
        ));
    }
    let n = conn.reader.read_u8()?;
    if n == 0 {
        return Err(VncError::Refused(
            "the server offers no VeNCrypt subtype".into(),
        ));
    }
    let mut offered = Vec::with_capacity(n as usize);
    for _ in 0..n {
        offered.push(conn.reader.read_u32()?);
    }
    let Some(&subtype) = offered
        .iter()
        .filter(|t| vencrypt_rank(**t).is_some())
        .min_by_key(|t| vencrypt_rank(**t))
    else {
        let names: Vec<String> = offered.iter().map(|&t| vencrypt_name(t)).collect();
        return Err(VncError::UnsupportedSecurity {
            offered: format!("VeNCrypt with {}", names.join(", ")),
        });
    };
    conn.send(&subtype.to_be_bytes())?;
    if conn.reader.read_u8()? != 1 {
        return Err(VncError::Refused(format!(
            "the server did not accept VeNCrypt {}",
            vencrypt_name(subtype)
        )));
    }
    let name = format!("VeNCrypt {}", vencrypt_name(subtype));
    info.security = name.clone();
    let tls_mode = match subtype {
        VENCRYPT_TLS_NONE | VENCRYPT_TLS_VNC | VENCRYPT_TLS_PLAIN => Some(TlsMode::Anonymous),
        VENCRYPT_X509_NONE | VENCRYPT_X509_VNC | VENCRYPT_X509_PLAIN => Some(TlsMode::X509 {
            ca_file: cfg.ca_file.clone(),
            host: cfg.tls_host.clone(),
        }),
        _ => None,
    };
    if let Some(mode) = tls_mode {
        start_tls(conn, &mode, info)?;
    }
    match subtype {
        2 | VENCRYPT_TLS_VNC | VENCRYPT_X509_VNC => vnc_auth(conn, cfg),
        VENCRYPT_PLAIN | VENCRYPT_TLS_PLAIN | VENCRYPT_X509_PLAIN => plain_auth(conn, cfg, &name),
        _ => Ok(()),
    }
}

fn start_tls(conn: &mut Conn, mode: &TlsMode, info: &mut SecurityInfo) -> Result<()> {
    let socket = match &conn.network {
        Some(s) => s.try_clone()?,
        None => return Err(VncError::Tls("this connection cannot carry TLS".into())),
    };
    let (stream, tls_info) = tls::connect(socket, mode)?;
    let app = tls::spawn_relay(stream)?;
    // Keep the handshake's timeout on the plaintext side.
    app.set_read_timeout(read_timeout(conn.reader.stream()))?;
    let writer = app.try_clone()?;
    conn.reader.replace_stream(Stream::Unix(app))?;
    conn.writer = Stream::Unix(writer);
    info.encrypted = true;
    info.server_authenticated = tls_info.verified;
    info.tls = Some(format!("{} {}", tls_info.version, tls_info.cipher));
    Ok(())
}

fn read_timeout(stream: &Stream) -> Option<std::time::Duration> {
    let fd = match stream {
        Stream::Socket(s) => std::os::fd::AsRawFd::as_raw_fd(s),
        Stream::Unix(u) => return u.read_timeout().ok().flatten(),
        Stream::Other(_) => return None,
    };
    let mut tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    let mut len = std::mem::size_of::<libc::timeval>() as libc::socklen_t;
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            &mut tv as *mut libc::timeval as *mut libc::c_void,
            &mut len,
        )
    };
    (rc == 0 && (tv.tv_sec > 0 || tv.tv_usec > 0))
        .then(|| std::time::Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000))
}

fn security_result(conn: &mut Conn, minor: u32) -> Result<()> {
    match conn.reader.read_u32()? {
        0 => Ok(()),
        _ if minor >= 8 => {
            let reason = read_reason(&mut conn.reader)?;
            Err(VncError::AuthFailed(if reason.is_empty() {
                "refused by the server".into()
            } else {
                reason
            }))
        }
        _ => Err(VncError::AuthFailed(
            "refused by the server (wrong password?)".into(),
        )),
    }
}

fn server_init(conn: &mut Conn) -> Result<ServerInit> {
    let width = conn.reader.read_u16()? as u32;
    let height = conn.reader.read_u16()? as u32;
    let pf: [u8; 16] = conn.reader.read_bytes()?;
    let name_len = conn.reader.read_u32()?;
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(VncError::limit(format!(
            "a {width}x{height} framebuffer is larger than {MAX_DIMENSION}x{MAX_DIMENSION}"
        )));
    }
    if name_len > MAX_STRING {
        return Err(VncError::limit(format!(
            "a desktop name of {name_len} bytes"
        )));
    }
    let name = conn.reader.read_vec(name_len as usize)?;
    Ok(ServerInit {
        width,
        height,
        pixel_format: parse_pixel_format(&pf),
        name: String::from_utf8_lossy(&name).into_owned(),
    })
}
