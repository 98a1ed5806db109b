//! The probe: a pipeline of stages, each a small function with its own timeout that
//! returns a typed outcome. The first failing stage decides the verdict; later stages
//! are not attempted.

mod algorithms;
mod auth;
pub mod banner;
mod connect;
mod deadline;
mod exec;
pub mod inspect;
pub mod outcome;
mod prepush;
mod resolve;
mod session;
pub mod system_users;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use russh::Preferred;
use russh::client::Config;
use tokio::time::Instant;

pub use algorithms::Compat;
use deadline::Deadline;
pub use deadline::human as human_duration;
pub use outcome::{Facts, Failure, Observations};
pub use prepush::PushTarget;
pub use resolve::Resolver;
use session::{HostKeyCheck, Session};
pub use system_users::SystemUserProbed;

use crate::category::Stage;
use crate::credentials::Credential;
use crate::inventory::Asset;
use crate::known_hosts::{HostKeyPolicy, KnownHosts, host_port};

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
}

/// What probing one asset gave: its own verdict, and one per system user.
#[derive(Debug)]
pub struct AssetProbe {
    pub admin: Probed,
    pub system_users: Vec<SystemUserProbed>,
}

/// What one login and its checks gave.
#[derive(Debug)]
pub struct Probed {
    /// The success message, or the failure that stopped the probe.
    pub verdict: Result<String, Failure>,
    pub observations: Observations,
    pub duration: Duration,
}

/// Shared, read-only state of a run: build one, probe many assets concurrently.
pub struct Prober {
    timeouts: Timeouts,
    policy: HostKeyPolicy,
    resolver: Resolver,
    known_hosts: Option<Arc<KnownHosts>>,
    preferred: Preferred,
    config: Arc<Config>,
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
        })
    }

    /// The admin stages of one asset, then its system users.
    pub async fn probe(
        &self,
        asset: &Asset,
        credential: &Credential,
        system_users: &[Arc<Credential>],
    ) -> AssetProbe {
        let started = Instant::now();
        let deadline = Deadline::after(self.timeouts.total);
        let mut obs = Observations::default();
        let (verdict, session) = match self
            .login(asset, None, credential, &mut obs, &deadline)
            .await
        {
            Err(failure) => (Err(failure), None),
            Ok((session, how)) => {
                let inspected = deadline
                    .stage(
                        Stage::Inspect,
                        self.timeouts.exec,
                        inspect::inspect(&session, &mut obs),
                    )
                    .await
                    .map(|done| format!("{done}; logged in as {} with {how}", credential.username));
                (inspected, Some(session))
            }
        };
        let admin = Probed {
            verdict,
            observations: obs,
            duration: started.elapsed(),
        };
        let system_users =
            system_users::check(self, asset, &admin, session.as_ref(), system_users).await;
        if let Some(session) = session {
            goodbye(session).await;
        }
        AssetProbe {
            admin,
            system_users,
        }
    }
    /// Whether pushing `target` to the asset would work; changes nothing there.
    pub async fn prepush(
        &self,
        asset: &Asset,
        credential: &Credential,
        target: &PushTarget,
    ) -> Probed {
        let started = Instant::now();
        let deadline = Deadline::after(self.timeouts.total);
        let mut obs = Observations::default();
        let verdict = match self
            .login(asset, None, credential, &mut obs, &deadline)
            .await
        {
            Err(failure) => Err(failure),
            Ok((session, _)) => {
                let checked = deadline
                    .stage(
                        Stage::Push,
                        self.timeouts.exec,
                        prepush::check(&session, target, &mut obs),
                    )
                    .await;
                goodbye(session).await;
                checked
            }
        };
        Probed {
            verdict,
            observations: obs,
            duration: started.elapsed(),
        }
    }

    /// Stages resolve to auth: a logged-in session, and how it authenticated. With `ip`,
    /// the name is not resolved again (a second login to the same asset).
    async fn login(
        &self,
        asset: &Asset,
        ip: Option<IpAddr>,
        credential: &Credential,
        obs: &mut Observations,
        deadline: &Deadline,
    ) -> Result<(Session, String), Failure> {
        let t = &self.timeouts;
        let addrs = match ip {
            Some(ip) => vec![ip],
            None => {
                deadline
                    .stage(Stage::Resolve, t.dns, self.resolver.resolve(&asset.host))
                    .await?
            }
        };
        let (tcp, ip) = deadline
            .stage(
                Stage::Connect,
                t.connect,
                connect::connect(&addrs, asset.port),
            )
            .await?;
        obs.ip = Some(ip);
        obs.local_ip = tcp.local_addr().ok().map(|a| a.ip());

        let mut seen = None;
        let exchanged = deadline
            .stage(Stage::Banner, t.banner, banner::exchange(tcp, &mut seen))
            .await;
        let (stream, banner) = exchanged.map_err(|failure| {
            obs.banner = seen.clone();
            banner_failure(failure, seen)
        })?;
        obs.banner = Some(banner);

        let mut names = vec![host_port(&asset.host, asset.port)];
        let by_address = host_port(&ip.to_string(), asset.port);
        if !names.contains(&by_address) {
            names.push(by_address);
        }
        let config = self.config_for(&names);
        let check = HostKeyCheck {
            policy: self.policy,
            known_hosts: self.known_hosts.clone(),
            names,
        };
        let mut session = deadline
            .stage(
                Stage::Kex,
                t.kex,
                session::handshake(stream, config, check, obs),
            )
            .await?;
        let how = deadline
            .stage(
                Stage::Auth,
                t.auth,
                auth::authenticate(&mut session, credential, obs),
            )
            .await?;
        Ok((session, how))
    }

    /// The known_hosts file in use, with the keys this run added to it.
    pub fn known_hosts(&self) -> Option<&KnownHosts> {
        self.known_hosts.as_deref()
    }

    fn config_for(&self, names: &[String]) -> Arc<Config> {
        let known = match &self.known_hosts {
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
