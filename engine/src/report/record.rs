//! One result: the same fields, declared once, in every output format.

use std::borrow::Cow;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::category::{Category, Lang, Stage};
use crate::inventory::{Asset, Field, InvalidRow};
use crate::probe::{Facts, Probed, SystemUserProbed};
use crate::text::{excerpt, written};

/// Declares the record once: the struct (JSON and JSONL through serde, in declaration
/// order), its field names (CSV's header) and each field as text (CSV's cells, JUnit's
/// properties), so no format can drift from another.
macro_rules! record {
    ($( $(#[doc = $doc:literal])* $field:ident: $ty:ty, )+) => {
        /// One result: keys and order are part of the interface, consumers rely on exactly
        /// these. Built only by its constructors, which bound every field: other crates
        /// cannot build one field by field.
        #[derive(Debug, Clone, Serialize)]
        #[non_exhaustive]
        pub struct Record {
            $( $(#[doc = $doc])* pub $field: $ty, )+
        }

        impl Record {
            /// The field names, in order.
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];

            /// Each field's name and value as one line of text, in [`Record::FIELDS`] order;
            /// an unknown value is empty.
            pub fn texts(&self) -> [(&'static str, String); Record::FIELDS.len()] {
                [$( (stringify!($field), FieldText::text(&self.$field)) ),+]
            }

            /// Every field made safe and cut to its cap: the one place that bounds a
            /// record, which every constructor ends with.
            fn bounded(mut self) -> Record {
                $( Bounded::bound(&mut self.$field, cap(stringify!($field))); )+
                self
            }
        }
    };
}

record! {
    name: String,
    /// For a system user's result: its credential's name; `None` for the asset's own.
    system_user: Option<String>,
    host: String,
    port: Option<u16>,
    ip: Option<String>,
    category: Category,
    stage: Stage,
    message: String,
    hint: &'static str,
    banner: Option<String>,
    kex: Option<String>,
    cipher: Option<String>,
    host_key_alg: Option<String>,
    host_key_fingerprint: Option<String>,
    auth_methods: Option<Vec<String>>,
    uid: Option<u32>,
    sudo: Option<String>,
    python: Option<String>,
    facts: Option<Facts>,
    duration_ms: u64,
    /// What probing the asset again takes (`prober check --from`), as the inventory row
    /// said: its admin user's credential, its jump host, all its system users, and
    /// JumpServer's id and nodes; `None` on results about no inventory asset.
    admin_user: Option<String>,
    gateway: Option<String>,
    system_users: Option<Vec<String>>,
    asset_id: Option<String>,
    nodes: Option<Vec<String>>,
    /// What the ssh_config gave this probe and it used (`HostName 10.0.0.5`, `User
    /// deploy`, …); `None` when it gave nothing.
    ssh_config: Option<Vec<String>>,
}

/// The most a field takes once written (in JSON or CSV, in bytes), so a record stays
/// under [`Record::MAX_WRITTEN`] whatever servers and inventories say; fields not named
/// here take at most [`FIELD_CAP`].
const FIELD_CAPS: &[(&str, usize)] = &[
    ("name", 128),
    // A DNS name has up to 253 characters.
    ("host", 256),
    ("message", 1024),
    ("banner", 256),
    ("auth_methods", 192),
    ("facts", 320),
    // What a later run needs: JumpServer's own limit for names, and room for a few
    // dozen system users or nodes.
    ("admin_user", 128),
    ("gateway", 128),
    ("system_users", 512),
    ("nodes", 512),
    ("ssh_config", 512),
];
const FIELD_CAP: usize = 96;

fn cap(field: &str) -> usize {
    FIELD_CAPS
        .iter()
        .find(|(name, _)| *name == field)
        .map_or(FIELD_CAP, |(_, cap)| *cap)
}

/// A field made terminal-safe and cut to fit in `max` bytes once written.
trait Bounded {
    fn bound(&mut self, max: usize);
}

macro_rules! unbounded {
    ($($ty:ty),+) => { $(impl Bounded for $ty {
        fn bound(&mut self, _max: usize) {}
    })+ };
}

// Numbers, flags, and text of our own (a hint, a category's id).
unbounded!(
    &'static str,
    bool,
    u8,
    u16,
    u32,
    u64,
    i64,
    usize,
    Category,
    Stage
);

impl Bounded for String {
    fn bound(&mut self, max: usize) {
        if let Cow::Owned(cut) = excerpt(self, max) {
            *self = cut;
        }
    }
}

impl<T: Bounded> Bounded for Option<T> {
    fn bound(&mut self, max: usize) {
        if let Some(value) = self {
            value.bound(max);
        }
    }
}

/// The first names that fit, each cut to a quarter of the room, then how many more.
impl Bounded for Vec<String> {
    fn bound(&mut self, max: usize) {
        // Quotes and a comma around each name in JSON; room kept for the count.
        const AROUND: usize = 3;
        let room = max.saturating_sub(16);
        let mut used = 0;
        let mut kept = 0;
        for name in self.iter_mut() {
            name.bound(max / 4);
            let size = written(name) + AROUND;
            if used + size > room {
                break;
            }
            used += size;
            kept += 1;
        }
        if kept < self.len() {
            let more = self.len() - kept;
            self.truncate(kept);
            self.push(crate::text::more(more));
        }
    }
}

impl Bounded for Facts {
    fn bound(&mut self, max: usize) {
        let each = max / 5;
        for text in [
            &mut self.hostname,
            &mut self.os,
            &mut self.os_version,
            &mut self.kernel,
            &mut self.arch,
        ] {
            text.bound(each);
        }
    }
}

/// A record field as one line of text.
trait FieldText {
    fn text(&self) -> String;
}

macro_rules! displayed {
    ($($ty:ty),+) => { $(impl FieldText for $ty {
        fn text(&self) -> String {
            self.to_string()
        }
    })+ };
}

displayed!(String, &'static str, u16, u32, u64, Category, Stage);

impl FieldText for Vec<String> {
    fn text(&self) -> String {
        self.join(",")
    }
}

impl FieldText for Facts {
    fn text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl<T: FieldText> FieldText for Option<T> {
    fn text(&self) -> String {
        self.as_ref().map(FieldText::text).unwrap_or_default()
    }
}

impl Record {
    /// The most one record takes as a JSON line or a CSV row, whatever the input.
    pub const MAX_WRITTEN: usize = 6 * 1024;

    /// A record of the subject and verdict alone, bounded like every other.
    pub(crate) fn bare(
        name: String,
        host: String,
        port: Option<u16>,
        category: Category,
        stage: Stage,
        message: String,
        lang: Lang,
    ) -> Record {
        Record::verdict(name, host, port, category, stage, message, lang).bounded()
    }

    /// The subject and verdict, not yet bounded: the base every constructor builds on,
    /// bounding the whole record once at its end.
    fn verdict(
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
            admin_user: None,
            gateway: None,
            system_users: None,
            asset_id: None,
            nodes: None,
            ssh_config: None,
        }
    }

    /// The row's fields a later run needs to probe the asset again (inventory cells: the
    /// constructor's `bounded()` caps them).
    fn rerun(self, asset: &Asset) -> Record {
        Record {
            admin_user: asset.admin_user.clone(),
            gateway: asset.jump_host.clone(),
            system_users: Some(asset.system_users.clone()),
            asset_id: asset.id.clone(),
            nodes: Some(asset.nodes.clone()),
            ..self
        }
    }

    /// The record, saying what the ssh_config gave its probe (nothing: left as it was).
    pub fn with_ssh_config(self, taken: &[String]) -> Record {
        if taken.is_empty() {
            return self;
        }
        Record {
            ssh_config: Some(taken.to_vec()),
            ..self
        }
        .bounded()
    }

    pub fn probed(asset: &Asset, probed: Probed, lang: Lang) -> Record {
        Record::observed(&asset.name, &asset.host, asset.port, probed, lang)
            .rerun(asset)
            .bounded()
    }

    /// A result about something other than an inventory row (the bastion's gateway).
    pub fn about(name: &str, host: &str, port: u16, probed: Probed, lang: Lang) -> Record {
        Record::observed(name, host, port, probed, lang).bounded()
    }

    /// The verdict and what the probe observed, not yet bounded.
    fn observed(name: &str, host: &str, port: u16, probed: Probed, lang: Lang) -> Record {
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
            ..Record::verdict(
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
        subject(&self.name, self.system_user.as_deref())
    }

    /// One (asset, system user) result, beside the asset's own.
    pub fn system_user(asset: &Asset, user: SystemUserProbed, lang: Lang) -> Record {
        let probed = Record::observed(&asset.name, &asset.host, asset.port, user.probed, lang);
        Record {
            system_user: Some(user.credential),
            ..probed.rerun(asset)
        }
        .bounded()
    }

    pub fn skipped(asset: &Asset, reason: &str, lang: Lang) -> Record {
        Record::verdict(
            asset.name.clone(),
            asset.host.clone(),
            Some(asset.port),
            Category::Skipped,
            Stage::Inventory,
            format!("not probed: {reason}"),
            lang,
        )
        .rerun(asset)
        .bounded()
    }

    /// A probe of the asset (`system_user`'s, or its own for `None`) cut short when the
    /// run was stopped: nothing is known about the asset, and the record carries what
    /// probing it again takes (`--resume`, `--from … --only interrupted`).
    pub fn interrupted(
        asset: &Asset,
        system_user: Option<&str>,
        message: &str,
        duration: Duration,
        lang: Lang,
    ) -> Record {
        Record {
            system_user: system_user.map(str::to_string),
            duration_ms: duration.as_millis() as u64,
            ..Record::verdict(
                asset.name.clone(),
                asset.host.clone(),
                Some(asset.port),
                Category::Interrupted,
                Stage::Done,
                message.to_string(),
                lang,
            )
        }
        .rerun(asset)
        .bounded()
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
        Record::verdict(
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
        .rerun(asset)
        .bounded()
    }
}

/// A result's subject as people read it: an asset, or `asset (system user)`.
pub fn subject(name: &str, system_user: Option<&str>) -> String {
    match system_user {
        Some(user) => format!("{name} ({user})"),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_follow_the_declaration() {
        let record = Record::bare(
            "web".into(),
            "::1".into(),
            Some(22),
            Category::TcpRefused,
            Stage::Connect,
            "refused".into(),
            Lang::En,
        );
        let names: Vec<&str> = record.texts().iter().map(|(n, _)| *n).collect();
        assert_eq!(names, Record::FIELDS);
        let json = serde_json::to_string(&record).unwrap();
        let positions: Vec<usize> = Record::FIELDS
            .iter()
            .map(|f| json.find(&format!("\"{f}\":")).expect(f))
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{json}");
        assert_eq!(record.texts()[3], ("port", "22".to_string()));
        assert_eq!(record.texts()[4], ("ip", String::new()));
    }

    #[test]
    fn what_a_rerun_needs_is_copied_bounded() {
        let asset = Asset {
            line: 3,
            name: "web".into(),
            host: "10.0.0.5".into(),
            port: 22,
            port_given: true,
            admin_user: Some("a".repeat(1000)),
            system_users: (0..100).map(|i| format!("user{i:03}")).collect(),
            jump_host: Some("dmz".into()),
            platform: None,
            id: None,
            nodes: vec!["/Default".into()],
            skip: None,
        };
        let record = Record::skipped(&asset, "inactive", Lang::En);
        let admin = record.admin_user.unwrap();
        assert!(admin.starts_with("aaa") && admin.len() <= 128, "{admin}");
        assert_eq!(record.gateway.as_deref(), Some("dmz"));
        let users = record.system_users.unwrap();
        assert_eq!(users[..2], ["user000", "user001"]);
        let more = users.last().unwrap();
        assert!(
            more.starts_with("… (") && users.join(",").len() <= 512,
            "{more}"
        );
        assert_eq!(record.nodes.unwrap(), ["/Default"]);
    }

    /// `--from … --only interrupted` rebuilds the asset from this record alone.
    #[test]
    fn an_interrupted_record_keeps_what_a_rerun_needs() {
        let asset = Asset {
            line: 7,
            name: "db".into(),
            host: "10.0.0.6".into(),
            port: 2222,
            port_given: true,
            admin_user: Some("ops".into()),
            system_users: vec!["deploy".into(), "app".into()],
            jump_host: Some("dmz".into()),
            platform: None,
            id: Some("42".into()),
            nodes: vec!["/Default/db".into()],
            skip: None,
        };
        let message = "not finished";
        let duration = Duration::from_millis(1500);
        let record = Record::interrupted(&asset, Some("app"), message, duration, Lang::En);
        assert_eq!(
            (record.category, record.system_user.as_deref()),
            (Category::Interrupted, Some("app"))
        );
        assert_eq!((record.port, record.duration_ms), (Some(2222), 1500));
        assert_eq!(record.admin_user.as_deref(), Some("ops"));
        assert_eq!(record.gateway.as_deref(), Some("dmz"));
        assert_eq!(record.system_users.unwrap(), ["deploy", "app"]);
        assert_eq!(record.asset_id.as_deref(), Some("42"));
        assert_eq!(record.nodes.unwrap(), ["/Default/db"]);
    }
}

#[cfg(test)]
mod bounds;
