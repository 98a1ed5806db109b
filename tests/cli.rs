//! The command line as operators use it: inventory styles, credentials modes, output
//! formats, exit statuses, `explain` and `demo`.

use std::collections::{BTreeMap, BTreeSet};

use crate::util::{args, prober, prober_with_env};
use fixtures::lab::{Lab, scenarios};
use prober_engine::inventory::exports::JUMPSERVER_1_4_ZH;
use prober_engine::report::Record;

async fn lab() -> Lab {
    Lab::start(&[scenarios::OK_ROOT]).await.unwrap()
}

#[tokio::test]
async fn usage_errors_exit_2_with_a_clear_message() {
    let lab = lab().await;
    let run = prober([
        "check",
        "/nonexistent/inventory.csv",
        "--user",
        "root",
        "--password-env",
        "X",
    ])
    .await;
    assert_eq!(run.status, 2);
    assert!(
        run.stderr
            .contains("cannot read inventory /nonexistent/inventory.csv"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stderr.matches("No such file or directory").count(),
        1,
        "the cause is said once: {}",
        run.stderr
    );

    let bad = lab.dir().join("bad.toml");
    std::fs::write(
        &bad,
        "[credentials.x]\nusername = \"root\"\npassword_fiel = \"p\"\n",
    )
    .unwrap();
    let run = prober(args([
        "check".as_ref(),
        lab.inventory().as_os_str(),
        "--credentials".as_ref(),
        bad.as_os_str(),
    ]))
    .await;
    assert_eq!(run.status, 2);
    assert!(
        run.stderr.contains("bad.toml") && run.stderr.contains("password_fiel"),
        "{}",
        run.stderr
    );

    let no_host = lab.dir().join("nohost.csv");
    std::fs::write(&no_host, "name,port\nx,22\n").unwrap();
    let run = prober(args([
        "check".as_ref(),
        no_host.as_os_str(),
        "--credentials".as_ref(),
        lab.credentials().as_os_str(),
    ]))
    .await;
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("no host column"), "{}", run.stderr);

    // No credential at all: what ssh would try, and in an empty HOME without an agent
    // there is nothing, said once and recorded without connecting.
    let run = prober(args(["check".as_ref(), lab.inventory().as_os_str()])).await;
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("credential `ssh defaults` cannot be used: no credential"),
        "{}",
        run.stderr
    );

    let mut argv = lab.check_args();
    argv.extend(args(["--user", " ", "--password-env", "X"]));
    let run = prober(argv).await;
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("username is empty"), "{}", run.stderr);
    let run = prober(["explain", "no_such_category"]).await;
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("unknown category"));
}

#[tokio::test]
async fn bad_rows_are_reported_and_the_rest_still_probed() {
    let lab = lab().await;
    let port = lab.port(&scenarios::OK_ROOT);
    let inventory = lab.dir().join("mixed.csv");
    std::fs::write(
        &inventory,
        format!(
            "name,host,port,admin_user\n\
             good,127.0.0.1,{port},lab-root\n\
             semicolon,a;reboot,22,lab-root\n\
             subshell,$(id),22,lab-root\n\
             dots,../x,22,lab-root\n\
             long,{long},22,lab-root\n\
             big-port,127.0.0.1,70000,lab-root\n\
             nobody,127.0.0.1,{port},missing-credential\n\
             good-again,127.0.0.1,{port},lab-root\n",
            long = "a".repeat(200)
        ),
    )
    .unwrap();
    let mut argv = lab.check_args_for(&inventory);
    argv.extend(args(["--format", "jsonl", "--quiet"]));
    let run = prober(argv).await;
    assert_eq!(run.status, 1);
    let records = run.records();
    assert_eq!(records.len(), 8);
    for (name, field, line) in [
        ("semicolon", "host", 3),
        ("subshell", "host", 4),
        ("dots", "host", 5),
        ("long", "host", 6),
        ("big-port", "port", 7),
        ("nobody", "admin_user", 8),
    ] {
        let r = run.record(name);
        assert_eq!(r["category"], "inventory_invalid", "{r:#}");
        let message = r["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("line {line}, field {field}")),
            "{message}"
        );
        assert_eq!(r["ip"], serde_json::Value::Null, "never connected: {r:#}");
    }
    assert_eq!(run.record("good")["category"], "ok");
    assert_eq!(run.record("good-again")["category"], "ok");
    assert_eq!(
        connections(&lab),
        2,
        "only the good rows reached the server"
    );
}

/// Connections the lab's ok-root server accepted.
fn connections(lab: &Lab) -> usize {
    lab.stats(scenarios::OK_ROOT.name)
        .connections
        .load(std::sync::atomic::Ordering::SeqCst)
}

#[tokio::test]
async fn simple_mode_with_a_plain_host_list_and_secrets_from_env_or_file() {
    let lab = lab().await;
    let list = lab.dir().join("hosts.txt");
    std::fs::write(
        &list,
        format!("# targets\n127.0.0.1:{}\n", lab.port(&scenarios::OK_ROOT)),
    )
    .unwrap();
    let password = std::fs::read_to_string(lab.dir().join("secrets/root.password")).unwrap();
    let known_hosts = lab.known_hosts();
    let base = args([
        "check".as_ref(),
        list.as_os_str(),
        "--user".as_ref(),
        "root".as_ref(),
        "--known-hosts".as_ref(),
        known_hosts.as_os_str(),
        "--format".as_ref(),
        "jsonl".as_ref(),
        "--quiet".as_ref(),
    ]);
    let mut with_env = base.clone();
    with_env.extend(args(["--password-env", "PROBER_TEST_PW"]));
    let run = prober_with_env(with_env, &[("PROBER_TEST_PW", &password)]).await;
    assert_eq!(run.record("127.0.0.1")["category"], "ok", "{}", run.stderr);
    assert!(
        !run.stdout.contains(&password) && !run.stderr.contains(&password),
        "secret leaked"
    );

    let mut with_file = base.clone();
    with_file.extend(args([
        "--password-file".as_ref(),
        lab.dir().join("secrets/root.password").as_os_str(),
    ]));
    let run = prober(with_file).await;
    assert_eq!(run.record("127.0.0.1")["category"], "ok", "{}", run.stderr);
    assert_eq!(run.status, 0);
}

#[tokio::test]
async fn jumpserver_exports_map_admin_users_to_credentials() {
    let lab = lab().await;
    let port = lab.port(&scenarios::OK_ROOT);
    let v1 = lab.dir().join("jumpserver-1.4.csv");
    std::fs::write(
        &v1,
        format!(
            "\u{feff}{JUMPSERVER_1_4_ZH}\n\
             1,127.0.0.1,数据库-1,ssh,{port},Linux,,True,lab-root,,\n\
             2,127.0.0.1,停用-2,ssh,{port},Linux,,False,lab-root,,\n"
        ),
    )
    .unwrap();
    let mut argv = lab.check_args_for(&v1);
    argv.extend(args(["--format", "jsonl", "--quiet"]));
    let run = prober(argv).await;
    assert_eq!(run.record("数据库-1")["category"], "ok", "{}", run.stdout);
    assert_eq!(run.record("停用-2")["category"], "skipped");
    assert_eq!(run.status, 0, "skipped assets do not fail the run");
}

#[tokio::test]
async fn output_formats_and_languages() {
    let lab = Lab::start(&[scenarios::OK_ROOT, scenarios::TCP_REFUSED])
        .await
        .unwrap();
    let run_with = |extra: &[&str]| {
        let mut argv = lab.check_args();
        argv.extend(args(["--quiet"]));
        argv.extend(args(extra));
        prober(argv)
    };

    let csv = run_with(&["--format", "csv"]).await;
    let mut lines = csv.stdout.lines();
    assert_eq!(lines.next().unwrap(), Record::FIELDS.join(","));
    assert_eq!(lines.count(), 2);
    assert!(csv.stdout.contains("\"publickey,password\""));

    let json = run_with(&["--format", "json"]).await;
    let array: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON array");
    assert_eq!(array.as_array().unwrap().len(), 2);

    let table = run_with(&[]).await;
    assert!(table.stdout.starts_with("NAME"));
    assert!(table.stdout.contains("tcp-refused") && table.stdout.contains("HOW TO FIX"));
    let table = run_with(&["--lang", "zh"]).await;
    assert!(table.stdout.starts_with("名称"));
    assert!(table.stdout.contains("tcp-refused") && table.stdout.contains("处理建议"));
    assert!(table.stdout.contains("连接被拒绝"), "{}", table.stdout);

    let out = lab.dir().join("results.jsonl");
    let file = run_with(&["--format", "jsonl", "--output", out.to_str().unwrap()]).await;
    assert!(file.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 2);
    assert_eq!(file.status, 1);

    let mut argv = lab.check_args();
    argv.extend(args(["--format", "jsonl"]));
    let summary = prober(argv).await;
    assert!(summary.stderr.contains("2 assets in"), "{}", summary.stderr);
    assert!(summary.stderr.contains("tcp_refused"), "{}", summary.stderr);
    assert!(
        !summary.stderr.contains('\u{1b}'),
        "no progress bar when stderr is not a terminal"
    );
}

#[tokio::test]
async fn explain_prints_meaning_and_hints() {
    let run = prober(["explain", "sudo_requiretty"]).await;
    assert_eq!(run.status, 0);
    assert!(run.stdout.contains("stage:   inspect") && run.stdout.contains("requiretty"));
    let zh = prober(["explain", "python_missing", "--lang", "zh"]).await;
    assert!(zh.stdout.contains("安装 python3"), "{}", zh.stdout);
    let list = prober(["explain", "--list"]).await;
    assert!(list.stdout.lines().count() >= 30);
    let md = prober(["explain", "--list", "--format", "md"]).await;
    assert_eq!(md.status, 0, "{}", md.stderr);
    assert!(
        md.stdout
            .starts_with("| category | stage | meaning |\n|---|---|---|\n")
    );
    assert!(
        md.stdout.contains("| `sudo_requiretty` | inspect | "),
        "{}",
        md.stdout
    );
    let without_list = prober(["explain", "ok", "--format", "md"]).await;
    assert_eq!(without_list.status, 2, "--format goes with --list");
}

#[tokio::test]
async fn explain_takes_ids_as_people_type_them_and_suggests_the_closest() {
    for typed in ["AUTH_FAILED", "auth-failed"] {
        let run = prober(["explain", typed]).await;
        assert_eq!(run.status, 0, "{typed}: {}", run.stderr);
        assert!(run.stdout.starts_with("auth_failed\n"), "{}", run.stdout);
    }
    let near = prober(["explain", "sudo_require_tty"]).await;
    assert_eq!(near.status, 2);
    assert!(
        near.stderr.contains("did you mean `sudo_requiretty`?"),
        "{}",
        near.stderr
    );
}

#[tokio::test]
async fn demo_shows_every_failure_mode_correctly() {
    let run = prober(["demo", "--format", "jsonl", "--quiet"]).await;
    assert_eq!(run.status, 0, "{}", run.stderr);
    let got: BTreeMap<String, String> = run
        .records()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["category"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for scenario in scenarios::ALL {
        assert_eq!(
            got.get(scenario.name).map(String::as_str),
            Some(scenario.expected.id()),
            "{}",
            scenario.name
        );
    }
    let distinct: BTreeSet<&String> = got.values().collect();
    assert!(distinct.len() >= 15, "{distinct:?}");
}

/// An ssh-agent of this test's own, holding the lab's admin key.
struct Agent {
    child: std::process::Child,
    socket: std::path::PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_agent(dir: &std::path::Path, key: &std::path::Path) -> Agent {
    use std::process::{Command, Stdio};
    let socket = dir.join("agent.sock");
    let child = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ssh-agent (openssh-client) runs");
    let agent = Agent { child, socket };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let added = Command::new("ssh-add")
            .arg("-q")
            .arg(key)
            .env("SSH_AUTH_SOCK", &agent.socket)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if added {
            return agent;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "ssh-agent never accepted the key"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[tokio::test]
async fn agent_keys_log_in() {
    let lab = Lab::start(&[scenarios::OK_SUDO]).await.unwrap();
    let agent = start_agent(lab.dir(), &lab.dir().join("secrets/admin_ed25519"));
    let list = lab.dir().join("hosts.txt");
    std::fs::write(
        &list,
        format!("127.0.0.1:{}\n", lab.port(&scenarios::OK_SUDO)),
    )
    .unwrap();
    let argv = args([
        "check".as_ref(),
        list.as_os_str(),
        "--user".as_ref(),
        "admin".as_ref(),
        "--agent".as_ref(),
        "--known-hosts".as_ref(),
        lab.known_hosts().as_os_str(),
        "--format".as_ref(),
        "jsonl".as_ref(),
        "--quiet".as_ref(),
    ]);
    let run = prober_with_env(argv, &[("SSH_AUTH_SOCK", agent.socket.to_str().unwrap())]).await;
    let r = run.record("127.0.0.1");
    assert_eq!(r["category"], "ok", "{r:#}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("agent key ssh-ed25519"),
        "{r:#}"
    );
}

#[tokio::test]
async fn hostile_system_user_names_are_refused_before_any_connection() {
    let lab = lab().await;
    let port = lab.port(&scenarios::OK_ROOT);
    let credentials = lab.dir().join("hostile.toml");
    let long = "a".repeat(200);
    std::fs::write(
        &credentials,
        format!(
            "[credentials.lab-root]\nusername = \"root\"\npassword_file = \"secrets/root.password\"\n\
             [credentials.semicolon]\nusername = \"a;reboot\"\npassword = \"x\"\n\
             [credentials.subshell]\nusername = \"$(id)\"\npassword = \"x\"\n\
             [credentials.dots]\nusername = \"../x\"\npassword = \"x\"\n\
             [credentials.long]\nusername = \"{long}\"\npassword = \"x\"\n"
        ),
    )
    .unwrap();
    let inventory = lab.dir().join("hostile.csv");
    std::fs::write(
        &inventory,
        format!(
            "name,host,port,admin_user,system_users\n\
             by-semicolon,127.0.0.1,{port},lab-root,semicolon\n\
             by-subshell,127.0.0.1,{port},lab-root,subshell\n\
             by-dots,127.0.0.1,{port},lab-root,dots\n\
             by-long,127.0.0.1,{port},lab-root,long\n\
             named-hostile,127.0.0.1,{port},lab-root,a;reboot\n\
             named-subshell,127.0.0.1,{port},lab-root,$(id)\n"
        ),
    )
    .unwrap();
    let mut argv = lab.check_args_for(&inventory);
    argv.extend(args([
        "--credentials".as_ref(),
        credentials.as_os_str(),
        "--format".as_ref(),
        "jsonl".as_ref(),
        "--quiet".as_ref(),
    ]));
    let run = prober(argv).await;
    assert_eq!(run.status, 1);
    let records = run.records();
    assert_eq!(records.len(), 6, "{}", run.stdout);
    for r in &records {
        assert_eq!(r["category"], "inventory_invalid", "{r:#}");
        assert_eq!(r["ip"], serde_json::Value::Null, "never connected: {r:#}");
        assert!(
            r["message"]
                .as_str()
                .unwrap()
                .contains("field system_users"),
            "{r:#}"
        );
    }
    assert_eq!(connections(&lab), 0, "no row reached the server");
    assert!(
        run.record("by-semicolon")["message"]
            .as_str()
            .unwrap()
            .contains("POSIX portable")
    );
    assert!(
        run.record("by-long")["message"]
            .as_str()
            .unwrap()
            .contains("at most 32")
    );
    assert!(
        run.record("named-hostile")["message"]
            .as_str()
            .unwrap()
            .contains("unknown credential")
    );
}

#[tokio::test]
async fn junit_reports_one_case_per_result() {
    let lab = Lab::start(&[
        scenarios::OK_ROOT,
        scenarios::TCP_REFUSED,
        scenarios::INACTIVE,
    ])
    .await
    .unwrap();
    let mut argv = lab.check_args();
    argv.extend(args(["--format", "junit", "--quiet"]));
    let run = prober(argv).await;
    assert_eq!(run.status, 1);
    let xml = run.stdout;
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<testsuite name=\"prober check\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""
        ),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), 3);
    assert!(xml.contains("<failure type=\"tcp_refused\""), "{xml}");
    assert!(
        xml.contains("category: tcp_refused"),
        "the whole record: {xml}"
    );
    assert!(xml.trim_end().ends_with("</testsuites>"));
}

#[tokio::test]
async fn prepush_refuses_names_no_push_could_use() {
    let lab = lab().await;
    for (name, said) in [("root", "never pushed"), ("a;reboot", "POSIX portable")] {
        let mut argv = lab.check_args();
        argv[0] = "prepush".into();
        argv.extend(args(["--system-user", name]));
        let run = prober(argv).await;
        assert_eq!(run.status, 2, "{name}: {}", run.stderr);
        assert!(run.stderr.contains(said), "{}", run.stderr);
    }
}

/// `prober … | head`: a reader that closes our stdout has what it wanted. The run ends
/// quietly with 0 instead of reporting a write error.
#[tokio::test]
async fn a_closed_stdout_ends_the_run_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    // Rows that are invalid before any connection: thousands of results at once, far more
    // than a pipe holds, so the prober is still writing when the reader goes away.
    let list = dir.path().join("hosts.txt");
    std::fs::write(&list, "bad host!\n".repeat(5000)).unwrap();
    let mut child = crate::util::prober_command()
        .args(["check".as_ref(), list.as_os_str()])
        .args([
            "--user",
            "root",
            "--password-env",
            "UNSET",
            "--format",
            "jsonl",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("inventory_invalid"), "{first}");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("prober:"), "no error line: {stderr}");
}
