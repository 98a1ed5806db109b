use std::path::Path;

use super::*;

fn asset(host: &str, port: Option<u16>) -> Asset {
    Asset {
        line: 1,
        name: host.into(),
        host: host.into(),
        port: port.unwrap_or(22),
        port_given: port.is_some(),
        admin_user: None,
        system_users: Vec::new(),
        jump_host: None,
        platform: None,
        id: None,
        nodes: Vec::new(),
        skip: None,
    }
}

fn openssh(config: &str, command_line: CommandLine) -> (tempfile::TempDir, OpenSsh) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, config).unwrap();
    let config = ConfigFile::load(&path, Some(dir.path())).unwrap();
    let given = CredentialSpec {
        username: "cli".into(),
        password: Some("not-used".into()),
        ..Default::default()
    }
    .resolve("--user", Path::new("."), &mut Vec::new());
    let login = Login::Given(Arc::new(given));
    (dir, OpenSsh::new(Some(config), command_line, login))
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
