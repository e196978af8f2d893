//! Is a VNC server there, and does it want a password? Both answered by
//! talking to it briefly: a server is up when it greets a TCP connection
//! with "RFB " within a short time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long one connect, and one read, may take.
pub const TIMEOUT: Duration = Duration::from_millis(1500);

fn connect(host: &str, port: u16) -> Option<TcpStream> {
    // Name resolution has no timeout of its own; probes run off the
    // host's GUI thread and in the background, so that is acceptable.
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs().ok()?.collect();
    addrs.iter().find_map(|addr| {
        let stream = TcpStream::connect_timeout(addr, TIMEOUT).ok()?;
        stream.set_read_timeout(Some(TIMEOUT)).ok()?;
        stream.set_write_timeout(Some(TIMEOUT)).ok()?;
        Some(stream)
    })
}

/// The server's 12-byte ProtocolVersion, if it sent an RFB greeting.
fn greeting(stream: &mut TcpStream) -> Option<[u8; 12]> {
    let mut version = [0u8; 12];
    stream.read_exact(&mut version).ok()?;
    version.starts_with(b"RFB ").then_some(version)
}

/// True when `host:port` answers with an RFB greeting.
pub fn is_up(host: &str, port: u16) -> bool {
    connect(host, port)
        .and_then(|mut s| greeting(&mut s))
        .is_some()
}

/// Whether the server asks for a password, from the security types it
/// offers (RFC 6143, 7.1.2); `None` when it cannot be told cheaply (the
/// server is down, or offers only types negotiated inside TLS).
pub fn needs_password(host: &str, port: u16) -> Option<bool> {
    let mut stream = connect(host, port)?;
    let version = greeting(&mut stream)?;
    const NONE: u8 = 1;
    const VNC_AUTH: u8 = 2;
    if &version[4..11] == b"003.003" {
        // 3.3: the server picks one type and sends it as a u32.
        stream.write_all(b"RFB 003.003\n").ok()?;
        let mut chosen = [0u8; 4];
        stream.read_exact(&mut chosen).ok()?;
        return match u32::from_be_bytes(chosen) {
            1 => Some(false),
            2 => Some(true),
            _ => None,
        };
    }
    stream.write_all(b"RFB 003.008\n").ok()?;
    let mut count = [0u8; 1];
    stream.read_exact(&mut count).ok()?;
    let mut types = vec![0u8; count[0] as usize];
    stream.read_exact(&mut types).ok()?;
    if types.contains(&NONE) {
        Some(false)
    } else if types.contains(&VNC_AUTH) {
        Some(true)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A one-connection server that sends `greeting`, reads the client's
    /// version and sends `then`.
    fn fake_server(greeting: &'static [u8], then: &'static [u8]) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let _ = s.write_all(greeting);
                let mut version = [0u8; 12];
                if s.read_exact(&mut version).is_ok() {
                    let _ = s.write_all(then);
                }
            }
        });
        port
    }

    #[test]
    fn an_rfb_greeting_means_up() {
        assert!(is_up("127.0.0.1", fake_server(b"RFB 003.008\n", b"")));
        assert!(!is_up("127.0.0.1", fake_server(b"HTTP/1.0 200\r\n", b"")));
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert!(!is_up("127.0.0.1", closed));
    }

    #[test]
    fn security_types_tell_whether_a_password_is_needed() {
        let none = fake_server(b"RFB 003.008\n", &[2, 2, 1]);
        assert_eq!(needs_password("127.0.0.1", none), Some(false));
        let vnc = fake_server(b"RFB 003.008\n", &[1, 2]);
        assert_eq!(needs_password("127.0.0.1", vnc), Some(true));
        let tls_only = fake_server(b"RFB 003.008\n", &[1, 19]);
        assert_eq!(needs_password("127.0.0.1", tls_only), None);
        let old = fake_server(b"RFB 003.003\n", &[0, 0, 0, 2]);
        assert_eq!(needs_password("127.0.0.1", old), Some(true));
    }
}
