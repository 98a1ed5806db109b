//! OpenSSH habits: `-l`, `-p`, `-J`, `~/.ssh/config` (or `-F`) and, when no credential is
//! given, what ssh itself would try. [`OpenSsh::route`] turns an inventory row into where
//! and as whom the probe logs in, with ssh's precedence: what the row says, then the
//! command line, then the first value the config gives, then ssh's defaults.

pub mod config;
pub mod identities;
pub mod jump_spec;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::credentials::{Credential, CredentialSpec, Found, JumpHost};
use crate::inventory::{Asset, fields};
use crate::known_hosts::KnownHosts;
use crate::local_checks;
use crate::probe::HostSettings;
use crate::sync;
pub use config::{ConfigFile, HostOptions};
use identities::Finder;
pub use jump_spec::JumpSpec;

/// How the assets' own logins are made.
#[derive(Debug)]
pub enum Login {
    /// A credentials file: rows name their credential; the ssh_config is not read.
    File,
    /// Simple mode with a password, key or agent on the command line (`-l` optional).
    Given(Arc<Credential>),
    /// Simple mode with none: what ssh would try.
    Defaults,
}

/// The command line's OpenSSH-style options.
#[derive(Debug, Default)]
pub struct CommandLine {
    /// `-l`/`--user`.
    pub user: Option<String>,
    /// `-p`: for rows that give no port.
    pub port: Option<u16>,
    /// `-J`: for rows that name no gateway.
    pub jump: Option<JumpSpec>,
    /// `--host-key-check` given: it wins over the config's StrictHostKeyChecking.
    pub host_key_check_given: bool,
    /// `--known-hosts` given: it wins over the config's UserKnownHostsFile.
    pub known_hosts_given: bool,
    /// `--connect-timeout` given.
    pub connect_timeout_given: bool,
}

/// Where and as whom one asset is probed.
#[derive(Debug)]
pub struct Route {
    pub host: String,
    pub port: u16,
    /// In simple mode, the login for this host; `None`: the row's credential.
    pub credential: Option<Arc<Credential>>,
    pub jump_host: Option<Arc<JumpHost>>,
    pub settings: HostSettings,
    /// What the ssh_config gave that was used, as `Keyword value`.
    pub from_config: Vec<String>,
}

impl Route {
    /// The row as it is written, without OpenSSH's ways.
    pub fn as_written(asset: &Asset) -> Route {
        Route {
            host: asset.host.clone(),
            port: asset.port,
            credential: None,
            jump_host: None,
            settings: HostSettings::default(),
            from_config: Vec::new(),
        }
    }
}

/// Where ssh finds the user's own things: `~` (keys, known_hosts) and the agent.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub home: Option<PathBuf>,
    /// `SSH_AUTH_SOCK`.
    pub agent_socket: Option<OsString>,
}

impl Environment {
    /// This process's: `$HOME` (else the passwd entry) and `$SSH_AUTH_SOCK`.
    pub fn current() -> Environment {
        Environment {
            home: local_checks::home(),
            agent_socket: std::env::var_os("SSH_AUTH_SOCK"),
        }
    }
}

pub struct OpenSsh {
    config: Option<ConfigFile>,
    command_line: CommandLine,
    login: Login,
    home: Option<PathBuf>,
    agent_socket: Option<OsString>,
    finder: Finder,
    /// One credential per name, user, identity files and agent: rows that share them
    /// share it, and a jump host never shares the assets' (its name is its own).
    credentials: Mutex<HashMap<LoginKey, Arc<Credential>>>,
    /// One per jump host, so its connection is shared as a gateway's is.
    jump_hosts: Mutex<HashMap<String, Arc<JumpHost>>>,
    known_hosts: Mutex<HashMap<PathBuf, Arc<KnownHosts>>>,
}

/// A login's name in messages, user name, identity files and agent socket.
type LoginKey = (String, String, Vec<PathBuf>, Option<OsString>);

/// What ssh would try for one host: its identity files and the agent.
struct Tried {
    files: Vec<PathBuf>,
    agent: Option<OsString>,
}

/// The name a credential made of ssh's defaults has in messages.
pub const DEFAULTS_NAME: &str = "ssh defaults";

impl OpenSsh {
    pub fn new(
        config: Option<ConfigFile>,
        command_line: CommandLine,
        login: Login,
        environment: Environment,
    ) -> OpenSsh {
        OpenSsh {
            config,
            command_line,
            login,
            home: environment.home,
            agent_socket: environment.agent_socket,
            finder: Finder::default(),
            credentials: Mutex::default(),
            jump_hosts: Mutex::default(),
            known_hosts: Mutex::default(),
        }
    }

    /// Where the config is read from by default: `~/.ssh/config`, if it exists.
    pub fn default_config_path() -> Option<PathBuf> {
        let path = local_checks::home()?.join(".ssh/config");
        path.exists().then_some(path)
    }

    pub fn home(&self) -> Option<&Path> {
        self.home.as_deref()
    }

    /// Notes not said yet: keys skipped, an agent that did not answer.
    pub fn fresh_notes(&self) -> Vec<String> {
        self.finder.fresh_notes()
    }

    /// The login of simple mode without a credential, for `user` with ssh's default
    /// identity files: the run's fallback, so its problem is said once.
    pub fn defaults_credential(&self, user: &str) -> Arc<Credential> {
        let tried = Tried {
            files: self.default_files(),
            agent: self.agent_socket.clone(),
        };
        self.found_credential(DEFAULTS_NAME, user, &tried)
    }

    /// Every known_hosts file an ssh_config's UserKnownHostsFile loaded, for the run's
    /// report of the keys learned into them.
    pub fn known_hosts_files(&self) -> Vec<Arc<KnownHosts>> {
        sync::lock(&self.known_hosts).values().cloned().collect()
    }

    fn default_files(&self) -> Vec<PathBuf> {
        self.home
            .as_deref()
            .map(identities::default_identity_files)
            .unwrap_or_default()
    }

    fn lookup(&self, host: &str) -> HostOptions {
        self.config
            .as_ref()
            .map(|c| c.lookup(host))
            .unwrap_or_default()
    }

    /// The ssh_config's options for the row's host: read in simple mode alone (with
    /// --credentials the rows' logins are the file's).
    fn options(&self, asset: &Asset) -> HostOptions {
        match self.login {
            Login::File => HostOptions::default(),
            _ => self.lookup(&asset.host),
        }
    }

    /// The port `asset` is probed on, as [`OpenSsh::route`] finds it, without loading any
    /// credential: `--shard` places each row by it.
    pub fn port(&self, asset: &Asset) -> u16 {
        self.port_of(asset, &self.options(asset)).0
    }

    /// The row's port, else `-p`'s, else the ssh_config's; and whether the ssh_config's.
    fn port_of(&self, asset: &Asset, options: &HostOptions) -> (u16, bool) {
        match (asset.port_given, self.command_line.port, options.port) {
            (true, _, _) => (asset.port, false),
            (false, Some(port), _) => (port, false),
            (false, None, Some(port)) => (port, true),
            (false, None, None) => (asset.port, false),
        }
    }

    /// Where, as whom and through what `asset` is probed. `Err`: the row cannot be,
    /// with why (a HostName or ProxyJump the prober cannot use).
    pub fn route(&self, asset: &Asset) -> Result<Route, String> {
        let options = self.options(asset);
        let mut taken = Vec::new();
        let host = match &options.host_name {
            Some(name) => {
                let name = expand_host(name, &asset.host);
                let host = fields::host(&name).map_err(|e| format!("ssh_config HostName: {e}"))?;
                taken.push(format!("HostName {host}"));
                host
            }
            None => asset.host.clone(),
        };
        let (port, from_config) = self.port_of(asset, &options);
        if from_config {
            taken.push(format!("Port {port}"));
        }
        let credential = match &self.login {
            Login::File => None,
            Login::Given(given) => {
                let user = self.user(&options, &mut taken);
                Some(self.given_as(given, &user))
            }
            Login::Defaults => {
                let user = self.user(&options, &mut taken);
                let tried = self.tried(&options, &mut taken);
                Some(self.found_credential(DEFAULTS_NAME, &user, &tried))
            }
        };
        let jump_host = match (&self.command_line.jump, &options.proxy_jump) {
            _ if asset.jump_host.is_some() => None,
            (Some(jump), _) => Some(self.jump_host(jump)?),
            (None, Some(hops)) => match hops.as_slice() {
                [] => None,
                [hop] => {
                    let spec = hop
                        .parse::<JumpSpec>()
                        .map_err(|e| format!("ssh_config ProxyJump {e}"))?;
                    taken.push(format!("ProxyJump {hop}"));
                    Some(self.jump_host(&spec)?)
                }
                _ => {
                    return Err(format!(
                        "ssh_config ProxyJump {}: a chain of jump hosts is not supported (one only)",
                        hops.join(",")
                    ));
                }
            },
            (None, None) => None,
        };
        let settings = self.settings(&options, &mut taken);
        Ok(Route {
            host,
            port,
            credential,
            jump_host,
            settings,
            from_config: taken,
        })
    }

    /// `-l`, else the config's `User`, else the local user's name.
    fn user(&self, options: &HostOptions, taken: &mut Vec<String>) -> String {
        if let Some(user) = &self.command_line.user {
            return user.clone();
        }
        if let Some(user) = &options.user {
            taken.push(format!("User {user}"));
            return user.clone();
        }
        identities::local_user().unwrap_or_else(|| "root".into())
    }

    /// The identity files and agent ssh would try with `options`: IdentityFile, else the
    /// default files; the agent unless `IdentityAgent none` or `IdentitiesOnly yes`
    /// (the prober cannot match agent keys to files, so it offers no agent key then).
    fn tried(&self, options: &HostOptions, taken: &mut Vec<String>) -> Tried {
        let files = if options.identity_files.is_empty() {
            self.default_files()
        } else {
            for file in &options.identity_files {
                taken.push(format!("IdentityFile {}", file.display()));
            }
            options.identity_files.clone()
        };
        let agent = if options.identities_only {
            taken.push("IdentitiesOnly yes".into());
            None
        } else {
            match options.identity_agent.as_deref() {
                None => self.agent_socket.clone(),
                Some(agent) => {
                    taken.push(format!("IdentityAgent {agent}"));
                    self.identity_agent(agent)
                }
            }
        };
        Tried { files, agent }
    }

    /// ssh_config(5)'s IdentityAgent values: `none`, `SSH_AUTH_SOCK`, `$VAR`, a path.
    fn identity_agent(&self, agent: &str) -> Option<OsString> {
        if agent.eq_ignore_ascii_case("none") {
            return None;
        }
        if agent == "SSH_AUTH_SOCK" {
            return self.agent_socket.clone();
        }
        if let Some(var) = agent.strip_prefix('$') {
            return std::env::var_os(var);
        }
        let path = local_checks::locate(Path::new("."), Path::new(agent), self.home.as_deref());
        Some(path.into_os_string())
    }

    fn given_as(&self, given: &Arc<Credential>, user: &str) -> Arc<Credential> {
        if given.username == user {
            return given.clone();
        }
        let key = (given.name.clone(), user.to_string(), Vec::new(), None);
        sync::lock(&self.credentials)
            .entry(key)
            .or_insert_with(|| Arc::new(given.as_user(user)))
            .clone()
    }

    /// The agent, then the keys of the files that exist and open: what ssh would try.
    fn found_credential(&self, name: &str, user: &str, tried: &Tried) -> Arc<Credential> {
        let key = (
            name.to_string(),
            user.to_string(),
            tried.files.clone(),
            tried.agent.clone(),
        );
        if let Some(known) = sync::lock(&self.credentials).get(&key) {
            return known.clone();
        }
        let agent = self.finder.agent(tried.agent.as_deref());
        let identities = self.finder.keys(&tried.files);
        let nothing = (agent.is_none() && identities.is_empty()).then(|| {
            let shown: Vec<String> = tried
                .files
                .iter()
                .map(|f| f.display().to_string())
                .collect();
            format!(
                "no credential: no ssh-agent answers and no identity file can be used ({}); give -i FILE, --password-env, --password-file or --agent",
                if shown.is_empty() { "no HOME".into() } else { shown.join(", ") }
            )
        });
        let mut credential = CredentialSpec {
            username: user.to_string(),
            ..Default::default()
        }
        .resolve(name, Path::new("."), &mut Vec::new());
        credential.agent = agent.map(Ok);
        credential.found = Found {
            identities,
            nothing,
        };
        let credential = Arc::new(credential);
        sync::lock(&self.credentials)
            .entry(key)
            .or_insert(credential)
            .clone()
    }

    /// A jump host as ssh reaches it: its alias through the config (HostName, Port,
    /// User, IdentityFile, the agent, the host key and timeout options), logged in to
    /// with what ssh would try. The command line's credential is not used there, as
    /// with `ssh -J`.
    fn jump_host(&self, spec: &JumpSpec) -> Result<Arc<JumpHost>, String> {
        let options = self.lookup(&spec.host);
        let host = match &options.host_name {
            Some(name) => fields::host(&expand_host(name, &spec.host))
                .map_err(|e| format!("jump host {}: ssh_config HostName: {e}", spec.host))?,
            None => spec.host.clone(),
        };
        let port = spec.port.or(options.port).unwrap_or(22);
        if options
            .proxy_jump
            .as_ref()
            .is_some_and(|hops| !hops.is_empty())
        {
            return Err(format!(
                "jump host {}: its own ProxyJump makes a chain of jump hosts, which is not supported",
                spec.host
            ));
        }
        let user = spec
            .user
            .clone()
            .or(options.user.clone())
            .or_else(identities::local_user)
            .unwrap_or_else(|| "root".into());
        let name = format!("{user}@{}", crate::address::authority(&host, port));
        if let Some(known) = sync::lock(&self.jump_hosts).get(&name) {
            return Ok(known.clone());
        }
        // What the jump host's entry gave is not the asset's record.
        let mut taken = Vec::new();
        let tried = self.tried(&options, &mut taken);
        let credential = self.found_credential(&name, &user, &tried);
        let credential = credential.as_user(&user);
        let settings = self.settings(&options, &mut taken);
        let jump = Arc::new(JumpHost {
            name: name.clone(),
            host,
            port,
            credential,
            settings,
        });
        Ok(sync::lock(&self.jump_hosts)
            .entry(name)
            .or_insert(jump)
            .clone())
    }

    /// ConnectTimeout, StrictHostKeyChecking and UserKnownHostsFile, where the command
    /// line did not set them.
    fn settings(&self, options: &HostOptions, taken: &mut Vec<String>) -> HostSettings {
        let mut settings = HostSettings::default();
        if !self.command_line.connect_timeout_given
            && let Some(timeout) = options.connect_timeout
        {
            taken.push(format!("ConnectTimeout {}", timeout.as_secs()));
            settings.connect = Some(timeout);
        }
        // As with ssh, the command line wins option by option.
        if !self.command_line.host_key_check_given
            && let Some(policy) = options.host_key_policy
        {
            taken.push(format!("StrictHostKeyChecking {}", policy_word(policy)));
            settings.host_key_policy = Some(policy);
        }
        if !self.command_line.known_hosts_given
            && let Some(file) = &options.known_hosts
        {
            let path = local_checks::locate(Path::new("."), file, self.home.as_deref());
            taken.push(format!("UserKnownHostsFile {}", path.display()));
            settings.known_hosts = Some(self.known_hosts_file(&path));
        }
        settings
    }

    /// The known_hosts file at `path`, read once. One that cannot be read is said once
    /// and stands as an empty file no key is learned into, as with ssh: keys are not
    /// checked against, nor written to, another file.
    fn known_hosts_file(&self, path: &Path) -> Arc<KnownHosts> {
        sync::lock(&self.known_hosts)
            .entry(path.to_path_buf())
            .or_insert_with(|| {
                Arc::new(KnownHosts::load(path).unwrap_or_else(|e| {
                    self.finder.note(format!(
                        "ssh_config UserKnownHostsFile {}: cannot read it ({e}): no host key is known from it nor recorded in it",
                        path.display()
                    ));
                    KnownHosts::unreadable(path, &e)
                }))
            })
            .clone()
    }
}

fn policy_word(policy: crate::known_hosts::HostKeyPolicy) -> &'static str {
    use crate::known_hosts::HostKeyPolicy::*;
    match policy {
        Strict => "yes",
        AcceptNew => "accept-new",
        Off => "no",
    }
}

/// ssh_config's `%h` (the host as given) and `%%` in a HostName.
fn expand_host(name: &str, host: &str) -> String {
    name.replace("%%", "\u{0}")
        .replace("%h", host)
        .replace('\u{0}', "%")
}

#[cfg(test)]
mod tests;
