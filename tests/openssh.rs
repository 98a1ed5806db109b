//! OpenSSH habits: `-i`, `-l`, `-p`, `-J`, `-F`, `~/.ssh/config`, and what ssh tries when
//! given no credential (the agent, then ~/.ssh/id_*). Every run has a HOME of its own,
//! so the developer's ~/.ssh is never read, and SSH_AUTH_SOCK only when a test sets it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use fixtures::agent::Agent;
use fixtures::keys::PrivateKey;
use fixtures::keys::{ecdsa, ed25519, openssh_line, write_private};
use fixtures::ssh::{Account, Shell, SshHost, Stats};
use fixtures::{Running, inspection::HostModel};

use crate::util::{Run, prober_with_env};

/// A temporary HOME with an empty ~/.ssh.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".ssh")).unwrap();
        Home { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn key(&self, name: &str, key: &PrivateKey, passphrase: Option<&str>) -> PathBuf {
        let path = self.path(name);
        write_private(key, &path, passphrase).unwrap();
        path
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `prober check INVENTORY --format jsonl --quiet` with this HOME, plus `extra`.
    async fn check(&self, inventory: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let quiet = [&["--quiet"], extra].concat();
        self.check_saying(inventory, &quiet, env).await
    }

    /// As [`Home::check`], with the end-of-run report on stderr.
    async fn check_saying(&self, inventory: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let inventory = self.file("hosts.txt", inventory);
        let mut argv = vec![
            "check".to_string(),
            inventory.display().to_string(),
            "--format".into(),
            "jsonl".into(),
        ];
        argv.extend(extra.iter().map(|s| s.to_string()));
        let home = self.dir.path().to_str().unwrap();
        let mut vars = vec![("HOME", home)];
        vars.extend_from_slice(env);
        prober_with_env(argv, &vars).await
    }
}

/// A fake asset whose account `user` logs in with `keys`.
async fn asset(user: &str, keys: &[&PrivateKey]) -> Running {
    served(user, keys).await.0
}

/// The fake asset, and what it counts.
async fn served(user: &str, keys: &[&PrivateKey]) -> (Running, Arc<Stats>) {
    let host = SshHost::new(vec![account(user, keys)]);
    let stats = host.stats.clone();
    (host.serve().await, stats)
}

fn account(user: &str, keys: &[&PrivateKey]) -> Account {
    Account {
        name: user.into(),
        password: None,
        keys: keys.iter().map(|k| k.public_key().clone()).collect(),
        shell: Shell::Normal(HostModel::root("asset")),
    }
}

fn only(run: &Run) -> serde_json::Value {
    let records = run.records();
    assert_eq!(records.len(), 1, "{}\n{}", run.stdout, run.stderr);
    records.into_iter().next().unwrap()
}

fn message(record: &serde_json::Value) -> &str {
    record["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn short_options_set_key_user_and_port() {
    let home = Home::new();
    let key = ed25519();
    let server = asset("deploy", &[&key]).await;
    let key_file = home.key("deploy.key", &key, None);
    let port = server.addr.port().to_string();
    let run = home
        .check(
            "127.0.0.1\n",
            &[
                "-l",
                "deploy",
                "-i",
                key_file.to_str().unwrap(),
                "-p",
                &port,
                "-F",
                "none",
            ],
            &[],
        )
        .await;
    let record = only(&run);
    assert_eq!(record["category"], "ok", "{record:#}\n{}", run.stderr);
    assert_eq!(record["port"], server.addr.port());
    assert!(
        message(&record).contains("logged in as deploy with publickey"),
        "{record:#}"
    );
    assert_eq!(record["ssh_config"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_key_passphrase_file_opens_the_key() {
    let home = Home::new();
    let key = ed25519();
    let server = asset("deploy", &[&key]).await;
    let key_file = home.key("locked.key", &key, Some("open sesame"));
    let passphrase = home.file("passphrase", "open sesame\n");
    let inventory = format!("127.0.0.1:{}\n", server.addr.port());
    let run = home
        .check(
            &inventory,
            &[
                "-l",
                "deploy",
                "-i",
                key_file.to_str().unwrap(),
                "--key-passphrase-file",
                passphrase.to_str().unwrap(),
                "-F",
                "none",
            ],
            &[],
        )
        .await;
    assert_eq!(only(&run)["category"], "ok", "{}", run.stderr);
}

/// An alias of ~/.ssh/config: its address, port, user and key come from there, and the
/// DNS server (which knows no name) is never needed.
#[tokio::test]
async fn an_ssh_config_alias_resolves_through_the_config_not_dns() {
    let home = Home::new();
    let key = ed25519();
    let server = asset("deploy", &[&key]).await;
    let key_file = home.key(".ssh/deploy_key", &key, None);
    home.file(
        ".ssh/config",
        &format!(
            "Host web-cfg\n  HostName 127.0.0.1\n  Port {}\n  User deploy\n  IdentityFile ~/.ssh/deploy_key\n",
            server.addr.port()
        ),
    );
    let dns = fixtures::dns::Zone::default().serve().await;
    let nameserver = dns.addr.to_string();
    let known_hosts = home.path("known_hosts");
    let args = [
        "--nameserver",
        &nameserver,
        "--known-hosts",
        known_hosts.to_str().unwrap(),
    ];
    let run = home.check("web-cfg\n", &args, &[]).await;
    let record = only(&run);
    assert_eq!(record["category"], "ok", "{record:#}\n{}", run.stderr);
    assert_eq!(record["host"], "web-cfg", "the name a later run reads back");
    assert_eq!(record["ip"], "127.0.0.1");
    assert_eq!(record["port"], server.addr.port());
    assert!(
        message(&record).contains("logged in as deploy"),
        "{record:#}"
    );
    let taken = record["ssh_config"].as_array().unwrap();
    let taken: Vec<&str> = taken.iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(
        taken[..3],
        [
            "HostName 127.0.0.1",
            &format!("Port {}", server.addr.port()),
            "User deploy"
        ]
    );
    assert!(taken[3].starts_with("IdentityFile ") && taken[3].ends_with("deploy_key"));

    // -F none: the same alias is a name only DNS could resolve, and it does not.
    let key = key_file.to_str().unwrap();
    let none = [&args[..], &["-F", "none", "-l", "deploy", "-i", key]].concat();
    let run = home.check("web-cfg\n", &none, &[]).await;
    assert_eq!(only(&run)["category"], "dns_nxdomain", "{}", run.stdout);
}

/// -F FILE instead of ~/.ssh/config, and what the command line says wins over it.
#[tokio::test]
async fn the_command_line_wins_over_the_config() {
    let home = Home::new();
    let key = ed25519();
    let server = asset("deploy", &[&key]).await;
    let key_file = home.key("deploy.key", &key, None);
    // Nothing listens on the config's port; its user has no account.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let config = home.file(
        "other_config",
        &format!("Host web-cfg\n  HostName 127.0.0.1\n  Port {closed_port}\n  User nobody\n"),
    );
    let port = server.addr.port().to_string();
    let key = key_file.to_str().unwrap();
    let cfg = config.to_str().unwrap();
    let run = home.check("web-cfg\n", &["-F", cfg, "-i", key], &[]).await;
    assert_eq!(
        only(&run)["category"],
        "tcp_refused",
        "the config's port: {}",
        run.stdout
    );
    let run = home
        .check("web-cfg\n", &["-F", cfg, "-i", key, "-p", &port], &[])
        .await;
    let record = only(&run);
    assert_eq!(
        record["category"], "auth_failed",
        "the config's user: {record:#}"
    );
    assert!(message(&record).contains("for nobody"), "{record:#}");
    let run = home
        .check(
            "web-cfg\n",
            &["-F", cfg, "-i", key, "-p", &port, "-l", "deploy"],
            &[],
        )
        .await;
    let record = only(&run);
    assert_eq!(record["category"], "ok", "{record:#}");
    assert_eq!(
        record["ssh_config"],
        serde_json::json!(["HostName 127.0.0.1"])
    );
}

/// No credential given: the default identity files ssh would try, in its order; one
/// that needs a passphrase is skipped with a note, as ssh would have asked for it.
#[tokio::test]
async fn default_identities_are_tried_when_no_credential_is_given() {
    let home = Home::new();
    let (locked, good) = (ed25519(), ed25519());
    let server = asset("deploy", &[&good]).await;
    let locked_file = home.key(".ssh/id_rsa", &locked, Some("unknown"));
    home.key(".ssh/id_ed25519", &good, None);
    let inventory = format!("127.0.0.1:{}\n", server.addr.port());
    let run = home.check(&inventory, &["-l", "deploy"], &[]).await;
    let record = only(&run);
    assert_eq!(record["category"], "ok", "{record:#}\n{}", run.stderr);
    assert!(
        message(&record).contains("with publickey ssh-ed25519"),
        "{record:#}"
    );
    assert!(
        run.stderr.contains(&format!(
            "identity {} is encrypted: skipped",
            locked_file.display()
        )),
        "{}",
        run.stderr
    );

    // Nothing to try at all: said before connecting.
    std::fs::remove_file(home.path(".ssh/id_ed25519")).unwrap();
    std::fs::remove_file(locked_file).unwrap();
    let run = home.check(&inventory, &["-l", "deploy"], &[]).await;
    let record = only(&run);
    assert_eq!(record["category"], "credential_unavailable", "{record:#}");
    assert!(message(&record).contains("no credential"), "{record:#}");
    assert_eq!(
        record["ip"],
        serde_json::Value::Null,
        "nothing was connected"
    );
}

/// The agent at SSH_AUTH_SOCK comes before the default identity files.
#[tokio::test]
async fn the_agent_is_tried_before_the_default_identities() {
    let home = Home::new();
    let (in_agent, on_disk) = (ed25519(), ed25519());
    let server = asset("deploy", &[&in_agent, &on_disk]).await;
    home.key(".ssh/id_ed25519", &on_disk, None);
    let socket = home.path("agent.sock");
    let _agent = Agent::start(&socket, &[&in_agent]).await.unwrap();
    let inventory = format!("127.0.0.1:{}\n", server.addr.port());
    let sock = socket.to_str().unwrap();
    let run = home
        .check(&inventory, &["-l", "deploy"], &[("SSH_AUTH_SOCK", sock)])
        .await;
    let record = only(&run);
    assert_eq!(record["category"], "ok", "{record:#}\n{}", run.stderr);
    assert!(message(&record).contains("with agent key"), "{record:#}");
}

/// -J: the asset is reached through the jump host, logged in to as ssh would (here with
/// the default identity), the asset with -i.
#[tokio::test]
async fn a_jump_host_on_the_command_line_carries_every_asset() {
    let home = Home::new();
    let (jump_key, asset_key) = (ed25519(), ed25519());
    let (jump, stats) = served("ops", &[&jump_key]).await;
    let target = asset("deploy", &[&asset_key]).await;
    home.key(".ssh/id_ed25519", &jump_key, None);
    let asset_file = home.key("deploy.key", &asset_key, None);
    let inventory = format!("127.0.0.1:{}\n", target.addr.port());
    let via = format!("ops@127.0.0.1:{}", jump.addr.port());
    let key = asset_file.to_str().unwrap();
    let run = home
        .check(&inventory, &["-l", "deploy", "-i", key, "-J", &via], &[])
        .await;
    let record = only(&run);
    assert_eq!(record["category"], "ok", "{record:#}\n{}", run.stderr);
    assert_eq!(
        stats.forwarded.load(Ordering::Relaxed),
        1,
        "through the jump host"
    );
    // The asset key alone does not open the jump host: -i is the asset's, as with ssh.
    std::fs::remove_file(home.path(".ssh/id_ed25519")).unwrap();
    let run = home
        .check(&inventory, &["-l", "deploy", "-i", key, "-J", &via], &[])
        .await;
    let record = only(&run);
    assert_eq!(record["category"], "credential_unavailable", "{record:#}");
    assert_eq!(record["stage"], "jump", "{record:#}");
}

/// `prober gateway` offers its one key and nothing else, whatever the agent, the default
/// identities and the ssh_config hold: a second refused key could lock the user out.
#[tokio::test]
async fn the_gateway_offers_exactly_one_key() {
    let lab = fixtures::koko::lab::KokoLab::start().await.unwrap();
    let home = Home::new();
    let (agent_key, default_key) = (ed25519(), ed25519());
    home.key(".ssh/id_ed25519", &default_key, None);
    home.key(".ssh/other", &default_key, None);
    home.file(
        ".ssh/config",
        "Host *\n  IdentityFile ~/.ssh/other\n  User alice\n",
    );
    let socket = home.path("agent.sock");
    let _agent = Agent::start(&socket, &[&agent_key]).await.unwrap();
    let argv = [
        "gateway".to_string(),
        "--gateway".into(),
        format!("127.0.0.1:{}", lab.ssh_port),
        "--jms-user".into(),
        "alice".into(),
        "--key".into(),
        lab.path("stranger").display().to_string(),
        "--known-hosts".into(),
        lab.path("known_hosts").display().to_string(),
        "--format".into(),
        "jsonl".into(),
        "--quiet".into(),
    ];
    let home_dir = home.dir.path().to_str().unwrap();
    let sock = socket.to_str().unwrap();
    let run = prober_with_env(argv, &[("HOME", home_dir), ("SSH_AUTH_SOCK", sock)]).await;
    let gateway = run.record("gateway");
    assert_eq!(
        gateway["category"], "gateway_key_not_registered",
        "{gateway:#}"
    );
    assert_eq!(
        lab.koko.failures("alice"),
        1,
        "one key offered, one refusal"
    );
}

/// The config's host key options: its known_hosts file, and `StrictHostKeyChecking yes`
/// refusing a key that file does not hold; `--host-key-check` wins over the latter only.
#[tokio::test]
async fn the_configs_host_key_checking_applies_unless_the_command_line_says() {
    let home = Home::new();
    let key = ed25519();
    let server = asset("deploy", &[&key]).await;
    let key_file = home.key("deploy.key", &key, None);
    let known_hosts = home.file("cfg_known_hosts", "");
    home.file(
        ".ssh/config",
        &format!(
            "Host *\n  StrictHostKeyChecking yes\n  UserKnownHostsFile {}\n  ConnectTimeout 7\n",
            known_hosts.display()
        ),
    );
    let inventory = format!("127.0.0.1:{}\n", server.addr.port());
    let key = key_file.to_str().unwrap();
    let run = home
        .check(&inventory, &["-l", "deploy", "-i", key], &[])
        .await;
    let record = only(&run);
    assert_eq!(
        record["category"], "hostkey_unknown",
        "{record:#}\n{}",
        run.stderr
    );
    assert_eq!(
        record["ssh_config"],
        serde_json::json!([
            "ConnectTimeout 7",
            "StrictHostKeyChecking yes",
            format!("UserKnownHostsFile {}", known_hosts.display())
        ])
    );
    let run = home
        .check(
            &inventory,
            &["-l", "deploy", "-i", key, "--host-key-check", "accept-new"],
            &[],
        )
        .await;
    let record = only(&run);
    assert_eq!(record["category"], "ok", "{record:#}");
    assert_eq!(
        record["ssh_config"],
        serde_json::json!([
            "ConnectTimeout 7",
            format!("UserKnownHostsFile {}", known_hosts.display())
        ]),
        "--host-key-check overrides StrictHostKeyChecking alone"
    );
    // The key just learned went to the config's file, which `strict` now checks against.
    let run = home
        .check(
            &inventory,
            &["-l", "deploy", "-i", key, "--host-key-check", "strict"],
            &[],
        )
        .await;
    assert_eq!(only(&run)["category"], "ok", "{}", run.stdout);
}

/// A host with an Ed25519 and an ECDSA host key, whose ECDSA key alone is in the file the
/// config's UserKnownHostsFile names: that file decides the key asked for, so the known
/// key is checked rather than the other reported unknown, or recorded a second time.
/// A key learned into such a file is reported as the run ends.
#[tokio::test]
async fn the_configs_known_hosts_file_chooses_the_host_key_and_is_reported() {
    let home = Home::new();
    let key = ed25519();
    let host_ecdsa = ecdsa();
    let mut host = SshHost::new(vec![account("deploy", &[&key])]);
    host.other_host_keys = vec![host_ecdsa.clone()];
    let server = host.serve().await;
    let port = server.addr.port();
    let key_file = home.key("deploy.key", &key, None);
    let key = key_file.to_str().unwrap();
    let known = format!(
        "[127.0.0.1]:{port} {}\n",
        openssh_line(host_ecdsa.public_key())
    );
    let known_hosts = home.file("cfg_known_hosts", &known);
    let config = |policy: &str, file: &std::path::Path| {
        format!(
            "Host *\n  StrictHostKeyChecking {policy}\n  UserKnownHostsFile {}\n",
            file.display()
        )
    };
    let inventory = format!("127.0.0.1:{port}\n");
    home.file(".ssh/config", &config("yes", &known_hosts));
    let run = home
        .check(&inventory, &["-l", "deploy", "-i", key], &[])
        .await;
    let record = only(&run);
    assert_eq!(record["category"], "ok", "{record:#}\n{}", run.stderr);

    home.file(".ssh/config", &config("accept-new", &known_hosts));
    let run = home
        .check_saying(&inventory, &["-l", "deploy", "-i", key], &[])
        .await;
    assert_eq!(only(&run)["category"], "ok", "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&known_hosts).unwrap(),
        known,
        "no second key recorded"
    );

    let empty = home.file("empty_known_hosts", "");
    home.file(".ssh/config", &config("accept-new", &empty));
    let run = home
        .check_saying(&inventory, &["-l", "deploy", "-i", key], &[])
        .await;
    assert_eq!(only(&run)["category"], "ok", "{}", run.stderr);
    let said = format!("recorded 1 new host key(s) in {}", empty.display());
    assert!(run.stderr.contains(&said), "{}", run.stderr);

    // Said in the operator's language, as the summary above it is.
    let empty = home.file("empty_known_hosts_zh", "");
    home.file(".ssh/config", &config("accept-new", &empty));
    let run = home
        .check_saying(
            &inventory,
            &["-l", "deploy", "-i", key],
            &[("LANG", "zh_CN.UTF-8")],
        )
        .await;
    let said = format!("已将 1 个新主机密钥记入 {}", empty.display());
    assert!(run.stderr.contains(&said), "{}", run.stderr);
}

/// `IdentitiesOnly yes` and `IdentityAgent none`: the configured identity file is
/// offered, not the agent's keys (each refused one counts toward MaxAuthTries).
#[tokio::test]
async fn identities_only_and_identity_agent_none_keep_the_agent_out() {
    let home = Home::new();
    let (in_agent, on_disk) = (ed25519(), ed25519());
    let server = asset("deploy", &[&in_agent, &on_disk]).await;
    home.key(".ssh/deploy_key", &on_disk, None);
    let socket = home.path("agent.sock");
    let _agent = Agent::start(&socket, &[&in_agent]).await.unwrap();
    let sock = socket.to_str().unwrap();
    let inventory = format!("127.0.0.1:{}\n", server.addr.port());
    for option in ["IdentitiesOnly yes", "IdentityAgent none"] {
        home.file(
            ".ssh/config",
            &format!("Host *\n  {option}\n  IdentityFile ~/.ssh/deploy_key\n"),
        );
        let run = home
            .check(&inventory, &["-l", "deploy"], &[("SSH_AUTH_SOCK", sock)])
            .await;
        let record = only(&run);
        assert_eq!(
            record["category"], "ok",
            "{option}: {record:#}\n{}",
            run.stderr
        );
        assert!(
            message(&record).contains("with publickey ssh-ed25519"),
            "{option}: {record:#}"
        );
    }
}

/// The jump host's own ssh_config entry sets its host key checking: here a file that
/// does not hold its key, with `StrictHostKeyChecking yes`.
#[tokio::test]
async fn a_jump_host_is_checked_as_its_own_config_entry_says() {
    let home = Home::new();
    let (jump_key, asset_key) = (ed25519(), ed25519());
    let (jump, stats) = served("ops", &[&jump_key]).await;
    let target = asset("deploy", &[&asset_key]).await;
    home.key(".ssh/id_ed25519", &jump_key, None);
    let asset_file = home.key("deploy.key", &asset_key, None);
    let empty = home.file("jump_known_hosts", "");
    home.file(
        ".ssh/config",
        &format!(
            "Host jump-cfg\n  HostName 127.0.0.1\n  Port {}\n  User ops\n  StrictHostKeyChecking yes\n  UserKnownHostsFile {}\n",
            jump.addr.port(),
            empty.display()
        ),
    );
    let inventory = format!("127.0.0.1:{}\n", target.addr.port());
    let key = asset_file.to_str().unwrap();
    let run = home
        .check(
            &inventory,
            &["-l", "deploy", "-i", key, "-J", "jump-cfg"],
            &[],
        )
        .await;
    let record = only(&run);
    assert_eq!(record["category"], "jump_unreachable", "{record:#}");
    assert!(message(&record).contains("hostkey_unknown"), "{record:#}");
    assert_eq!(stats.forwarded.load(Ordering::Relaxed), 0);
}

/// With --credentials the rows log in as the file says, but -J's jump host is still
/// reached through its ssh_config entry, as -J's help says; -F without -J is said to
/// be unread.
#[tokio::test]
async fn with_a_credentials_file_the_config_serves_the_jump_host_alone() {
    let home = Home::new();
    let (jump_key, asset_key) = (ed25519(), ed25519());
    let (jump, stats) = served("ops", &[&jump_key]).await;
    let target = asset("deploy", &[&asset_key]).await;
    home.key(".ssh/jump_key", &jump_key, None);
    let asset_file = home.key("deploy.key", &asset_key, None);
    let config = home.file(
        "jump_config",
        &format!(
            "Host jump-cfg\n  HostName 127.0.0.1\n  Port {}\n  User ops\n  IdentityFile ~/.ssh/jump_key\n",
            jump.addr.port()
        ),
    );
    let credentials = home.file("credentials.toml", "");
    let dns = fixtures::dns::Zone::default().serve().await;
    let nameserver = dns.addr.to_string();
    let inventory = format!("127.0.0.1:{}\n", target.addr.port());
    let args = [
        "--credentials",
        credentials.to_str().unwrap(),
        "--user",
        "deploy",
        "--key",
        asset_file.to_str().unwrap(),
        "--nameserver",
        &nameserver,
        "-F",
        config.to_str().unwrap(),
    ];
    let run = home
        .check(&inventory, &[&args[..], &["-J", "jump-cfg"]].concat(), &[])
        .await;
    let record = only(&run);
    assert_eq!(record["category"], "ok", "{record:#}\n{}", run.stderr);
    assert_eq!(stats.forwarded.load(Ordering::Relaxed), 1);

    let run = home.check(&inventory, &args, &[]).await;
    assert_eq!(only(&run)["category"], "ok", "{}", run.stderr);
    assert!(
        run.stderr
            .contains("applies only to -J's jump host (none given: it is not read)"),
        "{}",
        run.stderr
    );
}

/// A row its ssh_config entry cannot route (a ProxyJump chain) is an invalid row, unless
/// it is inactive: then it is skipped, as any inactive row.
#[tokio::test]
async fn an_inactive_row_is_skipped_even_if_the_config_cannot_route_it() {
    let home = Home::new();
    let key = home.key(".ssh/ops_key", &ed25519(), None);
    home.file(
        ".ssh/config",
        "Host chained-*\n  ProxyJump a@127.0.0.1:1,b@127.0.0.1:2\n",
    );
    let known_hosts = home.path("known_hosts");
    let args = [
        "-l",
        "ops",
        "-i",
        key.to_str().unwrap(),
        "--known-hosts",
        known_hosts.to_str().unwrap(),
    ];
    let inventory = "name,host,active\non,chained-on,true\noff,chained-off,false\n";
    let run = home.check(inventory, &args, &[]).await;
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_eq!(run.record("on")["category"], "inventory_invalid");
    assert!(
        run.record("on")["message"]
            .as_str()
            .unwrap()
            .contains("ProxyJump")
    );
    assert_eq!(run.record("off")["category"], "skipped", "{}", run.stdout);
}
