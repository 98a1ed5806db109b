//! Lines before the SSH identification, read as the OpenSSH client reads them.

use crate::util::probe_lab;
use fixtures::lab::scenarios;

#[tokio::test]
async fn a_thousand_lines_before_the_identification_still_log_in() {
    let (_lab, run) = probe_lab(&[scenarios::PRE_BANNER_LINES], &[]).await;
    let record = run.record(scenarios::PRE_BANNER_LINES.name);
    assert_eq!(
        record["category"], "ok",
        "{record:#}\nstderr: {}",
        run.stderr
    );
    assert_eq!(record["banner"], "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
    assert_eq!(record["stage"], "done");
}

#[tokio::test]
async fn the_1024th_line_must_be_the_identification() {
    let (_lab, run) = probe_lab(&[scenarios::PRE_BANNER_TOO_MANY], &[]).await;
    let record = run.record(scenarios::PRE_BANNER_TOO_MANY.name);
    assert_eq!(record["category"], "ssh_not_ssh", "{record:#}");
    assert_eq!(
        record["banner"], "notice 0",
        "the first line the server sent"
    );
    let message = record["message"].as_str().unwrap();
    assert!(message.contains("first 1024 lines"), "{message}");
}
