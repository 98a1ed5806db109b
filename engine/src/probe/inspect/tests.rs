use super::*;

fn output(stdout: &str) -> Output {
    Output {
        stdout: stdout.as_bytes().to_vec(),
        stderr: Vec::new(),
        status: Some(0),
    }
}

fn report(body: &str) -> Report {
    parse(&output(&format!("{MARKER}\n{body}\nend\n"))).unwrap()
}

const HEALTHY_SUDO: &str = "id=uid=1000(admin) gid=1000(admin) groups=1000(admin),100(users)\n\
    sudo_rc=0\nsudo_out=0\npython=/usr/bin/python3\ntmp=/tmp\nuname=web-1 6.1.0-18-amd64 x86_64\n\
    cpus_online=0-3\n\
    meminfo=MemTotal:        8039448 kB\nos_PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nos_ID=debian\nos_VERSION_ID=\"12\"";

#[test]
fn a_healthy_sudo_admin() {
    let r = report(HEALTHY_SUDO);
    assert!(r.complete);
    let mut obs = Observations::default();
    let message = judge(&r, &mut obs).unwrap();
    assert!(message.contains("as admin with sudo NOPASSWD"), "{message}");
    assert_eq!(obs.uid, Some(1000));
    assert_eq!(obs.sudo, Some(Sudo::NoPassword));
    let facts = obs.facts.unwrap();
    assert_eq!(facts.os.as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
    assert_eq!(facts.os_version.as_deref(), Some("12"));
    assert_eq!(facts.memory_mb, Some(7851));
    assert_eq!(facts.cpus, Some(4));
    assert_eq!(facts.hostname.as_deref(), Some("web-1"));
    assert_eq!(facts.arch.as_deref(), Some("x86_64"));
    assert_eq!(r.groups, ["admin", "users"]);
}

#[test]
fn id_without_names_and_cpu_lists() {
    let r = report("id=uid=1234 gid=1234 groups=1234,27(sudo) context=unconfined_u");
    assert_eq!((r.uid, r.user.as_deref()), (Some(1234), None));
    assert_eq!(r.groups, ["1234", "sudo"]);
    assert_eq!(cpu_count("0-3,8-11"), Some(8));
    assert_eq!(cpu_count("0"), Some(1));
    assert_eq!(cpu_count("3-1"), None);
    assert_eq!(cpu_count("x"), None);
}

fn verdict(body: &str) -> Category {
    match judge(&report(body), &mut Observations::default()) {
        Ok(_) => Category::Ok,
        Err(f) => f.category,
    }
}

#[test]
fn sudo_answers() {
    let base = "python=/usr/bin/python3\ntmp=/tmp\n";
    assert_eq!(
        verdict(&format!(
            "{base}id=uid=1000(admin) gid=1000(admin) groups=1000(admin),27(sudo)\nsudo_rc=1\nsudo_out=sudo: a password is required\n\
             sudo_v=sudo: a password is required"
        )),
        Category::SudoPasswordRequired
    );
    assert_eq!(
        verdict(&format!(
            "{base}id=uid=1000(admin) gid=1000(admin) groups=1000(admin)\nsudo_rc=1\nsudo_out=sudo: a password is required\n\
             sudo_v=Sorry, user admin may not run sudo on web-1."
        )),
        Category::AdminNotPrivileged
    );
    assert_eq!(
        verdict(&format!(
            "{base}id=uid=1000(admin) gid=1000(admin) groups=1000(admin)\nsudo_rc=1\nsudo_out=sudo: sorry, you must have a tty to run sudo"
        )),
        Category::SudoRequiretty
    );
    assert_eq!(
        verdict(&format!(
            "{base}id=uid=1000(admin) gid=1000(admin) groups=1000(admin),10(wheel)\nsudo_rc=1\nsudo_out=admin is not in the sudoers file.  This incident will be reported."
        )),
        Category::AdminNotPrivileged
    );
    assert_eq!(
        verdict(&format!(
            "{base}id=uid=1000(admin) gid=1000(admin) groups=1000(admin)\nsudo_rc=absent"
        )),
        Category::AdminNotPrivileged
    );
    assert_eq!(
        verdict(&format!(
            "{base}id=uid=1000(admin) gid=1000(admin) groups=1000(admin)\nsudo_rc=0\nsudo_out=sudo: unable to resolve host web-1: Name or service not known\nsudo_out=0"
        )),
        Category::Ok
    );
    assert_eq!(
        verdict("id=uid=0(root) gid=0(root) groups=0(root)\npython=/usr/bin/python3\ntmp=/tmp"),
        Category::Ok
    );
}

#[test]
fn python_then_tmp() {
    assert_eq!(
        verdict("id=uid=0(root) gid=0(root) groups=0(root)\ntmp=/tmp"),
        Category::PythonMissing
    );
    assert_eq!(
        verdict("id=uid=0(root) gid=0(root) groups=0(root)\npython=/usr/libexec/platform-python"),
        Category::TmpNotWritable
    );
}

#[test]
fn nologin_shell_output_is_shell_unavailable() {
    let out = Output {
        stdout: b"This account is currently not available.\n".to_vec(),
        stderr: Vec::new(),
        status: Some(1),
    };
    let failure = parse(&out).unwrap_err();
    assert_eq!(failure.category, Category::ShellUnavailable);
    assert!(
        failure
            .message
            .contains("This account is currently not available."),
        "{}",
        failure.message
    );
    let silent = Output {
        status: Some(1),
        ..Default::default()
    };
    assert!(parse(&silent).unwrap_err().message.contains("no output"));
}

#[test]
fn output_cut_short_is_not_judged_as_missing_python() {
    let cut = parse(&output(&format!(
        "{MARKER}\nid=uid=0(root) gid=0(root) groups=0(root)\n"
    )))
    .unwrap();
    let failure = judge(&cut, &mut Observations::default()).unwrap_err();
    assert_eq!(failure.category, Category::SshProtocolError);
}

#[test]
fn login_noise_before_the_marker_is_ignored() {
    let r = parse(&output(&format!(
        "Last login: yesterday\n{MARKER}\nid=uid=0(root) gid=0(root) groups=0(root)\nend\n"
    )))
    .unwrap();
    assert_eq!(r.uid, Some(0));
}

/// The script itself, run by the local `sh`: it must parse and report this machine.
#[test]
fn the_script_runs_under_posix_sh() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("sh")
        .arg("-s")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(SCRIPT.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let r = parse(&Output {
        stdout: out.stdout,
        stderr: out.stderr,
        status: out.status.code().map(|c| c as u32),
    })
    .unwrap();
    assert!(r.complete, "{r:?}");
    let uid = Command::new("id").arg("-u").output().unwrap();
    assert_eq!(
        r.uid,
        String::from_utf8_lossy(&uid.stdout).trim().parse().ok()
    );
    assert!(r.facts.kernel.is_some() && r.facts.arch.is_some() && r.facts.cpus.is_some());
}
