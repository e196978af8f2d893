//! The RFB (VNC) client, without GTK: handshake, security, messages and
//! the framebuffer (RFC 6143 and the community extensions).
//!
//! A window uses it like this:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use virt_manager::vnc::*;
//! # use virt_manager::plugin_host::PluginRegistry;
//! let plugins = Arc::new(PluginRegistry::discover());
//! let ask: Arc<dyn CredentialProvider> = Arc::new(|_req: &CredentialRequest| None);
//! let client = VncClient::connect(
//!     Transport::Tcp { host: "localhost".into(), port: 5900 },
//!     ConnectOptions::default(),
//!     plugins,
//!     ask,
//!     |event| match event {
//!         // Forward to the GUI thread; repaint `damage` from the
//!         // framebuffer the Connected event carries.
//!         VncEvent::Updated { damage } => { let _ = damage; }
//!         _ => {}
//!     },
//! );
//! client.pointer_event(10, 10, 0);
//! client.close();
//! ```
//!
//! Nothing here blocks the caller: [`VncClient::connect`] returns at once
//! and the connection lives on its own threads; input methods queue
//! messages. Events come through the callback on the connection's thread.
//! The framebuffer is shared as `Arc<Mutex<Framebuffer>>`, locked by the
//! client only while decoding bytes it already has.
//!
//! Decoding: Raw is built in; every other encoding goes to the decoder
//! plugin that offers it (`PluginRegistry::decoder_for`), one instance
//! per encoding per connection, fed from the one growing read buffer as
//! a push parser. Everything a server says is bounded (buffered bytes,
//! framebuffer size, cut text, names, pointer images): a hostile server
//! gets an error, never unbounded memory or a panic.
//!
//! Where things are: `handshake` (version, security, ClientInit and
//! ServerInit), `tls` (VeNCrypt's TLS and the relay thread behind it),
//! `session` (server messages, rectangles, pseudo-encodings), `raw`,
//! `clipboard` (Extended Clipboard), `connection` (the client's threads),
//! `client` (the handle windows hold), `io` (the socket and the read
//! buffer), and [`replay`]: the same parser on bytes in memory, for
//! benchmarks and the fuzzer.

mod auth;
mod client;
mod clipboard;
mod connection;
pub mod encodings;
mod error;
mod events;
mod framebuffer;
mod handshake;
mod io;
mod messages;
mod options;
mod raw;
pub mod replay;
mod session;
mod tls;

pub use auth::{CredentialProvider, CredentialRequest, Credentials, StaticCredentials};
pub use client::VncClient;
pub use error::VncError;
pub use events::{CursorImage, DisconnectKind, Stats, VncEvent};
pub use framebuffer::{Coverage, Damage, Framebuffer, MAX_DIMENSION};
pub use handshake::SecurityInfo;
pub use options::{ConnectOptions, ServerFeatures, Transport, MAX_BUFFERED};
