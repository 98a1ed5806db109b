//! Stage 3: the identification exchange. We send our identification first, as OpenSSH
//! does: a server that then drops the connection resets it (unread data), which is what
//! users see as `kex_exchange_identification: read: Connection reset by peer`. We read
//! the server's line ourselves, so every way of failing here gets its own category, then
//! hand russh a stream that replays it.

use std::io::ErrorKind;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::outcome::Failure;
use crate::category::Category;
use crate::text::printable;

pub const CLIENT_ID: &str = concat!("SSH-2.0-prober_", env!("CARGO_PKG_VERSION"));

/// OpenSSH's limits (`SSH_MAX_PRE_BANNER_LINES`, `SSH_MAX_BANNER_LEN` in ssh.h, applied
/// in kex.c's `kex_exchange_identification`): the identification must come within the
/// first 1024 lines, and no line may hold more than 8192 bytes before its CR LF. Servers
/// the OpenSSH client logs in to pass here too.
pub const MAX_LINES: usize = 1024;
pub const MAX_LINE: usize = 8192;

/// Sends our identification and reads the server's. `seen` receives the first line the
/// server sent, SSH or not, as soon as it is complete, so a caller that times out still
/// knows what arrived.
pub async fn exchange<S>(
    mut stream: S,
    seen: &mut Option<String>,
) -> Result<(Preface<S>, String), Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let ours = format!("{CLIENT_ID}\r\n");
    if let Err(e) = stream.write_all(ours.as_bytes()).await {
        return Err(io_failure(&e, seen, &[]));
    }
    // Read straight into the heap buffer: a buffer in this future would sit in every
    // probe in flight, thousands at once. Lines before the identification are dropped
    // once read, so it holds at most one line.
    let mut reader = Lines::default();
    loop {
        reader.pending.reserve(512);
        match stream.read_buf(&mut reader.pending).await {
            Ok(0) => return Err(closed(seen, &reader.pending)),
            Ok(_) => {}
            Err(e) => return Err(io_failure(&e, seen, &reader.pending)),
        }
        if let Some(identification) = reader.next_identification(seen)? {
            return Ok((
                Preface::new(stream, reader.pending, ours.into_bytes()),
                identification,
            ));
        }
    }
}

/// The server's first lines, read up to its identification.
#[derive(Default)]
struct Lines {
    /// Bytes from the start of the line being read on.
    pending: Vec<u8>,
    /// Lines read so far.
    count: usize,
}

impl Lines {
    /// Takes the complete lines in `pending`: the identification when it has come
    /// (then `pending` starts with it, for the SSH library to read again), `None` to
    /// read on, or why the server is not one to talk SSH with.
    fn next_identification(
        &mut self,
        seen: &mut Option<String>,
    ) -> Result<Option<String>, Failure> {
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line = &self.pending[..end];
            let content = line.strip_suffix(b"\r").unwrap_or(line);
            let text = printable(content);
            if seen.is_none() {
                *seen = Some(text.clone());
            }
            self.count += 1;
            if content.len() > MAX_LINE {
                return Err(too_long(content));
            }
            // OpenSSH's rule: a NUL, or a CR not ending the line, is not an SSH peer.
            if content.contains(&0) || invalid_cr(content) {
                return Err(not_ssh(&text));
            }
            if content.starts_with(b"SSH-") {
                return identification(&text).map(Some);
            }
            if looks_like_other_protocol(content) {
                return Err(not_ssh(&text));
            }
            if self.count >= MAX_LINES {
                return Err(Failure::at_home(
                    Category::SshNotSsh,
                    format!(
                        "no SSH identification in the server's first {MAX_LINES} lines; the first was: {}",
                        seen.as_deref().unwrap_or("")
                    ),
                ));
            }
            self.pending.drain(..=end);
        }
        let partial = self.pending.strip_suffix(b"\r").unwrap_or(&self.pending);
        if partial.len() > MAX_LINE {
            return Err(too_long(partial));
        }
        Ok(None)
    }
}

/// A CR anywhere but before the LF (OpenSSH also takes `\r\r\n`).
fn invalid_cr(content: &[u8]) -> bool {
    content
        .iter()
        .zip(content.iter().skip(1).chain([&b'\r']))
        .any(|(b, next)| *b == b'\r' && *next != b'\r')
}

fn too_long(line: &[u8]) -> Failure {
    Failure::at_home(
        Category::SshNotSsh,
        format!(
            "the server sent a line longer than {MAX_LINE} bytes before any SSH identification: {}",
            printable(line)
        ),
    )
}

/// Judges the identification line `SSH-protoversion-softwareversion`.
fn identification(text: &str) -> Result<String, Failure> {
    let version = text.strip_prefix("SSH-").unwrap_or(text);
    let version = version.split('-').next().unwrap_or("");
    match version {
        "2.0" | "1.99" => Ok(text.to_string()),
        v if v.starts_with("1.") => Err(Failure::at_home(
            Category::SshProtocol1,
            format!("server speaks only SSH protocol {v}: {text}"),
        )),
        v => Err(Failure::at_home(
            Category::SshNotSsh,
            format!("unsupported SSH protocol version {v:?}: {text}"),
        )),
    }
}

/// Greetings of services commonly found on a wrong port.
fn looks_like_other_protocol(line: &[u8]) -> bool {
    const GREETINGS: &[&[u8]] = &[b"HTTP/", b"220 ", b"220-", b"+OK", b"* OK", b"RFB ", b"<"];
    GREETINGS.iter().any(|g| line.starts_with(g))
}

fn not_ssh(text: &str) -> Failure {
    Failure::at_home(
        Category::SshNotSsh,
        format!("the server is not an SSH server; it sent: {text}"),
    )
}

fn closed(seen: &Option<String>, partial: &[u8]) -> Failure {
    match seen {
        Some(first) => not_ssh(first),
        None if !partial.is_empty() => not_ssh(&printable(partial)),
        None => Failure::at_home(
            Category::SshClosedBeforeBanner,
            "connection closed by the server before any SSH banner",
        ),
    }
}

fn io_failure(error: &std::io::Error, seen: &Option<String>, partial: &[u8]) -> Failure {
    match error.kind() {
        _ if seen.is_some() || !partial.is_empty() => closed(seen, partial),
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
            Failure::at_home(
                Category::SshResetBeforeBanner,
                format!("connection reset before the SSH banner ({error})"),
            )
        }
        _ => Failure::at_home(
            Category::SshClosedBeforeBanner,
            format!("connection failed before the SSH banner ({error})"),
        ),
    }
}

/// The stream russh gets: it first reads back the server's identification we already
/// consumed, and its own identification write is dropped because we already sent it.
pub struct Preface<S> {
    inner: S,
    replay: Vec<u8>,
    replayed: usize,
    already_sent: Vec<u8>,
    swallowed: usize,
}

impl<S> Preface<S> {
    fn new(inner: S, replay: Vec<u8>, already_sent: Vec<u8>) -> Preface<S> {
        Preface {
            inner,
            replay,
            replayed: 0,
            already_sent,
            swallowed: 0,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Preface<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.replayed < this.replay.len() {
            let n = buf.remaining().min(this.replay.len() - this.replayed);
            buf.put_slice(&this.replay[this.replayed..this.replayed + n]);
            this.replayed += n;
            if this.replayed == this.replay.len() {
                this.replay = Vec::new();
                this.replayed = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Preface<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let pending = &this.already_sent[this.swallowed..];
        if !pending.is_empty() {
            let n = pending.len().min(buf.len());
            if buf[..n] != pending[..n] {
                return Poll::Ready(Err(std::io::Error::other(
                    "SSH client wrote an identification different from the one already sent",
                )));
            }
            this.swallowed += n;
            return Poll::Ready(Ok(n));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
