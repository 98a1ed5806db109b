//! The farm of virtual assets against the real `prober` binary: every behaviour gets its
//! category, and the run's pacing (`--rate`, `--per-host`) holds as the farm sees it.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use crate::util::{Run, args, prober};
use fixtures::farm::{self, Farm, FarmFiles, FarmSpec, Mix, mix};

async fn start(assets: usize, mix: Mix) -> Farm {
    Farm::start(FarmSpec {
        assets,
        mix,
        seed: 42,
        port: 0,
        record_accepts: true,
    })
    .await
    .expect("the farm starts")
}

/// `prober check` of the farm's files, as JSONL.
async fn check(files: &FarmFiles, dir: &Path, extra: &[&str]) -> Run {
    let mut argv = args([
        "check".as_ref(),
        files.inventory.as_os_str(),
        "--credentials".as_ref(),
        files.credentials.as_os_str(),
        "--known-hosts".as_ref(),
        dir.join("known_hosts").as_os_str(),
    ]);
    argv.extend(args(["--format", "jsonl", "--quiet"]));
    argv.extend(args(extra));
    prober(argv).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_farm_asset_gets_the_category_of_its_behaviour() {
    let mix: String = mix::ALL
        .iter()
        .map(|b| format!("{b}={}", if *b == mix::OK { 10 } else { 2 }))
        .collect::<Vec<_>>()
        .join(",");
    let farm = start(280, mix.parse().unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    let files = farm.write_files(&dir.path().join("farm.csv")).unwrap();
    let run = check(&files, dir.path(), &["--banner-timeout", "1s"]).await;

    let records = run.records();
    assert_eq!(records.len(), farm.assets(), "stderr: {}", run.stderr);
    let by_name: HashMap<&str, &serde_json::Value> = records
        .iter()
        .map(|r| (r["name"].as_str().expect("a name"), r))
        .collect();
    // The expected file is what `prober farm` users compare against: check the run by it.
    let expected_csv = std::fs::read_to_string(&files.expected).unwrap();
    let mut rows = expected_csv.lines();
    assert_eq!(rows.next(), Some("name,host,behaviour,category"));
    let mut wrong = Vec::new();
    let mut behaviours = std::collections::BTreeSet::new();
    for row in rows {
        let fields: Vec<&str> = row.split(',').collect();
        let [name, _, behaviour, expected] = fields[..] else {
            panic!("not name,host,behaviour,category: {row}")
        };
        behaviours.insert(behaviour);
        let record = by_name
            .get(name)
            .unwrap_or_else(|| panic!("no record for {name}"));
        if record["category"] != expected {
            wrong.push(format!(
                "{name} ({behaviour}): expected {expected}, got {record}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(
        behaviours.len(),
        mix::ALL.len(),
        "every behaviour is in the mix"
    );
    assert_eq!(farm.accepted(), farm.assets());
    assert_eq!(farm.strangers(), 0);
}

/// The most connections the farm accepted within any `window`.
fn most_within(accepted: &[Duration], window: Duration) -> usize {
    let mut times = accepted.to_vec();
    times.sort();
    let mut most = 0;
    let mut first = 0;
    for last in 0..times.len() {
        while times[last] - times[first] >= window {
            first += 1;
        }
        most = most.max(last - first + 1);
    }
    most
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_caps_new_connections_per_second() {
    let farm = start(60, Mix::only(mix::OK)).await;
    let dir = tempfile::tempdir().unwrap();
    let files = farm.write_files(&dir.path().join("farm.csv")).unwrap();

    // Unpaced, the run opens its connections in a burst: the measure below can see one.
    let run = check(&files, dir.path(), &["--concurrency", "60"]).await;
    assert_eq!(run.status, 0, "{}", run.stderr);
    let unpaced = farm.accepted_at();
    assert!(
        most_within(&unpaced, Duration::from_secs(1)) > 20,
        "60 unpaced probes should not spread over seconds: {unpaced:?}"
    );

    let run = check(&files, dir.path(), &["--concurrency", "60", "--rate", "20"]).await;
    assert_eq!(run.status, 0, "{}", run.stderr);
    let paced = &farm.accepted_at()[unpaced.len()..];
    assert_eq!(paced.len(), 60);
    // The farm stamps a connection when its accept loop gets to it, a little after the
    // client connected; the window is shortened by that much slack, no more.
    let window = Duration::from_secs(1) - Duration::from_millis(25);
    let most = most_within(paced, window);
    assert!(
        most <= 20,
        "{most} connections within {window:?} under --rate 20: {paced:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_at_a_time_per_host_unless_told() {
    let farm = start(2, Mix::only(mix::OK)).await;
    let dir = tempfile::tempdir().unwrap();
    let files = farm.write_files(&dir.path().join("farm.csv")).unwrap();
    // The same two hosts, each listed twelve times under different names.
    let mut inventory = String::from("name,host,port,admin_user\n");
    for copy in 0..12 {
        for index in 0..2 {
            let address = farm::address(index);
            inventory.push_str(&format!("h{index}-{copy},{address},{},farm\n", farm.port()));
        }
    }
    std::fs::write(&files.inventory, inventory).unwrap();

    let run = check(&files, dir.path(), &["--concurrency", "24"]).await;
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.records().len(), 24);
    assert_eq!(farm.most_at_once(0), 1, "default --per-host 1");
    assert_eq!(farm.most_at_once(1), 1, "default --per-host 1");

    let run = check(
        &files,
        dir.path(),
        &["--concurrency", "24", "--per-host", "4"],
    )
    .await;
    assert_eq!(run.status, 0, "{}", run.stderr);
    for index in 0..2 {
        let most = farm.most_at_once(index);
        assert!(
            (2..=4).contains(&most),
            "--per-host 4 allows up to 4 at once, and 12 quick probes do overlap: {most}"
        );
    }
}
