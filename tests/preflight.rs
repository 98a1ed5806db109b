//! Local credential problems are found once, before any connection: every asset that
//! names the credential gets its category, the run says the cause once.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::Path;

use crate::util::{args, prober_with_env};

/// Connections the listener has had: a connection the kernel completed waits in the
/// backlog whether or not the prober closed it since.
fn connections(listener: &TcpListener) -> usize {
    listener.set_nonblocking(true).unwrap();
    let mut count = 0;
    loop {
        match listener.accept() {
            Ok(_) => count += 1,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return count,
            Err(e) => panic!("accept: {e}"),
        }
    }
}

fn inventory(dir: &Path, port: u16, assets: usize, credential: &str) -> std::path::PathBuf {
    let mut text = String::from("name,host,port,admin_user\n");
    for i in 0..assets {
        text.push_str(&format!("asset-{i},127.0.0.1,{port},{credential}\n"));
    }
    let path = dir.join("inventory.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// Credentials whose one credential, `ops`, names a key file that is not there.
fn missing_key(dir: &Path) -> std::path::PathBuf {
    let credentials = dir.join("credentials.toml");
    std::fs::write(
        &credentials,
        "[credentials.ops]\nusername = \"root\"\nkey = \"keys/missing_key\"\n",
    )
    .unwrap();
    credentials
}

#[tokio::test]
async fn a_missing_key_named_by_1000_assets_is_said_once_and_connects_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let credentials = missing_key(dir.path());
    let inventory = inventory(dir.path(), port, 1000, "ops");
    let known_hosts = dir.path().join("known_hosts");
    let home = dir.path().to_str().unwrap();
    let run = prober_with_env(
        args([
            "check".as_ref(),
            inventory.as_os_str(),
            "--credentials".as_ref(),
            credentials.as_os_str(),
            "--known-hosts".as_ref(),
            known_hosts.as_os_str(),
            "--format".as_ref(),
            "jsonl".as_ref(),
        ]),
        &[("HOME", home)],
    )
    .await;
    assert_eq!(run.status, 1, "{}", run.stderr);

    let records = run.records();
    assert_eq!(records.len(), 1000, "{}", run.stderr);
    for record in &records {
        assert_eq!(record["category"], "key_unreadable", "{record:#}");
        let message = record["message"].as_str().unwrap();
        assert!(
            message.contains("credential `ops`") && message.contains("missing_key"),
            "{message}"
        );
        assert_eq!(record["ip"], serde_json::Value::Null, "{record:#}");
    }

    let told: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("missing_key"))
        .collect();
    assert_eq!(told.len(), 1, "the cause is said once:\n{}", run.stderr);
    assert!(
        told[0].starts_with("error: credential `ops` cannot be used: cannot read key"),
        "{}",
        told[0]
    );
    let reach = "error: credential `ops` cannot be used (said above): 1000 assets use it, recorded as key_unreadable without connecting";
    assert!(run.stderr.contains(reach), "{}", run.stderr);
    assert_eq!(connections(&listener), 0, "no asset was connected to");
}

#[tokio::test]
async fn a_public_key_under_home_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let public =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEGTuHSNgJbsdR0UCk0cVPTDrdV98NU1cbd3a/rSIa4f ops\n";
    std::fs::write(dir.path().join("id_ed25519.pub"), public).unwrap();
    let credentials = dir.path().join("credentials.toml");
    std::fs::write(
        &credentials,
        "[credentials.ops]\nusername = \"root\"\nkey = \"~/id_ed25519.pub\"\n",
    )
    .unwrap();
    let inventory = inventory(dir.path(), port, 3, "ops");
    let home = dir.path().to_str().unwrap();
    let run = prober_with_env(
        args([
            "check".as_ref(),
            inventory.as_os_str(),
            "--credentials".as_ref(),
            credentials.as_os_str(),
            "--known-hosts".as_ref(),
            dir.path().join("known_hosts").as_os_str(),
            "--format".as_ref(),
            "jsonl".as_ref(),
        ]),
        &[("HOME", home)],
    )
    .await;
    let private = dir.path().join("id_ed25519");
    let expected = format!(
        "key {home}/id_ed25519.pub is a public key; give the private key ({} without .pub)",
        private.display()
    );
    for record in run.records() {
        assert_eq!(record["category"], "key_unreadable", "{record:#}");
        assert!(
            record["message"].as_str().unwrap().contains(&expected),
            "{record:#}"
        );
    }
    assert_eq!(run.records().len(), 3, "{}", run.stderr);
    assert!(run.stderr.contains("3 assets use it"), "{}", run.stderr);
    assert_eq!(connections(&listener), 0);
}

/// A system user's, a gateway's and an agent credential that cannot work: each asset gets
/// the local category for what names it, the admin login that can work still happens, and
/// each cause is said once.
#[tokio::test]
async fn every_role_of_an_unusable_credential_fails_without_its_connection() {
    use fixtures::lab::{Lab, scenarios};
    let lab = Lab::start(&[scenarios::OK_ROOT]).await.unwrap();
    let port = lab.port(&scenarios::OK_ROOT);
    let mut credentials = std::fs::read_to_string(lab.credentials()).unwrap();
    credentials.push_str(
        "\n[credentials.deploy-broken]\nusername = \"deploy\"\nkey = \"keys/gone\"\n\
         [credentials.by-agent]\nusername = \"root\"\nagent = true\n\
         [gateways.dmz]\nhost = \"127.0.0.1\"\nport = 9\nusername = \"jump\"\n\
         password_file = \"dmz-password-gone\"\n",
    );
    let credentials_file = lab.dir().join("preflight.toml");
    std::fs::write(&credentials_file, credentials).unwrap();
    let inventory = lab.dir().join("preflight.csv");
    std::fs::write(
        &inventory,
        format!(
            "name,host,port,admin_user,system_users,gateway\n\
             admin-ok,127.0.0.1,{port},lab-root,deploy-broken,\n\
             agentless,127.0.0.1,{port},by-agent,,\n\
             behind-dmz,127.0.0.1,{port},lab-root,,dmz\n"
        ),
    )
    .unwrap();
    let mut argv = lab.check_args_for(&inventory);
    argv.extend(args([
        "--credentials".as_ref(),
        credentials_file.as_os_str(),
        "--format".as_ref(),
        "jsonl".as_ref(),
    ]));
    // The helper removes SSH_AUTH_SOCK: no agent in the prober's session.
    let run = prober_with_env(argv, &[]).await;
    assert_eq!(run.status, 1, "{}", run.stderr);

    let records = run.records();
    let find = |name: &str, user: Option<&str>| {
        records
            .iter()
            .find(|r| r["name"] == name && r["system_user"].as_str() == user)
            .unwrap_or_else(|| panic!("no {name} {user:?}: {}", run.stdout))
    };
    assert_eq!(find("admin-ok", None)["category"], "ok", "{}", run.stderr);
    let deploy = find("admin-ok", Some("deploy-broken"));
    assert_eq!(deploy["category"], "key_unreadable", "{deploy:#}");
    assert_eq!(deploy["stage"], "system_user", "{deploy:#}");
    let agentless = find("agentless", None);
    assert_eq!(
        agentless["category"], "credential_unavailable",
        "{agentless:#}"
    );
    assert!(
        agentless["message"]
            .as_str()
            .unwrap()
            .contains("SSH_AUTH_SOCK is not set"),
        "{agentless:#}"
    );
    let behind = find("behind-dmz", None);
    assert_eq!(behind["category"], "credential_unavailable", "{behind:#}");
    assert_eq!(behind["stage"], "jump", "{behind:#}");
    assert!(
        behind["message"]
            .as_str()
            .unwrap()
            .contains("dmz-password-gone"),
        "{behind:#}"
    );

    for (cause, line) in [
        ("keys/gone", "credential `deploy-broken` cannot be used"),
        ("SSH_AUTH_SOCK", "credential `by-agent` cannot be used"),
        (
            "dmz-password-gone",
            "gateway credential `dmz` cannot be used",
        ),
    ] {
        let told: Vec<&str> = run.stderr.lines().filter(|l| l.contains(cause)).collect();
        assert_eq!(told.len(), 1, "{cause} said once:\n{}", run.stderr);
        assert!(told[0].contains(&format!("{line}: ")), "{}", told[0]);
        let reach = format!("{line} (said above): 1 asset uses it");
        assert!(run.stderr.contains(&reach), "{reach}:\n{}", run.stderr);
    }
    let connections = lab
        .stats(scenarios::OK_ROOT.name)
        .connections
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(connections, 1, "only admin-ok's admin logged in");
}

/// `prober gateway`'s own key, given on the command line as `~/…` (quoted, so no shell
/// expanded it): the gateway result says what is missing, and the gateway is not touched.
#[tokio::test]
async fn the_gateway_users_missing_key_is_its_verdict_without_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let home = dir.path().to_str().unwrap();
    let gateway = format!("127.0.0.1:{port}");
    let run = prober_with_env(
        args([
            "gateway".as_ref(),
            "--gateway".as_ref(),
            gateway.as_ref(),
            "--jms-user".as_ref(),
            "alice".as_ref(),
            "--key".as_ref(),
            "~/.ssh/jms_key".as_ref(),
            "--known-hosts".as_ref(),
            dir.path().join("known_hosts").as_os_str(),
            "--format".as_ref(),
            "jsonl".as_ref(),
        ]),
        &[("HOME", home)],
    )
    .await;
    let record = run.record("gateway");
    assert_eq!(record["category"], "key_unreadable", "{record:#}");
    let missing = format!("cannot read key {home}/.ssh/jms_key:");
    assert!(
        record["message"].as_str().unwrap().contains(&missing),
        "{record:#}"
    );
    assert_eq!(connections(&listener), 0);
}

/// The cause is said as soon as the first asset that names the credential is recorded,
/// not after the run: here the inventory comes on a pipe that stays open until prober
/// has said it.
#[tokio::test]
async fn the_cause_is_said_before_the_run_ends() {
    use std::process::Stdio;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let credentials = missing_key(dir.path());
    let rows = std::fs::read(inventory(dir.path(), port, 2, "ops")).unwrap();
    let mut child = tokio::process::Command::from(crate::util::prober_command())
        .args(args([
            "check".as_ref(),
            "-".as_ref(),
            "--credentials".as_ref(),
            credentials.as_os_str(),
            "--known-hosts".as_ref(),
            dir.path().join("known_hosts").as_os_str(),
            "--format".as_ref(),
            "jsonl".as_ref(),
        ]))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&rows).await.unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    // Only so a broken build fails instead of waiting for a pipe that never ends.
    let first = tokio::time::timeout(std::time::Duration::from_secs(300), async {
        loop {
            let line = stderr.next_line().await.unwrap().expect("prober says why");
            if line.contains("missing_key") {
                return line;
            }
        }
    })
    .await
    .expect("the cause is said while the inventory is still open");
    assert!(
        first.starts_with("error: credential `ops` cannot be used: cannot read key"),
        "{first}"
    );
    drop(stdin);
    let mut rest = String::new();
    while let Some(line) = stderr.next_line().await.unwrap() {
        rest.push_str(&line);
        rest.push('\n');
    }
    assert_eq!(child.wait().await.unwrap().code(), Some(1), "{rest}");
    assert!(!rest.contains("missing_key"), "said once: {rest}");
    assert!(
        rest.contains("credential `ops` cannot be used (said above): 2 assets use it"),
        "{rest}"
    );
    assert_eq!(connections(&listener), 0);
}
