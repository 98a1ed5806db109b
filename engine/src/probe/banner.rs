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

/// RFC 4253 allows lines before the identification; more than this is not SSH.
const MAX_PREAMBLE: usize = 16 * 1024;

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
        return Err(io_failure(&e, &[]));
    }
    // Read straight into the heap buffer: a buffer in this future would sit in every
    // probe in flight, thousands at once.
    let mut received = Vec::with_capacity(512);
    let mut line_start = 0;
    loop {
        received.reserve(256);
        match stream.read_buf(&mut received).await {
            Ok(0) => return Err(closed(&received)),
            Ok(_) => {}
            Err(e) => return Err(io_failure(&e, &received)),
        }
        while let Some(end) = received[line_start..].iter().position(|b| *b == b'\n') {
            let line = &received[line_start..line_start + end];
            let text = printable(line);
            if seen.is_none() {
                *seen = Some(text.clone());
            }
            if let Some(version) = text.strip_prefix("SSH-") {
                let version = version.split('-').next().unwrap_or("");
                return match version {
                    "2.0" | "1.99" => Ok((
                        Preface::new(stream, received[line_start..].to_vec(), ours.into_bytes()),
                        text,
                    )),
                    v if v.starts_with("1.") => Err(Failure::at_home(
                        Category::SshProtocol1,
                        format!("server speaks only SSH protocol {v}: {text}"),
                    )),
                    v => Err(Failure::at_home(
                        Category::SshNotSsh,
                        format!("unsupported SSH protocol version {v:?}: {text}"),
                    )),
                };
            }
            if looks_like_other_protocol(line) {
                return Err(not_ssh(&text));
            }
            line_start += end + 1;
        }
        if received.len() > MAX_PREAMBLE {
            return Err(not_ssh(&printable(first_line(&received))));
        }
    }
}

fn first_line(bytes: &[u8]) -> &[u8] {
    bytes.split(|b| *b == b'\n').next().unwrap_or(bytes)
}

/// Greetings of services commonly found on a wrong port, and binary data.
fn looks_like_other_protocol(line: &[u8]) -> bool {
    const GREETINGS: &[&[u8]] = &[b"HTTP/", b"220 ", b"220-", b"+OK", b"* OK", b"RFB ", b"<"];
    GREETINGS.iter().any(|g| line.starts_with(g))
        || line
            .iter()
            .any(|b| (*b < 0x20 && !matches!(b, b'\t' | b'\r')) || *b == 0x7f)
}

fn not_ssh(text: &str) -> Failure {
    Failure::at_home(
        Category::SshNotSsh,
        format!("the server is not an SSH server; it sent: {text}"),
    )
}

fn closed(received: &[u8]) -> Failure {
    if received.is_empty() {
        Failure::at_home(
            Category::SshClosedBeforeBanner,
            "connection closed by the server before any SSH banner",
        )
    } else {
        not_ssh(&printable(first_line(received)))
    }
}

fn io_failure(error: &std::io::Error, received: &[u8]) -> Failure {
    match error.kind() {
        _ if !received.is_empty() => not_ssh(&printable(first_line(received))),
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
mod tests {
    use super::*;

    async fn run(server_says: &'static [u8]) -> (Result<String, Failure>, Option<String>) {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            server.write_all(server_says).await.unwrap();
            let mut sink = [0u8; 256];
            let _ = server.read(&mut sink).await;
        });
        let mut seen = None;
        let result = exchange(client, &mut seen).await.map(|(_, banner)| banner);
        (result, seen)
    }

    #[tokio::test]
    async fn ssh2_banners_after_preamble_lines() {
        let (banner, _) = run(b"Welcome\r\nSSH-2.0-OpenSSH_9.2p1 Debian-2\r\n").await;
        assert_eq!(banner.unwrap(), "SSH-2.0-OpenSSH_9.2p1 Debian-2");
        let (banner, _) = run(b"SSH-1.99-Cisco-1.25\r\n").await;
        assert_eq!(banner.unwrap(), "SSH-1.99-Cisco-1.25");
    }

    #[tokio::test]
    async fn other_protocols_and_ssh1() {
        let (r, seen) = run(b"HTTP/1.0 400 Bad Request\r\n\r\n").await;
        assert_eq!(r.unwrap_err().category, Category::SshNotSsh);
        assert_eq!(seen.as_deref(), Some("HTTP/1.0 400 Bad Request"));
        let (r, _) = run(b"SSH-1.5-OpenSSH_3.4\n").await;
        assert_eq!(r.unwrap_err().category, Category::SshProtocol1);
        let (r, _) = run(b"\x00\x01\x02binary\n").await;
        assert_eq!(r.unwrap_err().category, Category::SshNotSsh);
    }
}
