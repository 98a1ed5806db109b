//! What a run asks of each asset: one shape for every command. Each mode may first check
//! something of its own (the bastion's gateway), then probes every asset into an
//! [`AssetProbe`].

use std::sync::Arc;

use super::outcome::{AssetProbe, Probed};
use super::{KokoTarget, Prober, PushTarget, Target};

#[derive(Debug, Clone)]
pub enum Mode {
    /// `prober check`: the admin stages, then the row's system users.
    Check,
    /// `prober prepush`: whether pushing this system user would work.
    Prepush(Arc<PushTarget>),
    /// `prober gateway`: each system user through koko, by direct login.
    Koko(Arc<KokoTarget>),
}

/// The names of `prober gateway`'s results about koko itself and its web terminal.
pub const KOKO_RESULTS: [&str; 2] = ["gateway", "web terminal"];

/// A result about something other than an inventory row, checked before the assets.
#[derive(Debug)]
pub struct Preflight {
    pub name: &'static str,
    pub host: String,
    pub port: u16,
    pub probed: Probed,
}

impl Prober {
    /// What the mode checks before any asset: koko itself, then its web terminal port.
    pub async fn preflight(&self, mode: &Mode) -> Vec<Preflight> {
        let Mode::Koko(koko) = mode else {
            return Vec::new();
        };
        let mut done = vec![Preflight {
            name: KOKO_RESULTS[0],
            host: koko.host.clone(),
            port: koko.port,
            probed: self.koko(koko).await,
        }];
        if let Some(port) = koko.ws_port {
            done.push(Preflight {
                name: KOKO_RESULTS[1],
                host: koko.host.clone(),
                port,
                probed: self.web_terminal(&koko.host, port).await,
            });
        }
        done
    }

    /// One asset, as the mode asks. Waits first for `--per-host` to let one more probe of
    /// its host in, outside the asset's deadline: queueing behind other probes of the
    /// same host is not the asset's slowness.
    pub async fn probe(&self, mode: &Mode, target: &Target) -> AssetProbe {
        let _slot = self.admission.host(&target.host, target.asset.port).await;
        match mode {
            Mode::Check => self.check(target).await,
            Mode::Prepush(push) => AssetProbe::own(self.prepush(target, push).await),
            Mode::Koko(koko) => self.through_koko(koko, target).await,
        }
    }
}
