//! Credentials: the TOML file that inventory rows name their admin user in, and the
//! simple mode (`--user` with `--password-env`, `--key` or `--agent`). Secrets are read
//! once at start, never logged, and wiped from memory when dropped.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use russh::keys::{PrivateKey, PublicKey};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::category::Category;
use crate::local_checks::{self, locate};

/// A password or passphrase. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(Zeroizing::new(value))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Why a credential's private key cannot be used; each maps to its own category.
#[derive(Debug, Clone)]
pub enum KeyProblem {
    Unreadable(String),
    PassphraseRequired(String),
}

/// A credential ready for use. Problems with its secrets are kept, not raised: they
/// become the verdict of the assets that use it, and only of those.
#[derive(Debug)]
pub struct Credential {
    pub name: String,
    pub username: String,
    pub password: Option<Result<Secret, String>>,
    pub key: Option<Result<Arc<PrivateKey>, KeyProblem>>,
    /// The ssh-agent's socket, when the credential uses the agent.
    pub agent: Option<Result<PathBuf, String>>,
    /// What the bastion pushes for this account, when it is a system user.
    pub expect: Expectations,
    /// What ssh itself would try when given no credential (the agent, the default
    /// identity files): only in simple mode without a password, key or --agent.
    pub found: Found,
    /// How many assets of the run name it, so an unusable one is reported once with its
    /// reach instead of once per asset. Shared with its copies for other user names.
    pub uses: Arc<AtomicUsize>,
}

/// The keys found the way ssh finds them: tried after the agent, and unlike a key given
/// by name, one missing or locked is skipped rather than a problem.
#[derive(Debug, Default, Clone)]
pub struct Found {
    pub identities: Vec<Arc<PrivateKey>>,
    /// Why nothing at all was found (no agent, no identity file): the credential's
    /// problem, found before connecting.
    pub nothing: Option<String>,
}

/// A system user as the bastion pushes it: checked on the asset when its login fails, or
/// where a working login alone does not prove it (the sudo rule).
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    pub uid: Option<u32>,
    pub shell: Option<String>,
    /// The commands of its `USER ALL=(ALL) NOPASSWD: <commands>` sudoers rule.
    pub sudo: Option<String>,
    /// The key that must be in its authorized_keys: given, or the private key's public half.
    pub public_key: Option<Result<PublicKey, String>>,
}

impl Credential {
    /// Whether the prober can log in with it, or only knows its public key.
    pub fn can_log_in(&self) -> bool {
        self.password.is_some()
            || self.key.is_some()
            || self.agent.is_some()
            || !self.found.identities.is_empty()
    }

    /// Whether a password is its only way in: what a refused login then says differs.
    pub fn password_only(&self) -> bool {
        self.password.is_some()
            && self.key.is_none()
            && self.agent.is_none()
            && self.found.identities.is_empty()
    }

    /// Why it cannot work on this machine: the verdict of every login that would use it,
    /// given before connecting. Any part it names and cannot have (key, password, agent,
    /// public key) is enough, as a login with only the rest would not test what the
    /// bastion uses.
    pub fn problem(&self) -> Option<(Category, &str)> {
        if let Some(nothing) = &self.found.nothing {
            return Some((Category::CredentialUnavailable, nothing));
        }
        if let Some(Err(problem)) = &self.key {
            return Some(match problem {
                KeyProblem::Unreadable(m) => (Category::KeyUnreadable, m),
                KeyProblem::PassphraseRequired(m) => (Category::KeyPassphraseRequired, m),
            });
        }
        if let Some(Err(m)) = &self.password {
            return Some((Category::CredentialUnavailable, m));
        }
        if let Some(Err(m)) = &self.agent {
            return Some((Category::CredentialUnavailable, m));
        }
        match &self.expect.public_key {
            Some(Err(m)) => Some((Category::KeyUnreadable, m)),
            _ => None,
        }
    }

    /// The same credential for another user name (ssh_config's `User`), counted as one.
    pub fn as_user(&self, username: &str) -> Credential {
        Credential {
            name: self.name.clone(),
            username: username.to_string(),
            password: self.password.clone(),
            key: self.key.clone(),
            agent: self.agent.clone(),
            expect: self.expect.clone(),
            found: self.found.clone(),
            uses: self.uses.clone(),
        }
    }

    /// One more asset names it.
    pub fn used(&self) {
        self.uses.fetch_add(1, Ordering::Relaxed);
    }

    /// Its problem, once an asset of the run has named it.
    fn used_problem(&self) -> Option<(Category, &str, usize)> {
        let (category, cause) = self.problem()?;
        let uses = self.uses.load(Ordering::Relaxed);
        (uses > 0).then_some((category, cause, uses))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("cannot read credentials file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("credentials file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    #[serde(default)]
    credentials: BTreeMap<String, CredentialSpec>,
    /// `[gateways.NAME]`: JumpServer calls its jump hosts domain gateways.
    #[serde(default, rename = "gateways")]
    jump_hosts: BTreeMap<String, JumpHostSpec>,
}

/// `[gateways.NAME]`: a jump host (a JumpServer domain gateway) and how to log in to it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JumpHostSpec {
    host: String,
    #[serde(default = "ssh_port")]
    port: u16,
    username: String,
    password: Option<String>,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    key: Option<PathBuf>,
    key_passphrase_env: Option<String>,
    key_passphrase_file: Option<PathBuf>,
    #[serde(default)]
    agent: bool,
}

impl JumpHostSpec {
    fn login(self) -> CredentialSpec {
        CredentialSpec {
            username: self.username,
            password: self.password,
            password_env: self.password_env,
            password_file: self.password_file,
            key: self.key,
            key_passphrase_env: self.key_passphrase_env,
            key_passphrase_file: self.key_passphrase_file,
            agent: self.agent,
            ..CredentialSpec::default()
        }
    }
}

fn ssh_port() -> u16 {
    22
}

/// A jump host assets are reached through, with a `direct-tcpip` channel like `ssh -J`.
#[derive(Debug)]
pub struct JumpHost {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub credential: Credential,
    /// Its own ssh_config entry's timeout and host key options (`-J`, ProxyJump).
    pub settings: crate::probe::HostSettings,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialSpec {
    pub username: String,
    pub password: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub key_passphrase_env: Option<String>,
    pub key_passphrase_file: Option<PathBuf>,
    #[serde(default)]
    pub agent: bool,
    pub uid: Option<u32>,
    pub shell: Option<String>,
    pub sudo: Option<String>,
    pub public_key: Option<String>,
    pub public_key_file: Option<PathBuf>,
}

/// Every credential known to a run: the named ones from the file, and the one given on
/// the command line, used for rows that name none.
#[derive(Debug, Default)]
pub struct Credentials {
    named: HashMap<String, Arc<Credential>>,
    jump_hosts: HashMap<String, Arc<JumpHost>>,
    fallback: Option<Arc<Credential>>,
    pub warnings: Vec<String>,
    /// The unusable credentials whose cause the run has said.
    told: Mutex<HashSet<String>>,
}

impl Credentials {
    pub fn load(path: &Path) -> Result<Credentials, CredentialsError> {
        let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = |message: String| CredentialsError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let spec: FileSpec = toml::from_str(&text).map_err(|e| invalid(toml_error(&text, &e)))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut credentials = Credentials::default();
        for (name, jump_host) in spec.jump_hosts {
            let problem = |m: String| invalid(format!("gateway `{name}`: {m}"));
            let host = crate::inventory::fields::host(&jump_host.host).map_err(problem)?;
            let port = jump_host.port;
            let login = jump_host.login();
            login.validate().map_err(problem)?;
            let what = format!("gateway `{name}`");
            warn_inline_password(&what, &login, path, &mut credentials.warnings);
            let jump_host = JumpHost {
                name: name.clone(),
                host,
                port,
                credential: login.resolve(&name, base, &mut credentials.warnings),
                settings: Default::default(),
            };
            credentials.jump_hosts.insert(name, Arc::new(jump_host));
        }
        for (name, spec) in spec.credentials {
            spec.validate()
                .map_err(|m| invalid(format!("credential `{name}`: {m}")))?;
            let what = format!("credential `{name}`");
            warn_inline_password(&what, &spec, path, &mut credentials.warnings);
            let credential = spec.resolve(&name, base, &mut credentials.warnings);
            credentials.named.insert(name, Arc::new(credential));
        }
        Ok(credentials)
    }
    pub fn named(&self, name: &str) -> Option<Arc<Credential>> {
        self.named.get(name).cloned()
    }

    pub fn jump_host(&self, name: &str) -> Option<Arc<JumpHost>> {
        self.jump_hosts.get(name).cloned()
    }

    pub fn set_fallback(&mut self, credential: impl Into<Arc<Credential>>) {
        self.fallback = Some(credential.into());
    }

    pub fn has_fallback(&self) -> bool {
        self.fallback.is_some()
    }

    /// The causes not said yet of the credentials that cannot work and that assets of the
    /// run have started to name: one line each, to say as soon as the first asset names
    /// it rather than after the run.
    pub fn fresh_problems(&self) -> Vec<String> {
        let mut told = crate::sync::lock(&self.told);
        self.unusable()
            .filter(|(label, ..)| told.insert(label.clone()))
            .map(|(label, category, cause, _)| {
                format!(
                    "{label} cannot be used: {cause}; every asset that uses it is recorded as {category} without connecting"
                )
            })
            .collect()
    }

    /// One line per credential that cannot work and that assets of the run named: how
    /// many did, and the cause unless [`Credentials::fresh_problems`] said it already.
    pub fn unusable_report(&self) -> Vec<String> {
        let mut told = crate::sync::lock(&self.told);
        self.unusable()
            .map(|(label, category, cause, uses)| {
                let assets = if uses == 1 {
                    "asset uses"
                } else {
                    "assets use"
                };
                let reach =
                    format!("{uses} {assets} it, recorded as {category} without connecting");
                match told.insert(label.clone()) {
                    true => format!("{label} cannot be used: {cause}; {reach}"),
                    false => format!("{label} cannot be used (said above): {reach}"),
                }
            })
            .collect()
    }

    /// Each credential that cannot work and that an asset named, with its label: the
    /// command line's, the named ones, then the gateways', each in name order.
    fn unusable(&self) -> impl Iterator<Item = (String, Category, &str, usize)> {
        let mut named: Vec<&Arc<Credential>> = self.named.values().collect();
        named.sort_by(|a, b| a.name.cmp(&b.name));
        let mut jump_hosts: Vec<&Arc<JumpHost>> = self.jump_hosts.values().collect();
        jump_hosts.sort_by(|a, b| a.name.cmp(&b.name));
        let credentials = self
            .fallback
            .iter()
            .chain(named)
            .map(|c| ("credential", &c.name, c.as_ref()));
        let gateways = jump_hosts
            .into_iter()
            .map(|j| ("gateway credential", &j.name, &j.credential));
        credentials
            .chain(gateways)
            .filter_map(|(what, name, credential)| {
                let (category, cause, uses) = credential.used_problem()?;
                Some((format!("{what} `{name}`"), category, cause, uses))
            })
    }

    /// The credential for a row: the one it names, else the command line's.
    pub fn for_row(&self, admin_user: Option<&str>) -> Result<Arc<Credential>, String> {
        match admin_user {
            Some(name) if !self.named.is_empty() || self.fallback.is_none() => {
                self.named.get(name).cloned().ok_or_else(|| {
                    format!("unknown credential `{name}`: not defined in the credentials file")
                })
            }
            _ => self.fallback.clone().ok_or_else(|| {
                "no admin user: the row names none and no --user was given".to_string()
            }),
        }
    }
}

impl CredentialSpec {
    pub fn validate(&self) -> Result<(), String> {
        if self.username.trim().is_empty() || self.username.chars().any(char::is_control) {
            return Err("username is empty or has control characters".into());
        }
        let password_sources = [
            self.password.is_some(),
            self.password_env.is_some(),
            self.password_file.is_some(),
        ];
        if password_sources.iter().filter(|s| **s).count() > 1 {
            return Err("give only one of password, password_env, password_file".into());
        }
        if self.key_passphrase_env.is_some() && self.key_passphrase_file.is_some() {
            return Err("give only one of key_passphrase_env, key_passphrase_file".into());
        }
        if self.public_key.is_some() && self.public_key_file.is_some() {
            return Err("give only one of public_key, public_key_file".into());
        }
        let has_public_key = self.public_key.is_some() || self.public_key_file.is_some();
        if !password_sources.contains(&true) && self.key.is_none() && !self.agent && !has_public_key
        {
            return Err(
                "needs a password (password_env, password_file), a key, agent = true, or for a system user known only by its public half, public_key".into(),
            );
        }
        if let Some(shell) = &self.shell
            && !shell.starts_with('/')
        {
            return Err(format!("shell {shell:?} is not an absolute path"));
        }
        Ok(())
    }

    /// Reads the secrets the spec points at; `base` anchors relative paths.
    pub fn resolve(&self, name: &str, base: &Path, warnings: &mut Vec<String>) -> Credential {
        let home = local_checks::home();
        let at = |file: &PathBuf| locate(base, file, home.as_deref());
        let password = if let Some(p) = &self.password {
            Some(Ok(Secret::new(p.clone())))
        } else if let Some(var) = &self.password_env {
            Some(secret_from_env(var))
        } else {
            self.password_file
                .as_ref()
                .map(|file| secret_from_file(&at(file), name, warnings))
        };
        let key = self.key.as_ref().map(|file| {
            let passphrase = if let Some(var) = &self.key_passphrase_env {
                Some(secret_from_env(var))
            } else {
                self.key_passphrase_file
                    .as_ref()
                    .map(|f| secret_from_file(&at(f), name, warnings))
            };
            let path = at(file);
            let key = load_key(&path, passphrase);
            // Only a private key: a `.pub` given by mistake is 0644 and says so itself.
            if key.is_ok()
                && let Some(warning) = local_checks::unprotected_key(&path)
            {
                warnings.push(format!("credential `{name}`: {warning}"));
            }
            key
        });
        let agent = self
            .agent
            .then(|| local_checks::agent_socket(std::env::var_os("SSH_AUTH_SOCK").as_deref()));
        let public_key = if let Some(text) = &self.public_key {
            Some(parse_public_key(text))
        } else if let Some(file) = &self.public_key_file {
            let path = at(file);
            Some(
                std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read public key {}: {e}", path.display()))
                    .and_then(|text| parse_public_key(&text)),
            )
        } else {
            match &key {
                Some(Ok(private)) => Some(Ok(private.public_key().clone())),
                _ => None,
            }
        };
        Credential {
            name: name.to_string(),
            username: self.username.clone(),
            password,
            key,
            agent,
            expect: Expectations {
                uid: self.uid,
                shell: self.shell.clone(),
                sudo: self.sudo.clone(),
                public_key,
            },
            found: Found::default(),
            uses: Arc::default(),
        }
    }
}

/// The parse error with its line and column, but never the offending line itself: it may
/// hold a password.
fn toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = without_value(error.message().trim_end());
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message.to_string(),
    }
}

/// serde's type errors quote the value they got (`invalid type: integer `123456`, expected
/// a string`), and that value may be a password: only its kind is said.
fn without_value(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((got, expected)) = rest.split_once(", expected ")
        {
            let kind = got.split(['`', '"']).next().unwrap_or_default().trim();
            return format!("{prefix}{kind}, expected {expected}");
        }
    }
    message.to_string()
}

/// `ssh-ed25519 AAAA… comment`, as in authorized_keys (options are not accepted).
fn parse_public_key(text: &str) -> Result<PublicKey, String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or("the public key is empty")?;
    let blob = line.split_whitespace().nth(1).unwrap_or(line);
    russh::keys::parse_public_key_base64(blob)
        .map_err(|e| format!("not a public key ({e}): {line:.40}"))
}

fn secret_from_env(var: &str) -> Result<Secret, String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Ok(Secret::new(value)),
        Ok(_) => Err(format!("environment variable {var} is empty")),
        Err(_) => Err(format!("environment variable {var} is not set")),
    }
}

fn secret_from_file(
    path: &Path,
    credential: &str,
    warnings: &mut Vec<String>,
) -> Result<Secret, String> {
    if readable_by_others(path) {
        warnings.push(format!(
            "credential `{credential}`: {} is readable by other users (chmod 600 it)",
            path.display()
        ));
    }
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let value = text.trim_end_matches(['\n', '\r']).to_string();
            Ok(Secret::new(value))
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// An inline password is only as private as the file that holds it.
fn warn_inline_password(
    what: &str,
    spec: &CredentialSpec,
    file: &Path,
    warnings: &mut Vec<String>,
) {
    if spec.password.is_some() && readable_by_others(file) {
        warnings.push(format!(
            "{what} has an inline password in {}, which other users can read; prefer password_env or a 0600 password_file",
            file.display()
        ));
    }
}

fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o044 != 0)
}

/// Loads a private key in any format russh reads (OpenSSH, PEM, PKCS#8, PuTTY).
pub fn load_key(
    path: &Path,
    passphrase: Option<Result<Secret, String>>,
) -> Result<Arc<PrivateKey>, KeyProblem> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| KeyProblem::Unreadable(format!("cannot read key {}: {e}", path.display())))?;
    if local_checks::is_public_key(&text) {
        return Err(KeyProblem::Unreadable(local_checks::public_key_named(path)));
    }
    let passphrase = match passphrase {
        Some(Ok(secret)) => Some(secret),
        Some(Err(problem)) => {
            return Err(KeyProblem::PassphraseRequired(format!(
                "key {} needs its passphrase: {problem}",
                path.display()
            )));
        }
        None => None,
    };
    match russh::keys::decode_secret_key(&text, passphrase.as_ref().map(Secret::expose)) {
        Ok(key) => Ok(Arc::new(key)),
        Err(e) if is_encrypted(&text, &e) => {
            Err(KeyProblem::PassphraseRequired(match passphrase {
                None => format!(
                    "key {} is encrypted and no passphrase was given",
                    path.display()
                ),
                Some(_) => format!(
                    "key {} did not decrypt with the given passphrase ({e})",
                    path.display()
                ),
            }))
        }
        Err(e) => Err(KeyProblem::Unreadable(format!(
            "key {} is not a usable private key: {e}",
            path.display()
        ))),
    }
}

/// OpenSSH keys say so through the decoder; PEM and PuTTY ones in their headers.
fn is_encrypted(text: &str, error: &russh::keys::Error) -> bool {
    matches!(error, russh::keys::Error::KeyIsEncrypted)
        || text.contains("ENCRYPTED")
        || text
            .lines()
            .any(|l| l.starts_with("Encryption:") && !l.ends_with("none"))
        || russh::keys::decode_secret_key(text, None)
            .is_err_and(|e| matches!(e, russh::keys::Error::KeyIsEncrypted))
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A fresh key and its private half as an OpenSSH file holds it.
    fn ed25519() -> (PrivateKey, String) {
        let key = PrivateKey::random(
            &mut russh::keys::key::safe_rng(),
            russh::keys::Algorithm::Ed25519,
        )
        .unwrap();
        let private = key
            .to_openssh(russh::keys::ssh_key::LineEnding::LF)
            .unwrap()
            .to_string();
        (key, private)
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        path
    }

    #[test]
    fn named_credentials_resolve_relative_files_and_hide_secrets() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "root.pw", "s3cret\n");
        let file = write(
            dir.path(),
            "creds.toml",
            "[credentials.ops-root]\nusername = \"root\"\npassword_file = \"root.pw\"\n\
             [credentials.nokey]\nusername = \"admin\"\nkey = \"missing_key\"\n",
        );
        let creds = Credentials::load(&file).unwrap();
        let root = creds.for_row(Some("ops-root")).unwrap();
        assert_eq!(
            root.password.as_ref().unwrap().as_ref().unwrap().expose(),
            "s3cret"
        );
        assert!(!format!("{root:?}").contains("s3cret"));
        let nokey = creds.for_row(Some("nokey")).unwrap();
        assert!(matches!(nokey.key, Some(Err(KeyProblem::Unreadable(_)))));
        assert!(
            creds
                .for_row(Some("other"))
                .unwrap_err()
                .contains("unknown credential `other`")
        );
        assert!(creds.for_row(None).unwrap_err().contains("no --user"));
    }

    #[test]
    fn inline_passwords_in_a_readable_file_warn_without_showing_them() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "c.toml",
            "[credentials.a]\nusername = \"u\"\npassword = \"hunter2\"\n\
             [gateways.dmz]\nhost = \"h\"\nusername = \"j\"\npassword = \"hunter3\"\n",
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let creds = Credentials::load(&file).unwrap();
        assert_eq!(creds.warnings.len(), 2, "{:?}", creds.warnings);
        assert!(
            creds
                .warnings
                .iter()
                .any(|w| w.starts_with("credential `a`"))
        );
        assert!(
            creds
                .warnings
                .iter()
                .any(|w| w.starts_with("gateway `dmz`"))
        );
        assert!(!format!("{:?}", creds.warnings).contains("hunter"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Credentials::load(&file).unwrap().warnings.is_empty());
    }

    #[test]
    fn a_world_readable_password_file_warns_without_showing_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let pw = write(dir.path(), "pw", "hunter2");
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
        let file = write(
            dir.path(),
            "c.toml",
            "[credentials.a]\nusername = \"u\"\npassword_file = \"pw\"\n",
        );
        let creds = Credentials::load(&file).unwrap();
        assert_eq!(creds.warnings.len(), 1);
        assert!(creds.warnings[0].contains("readable by other users"));
        assert!(!creds.warnings[0].contains("hunter2"));
    }

    #[test]
    fn parse_errors_never_show_the_secret_on_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let typo = write(
            dir.path(),
            "t.toml",
            "[credentials.a]\nusername = \"u\"\npasswrd = \"hunter2-SECRET\"\n",
        );
        let err = Credentials::load(&typo).unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("passwrd"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let unclosed = write(
            dir.path(),
            "u.toml",
            "[credentials.a]\nusername = \"u\"\npassword = \"hunter2-SECRET\n",
        );
        let err = Credentials::load(&unclosed).unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn a_bad_file_is_an_error_naming_the_file_and_position() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "c.toml",
            "[credentials.a]\nusername = \"u\"\npasword = \"typo\"\n",
        );
        let err = Credentials::load(&file).unwrap_err().to_string();
        assert!(
            err.contains("c.toml") && err.contains("pasword") && err.contains("line 3"),
            "{err}"
        );
        let file = write(dir.path(), "d.toml", "[credentials.a]\nusername = \"u\"\n");
        let err = Credentials::load(&file).unwrap_err().to_string();
        assert!(err.contains("credential `a`: needs a password"), "{err}");
    }

    #[test]
    fn unset_password_env_is_kept_as_the_credentials_problem() {
        let spec = CredentialSpec {
            username: "root".into(),
            password_env: Some("PROBER_TEST_SURELY_UNSET_VAR".into()),
            ..Default::default()
        };
        let credential = spec.resolve("x", Path::new("."), &mut Vec::new());
        let problem = credential.password.unwrap().unwrap_err();
        assert!(problem.contains("PROBER_TEST_SURELY_UNSET_VAR is not set"));
    }

    /// Each local problem makes the credential unusable with its category, found at load.
    #[test]
    fn local_problems_are_found_once_at_load_with_their_category() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (key, private) = ed25519();
        let good = write(dir.path(), "id_ed25519", &private);
        std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o600)).unwrap();
        write(
            dir.path(),
            "id_ed25519.pub",
            &key.public_key().to_openssh().unwrap(),
        );
        let file = write(
            dir.path(),
            "c.toml",
            "[credentials.missing]\nusername = \"u\"\nkey = \"nope\"\n\
             [credentials.public]\nusername = \"u\"\nkey = \"id_ed25519.pub\"\n\
             [credentials.no-passphrase]\nusername = \"u\"\nkey = \"id_ed25519\"\n\
             key_passphrase_env = \"PROBER_TEST_SURELY_UNSET_PASSPHRASE\"\n\
             [credentials.no-password-file]\nusername = \"u\"\npassword_file = \"gone.pw\"\n\
             [credentials.no-public-key-file]\nusername = \"u\"\npublic_key_file = \"gone.pub\"\n\
             [credentials.fine]\nusername = \"u\"\nkey = \"id_ed25519\"\n",
        );
        let creds = Credentials::load(&file).unwrap();
        let problem = |name: &str| {
            let credential = creds.named(name).unwrap();
            credential
                .problem()
                .map(|(category, cause)| (category, cause.to_string()))
        };
        let (category, cause) = problem("missing").unwrap();
        assert_eq!(category, Category::KeyUnreadable);
        assert!(
            cause.contains("cannot read key") && cause.contains("nope"),
            "{cause}"
        );
        let (category, cause) = problem("public").unwrap();
        assert_eq!(category, Category::KeyUnreadable);
        assert!(
            cause.contains("is a public key; give the private key"),
            "{cause}"
        );
        let (category, cause) = problem("no-passphrase").unwrap();
        assert_eq!(category, Category::KeyPassphraseRequired);
        assert!(
            cause.contains("PROBER_TEST_SURELY_UNSET_PASSPHRASE is not set"),
            "{cause}"
        );
        let (category, cause) = problem("no-password-file").unwrap();
        assert_eq!(category, Category::CredentialUnavailable);
        assert!(cause.contains("gone.pw"), "{cause}");
        let (category, cause) = problem("no-public-key-file").unwrap();
        assert_eq!(category, Category::KeyUnreadable);
        assert!(
            cause.contains("public key") && cause.contains("gone.pub"),
            "{cause}"
        );
        assert_eq!(problem("fine"), None);
        assert!(creds.warnings.is_empty(), "{:?}", creds.warnings);

        // The cause said once, as soon as an asset names it; at the end, how many did.
        assert!(creds.fresh_problems().is_empty() && creds.unusable_report().is_empty());
        creds.named("missing").unwrap().used();
        creds.named("fine").unwrap().used();
        let fresh = creds.fresh_problems();
        assert_eq!(fresh.len(), 1, "{fresh:?}");
        assert!(
            fresh[0].starts_with("credential `missing` cannot be used: cannot read key")
                && fresh[0].ends_with("recorded as key_unreadable without connecting"),
            "{}",
            fresh[0]
        );
        creds.named("missing").unwrap().used();
        creds.named("missing").unwrap().used();
        assert!(creds.fresh_problems().is_empty(), "said once");
        // One whose cause nobody asked for yet says it in the report.
        creds.named("public").unwrap().used();
        let report = creds.unusable_report();
        assert_eq!(report.len(), 2, "{report:?}");
        assert_eq!(
            report[0],
            "credential `missing` cannot be used (said above): 3 assets use it, recorded as key_unreadable without connecting"
        );
        assert!(
            report[1].starts_with("credential `public` cannot be used: ")
                && report[1].contains("is a public key")
                && report[1]
                    .ends_with("1 asset uses it, recorded as key_unreadable without connecting"),
            "{}",
            report[1]
        );
    }

    #[test]
    fn a_private_key_others_can_read_is_used_with_sshs_warning() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (_, private) = ed25519();
        let path = write(dir.path(), "id", &private);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let spec = CredentialSpec {
            username: "u".into(),
            key: Some("id".into()),
            ..Default::default()
        };
        let mut warnings = Vec::new();
        let credential = spec.resolve("open", dir.path(), &mut warnings);
        assert!(credential.problem().is_none(), "still used, as decided");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("credential `open`: UNPROTECTED PRIVATE KEY FILE!"),
            "{}",
            warnings[0]
        );
    }

    #[test]
    fn tilde_paths_in_the_file_and_on_the_command_line_are_under_home() {
        let Some(home) = local_checks::home() else {
            return;
        };
        let spec = CredentialSpec {
            username: "u".into(),
            key: Some("~/.prober-test-surely-missing/id".into()),
            ..Default::default()
        };
        let credential = spec.resolve("t", Path::new("/elsewhere"), &mut Vec::new());
        let (_, cause) = credential.problem().unwrap();
        let expected = home.join(".prober-test-surely-missing/id");
        assert!(
            cause.contains(&format!("cannot read key {}:", expected.display())),
            "{cause}"
        );
    }

    #[test]
    fn an_agent_credential_without_an_agent_is_unavailable() {
        let spec = CredentialSpec {
            username: "u".into(),
            agent: true,
            ..Default::default()
        };
        let credential = spec.resolve("a", Path::new("."), &mut Vec::new());
        // Whatever this machine's SSH_AUTH_SOCK, the credential says what it found.
        match &credential.agent {
            Some(Ok(_)) => assert!(credential.problem().is_none()),
            Some(Err(why)) => {
                assert!(why.starts_with("ssh-agent: "), "{why}");
                assert_eq!(
                    credential.problem().map(|(c, _)| c),
                    Some(Category::CredentialUnavailable)
                );
            }
            None => panic!("agent = true must be checked"),
        }
    }

    #[test]
    fn pem_keys_plain_and_encrypted() {
        use russh::keys::{Algorithm, PrivateKey};
        let dir = tempfile::tempdir().unwrap();
        let key =
            PrivateKey::random(&mut russh::keys::key::safe_rng(), Algorithm::Ed25519).unwrap();
        let mut plain = Vec::new();
        russh::keys::encode_pkcs8_pem(&key, &mut plain).unwrap();
        let plain_path = write(
            dir.path(),
            "plain.pem",
            std::str::from_utf8(&plain).unwrap(),
        );
        let loaded = load_key(&plain_path, None).unwrap();
        assert_eq!(loaded.public_key().key_data(), key.public_key().key_data());

        let mut encrypted = Vec::new();
        russh::keys::encode_pkcs8_pem_encrypted(&key, b"right", 2, &mut encrypted).unwrap();
        let path = write(
            dir.path(),
            "enc.pem",
            std::str::from_utf8(&encrypted).unwrap(),
        );
        let secret = |s: &str| Some(Ok(Secret::new(s.into())));
        assert!(matches!(
            load_key(&path, None),
            Err(KeyProblem::PassphraseRequired(_))
        ));
        assert!(matches!(
            load_key(&path, secret("wrong")),
            Err(KeyProblem::PassphraseRequired(_))
        ));
        assert!(load_key(&path, secret("right")).is_ok());

        let garbage = write(
            dir.path(),
            "garbage",
            &format!("-----BEGIN {} PRIVATE KEY-----\nnot a key\n", "OPENSSH"),
        );
        assert!(matches!(
            load_key(&garbage, None),
            Err(KeyProblem::Unreadable(_))
        ));
    }

    #[test]
    fn gateways_are_jump_hosts_with_a_login() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "c.toml",
            "[gateways.dmz]\nhost = \"10.0.0.1\"\nport = 2200\nusername = \"jump\"\npassword = \"p\"\n",
        );
        let creds = Credentials::load(&file).unwrap();
        let dmz = creds.jump_host("dmz").unwrap();
        assert_eq!(
            (
                dmz.host.as_str(),
                dmz.port,
                dmz.credential.username.as_str()
            ),
            ("10.0.0.1", 2200, "jump")
        );
        let typo = write(
            dir.path(),
            "t.toml",
            "[gateways.dmz]\nhost = \"h\"\nusername = \"j\"\npasword = \"p\"\n",
        );
        let err = Credentials::load(&typo).unwrap_err().to_string();
        assert!(err.contains("pasword"), "{err}");
        let bad_host = write(
            dir.path(),
            "b.toml",
            "[gateways.dmz]\nhost = \"a;b\"\nusername = \"j\"\npassword = \"p\"\n",
        );
        assert!(
            Credentials::load(&bad_host)
                .unwrap_err()
                .to_string()
                .contains("gateway `dmz`")
        );
    }
}
