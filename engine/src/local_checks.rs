//! What can be known about a credential on this machine before any connection: where its
//! files are (`~/` expanded), whether a key file is a public key, whether ssh would refuse
//! a key for its mode, and whether the ssh-agent answers with a key. The credentials module asks these
//! once per credential, so a problem is found once, not once per asset.

use std::ffi::OsStr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use russh::keys::agent::client::AgentClient;

/// `file` as given in the credentials file or on the command line: `~` and `~/…` are
/// under `home` (as ssh reads `IdentityFile ~/…`: no shell expands a quoted value or a
/// TOML string); other relative paths are under `base`.
pub fn locate(base: &Path, file: &Path, home: Option<&Path>) -> PathBuf {
    let mut parts = file.components();
    match (parts.next(), home) {
        (Some(first), Some(home)) if first.as_os_str() == "~" => home.join(parts.as_path()),
        _ => base.join(file),
    }
}

/// The home `~/` stands for: `$HOME`, else the user's passwd entry, as ssh does.
pub fn home() -> Option<PathBuf> {
    std::env::home_dir()
}

/// Whether `text` is a public key (an authorized_keys line or an RFC 4716 block): the
/// usual slip of naming `id_ed25519.pub` where the private key belongs.
pub fn is_public_key(text: &str) -> bool {
    let Some(first) = text.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return false;
    };
    if first.starts_with("---- BEGIN SSH2 PUBLIC KEY") {
        return true;
    }
    let mut words = first.split_whitespace();
    let (Some(_), Some(blob)) = (words.next(), words.next()) else {
        return false;
    };
    russh::keys::parse_public_key_base64(blob).is_ok()
}

/// What to tell someone who named a public key as the private one.
pub fn public_key_named(path: &Path) -> String {
    let shown = path.display();
    match path.to_str().and_then(|p| p.strip_suffix(".pub")) {
        Some(private) => {
            format!("key {shown} is a public key; give the private key ({private} without .pub)")
        }
        None => format!("key {shown} is a public key; give the private key"),
    }
}

/// OpenSSH's check of a private key file (`sshkey_perm_ok`): a key its user owns with any
/// group or other permission gets "UNPROTECTED PRIVATE KEY FILE!" and is ignored. The
/// prober says the same but still uses the key (see the README's Credentials section):
/// the file is already exposed, and refusing would hide every asset's verdict behind it.
pub fn unprotected_key(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let mode = meta.permissions().mode() & 0o777;
    let own = meta.uid() == nix::unistd::getuid().as_raw();
    (own && mode & 0o077 != 0).then(|| {
        format!(
            "UNPROTECTED PRIVATE KEY FILE! Permissions 0{mode:o} for '{}' are too open: ssh ignores such a key, the prober still uses it (chmod 600 it)",
            path.display()
        )
    })
}

/// How long the agent has to list its keys: a local socket answers at once or never.
const AGENT_ANSWER: Duration = Duration::from_secs(5);

/// The agent's socket from `SSH_AUTH_SOCK`, if an agent answers there with at least one
/// key: an agent nobody `ssh-add`ed to is as useless as none, and as knowable up front.
pub fn agent_socket(var: Option<&OsStr>) -> Result<PathBuf, String> {
    let path = match var {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => return Err("ssh-agent: SSH_AUTH_SOCK is not set (no agent in this session)".into()),
    };
    match agent_keys(&path) {
        Ok(0) => Err(format!(
            "ssh-agent at {} holds no keys (ssh-add them)",
            path.display()
        )),
        Ok(_) => Ok(path),
        Err(e) => Err(format!(
            "ssh-agent: cannot use SSH_AUTH_SOCK {}: {e}",
            path.display()
        )),
    }
}

/// How many keys the agent at `path` lists. Credentials are read while the run is being
/// built, inside its runtime, and russh's agent client is async: the question gets a
/// thread and a small runtime of its own.
fn agent_keys(path: &Path) -> Result<usize, String> {
    let ask = || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let listed = async {
                let mut agent = AgentClient::connect_uds(path).await?;
                agent.request_identities().await
            };
            match tokio::time::timeout(AGENT_ANSWER, listed).await {
                Ok(Ok(keys)) => Ok(keys.len()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no answer in {} s", AGENT_ANSWER.as_secs())),
            }
        })
    };
    std::thread::scope(|scope| scope.spawn(ask).join())
        .unwrap_or_else(|_| Err("the agent check failed".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_paths_are_under_home_and_others_under_the_base() {
        let home = Path::new("/home/ops");
        let base = Path::new("/etc/prober");
        let at = |file: &str| locate(base, Path::new(file), Some(home));
        assert_eq!(at("~/.ssh/id_ed25519"), home.join(".ssh/id_ed25519"));
        assert_eq!(at("~"), home);
        assert_eq!(at("keys/id"), base.join("keys/id"));
        assert_eq!(at("/abs/id"), PathBuf::from("/abs/id"));
        assert_eq!(at("a/~/b"), base.join("a/~/b"), "only a leading ~ is home");
        assert_eq!(
            at("~other/id"),
            base.join("~other/id"),
            "~user is not expanded"
        );
        assert_eq!(
            locate(base, Path::new("~/id"), None),
            base.join("~/id"),
            "no home: left as given, so the error names it"
        );
    }

    #[test]
    fn public_keys_are_told_from_private_ones() {
        use russh::keys::{Algorithm, PrivateKey};
        let key =
            PrivateKey::random(&mut russh::keys::key::safe_rng(), Algorithm::Ed25519).unwrap();
        let public = key.public_key().to_openssh().unwrap();
        assert!(is_public_key(&public));
        assert!(is_public_key(&format!("\n{public} ops@bastion\n")));
        let private = key
            .to_openssh(russh::keys::ssh_key::LineEnding::LF)
            .unwrap();
        assert!(!is_public_key(&private));
        assert!(!is_public_key(""));
        assert!(!is_public_key("ssh-ed25519 not-base64"));
        assert!(is_public_key("---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n"));

        let told = public_key_named(Path::new("/k/id_ed25519.pub"));
        assert_eq!(
            told,
            "key /k/id_ed25519.pub is a public key; give the private key (/k/id_ed25519 without .pub)"
        );
        assert!(!public_key_named(Path::new("/k/id")).contains("without"));
    }

    #[test]
    fn a_key_others_can_read_gets_sshs_warning() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("id");
        std::fs::write(&key, "x").unwrap();
        for (mode, warned) in [(0o600, false), (0o400, false), (0o640, true), (0o604, true)] {
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
            let warning = unprotected_key(&key);
            assert_eq!(warning.is_some(), warned, "{mode:o}: {warning:?}");
            if let Some(warning) = warning {
                assert!(
                    warning.contains("UNPROTECTED PRIVATE KEY FILE!"),
                    "{warning}"
                );
                assert!(warning.contains(&format!("0{mode:o}")), "{warning}");
            }
        }
        assert!(unprotected_key(&dir.path().join("missing")).is_none());
    }

    /// A fake agent on a unix socket: answers one request for identities with `keys`.
    fn fake_agent(path: &Path, keys: &[String]) -> std::thread::JoinHandle<()> {
        use base64::Engine;
        use std::io::{Read, Write};
        let listener = std::os::unix::net::UnixListener::bind(path).unwrap();
        let put = |out: &mut Vec<u8>, bytes: &[u8]| {
            out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            out.extend_from_slice(bytes);
        };
        let mut body = vec![12]; // SSH_AGENT_IDENTITIES_ANSWER
        body.extend_from_slice(&(keys.len() as u32).to_be_bytes());
        for key in keys {
            let blob = key.split_whitespace().nth(1).unwrap();
            let blob = base64::engine::general_purpose::STANDARD
                .decode(blob)
                .unwrap();
            put(&mut body, &blob);
            put(&mut body, b"test key");
        }
        let mut answer = Vec::new();
        put(&mut answer, &body);
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut length = [0; 4];
            stream.read_exact(&mut length).unwrap();
            let mut request = vec![0; u32::from_be_bytes(length) as usize];
            stream.read_exact(&mut request).unwrap();
            assert_eq!(request, [11], "SSH_AGENTC_REQUEST_IDENTITIES");
            stream.write_all(&answer).unwrap();
        })
    }

    #[test]
    fn the_agent_must_be_set_answer_and_hold_a_key() {
        use russh::keys::{Algorithm, PrivateKey};
        let unset = agent_socket(None).unwrap_err();
        assert!(unset.contains("SSH_AUTH_SOCK is not set"), "{unset}");
        assert!(agent_socket(Some(OsStr::new(""))).is_err());

        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone.sock");
        let why = agent_socket(Some(gone.as_os_str())).unwrap_err();
        assert!(
            why.contains("cannot use") && why.contains("gone.sock"),
            "{why}"
        );

        let empty = dir.path().join("empty.sock");
        let agent = fake_agent(&empty, &[]);
        let why = agent_socket(Some(empty.as_os_str())).unwrap_err();
        assert!(why.contains("holds no keys"), "{why}");
        agent.join().unwrap();

        let key =
            PrivateKey::random(&mut russh::keys::key::safe_rng(), Algorithm::Ed25519).unwrap();
        let public = key.public_key().to_openssh().unwrap();
        let loaded = dir.path().join("loaded.sock");
        let agent = fake_agent(&loaded, &[public]);
        assert_eq!(agent_socket(Some(loaded.as_os_str())).unwrap(), loaded);
        agent.join().unwrap();
    }
}
