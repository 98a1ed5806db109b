//! Prometheus service discovery (`file_sd`, and `http_sd`, which reads the same JSON): the
//! inventory as target groups, one per asset so that each target keeps its own labels.
//! <https://prometheus.io/docs/prometheus/latest/configuration/configuration/#file_sd_config>

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::address;
use crate::inventory::Asset;

/// The label Prometheus turns into the `module` query parameter of a scrape.
pub const MODULE_LABEL: &str = "__param_module";

/// The labels an asset gives its target, named as Prometheus allows
/// (`[a-zA-Z_][a-zA-Z0-9_]*`, no `__` of our own) and left out when empty. Lists are
/// joined with `,`, as the inventory writes them.
pub const LABELS: &[(&str, LabelValue)] = &[
    ("name", |a| Some(a.name.clone())),
    ("platform", |a| a.platform.clone()),
    ("nodes", |a| Some(a.nodes.join(","))),
    ("admin_user", |a| a.admin_user.clone()),
    ("gateway", |a| a.jump_host.clone()),
    ("asset_id", |a| a.id.clone()),
];

/// A label's value for an asset, if it has one.
pub type LabelValue = fn(&Asset) -> Option<String>;

/// One target group: the asset's `host:port` (an IPv6 address in brackets) and its labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetGroup {
    pub targets: Vec<String>,
    pub labels: BTreeMap<&'static str, String>,
}

impl TargetGroup {
    /// `default_port` stands for a row that gives no port; `module` names the `prober
    /// serve` module Prometheus asks for with this target.
    pub fn of(asset: &Asset, default_port: u16, module: Option<&str>) -> TargetGroup {
        let port = if asset.port_given {
            asset.port
        } else {
            default_port
        };
        let mut labels: BTreeMap<&'static str, String> = LABELS
            .iter()
            .filter_map(|(label, value)| Some((*label, value(asset)?)))
            .filter(|(_, value)| !value.is_empty())
            .collect();
        if let Some(module) = module {
            labels.insert(MODULE_LABEL, module.to_string());
        }
        TargetGroup {
            targets: vec![address::authority(&asset.host, port)],
            labels,
        }
    }
}

/// Writes the JSON array group by group, so a large inventory is never held whole.
pub struct FileSd<W: Write> {
    out: W,
    written: usize,
}

impl<W: Write> FileSd<W> {
    pub fn new(out: W) -> FileSd<W> {
        FileSd { out, written: 0 }
    }

    pub fn group(&mut self, group: &TargetGroup) -> io::Result<()> {
        self.out
            .write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
        serde_json::to_writer(&mut self.out, group)?;
        self.written += 1;
        Ok(())
    }

    /// Closes the array (`[]` when no group was written) and hands back the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out
            .write_all(if self.written == 0 { b"[]\n" } else { b"\n]\n" })?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(name: &str, host: &str) -> Asset {
        Asset {
            name: name.into(),
            ..Asset::of_host(2, host.into(), None)
        }
    }

    fn written(assets: &[Asset], module: Option<&str>) -> serde_json::Value {
        let mut sd = FileSd::new(Vec::new());
        for asset in assets {
            sd.group(&TargetGroup::of(asset, 22, module)).unwrap();
        }
        serde_json::from_slice(&sd.finish().unwrap()).unwrap()
    }

    #[test]
    fn every_field_becomes_a_label_and_lists_are_joined() {
        let mut web = asset("web-01", "10.0.0.5");
        web.port = 2222;
        web.port_given = true;
        web.platform = Some("Linux".into());
        web.nodes = vec!["/Default/prod".into(), "/Default/web".into()];
        web.admin_user = Some("root-admin".into());
        web.jump_host = Some("gw-prod".into());
        web.id = Some("7b1f".into());
        web.system_users = vec!["deploy".into()];
        let json = written(&[web], Some("linux"));
        assert_eq!(
            json,
            serde_json::json!([{
                "targets": ["10.0.0.5:2222"],
                "labels": {
                    "name": "web-01",
                    "platform": "Linux",
                    "nodes": "/Default/prod,/Default/web",
                    "admin_user": "root-admin",
                    "gateway": "gw-prod",
                    "asset_id": "7b1f",
                    "__param_module": "linux",
                }
            }])
        );
    }

    #[test]
    fn empty_labels_are_left_out() {
        let mut bare = asset("db", "db.example");
        bare.platform = Some(String::new());
        let json = written(&[bare], None);
        assert_eq!(
            json,
            serde_json::json!([{"targets": ["db.example:22"], "labels": {"name": "db"}}])
        );
    }

    #[test]
    fn ipv6_targets_are_bracketed_and_the_default_port_fills_in() {
        let mut v6 = asset("v6", "fd00::1");
        v6.port = 2200;
        v6.port_given = true;
        let portless = asset("v6-default", "::1");
        let group = TargetGroup::of(&v6, 2022, None);
        assert_eq!(group.targets, ["[fd00::1]:2200"]);
        let group = TargetGroup::of(&portless, 2022, None);
        assert_eq!(group.targets, ["[::1]:2022"], "the row gives no port");
    }

    #[test]
    fn odd_names_stay_as_they_are_once_parsed_back() {
        let names = [
            "web \"quoted\" \\ back",
            "生产-数据库",
            "tab\there\nnewline",
            "</script>{{ $labels }}",
        ];
        let assets: Vec<Asset> = names.iter().map(|n| asset(n, "127.0.0.1")).collect();
        let json = written(&assets, None);
        let parsed: Vec<&str> = json
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["labels"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(parsed, names);
    }

    #[test]
    fn label_names_are_ones_prometheus_accepts() {
        let valid = |name: &str| {
            let mut chars = name.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        for (label, _) in LABELS {
            assert!(valid(label), "{label}");
            assert!(
                !label.starts_with("__"),
                "{label} is reserved to Prometheus"
            );
        }
        assert!(valid(MODULE_LABEL) && MODULE_LABEL.starts_with("__param_"));
    }

    #[test]
    fn no_asset_is_an_empty_array() {
        assert_eq!(written(&[], None), serde_json::json!([]));
    }
}
