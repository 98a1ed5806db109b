//! `prober gateway` against the fake JumpServer gateway and a fake asset, all on loopback.

use std::path::PathBuf;
use std::sync::Arc;

use fixtures::gateway::{Gateway, Registry, serve_ws};
use fixtures::inspection::HostModel;
use fixtures::keys;
use fixtures::ssh::{Account, Shell, SshHost};
use prober_tests::{Run, args, prober_with_env};
use tokio::net::TcpListener;

struct Lab {
    dir: tempfile::TempDir,
    koko: Arc<Gateway>,
    koko_port: u16,
    ws_port: u16,
    asset_port: u16,
    _servers: Vec<fixtures::Running>,
}

impl Lab {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    async fn gateway(&self, gateway_port: u16, auth: &[&str], with_inventory: bool) -> Run {
        let mut argv = args([
            "gateway".to_string(),
            "--gateway".into(),
            format!("127.0.0.1:{gateway_port}"),
            "--known-hosts".into(),
            self.path("known_hosts").display().to_string(),
            "--format".into(),
            "jsonl".into(),
            "--quiet".into(),
        ]);
        argv.extend(args(auth));
        if with_inventory {
            argv.extend(args([
                self.path("inventory.csv").display().to_string(),
                "--credentials".into(),
                self.path("credentials.toml").display().to_string(),
            ]));
        }
        prober_with_env(argv, &[("BOB_PASSWORD", "not-bobs")]).await
    }
}

async fn lab() -> Lab {
    let dir = tempfile::tempdir().unwrap();
    let (deploy, jms, stranger) = (keys::ed25519(), keys::ed25519(), keys::ed25519());
    for (key, name) in [(&deploy, "deploy"), (&jms, "jms"), (&stranger, "stranger")] {
        keys::write_private(key, &dir.path().join(name), None).unwrap();
    }
    let model = HostModel {
        uid: 1500,
        user: "deploy".into(),
        ..HostModel::root("web")
    };
    let asset = SshHost::new(vec![Account {
        name: "deploy".into(),
        password: None,
        keys: vec![deploy.public_key().clone()],
        shell: Shell::Normal(model),
    }])
    .serve()
    .await;
    let refusing = fixtures::tcp::refusing().port();
    let registry = format!(
        r#"
[users.alice]
public_keys = ["{jms_pub}"]
permissions = ["web/*", "twin-a/*", "twin-b/*", "private/root", "broken/*"]

[users.bob]
password = "bobs-password"
permissions = ["web/*"]

[users.carol]
public_keys = ["{jms_pub}"]
locked = true

[assets.web]
address = "127.0.0.1"
port = {asset_port}
accounts = [{{ username = "deploy", key_file = "{deploy_key}" }}]

[assets.twin-a]
address = "10.99.0.1"
[assets.twin-b]
address = "10.99.0.1"

[assets.private]
address = "10.99.0.2"
accounts = [{{ username = "deploy", key_file = "{deploy_key}" }}]

[assets.broken]
address = "127.0.0.1"
port = {refusing}
accounts = [{{ username = "deploy", key_file = "{deploy_key}" }}]
"#,
        jms_pub = keys::openssh_line(jms.public_key()),
        asset_port = asset.addr.port(),
        deploy_key = dir.path().join("deploy").display(),
    );
    let koko = Gateway::new(Registry::parse(&registry).unwrap());
    let ssh = koko.serve(TcpListener::bind("127.0.0.1:0").await.unwrap());
    let ws = serve_ws(TcpListener::bind("127.0.0.1:0").await.unwrap());
    std::fs::write(
        dir.path().join("inventory.csv"),
        "name,host,system_users\nweb,web,gw-deploy\nghost,ghost,gw-deploy\ntwin,10.99.0.1,gw-deploy\nprivate,private,gw-deploy\nbroken,broken,gw-deploy\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("credentials.toml"),
        format!(
            "[credentials.gw-deploy]\nusername = \"deploy\"\npublic_key = \"{}\"\n",
            keys::openssh_line(deploy.public_key())
        ),
    )
    .unwrap();
    Lab {
        koko_port: ssh.addr.port(),
        ws_port: ws.addr.port(),
        asset_port: asset.addr.port(),
        koko,
        dir,
        _servers: vec![asset, ssh, ws],
    }
}

fn category(run: &Run, name: &str) -> String {
    run.record(name)["category"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_gateway_its_web_terminal_and_every_asset_through_it() {
    let lab = lab().await;
    let key = lab.path("jms").display().to_string();
    let ws = lab.ws_port.to_string();
    let run = lab
        .gateway(
            lab.koko_port,
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
    assert_eq!(web["uid"], 1500);
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
    assert_eq!(run.status, 1);
    assert_eq!(lab.koko.failures("alice"), 0);
}

#[tokio::test]
async fn one_refused_key_is_never_followed_by_a_second_attempt() {
    let lab = lab().await;
    let key = lab.path("stranger").display().to_string();
    let run = lab
        .gateway(lab.koko_port, &["--jms-user", "alice", "--key", &key], true)
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
    let run = lab
        .gateway(
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

    let run = lab
        .gateway(
            lab.koko_port,
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

    let run = lab
        .gateway(
            lab.koko_port,
            &["--jms-user", "carol", "--key", &key],
            false,
        )
        .await;
    let carol = run.record("gateway");
    assert_eq!(carol["category"], "gateway_user_locked", "{carol:#}");
    assert!(carol["message"].as_str().unwrap().contains("locked"));

    let refusing = fixtures::tcp::refusing().port().to_string();
    let run = lab
        .gateway(
            lab.koko_port,
            &["--jms-user", "alice", "--key", &key, "--ws-port", &refusing],
            false,
        )
        .await;
    assert_eq!(category(&run, "gateway"), "ok");
    assert_eq!(category(&run, "web terminal"), "gateway_ws_unreachable");
}
