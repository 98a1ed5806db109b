//! `prober gateway` against the fake JumpServer gateway and a fake asset, all on loopback.

use crate::util::{Run, args, prober_with_env};
use fixtures::koko::lab::KokoLab;
use fixtures::lab::DEPLOY_UID;

/// `prober gateway` against the lab's gateway on `gateway_port`; with the inventory.
async fn gateway(lab: &KokoLab, gateway_port: u16, auth: &[&str], with_inventory: bool) -> Run {
    let mut argv = args([
        "gateway".to_string(),
        "--gateway".into(),
        format!("127.0.0.1:{gateway_port}"),
        "--known-hosts".into(),
        lab.path("known_hosts").display().to_string(),
        "--format".into(),
        "jsonl".into(),
        "--quiet".into(),
    ]);
    argv.extend(args(auth));
    if with_inventory {
        argv.extend(args([
            lab.path("inventory.csv").display().to_string(),
            "--credentials".into(),
            lab.path("credentials.toml").display().to_string(),
        ]));
    }
    prober_with_env(argv, &[("BOB_PASSWORD", "not-bobs")]).await
}

async fn lab() -> KokoLab {
    KokoLab::start().await.unwrap()
}

fn category(run: &Run, name: &str) -> String {
    run.record(name)["category"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_gateway_its_web_terminal_and_every_asset_through_it() {
    let lab = lab().await;
    let key = lab.path("jms").display().to_string();
    let ws = lab.ws_port.to_string();
    let run = gateway(
        &lab,
        lab.ssh_port,
        &["--jms-user", "alice", "--key", &key, "--ws-port", &ws],
        true,
    )
    .await;
    assert_eq!(category(&run, "gateway"), "ok", "{}", run.stdout);
    assert_eq!(run.record("gateway")["banner"], "SSH-2.0-JumpServer");
    assert_eq!(category(&run, "web terminal"), "ok");
    let web = run.record("web");
    assert_eq!(
        (web["category"].as_str(), web["system_user"].as_str()),
        (Some("ok"), Some("gw-deploy")),
        "{web:#}"
    );
    assert_eq!(web["uid"], DEPLOY_UID);
    assert_eq!(category(&run, "ghost"), "gateway_asset_not_found");
    assert_eq!(category(&run, "twin"), "gateway_asset_ambiguous");
    assert_eq!(category(&run, "private"), "gateway_permission_denied");
    assert_eq!(category(&run, "broken"), "gateway_target_failed");
    assert!(
        run.record("broken")["message"]
            .as_str()
            .unwrap()
            .contains("Connect asset broken"),
        "{}",
        run.stdout
    );
    let nobody = run.record("nobody");
    assert_eq!(nobody["category"], "skipped", "{nobody:#}");
    assert!(
        nobody["message"]
            .as_str()
            .unwrap()
            .contains("no system_users to log in as"),
        "{nobody:#}"
    );
    assert_eq!(run.status, 1);
    assert_eq!(lab.koko.failures("alice"), 0);
}

#[tokio::test]
async fn one_refused_key_is_never_followed_by_a_second_attempt() {
    let lab = lab().await;
    let key = lab.path("stranger").display().to_string();
    let run = gateway(
        &lab,
        lab.ssh_port,
        &["--jms-user", "alice", "--key", &key],
        true,
    )
    .await;
    let gateway = run.record("gateway");
    assert_eq!(
        gateway["category"], "gateway_key_not_registered",
        "{gateway:#}"
    );
    assert!(
        gateway["message"]
            .as_str()
            .unwrap()
            .contains("nothing more is tried")
    );
    for row in ["web", "ghost", "twin", "private", "broken"] {
        let r = run.record(row);
        assert_eq!(r["category"], "skipped", "{r:#}");
        assert!(r["message"].as_str().unwrap().contains("lockout"), "{r:#}");
    }
    assert_eq!(
        lab.koko.failures("alice"),
        1,
        "exactly one refused attempt reached the gateway"
    );
}

#[tokio::test]
async fn wrong_port_password_and_locked_users() {
    let lab = lab().await;
    let key = lab.path("jms").display().to_string();
    let run = gateway(
        &lab,
        lab.asset_port,
        &["--jms-user", "alice", "--key", &key],
        false,
    )
    .await;
    assert_eq!(
        category(&run, "gateway"),
        "gateway_wrong_port",
        "{}",
        run.stdout
    );
    assert_eq!(lab.koko.failures("alice"), 0);

    let run = gateway(
        &lab,
        lab.ssh_port,
        &["--jms-user", "bob", "--password-env", "BOB_PASSWORD"],
        false,
    )
    .await;
    assert_eq!(
        category(&run, "gateway"),
        "gateway_auth_failed",
        "{}",
        run.stdout
    );
    assert_eq!(lab.koko.failures("bob"), 1);

    let run = gateway(
        &lab,
        lab.ssh_port,
        &["--jms-user", "carol", "--key", &key],
        false,
    )
    .await;
    let carol = run.record("gateway");
    assert_eq!(carol["category"], "gateway_user_locked", "{carol:#}");
    assert!(carol["message"].as_str().unwrap().contains("locked"));

    let refusing = fixtures::tcp::refusing();
    let ws = refusing.addr.port().to_string();
    let run = gateway(
        &lab,
        lab.ssh_port,
        &["--jms-user", "alice", "--key", &key, "--ws-port", &ws],
        false,
    )
    .await;
    assert_eq!(category(&run, "gateway"), "ok");
    assert_eq!(category(&run, "web terminal"), "gateway_ws_unreachable");
}

/// `--shard`: shard 0 alone checks the gateway itself, and the shards share the assets.
#[tokio::test]
async fn shards_check_the_gateway_once_and_share_its_assets() {
    let lab = lab().await;
    let key = lab.path("jms").display().to_string();
    let auth = |shard: &'static str| {
        [
            "--jms-user",
            "alice",
            "--key",
            key.as_str(),
            "--shard",
            shard,
        ]
    };
    let names = |run: &Run| -> Vec<String> {
        run.records()
            .iter()
            .map(|r| format!("{} {}", r["name"], r["system_user"]))
            .collect()
    };
    let whole = gateway(&lab, lab.ssh_port, &auth("0/1"), true).await;
    let first = gateway(&lab, lab.ssh_port, &auth("0/2"), true).await;
    let second = gateway(&lab, lab.ssh_port, &auth("1/2"), true).await;
    assert_eq!(category(&first, "gateway"), "ok", "{}", first.stdout);
    assert!(
        !second.records().iter().any(|r| r["name"] == "gateway"),
        "{}",
        second.stdout
    );
    let mut union = names(&first);
    union.extend(names(&second));
    union.sort();
    let mut all = names(&whole);
    all.sort();
    assert_eq!(union, all);
}
