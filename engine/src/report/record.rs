//! One result line: the same fields in every output format.

use std::path::Path;

use serde::Serialize;

use crate::category::{Category, Lang, Stage};
use crate::inventory::{Asset, Field, InvalidRow};
use crate::probe::{Facts, Probed, SystemUserProbed};

/// Keys and order are part of the interface: JSONL consumers rely on exactly these.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub name: String,
    /// For a system user's result: its credential's name; `None` for the asset's own.
    pub system_user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub ip: Option<String>,
    pub category: Category,
    pub stage: Stage,
    pub message: String,
    pub hint: &'static str,
    pub banner: Option<String>,
    pub kex: Option<String>,
    pub cipher: Option<String>,
    pub host_key_alg: Option<String>,
    pub host_key_fingerprint: Option<String>,
    pub auth_methods: Option<Vec<String>>,
    pub uid: Option<u32>,
    pub sudo: Option<String>,
    pub python: Option<String>,
    pub facts: Option<Facts>,
    pub duration_ms: u64,
}

pub const FIELDS: &[&str] = &[
    "name",
    "system_user",
    "host",
    "port",
    "ip",
    "category",
    "stage",
    "message",
    "hint",
    "banner",
    "kex",
    "cipher",
    "host_key_alg",
    "host_key_fingerprint",
    "auth_methods",
    "uid",
    "sudo",
    "python",
    "facts",
    "duration_ms",
];

impl Record {
    fn bare(
        name: String,
        host: String,
        port: Option<u16>,
        category: Category,
        stage: Stage,
        message: String,
        lang: Lang,
    ) -> Record {
        Record {
            name,
            system_user: None,
            host,
            port,
            ip: None,
            category,
            stage,
            message,
            hint: category.hint(lang),
            banner: None,
            kex: None,
            cipher: None,
            host_key_alg: None,
            host_key_fingerprint: None,
            auth_methods: None,
            uid: None,
            sudo: None,
            python: None,
            facts: None,
            duration_ms: 0,
        }
    }

    pub fn probed(asset: &Asset, probed: Probed, lang: Lang) -> Record {
        Record::about(&asset.name, &asset.host, asset.port, probed, lang)
    }

    /// A result about something other than an inventory row (the bastion's gateway).
    pub fn about(name: &str, host: &str, port: u16, probed: Probed, lang: Lang) -> Record {
        let (category, stage, message) = match probed.verdict {
            Ok(message) => (Category::Ok, Stage::Done, message),
            Err(failure) => (failure.category, failure.stage, failure.message),
        };
        let o = probed.observations;
        Record {
            ip: o.ip.map(|ip| ip.to_string()),
            banner: o.banner,
            kex: o.kex,
            cipher: o.cipher,
            host_key_alg: o.host_key_alg,
            host_key_fingerprint: o.host_key_fingerprint,
            auth_methods: o.auth_methods,
            uid: o.uid,
            sudo: o.sudo.map(|s| s.id().to_string()),
            python: o.python,
            facts: o.facts,
            duration_ms: probed.duration.as_millis() as u64,
            ..Record::bare(
                name.to_string(),
                host.to_string(),
                Some(port),
                category,
                stage,
                message,
                lang,
            )
        }
    }
    /// How people read the record's subject: a system user's result is `asset (user)`.
    pub fn display_name(&self) -> String {
        match &self.system_user {
            Some(user) => format!("{} ({user})", self.name),
            None => self.name.clone(),
        }
    }

    /// One (asset, system user) result, beside the asset's own.
    pub fn system_user(asset: &Asset, user: SystemUserProbed, lang: Lang) -> Record {
        Record {
            system_user: Some(user.credential),
            ..Record::probed(asset, user.probed, lang)
        }
    }

    pub fn skipped(asset: &Asset, reason: &str, lang: Lang) -> Record {
        Record::bare(
            asset.name.clone(),
            asset.host.clone(),
            Some(asset.port),
            Category::Skipped,
            Stage::Inventory,
            format!("not probed: {reason}"),
            lang,
        )
    }

    pub fn invalid(file: &Path, row: &InvalidRow, lang: Lang) -> Record {
        let name = row
            .name
            .clone()
            .or_else(|| row.host.clone())
            .unwrap_or_else(|| format!("line {}", row.line));
        Record::bare(
            name,
            row.host.clone().unwrap_or_default(),
            None,
            Category::InventoryInvalid,
            Stage::Inventory,
            row.message(file),
            lang,
        )
    }

    /// A well-formed row that names something the run does not have (a credential).
    pub fn unusable(file: &Path, asset: &Asset, field: Field, reason: &str, lang: Lang) -> Record {
        Record::bare(
            asset.name.clone(),
            asset.host.clone(),
            Some(asset.port),
            Category::InventoryInvalid,
            Stage::Inventory,
            format!(
                "{}: line {}, field {}: {reason}",
                file.display(),
                asset.line,
                field.id()
            ),
            lang,
        )
    }
}
