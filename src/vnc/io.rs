//! Byte plumbing: the connected socket, and the one growing read buffer
//! every message and every rectangle is parsed from.
//!
//! The buffer is the only place received bytes live: decoders are handed
//! slices of it (no copy per rectangle), and it grows only when a message
//! or a decoder needs more contiguous bytes than it holds, up to a hard
//! limit, so a hostile server cannot make it grow without bound.

use crate::i18n::gettext_noop;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::error::{Result, VncError};

/// A connected stream socket (TCP, or whatever descriptor a backend
/// handed over, usually one end of a UNIX socket pair).
#[derive(Debug)]
pub(crate) struct Socket {
    fd: OwnedFd,
}

impl Socket {
    pub fn new(fd: OwnedFd) -> Self {
        Socket { fd }
    }

    /// A second handle on the same socket (for the writer thread, and for
    /// shutting it down from another thread).
    pub fn try_clone(&self) -> io::Result<Socket> {
        Ok(Socket {
            fd: self.fd.try_clone()?,
        })
    }

    /// Wakes every blocked reader and writer of the socket (all handles).
    pub fn shutdown(&self) {
        unsafe { libc::shutdown(self.fd.as_raw_fd(), libc::SHUT_RDWR) };
    }

    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        let tv = match timeout {
            Some(t) => libc::timeval {
                tv_sec: t.as_secs() as libc::time_t,
                tv_usec: t.subsec_micros().max(u32::from(t.is_zero())) as libc::suseconds_t,
            },
            None => libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
        };
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                &tv as *const libc::timeval as *const libc::c_void,
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        let fd = self.fd.as_raw_fd();
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        let flags = if nonblocking {
            flags | libc::O_NONBLOCK
        } else {
            flags & !libc::O_NONBLOCK
        };
        if unsafe { libc::fcntl(fd, libc::F_SETFL, flags) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            // MSG_NOSIGNAL: a closed peer is an error, not a SIGPIPE.
            let n = unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    buf.as_ptr().cast(),
                    buf.len(),
                    libc::MSG_NOSIGNAL,
                )
            };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Where the bytes come from: the socket itself, the plaintext side of
/// the TLS relay, or (replay, fuzzing) anything readable.
pub(crate) enum Stream {
    Socket(Socket),
    Unix(UnixStream),
    Other(Box<dyn ReadWrite>),
}

/// Read + Write + Send, for [`Stream::Other`].
pub(crate) trait ReadWrite: Read + Write + Send {}
impl<T: Read + Write + Send> ReadWrite for T {}

impl Stream {
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Socket(s) => s.set_read_timeout(timeout),
            Stream::Unix(u) => u.set_read_timeout(timeout),
            Stream::Other(_) => Ok(()),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Socket(s) => s.read(buf),
            Stream::Unix(u) => u.read(buf),
            Stream::Other(o) => o.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Socket(s) => s.write(buf),
            Stream::Unix(u) => u.write(buf),
            Stream::Other(o) => o.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Socket(s) => s.flush(),
            Stream::Unix(u) => u.flush(),
            Stream::Other(o) => o.flush(),
        }
    }
}

/// The buffer's first size: a few socket reads' worth, so that compressed
/// updates (a few hundred bytes a rectangle) take few system calls.
const INITIAL_CAPACITY: usize = 256 * 1024;

/// Most separate memory areas handed to one `recvmsg` (Linux's IOV_MAX).
const MAX_IOVECS: usize = 1024;

/// The growing read buffer over a [`Stream`]: bytes `buf[start..end]` are
/// received and not yet consumed.
pub(crate) struct Reader {
    stream: Stream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Most bytes ever held at once (a bound against hostile servers).
    limit: usize,
    /// Bytes received in total.
    pub received: u64,
}

impl Reader {
    pub fn new(stream: Stream, limit: usize) -> Self {
        Reader {
            stream,
            buf: vec![0; INITIAL_CAPACITY.min(limit.max(16))],
            start: 0,
            end: 0,
            limit,
            received: 0,
        }
    }

    /// A reader over bytes already in memory (a recording): no copy, and
    /// the end of `data` is the end of the stream.
    pub fn from_vec(data: Vec<u8>) -> Self {
        let end = data.len();
        Reader {
            stream: Stream::Other(Box::new(io::empty())),
            limit: end.max(16),
            received: end as u64,
            buf: data,
            start: 0,
            end,
        }
    }

    /// The bytes received and not yet consumed.
    pub fn available(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub fn stream(&self) -> &Stream {
        &self.stream
    }

    /// Swaps the stream under the buffer (plain to TLS); only allowed
    /// when nothing is buffered, since buffered bytes belong to the old
    /// stream.
    pub fn replace_stream(&mut self, stream: Stream) -> Result<Stream> {
        if !self.is_empty() {
            return Err(VncError::protocol(
                "the server sent data before the TLS handshake",
            ));
        }
        Ok(std::mem::replace(&mut self.stream, stream))
    }

    pub fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.len());
        self.start += n.min(self.len());
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Makes sure at least `n` bytes are buffered, reading as much as the
    /// stream gives at once. End of stream is `VncError::Closed`.
    pub fn fill(&mut self, n: usize) -> Result<()> {
        if self.len() >= n {
            return Ok(());
        }
        if n > self.limit {
            return Err(VncError::limit(format!(
                "a message needs {n} bytes at once, more than the {} MiB limit",
                self.limit >> 20
            )));
        }
        // Move the unconsumed tail to the front (and grow if needed) when
        // the message would not fit, or when so little room is left after
        // it that the reads would be short.
        if self.start + n > self.buf.len() || self.buf.len() - self.end < self.buf.len() / 4 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if n > self.buf.len() {
                let cap = n.max(self.buf.len().saturating_mul(2)).min(self.limit);
                self.buf.resize(cap, 0);
            }
        }
        while self.len() < n {
            match self.stream.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    return Err(VncError::Closed {
                        during: "unexpectedly",
                    })
                }
                Ok(k) => {
                    self.end += k;
                    self.received += k as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(VncError::Timeout(gettext_noop("waiting for the server")));
                }
                // A reset is the server closing on us with our bytes
                // unread: the same as an end of stream to the user (and
                // what `Conn::send` says when writing meets it).
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Err(VncError::Closed {
                        during: "unexpectedly",
                    })
                }
                Err(e) => return Err(VncError::Io(e)),
            }
        }
        Ok(())
    }

    /// The socket a large Raw rectangle can be read from straight into the
    /// framebuffer ([`Reader::read_nowait`]); None for other streams
    /// (TLS, recordings), which go through the buffer.
    pub fn direct_fd(&self) -> Option<RawFd> {
        match &self.stream {
            Stream::Socket(s) => Some(s.as_raw_fd()),
            Stream::Unix(u) => Some(u.as_raw_fd()),
            Stream::Other(_) => None,
        }
    }

    /// Fills the areas `iov` describes, in order: first from the buffered
    /// bytes, then with one non-blocking `recvmsg` straight from the
    /// socket (one copy, no buffer in between). Returns the bytes written,
    /// 0 when the socket has nothing yet ([`Reader::wait_readable`]).
    /// Only when [`Reader::direct_fd`] is Some.
    ///
    /// # Safety
    /// Every iovec must describe memory writable for its length and
    /// borrowed by nothing else for the call.
    pub unsafe fn read_nowait(&mut self, iov: &mut [libc::iovec]) -> Result<usize> {
        let fd = self
            .direct_fd()
            .ok_or_else(|| VncError::protocol("no socket to read from directly"))?;
        let mut done = 0;
        let mut first = 0;
        // The buffered bytes first.
        while first < iov.len() && !self.is_empty() {
            let v = &mut iov[first];
            let n = v.iov_len.min(self.len());
            // SAFETY: the caller vouches for the iovec; the source is the
            // buffer's unconsumed bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    self.buf.as_ptr().add(self.start),
                    v.iov_base.cast::<u8>(),
                    n,
                )
            };
            self.consume(n);
            done += n;
            v.iov_base = unsafe { v.iov_base.cast::<u8>().add(n).cast() };
            v.iov_len -= n;
            if v.iov_len == 0 {
                first += 1;
            }
        }
        if first == iov.len() {
            return Ok(done);
        }
        let last = iov.len().min(first + MAX_IOVECS);
        let rest = &mut iov[first..last];
        loop {
            // SAFETY: a zeroed msghdr is a valid empty one.
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = rest.as_mut_ptr();
            msg.msg_iovlen = rest.len() as _;
            let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT) };
            if n > 0 {
                self.received += n as u64;
                return Ok(done + n as usize);
            }
            if n == 0 {
                return Err(VncError::Closed {
                    during: "unexpectedly",
                });
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => {}
                io::ErrorKind::WouldBlock => return Ok(done),
                io::ErrorKind::ConnectionReset => {
                    return Err(VncError::Closed {
                        during: "unexpectedly",
                    })
                }
                _ => return Err(VncError::Io(e)),
            }
        }
    }

    /// Waits until the socket has bytes (or has closed, or failed: the
    /// next read says which).
    pub fn wait_readable(&mut self) -> Result<()> {
        let Some(fd) = self.direct_fd() else {
            return Ok(());
        };
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        loop {
            let n = unsafe { libc::poll(&mut p, 1, -1) };
            if n >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(VncError::Io(e));
            }
        }
    }

    /// Waits for data without requiring any: Ok(false) on a clean end of
    /// stream (at a message boundary).
    pub fn wait_data(&mut self) -> Result<bool> {
        match self.fill(1) {
            Ok(()) => Ok(true),
            Err(VncError::Closed { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub fn read_bytes<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.fill(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.available()[..N]);
        self.consume(N);
        Ok(out)
    }

    pub fn read_u8(&mut self) -> Result<u8> {
        Ok(self.read_bytes::<1>()?[0])
    }

    pub fn read_u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.read_bytes()?))
    }

    pub fn read_u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.read_bytes()?))
    }

    /// Reads `n` bytes into a new vector (handshake strings, names).
    pub fn read_vec(&mut self, n: usize) -> Result<Vec<u8>> {
        self.fill(n)?;
        let v = self.available()[..n].to_vec();
        self.consume(n);
        Ok(v)
    }

    /// Drops `n` bytes without keeping them (oversized cut text).
    pub fn skip(&mut self, mut n: u64) -> Result<()> {
        while n > 0 {
            let chunk = n.min(INITIAL_CAPACITY as u64) as usize;
            self.fill(chunk.min(self.len().max(1)))?;
            let k = chunk.min(self.len());
            self.consume(k);
            n -= k as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that hands out at most `step` bytes per read.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        step: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.step).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn reader(data: Vec<u8>, step: usize, limit: usize) -> Reader {
        Reader::new(
            Stream::Other(Box::new(Trickle { data, pos: 0, step })),
            limit,
        )
    }

    #[test]
    fn fills_across_short_reads_and_compacts() {
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut r = reader(data.clone(), 7, 1 << 20);
        let mut pos = 0;
        while pos < data.len() {
            let want = (data.len() - pos).min(70_001);
            r.fill(want).unwrap();
            assert_eq!(&r.available()[..want], &data[pos..pos + want]);
            r.consume(want / 2 + 1);
            pos += want / 2 + 1;
        }
        assert!(!r.wait_data().unwrap());
    }

    #[test]
    fn limit_and_eof_are_errors() {
        let mut r = reader(vec![1, 2, 3], 100, 1024);
        assert!(matches!(r.fill(2048), Err(VncError::Limit(_))));
        assert!(matches!(r.fill(4), Err(VncError::Closed { .. })));
        assert_eq!(r.read_u16().unwrap(), 0x0102);
        r.skip(1).unwrap();
        assert!(r.skip(1).is_err());
    }
}
