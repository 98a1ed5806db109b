//! The fake JumpServer gateway against the real OpenSSH client: it must behave as
//! documented (direct login, koko's texts, lockout), or testing the prober against it
//! would prove nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use fixtures::gateway::{Gateway, Registry, serve_ws};
use fixtures::inspection::HostModel;
use fixtures::keys;
use fixtures::ssh::{Account, Shell, SshHost};
use tokio::net::TcpListener;

struct Setup {
    dir: tempfile::TempDir,
    gateway: Arc<Gateway>,
    port: u16,
    _servers: Vec<fixtures::Running>,
}

impl Setup {
    fn key(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `ssh -p PORT -i KEY LOGIN@127.0.0.1 COMMAND` with only that key offered; `verbose`
    /// makes ssh report the server's software version.
    fn ssh(&self, key: &str, login: &str, command: &str, verbose: bool) -> (i32, String) {
        let level = if verbose {
            "LogLevel=DEBUG"
        } else {
            "LogLevel=ERROR"
        };
        let out = Command::new("ssh")
            .args([
                "-F",
                "/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
            ])
            .args(["-o", "IdentityAgent=none", "-o", "StrictHostKeyChecking=no"])
            .args([
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                level,
                "-o",
                "ConnectTimeout=10",
            ])
            .args(["-p", &self.port.to_string(), "-i"])
            .arg(self.key(key))
            .arg(format!("{login}@127.0.0.1"))
            .arg(command)
            .output()
            .expect("ssh (openssh-client) runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), text)
    }
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (deploy, stranger) = (keys::ed25519(), keys::ed25519());
    keys::write_private(&deploy, &dir.path().join("deploy"), None).unwrap();
    keys::write_private(&stranger, &dir.path().join("stranger"), None).unwrap();
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
    let registry = format!(
        r#"
[lockout]
attempts = 3
window_secs = 600

[users.alice]
public_keys = ["{deploy_pub}"]
permissions = ["web/*", "twin-a/*", "twin-b/*", "private/root"]

[users.carol]
public_keys = ["{deploy_pub}"]
locked = true

[assets.web]
address = "127.0.0.1"
port = {asset_port}
accounts = [{{ username = "deploy", key_file = "{key}" }}]

[assets.twin-a]
address = "10.99.0.1"
[assets.twin-b]
address = "10.99.0.1"

[assets.private]
address = "10.99.0.2"
accounts = [{{ username = "deploy", key_file = "{key}" }}]
"#,
        deploy_pub = keys::openssh_line(deploy.public_key()),
        asset_port = asset.addr.port(),
        key = dir.path().join("deploy").display(),
    );
    let gateway = Gateway::new(Registry::parse(&registry).unwrap());
    let running = gateway.serve(TcpListener::bind("127.0.0.1:0").await.unwrap());
    let port = running.addr.port();
    Setup {
        dir,
        gateway,
        port,
        _servers: vec![asset, running],
    }
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssh_direct_login_runs_the_command_on_the_asset() {
    let s = setup().await;
    let s = tokio::task::spawn_blocking(move || {
        let (status, out) = s.ssh("deploy", "alice@deploy@web", "id -u", false);
        assert_eq!((status, out.trim()), (0, "1500"), "{out}");
        let (status, out) = s.ssh("deploy", "alice#deploy#127.0.0.1", "id -u", false);
        assert_eq!(
            (status, out.trim()),
            (0, "1500"),
            "by address, with # separators: {out}"
        );
        let (_, out) = s.ssh("deploy", "alice@deploy@web", "true", true);
        assert!(out.contains("remote software version JumpServer"), "{out}");
        s
    })
    .await
    .unwrap();
    let _ = path_str(s.dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn koko_texts_for_unknown_ambiguous_and_unpermitted_targets() {
    let s = setup().await;
    tokio::task::spawn_blocking(move || {
        let (status, out) = s.ssh("deploy", "alice@deploy@10.99.0.9", "id -u", false);
        assert_eq!(status, 1);
        assert!(out.contains("match asset failed: No found asset"), "{out}");
        let (_, out) = s.ssh("deploy", "alice@deploy@10.99.0.1", "id -u", false);
        assert!(out.contains("Must be unique asset for 10.99.0.1"), "{out}");
        let (_, out) = s.ssh("deploy", "alice@deploy@private", "id -u", false);
        assert!(out.contains("Must be unique account for deploy"), "{out}");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unregistered_keys_are_refused_and_failures_lock_the_user() {
    let s = setup().await;
    let s = tokio::task::spawn_blocking(move || {
        let (status, out) = s.ssh("stranger", "alice@deploy@web", "id -u", false);
        assert_eq!(status, 255);
        assert!(
            out.contains("Permission denied (publickey,password"),
            "{out}"
        );
        for _ in 0..2 {
            s.ssh("stranger", "alice", "true", false);
        }
        let (status, out) = s.ssh("deploy", "alice@deploy@web", "id -u", false);
        assert_eq!(
            status, 255,
            "after 3 failures even the right key is refused: {out}"
        );
        let (status, _) = s.ssh("deploy", "carol@deploy@web", "id -u", false);
        assert_eq!(status, 255, "carol is locked");
        s
    })
    .await
    .unwrap();
    assert!(s.gateway.failures("alice") >= 3);
}

#[tokio::test]
async fn the_web_terminal_port_answers_an_upgrade() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ws = serve_ws(TcpListener::bind("127.0.0.1:0").await.unwrap());
    let mut stream = tokio::net::TcpStream::connect(ws.addr).await.unwrap();
    stream
        .write_all(b"GET /koko/ws/terminal/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 101"), "{response}");
    assert!(
        response.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "{response}"
    );
}
