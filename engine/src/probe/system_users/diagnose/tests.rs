use super::keys_files::KeyState;
use super::*;
use crate::credentials::{Credential, Expectations, Secret};

fn credential(username: &str, expect: Expectations) -> Credential {
    Credential {
        name: format!("{username}-cred"),
        username: username.into(),
        password: None,
        key: None,
        agent: None,
        expect,
        found: Default::default(),
        uses: Default::default(),
    }
}

const HEALTHY: &str = "0.exists=1\n0.passwd=deploy:x:1500:1500::/home/deploy:/bin/bash\n0.shell_listed=1\n\
    0.groups=deploy\n0.shadow=set:19700:0:99999:7:::\n0.sshd=usepam yes\n0.sshd=strictmodes yes\n\
    0.sshd=authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2\n0.sshd=authorizedkeyscommand none\n\
    0.keys_file=present|/home/deploy/.ssh/authorized_keys\n\
    0.stat=deploy|deploy|600|regular file|/home/deploy/.ssh/authorized_keys\n\
    0.stat=deploy|deploy|700|directory|/home/deploy/.ssh\n0.stat=deploy|deploy|700|directory|/home/deploy\n\
    0.keys_file=missing|/home/deploy/.ssh/authorized_keys2\n0.done=1\n";

/// The public half of a key made for these tests, as authorized_keys lines hold it.
const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIPesEvi92deOruCAQU593979K64hJdAKdn+15JFg61GN";
const OTHER_KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAID7UToQFGjl1kQCMz3v2+XtG7xuDQ/n58S3x1YdWVKB8";

fn with_public_key(expect: Expectations) -> Expectations {
    Expectations {
        public_key: Some(Ok(russh::keys::parse_public_key_base64(KEY).unwrap())),
        ..expect
    }
}

/// The diagnosis output with one user's lines, `edit` applied to them.
fn diagnosis(edit: impl Fn(&str) -> String, extra: &str) -> Diagnosis {
    parse(&format!(
        "noise\n{MARKER}\ntoday=20000\n{extra}{}end\n",
        edit(HEALTHY)
    ))
    .unwrap()
}

/// The verdict for `deploy`, whose credential is a password (`by_password`) or nothing
/// but its public half.
fn verdict(d: &Diagnosis, login: Login, by_password: bool, expect: Expectations) -> Category {
    verdict_said(d, login, by_password, expect).0
}

/// The verdict and its message.
fn verdict_said(
    d: &Diagnosis,
    login: Login,
    by_password: bool,
    expect: Expectations,
) -> (Category, String) {
    let cred = Credential {
        password: by_password.then(|| Ok(Secret::new("pw".into()))),
        ..credential("deploy", with_public_key(expect))
    };
    let ctx = Context {
        credential: &cred,
        client_addr: Some("10.0.0.9".parse().unwrap()),
    };
    match judge(&ctx, &login, &d.users[&0], d) {
        Ok(message) => (Category::Ok, message),
        Err(f) => (f.category, f.message),
    }
}

fn refused() -> Login {
    Login::Refused("the server rejected publickey".into())
}

#[test]
fn parses_every_kind_of_line() {
    let d = diagnosis(
        |s| s.to_string(),
        "visudo_rc=0\nvisudo=/etc/sudoers: parsed OK\n",
    );
    assert!(d.complete);
    assert_eq!(d.today, Some(20000));
    assert_eq!(d.visudo_rc, Some(0));
    let f = &d.users[&0];
    assert_eq!(
        (f.uid, f.shell.as_deref(), f.home.as_deref()),
        (Some(1500), Some("/bin/bash"), Some("/home/deploy"))
    );
    assert_eq!(f.shadow.as_ref().unwrap().last_change, Some(19700));
    let [held, second] = &f.keys_files[..] else {
        panic!("two key files: {:?}", f.keys_files)
    };
    assert_eq!(held.path, "/home/deploy/.ssh/authorized_keys");
    assert_eq!(held.key, Some(KeyState::Present));
    assert_eq!(held.chain.len(), 3);
    assert_eq!(held.chain[0].mode, 0o600);
    assert_eq!(held.chain[0].kind, "regular file");
    assert_eq!(held.chain[2].path, "/home/deploy");
    assert_eq!(second.key, Some(KeyState::Missing));
    assert!(second.chain.is_empty());
}

#[test]
fn each_cause_is_found() {
    let none = Expectations::default;
    let missing = parse(&format!("{MARKER}\n0.exists=0\n0.done=1\nend\n")).unwrap();
    assert_eq!(
        verdict(&missing, refused(), false, none()),
        Category::SystemUserMissing
    );

    let d = diagnosis(|s| s.to_string(), "");
    let uid = Expectations {
        uid: Some(1600),
        ..none()
    };
    assert_eq!(
        verdict(&d, refused(), false, uid),
        Category::SystemUserUidMismatch
    );

    let append = |line: &'static str| move |s: &str| format!("{s}{line}");
    let replace = |from: &'static str, to: &'static str| move |s: &str| s.replace(from, to);
    let expired_shadow = "0.shadow=set:19700:0:99999:7::1:";
    let aged_shadow = "0.shadow=set:19000:0:90:7:::";
    let healthy_shadow = "0.shadow=set:19700:0:99999:7:::";
    type Edit = Box<dyn Fn(&str) -> String>;
    // What is wrong, how the healthy output shows it, whether the login was by password,
    // and the verdict.
    let cases: Vec<(&str, Edit, bool, Category)> = vec![
        (
            "nologin shell",
            Box::new(replace("/bin/bash", "/usr/sbin/nologin")),
            false,
            Category::SystemUserShellInvalid,
        ),
        (
            "shell not in /etc/shells",
            Box::new(replace("shell_listed=1", "shell_listed=0")),
            false,
            Category::SystemUserShellInvalid,
        ),
        (
            "DenyUsers",
            Box::new(append("0.sshd=denyusers deploy\n")),
            false,
            Category::SystemUserDeniedBySshd,
        ),
        (
            "AllowUsers from elsewhere only",
            Box::new(append("0.sshd=allowusers deploy@192.168.0.0/16\n")),
            false,
            Category::SystemUserDeniedBySshd,
        ),
        (
            "account expired",
            Box::new(replace(healthy_shadow, expired_shadow)),
            true,
            Category::SystemUserExpired,
        ),
        (
            "password aged out",
            Box::new(replace(healthy_shadow, aged_shadow)),
            true,
            Category::SystemUserExpired,
        ),
        (
            "keys ignore password age",
            Box::new(replace(healthy_shadow, aged_shadow)),
            false,
            Category::AuthFailed,
        ),
        (
            "locked, by password",
            Box::new(replace("shadow=set", "shadow=locked")),
            true,
            Category::SystemUserLocked,
        ),
        // With PAM, sshd lets keys in to locked accounts (Debian's default).
        (
            "locked, by key",
            Box::new(replace("shadow=set", "shadow=locked")),
            false,
            Category::AuthFailed,
        ),
        (
            "home 0777",
            Box::new(replace(
                "700|directory|/home/deploy\n",
                "777|directory|/home/deploy\n",
            )),
            false,
            Category::SystemUserHomePermissions,
        ),
        (
            ".ssh owned by root",
            Box::new(replace(
                "deploy|deploy|700|directory|/home/deploy/.ssh",
                "root|root|700|directory|/home/deploy/.ssh",
            )),
            false,
            Category::SystemUserHomePermissions,
        ),
        (
            "authorized_keys owned by another",
            Box::new(replace(
                "deploy|deploy|600|regular file",
                "web|web|644|regular file",
            )),
            false,
            Category::SystemUserHomePermissions,
        ),
        (
            "key absent",
            Box::new(replace("keys_file=present", "keys_file=absent")),
            false,
            Category::SystemUserKeyNotRegistered,
        ),
        (
            "nothing wrong, by password",
            Box::new(|s: &str| s.to_string()),
            true,
            Category::SystemUserPasswordWrong,
        ),
        (
            "nothing found: said so",
            Box::new(|s: &str| s.to_string()),
            false,
            Category::AuthFailed,
        ),
    ];
    for (what, edit, by_password, want) in cases {
        let d = diagnosis(edit, "");
        assert_eq!(verdict(&d, refused(), by_password, none()), want, "{what}");
    }
}

/// The healthy user's key files replaced by `files` (keys_file and stat lines), under
/// `authorizedkeysfile` and `authorizedkeyscommand` as sshd -T gives them.
fn keys_diagnosis(keys_file: &str, keys_command: &str, files: &str) -> Diagnosis {
    let sshd = format!(
        "0.sshd=authorizedkeysfile {keys_file}\n0.sshd=authorizedkeyscommand {keys_command}\n"
    );
    diagnosis(|s| keys_text(s, &format!("{sshd}{files}")), "")
}

/// The healthy output without its key files and their sshd settings, `lines` in their place.
fn keys_text(healthy: &str, lines: &str) -> String {
    let kept: String = healthy
        .lines()
        .filter(|l| !l.contains(".keys_file=") && !l.contains(".stat="))
        .filter(|l| !l.contains("=authorizedkeys") && !l.ends_with(".done=1"))
        .map(|l| format!("{l}\n"))
        .collect();
    format!("{kept}{lines}0.done=1\n")
}

/// A root-owned keys directory outside the homes, as `AuthorizedKeysFile /etc/ssh/keys/%u`
/// wants it.
const ETC_KEYS: &str = "0.keys_file=present|/etc/ssh/keys/deploy\n\
    0.stat=root|root|644|regular file|/etc/ssh/keys/deploy\n0.stat=root|root|755|directory|/etc/ssh/keys\n\
    0.stat=root|root|755|directory|/etc/ssh\n0.stat=root|root|755|directory|/etc\n0.stat=root|root|755|directory|/\n";

#[test]
fn the_effective_authorized_keys_files_decide() {
    let none = Expectations::default;
    // The key only in /etc/ssh/keys/deploy, no ~/.ssh at all: right, and said where.
    let etc = keys_diagnosis("/etc/ssh/keys/%u", "none", ETC_KEYS);
    let (category, message) = verdict_said(&etc, Login::NotTried, false, none());
    assert_eq!(category, Category::Ok, "{message}");
    assert!(
        message.contains("the key is in /etc/ssh/keys/deploy"),
        "{message}"
    );

    // The key in the second file of the list: sshd reads them all.
    let second = format!(
        "0.keys_file=absent|/home/deploy/.ssh/authorized_keys\n\
         0.stat=deploy|deploy|600|regular file|/home/deploy/.ssh/authorized_keys\n{ETC_KEYS}"
    );
    let both = keys_diagnosis(".ssh/authorized_keys /etc/ssh/keys/%u", "none", &second);
    assert_eq!(verdict(&both, Login::NotTried, false, none()), Category::Ok);

    // In none of them: every file named, with what was found there.
    let nowhere = "0.keys_file=absent|/etc/ssh/keys/deploy\n\
        0.stat=root|root|644|regular file|/etc/ssh/keys/deploy\n\
        0.keys_file=missing|/home/deploy/.ssh/authorized_keys\n";
    let absent = keys_diagnosis("/etc/ssh/keys/%u .ssh/authorized_keys", "none", nowhere);
    let (category, message) = verdict_said(&absent, Login::NotTried, false, none());
    assert_eq!(category, Category::SystemUserKeyNotRegistered);
    assert!(
        message.contains("/etc/ssh/keys/deploy holds other keys; /home/deploy/.ssh/authorized_keys does not exist"),
        "{message}"
    );

    // An AuthorizedKeysCommand may still accept it: not called unregistered. Its arguments
    // (a token, here) are not repeated.
    let command = keys_diagnosis(
        "/etc/ssh/keys/%u .ssh/authorized_keys",
        "/usr/local/bin/keys-from-api --token s3cr3t %u",
        nowhere,
    );
    for login in [Login::NotTried, refused()] {
        let (category, message) = verdict_said(&command, login, false, none());
        assert_eq!(category, Category::AuthFailed);
        assert!(
            message.contains("AuthorizedKeysCommand (/usr/local/bin/keys-from-api)"),
            "{message}"
        );
        assert!(!message.contains("s3cr3t"), "{message}");
    }

    // AuthorizedKeysFile none: no file at all.
    let no_files = keys_diagnosis("none", "none", "");
    let (category, message) = verdict_said(&no_files, Login::NotTried, false, none());
    assert_eq!(category, Category::SystemUserKeyNotRegistered);
    assert!(message.contains("AuthorizedKeysFile none"), "{message}");

    // sshd -T failed: the default files were read, and the message says so.
    let failed = diagnosis(
        |s| {
            s.replace("keys_file=present", "keys_file=absent").replace(
                "0.done=1",
                "0.sshd_error=sshd: no hostkeys available -- exiting.\n0.done=1",
            )
        },
        "",
    );
    let (category, message) = verdict_said(&failed, Login::NotTried, false, none());
    assert_eq!(category, Category::SystemUserKeyNotRegistered);
    assert!(
        message.contains("sshd -T failed: sshd: no hostkeys available"),
        "{message}"
    );
}

#[test]
fn strict_modes_are_judged_on_the_file_that_holds_the_key() {
    let none = Expectations::default;
    // The keys directory writable by its group: StrictModes refuses the file, named.
    let loose = ETC_KEYS.replace(
        "root|root|755|directory|/etc/ssh/keys\n",
        "root|keyadm|775|directory|/etc/ssh/keys\n",
    );
    let d = keys_diagnosis("/etc/ssh/keys/%u", "none", &loose);
    let (category, message) = verdict_said(&d, Login::NotTried, false, none());
    assert_eq!(category, Category::SystemUserHomePermissions);
    assert!(
        message.starts_with("/etc/ssh/keys (owner root, group keyadm, mode 775)"),
        "{message}"
    );
    // Without StrictModes, the same directory is no problem.
    let sshd = "0.sshd=authorizedkeysfile /etc/ssh/keys/%u\n0.sshd=authorizedkeyscommand none\n";
    let lax = diagnosis(
        |s| keys_text(s, &format!("{sshd}{loose}")).replace("strictmodes yes", "strictmodes no"),
        "",
    );
    assert_eq!(verdict(&lax, Login::NotTried, false, none()), Category::Ok);

    // A file the user cannot read (sshd reads it as the user).
    let private = ETC_KEYS.replace("root|root|644|regular file", "root|root|600|regular file");
    let d = keys_diagnosis("/etc/ssh/keys/%u", "none", &private);
    assert_eq!(
        verdict(&d, Login::NotTried, false, none()),
        Category::SystemUserHomePermissions
    );

    // A world-writable home refuses only the files inside it: the key in /etc/ssh/keys is
    // still accepted, the one in ~/.ssh is not.
    let in_home = "0.keys_file=present|/home/deploy/.ssh/authorized_keys\n\
        0.stat=deploy|deploy|600|regular file|/home/deploy/.ssh/authorized_keys\n\
        0.stat=deploy|deploy|700|directory|/home/deploy/.ssh\n0.stat=deploy|deploy|777|directory|/home/deploy\n";
    let d = keys_diagnosis(".ssh/authorized_keys", "none", in_home);
    assert_eq!(
        verdict(&d, Login::NotTried, false, none()),
        Category::SystemUserHomePermissions
    );
    let d = keys_diagnosis(
        ".ssh/authorized_keys /etc/ssh/keys/%u",
        "none",
        &format!("{in_home}{ETC_KEYS}"),
    );
    assert_eq!(verdict(&d, Login::NotTried, false, none()), Category::Ok);
}

#[test]
fn sudo_rules_and_visudo() {
    let want = || Expectations {
        sudo: Some("/usr/bin/systemctl, /usr/bin/journalctl".into()),
        ..Default::default()
    };
    let works = || Login::Works {
        uid: Some(1500),
        how: "publickey ssh-ed25519".into(),
    };
    let granted = diagnosis(
        |s| {
            format!(
                "{s}0.sudo_l=User deploy may run the following commands on web:\n0.sudo_l=    (ALL) NOPASSWD: /usr/bin/systemctl, /usr/bin/journalctl\n"
            )
        },
        "visudo_rc=0\n",
    );
    assert_eq!(verdict(&granted, works(), false, want()), Category::Ok);
    let partial = diagnosis(
        |s| format!("{s}0.sudo_l=    (ALL) NOPASSWD: /usr/bin/systemctl\n"),
        "visudo_rc=0\n",
    );
    assert_eq!(
        verdict(&partial, works(), false, want()),
        Category::SystemUserSudoMissing
    );
    let none = diagnosis(
        |s| format!("{s}0.sudo_l=User deploy is not allowed to run sudo on web.\n"),
        "visudo_rc=0\n",
    );
    assert_eq!(
        verdict(&none, works(), false, want()),
        Category::SystemUserSudoMissing
    );
    let broken = diagnosis(
        |s| s.to_string(),
        "visudo_rc=1\nvisudo=>>> /etc/sudoers.d/deploy: syntax error near line 1 <<<\n",
    );
    assert_eq!(
        verdict(&broken, works(), false, want()),
        Category::SystemUserSudoMissing
    );
}

#[test]
fn the_script_quotes_everything_and_runs_under_sh() {
    let hostile_sudo = Expectations {
        sudo: Some("/bin/echo '; reboot; '".into()),
        ..Default::default()
    };
    let users = [
        credential("root", hostile_sudo),
        credential("prober-no-such-user", Expectations::default()),
    ];
    let requests: Vec<&Credential> = users.iter().collect();
    let script = script(&requests, Some("127.0.0.1".parse().unwrap()));
    assert!(
        script.contains(r"d 0 'root' '' '/bin/echo '\''; reboot; '\'''"),
        "{script}"
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("sh runs");
    let d = parse(&String::from_utf8_lossy(&out.stdout)).expect("marker printed");
    assert!(d.complete, "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(d.users[&0].exists, Some(true));
    assert_eq!(d.users[&0].uid, Some(0));
    assert_eq!(d.users[&1].exists, Some(false));
    assert!(d.users[&0].done && d.users[&1].done);
}

#[test]
fn shadow_days_read_as_dates() {
    assert_eq!(date(0), "1970-01-01");
    assert_eq!(date(1), "1970-01-02");
    assert_eq!(date(19_723), "2024-01-01");
}

/// The script's own expansion of AuthorizedKeysFile, run by sh against files made here: all
/// tokens, `none` skipped, `%u`, `%U` and `%%` in one pass, a relative path against the home,
/// and sshd's compiled-in default when `sshd -T` fails. A shell function stands in for sshd.
#[test]
fn the_script_reads_every_file_of_authorized_keys_file() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().to_str().unwrap();
    // sshd judges where a link leads (realpath), not the link, whose mode is always 777.
    std::fs::create_dir(dir.path().join("keys.real")).unwrap();
    std::os::unix::fs::symlink("keys.real", dir.path().join("keys")).unwrap();
    std::fs::write(
        dir.path().join("keys.real/root"),
        format!("ssh-ed25519 {KEY} held\n"),
    )
    .unwrap();
    // `%%u` is a literal `%u`, not the user's name after `%%` became `%`.
    std::fs::write(
        dir.path().join("root-0-%u"),
        format!("ssh-ed25519 {OTHER_KEY} other\n"),
    )
    .unwrap();
    let fake_sshd = format!(
        "sshd() {{\n  case $3 in\n    user=root,*) printf '%s\\n' 'authorizedkeysfile none .ssh/prober-no-such-file {base}/%u-%U-%%u {base}/keys/%u' 'authorizedkeyscommand none' ;;\n    *) echo 'sshd: no hostkeys available -- exiting.' >&2; return 1 ;;\n  esac\n}}\n"
    );
    let users = [
        credential("root", with_public_key(Expectations::default())),
        credential("nobody", with_public_key(Expectations::default())),
    ];
    let requests: Vec<&Credential> = users.iter().collect();
    let script = script(&requests, Some("127.0.0.1".parse().unwrap())).replacen(
        "d() {",
        &format!("{fake_sshd}d() {{"),
        1,
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let d = parse(&stdout).expect("marker printed");
    assert!(d.complete, "{stdout}");
    let root = &d.users[&0];
    let found: Vec<(&str, Option<KeyState>)> = root
        .keys_files
        .iter()
        .map(|f| (f.path.as_str(), f.key.clone()))
        .collect();
    let (literal, held) = (format!("{base}/root-0-%u"), format!("{base}/keys/root"));
    let relative = format!("{}/.ssh/prober-no-such-file", root.home.as_deref().unwrap());
    assert_eq!(
        found,
        [
            (relative.as_str(), Some(KeyState::Missing)),
            (literal.as_str(), Some(KeyState::Absent)),
            (held.as_str(), Some(KeyState::Present)),
        ],
        "{stdout}"
    );
    // The chain walks from the file, links resolved, up to /, the home being elsewhere.
    let chain: Vec<&str> = root.keys_files[2]
        .chain
        .iter()
        .map(|s| s.path.as_str())
        .collect();
    let real = format!("{base}/keys.real");
    assert_eq!(
        chain.first().copied(),
        Some(format!("{real}/root").as_str())
    );
    assert_eq!(chain.get(1).copied(), Some(real.as_str()));
    assert!(
        root.keys_files[2]
            .chain
            .iter()
            .all(|s| s.kind != "symbolic link")
    );
    assert_eq!(chain.last(), Some(&"/"));
    assert_eq!(root.sshd_error, None);

    let nobody = &d.users[&1];
    assert_eq!(
        nobody.sshd_error.as_deref(),
        Some("sshd: no hostkeys available -- exiting."),
        "{stdout}"
    );
    let home = nobody.home.clone().unwrap();
    let defaults: Vec<String> = nobody.keys_files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(
        defaults,
        [
            format!("{home}/.ssh/authorized_keys"),
            format!("{home}/.ssh/authorized_keys2"),
        ]
    );
}
