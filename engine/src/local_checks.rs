//! What can be known about a credential on this machine before any connection: where its
//! files are (`~/` expanded), whether a key file is a public key, whether ssh would refuse
//! a key for its mode, and whether the ssh-agent answers. The credentials module asks these
//! once per credential, so a problem is found once, not once per asset.

use std::ffi::OsStr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

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

/// The agent's socket from `SSH_AUTH_SOCK`, if something listens there. Connecting to a
/// local unix socket is all it takes; the agent's keys are asked for per login.
pub fn agent_socket(var: Option<&OsStr>) -> Result<PathBuf, String> {
    let path = match var {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => return Err("ssh-agent: SSH_AUTH_SOCK is not set (no agent in this session)".into()),
    };
    match UnixStream::connect(&path) {
        Ok(_) => Ok(path),
        Err(e) => Err(format!(
            "ssh-agent: cannot connect to SSH_AUTH_SOCK {}: {e}",
            path.display()
        )),
    }
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

    #[test]
    fn the_agent_must_be_set_and_listening() {
        let unset = agent_socket(None).unwrap_err();
        assert!(unset.contains("SSH_AUTH_SOCK is not set"), "{unset}");
        assert!(agent_socket(Some(OsStr::new(""))).is_err());

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sock");
        let gone = agent_socket(Some(path.as_os_str())).unwrap_err();
        assert!(
            gone.contains("cannot connect") && gone.contains("agent.sock"),
            "{gone}"
        );

        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        assert_eq!(agent_socket(Some(path.as_os_str())).unwrap(), path);
    }
}
