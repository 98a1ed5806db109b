use std::path::Path;

use super::*;

fn asset(host: &str, port: Option<u16>) -> Asset {
    Asset::of_host(1, host.into(), port)
}

fn openssh(config: &str, command_line: CommandLine) -> (tempfile::TempDir, OpenSsh) {
    let given = CredentialSpec {
        username: "cli".into(),
        password: Some("not-used".into()),
        ..Default::default()
    }
    .resolve("--user", Path::new("."), &mut Vec::new());
    openssh_with(config, command_line, Login::Given(Arc::new(given)))
}

/// The config in a temporary HOME, which is also `~`; no agent: the developer's own
/// ~/.ssh and SSH_AUTH_SOCK are never read.
fn openssh_with(
    config: &str,
    command_line: CommandLine,
    login: Login,
) -> (tempfile::TempDir, OpenSsh) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".ssh")).unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, config).unwrap();
    let config = ConfigFile::load(&path, Some(dir.path())).unwrap();
    let environment = Environment {
        home: Some(dir.path().to_path_buf()),
        agent_socket: None,
    };
    (
        dir,
        OpenSsh::new(Some(config), command_line, login, environment),
    )
}

/// An unencrypted Ed25519 key at `path`, as ssh-keygen writes it.
fn write_key(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let key = russh::keys::PrivateKey::random(
        &mut russh::keys::key::safe_rng(),
        russh::keys::Algorithm::Ed25519,
    )
    .unwrap();
    let text = key
        .to_openssh(russh::keys::ssh_key::LineEnding::LF)
        .unwrap();
    std::fs::write(path, text.as_bytes()).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

const CONFIG: &str = "Host web-cfg\n  HostName 127.0.0.9\n  User deploy\n  Port 2201\n  ProxyJump ops@jump-cfg\n  ConnectTimeout 3\n\
                      Host jump-cfg\n  HostName 127.0.0.8\n  Port 2202\n";

#[test]
fn the_config_names_the_address_user_port_and_jump_host() {
    let (_dir, openssh) = openssh(CONFIG, CommandLine::default());
    let route = openssh.route(&asset("web-cfg", None)).unwrap();
    assert_eq!((route.host.as_str(), route.port), ("127.0.0.9", 2201));
    assert_eq!(route.credential.unwrap().username, "deploy");
    let jump = route.jump_host.unwrap();
    assert_eq!(
        (
            jump.host.as_str(),
            jump.port,
            jump.credential.username.as_str()
        ),
        ("127.0.0.8", 2202, "ops")
    );
    assert_eq!(
        route.settings.connect,
        Some(std::time::Duration::from_secs(3))
    );
    assert_eq!(
        route.from_config,
        [
            "HostName 127.0.0.9",
            "Port 2201",
            "User deploy",
            "ProxyJump ops@jump-cfg",
            "ConnectTimeout 3"
        ]
    );
}

#[test]
fn the_row_then_the_command_line_win_over_the_config() {
    let command_line = CommandLine {
        user: Some("root".into()),
        port: Some(2222),
        jump: Some("127.0.0.7:2203".parse().unwrap()),
        connect_timeout_given: true,
        ..Default::default()
    };
    let (_dir, openssh) = openssh(CONFIG, command_line);
    let route = openssh.route(&asset("web-cfg", None)).unwrap();
    assert_eq!(route.port, 2222);
    assert_eq!(route.credential.unwrap().username, "root");
    assert_eq!(route.jump_host.unwrap().port, 2203);
    assert_eq!(route.settings.connect, None);
    assert_eq!(route.from_config, ["HostName 127.0.0.9"]);
    let given = openssh.route(&asset("web-cfg", Some(22))).unwrap();
    assert_eq!(given.port, 22, "the row's own port first");
}

#[test]
fn a_chain_of_jump_hosts_is_refused_with_why() {
    let (_dir, openssh) = openssh("Host a\n  ProxyJump j1,j2\n", CommandLine::default());
    let why = openssh.route(&asset("a", None)).unwrap_err();
    assert!(why.contains("chain"), "{why}");
}

#[test]
fn the_home_given_is_where_identities_are_found_and_no_agent_is_asked() {
    let (dir, openssh) = openssh_with(CONFIG, CommandLine::default(), Login::Defaults);
    write_key(&dir.path().join(".ssh/id_ed25519"));
    let route = openssh.route(&asset("web-cfg", None)).unwrap();
    let jump = route.jump_host.unwrap();
    assert_eq!(jump.credential.found.identities.len(), 1, "{jump:?}");
    assert!(jump.credential.agent.is_none());
    assert!(openssh.fresh_notes().is_empty(), "no agent was looked for");
}

#[test]
fn a_jump_host_keeps_its_own_credential_name() {
    let config = "Host web-cfg\n  User ops\n  ProxyJump jump-cfg\nHost jump-cfg\n  HostName 127.0.0.8\n  User ops\n";
    let (_dir, openssh) = openssh_with(config, CommandLine::default(), Login::Defaults);
    let route = openssh.route(&asset("web-cfg", None)).unwrap();
    assert_eq!(route.credential.unwrap().name, DEFAULTS_NAME);
    assert_eq!(
        route.jump_host.unwrap().credential.name,
        "ops@127.0.0.8:22",
        "the same user and files, but the jump host's own credential"
    );
}

#[test]
fn each_host_key_option_on_the_command_line_overrides_only_its_own() {
    let config = "Host *\n  StrictHostKeyChecking yes\n  UserKnownHostsFile ~/cfg_known_hosts\n";
    let check_given = CommandLine {
        host_key_check_given: true,
        ..Default::default()
    };
    let (dir, by_check) = openssh(config, check_given);
    let settings = by_check.route(&asset("a", None)).unwrap().settings;
    assert_eq!(settings.host_key_policy, None);
    assert_eq!(
        settings.known_hosts.unwrap().path(),
        dir.path().join("cfg_known_hosts")
    );
    let file_given = CommandLine {
        known_hosts_given: true,
        ..Default::default()
    };
    let (_dir, by_file) = openssh(config, file_given);
    let settings = by_file.route(&asset("a", None)).unwrap().settings;
    assert_eq!(
        settings.host_key_policy,
        Some(crate::known_hosts::HostKeyPolicy::Strict)
    );
    assert!(settings.known_hosts.is_none());
}

#[test]
fn a_jump_host_takes_its_own_host_key_and_timeout_options() {
    let config = "Host web-cfg\n  ProxyJump jump-cfg\n\
                  Host jump-cfg\n  HostName 127.0.0.8\n  StrictHostKeyChecking yes\n  UserKnownHostsFile ~/jump_known_hosts\n  ConnectTimeout 4\n";
    let (dir, openssh) = openssh(config, CommandLine::default());
    let route = openssh.route(&asset("web-cfg", None)).unwrap();
    assert_eq!(
        route.settings.host_key_policy, None,
        "the asset's own entry"
    );
    let jump = route.jump_host.unwrap();
    assert_eq!(
        jump.settings.host_key_policy,
        Some(crate::known_hosts::HostKeyPolicy::Strict)
    );
    assert_eq!(
        jump.settings.connect,
        Some(std::time::Duration::from_secs(4))
    );
    assert_eq!(
        jump.settings.known_hosts.as_ref().unwrap().path(),
        dir.path().join("jump_known_hosts")
    );
}

#[test]
fn an_unreadable_known_hosts_file_is_said_once_and_takes_no_key() {
    // Not text: it cannot be read, but could be appended to.
    let config = "Host *\n  UserKnownHostsFile ~/bad_known_hosts\n";
    let (dir, openssh) = openssh(config, CommandLine::default());
    let bad = dir.path().join("bad_known_hosts");
    std::fs::write(&bad, b"\xff\xfe\n").unwrap();
    let first = openssh.route(&asset("a", None)).unwrap().settings;
    let second = openssh.route(&asset("b", None)).unwrap().settings;
    let notes = openssh.fresh_notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("UserKnownHostsFile"), "{}", notes[0]);
    let known_hosts = first.known_hosts.unwrap();
    assert_eq!(known_hosts.path(), bad, "not another file");
    assert!(Arc::ptr_eq(&known_hosts, &second.known_hosts.unwrap()));
    let key = russh::keys::PrivateKey::random(
        &mut russh::keys::key::safe_rng(),
        russh::keys::Algorithm::Ed25519,
    )
    .unwrap();
    assert!(known_hosts.learn("a", key.public_key()).is_err());
    let (learned, error) = known_hosts.learned();
    assert_eq!(learned, 0);
    assert!(error.is_some(), "reported with the run's end");
    assert_eq!(
        std::fs::read(&bad).unwrap(),
        b"\xff\xfe\n",
        "left as it was"
    );
}
