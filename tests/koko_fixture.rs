//! The fake JumpServer gateway against the real OpenSSH client: it must behave as
//! documented (direct login, koko's texts, lockout), or testing the prober against it
//! would prove nothing.

use std::process::Command;

use fixtures::koko::lab::KokoLab;
use fixtures::lab::DEPLOY_UID;

/// `ssh -p PORT -i KEY LOGIN@127.0.0.1 COMMAND` with only that key offered; `verbose`
/// makes ssh report the server's software version.
fn ssh(lab: &KokoLab, key: &str, login: &str, command: &str, verbose: bool) -> (i32, String) {
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
        .args(["-p", &lab.ssh_port.to_string(), "-i"])
        .arg(lab.path(key))
        .arg(format!("{login}@127.0.0.1"))
        .arg(command)
        .output()
        .expect("ssh (openssh-client) runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// The lab, with `check` run on a blocking thread while the lab's servers keep serving.
async fn with_lab(check: impl FnOnce(&KokoLab) + Send + 'static) -> KokoLab {
    let lab = KokoLab::start().await.unwrap();
    tokio::task::spawn_blocking(move || {
        check(&lab);
        lab
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssh_direct_login_runs_the_command_on_the_asset() {
    let uid = DEPLOY_UID.to_string();
    with_lab(move |lab| {
        let (status, out) = ssh(lab, "jms", "alice@deploy@web", "id -u", false);
        assert_eq!((status, out.trim()), (0, uid.as_str()), "{out}");
        let (status, out) = ssh(lab, "jms", "alice#deploy#web", "id -u", false);
        assert_eq!(
            (status, out.trim()),
            (0, uid.as_str()),
            "with # separators: {out}"
        );
        let (_, out) = ssh(lab, "jms", "alice@deploy@web", "true", true);
        assert!(out.contains("remote software version JumpServer"), "{out}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn koko_texts_for_unknown_ambiguous_and_unpermitted_targets() {
    with_lab(|lab| {
        let (status, out) = ssh(lab, "jms", "alice@deploy@127.99.0.9", "id -u", false);
        assert_eq!(status, 1);
        assert!(out.contains("match asset failed: No found asset"), "{out}");
        let (_, out) = ssh(lab, "jms", "alice@deploy@127.99.0.1", "id -u", false);
        assert!(out.contains("Must be unique asset for 127.99.0.1"), "{out}");
        let (_, out) = ssh(lab, "jms", "alice@deploy@private", "id -u", false);
        assert!(out.contains("Must be unique account for deploy"), "{out}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unregistered_keys_are_refused_and_failures_lock_the_user() {
    let lab = with_lab(|lab| {
        let (status, out) = ssh(lab, "stranger", "alice@deploy@web", "id -u", false);
        assert_eq!(status, 255);
        assert!(
            out.contains("Permission denied (publickey,password"),
            "{out}"
        );
        for _ in 0..2 {
            ssh(lab, "stranger", "alice", "true", false);
        }
        let (status, out) = ssh(lab, "jms", "alice@deploy@web", "id -u", false);
        assert_eq!(
            status, 255,
            "after 3 failures even the right key is refused: {out}"
        );
        assert!(
            out.contains("Permission denied (keyboard-interactive)"),
            "{out}"
        );
        let (status, out) = ssh(lab, "jms", "carol@deploy@web", "id -u", false);
        assert_eq!(status, 255, "carol is locked");
        assert!(
            out.contains("Permission denied (keyboard-interactive)"),
            "locked users are left only keyboard-interactive, which says why: {out}"
        );
    })
    .await;
    assert_eq!(lab.koko.failures("alice"), 3);
}

#[tokio::test]
async fn the_web_terminal_port_answers_an_upgrade() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let lab = KokoLab::start().await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", lab.ws_port))
        .await
        .unwrap();
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
    // A plain request is not an upgrade: the port must say so, not answer anything.
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", lab.ws_port))
        .await
        .unwrap();
    stream
        .write_all(b"GET /koko/ws/terminal/ HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
}
