//! The prober against the docker compose fixtures: real OpenSSH, sudo, PAM, tcp-wrappers,
//! nftables and dnsmasq. Each row of fixtures/expected.csv names an asset of
//! fixtures/inventory.csv, the category it must get and the options to run with.
//!
//! Needs the fixtures up, so it is ignored by a plain `cargo test`; run
//! `scripts/compose-test.sh`, which brings them up, runs this and tears them down.

use std::collections::BTreeMap;
use std::path::PathBuf;

use prober_tests::{args, prober};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Rows of a small CSV file as maps from header to value.
fn read_csv(path: &PathBuf) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|line| {
            let values: Vec<&str> = line.splitn(header.len(), ',').collect();
            header
                .iter()
                .cloned()
                .zip(values.iter().map(|v| v.to_string()))
                .collect()
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs the docker compose fixtures: run scripts/compose-test.sh"]
async fn every_fixture_gets_its_expected_category() {
    let fixtures = repo().join("fixtures");
    let inventory = read_csv(&fixtures.join("inventory.csv"));
    let header = "name,host,port,admin_user";
    let expected = read_csv(&fixtures.join("expected.csv"));

    // One run per distinct set of options, over the rows that use it.
    let mut by_options: BTreeMap<String, Vec<&BTreeMap<String, String>>> = BTreeMap::new();
    for row in &expected {
        by_options
            .entry(row["options"].clone())
            .or_default()
            .push(row);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut mismatches = Vec::new();
    for (i, (options, rows)) in by_options.iter().enumerate() {
        let mut text = format!("{header}\n");
        for row in rows {
            let asset = inventory
                .iter()
                .find(|a| a["name"] == row["name"])
                .unwrap_or_else(|| {
                    panic!(
                        "{} is in expected.csv but not in inventory.csv",
                        row["name"]
                    )
                });
            text.push_str(&format!(
                "{},{},{},{}\n",
                asset["name"], asset["host"], asset["port"], asset["admin_user"]
            ));
        }
        let part = dir.path().join(format!("inventory-{i}.csv"));
        std::fs::write(&part, text).unwrap();
        // A copy: accept-new learns keys into it, and the committed file must not change.
        let known_hosts = dir.path().join(format!("known_hosts-{i}"));
        std::fs::copy(fixtures.join("known_hosts"), &known_hosts).unwrap();

        let mut argv = args([
            "check".as_ref(),
            part.as_os_str(),
            "--credentials".as_ref(),
            fixtures.join("credentials.toml").as_os_str(),
            "--known-hosts".as_ref(),
            known_hosts.as_os_str(),
            "--format".as_ref(),
            "jsonl".as_ref(),
            "--quiet".as_ref(),
        ]);
        argv.extend(args(options.split_whitespace()));
        let run = prober(argv).await;
        assert_ne!(
            run.status, 2,
            "usage error with options {options:?}: {}",
            run.stderr
        );
        for row in rows {
            let record = run.record(&row["name"]);
            let category = record["category"].as_str().unwrap_or_default();
            println!(
                "{:<20} {:<26} {}",
                row["name"],
                category,
                record["message"].as_str().unwrap_or_default()
            );
            if category != row["category"] {
                mismatches.push(format!(
                    "{}: expected {}, got {category} ({})",
                    row["name"], row["category"], record["message"]
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "fixtures not classified as expected:\n{}",
        mismatches.join("\n")
    );
}
