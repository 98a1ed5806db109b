//! What a probe learns along the way, and the failure that ends it.

use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use super::inspect::Sudo;
use crate::category::{Category, Stage};

/// The verdict of the first stage that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub category: Category,
    pub stage: Stage,
    pub message: String,
}

impl Failure {
    pub fn new(category: Category, stage: Stage, message: impl Into<String>) -> Failure {
        Failure {
            category,
            stage,
            message: message.into(),
        }
    }

    /// A failure at the category's own stage.
    pub fn at_home(category: Category, message: impl Into<String>) -> Failure {
        let stage = category.stage().unwrap_or(Stage::Done);
        Failure::new(category, stage, message)
    }
}

/// Everything recorded about an asset, filled in stage by stage; what a failed probe did
/// not reach stays `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observations {
    pub ip: Option<IpAddr>,
    /// Our own address on the connection: what the asset's sshd sees as the client.
    pub local_ip: Option<IpAddr>,
    pub banner: Option<String>,
    pub kex: Option<String>,
    pub cipher: Option<String>,
    pub host_key_alg: Option<String>,
    pub host_key_fingerprint: Option<String>,
    pub auth_methods: Option<Vec<String>>,
    pub uid: Option<u32>,
    pub sudo: Option<Sudo>,
    pub python: Option<String>,
    pub facts: Option<Facts>,
}

/// The "update hardware info" facts, gathered in the same exec as the checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub hostname: Option<String>,
    pub os: Option<String>,
    pub os_version: Option<String>,
    pub kernel: Option<String>,
    pub arch: Option<String>,
    pub cpus: Option<u32>,
    pub memory_mb: Option<u64>,
}

/// What one login and its checks gave.
#[derive(Debug)]
pub struct Probed {
    /// The success message, or the failure that stopped the probe.
    pub verdict: Result<String, Failure>,
    pub observations: Observations,
    pub duration: Duration,
}

/// A probe under way: its clock and what it has observed so far. Every probe starts
/// one and ends it with [`Probing::done`], so they all time themselves alike.
#[derive(Debug)]
pub struct Probing {
    started: Instant,
    pub obs: Observations,
}

impl Probing {
    pub fn start() -> Probing {
        Probing {
            started: Instant::now(),
            obs: Observations::default(),
        }
    }

    pub fn done(self, verdict: Result<String, Failure>) -> Probed {
        Probed {
            verdict,
            observations: self.obs,
            duration: self.started.elapsed(),
        }
    }
}

/// The result for one (asset, system user) pair.
#[derive(Debug)]
pub struct SystemUserProbed {
    /// The name of the system user's credential.
    pub credential: String,
    pub probed: Probed,
}

/// What probing one asset gave, in every run mode: its own verdict (none through koko,
/// where only its system users log in), then one per system user.
#[derive(Debug)]
pub struct AssetProbe {
    pub own: Option<Probed>,
    pub system_users: Vec<SystemUserProbed>,
}

impl AssetProbe {
    pub fn own(probed: Probed) -> AssetProbe {
        AssetProbe {
            own: Some(probed),
            system_users: Vec::new(),
        }
    }
}
