//! `~/.ssh/config` (or `-F FILE`), read with the ssh2-config crate and asked, per host,
//! for the options the prober acts on. ssh's rules hold: the first value obtained for an
//! option wins, Host patterns take `*`, `?` and `!`, and `IdentityFile` accumulates.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ssh2_config::{HostParams, ParseRule, SshConfig};

use crate::known_hosts::HostKeyPolicy;

#[derive(Debug, thiserror::Error)]
#[error("ssh_config {path}: {message}")]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

/// A parsed ssh_config file.
#[derive(Debug)]
pub struct ConfigFile {
    path: PathBuf,
    config: SshConfig,
}

/// What the config says about one host, for the options the prober acts on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostOptions {
    pub host_name: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<PathBuf>,
    /// `ProxyJump`: the jump hosts in order; `none` is an empty list (go direct).
    pub proxy_jump: Option<Vec<String>>,
    pub known_hosts: Option<PathBuf>,
    pub host_key_policy: Option<HostKeyPolicy>,
    pub connect_timeout: Option<Duration>,
    /// `IdentitiesOnly yes`: only the identity files, no other agent key.
    pub identities_only: bool,
    /// `IdentityAgent`: `none`, `SSH_AUTH_SOCK`, `$VAR` or a socket's path, as written.
    pub identity_agent: Option<String>,
}

impl ConfigFile {
    /// Reads `path`; `~` in it is `home`, as ssh reads it. Options the prober does not
    /// use are kept out of the way rather than refused: a working ssh config is valid.
    pub fn load(path: &Path, home: Option<&Path>) -> Result<ConfigFile, ConfigError> {
        let error = |message: String| ConfigError {
            path: path.to_path_buf(),
            message,
        };
        let file = File::open(path).map_err(|e| error(e.to_string()))?;
        let mut config = SshConfig::default();
        if let Some(home) = home {
            config = config.home_dir(home);
        }
        let rules = ParseRule::ALLOW_UNKNOWN_FIELDS | ParseRule::ALLOW_UNSUPPORTED_FIELDS;
        let config = config
            .parse(&mut BufReader::new(file), rules)
            .map_err(|e| error(e.to_string()))?;
        Ok(ConfigFile {
            path: path.to_path_buf(),
            config,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The options for `host` as the command line or inventory names it (an alias).
    pub fn lookup(&self, host: &str) -> HostOptions {
        options(&self.config.query(host))
    }
}

fn options(params: &HostParams) -> HostOptions {
    // Options ssh2-config parses but does not model come back as the words written.
    let raw = |name: &str| {
        params
            .unsupported_fields
            .get(name)
            .and_then(|words| words.first())
            .map(|word| word.trim_matches('"').to_string())
    };
    let proxy_jump = params.proxy_jump.as_ref().map(|hops| {
        let none = hops.len() == 1 && hops[0].eq_ignore_ascii_case("none");
        if none { Vec::new() } else { hops.clone() }
    });
    HostOptions {
        host_name: params.host_name.clone(),
        user: params.user.clone(),
        port: params.port,
        identity_files: params.identity_file.clone().unwrap_or_default(),
        proxy_jump,
        known_hosts: raw("userknownhostsfile").map(PathBuf::from),
        host_key_policy: raw("stricthostkeychecking").and_then(|v| host_key_policy(&v)),
        connect_timeout: params.connect_timeout.filter(|t| !t.is_zero()),
        identities_only: raw("identitiesonly").is_some_and(|v| v.eq_ignore_ascii_case("yes")),
        identity_agent: raw("identityagent"),
    }
}

/// ssh_config(5)'s StrictHostKeyChecking values, as the prober's policies.
fn host_key_policy(value: &str) -> Option<HostKeyPolicy> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "ask" => Some(HostKeyPolicy::Strict),
        "accept-new" => Some(HostKeyPolicy::AcceptNew),
        "no" | "off" => Some(HostKeyPolicy::Off),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> ConfigFile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, text).unwrap();
        ConfigFile::load(&path, Some(Path::new("/home/ops"))).unwrap()
    }

    #[test]
    fn first_value_wins_and_patterns_match_as_in_ssh() {
        let config = config(
            "ServerAliveInterval 30\n\
             Host web-* !web-legacy\n  HostName 10.0.0.5\n  User deploy\n  Port 2222\n  IdentityFile ~/.ssh/deploy\n\
             Host web-?\n  User ignored\n  IdentityFile ~/.ssh/second\n\
             Host *\n  User fallback\n  Port=2200\n  StrictHostKeyChecking accept-new\n  UserKnownHostsFile ~/kh\n  ConnectTimeout 7\n  ProxyJump none\n",
        );
        let web = config.lookup("web-1");
        assert_eq!(web.host_name.as_deref(), Some("10.0.0.5"));
        assert_eq!(web.user.as_deref(), Some("deploy"));
        assert_eq!(web.port, Some(2222));
        assert_eq!(
            web.identity_files,
            [
                PathBuf::from("/home/ops/.ssh/deploy"),
                PathBuf::from("/home/ops/.ssh/second")
            ]
        );
        assert_eq!(web.host_key_policy, Some(HostKeyPolicy::AcceptNew));
        assert_eq!(web.known_hosts, Some(PathBuf::from("~/kh")));
        assert_eq!(web.connect_timeout, Some(Duration::from_secs(7)));
        assert_eq!(web.proxy_jump, Some(Vec::new()), "none: direct");
        let legacy = config.lookup("web-legacy");
        assert_eq!(legacy.host_name, None, "negated");
        assert_eq!(legacy.user.as_deref(), Some("fallback"));
        assert_eq!(legacy.port, Some(2200));
        assert_eq!(config.lookup("db").identity_files, Vec::<PathBuf>::new());
    }

    #[test]
    fn proxy_jump_lists_hops_and_policies_map() {
        let config =
            config("Host a\n  ProxyJump ops@bastion:2222,second\n  StrictHostKeyChecking no\n");
        let a = config.lookup("a");
        assert_eq!(
            a.proxy_jump,
            Some(vec!["ops@bastion:2222".to_string(), "second".to_string()])
        );
        assert_eq!(a.host_key_policy, Some(HostKeyPolicy::Off));
        assert_eq!(host_key_policy("yes"), Some(HostKeyPolicy::Strict));
        assert_eq!(host_key_policy("maybe"), None);
        assert!(!a.identities_only);
    }

    #[test]
    fn identities_only_and_identity_agent_are_read_as_written() {
        let all = config("Host *\n  IdentitiesOnly yes\n  IdentityAgent none\n").lookup("any");
        assert!(all.identities_only);
        assert_eq!(all.identity_agent.as_deref(), Some("none"));
    }

    #[test]
    fn an_unreadable_file_names_itself() {
        let err = ConfigFile::load(Path::new("/nonexistent/ssh_config"), None).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ssh_config"), "{err}");
    }
}
