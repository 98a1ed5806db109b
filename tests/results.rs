//! Runs built on results files, against the farm: `--from … --only` probes again exactly
//! the assets picked, `--resume` completes exactly the rest of a run, and `diff` of two
//! farms with different seeds reports exactly the assets whose behaviour changed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use prober_engine::results::{Recorded, ResultsReader};

use crate::util::{Run, args, prober};
use fixtures::farm::{Farm, FarmFiles, FarmSpec, Mix};

const MIX: &str = "ok=5,auth_failed=2,reset=1,python_missing=1";

async fn farm(assets: usize, seed: u64, port: u16) -> std::io::Result<Farm> {
    Farm::start(FarmSpec {
        assets,
        mix: MIX.parse::<Mix>().unwrap(),
        seed,
        port,
        record_accepts: false,
    })
    .await
}

/// `prober check` with the farm's credentials, quiet, and its own known_hosts in `dir`.
async fn check(files: &FarmFiles, dir: &Path, extra: &[&str]) -> Run {
    let mut argv = args([
        "check".as_ref(),
        "--credentials".as_ref(),
        files.credentials.as_os_str(),
        "--known-hosts".as_ref(),
        dir.join("known_hosts").as_os_str(),
        "--quiet".as_ref(),
    ]);
    argv.extend(args(extra));
    prober(argv).await
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

/// Each asset's category, from a results file.
fn categories(records: &[Recorded]) -> BTreeMap<String, String> {
    records
        .iter()
        .map(|r| (r.name.clone(), r.category.clone()))
        .collect()
}

/// Each asset's expected category, from the farm's expected.csv.
fn expected(files: &FarmFiles) -> BTreeMap<String, String> {
    std::fs::read_to_string(&files.expected)
        .unwrap()
        .lines()
        .skip(1)
        .map(|row| {
            let fields: Vec<&str> = row.split(',').collect();
            (fields[0].to_string(), fields[3].to_string())
        })
        .collect()
}

fn names(run: &Run) -> BTreeSet<String> {
    run.records()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_only_probes_again_exactly_the_assets_picked() {
    let farm = farm(36, 7, 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = farm.write_files(&dir.path().join("farm.csv")).unwrap();
    let out = dir.path().join("out.jsonl");
    let run = check(
        &files,
        dir.path(),
        &[
            path(&files.inventory),
            "--format",
            "jsonl",
            "-o",
            path(&out),
        ],
    )
    .await;
    assert_eq!(run.status, 1, "{}", run.stderr);
    let first = categories(&read(&out));
    assert_eq!(first, expected(&files));
    let with = |category: &str| -> BTreeSet<String> {
        first
            .iter()
            .filter(|(_, c)| *c == category)
            .map(|(n, _)| n.clone())
            .collect()
    };
    let auth_failed = with("auth_failed");
    assert!(!auth_failed.is_empty());

    let before = farm.accepted();
    let again = check(
        &files,
        dir.path(),
        &[
            "--from",
            path(&out),
            "--only",
            "auth_failed",
            "--format",
            "jsonl",
        ],
    )
    .await;
    assert_eq!(again.status, 1, "{}", again.stderr);
    assert_eq!(names(&again), auth_failed);
    assert!(
        again
            .records()
            .iter()
            .all(|r| r["category"] == "auth_failed")
    );
    assert_eq!(
        farm.accepted() - before,
        auth_failed.len(),
        "no other asset was probed"
    );
    // The records carry what it took to probe them again.
    assert!(again.records().iter().all(|r| r["admin_user"] == "farm"));

    let two = check(
        &files,
        dir.path(),
        &[
            "--from",
            path(&out),
            "--only",
            "ssh_reset_before_banner,python_missing",
            "--format",
            "jsonl",
        ],
    )
    .await;
    let reset_or_python: BTreeSet<String> = with("ssh_reset_before_banner")
        .union(&with("python_missing"))
        .cloned()
        .collect();
    assert!(!reset_or_python.is_empty());
    assert_eq!(names(&two), reset_or_python);

    let failed = check(
        &files,
        dir.path(),
        &["--from", path(&out), "--failed", "--format", "jsonl"],
    )
    .await;
    let not_ok: BTreeSet<String> = first
        .iter()
        .filter(|(_, c)| *c != "ok")
        .map(|(n, _)| n.clone())
        .collect();
    assert_eq!(names(&failed), not_ok);

    let typo = check(
        &files,
        dir.path(),
        &["--from", path(&out), "--only", "auth_faild"],
    )
    .await;
    assert_eq!(typo.status, 2);
    assert!(
        typo.stderr.contains("did you mean `auth_failed`?"),
        "{}",
        typo.stderr
    );
    let both = check(
        &files,
        dir.path(),
        &[path(&files.inventory), "--from", path(&out)],
    )
    .await;
    assert_eq!(both.status, 2, "an inventory or --from, not both");
}

/// The first `rows` rows of the farm's inventory, as another inventory.
fn prefix(files: &FarmFiles, rows: usize) -> PathBuf {
    let text = std::fs::read_to_string(&files.inventory).unwrap();
    let kept: Vec<&str> = text.lines().take(rows + 1).collect();
    let path = files.inventory.with_file_name("prefix.csv");
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    path
}

/// `(name, category)` of every record, sorted, duplicates kept.
fn union(records: &[Recorded]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = records
        .iter()
        .map(|r| (r.name.clone(), r.category.clone()))
        .collect();
    all.sort();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_completes_exactly_the_rest_of_a_run() {
    let farm = farm(30, 3, 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = farm.write_files(&dir.path().join("farm.csv")).unwrap();
    let inventory = path(&files.inventory);
    let full = dir.path().join("full.jsonl");
    let run = check(
        &files,
        dir.path(),
        &[inventory, "--format", "jsonl", "-o", path(&full)],
    )
    .await;
    assert_eq!(run.status, 1, "{}", run.stderr);
    let whole = union(&read(&full));
    assert_eq!(whole.len(), 30);

    // A run of the first 12 rows, then resumed over the whole inventory.
    let part = dir.path().join("part.jsonl");
    let head = prefix(&files, 12);
    check(
        &files,
        dir.path(),
        &[path(&head), "--format", "jsonl", "-o", path(&part)],
    )
    .await;
    assert_eq!(read(&part).len(), 12);
    let before = farm.accepted();
    let resumed = check(&files, dir.path(), &[inventory, "--resume", path(&part)]).await;
    assert_eq!(
        resumed.status, 1,
        "the summary counts the whole run: {}",
        resumed.stderr
    );
    assert_eq!(resumed.stdout, "", "the results go to the resumed file");
    assert_eq!(farm.accepted() - before, 18, "exactly the rest was probed");
    assert_eq!(union(&read(&part)), whole);

    // A CSV run killed in the middle of writing its 20th record.
    let csv = dir.path().join("full.csv");
    check(
        &files,
        dir.path(),
        &[inventory, "--format", "csv", "-o", path(&csv)],
    )
    .await;
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    assert_eq!(lines.len(), 31, "a header and one line per asset");
    let same = prober(args(["diff", path(&full), path(&csv)])).await;
    assert_eq!(
        (same.status, same.stdout.trim()),
        (0, "no change"),
        "jsonl and csv agree"
    );
    let cut = dir.path().join("cut.csv");
    let kept = lines[..20].concat() + &lines[20][..lines[20].len() / 2];
    std::fs::write(&cut, &kept).unwrap();
    assert_eq!(read(&cut).len(), 19, "the unfinished record is no result");
    let before = farm.accepted();
    let resumed = check(&files, dir.path(), &[inventory, "--resume", path(&cut)]).await;
    assert_eq!(resumed.status, 1, "{}", resumed.stderr);
    assert_eq!(farm.accepted() - before, 11);
    assert_eq!(union(&read(&cut)), whole);
    let text = std::fs::read_to_string(&cut).unwrap();
    assert_eq!(
        text.matches("name,system_user,host").count(),
        1,
        "one header"
    );

    // Resuming a complete run probes nothing and changes nothing.
    let before = (farm.accepted(), std::fs::read(&cut).unwrap());
    let again = check(&files, dir.path(), &[inventory, "--resume", path(&cut)]).await;
    assert_eq!(again.status, 1, "{}", again.stderr);
    assert_eq!((farm.accepted(), std::fs::read(&cut).unwrap()), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_refuses_an_output_it_would_not_append_to() {
    let dir = tempfile::tempdir().unwrap();
    let farm = farm(2, 1, 0).await.unwrap();
    let files = farm.write_files(&dir.path().join("farm.csv")).unwrap();
    let inventory = path(&files.inventory);
    let results = dir.path().join("r.csv");
    std::fs::write(&results, "name,host,port,category\n").unwrap();
    let refused = [
        (vec!["-o", "other.jsonl"], "names another file"),
        (vec!["--format", "json"], "cannot be appended to"),
        (vec!["--format", "jsonl"], "csv results"),
    ];
    for (extra, says) in refused {
        let mut argv = vec![inventory, "--resume", path(&results)];
        argv.extend(extra);
        let run = check(&files, dir.path(), &argv).await;
        assert_eq!(run.status, 2, "{argv:?}");
        assert!(run.stderr.contains(says), "{argv:?}: {}", run.stderr);
    }
    let run = check(&files, dir.path(), &[inventory, "--resume", path(&results)]).await;
    assert_eq!(run.status, 2, "other columns than ours: {}", run.stderr);
    assert!(run.stderr.contains("CSV columns"), "{}", run.stderr);
    assert_eq!(farm.accepted(), 0, "refused before any probe");
}

/// A farm on `port`, once the previous farm there has let it go.
async fn farm_on(port: u16, seed: u64) -> Farm {
    loop {
        match farm(24, seed, port).await {
            Ok(farm) => return farm,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => tokio::task::yield_now().await,
            Err(e) => panic!("farm on {port}: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_of_two_seeds_reports_exactly_the_assets_that_changed() {
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    let mut port = 0;
    for seed in [1, 2] {
        let farm = farm_on(port, seed).await;
        port = farm.port();
        let run_dir = dir.path().join(format!("seed{seed}"));
        std::fs::create_dir(&run_dir).unwrap();
        let files = farm.write_files(&run_dir.join("farm.csv")).unwrap();
        let out = run_dir.join("out.jsonl");
        check(
            &files,
            &run_dir,
            &[
                path(&files.inventory),
                "--format",
                "jsonl",
                "-o",
                path(&out),
            ],
        )
        .await;
        runs.push((expected(&files), out));
    }
    let (old, new) = (&runs[0].0, &runs[1].0);
    let changed: BTreeMap<&String, (&String, &String)> = old
        .iter()
        .filter(|(name, category)| new[*name] != **category)
        .map(|(name, category)| (name, (category, &new[name])))
        .collect();
    assert!(!changed.is_empty(), "the seeds give different farms");

    let diff = prober(args([
        "diff",
        path(&runs[0].1),
        path(&runs[1].1),
        "--format",
        "jsonl",
    ]))
    .await;
    let reported = diff.records();
    let found: BTreeMap<String, (String, String)> = reported
        .iter()
        .map(|d| {
            let text = |key: &str| d[key].as_str().unwrap().to_string();
            (text("name"), (text("old"), text("new")))
        })
        .collect();
    assert_eq!(found.len(), reported.len(), "one line per asset");
    let want: BTreeMap<String, (String, String)> = changed
        .iter()
        .map(|(n, (o, w))| (n.to_string(), (o.to_string(), w.to_string())))
        .collect();
    assert_eq!(found, want);
    let newly_failing = reported.iter().any(|d| d["old"] == "ok");
    assert_eq!(diff.status, i32::from(newly_failing), "{}", diff.stderr);
    for d in &reported {
        let change = match (d["old"] == "ok", d["new"] == "ok") {
            (true, false) => "newly_failing",
            (false, true) => "fixed",
            _ => "changed",
        };
        assert_eq!(d["change"], change, "{d}");
    }

    let md = prober(args([
        "diff",
        path(&runs[0].1),
        path(&runs[1].1),
        "--format",
        "md",
    ]))
    .await;
    assert_eq!(md.status, diff.status);
    assert_eq!(
        md.stdout.matches("| farm-").count(),
        changed.len(),
        "{}",
        md.stdout
    );
    let same = prober(args(["diff", path(&runs[0].1), path(&runs[0].1)])).await;
    assert_eq!((same.status, same.stdout.trim()), (0, "no change"));
    let bad = prober(args([
        "diff",
        path(&runs[0].1),
        path(&dir.path().join("missing")),
    ]))
    .await;
    assert_eq!(bad.status, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_asset_is_done_when_all_its_system_users_are() {
    use fixtures::lab::{Lab, scenarios};
    use std::sync::atomic::Ordering::SeqCst;
    let lab = Lab::start(&[scenarios::SYSTEM_USERS, scenarios::OK_ROOT])
        .await
        .unwrap();
    let out = lab.dir().join("out.jsonl");
    let run_with = |extra: &[&str]| {
        let mut argv = lab.check_args();
        argv.extend(args(extra));
        prober(argv)
    };
    let first = run_with(&["--quiet", "--format", "jsonl", "-o", path(&out)]).await;
    assert_eq!(first.status, 1, "{}", first.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 4);
    let users = read(&out)
        .into_iter()
        .find(|r| r.system_user.is_some())
        .unwrap()
        .system_users;
    assert_eq!(users, ["lab-deploy", "lab-deploy-wrong-password"]);

    // One system user's result is missing: that asset is probed again, and only the
    // missing result is added.
    let missing = "\"system_user\":\"lab-deploy-wrong-password\"";
    let kept: String = text
        .lines()
        .filter(|l| !l.contains(missing))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&out, kept).unwrap();
    let connections = |name: &str| lab.stats(name).connections.load(SeqCst);
    let before = (connections("with-system-users"), connections("ok-root"));
    let resumed = run_with(&["--quiet", "--resume", path(&out)]).await;
    assert_eq!(resumed.status, 1, "{}", resumed.stderr);
    assert!(connections("with-system-users") > before.0);
    assert_eq!(connections("ok-root"), before.1, "ok-root was done");
    let after = std::fs::read_to_string(&out).unwrap();
    assert_eq!(after.lines().count(), 4, "{after}");
    assert!(after.lines().last().unwrap().contains(missing), "{after}");

    // Picked by one system user's result, the asset is probed whole again.
    let again = prober({
        let mut argv = args(["check", "--from", path(&out), "--only", "auth_failed"]);
        argv.extend(lab.check_args().into_iter().skip(2));
        argv.extend(args(["--quiet", "--format", "jsonl"]));
        argv
    })
    .await;
    let subjects: BTreeSet<(String, Option<String>)> = again
        .records()
        .iter()
        .map(|r| {
            let user = r["system_user"].as_str().map(str::to_string);
            (r["name"].as_str().unwrap().to_string(), user)
        })
        .collect();
    let name = || "with-system-users".to_string();
    let want = BTreeSet::from([
        (name(), None),
        (name(), Some("lab-deploy".to_string())),
        (name(), Some("lab-deploy-wrong-password".to_string())),
    ]);
    assert_eq!(subjects, want, "{}", again.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_run_resumes_by_system_user_and_keeps_one_gateway_result() {
    let lab = fixtures::koko::lab::KokoLab::start().await.unwrap();
    let out = lab.path("out.jsonl");
    let gateway = |extra: &[&str]| {
        let mut argv = args([
            "gateway".to_string(),
            "--gateway".into(),
            format!("127.0.0.1:{}", lab.ssh_port),
            "--jms-user".into(),
            "alice".into(),
            "--key".into(),
            lab.path("jms").display().to_string(),
            "--known-hosts".into(),
            lab.path("known_hosts").display().to_string(),
            "--credentials".into(),
            lab.path("credentials.toml").display().to_string(),
            lab.path("inventory.csv").display().to_string(),
            "--quiet".into(),
        ]);
        argv.extend(args(extra));
        prober(argv)
    };
    let subjects = |file: &Path| -> Vec<(String, Option<String>, String)> {
        let mut all: Vec<_> = read(file)
            .into_iter()
            .map(|r| (r.name, r.system_user, r.category))
            .collect();
        all.sort();
        all
    };
    let first = gateway(&["--format", "jsonl", "-o", path(&out)]).await;
    assert_eq!(first.status, 1, "{}", first.stderr);
    let whole = subjects(&out);
    let web = (
        "web".to_string(),
        Some("gw-deploy".to_string()),
        "ok".to_string(),
    );
    assert!(whole.contains(&web), "{whole:?}");

    // The results of `web` (one per system user, none of its own) and of `twin` are lost.
    let text = std::fs::read_to_string(&out).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.contains("\"name\":\"web\"") && !l.contains("\"name\":\"twin\""))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(kept.lines().count() < text.lines().count());
    std::fs::write(&out, kept).unwrap();
    let resumed = gateway(&["--resume", path(&out)]).await;
    assert_eq!(resumed.status, 1, "{}", resumed.stderr);
    assert_eq!(
        subjects(&out),
        whole,
        "the gateway's own result once, web and twin back"
    );
}

/// `check` with a credential that needs no server, for runs refused or with nothing to do.
async fn check_offline(dir: &Path, extra: &[&str]) -> Run {
    let mut argv = args([
        "check",
        "--user",
        "x",
        "--password-env",
        "PROBER_TEST_UNSET",
    ]);
    argv.extend(args(["--host-key-check", "off", "--format", "jsonl"]));
    argv.extend(args(extra));
    let output = tokio::process::Command::from(crate::util::prober_command())
        .args(argv)
        .current_dir(dir)
        .output()
        .await
        .unwrap();
    Run {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn line(name: &str, category: &str) -> String {
    format!(
        "{{\"name\":\"{name}\",\"host\":\"127.0.0.1\",\"port\":1,\"category\":\"{category}\"}}\n"
    )
}

#[tokio::test]
async fn from_results_without_records_exits_2_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    // Empty, or only the unfinished line of a run killed while writing its first record.
    for text in ["", "{\"name\":\"a\",\"ho"] {
        std::fs::write(dir.path().join("r.jsonl"), text).unwrap();
        let run = check_offline(dir.path(), &["--from", "r.jsonl"]).await;
        assert_eq!(run.status, 2, "{text:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("no results in r.jsonl"),
            "{}",
            run.stderr
        );
        let run = check_offline(dir.path(), &["--from", "r.jsonl", "--allow-empty"]).await;
        assert_eq!((run.status, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    }
    // Records, none of them picked: an answer (nothing failed), not an error.
    std::fs::write(dir.path().join("r.jsonl"), line("a", "ok")).unwrap();
    let run = check_offline(dir.path(), &["--from", "r.jsonl", "--failed"]).await;
    assert_eq!((run.status, run.stdout.as_str()), (0, ""), "{}", run.stderr);
}

#[tokio::test]
async fn resume_into_the_from_file_is_refused_naming_resume() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r1.jsonl"), line("a", "auth_failed")).unwrap();
    let run = check_offline(
        dir.path(),
        &["--from", "r1.jsonl", "--resume", "./r1.jsonl"],
    )
    .await;
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--resume ./r1.jsonl is the results file read by --from r1.jsonl"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn resume_into_a_new_file_takes_o_naming_it_another_way() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.csv"), "").unwrap();
    let run = check_offline(
        dir.path(),
        &[
            "empty.csv",
            "--allow-empty",
            "--resume",
            "new.jsonl",
            "-o",
            "./new.jsonl",
        ],
    )
    .await;
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(dir.path().join("new.jsonl").exists());
    let run = check_offline(
        dir.path(),
        &[
            "empty.csv",
            "--allow-empty",
            "--resume",
            "new.jsonl",
            "-o",
            "other.jsonl",
        ],
    )
    .await;
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("names another file"), "{}", run.stderr);
}

/// An interrupted probe says nothing about its asset: `diff` reports it as not probed and
/// never as a new failure.
#[tokio::test]
async fn diff_takes_interrupted_for_not_probed() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.jsonl");
    let new = dir.path().join("new.jsonl");
    std::fs::write(&old, line("a", "ok") + &line("b", "auth_failed")).unwrap();
    let interrupted = ["a", "b", "c"].map(|name| line(name, "interrupted"));
    std::fs::write(&new, interrupted.concat()).unwrap();
    let diff = prober(args(["diff", path(&old), path(&new), "--format", "jsonl"])).await;
    assert_eq!(diff.status, 0, "{}", diff.stdout);
    let changes: Vec<(String, String)> = diff
        .records()
        .iter()
        .map(|d| (d["name"].to_string(), d["change"].to_string()))
        .collect();
    let want = [("c", "added"), ("a", "not_probed"), ("b", "not_probed")]
        .map(|(n, c)| (format!("\"{n}\""), format!("\"{c}\"")));
    assert_eq!(changes, want);
    let table = prober(args(["diff", path(&old), path(&new)])).await;
    assert_eq!(table.status, 0);
    assert!(table.stdout.contains("2 not probed"), "{}", table.stdout);
    // Probed at last, and failing: nothing was known before, so it is a new failure.
    let failing = prober(args(["diff", path(&new), path(&old)])).await;
    assert_eq!(failing.status, 1, "{}", failing.stdout);
}
