//! One asset of JumpServer's API as an inventory entry, mapped as an export's row is and
//! checked by the same field rules. Fields are read by name, whichever version wrote
//! them: 1.4's `hostname`/`ip`/`protocol`+`port`, 3.x/4.x's `name`/`address`/`protocols`.

use std::collections::HashMap;

use serde_json::Value;

use crate::inventory::fields::{self, SshProtocol};
use crate::inventory::{Asset, Entry, Field, InvalidRow};

/// What an asset refers to by id, by name.
pub enum Names {
    V14 {
        admin_users: HashMap<String, String>,
        domains: HashMap<String, String>,
    },
    /// Asset id → its privileged account's name.
    V3 { privileged: HashMap<String, String> },
}

/// A field's text: a string, or a number written as one.
pub fn text(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A related object: 3.x/4.x give `{id, name}`, 1.4 an id.
fn related_name(
    value: &Value,
    key: &str,
    by_id: Option<&HashMap<String, String>>,
) -> Option<String> {
    match value.get(key)? {
        Value::Object(_) => text(&value[key], "name"),
        Value::String(id) if !id.is_empty() => Some(
            by_id
                .and_then(|names| names.get(id))
                // An id the lists do not name is said as it is: the run then reports it
                // unknown, naming it.
                .unwrap_or(id)
                .clone(),
        ),
        _ => None,
    }
}

type Failure = (Field, String);

pub fn entry(value: &Value, position: u64, names: &Names) -> Entry {
    match asset(value, position, names) {
        Ok(asset) => Entry::Asset(asset),
        Err((field, reason)) => {
            let id = text(value, "id").unwrap_or_else(|| "without an id".into());
            Entry::Invalid(InvalidRow {
                line: position,
                name: name(value).map(|n| fields::excerpt(&n)),
                host: address(value).map(|a| fields::excerpt(&a)),
                field: field.id().into(),
                reason: format!("asset {}: {reason}", fields::excerpt(&id)),
            })
        }
    }
}

fn name(value: &Value) -> Option<String> {
    text(value, "name").or_else(|| text(value, "hostname"))
}

fn address(value: &Value) -> Option<String> {
    text(value, "address").or_else(|| text(value, "ip"))
}

/// The protocols as an export writes them (`ssh/22 rdp/3389`), for the export's parser.
fn protocols(value: &Value) -> Option<String> {
    match value.get("protocols")? {
        Value::Array(list) => Some(
            list.iter()
                .filter_map(|p| match p {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(_) => {
                        let name = text(p, "name")?;
                        Some(match text(p, "port") {
                            Some(port) => format!("{name}/{port}"),
                            None => name,
                        })
                    }
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn asset(value: &Value, position: u64, names: &Names) -> Result<Asset, Failure> {
    let host = fields::host(&address(value).unwrap_or_default()).map_err(|r| (Field::Host, r))?;
    let mut skip = None;
    // 1.4: one `protocol` and its `port`; later: a list of `name/port`.
    let (protocol, port_field) = match protocols(value) {
        Some(list) => (
            fields::ssh_protocol(&list).map_err(|r| (Field::Protocols, r))?,
            None,
        ),
        None => (
            match text(value, "protocol") {
                Some(p) => fields::ssh_protocol(&p).map_err(|r| (Field::Protocols, r))?,
                None => SshProtocol::DefaultPort,
            },
            text(value, "port"),
        ),
    };
    if let SshProtocol::Absent(list) = &protocol {
        skip = Some(format!("no SSH protocol (protocols: {list})"));
    }
    let port = match (port_field, protocol) {
        (Some(port), _) => fields::port(&port).map_err(|r| (Field::Port, r))?,
        (None, SshProtocol::Port(port)) => port,
        (None, _) => 22,
    };
    match value.get("is_active") {
        Some(Value::Bool(false)) => skip = Some("inactive in JumpServer".into()),
        Some(Value::Bool(true)) | None => {}
        Some(other) => {
            return Err((Field::Active, format!("{other} is not a boolean")));
        }
    }
    let id = text(value, "id");
    let (admin_user, jump_host) = match names {
        Names::V14 {
            admin_users,
            domains,
        } => (
            related_name(value, "admin_user", Some(admin_users)),
            related_name(value, "domain", Some(domains)),
        ),
        Names::V3 { privileged } => (
            id.as_ref().and_then(|id| privileged.get(id)).cloned(),
            // 4.x calls the domain a zone.
            related_name(value, "zone", None).or_else(|| related_name(value, "domain", None)),
        ),
    };
    let nodes = match value.get("nodes") {
        Some(Value::Array(nodes)) => nodes
            .iter()
            .filter_map(|node| match node {
                Value::Object(_) => text(node, "name"),
                Value::String(id) => Some(id.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(Asset {
        line: position,
        name: name(value).unwrap_or_else(|| host.clone()),
        host,
        port,
        // JumpServer's own port for the asset (22 where it names none): `-p` is for hosts
        // that give none, as in a plain list.
        port_given: true,
        admin_user,
        system_users: Vec::new(),
        jump_host,
        platform: related_name(value, "platform", None),
        id,
        nodes,
        skip,
    })
}

/// How JumpServer ranks an asset's accounts for its automations (after `privileged`):
/// the last connectivity check's verdict, then the latest update.
pub type AccountRank = (u8, String);

/// A privileged account of the account list: its asset's id, rank and name.
pub fn privileged_account(account: &Value) -> Option<(String, AccountRank, String)> {
    if account.get("privileged") == Some(&Value::Bool(false))
        || account.get("is_active") == Some(&Value::Bool(false))
    {
        return None;
    }
    let asset = match account.get("asset")? {
        Value::Object(_) => text(&account["asset"], "id")?,
        Value::String(id) => id.clone(),
        _ => return None,
    };
    let name = text(account, "name").or_else(|| text(account, "username"))?;
    let connectivity = match account.get("connectivity") {
        Some(Value::Object(c)) => c.get("value").and_then(Value::as_str).unwrap_or(""),
        Some(Value::String(c)) => c.as_str(),
        _ => "",
    };
    let score = match connectivity {
        "ok" => 2,
        "-" | "" => 1,
        _ => 0,
    };
    let updated = text(account, "date_updated").unwrap_or_default();
    Some((asset, (score, updated), name))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn v3() -> Names {
        Names::V3 {
            privileged: HashMap::from([("a1".into(), "ops-root".into())]),
        }
    }

    #[test]
    fn a_4x_host_maps_like_an_export_row() {
        let value = json!({
            "id": "a1", "name": "web-1", "address": "10.0.0.5",
            "platform": {"id": 1, "name": "Linux", "type": {"value": "linux"}},
            "zone": {"id": "z", "name": "dmz"},
            "nodes": [{"id": "n", "name": "prod"}],
            "protocols": [{"name": "sftp", "port": 22}, {"name": "ssh", "port": 2222}],
            "is_active": true,
        });
        let Entry::Asset(asset) = entry(&value, 3, &v3()) else {
            panic!("invalid")
        };
        assert_eq!(
            (asset.name.as_str(), asset.host.as_str(), asset.port),
            ("web-1", "10.0.0.5", 2222)
        );
        assert_eq!(asset.admin_user.as_deref(), Some("ops-root"));
        assert_eq!(asset.jump_host.as_deref(), Some("dmz"));
        assert_eq!(asset.platform.as_deref(), Some("Linux"));
        assert_eq!(asset.nodes, ["prod"]);
        assert_eq!((asset.line, asset.skip), (3, None));
    }

    #[test]
    fn a_1_4_asset_names_its_admin_user_and_domain_by_id() {
        let names = Names::V14 {
            admin_users: HashMap::from([("u1".into(), "root-admin".into())]),
            domains: HashMap::from([("d1".into(), "dmz".into())]),
        };
        let value = json!({
            "id": "a", "hostname": "db", "ip": "10.0.0.9", "protocol": "ssh", "port": 2200,
            "platform": "Linux", "admin_user": "u1", "domain": "d1", "nodes": ["n1"],
            "is_active": false,
        });
        let Entry::Asset(asset) = entry(&value, 1, &names) else {
            panic!("invalid")
        };
        assert_eq!((asset.name.as_str(), asset.port), ("db", 2200));
        assert_eq!(asset.admin_user.as_deref(), Some("root-admin"));
        assert_eq!(asset.jump_host.as_deref(), Some("dmz"));
        assert_eq!(asset.skip.as_deref(), Some("inactive in JumpServer"));
        let rdp = json!({"hostname": "win", "ip": "10.0.0.1", "protocol": "rdp", "port": 3389});
        let Entry::Asset(asset) = entry(&rdp, 2, &names) else {
            panic!("invalid")
        };
        assert!(asset.skip.unwrap().contains("no SSH"));
    }

    #[test]
    fn a_bad_asset_names_itself_and_its_field() {
        let value = json!({"id": "a9", "name": "bad", "address": "$(reboot)",
            "protocols": [{"name": "ssh", "port": 22}]});
        let Entry::Invalid(row) = entry(&value, 4, &v3()) else {
            panic!("valid")
        };
        assert_eq!((row.line, row.field.as_str()), (4, "host"));
        assert_eq!(row.name.as_deref(), Some("bad"));
        assert!(row.reason.starts_with("asset a9: "), "{}", row.reason);
        let port = json!({"id": "a8", "name": "p", "address": "10.0.0.1",
            "protocols": [{"name": "ssh", "port": 70000}]});
        let Entry::Invalid(row) = entry(&port, 5, &v3()) else {
            panic!("valid")
        };
        assert_eq!(row.field, "protocols");
    }

    #[test]
    fn accounts_rank_as_jumpservers_automations_do() {
        let account = |c: &str, d: &str| {
            json!({"name": "n", "privileged": true, "asset": {"id": "a"},
                "connectivity": {"value": c}, "date_updated": d})
        };
        let ok = privileged_account(&account("ok", "2024/01/01")).unwrap().1;
        let err = privileged_account(&account("err", "2025/01/01")).unwrap().1;
        assert!(ok > err);
        let not = json!({"name": "n", "privileged": false, "asset": {"id": "a"}});
        assert!(privileged_account(&not).is_none());
    }
}
