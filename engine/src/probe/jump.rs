//! Domain gateways: assets reached through a jump host with a `direct-tcpip` channel, like
//! `ssh -J`. One SSH connection per jump host serves every asset behind it, with a cap on
//! the channels in flight; a jump host that cannot be reached or logged in to is tried
//! once, and its failure given to every asset behind it.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use russh::client::Msg;
use russh::{ChannelOpenFailure, ChannelStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::deadline::Deadline;
use super::outcome::{Failure, Observations};
use super::session::Session;
use super::{Prober, Route};
use crate::address::authority;
use crate::category::{Category, Stage};
use crate::credentials::JumpHost;
use crate::sync;

/// Direct-tcpip channels one jump connection carries at once, unless told otherwise.
pub const DEFAULT_CHANNELS: usize = 16;

pub struct Jumps {
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<State>>>>,
    usage: Mutex<HashMap<String, Usage>>,
    channels: usize,
}

enum State {
    Empty,
    Up(Arc<Connection>),
    Down(Failure),
}

struct Connection {
    session: Session,
    channels: Arc<Semaphore>,
}

/// What a run did with one jump host, for the end-of-run summary.
#[derive(Debug, Default)]
struct Usage {
    logins: usize,
    opened: usize,
    most_at_once: usize,
}

impl Jumps {
    pub fn new(channels: usize) -> Jumps {
        Jumps {
            slots: Mutex::new(HashMap::new()),
            usage: Mutex::new(HashMap::new()),
            channels: if channels == 0 {
                DEFAULT_CHANNELS
            } else {
                channels
            },
        }
    }

    /// One line per jump host used: logins, channels, and the most open at once.
    pub fn report(&self) -> Vec<String> {
        let usage = sync::lock(&self.usage);
        let mut lines: Vec<String> = usage
            .iter()
            .map(|(name, u)| {
                format!(
                    "jump host {name}: {} connection(s), {} channel(s), at most {} at once (--jump-channels {})",
                    u.logins, u.opened, u.most_at_once, self.channels
                )
            })
            .collect();
        lines.sort();
        lines
    }

    fn count(&self, name: &str, record: impl FnOnce(&mut Usage)) {
        let mut usage = sync::lock(&self.usage);
        record(usage.entry(name.to_string()).or_default());
    }

    fn slot(&self, name: &str) -> Arc<tokio::sync::Mutex<State>> {
        let mut slots = sync::lock(&self.slots);
        slots
            .entry(name.to_string())
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(State::Empty)))
            .clone()
    }
}

/// A stream that holds its channel slot until russh drops it with the session.
pub struct Permitted<S> {
    inner: S,
    _permit: OwnedSemaphorePermit,
}

impl<S: AsyncRead + Unpin> AsyncRead for Permitted<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Permitted<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

pub type JumpStream = Permitted<ChannelStream<Msg>>;

impl Prober {
    /// A channel through `jump` to `host:port`, as the asset's TCP connection.
    pub(super) async fn through(
        &self,
        jump: &JumpHost,
        host: &str,
        port: u16,
        deadline: &Deadline,
    ) -> Result<JumpStream, Failure> {
        // The jump host's own login has its own budget; this asset waits only its own.
        let connection = deadline
            .wait(
                Stage::Jump,
                "the jump host connection was not ready",
                self.jump_connection(jump),
            )
            .await??;
        let permit = deadline
            .wait(
                Stage::Jump,
                "no channel on the jump host came free",
                connection.channels.clone().acquire_owned(),
            )
            .await?
            .map_err(|_| {
                Failure::new(
                    Category::JumpUnreachable,
                    Stage::Jump,
                    "the jump connection was closed",
                )
            })?;
        let opened = deadline
            .stage(Stage::Jump, self.timeouts.connect, async {
                connection
                    .session
                    .channel_open_direct_tcpip(host, u32::from(port), "127.0.0.1", 0)
                    .await
                    .map_err(|e| channel_failure(jump, host, port, e))
            })
            .await;
        let in_flight = self.jumps.channels - connection.channels.available_permits();
        self.jumps.count(&jump.name, |u| {
            u.opened += usize::from(opened.is_ok());
            u.most_at_once = u.most_at_once.max(in_flight);
        });
        match opened {
            Ok(channel) => Ok(Permitted {
                inner: channel.into_stream(),
                _permit: permit,
            }),
            Err(failure) => {
                if connection.session.is_closed() {
                    // Let the next asset reconnect instead of inheriting a dead session,
                    // unless another asset already did.
                    let slot = self.jumps.slot(&jump.name);
                    let mut state = slot.lock().await;
                    if matches!(&*state, State::Up(current) if Arc::ptr_eq(current, &connection)) {
                        *state = State::Empty;
                    }
                }
                Err(failure)
            }
        }
    }

    async fn jump_connection(&self, jump: &JumpHost) -> Result<Arc<Connection>, Failure> {
        let slot = self.jumps.slot(&jump.name);
        let mut state = slot.lock().await;
        match &*state {
            State::Up(connection) if !connection.session.is_closed() => {
                return Ok(connection.clone());
            }
            State::Down(failure) => return Err(failure.clone()),
            _ => {}
        }
        // A gateway credential that cannot work keeps its own category: the fix is on
        // this machine, not in the bastion's domain settings that jump_auth_failed names.
        if let Some(local) = super::auth::unusable(&jump.credential) {
            let failure = Failure::new(
                local.category,
                Stage::Jump,
                format!("jump host {}: {}", jump.name, local.message),
            );
            *state = State::Down(failure.clone());
            return Err(failure);
        }
        let deadline = Deadline::after(self.timeouts.total);
        let mut observations = Observations::default();
        // Boxed: a jump host's own login is direct, but the compiler cannot know that.
        let login = Box::pin(self.login(
            &jump.host,
            jump.port,
            Route::Direct(None),
            (&jump.credential, &jump.settings),
            &mut observations,
            &deadline,
        ))
        .await;
        match login {
            Ok((session, _)) => {
                self.jumps.count(&jump.name, |u| u.logins += 1);
                let connection = Arc::new(Connection {
                    session,
                    channels: Arc::new(Semaphore::new(self.jumps.channels)),
                });
                *state = State::Up(connection.clone());
                Ok(connection)
            }
            Err(failure) => {
                let failure = jump_failure(jump, failure);
                *state = State::Down(failure.clone());
                Err(failure)
            }
        }
    }
}

/// The jump host's own failure, as the assets behind it see it: a verdict of the auth
/// stage (the server's refusal, or the credential file's problem) is the jump host
/// refusing the gateway's login; anything else (earlier stages, a timeout) is the jump
/// host out of reach.
fn jump_failure(jump: &JumpHost, failure: Failure) -> Failure {
    let category = if failure.category.stage() == Some(Stage::Auth) {
        Category::JumpAuthFailed
    } else {
        Category::JumpUnreachable
    };
    Failure::new(
        category,
        Stage::Jump,
        format!(
            "jump host {} ({}): {}: {}",
            jump.name,
            authority(&jump.host, jump.port),
            failure.category,
            failure.message
        ),
    )
}

fn channel_failure(jump: &JumpHost, host: &str, port: u16, error: russh::Error) -> Failure {
    let (category, what) = match error {
        russh::Error::ChannelOpenFailure(ChannelOpenFailure::AdministrativelyProhibited) => (
            Category::JumpForwardProhibited,
            "refuses to forward: administratively prohibited (AllowTcpForwarding no?)".to_string(),
        ),
        russh::Error::ChannelOpenFailure(reason) => (
            Category::JumpTargetUnreachable,
            format!(
                "could not connect to {} ({reason:?})",
                authority(host, port)
            ),
        ),
        other => (
            Category::JumpUnreachable,
            format!("lost the connection: {other}"),
        ),
    };
    Failure::new(
        category,
        Stage::Jump,
        format!("jump host {} {what}", jump.name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::CredentialSpec;

    #[test]
    fn a_refused_login_is_jump_auth_failed_and_anything_earlier_unreachable() {
        let credential = CredentialSpec {
            username: "jump".into(),
            agent: true,
            ..Default::default()
        }
        .resolve("dmz", std::path::Path::new("."), &mut Vec::new());
        let jump = JumpHost {
            name: "dmz".into(),
            host: "::1".into(),
            port: 2222,
            credential,
            settings: Default::default(),
        };
        let passed_on = |category| jump_failure(&jump, Failure::at_home(category, "x")).category;
        for refused in [
            Category::AuthFailed,
            Category::AuthMethodUnavailable,
            Category::AuthPartial,
            Category::KeyUnreadable,
            Category::KeyPassphraseRequired,
            Category::CredentialUnavailable,
        ] {
            assert_eq!(passed_on(refused), Category::JumpAuthFailed, "{refused}");
        }
        for unreachable in [
            Category::TcpRefused,
            Category::SshBannerTimeout,
            Category::HostkeyChanged,
            Category::Timeout,
        ] {
            assert_eq!(
                passed_on(unreachable),
                Category::JumpUnreachable,
                "{unreachable}"
            );
        }
        let message = jump_failure(&jump, Failure::at_home(Category::TcpRefused, "x")).message;
        assert!(message.contains("([::1]:2222)"), "{message}");
    }
}
