//! Every category the in-process fixtures can produce, end to end: the real `prober`
//! binary against fake servers on loopback, asserting the category and the fields that
//! explain it.

use crate::util::probe_lab;
use fixtures::lab::scenarios::{self, Scenario};
use fixtures::lab::{DEPLOY_UID, KEY_PASSPHRASE};
use prober_engine::report::Record;
use serde_json::{Value, json};

/// Probes one scenario and returns its record, after checking it got `expected`.
async fn verdict(scenario: Scenario, extra: &[&str]) -> Value {
    let (_lab, run) = probe_lab(&[scenario], extra).await;
    let record = run.record(scenario.name);
    assert_eq!(
        record["category"],
        scenario.expected.id(),
        "{record:#}\nstderr: {}",
        run.stderr
    );
    let want_status = i32::from(scenario.expected.needs_action());
    assert_eq!(run.status, want_status, "exit status for {}", scenario.name);
    record
}

#[tokio::test]
async fn ok_as_root_reports_everything_it_learned() {
    let (_lab, run) = probe_lab(&[scenarios::OK_ROOT], &[]).await;
    assert_eq!(run.status, 0, "{}", run.stderr);
    let r = run.record("ok-root");
    assert_eq!(r["category"], "ok", "{r:#}");
    // Exactly these keys, in this order, on the wire (serde_json's map sorts them, so
    // look at the raw line).
    // The interface, written out: consumers rely on exactly these keys in this order.
    let order = [
        "name",
        "system_user",
        "host",
        "port",
        "ip",
        "category",
        "stage",
        "message",
        "hint",
        "banner",
        "kex",
        "cipher",
        "host_key_alg",
        "host_key_fingerprint",
        "auth_methods",
        "uid",
        "sudo",
        "python",
        "facts",
        "duration_ms",
        "admin_user",
        "gateway",
        "system_users",
        "asset_id",
        "nodes",
        "ssh_config",
    ];
    assert_eq!(order, Record::FIELDS);
    assert_eq!(r.as_object().unwrap().len(), order.len(), "{r:#}");
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("\"ok-root\""))
        .unwrap();
    let positions: Vec<usize> = order
        .iter()
        .map(|k| {
            line.find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("no key {k} in {line}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "keys out of order: {line}"
    );
    assert_eq!(r["stage"], "done");
    assert_eq!(r["ip"], "127.0.0.1");
    assert_eq!(r["banner"], "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
    assert_eq!(r["kex"], "curve25519-sha256");
    assert_eq!(r["host_key_alg"], "ssh-ed25519");
    assert!(
        r["host_key_fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("SHA256:")
    );
    assert!(r["cipher"].is_string());
    assert_eq!(r["auth_methods"], json!(["publickey", "password"]));
    assert_eq!(r["uid"], 0);
    assert_eq!(r["sudo"], "root");
    assert_eq!(r["python"], "/usr/bin/python3");
    // What probing it again takes, as the inventory row said.
    assert_eq!(r["admin_user"], "lab-root");
    assert_eq!(r["gateway"], json!(null));
    assert_eq!(r["system_users"], json!([]));
    assert_eq!((&r["asset_id"], &r["nodes"]), (&json!(null), &json!([])));
    assert_eq!(r["facts"]["hostname"], "ok-root");
    assert_eq!(r["facts"]["os"], "Debian GNU/Linux 12 (bookworm)");
    assert_eq!(r["facts"]["memory_mb"], 2000);
    assert!(r["message"].as_str().unwrap().contains("with password"));
}

#[tokio::test]
async fn ok_with_key_and_nopasswd_sudo() {
    let r = verdict(scenarios::OK_SUDO, &[]).await;
    assert_eq!(r["uid"], 1000);
    assert_eq!(r["sudo"], "nopasswd");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("publickey ssh-ed25519"),
        "{r:#}"
    );
}

#[tokio::test]
async fn dns_categories_through_an_in_process_nameserver() {
    let scenarios = [
        scenarios::DNS_OK,
        scenarios::DNS_NXDOMAIN,
        scenarios::DNS_NO_RECORDS,
        scenarios::DNS_TIMEOUT,
        scenarios::DNS_ERROR,
    ];
    let (_lab, run) = probe_lab(&scenarios, &[]).await;
    for scenario in scenarios {
        let r = run.record(scenario.name);
        assert_eq!(r["category"], scenario.expected.id(), "{r:#}");
        if scenario == scenarios::DNS_OK {
            assert_eq!(r["ip"], "127.0.0.1");
        } else {
            assert_eq!(r["stage"], "resolve");
            assert_eq!(r["ip"], Value::Null);
        }
    }
}

#[tokio::test]
async fn tcp_refused_and_timeout() {
    let r = verdict(scenarios::TCP_REFUSED, &[]).await;
    assert_eq!(r["stage"], "connect");
    assert!(r["message"].as_str().unwrap().contains("refused"));
    let r = verdict(scenarios::TCP_TIMEOUT, &[]).await;
    assert_eq!(r["stage"], "connect");
    assert_eq!(r["banner"], Value::Null);
}

#[tokio::test]
async fn failures_around_the_banner() {
    let scenarios = [
        scenarios::RESET_BEFORE_BANNER,
        scenarios::CLOSED_BEFORE_BANNER,
        scenarios::BANNER_TIMEOUT,
        scenarios::NOT_SSH,
        scenarios::SSH1,
    ];
    let (_lab, run) = probe_lab(&scenarios, &[]).await;
    for scenario in scenarios {
        let r = run.record(scenario.name);
        assert_eq!(r["category"], scenario.expected.id(), "{r:#}");
        assert_eq!(r["stage"], "banner");
        assert_eq!(r["ip"], "127.0.0.1");
    }
    assert_eq!(
        run.record("http-on-22")["banner"],
        "HTTP/1.1 400 Bad Request"
    );
    assert_eq!(run.record("ssh1-only")["banner"], "SSH-1.5-OpenSSH_3.4p1");
    assert_eq!(run.record("reset-before-banner")["banner"], Value::Null);
}

#[tokio::test]
async fn garbage_after_the_banner_is_a_protocol_error() {
    let r = verdict(scenarios::PROTOCOL_ERROR, &[]).await;
    assert_eq!(r["banner"], "SSH-2.0-Broken_1.0");
    assert_eq!(r["stage"], "kex");
}

#[tokio::test]
async fn legacy_kex_fails_by_default_and_works_with_compat_legacy() {
    let r = verdict(scenarios::LEGACY_KEX, &[]).await;
    let message = r["message"].as_str().unwrap();
    assert!(
        message.contains("no common key exchange algorithm"),
        "{message}"
    );
    assert!(
        message.contains("their offer: diffie-hellman-group1-sha1,diffie-hellman-group14-sha1"),
        "{message}"
    );
    assert!(
        !message.contains("ext-info"),
        "pseudo-algorithms are not listed: {message}"
    );

    let (_lab, run) = probe_lab(&[scenarios::LEGACY_KEX], &["--compat", "legacy"]).await;
    let r = run.record("legacy-kex");
    assert_eq!(r["category"], "ok", "{r:#}");
    assert_eq!(r["kex"], "diffie-hellman-group14-sha1");
    assert_eq!(run.status, 0);
}

#[tokio::test]
async fn host_keys_changed_unknown_and_learned() {
    let r = verdict(scenarios::HOSTKEY_CHANGED, &[]).await;
    assert!(
        r["host_key_fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("SHA256:")
    );
    assert!(
        r["message"].as_str().unwrap().contains("known_hosts:1"),
        "{r:#}"
    );

    let (lab, run) = probe_lab(&[scenarios::OK_ROOT], &["--host-key-check", "strict"]).await;
    let r = run.record("ok-root");
    assert_eq!(r["category"], "hostkey_unknown", "{r:#}");
    assert!(r["host_key_fingerprint"].is_string());
    assert_eq!(r["uid"], Value::Null, "no later stage runs");

    // accept-new records the key; a strict run then knows it.
    let mut argv = lab.check_args();
    argv.extend(crate::util::args(["--format", "jsonl", "--quiet"]));
    let learned = crate::util::prober(argv.clone()).await;
    assert_eq!(learned.record("ok-root")["category"], "ok");
    let known_hosts = std::fs::read_to_string(lab.known_hosts()).unwrap();
    assert!(
        known_hosts.contains("[127.0.0.1]:") && known_hosts.contains("ssh-ed25519"),
        "{known_hosts}"
    );
    argv.extend(crate::util::args(["--host-key-check", "strict"]));
    let strict = crate::util::prober(argv).await;
    assert_eq!(strict.record("ok-root")["category"], "ok");
}

#[tokio::test]
async fn authentication_failures_record_the_servers_methods() {
    let r = verdict(scenarios::WRONG_PASSWORD, &[]).await;
    assert_eq!(r["auth_methods"], json!(["publickey", "password"]));
    assert_eq!(r["stage"], "auth");

    let r = verdict(scenarios::PUBKEY_ONLY, &[]).await;
    assert_eq!(r["auth_methods"], json!(["publickey"]));

    let r = verdict(scenarios::PARTIAL_AUTH, &[]).await;
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("requires more: password"),
        "{r:#}"
    );
}

#[tokio::test]
async fn credential_problems() {
    let r = verdict(scenarios::KEY_UNREADABLE, &[]).await;
    assert!(r["message"].as_str().unwrap().contains("no_such_key"));
    verdict(scenarios::KEY_ENCRYPTED, &[]).await;
    let r = verdict(scenarios::CREDENTIAL_UNAVAILABLE, &[]).await;
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("PROBER_LAB_UNSET_PASSWORD is not set")
    );
}

#[tokio::test]
async fn an_encrypted_key_with_its_passphrase_logs_in() {
    let lab = fixtures::lab::Lab::start(&[scenarios::OK_SUDO])
        .await
        .unwrap();
    let inventory = lab.dir().join("inv.csv");
    let row = &lab.rows()[0];
    std::fs::write(
        &inventory,
        format!(
            "name,host,port,admin_user\nencrypted,{},{},lab-admin-encrypted-key-with-passphrase\n",
            row.host, row.port
        ),
    )
    .unwrap();
    let mut argv = lab.check_args_for(&inventory);
    argv.extend(crate::util::args(["--format", "jsonl", "--quiet"]));
    let run =
        crate::util::prober_with_env(argv, &[("PROBER_LAB_KEY_PASSPHRASE", KEY_PASSPHRASE)]).await;
    assert_eq!(run.record("encrypted")["category"], "ok", "{}", run.stdout);
}

#[tokio::test]
async fn inspection_verdicts() {
    let scenarios = [
        scenarios::NOLOGIN,
        scenarios::EXEC_REFUSED,
        scenarios::NOT_PRIVILEGED,
        scenarios::SUDO_PASSWORD,
        scenarios::REQUIRE_TTY,
        scenarios::NO_PYTHON,
        scenarios::TMP_READONLY,
        scenarios::EXEC_HANG,
    ];
    let (_lab, run) = probe_lab(&scenarios, &[]).await;
    for scenario in scenarios {
        let r = run.record(scenario.name);
        assert_eq!(r["category"], scenario.expected.id(), "{r:#}");
        assert_eq!(r["stage"], "inspect", "{r:#}");
    }
    assert!(
        run.record("nologin-admin")["message"]
            .as_str()
            .unwrap()
            .contains("This account is currently not available.")
    );
    let sudo = run.record("sudo-password");
    assert_eq!(sudo["sudo"], "password_required");
    assert_eq!(sudo["uid"], 1000);
    assert_eq!(run.record("not-privileged")["sudo"], "denied");
    assert_eq!(run.record("sudo-requiretty")["sudo"], "requiretty");
    assert_eq!(run.record("no-python")["python"], Value::Null);
    assert_eq!(run.record("tmp-readonly")["python"], "/usr/bin/python3");
    assert!(
        run.record("exec-hangs")["message"]
            .as_str()
            .unwrap()
            .contains("did not finish")
    );
}

#[tokio::test]
async fn a_tight_deadline_is_timeout_not_a_stage_failure() {
    let (_lab, run) = probe_lab(
        &[scenarios::BANNER_TIMEOUT],
        &["--banner-timeout", "30s", "--timeout", "1s"],
    )
    .await;
    let r = run.record("banner-timeout");
    assert_eq!(r["category"], "timeout", "{r:#}");
    assert_eq!(r["stage"], "banner");
}

#[tokio::test]
async fn system_users_get_a_result_each_beside_the_asset() {
    let (_lab, run) = probe_lab(&[scenarios::SYSTEM_USERS], &[]).await;
    let records = run.records();
    assert_eq!(records.len(), 3, "{}", run.stdout);
    let asset = records.iter().find(|r| r["system_user"].is_null()).unwrap();
    assert_eq!(asset["category"], "ok", "{asset:#}");
    let deploy = records
        .iter()
        .find(|r| r["system_user"] == "lab-deploy")
        .unwrap();
    assert_eq!(deploy["category"], "ok", "{deploy:#}");
    assert_eq!(deploy["name"], "with-system-users");
    assert!(
        deploy["message"]
            .as_str()
            .unwrap()
            .contains(&format!("uid {DEPLOY_UID}")),
        "{deploy:#}"
    );
    let wrong = records
        .iter()
        .find(|r| r["system_user"] == "lab-deploy-wrong-password")
        .unwrap();
    // The fake host does not run the diagnosis script, so the login failure stays
    // undiagnosed here; the compose fixtures assert the diagnosed categories.
    assert_eq!(wrong["category"], "auth_failed", "{wrong:#}");
    assert_eq!(wrong["stage"], "system_user", "{wrong:#}");
    assert_eq!(wrong["auth_methods"], json!(["publickey", "password"]));
    assert_eq!(run.status, 1, "a failing system user fails the run");
}

#[tokio::test]
async fn jump_hosts_and_their_failures() {
    let scenarios = [
        scenarios::JUMP_OK,
        scenarios::JUMP_UNREACHABLE,
        scenarios::JUMP_AUTH_FAILED,
        scenarios::JUMP_FORWARD_PROHIBITED,
        scenarios::JUMP_TARGET_UNREACHABLE,
    ];
    let (_lab, run) = probe_lab(&scenarios, &[]).await;
    for scenario in scenarios {
        let r = run.record(scenario.name);
        assert_eq!(r["category"], scenario.expected.id(), "{r:#}");
        assert_eq!(
            r["ip"],
            Value::Null,
            "the asset's address is the jump host's business: {r:#}"
        );
        if scenario != scenarios::JUMP_OK {
            assert_eq!(r["stage"], "jump", "{r:#}");
        }
    }
    let ok = run.record("via-jump-host");
    assert!(
        ok["message"]
            .as_str()
            .unwrap()
            .contains("via jump host gw-via-jump-host")
    );
    assert_eq!(ok["uid"], 0);
}

#[tokio::test]
async fn one_jump_connection_serves_every_asset_behind_it_within_the_channel_cap() {
    use std::sync::atomic::Ordering;
    let lab = fixtures::lab::Lab::start(&[scenarios::JUMP_OK])
        .await
        .unwrap();
    let row = &lab.rows()[0];
    let inventory = lab.dir().join("behind-jump.csv");
    let mut text = String::from("name,host,port,admin_user,gateway\n");
    for i in 0..12 {
        text.push_str(&format!(
            "a{i},{},{},lab-root,{}\n",
            row.host, row.port, row.jump_host
        ));
    }
    std::fs::write(&inventory, text).unwrap();
    let mut argv = lab.check_args_for(&inventory);
    argv.extend(crate::util::args([
        "--format",
        "jsonl",
        "--jump-channels",
        "2",
    ]));
    let run = crate::util::prober(argv).await;
    assert_eq!(run.status, 0, "{}", run.stdout);
    assert_eq!(run.records().len(), 12);
    let stats = lab.stats(&row.jump_host);
    assert_eq!(
        stats.connections.load(Ordering::SeqCst),
        1,
        "one SSH connection to the jump host"
    );
    assert_eq!(
        stats.forwarded.load(Ordering::SeqCst),
        12,
        "one channel per asset"
    );
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("jump host gw-via-jump-host:"))
        .expect("jump host usage line");
    assert!(line.contains("1 connection(s), 12 channel(s)"), "{line}");
    let at_once: usize = line
        .split("at most ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&at_once), "{line}");
}
