//! What ssh tries when it is given no credential: the agent at `SSH_AUTH_SOCK`, then the
//! default identity files that exist, and the local user's name. Each file is read once
//! per run; one ssh would skip or prompt for is skipped with a note.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use russh::keys::PrivateKey;

use crate::credentials::{KeyProblem, load_key};
use crate::local_checks;
use crate::sync;

/// ssh's default identity files, in the order `ssh -G` lists them (OpenSSH 9).
pub const DEFAULT_IDENTITIES: &[&str] = &[
    "id_rsa",
    "id_ecdsa",
    "id_ecdsa_sk",
    "id_ed25519",
    "id_ed25519_sk",
    "id_xmss",
    "id_dsa",
];

pub fn default_identity_files(home: &Path) -> Vec<PathBuf> {
    let ssh = home.join(".ssh");
    DEFAULT_IDENTITIES
        .iter()
        .map(|name| ssh.join(name))
        .collect()
}

/// The user ssh logs in as when told none: the local account's name.
pub fn local_user() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|user| user.name)
        .or_else(|| std::env::var("USER").ok())
        .filter(|name| !name.is_empty())
}

/// The keys and the agent ssh would find, each looked at once per run.
#[derive(Debug, Default)]
pub struct Finder {
    keys: Mutex<HashMap<PathBuf, Option<Arc<PrivateKey>>>>,
    /// Each agent socket asked once: whether an agent there holds a key.
    agents: Mutex<HashMap<OsString, Option<PathBuf>>>,
    /// Said once each, as the run goes: keys skipped, an agent that did not answer.
    notes: Mutex<Vec<String>>,
}

impl Finder {
    /// The agent's socket, if `socket` (SSH_AUTH_SOCK or the ssh_config's IdentityAgent)
    /// names one and an agent there holds a key.
    pub fn agent(&self, socket: Option<&OsStr>) -> Option<PathBuf> {
        let socket = socket?;
        if let Some(known) = sync::lock(&self.agents).get(socket) {
            return known.clone();
        }
        let agent = match local_checks::agent_socket(Some(socket)) {
            Ok(path) => Some(path),
            Err(why) => {
                self.note(format!("{why}; the agent is not used"));
                None
            }
        };
        sync::lock(&self.agents).insert(socket.to_os_string(), agent.clone());
        agent
    }

    /// The keys of these files that can be used: a missing file is skipped silently,
    /// as ssh does; one that is encrypted (ssh would ask for its passphrase) or not a
    /// key it can read is skipped with a note.
    pub fn keys(&self, files: &[PathBuf]) -> Vec<Arc<PrivateKey>> {
        files.iter().filter_map(|file| self.key(file)).collect()
    }

    fn key(&self, path: &Path) -> Option<Arc<PrivateKey>> {
        if let Some(known) = sync::lock(&self.keys).get(path) {
            return known.clone();
        }
        let key = if path.exists() {
            match load_key(path, None) {
                Ok(key) => {
                    if let Some(warning) = local_checks::unprotected_key(path) {
                        self.note(warning);
                    }
                    Some(key)
                }
                Err(KeyProblem::PassphraseRequired(_)) => {
                    self.note(format!(
                        "identity {} is encrypted: skipped (ssh would ask for its passphrase; give it with -i and --key-passphrase-env or --key-passphrase-file)",
                        path.display()
                    ));
                    None
                }
                Err(KeyProblem::Unreadable(why)) => {
                    self.note(format!("identity skipped: {why}"));
                    None
                }
            }
        } else {
            None
        };
        sync::lock(&self.keys).insert(path.to_path_buf(), key.clone());
        key
    }

    pub fn note(&self, note: String) {
        sync::lock(&self.notes).push(note);
    }

    /// The notes not taken yet.
    pub fn fresh_notes(&self) -> Vec<String> {
        std::mem::take(&mut *sync::lock(&self.notes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_files_are_skipped_silently_and_locked_ones_with_a_note() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = PrivateKey::random(
            &mut russh::keys::key::safe_rng(),
            russh::keys::Algorithm::Ed25519,
        )
        .unwrap();
        let mut locked = key
            .encrypt(&mut russh::keys::key::safe_rng(), "pw")
            .unwrap();
        locked.set_comment("locked");
        let write = |name: &str, key: &PrivateKey| {
            let path = dir.path().join(name);
            let text = key
                .to_openssh(russh::keys::ssh_key::LineEnding::LF)
                .unwrap();
            std::fs::write(&path, text.as_bytes()).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            path
        };
        let good = write("id_ed25519", &key);
        let encrypted = write("id_rsa", &locked);
        let files = [encrypted.clone(), dir.path().join("id_ecdsa"), good];
        let finder = Finder::default();
        let keys = finder.keys(&files);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].public_key().key_data(), key.public_key().key_data());
        let notes = finder.fresh_notes();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains(&encrypted.display().to_string()) && notes[0].contains("skipped"),
            "{}",
            notes[0]
        );
        assert_eq!(finder.keys(&files).len(), 1);
        assert!(
            finder.fresh_notes().is_empty(),
            "each file is looked at once"
        );
    }

    #[test]
    fn the_defaults_are_under_home_in_ssh_order() {
        let files = default_identity_files(Path::new("/home/ops"));
        assert_eq!(files[0], PathBuf::from("/home/ops/.ssh/id_rsa"));
        assert_eq!(files[3], PathBuf::from("/home/ops/.ssh/id_ed25519"));
        assert_eq!(files.len(), 7);
    }
}
