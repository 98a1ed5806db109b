//! The prober against a real OpenSSH sshd that this test starts on a loopback port, with
//! its own config, host key and authorized_keys in a temp dir. It logs in as the user
//! running the test: no account is created on the machine.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{args, prober};

const SSHD: &str = "/usr/sbin/sshd";

struct Sshd {
    child: Child,
    port: u16,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until sshd answers with its banner: readiness, not a fixed sleep.
fn wait_for_banner(port: u16, sshd: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(status) = sshd.try_wait().unwrap() {
            panic!("sshd exited early with {status}");
        }
        if let Ok(stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut line = String::new();
            if BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("SSH-2.0-") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("sshd did not answer on port {port} within 30s");
}

fn start_sshd(dir: &Path, authorized: &str) -> Sshd {
    assert!(
        Path::new(SSHD).exists(),
        "{SSHD} is missing: install openssh-server (scripts/test.sh does it)"
    );
    // sshd's privilege separation directory, when running as root.
    let _ = std::fs::create_dir_all("/run/sshd");
    fixtures::keys::write_private(&fixtures::keys::ed25519(), &dir.join("host_ed25519"), None)
        .unwrap();
    std::fs::write(dir.join("authorized_keys"), authorized).unwrap();
    let port = free_port();
    let config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {dir}/host_ed25519\nPidFile none\n\
         AuthorizedKeysFile {dir}/authorized_keys\nStrictModes no\nUsePAM no\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n\
         LogLevel ERROR\n",
        dir = dir.display()
    );
    std::fs::write(dir.join("sshd_config"), config).unwrap();
    let mut child = Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(dir.join("sshd_config"))
        .stdin(Stdio::null())
        .spawn()
        .expect("start sshd");
    wait_for_banner(port, &mut child);
    Sshd { child, port }
}

fn write_key(dir: &Path, name: &str) -> (PathBuf, String) {
    let key = fixtures::keys::ed25519();
    let path = dir.join(name);
    fixtures::keys::write_private(&key, &path, None).unwrap();
    (path, fixtures::keys::openssh_line(key.public_key()))
}

#[tokio::test]
async fn a_real_sshd_on_loopback_is_classified_right() {
    let dir = tempfile::tempdir().unwrap();
    let (authorized_key, public_line) = write_key(dir.path(), "authorized");
    let (stranger_key, _) = write_key(dir.path(), "stranger");
    let sshd = start_sshd(dir.path(), &format!("{public_line}\n"));
    let inventory = dir.path().join("hosts.txt");
    std::fs::write(&inventory, format!("127.0.0.1:{}\n", sshd.port)).unwrap();
    let user = current_user();
    let base = |key: &Path| {
        args([
            "check".as_ref(),
            inventory.as_os_str(),
            "--user".as_ref(),
            user.as_ref(),
            "--key".as_ref(),
            key.as_os_str(),
            "--known-hosts".as_ref(),
            dir.path().join("known_hosts").as_os_str(),
            "--format".as_ref(),
            "jsonl".as_ref(),
            "--quiet".as_ref(),
        ])
    };

    let run = prober(base(&authorized_key)).await;
    let name = "127.0.0.1";
    let r = run.record(name);
    assert_eq!(r["category"], "ok", "{r:#}\nstderr: {}", run.stderr);
    assert_eq!(run.status, 0);
    let uid = Command::new("id").arg("-u").output().unwrap();
    let uid: u64 = String::from_utf8_lossy(&uid.stdout).trim().parse().unwrap();
    assert_eq!(r["uid"].as_u64(), Some(uid));
    assert!(
        r["python"].as_str().is_some_and(|p| p.contains("python")),
        "{r:#}"
    );
    assert!(
        r["banner"]
            .as_str()
            .unwrap()
            .starts_with("SSH-2.0-OpenSSH_")
    );
    assert_eq!(r["auth_methods"], serde_json::json!(["publickey"]));
    assert!(r["facts"]["kernel"].is_string() && r["facts"]["cpus"].as_u64().unwrap() >= 1);

    let run = prober(base(&stranger_key)).await;
    let r = run.record(name);
    assert_eq!(r["category"], "auth_failed", "{r:#}");
    assert_eq!(r["auth_methods"], serde_json::json!(["publickey"]));
    assert_eq!(run.status, 1);
}
