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
    0.stat=deploy|deploy|700|directory|/home/deploy\n0.stat=deploy|deploy|700|directory|/home/deploy/.ssh\n\
    0.stat=deploy|deploy|600|regular file|/home/deploy/.ssh/authorized_keys\n0.key=present\n0.done=1\n";

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
    let cred = Credential {
        password: by_password.then(|| Ok(Secret::new("pw".into()))),
        ..credential("deploy", expect)
    };
    let ctx = Context {
        credential: &cred,
        client_addr: Some("10.0.0.9".parse().unwrap()),
    };
    match judge(&ctx, &login, &d.users[&0], d) {
        Ok(_) => Category::Ok,
        Err(f) => f.category,
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
    assert_eq!(f.stats[2].mode, 0o600);
    assert_eq!(f.stats[2].kind, "regular file");
    assert_eq!(f.key.as_deref(), Some("present"));
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
            Box::new(replace("key=present", "key=absent")),
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
