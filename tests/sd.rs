//! `prober sd`: the inventory as Prometheus file_sd targets, read back and held to the
//! format Prometheus documents for file_sd_config.

use fixtures::jumpserver::{Asset, Config, FakeJumpServer, Version};
use prober_engine::inventory::exports::JUMPSERVER_3;
use serde_json::{Value, json};

use crate::util::{Run, prober, prober_with_env, prober_with_stdin};

/// Checks the file is what Prometheus' file_sd_config reads: a JSON array of objects
/// with `targets` (a list of `host:port` strings) and optionally `labels` (string to
/// string, names matching `[a-zA-Z_][a-zA-Z0-9_]*`; `__` names only the ones Prometheus
/// gives a meaning, here `__param_*`), nothing else.
fn assert_file_sd(json: &Value) {
    let groups = json.as_array().expect("a JSON array of target groups");
    for group in groups {
        let group = group.as_object().expect("a target group is an object");
        for key in group.keys() {
            assert!(["targets", "labels"].contains(&key.as_str()), "{key}");
        }
        let targets = group["targets"].as_array().expect("targets: a list");
        assert!(!targets.is_empty());
        for target in targets {
            let target = target.as_str().expect("a target is a string");
            let (host, port) = target.rsplit_once(':').expect("host:port");
            port.parse::<u16>().expect("a port");
            assert!(!host.is_empty(), "{target}");
            if host.contains(':') {
                let inner = host
                    .strip_prefix('[')
                    .and_then(|h| h.strip_suffix(']'))
                    .unwrap_or_else(|| panic!("IPv6 not bracketed: {target}"));
                inner
                    .parse::<std::net::Ipv6Addr>()
                    .expect("an IPv6 address");
            }
        }
        let Some(labels) = group.get("labels") else {
            continue;
        };
        for (name, value) in labels.as_object().expect("labels: an object") {
            let mut chars = name.chars();
            let first = chars.next().expect("a name");
            assert!(first.is_ascii_alphabetic() || first == '_', "{name}");
            assert!(
                chars.all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{name}"
            );
            assert!(
                !name.starts_with("__") || name.starts_with("__param_"),
                "{name} is Prometheus' own"
            );
            assert!(value.is_string(), "{name}: {value}");
        }
    }
}

fn parsed(run: &Run) -> Value {
    let json: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", run.stdout, run.stderr));
    assert_file_sd(&json);
    json
}

/// A JumpServer 3.x export: an asset with its zone, nodes and SSH port, one on IPv6, an
/// inactive one, one without SSH and one whose port cannot be.
fn export() -> String {
    [
        JUMPSERVER_3,
        "web-01,10.0.0.5,Linux,ssh/2222,gw-prod,\"/Default/prod,/Default/web\",,true,",
        "v6,fd00::1,Linux,ssh/22,,,,true,",
        "retired,10.0.0.7,Linux,ssh/22,,,,false,",
        "windows,10.0.0.8,Windows,rdp/3389,,,,true,",
        "typo,10.0.0.9,Linux,ssh/99999,,,,true,",
        "\"db \"\"main\"\"\",db.internal,Linux,ssh/22,,,,true,",
    ]
    .join("\n")
}

#[tokio::test]
async fn an_export_gives_a_group_per_active_asset_and_reports_the_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("assets.csv");
    std::fs::write(&inventory, export()).unwrap();

    let run = prober(["sd".as_ref(), inventory.as_os_str()]).await;

    assert_eq!(run.status, 1, "an invalid row: {}", run.stderr);
    assert_eq!(
        parsed(&run),
        json!([
            {"targets": ["10.0.0.5:2222"], "labels": {
                "name": "web-01", "platform": "Linux", "gateway": "gw-prod",
                "nodes": "/Default/prod,/Default/web"}},
            {"targets": ["[fd00::1]:22"], "labels": {"name": "v6", "platform": "Linux"}},
            {"targets": ["db.internal:22"], "labels": {"name": "db \"main\"", "platform": "Linux"}},
        ])
    );
    let message = format!("{}: line 6, field protocols:", inventory.display());
    assert!(run.stderr.contains(&message), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[tokio::test]
async fn skipped_assets_on_request_and_a_module_for_every_target() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("assets.csv");
    std::fs::write(&inventory, export()).unwrap();

    let run = prober([
        "sd".as_ref(),
        inventory.as_os_str(),
        "--include-inactive".as_ref(),
        "--module".as_ref(),
        "linux_root".as_ref(),
    ])
    .await;

    assert_eq!(run.status, 1, "{}", run.stderr);
    let json = parsed(&run);
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["labels"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web-01", "v6", "retired", "windows", "db \"main\""]);
    for group in json.as_array().unwrap() {
        assert_eq!(group["labels"]["__param_module"], "linux_root", "{group}");
    }
}

#[tokio::test]
async fn a_plain_list_from_stdin_with_a_default_port() {
    let list = b"# lab\n127.0.0.1\n127.0.0.2:2200\n[::1]:2201\n::1\n".to_vec();

    let run = prober_with_stdin(["sd", "-", "--port", "2022"], list).await;

    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        parsed(&run),
        json!([
            {"targets": ["127.0.0.1:2022"], "labels": {"name": "127.0.0.1"}},
            {"targets": ["127.0.0.2:2200"], "labels": {"name": "127.0.0.2"}},
            {"targets": ["[::1]:2201"], "labels": {"name": "::1"}},
            {"targets": ["[::1]:2022"], "labels": {"name": "::1"}},
        ])
    );
    assert_eq!(run.stderr, "");
}

#[tokio::test]
async fn output_replaces_the_file_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("hosts.txt");
    std::fs::write(&list, "127.0.0.1\n").unwrap();
    let targets = dir.path().join("targets.json");
    std::fs::write(&targets, "previous").unwrap();

    let run = prober([
        "sd".as_ref(),
        list.as_os_str(),
        "-o".as_ref(),
        targets.as_os_str(),
    ])
    .await;
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let written: Value = serde_json::from_slice(&std::fs::read(&targets).unwrap()).unwrap();
    assert_eq!(
        written,
        json!([{"targets": ["127.0.0.1:22"], "labels": {"name": "127.0.0.1"}}])
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 2, "no temporary file is left: {left:?}");

    let missing = dir.path().join("missing.csv");
    let run = prober(["sd".as_ref(), missing.as_os_str()]).await;
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("missing.csv"), "{}", run.stderr);
    let run = prober(["sd"]).await;
    assert_eq!(run.status, 2, "no inventory: {}", run.stderr);
    let run = prober([
        "sd".as_ref(),
        list.as_os_str(),
        "-o".as_ref(),
        list.as_os_str(),
    ])
    .await;
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&list).unwrap(), "127.0.0.1\n");
}

#[tokio::test]
async fn a_jumpserver_api_gives_ids_and_admin_accounts() {
    const TOKEN: &str = "5e6f70819203a4b5c6d7e8f901a2b3c41f2b3c4d";
    let mut web = Asset::ssh("4f1c2b7e", "web-01", "127.0.0.1", 2222);
    web.admin = Some("root-admin".into());
    web.domain = Some("gw-prod".into());
    let mut off = Asset::ssh("9a3d0c11", "off", "127.0.0.2", 22);
    off.active = false;
    let api = FakeJumpServer::start(Config {
        version: Version::V4,
        tls: false,
        access_keys: Vec::new(),
        tokens: vec![TOKEN.into()],
        nodes: Vec::new(),
        assets: vec![web, off],
        fail_from_offset: None,
    })
    .await
    .expect("fake API");

    let run = prober_with_env(
        ["sd", "--jumpserver", api.url.as_str()],
        &[("JMS_PRIVATE_TOKEN", TOKEN)],
    )
    .await;

    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        parsed(&run),
        json!([{"targets": ["127.0.0.1:2222"], "labels": {
            "name": "web-01", "platform": "Linux", "admin_user": "root-admin",
            "gateway": "gw-prod", "asset_id": "4f1c2b7e"}}])
    );
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
}
