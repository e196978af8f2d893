//! A connection's threads: connect, handshake, then read and decode
//! until the end (the client thread), and write queued messages in order
//! (the writer thread).

use crate::i18n::{gettext, gettext_f, gettext_noop};
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::OwnedFd;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use crossbeam_channel::Receiver;
use virt_manager_plugin_api::abi::PixelFormat;

use super::auth::CredentialProvider;
use super::client::{Outgoing, Shared};
use super::error::{Result, VncError};
use super::events::{DisconnectKind, VncEvent};
use super::framebuffer::{Framebuffer, MAX_DIMENSION};
use super::handshake::{self, Conn, HandshakeConfig};
use super::io::{Reader, Socket, Stream};
use super::messages as msg;
use super::options::{offered_encodings, ConnectOptions, Transport, MAX_BUFFERED};
use super::session::{lock, Session, SessionConfig, SessionSink};
use crate::plugin_host::PluginRegistry;

pub(super) fn disconnected(result: Result<()>, shared: &Shared) -> VncEvent {
    let write_error = lock(&shared.write_error).take();
    let (reason, kind) = if shared.closing.load(Ordering::SeqCst) {
        (
            gettext("closed by the client"),
            DisconnectKind::ClosedByClient,
        )
    } else {
        match result {
            Ok(()) => (
                gettext("the server closed the connection"),
                DisconnectKind::ClosedByServer,
            ),
            Err(e @ VncError::AuthFailed(_)) => (e.to_string(), DisconnectKind::AuthFailed),
            Err(e @ VncError::Cancelled(_)) => (e.to_string(), DisconnectKind::Cancelled),
            // The reader only saw the socket go away: the writer knows why.
            Err(VncError::Closed { .. } | VncError::Io(_)) if write_error.is_some() => (
                gettext_f(
                    "cannot send to the server: {reason}",
                    &[("reason", &write_error.unwrap_or_default())],
                ),
                DisconnectKind::Failed,
            ),
            Err(e) => (e.to_string(), DisconnectKind::Failed),
        }
    };
    VncEvent::Disconnected { reason, kind }
}

fn open(transport: Transport, options: &ConnectOptions) -> Result<(Socket, Option<String>)> {
    match transport {
        Transport::Fd(fd) => Ok((Socket::new(fd), None)),
        Transport::Tcp { host, port } => {
            let addr = format!("{host}:{port}");
            let host_only = host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
            let addrs = (host_only.as_str(), port)
                .to_socket_addrs()
                .map_err(|source| VncError::Connect {
                    addr: addr.clone(),
                    source,
                })?;
            let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address found");
            for a in addrs {
                match TcpStream::connect_timeout(&a, options.connect_timeout) {
                    Ok(s) => {
                        // Input events are tiny and latency-bound.
                        let _ = s.set_nodelay(true);
                        return Ok((Socket::new(OwnedFd::from(s)), Some(host_only)));
                    }
                    Err(e) => last = e,
                }
            }
            Err(VncError::Connect { addr, source: last })
        }
    }
}

struct ClientSink<'a> {
    events: &'a mut dyn FnMut(VncEvent),
    shared: &'a Shared,
}

impl SessionSink for ClientSink<'_> {
    fn event(&mut self, event: VncEvent) {
        (self.events)(event);
    }

    fn send(&mut self, message: Vec<u8>) {
        // Waiting here is the back-pressure on a server that stops reading.
        let _ = self.shared.tx.send(Outgoing::Message(message));
    }

    fn request_update(&mut self, message: Vec<u8>) {
        if !self
            .shared
            .update_request_queued
            .swap(true, Ordering::SeqCst)
        {
            let _ = self.shared.tx.send(Outgoing::UpdateRequest(message));
        }
    }
}

pub(super) fn run(
    transport: Transport,
    options: &ConnectOptions,
    plugins: Arc<PluginRegistry>,
    credentials: &dyn CredentialProvider,
    shared: &Arc<Shared>,
    rx: Receiver<Outgoing>,
    events: &mut dyn FnMut(VncEvent),
) -> Result<()> {
    let (socket, host) = open(transport, options)?;
    {
        // Registered under the lock that close() takes, so a close that
        // raced the connect still finds the socket.
        let mut slot = lock(&shared.socket);
        *slot = Some(socket.try_clone()?);
        if shared.closing.load(Ordering::SeqCst) {
            socket.shutdown();
        }
    }
    socket.set_read_timeout(Some(options.handshake_timeout))?;
    let mut conn = Conn {
        reader: Reader::new(Stream::Socket(socket.try_clone()?), MAX_BUFFERED),
        writer: Stream::Socket(socket.try_clone()?),
        network: Some(socket),
    };
    let cfg = HandshakeConfig {
        shared: options.shared,
        ca_file: options.ca_file.clone(),
        tls_host: options.tls_host.clone().or(host),
        credentials,
    };
    let (init, security) = handshake::run(&mut conn, &cfg)?;
    tracing::debug!(
        "connected to {:?}: {}x{}, server format {:?}, {security:?}",
        init.name,
        init.width,
        init.height,
        init.pixel_format
    );
    let offered = offered_encodings(options, &plugins);
    let mut setup = msg::set_pixel_format(&PixelFormat::HOST);
    setup.extend(msg::set_encodings(&offered));
    setup.extend(msg::update_request(
        false,
        0,
        0,
        init.width as u16,
        init.height as u16,
    ));
    conn.send(&setup)
        .map_err(|e| e.closed_during(gettext_noop("right after the handshake")))?;
    conn.reader.stream().set_read_timeout(None)?;
    conn.network = None;

    let fb = Arc::new(Mutex::new(Framebuffer::new(init.width, init.height)));
    *lock(&shared.framebuffer) = Some(fb.clone());
    events(VncEvent::Connected {
        name: init.name,
        width: init.width,
        height: init.height,
        security,
        framebuffer: fb.clone(),
    });

    let writer = conn.writer;
    let writer_shared = shared.clone();
    std::thread::Builder::new()
        .name("vnc-writer".into())
        .spawn(move || write_loop(writer, rx, &writer_shared))?;

    let mut session = Session::new(
        fb,
        plugins,
        shared.features.clone(),
        SessionConfig {
            offered,
            continuous_updates: options.continuous_updates,
            max_cut_text: options.max_cut_text,
            max_dimension: MAX_DIMENSION,
        },
    );
    let mut sink = ClientSink { events, shared };
    session.run(&mut conn.reader, &mut sink)
}

/// Writes queued messages in order, batching whatever is queued at once
/// into one write.
fn write_loop(mut stream: Stream, rx: Receiver<Outgoing>, shared: &Shared) {
    let mut batch: Vec<u8> = Vec::with_capacity(4096);
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(item) = next {
            match item {
                Outgoing::Message(m) => batch.extend_from_slice(&m),
                Outgoing::UpdateRequest(m) => {
                    shared.update_request_queued.store(false, Ordering::SeqCst);
                    batch.extend_from_slice(&m);
                }
                Outgoing::Close => {
                    let _ = stream.write_all(&batch);
                    return;
                }
            }
            next = rx.try_recv().ok();
        }
        if let Err(e) = stream.write_all(&batch).and_then(|_| stream.flush()) {
            if !shared.closing.load(Ordering::SeqCst) {
                *lock(&shared.write_error) = Some(e.to_string());
            }
            shared.shutdown();
            return;
        }
        batch.clear();
    }
}
