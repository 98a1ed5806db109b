//! `--shard I/N` against the farm: N shards together probe every asset exactly once, each
//! asset stays in its shard whatever the order of the rows, `auto/N` takes the index
//! from Kubernetes' JOB_COMPLETION_INDEX, and `--resume` and `--from` keep to the shard.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use prober_engine::results::{Recorded, ResultsReader};

use crate::util::{Run, args, prober_with_env};
use fixtures::farm::{Farm, FarmFiles, FarmSpec, Mix};

const ASSETS: usize = 20;

async fn farm() -> Farm {
    Farm::start(FarmSpec {
        assets: ASSETS,
        mix: "ok=3,auth_failed=1,reset=1".parse::<Mix>().unwrap(),
        seed: 11,
        port: 0,
        record_accepts: false,
    })
    .await
    .unwrap()
}

/// The farm's files, its inventory followed by two invalid rows: one with a host, one
/// with none (shard 0's).
fn files(farm: &Farm, dir: &Path) -> FarmFiles {
    let files = farm.write_files(&dir.join("farm.csv")).unwrap();
    let mut text = std::fs::read_to_string(&files.inventory).unwrap();
    text.push_str("bad-port,127.0.0.9,99999,farm\nno-host,,22,farm\n");
    std::fs::write(&files.inventory, text).unwrap();
    files
}

/// `prober check` of the farm, in JSONL, with the environment given.
async fn check(files: &FarmFiles, dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut argv = args([
        "check".as_ref(),
        "--credentials".as_ref(),
        files.credentials.as_os_str(),
        "--known-hosts".as_ref(),
        dir.join("known_hosts").as_os_str(),
        "--format".as_ref(),
        "jsonl".as_ref(),
    ]);
    argv.extend(args(extra));
    prober_with_env(argv, env).await
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

fn read(file: &Path) -> Vec<Recorded> {
    ResultsReader::open(file)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// `(name, host, port, category)` of every record, sorted, duplicates kept.
fn rows(records: &[Recorded]) -> Vec<(String, String, Option<u16>, String)> {
    let mut all: Vec<_> = records
        .iter()
        .map(|r| (r.name.clone(), r.host.clone(), r.port, r.category.clone()))
        .collect();
    all.sort();
    all
}

fn names(records: &[Recorded]) -> BTreeSet<String> {
    records.iter().map(|r| r.name.clone()).collect()
}

/// The inventory with its rows (not the header) in reverse order.
fn reversed(files: &FarmFiles) -> PathBuf {
    let text = std::fs::read_to_string(&files.inventory).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1..].reverse();
    let path = files.inventory.with_file_name("reversed.csv");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_together_probe_every_asset_exactly_once() {
    let farm = farm().await;
    let dir = tempfile::tempdir().unwrap();
    let files = files(&farm, dir.path());
    let inventory = path(&files.inventory);
    let whole = dir.path().join("whole.jsonl");
    let run = check(
        &files,
        dir.path(),
        &[inventory, "-o", path(&whole), "--quiet"],
        &[],
    )
    .await;
    assert_eq!(run.status, 1, "{}", run.stderr);
    let unsharded = rows(&read(&whole));
    assert_eq!(unsharded.len(), ASSETS + 2);

    for count in 1..=5 {
        let before = farm.accepted();
        let mut union = Vec::new();
        let mut sizes = Vec::new();
        for index in 0..count {
            let out = dir.path().join(format!("shard-{index}-of-{count}.jsonl"));
            let shard = format!("{index}/{count}");
            let run = check(
                &files,
                dir.path(),
                &[inventory, "--shard", &shard, "-o", path(&out)],
                &[],
            )
            .await;
            assert!(matches!(run.status, 0 | 1), "{shard}: {}", run.stderr);
            let records = read(&out);
            let said = format!("shard {shard}: {} of {} rows", records.len(), ASSETS + 2);
            assert!(run.stderr.contains(&said), "{said}: {}", run.stderr);
            if index == 0 {
                assert!(names(&records).contains("no-host"), "shard 0 reports it");
            }
            sizes.push(records.len());
            union.extend(records);
        }
        assert_eq!(rows(&union), unsharded, "{count} shards: each asset once");
        assert_eq!(
            farm.accepted() - before,
            ASSETS,
            "{count} shards: each asset probed once"
        );
        if count > 1 {
            assert!(
                sizes.iter().filter(|&&n| n > 0).count() > 1,
                "{count} shards share the rows out: {sizes:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_asset_stays_in_its_shard_across_runs_and_row_orders() {
    let farm = farm().await;
    let dir = tempfile::tempdir().unwrap();
    let files = files(&farm, dir.path());
    let reversed = reversed(&files);
    for index in 0..3 {
        let shard = format!("{index}/3");
        let mut seen = Vec::new();
        for inventory in [&files.inventory, &reversed, &files.inventory] {
            let out = dir.path().join("out.jsonl");
            let run = check(
                &files,
                dir.path(),
                &[
                    path(inventory),
                    "--shard",
                    &shard,
                    "-o",
                    path(&out),
                    "--quiet",
                ],
                &[],
            )
            .await;
            assert!(matches!(run.status, 0 | 1), "{}", run.stderr);
            seen.push(names(&read(&out)));
        }
        assert_eq!(seen[0], seen[1], "{shard}: rows reordered");
        assert_eq!(seen[0], seen[2], "{shard}: run again");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_completion_index_picks_the_shard_and_bad_values_exit_2() {
    let farm = farm().await;
    let dir = tempfile::tempdir().unwrap();
    let files = files(&farm, dir.path());
    let inventory = path(&files.inventory);
    for index in ["0", "1", "2"] {
        let given = check(
            &files,
            dir.path(),
            &[inventory, "--shard", &format!("{index}/3"), "--quiet"],
            &[],
        )
        .await;
        let from_job = check(
            &files,
            dir.path(),
            &[inventory, "--shard", "auto/3", "--quiet"],
            &[("JOB_COMPLETION_INDEX", index)],
        )
        .await;
        assert!(matches!(from_job.status, 0 | 1), "{}", from_job.stderr);
        let names = |run: &Run| -> BTreeSet<String> {
            run.records()
                .iter()
                .map(|r| r["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names(&from_job), names(&given), "index {index}");
    }

    let before = farm.accepted();
    let bad_index = [
        (None, "JOB_COMPLETION_INDEX is not set"),
        (Some("3"), "JOB_COMPLETION_INDEX=\"3\""),
        (Some("one"), "JOB_COMPLETION_INDEX=\"one\""),
        (Some(""), "JOB_COMPLETION_INDEX=\"\""),
    ];
    for (value, says) in bad_index {
        let env: Vec<(&str, &str)> = value
            .map(|v| ("JOB_COMPLETION_INDEX", v))
            .into_iter()
            .collect();
        let run = check(&files, dir.path(), &[inventory, "--shard", "auto/3"], &env).await;
        assert_eq!(run.status, 2, "{value:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{value:?}: {}", run.stderr);
    }
    for (bad, says) in [
        ("3/3", "not below the number of shards 3"),
        ("0/0", "at least 1"),
        ("1", "expected I/N"),
        ("+1/3", "expected I/N"),
        ("auto", "expected I/N"),
    ] {
        let run = check(&files, dir.path(), &[inventory, "--shard", bad], &[]).await;
        assert_eq!(run.status, 2, "{bad}: {}", run.stderr);
        assert!(run.stderr.contains("--shard"), "{bad}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{bad}: {}", run.stderr);
    }
    assert_eq!(farm.accepted(), before, "refused before any probe");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_resumes_its_own_file_and_probes_its_results_again() {
    let farm = farm().await;
    let dir = tempfile::tempdir().unwrap();
    let files = files(&farm, dir.path());
    let inventory = path(&files.inventory);
    let full = dir.path().join("full.jsonl");
    check(
        &files,
        dir.path(),
        &[inventory, "--shard", "1/2", "-o", path(&full), "--quiet"],
        &[],
    )
    .await;
    let whole = rows(&read(&full));

    // A shard's run of the first rows, then resumed over the whole inventory.
    let text = std::fs::read_to_string(&files.inventory).unwrap();
    let head: Vec<&str> = text.lines().take(9).collect();
    let head_path = dir.path().join("head.csv");
    std::fs::write(&head_path, head.join("\n") + "\n").unwrap();
    let part = dir.path().join("part.jsonl");
    check(
        &files,
        dir.path(),
        &[
            path(&head_path),
            "--shard",
            "1/2",
            "-o",
            path(&part),
            "--quiet",
        ],
        &[],
    )
    .await;
    let first = read(&part).len();
    assert!(
        first > 0 && first < whole.len(),
        "{first} of {}",
        whole.len()
    );
    let before = farm.accepted();
    let resumed = check(
        &files,
        dir.path(),
        &[
            inventory,
            "--shard",
            "1/2",
            "--resume",
            path(&part),
            "--quiet",
        ],
        &[],
    )
    .await;
    assert_eq!(resumed.status, 1, "{}", resumed.stderr);
    assert_eq!(rows(&read(&part)), whole, "the shard's rows, each once");
    let probed = |rows: &[(String, String, Option<u16>, String)]| {
        rows.iter().filter(|r| r.3 != "inventory_invalid").count()
    };
    // The head's rows are all the farm's: each of its records was a probe.
    assert_eq!(farm.accepted() - before, probed(&whole) - first);

    // --from the shard's file, with the same shard: every one of its assets again.
    let before = farm.accepted();
    let again = check(
        &files,
        dir.path(),
        &["--from", path(&full), "--shard", "1/2", "--quiet"],
        &[],
    )
    .await;
    let mut again: Vec<(String, String)> = again
        .records()
        .iter()
        .map(|r| (r["name"].to_string(), r["category"].to_string()))
        .map(|(name, category)| {
            (
                name.trim_matches('"').into(),
                category.trim_matches('"').into(),
            )
        })
        .collect();
    again.sort();
    let expected: Vec<(String, String)> =
        whole.iter().map(|r| (r.0.clone(), r.3.clone())).collect();
    assert_eq!(again, expected);
    assert_eq!(farm.accepted() - before, probed(&whole));
}
