//! The prober against the docker compose fixtures: real OpenSSH, sudo, PAM, tcp-wrappers,
//! nftables and dnsmasq. Each row of fixtures/expected.csv names an asset of
//! fixtures/inventory.csv, the category it must get and the options to run with.
//!
//! Needs the fixtures up, so it is ignored by a plain `cargo test`; run
//! `scripts/compose-test.sh`, which brings them up, runs this and tears them down.

use std::collections::BTreeMap;

use crate::compose_files::{Fixtures, GATEWAY_RESULTS, Lab, repo};
use crate::util::{args, prober};

#[tokio::test]
#[ignore = "needs the docker compose fixtures: run scripts/compose-test.sh"]
async fn every_fixture_gets_its_expected_category() {
    let lab = Lab::load();
    let Fixtures {
        inventory,
        through_gateway,
        expected,
        ..
    } = Fixtures::load();
    let fixtures = repo().join("fixtures");

    // One run per command and set of options, over the rows that use them.
    let mut runs: BTreeMap<(String, String), Vec<&BTreeMap<String, String>>> = BTreeMap::new();
    for row in &expected {
        runs.entry((row["command"].clone(), row["options"].clone()))
            .or_default()
            .push(row);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut mismatches = Vec::new();
    for (i, ((command, options), rows)) in runs.iter().enumerate() {
        // A name once, even when its asset and its system users have rows of their own.
        let mut seen = std::collections::BTreeSet::new();
        let names: Vec<&str> = rows
            .iter()
            .map(|r| r["name"].as_str())
            .filter(|name| seen.insert(*name))
            .collect();
        // `prober gateway` reports on the gateway itself beside the inventory rows.
        let (source, columns) = match command.as_str() {
            "gateway" => (&through_gateway, &["name", "host", "system_users"][..]),
            _ => (
                &inventory,
                &[
                    "name",
                    "host",
                    "port",
                    "admin_user",
                    "system_users",
                    "gateway",
                ][..],
            ),
        };
        let mut text = format!("{}\n", columns.join(","));
        let mut listed = 0;
        for name in names {
            if command == "gateway" && GATEWAY_RESULTS.contains(&name) {
                continue;
            }
            let asset = source
                .iter()
                .find(|a| a["name"] == name)
                .unwrap_or_else(|| panic!("{name} is in expected.csv but not in its inventory"));
            // This machine has no way to the internal network: only a jump host (or the
            // gateway, which logs in for `prober gateway`) may be asked to reach it.
            assert!(
                command == "gateway"
                    || !lab.is_internal(&asset["host"])
                    || !asset["gateway"].is_empty(),
                "{name} is on the internal network but names no jump host"
            );
            let values: Vec<&str> = columns.iter().map(|c| asset[*c].as_str()).collect();
            text.push_str(&format!("{}\n", values.join(",")));
            listed += 1;
        }
        let part = dir.path().join(format!("inventory-{i}.csv"));
        std::fs::write(&part, text).unwrap();
        // A copy: accept-new learns keys into it, and the committed file must not change.
        let known_hosts = dir.path().join(format!("known_hosts-{i}"));
        std::fs::copy(fixtures.join("known_hosts"), &known_hosts).unwrap();

        let mut argv = args([
            command.as_ref(),
            "--credentials".as_ref(),
            fixtures.join("credentials.toml").as_os_str(),
            "--known-hosts".as_ref(),
            known_hosts.as_os_str(),
            "--format".as_ref(),
            "jsonl".as_ref(),
            "--quiet".as_ref(),
        ]);
        if listed > 0 || command != "gateway" {
            argv.push(part.into());
        }
        // Paths in options are relative to the repository, tests run in tests/.
        argv.extend(
            options
                .split_whitespace()
                .map(|o| match o.strip_prefix("fixtures/") {
                    Some(rest) => fixtures.join(rest).into_os_string(),
                    None => o.into(),
                }),
        );
        let run = prober(argv).await;
        assert_ne!(
            run.status, 2,
            "usage error for {command} {options}: {}",
            run.stderr
        );
        let records = run.records();
        for row in rows {
            let user = &row["system_user"];
            let record = records
                .iter()
                .find(|r| {
                    r["name"] == row["name"].as_str()
                        && r["system_user"].as_str().unwrap_or("") == user
                })
                .unwrap_or_else(|| panic!("no result for {} {user}\n{}", row["name"], run.stdout));
            let category = record["category"].as_str().unwrap_or_default();
            let shown = if user.is_empty() {
                row["name"].clone()
            } else {
                format!("{} ({user})", row["name"])
            };
            println!(
                "{shown:<34} {category:<30} {}",
                record["message"].as_str().unwrap_or_default()
            );
            if category != row["category"] {
                mismatches.push(format!(
                    "{shown}: expected {}, got {category} ({})",
                    row["category"], record["message"]
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
