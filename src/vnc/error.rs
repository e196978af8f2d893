//! What can go wrong on an RFB connection, worded for the user: every
//! variant reads as one clear line (the CLI prints it as is).

/// An RFB connection failed, or a server broke the protocol.
#[derive(Debug, thiserror::Error)]
pub enum VncError {
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
    /// The server closed the connection where the protocol does not allow
    /// it (`during` says where, e.g. "during the handshake").
    #[error("the server closed the connection {during}")]
    Closed { during: &'static str },
    #[error("timed out {0}")]
    Timeout(&'static str),
    #[error("not a VNC server (it greeted with {0:?})")]
    NotRfb(String),
    #[error("the server refused the connection: {0}")]
    Refused(String),
    #[error("no security type in common: the server offers {offered}; this client supports None, VNC password and VeNCrypt")]
    UnsupportedSecurity { offered: String },
    #[error("authentication failed: {0}")]
    AuthFailed(String),
    #[error("authentication cancelled: no {0} given")]
    Cancelled(&'static str),
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("the server's certificate is not trusted: {0}")]
    Untrusted(String),
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error("the server exceeded a limit: {0}")]
    Limit(String),
    #[error("the server sent {encoding} rectangles, and no loaded decoder plugin handles them")]
    NoDecoder { encoding: String },
    #[error("{encoding} decoding failed: {message}")]
    Decode { encoding: String, message: String },
}

impl VncError {
    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        VncError::Protocol(message.into())
    }

    pub(crate) fn limit(message: impl Into<String>) -> Self {
        VncError::Limit(message.into())
    }

    /// Rewords "closed" for the phase it happened in.
    pub(crate) fn closed_during(self, during: &'static str) -> Self {
        match self {
            VncError::Closed { .. } => VncError::Closed { during },
            other => other,
        }
    }
}

pub type Result<T, E = VncError> = std::result::Result<T, E>;
