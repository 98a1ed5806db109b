//! The probe: a pipeline of stages, each a small function with its own timeout that
//! returns a typed outcome. The first failing stage decides the verdict; later stages
//! are not attempted.

mod admission;
mod algorithms;
mod auth;
pub mod banner;
mod check;
mod connect;
mod deadline;
pub mod exec;
pub mod inspect;
mod jump;
pub mod koko;
mod mode;
pub mod outcome;
mod prepush;
mod resolve;
mod session;
pub mod system_users;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use admission::Admission;
use russh::Preferred;
use russh::client::Config;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

pub use algorithms::Compat;
use deadline::Deadline;
pub use deadline::human as human_duration;
pub use jump::DEFAULT_CHANNELS as DEFAULT_JUMP_CHANNELS;
use jump::Jumps;
pub use koko::KokoTarget;
pub use mode::{KOKO_RESULTS, Mode, Preflight};
pub use outcome::{AssetProbe, Facts, Failure, Observations, Probed, SystemUserProbed};
pub use prepush::PushTarget;
pub use resolve::Resolver;
use session::{HostKeyCheck, Session};

use crate::address::known_hosts_name;
use crate::category::Stage;
use crate::credentials::{Credential, JumpHost};
use crate::inventory::Asset;
use crate::known_hosts::{HostKeyPolicy, KnownHosts};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub dns: Duration,
    pub connect: Duration,
    pub banner: Duration,
    pub kex: Duration,
    pub auth: Duration,
    pub exec: Duration,
    /// The whole probe of one asset.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        let s = Duration::from_secs;
        Timeouts {
            dns: s(5),
            connect: s(5),
            banner: s(10),
            kex: s(10),
            auth: s(15),
            exec: s(20),
            total: s(45),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub timeouts: Timeouts,
    pub compat: Compat,
    pub host_key_policy: HostKeyPolicy,
    /// known_hosts to check against and learn into; `None` checks nothing.
    pub known_hosts: Option<PathBuf>,
    pub nameserver: Option<SocketAddr>,
    /// Direct-tcpip channels in flight on one jump host connection.
    pub jump_channels: usize,
    /// New connections per second, for the whole run.
    pub rate: Option<f64>,
    /// Probes in flight per host and port; 0 for no limit.
    pub per_host: usize,
}

/// An asset ready to probe, with the credentials and jump host its row names.
#[derive(Debug, Clone)]
pub struct Target {
    pub asset: Asset,
    /// Where to connect: the row's host, or the HostName the ssh_config gives it.
    pub host: String,
    pub jump_host: Option<Arc<JumpHost>>,
    pub credential: Arc<Credential>,
    pub system_users: Vec<Arc<Credential>>,
    pub settings: HostSettings,
    /// What the ssh_config gave, for its records.
    pub from_config: Vec<String>,
}

/// What one host's ssh_config changes of the run's settings.
#[derive(Clone, Default)]
pub struct HostSettings {
    pub connect: Option<Duration>,
    pub host_key_policy: Option<HostKeyPolicy>,
    pub known_hosts: Option<Arc<KnownHosts>>,
}

impl std::fmt::Debug for HostSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostSettings")
            .field("connect", &self.connect)
            .field("host_key_policy", &self.host_key_policy)
            .field("known_hosts", &self.known_hosts.as_ref().map(|k| k.path()))
            .finish()
    }
}

impl Target {
    /// How to reach the asset; `ip` skips resolving it again.
    fn route(&self, ip: Option<IpAddr>) -> Route<'_> {
        match &self.jump_host {
            Some(jump_host) => Route::Jump(jump_host),
            None => Route::Direct(ip),
        }
    }

    /// Counts the asset once toward each credential it names (its admin, its jump host's,
    /// its system users'), for the run's one line about each that cannot work.
    pub fn note_credential_uses(&self) {
        let jump = self.jump_host.as_ref().map(|j| &j.credential);
        let mut named: Vec<&Credential> = Some(self.credential.as_ref())
            .into_iter()
            .chain(jump)
            .chain(self.system_users.iter().map(Arc::as_ref))
            .collect();
        named.sort_by_key(|c| std::ptr::from_ref(*c));
        named.dedup_by_key(|c| std::ptr::from_ref(*c));
        for credential in named {
            credential.used();
        }
    }

    fn via(&self) -> String {
        self.jump_host
            .as_ref()
            .map(|j| format!(" via jump host {}", j.name))
            .unwrap_or_default()
    }
}

/// Judges a server's banner before any key exchange: `Some` stops the probe there.
type BannerGate = fn(&str) -> Option<Failure>;

/// How a login reaches the asset.
enum Route<'a> {
    /// TCP to the asset; with the address when it is known already.
    Direct(Option<IpAddr>),
    /// A direct-tcpip channel through a jump host.
    Jump(&'a JumpHost),
}

/// Shared, read-only state of a run: build one, probe many assets concurrently.
pub struct Prober {
    timeouts: Timeouts,
    policy: HostKeyPolicy,
    resolver: Resolver,
    known_hosts: Option<Arc<KnownHosts>>,
    preferred: Preferred,
    config: Arc<Config>,
    jumps: Jumps,
    admission: Admission,
}

impl Prober {
    pub fn new(settings: &Settings) -> std::io::Result<Prober> {
        let known_hosts = match (&settings.known_hosts, settings.host_key_policy) {
            (Some(path), policy) if policy != HostKeyPolicy::Off => {
                Some(Arc::new(KnownHosts::load(path)?))
            }
            _ => None,
        };
        let resolver = match settings.nameserver {
            Some(server) => Resolver::nameserver(server, settings.timeouts.dns),
            None => Resolver::system(settings.timeouts.dns),
        };
        let preferred = algorithms::preferred(settings.compat);
        Ok(Prober {
            timeouts: settings.timeouts,
            policy: settings.host_key_policy,
            resolver,
            known_hosts,
            config: self::client_config(&preferred, settings.timeouts),
            preferred,
            jumps: Jumps::new(settings.jump_channels),
            admission: Admission::new(settings.rate, settings.per_host),
        })
    }

    /// Stages resolve to auth as the asset's admin, by the route its row gives.
    async fn login_admin(
        &self,
        target: &Target,
        obs: &mut Observations,
        deadline: &Deadline,
    ) -> Result<(Session, String), Failure> {
        let route = target.route(None);
        self.login(
            &target.host,
            target.asset.port,
            route,
            (&target.credential, &target.settings),
            obs,
            deadline,
        )
        .await
    }

    /// Stages resolve to auth on `host:port`: a logged-in session, and how it
    /// authenticated.
    async fn login(
        &self,
        host: &str,
        port: u16,
        route: Route<'_>,
        (credential, settings): (&Credential, &HostSettings),
        obs: &mut Observations,
        deadline: &Deadline,
    ) -> Result<(Session, String), Failure> {
        if let Some(failure) = auth::unusable(credential) {
            return Err(failure);
        }
        let t = &self.timeouts;
        let known_name = known_hosts_name(host, port);
        let mut session = match route {
            Route::Jump(jump_host) => {
                let stream = self.through(jump_host, host, port, deadline).await?;
                self.ssh(stream, vec![known_name], settings, obs, deadline, None)
                    .await?
            }
            Route::Direct(known_ip) => {
                let connect = settings.connect.unwrap_or(t.connect);
                let (tcp, ip) = self
                    .tcp(host, port, known_ip, connect, obs, deadline)
                    .await?;
                obs.local_ip = tcp.local_addr().ok().map(|a| a.ip());
                let mut names = vec![known_name];
                let by_address = known_hosts_name(&ip.to_string(), port);
                if !names.contains(&by_address) {
                    names.push(by_address);
                }
                self.ssh(tcp, names, settings, obs, deadline, None).await?
            }
        };
        let how = deadline
            .stage(
                Stage::Auth,
                t.auth,
                auth::authenticate(&mut session, credential, obs),
            )
            .await?;
        Ok((session, how))
    }

    /// Stages resolve and connect, recording the address; `known` skips resolving.
    async fn tcp(
        &self,
        host: &str,
        port: u16,
        known: Option<IpAddr>,
        connect: Duration,
        obs: &mut Observations,
        deadline: &Deadline,
    ) -> Result<(TcpStream, IpAddr), Failure> {
        let t = &self.timeouts;
        let addrs = match known {
            Some(ip) => vec![ip],
            None => {
                deadline
                    .stage(Stage::Resolve, t.dns, self.resolver.resolve(host))
                    .await?
            }
        };
        deadline.paused(self.admission.connection()).await;
        let (tcp, ip) = deadline
            .stage(Stage::Connect, connect, connect::connect(&addrs, port))
            .await?;
        obs.ip = Some(ip);
        Ok((tcp, ip))
    }

    /// The banner and key exchange on any stream; `names` are what known_hosts may call
    /// the host.
    async fn ssh<S>(
        &self,
        stream: S,
        names: Vec<String>,
        settings: &HostSettings,
        obs: &mut Observations,
        deadline: &Deadline,
        gate: Option<BannerGate>,
    ) -> Result<Session, Failure>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let t = &self.timeouts;
        let mut seen = None;
        let exchanged = deadline
            .stage(Stage::Banner, t.banner, banner::exchange(stream, &mut seen))
            .await;
        let (stream, banner) = exchanged.map_err(|failure| {
            obs.banner = seen.clone();
            banner_failure(failure, seen)
        })?;
        if let Some(failure) = gate.and_then(|gate| gate(&banner)) {
            obs.banner = Some(banner);
            return Err(failure);
        }
        obs.banner = Some(banner);
        let known_hosts = settings
            .known_hosts
            .clone()
            .or_else(|| self.known_hosts.clone());
        let config = self.config_for(known_hosts.as_deref(), &names);
        let check = HostKeyCheck {
            policy: settings.host_key_policy.unwrap_or(self.policy),
            known_hosts,
            names,
        };
        deadline
            .stage(
                Stage::Kex,
                t.kex,
                session::handshake(stream, config, check, obs),
            )
            .await
    }

    /// What the run did with each jump host, for the summary.
    pub fn jump_report(&self) -> Vec<String> {
        self.jumps.report()
    }

    /// The known_hosts file in use, with the keys this run added to it.
    pub fn known_hosts(&self) -> Option<&KnownHosts> {
        self.known_hosts.as_deref()
    }

    /// The client config asking first for the key algorithms `known_hosts` (the host's
    /// own file, else the run's) holds for the host.
    fn config_for(&self, known_hosts: Option<&KnownHosts>, names: &[String]) -> Arc<Config> {
        let known = match known_hosts {
            Some(kh) => kh.known_algorithms(names),
            None => return self.config.clone(),
        };
        match algorithms::with_known_first(&self.preferred, &known) {
            Some(preferred) => client_config(&preferred, self.timeouts),
            None => self.config.clone(),
        }
    }
}

fn client_config(preferred: &Preferred, timeouts: Timeouts) -> Arc<Config> {
    algorithms::client_config(preferred.clone(), timeouts.total)
}

/// Politeness only: the server frees the session at once instead of at its timeout.
async fn goodbye(session: Session) {
    let _ = tokio::time::timeout(
        Duration::from_millis(200),
        session.disconnect(russh::Disconnect::ByApplication, "", ""),
    )
    .await;
}

/// Data that is not an SSH banner, followed by silence, is not SSH either.
fn banner_failure(failure: Failure, seen: Option<String>) -> Failure {
    match seen {
        Some(text) if failure.category == crate::category::Category::SshBannerTimeout => {
            Failure::at_home(
                crate::category::Category::SshNotSsh,
                format!("the server sent {text:?} but no SSH identification; not an SSH server"),
            )
        }
        _ => failure,
    }
}
