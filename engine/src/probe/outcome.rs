//! What a probe learns along the way, and the failure that ends it.

use std::net::IpAddr;

use serde::Serialize;

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
