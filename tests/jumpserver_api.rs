//! `--jumpserver URL`: the assets come from a fake JumpServer API on loopback (1.4, 3.x or
//! 4.x schema), each pointing at the lab's fake SSH servers.

use std::ffi::OsString;

use base64::Engine;
use fixtures::jumpserver::{Asset, Config, FakeJumpServer, Node, Version};
use fixtures::lab::{Lab, scenarios};
use prober_engine::Category;

use crate::util::{Run, prober_with_env};

const KEY_ID: &str = "2d1f6a1c-5b0e-4c55-9a67-0c41a2b7e301";
const KEY_SECRET: &str = "8c3e0b7f-1f7a-4e0a-b2f4-5a9d63c0e9aa";
const TOKEN: &str = "1f2b3c4d5e6f70819203a4b5c6d7e8f901a2b3c4";
const OTHER_ORG: &str = "8a0d1a55-3f1c-4b5e-9f3a-6c3b2f7e4d10";

fn access_key() -> Vec<(&'static str, &'static str)> {
    vec![
        ("JMS_ACCESS_KEY_ID", KEY_ID),
        ("JMS_ACCESS_KEY_SECRET", KEY_SECRET),
    ]
}

fn token() -> Vec<(&'static str, &'static str)> {
    vec![("JMS_PRIVATE_TOKEN", TOKEN)]
}

/// The lab's rows as JumpServer assets: name, address, SSH port, admin (privileged)
/// account, domain (the lab's gateway) and active flag.
fn assets_of(lab: &Lab) -> Vec<Asset> {
    lab.rows()
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let port = row.port.parse().expect("the lab's rows have ports");
            let mut asset = Asset::ssh(&format!("a{i:031x}"), &row.name, &row.host, port);
            asset.admin = Some(row.admin_user.clone()).filter(|a| !a.is_empty());
            asset.domain = Some(row.jump_host.clone()).filter(|g| !g.is_empty());
            asset.active = row.active;
            asset
        })
        .collect()
}

fn config(version: Version, assets: Vec<Asset>) -> Config {
    Config {
        version,
        tls: false,
        access_keys: vec![(KEY_ID.into(), KEY_SECRET.into())],
        tokens: vec![TOKEN.into()],
        nodes: Vec::new(),
        assets,
        fail_from_offset: None,
    }
}

/// `prober check` over the lab's credentials and servers, the assets read from `api`.
async fn check(lab: &Lab, api: &FakeJumpServer, env: &[(&str, &str)], extra: &[&str]) -> Run {
    let mut argv: Vec<OsString> = lab.check_args();
    argv.remove(1); // the lab's inventory file
    argv.extend(["--jumpserver".into(), api.url.clone().into()]);
    argv.extend(
        ["--format", "jsonl", "--quiet"]
            .iter()
            .chain(extra)
            .map(OsString::from),
    );
    let run = prober_with_env(argv, env).await;
    assert_secrets_hidden(&run);
    run
}

/// No secret, raw or base64, in anything the prober printed.
fn assert_secrets_hidden(run: &Run) {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for secret in [
        KEY_SECRET.to_string(),
        b64(KEY_SECRET),
        TOKEN.into(),
        b64(TOKEN),
    ] {
        for (what, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(!text.contains(&secret), "a secret is in {what}: {text}");
        }
    }
}

fn category(run: &Run, name: &str) -> String {
    run.record(name)["category"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn asset_pages(api: &FakeJumpServer, path: &str) -> Vec<String> {
    api.seen()
        .into_iter()
        .filter(|s| s.target.starts_with(path) && s.status == 200)
        .map(|s| s.target)
        .collect()
}

#[tokio::test]
async fn a_4x_api_read_over_pages_with_an_access_key() {
    let lab = Lab::start(&[
        scenarios::OK_ROOT,
        scenarios::OK_SUDO,
        scenarios::DNS_OK,
        scenarios::WRONG_PASSWORD,
        scenarios::INACTIVE,
        scenarios::JUMP_OK,
    ])
    .await
    .expect("lab starts");
    let mut assets = assets_of(&lab);
    let mut bad = Asset::ssh("bad-id-1", "bad-address", "$(reboot)", 22);
    bad.admin = Some("lab-root".into());
    let mut windows = Asset::ssh("win-id-1", "windows", "127.0.0.1", 22);
    windows.protocols = vec![("rdp".into(), 3389)];
    assets.extend([bad, windows]);
    let api = FakeJumpServer::start(config(Version::V4, assets))
        .await
        .expect("fake API");

    let run = check(&lab, &api, &access_key(), &["--jumpserver-page-size", "2"]).await;

    for (name, expected) in lab.expected() {
        assert_eq!(
            category(&run, name),
            expected.id(),
            "{name}: {}",
            run.stdout
        );
    }
    let bad = run.record("bad-address");
    assert_eq!(bad["category"], Category::InventoryInvalid.id());
    let message = bad["message"].as_str().unwrap();
    for part in [
        api.url.as_str(),
        "/api/v1/assets/assets/",
        "field host",
        "asset bad-id-1",
    ] {
        assert!(message.contains(part), "{message}");
    }
    assert_eq!(category(&run, "windows"), Category::Skipped.id());
    // 8 assets, 2 a page.
    let pages = asset_pages(&api, "/api/v1/assets/assets/");
    assert!(pages.len() >= 4, "{pages:?}");
    assert!(pages.iter().any(|p| p.contains("offset=6")), "{pages:?}");
    assert_eq!(run.status, 1, "{}", run.stderr);
}

#[tokio::test]
async fn a_1_4_api_signed_its_own_way_in_the_organisation_asked_for() {
    let lab = Lab::start(&[scenarios::OK_ROOT, scenarios::JUMP_OK, scenarios::OK_SUDO])
        .await
        .expect("lab starts");
    let mut assets = assets_of(&lab);
    // ok-sudo belongs to the default organisation, the others to OTHER_ORG.
    for asset in &mut assets {
        if asset.name != scenarios::OK_SUDO.name {
            asset.org = OTHER_ORG.into();
        }
    }
    let api = FakeJumpServer::start(config(Version::V1_4, assets))
        .await
        .expect("fake API");

    let run = check(
        &lab,
        &api,
        &access_key(),
        &["--jumpserver-org", OTHER_ORG, "--jumpserver-page-size", "1"],
    )
    .await;

    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    let names: Vec<String> = run
        .records()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(category(&run, scenarios::OK_ROOT.name), "ok");
    // The domain, named by id in 1.4's answer, is the credentials file's gateway.
    assert_eq!(category(&run, scenarios::JUMP_OK.name), "ok");
    assert!(
        api.seen()
            .iter()
            .all(|s| s.org.as_deref() == Some(OTHER_ORG))
    );
    assert!(asset_pages(&api, "/api/assets/v1/assets/").len() >= 2);
}

#[tokio::test]
async fn a_3x_api_with_a_token_filtered_by_node_and_search() {
    let lab = Lab::start(&[
        scenarios::OK_ROOT,
        scenarios::OK_SUDO,
        scenarios::WRONG_PASSWORD,
    ])
    .await
    .expect("lab starts");
    let mut assets = assets_of(&lab);
    let node = |id: &str, key: &str, name: &str| Node {
        id: id.into(),
        key: key.into(),
        name: name.into(),
    };
    let nodes = vec![
        node("n-root", "1", "Default"),
        node("n-prod", "1:1", "prod"),
        node("n-web", "1:1:1", "web"),
        node("n-test", "1:2", "test"),
    ];
    // ok-root and ok-sudo are under prod (one in its child), wrong-password under test.
    for asset in &mut assets {
        asset.nodes = vec![match asset.name.as_str() {
            n if n == scenarios::OK_ROOT.name => "n-prod".into(),
            n if n == scenarios::OK_SUDO.name => "n-web".into(),
            _ => "n-test".into(),
        }];
    }
    let mut api_config = config(Version::V3, assets);
    api_config.nodes = nodes;
    let api = FakeJumpServer::start(api_config).await.expect("fake API");

    let run = check(&lab, &api, &token(), &["--jumpserver-node", "n-prod"]).await;
    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.records().len(), 2, "{}", run.stdout);
    assert_eq!(category(&run, scenarios::OK_SUDO.name), "ok");

    let run = check(&lab, &api, &token(), &["--jumpserver-search", "SUDO"]).await;
    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    let records = run.records();
    assert_eq!(records.len(), 1, "{}", run.stdout);
    assert_eq!(records[0]["name"], scenarios::OK_SUDO.name);
}

#[tokio::test]
async fn a_page_that_fails_later_ends_the_listing_with_an_invalid_result() {
    let lab = Lab::start(&[scenarios::OK_ROOT, scenarios::OK_SUDO, scenarios::JUMP_OK])
        .await
        .expect("lab starts");
    let mut api_config = config(Version::V4, assets_of(&lab));
    api_config.fail_from_offset = Some(2);
    let api = FakeJumpServer::start(api_config).await.expect("fake API");

    let run = check(&lab, &api, &access_key(), &["--jumpserver-page-size", "1"]).await;

    assert_eq!(run.status, 1, "{}", run.stderr);
    let records = run.records();
    assert_eq!(records.len(), 3, "{}", run.stdout);
    // Records come as probes end: the page's result may come before the probes'.
    let invalid: Vec<_> = records
        .iter()
        .filter(|r| r["category"] == Category::InventoryInvalid.id())
        .collect();
    assert_eq!(invalid.len(), 1, "{}", run.stdout);
    let message = invalid[0]["message"].as_str().unwrap();
    for part in ["field page", "assets from offset 2 not read", "HTTP 500"] {
        assert!(message.contains(part), "{message}");
    }
}

#[tokio::test]
async fn a_wrong_key_stops_the_run_with_jumpservers_own_words() {
    let lab = Lab::start(&[scenarios::OK_ROOT]).await.expect("lab starts");
    for (version, status) in [(Version::V4, "HTTP 401"), (Version::V1_4, "HTTP 403")] {
        let mut api_config = config(version, assets_of(&lab));
        api_config.access_keys = vec![(KEY_ID.into(), "another-secret".into())];
        api_config.tokens.clear();
        let api = FakeJumpServer::start(api_config).await.expect("fake API");

        let run = check(&lab, &api, &access_key(), &[]).await;
        assert_eq!(run.status, 2, "{version:?}: {}", run.stderr);
        assert!(run.stderr.contains("Invalid signature."), "{}", run.stderr);
        assert!(run.stderr.contains(status), "{}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);

        let run = check(&lab, &api, &token(), &[]).await;
        assert_eq!(run.status, 2, "{}", run.stderr);
        assert!(run.stderr.contains("Invalid token."), "{}", run.stderr);
    }
}

#[tokio::test]
async fn https_is_trusted_with_the_ca_given_and_only_then() {
    let lab = Lab::start(&[scenarios::OK_ROOT]).await.expect("lab starts");
    let mut api_config = config(Version::V4, assets_of(&lab));
    api_config.tls = true;
    let api = FakeJumpServer::start(api_config).await.expect("fake API");
    assert!(api.url.starts_with("https://"));

    let run = check(&lab, &api, &access_key(), &[]).await;
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--jumpserver-ca"), "{}", run.stderr);
    assert!(
        api.seen().is_empty(),
        "a request went through unverified TLS"
    );

    let ca = lab.dir().join("jumpserver-ca.pem");
    std::fs::write(&ca, api.ca_pem.as_deref().expect("a CA")).unwrap();
    let ca = ca.to_str().unwrap();
    let run = check(&lab, &api, &access_key(), &["--jumpserver-ca", ca]).await;
    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(category(&run, scenarios::OK_ROOT.name), "ok");
}

#[tokio::test]
async fn an_unreachable_jumpserver_is_said_before_any_probe() {
    let lab = Lab::start(&[scenarios::OK_ROOT]).await.expect("lab starts");
    let api = FakeJumpServer::start(config(Version::V4, Vec::new()))
        .await
        .expect("fake API");
    let url = api.url.clone();
    drop(api);
    let mut argv: Vec<OsString> = lab.check_args();
    argv.remove(1);
    argv.extend(["--jumpserver".into(), url.clone().into(), "--quiet".into()]);
    let run = prober_with_env(argv, &access_key()).await;
    assert_secrets_hidden(&run);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("cannot reach JumpServer at {url}")),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn the_api_and_an_inventory_file_are_not_given_together() {
    let run = prober_with_env(
        [
            "check",
            "inventory.csv",
            "--jumpserver",
            "https://127.0.0.1:1",
        ],
        &access_key(),
    )
    .await;
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
}

#[tokio::test]
async fn junit_names_the_assets_after_the_jumpserver_they_came_from() {
    let lab = Lab::start(&[scenarios::OK_ROOT, scenarios::WRONG_PASSWORD])
        .await
        .expect("lab starts");
    let api = FakeJumpServer::start(config(Version::V4, assets_of(&lab)))
        .await
        .expect("fake API");
    let run = check(&lab, &api, &access_key(), &["--format", "junit"]).await;
    assert_eq!(run.status, 1, "{}\n{}", run.stdout, run.stderr);
    let host = url::Url::parse(&api.url)
        .unwrap()
        .host_str()
        .unwrap()
        .to_string();
    let class = format!("classname=\"prober.{}\"", host.replace('.', "_"));
    assert_eq!(run.stdout.matches(&class).count(), 2, "{}", run.stdout);
}
