//! Stopping a run: SIGINT and SIGTERM leave every output format valid with every finished
//! result in it, print the summary and exit 130/143; a second signal ends the run at once
//! with whole lines; and results are never written over a file the run reads.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use prober_engine::report::Record;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::util::{args, prober, prober_command};
use fixtures::farm::{Farm, FarmFiles, FarmSpec, Mix, mix};

const OK: usize = 4;
const SILENT: usize = 8;
/// The ok assets, then as many silent ones as fit: when every slot holds a silent asset,
/// every ok one has finished.
const CONCURRENCY: usize = 6;

/// A farm whose inventory lists its ok assets first, then its silent ones, which hang
/// (with the timeouts the tests give) until long after any test is over.
struct SlowFarm {
    farm: Farm,
    dir: tempfile::TempDir,
    files: FarmFiles,
    ok: BTreeSet<String>,
    /// In inventory order.
    silent: Vec<String>,
}

impl SlowFarm {
    async fn start() -> SlowFarm {
        let farm = Farm::start(FarmSpec {
            assets: OK + SILENT,
            mix: format!("ok={OK},silent={SILENT}").parse().unwrap(),
            seed: 7,
            port: 0,
            record_accepts: false,
        })
        .await
        .expect("the farm starts");
        let dir = tempfile::tempdir().unwrap();
        let files = farm.write_files(&dir.path().join("farm.csv")).unwrap();
        let mut ok = BTreeSet::new();
        for row in fs::read_to_string(&files.expected).unwrap().lines().skip(1) {
            let fields: Vec<&str> = row.split(',').collect();
            if fields[2] == "ok" {
                ok.insert(fields[0].to_string());
            }
        }
        // The farm's inventory in its own order, but the ok rows first.
        let inventory = fs::read_to_string(&files.inventory).unwrap();
        let mut lines = inventory.lines();
        let header = lines.next().unwrap();
        let name = |line: &str| line.split(',').next().unwrap().to_string();
        let (first, then): (Vec<&str>, Vec<&str>) =
            lines.partition(|line| ok.contains(&name(line)));
        let silent: Vec<String> = then.iter().map(|line| name(line)).collect();
        assert_eq!((first.len(), silent.len()), (OK, SILENT));
        let order: Vec<&str> = std::iter::once(header).chain(first).chain(then).collect();
        fs::write(&files.inventory, order.join("\n") + "\n").unwrap();
        SlowFarm {
            farm,
            dir,
            files,
            ok,
            silent,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `prober check` of the farm, still running; its stderr arrives line by line.
    fn start_check(
        &self,
        format: &str,
        output: &Path,
        extra: &[&str],
    ) -> (Child, mpsc::UnboundedReceiver<String>) {
        let mut argv = args([
            "check".as_ref(),
            self.files.inventory.as_os_str(),
            "--credentials".as_ref(),
            self.files.credentials.as_os_str(),
            "--known-hosts".as_ref(),
            self.path("known_hosts").as_os_str(),
            "--format".as_ref(),
            format.as_ref(),
            "-o".as_ref(),
            output.as_os_str(),
        ]);
        let concurrency = CONCURRENCY.to_string();
        argv.extend(args(["--concurrency", &concurrency]));
        argv.extend(args(extra));
        spawn(argv)
    }

    /// A slow farm's run in `format`, stopped by `signal` once every ok asset is
    /// recorded, with a short grace; checks it ended with `status`, and gives the farm,
    /// the output file and what prober said.
    async fn interrupted(format: &str, signal: Signal, status: i32) -> (SlowFarm, PathBuf, String) {
        let slow = SlowFarm::start().await;
        let output = slow.path(&format!("results.{format}"));
        let mut extra = HANG.to_vec();
        extra.extend(["--grace", "200ms"]);
        let (mut child, stderr) = slow.start_check(format, &output, &extra);
        slow.every_slot_silent(&mut child).await;
        send(&child, signal);
        let (exit, stderr) = ended(child, stderr).await;
        assert_eq!(exit.code(), Some(status), "{format}: {exit}\n{stderr}");
        (slow, output, stderr)
    }

    /// Until every ok asset is recorded and the silent ones fill every slot. Polls the
    /// farm's count of connections: readiness, not a guess at how long it takes.
    async fn every_slot_silent(&self, child: &mut Child) {
        while self.farm.accepted() < OK + CONCURRENCY {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("prober ended before the signal: {status}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn send(child: &Child, signal: Signal) {
    let pid = Pid::from_raw(child.id().expect("still running") as i32);
    kill(pid, signal).expect("signal sent");
}

/// Waits for the end of the run and all it said on stderr.
async fn ended(
    mut child: Child,
    mut stderr: mpsc::UnboundedReceiver<String>,
) -> (ExitStatus, String) {
    let status = child.wait().await.unwrap();
    let mut text = String::new();
    while let Some(line) = stderr.recv().await {
        text.push_str(&line);
        text.push('\n');
    }
    (status, text)
}

/// The (name, category) of every result in an output file, after checking the file is
/// valid in its format.
fn results(format: &str, path: &Path) -> Vec<(String, String)> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let pair = |r: &Value| {
        (
            r["name"].as_str().unwrap().to_string(),
            r["category"].as_str().unwrap().to_string(),
        )
    };
    match format {
        "jsonl" => {
            assert!(
                text.is_empty() || text.ends_with('\n'),
                "a cut line: {text}"
            );
            text.lines()
                .map(|line| pair(&serde_json::from_str(line).expect("a JSON line")))
                .collect()
        }
        "json" => {
            let records: Vec<Value> = serde_json::from_str(&text).expect("a JSON array");
            records.iter().map(pair).collect()
        }
        "csv" => {
            assert!(text.ends_with('\n'), "a cut line: {text}");
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let header: Vec<String> = reader
                .headers()
                .unwrap()
                .iter()
                .map(str::to_string)
                .collect();
            assert_eq!(header, Record::FIELDS);
            let at = |field| Record::FIELDS.iter().position(|f| *f == field).unwrap();
            reader
                .records()
                .map(|row| {
                    let row = row.expect("a whole CSV row");
                    (row[at("name")].to_string(), row[at("category")].to_string())
                })
                .collect()
        }
        "junit" => {
            let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
            let suite = doc
                .descendants()
                .find(|n| n.has_tag_name("testsuite"))
                .expect("a test suite");
            let cases: Vec<(String, String)> = suite
                .children()
                .filter(|n| n.has_tag_name("testcase"))
                .map(|case| {
                    let category = case
                        .children()
                        .find(|n| n.has_tag_name("failure"))
                        .map_or("ok", |f| f.attribute("type").unwrap());
                    // The case's name says more than the asset's: the record has it.
                    let output = case
                        .children()
                        .find(|n| n.has_tag_name("system-out"))
                        .and_then(|n| n.text())
                        .unwrap_or_default();
                    let name = output
                        .lines()
                        .find_map(|line| line.strip_prefix("name: "))
                        .expect("the record's name");
                    (name.to_string(), category.to_string())
                })
                .collect();
            assert_eq!(
                suite.attribute("tests"),
                Some(cases.len().to_string().as_str())
            );
            cases
        }
        other => panic!("no check for {other}"),
    }
}

/// Temporary files left beside the outputs.
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect()
}

const FORMATS: [&str; 4] = ["csv", "jsonl", "json", "junit"];
const HANG: [&str; 4] = ["--banner-timeout", "60m", "--timeout", "120m"];

/// One run per format, stopped by `signal` once the ok assets are recorded.
async fn every_format_survives(signal: Signal, status: i32) {
    for format in FORMATS {
        let (slow, output, stderr) = SlowFarm::interrupted(format, signal, status).await;

        let results = results(format, &output);
        let named = |category: &str| -> BTreeSet<String> {
            results
                .iter()
                .filter(|(_, c)| c == category)
                .map(|(n, _)| n.clone())
                .collect()
        };
        assert_eq!(
            named("ok"),
            slow.ok,
            "{format}: every finished result is there"
        );
        let cut: BTreeSet<String> = slow.silent[..CONCURRENCY].iter().cloned().collect();
        assert_eq!(
            named("interrupted"),
            cut,
            "{format}: the silent ones in flight"
        );
        assert_eq!(results.len(), OK + CONCURRENCY, "{format}: {results:?}");
        let name = signal.as_str();
        let said = format!(
            "interrupted by {name}: {CONCURRENCY} probe(s) cut short (recorded as interrupted), {} inventory row(s) not probed",
            SILENT - CONCURRENCY
        );
        assert!(
            stderr.contains(&said),
            "{format}: the summary says {said:?}:\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("{} assets in", OK + CONCURRENCY)),
            "{stderr}"
        );
        assert_eq!(leftovers(slow.dir.path()), Vec::<String>::new(), "{format}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_leaves_every_format_valid_and_complete() {
    every_format_survives(Signal::SIGINT, 130).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_leaves_every_format_valid_and_complete() {
    every_format_survives(Signal::SIGTERM, 143).await;
}

/// A server of the test's own on loopback, and files naming it `rows` times: each probe
/// of it waits for a banner until the test lets its connection go.
struct Held {
    dir: tempfile::TempDir,
    listener: tokio::net::TcpListener,
    inventory: PathBuf,
}

impl Held {
    async fn start(rows: usize) -> Held {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        fs::write(dir.path().join("pw"), "secret\n").unwrap();
        fs::write(
            dir.path().join("credentials.toml"),
            "[credentials.ops]\nusername = \"root\"\npassword_file = \"pw\"\n",
        )
        .unwrap();
        let mut inventory = String::from("name,host,port,admin_user\n");
        for row in 0..rows {
            inventory.push_str(&format!("held-{row},127.0.0.1,{port},ops\n"));
        }
        let path = dir.path().join("held.csv");
        fs::write(&path, inventory).unwrap();
        Held {
            dir,
            listener,
            inventory: path,
        }
    }

    /// `prober check INVENTORY` of it with these options, jsonl into results.jsonl.
    fn args(&self, inventory: &Path, extra: &[&str]) -> Vec<std::ffi::OsString> {
        let dir = self.dir.path();
        let mut argv = args([
            "check".as_ref(),
            inventory.as_os_str(),
            "--credentials".as_ref(),
            dir.join("credentials.toml").as_os_str(),
            "--known-hosts".as_ref(),
            dir.join("known_hosts").as_os_str(),
            "--format".as_ref(),
            "jsonl".as_ref(),
            "-o".as_ref(),
            dir.join("results.jsonl").as_os_str(),
        ]);
        argv.extend(args(extra));
        argv
    }

    /// The next connection, held open; a prober that ends first fails the test.
    async fn accept(&self, child: &mut Child) -> tokio::net::TcpStream {
        // Only so a broken build fails instead of waiting for a connection forever.
        let guard = tokio::time::sleep(Duration::from_secs(300));
        tokio::select! {
            accepted = self.listener.accept() => accepted.unwrap().0,
            status = child.wait() => panic!("prober ended before connecting: {status:?}"),
            () = guard => panic!("prober did not connect"),
        }
    }

    fn results(&self) -> Vec<(String, String)> {
        results("jsonl", &self.dir.path().join("results.jsonl"))
    }
}

/// `prober` with these arguments, its stdin a pipe the test holds, its stderr line by line.
fn spawn(argv: Vec<std::ffi::OsString>) -> (Child, mpsc::UnboundedReceiver<String>) {
    let mut child = Command::from(prober_command())
        .args(argv)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run prober");
    let (lines_tx, lines) = mpsc::unbounded_channel();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            let _ = lines_tx.send(line);
        }
    });
    (child, lines)
}

/// What prober said up to the line that contains `wanted`.
async fn said_until(stderr: &mut mpsc::UnboundedReceiver<String>, wanted: &str) -> String {
    let mut said = String::new();
    while !said.contains(wanted) {
        let line = stderr
            .recv()
            .await
            .unwrap_or_else(|| panic!("prober ended without saying {wanted:?}:\n{said}"));
        said.push_str(&line);
        said.push('\n');
    }
    said
}

/// Probes in flight at the signal that end on their own within the grace: the test lets
/// their connections go once prober says it is stopping, so they end after the signal
/// however slow the machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_that_end_within_the_grace_get_their_own_verdict() {
    const ROWS: usize = 5;
    const IN_FLIGHT: usize = 2;
    let held = Held::start(ROWS).await;
    let concurrency = IN_FLIGHT.to_string();
    let mut extra = HANG.to_vec();
    // Every probe is of the same host:port: let them all in at once.
    extra.extend(["--grace", "60m", "--concurrency", &concurrency]);
    extra.extend(["--per-host", &concurrency]);
    let (mut child, mut stderr) = spawn(held.args(&held.inventory, &extra));
    let mut connections = Vec::new();
    for _ in 0..IN_FLIGHT {
        let connection = held.accept(&mut child).await;
        // Its identification line: the probe is past connecting, waiting for a banner.
        let mut connection = BufReader::new(connection);
        let mut line = String::new();
        connection.read_line(&mut line).await.unwrap();
        assert!(line.starts_with("SSH-2.0-"), "{line:?}");
        connections.push(connection.into_inner());
    }
    send(&child, Signal::SIGINT);
    let mut said = said_until(&mut stderr, "no new probes").await;
    // A reset, whatever prober has sent by then: a close with its banner unread would
    // reset too, but only once the banner has arrived.
    for connection in connections {
        connection.set_zero_linger().unwrap();
    }
    let (exit, rest) = ended(child, stderr).await;
    said.push_str(&rest);
    assert_eq!(exit.code(), Some(130), "{said}");
    let results = held.results();
    assert_eq!(results.len(), IN_FLIGHT, "{results:?}");
    for (name, category) in &results {
        assert_eq!(category, "ssh_reset_before_banner", "{name}: {said}");
    }
    let expected = format!(
        "interrupted by SIGINT: 0 probe(s) cut short (recorded as interrupted), {} inventory row(s) not probed",
        ROWS - IN_FLIGHT
    );
    assert!(said.contains(&expected), "{expected:?} in:\n{said}");
}

/// An inventory on a pipe that has not ended: the signal still ends the run once the
/// grace is over, and the rows not read are not claimed to be counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_on_an_endless_pipe_ends_with_the_grace() {
    let held = Held::start(1).await;
    let mut extra = HANG.to_vec();
    extra.extend(["--grace", "200ms"]);
    let (mut child, stderr) = spawn(held.args(Path::new("-"), &extra));
    let mut stdin = child.stdin.take().unwrap();
    let rows = fs::read(&held.inventory).unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stdin, &rows)
        .await
        .unwrap();
    let _connection = held.accept(&mut child).await;
    send(&child, Signal::SIGINT);
    // Only so a broken build fails instead of waiting for a pipe that never ends.
    let (exit, said) = tokio::time::timeout(Duration::from_secs(300), ended(child, stderr))
        .await
        .expect("the run ends with the grace while its stdin stays open");
    assert_eq!(exit.code(), Some(130), "{said}");
    assert_eq!(held.results(), [("held-0".into(), "interrupted".into())]);
    assert!(
        said.contains("inventory rows not probed were not counted"),
        "{said}"
    );
    drop(stdin);
}

/// Whether one of `pid`'s threads waits in a read of an empty pipe (the kernel names
/// the wait `pipe_read`, `anon_pipe_read` or `pipe_wait`, depending on its version).
fn reads_a_pipe(pid: u32) -> bool {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|task| {
        fs::read_to_string(task.path().join("wchan")).is_ok_and(|wchan| wchan.contains("pipe"))
    })
}

/// Before any row has come on stdin, a signal ends prober as it ends any process that
/// does not handle it: nothing is written yet, so there is nothing to close.
async fn a_signal_while_waiting_for_the_inventory_ends_the_process(signal: Signal) {
    let held = Held::start(1).await;
    let (mut child, stderr) = spawn(held.args(Path::new("-"), &[]));
    let stdin = child.stdin.take().unwrap();
    let pid = child.id().unwrap();
    while !reads_a_pipe(pid) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("prober ended before reading its stdin: {status}");
        }
        tokio::task::yield_now().await;
    }
    send(&child, signal);
    // Only so a broken build fails instead of waiting for a pipe that never ends.
    let (exit, said) = tokio::time::timeout(Duration::from_secs(300), ended(child, stderr))
        .await
        .expect("the signal ends prober while its stdin stays open");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(exit.signal(), Some(signal as i32), "{exit}: {said}");
    assert!(!held.dir.path().join("results.jsonl").exists());
    drop(stdin);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_while_waiting_for_the_inventory_ends_the_process() {
    a_signal_while_waiting_for_the_inventory_ends_the_process(Signal::SIGINT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_waiting_for_the_inventory_ends_the_process() {
    a_signal_while_waiting_for_the_inventory_ends_the_process(Signal::SIGTERM).await;
}

/// A second signal while the grace runs: the run ends at once, lines whole.
/// The latest category of every subject in a results file, as `--resume` reads it.
fn latest(format: &str, path: &Path) -> std::collections::BTreeMap<String, String> {
    results(format, path).into_iter().collect()
}

/// Stopped by `signal`, then `--resume`d with a banner timeout that lets the silent assets
/// end: the resumed run connects to exactly the assets not finished before (the ones cut
/// short and the ones never reached), and the file then holds what one uninterrupted run
/// gives.
async fn resume_completes_exactly_the_rest(signal: Signal, status: i32) {
    for format in ["jsonl", "csv"] {
        let (slow, output, _) = SlowFarm::interrupted(format, signal, status).await;
        let before = latest(format, &output);
        let finished: BTreeSet<&String> = before
            .iter()
            .filter(|(_, category)| *category != "interrupted")
            .map(|(name, _)| name)
            .collect();
        assert_eq!(finished, slow.ok.iter().collect(), "{format}");

        // The silent assets now end quickly with their own verdict.
        let end_soon = ["--banner-timeout", "300ms", "--grace", "200ms"];
        let accepted = slow.farm.accepted();
        let resumed = prober(
            &args([
                "check".as_ref(),
                slow.files.inventory.as_os_str(),
                "--credentials".as_ref(),
                slow.files.credentials.as_os_str(),
                "--known-hosts".as_ref(),
                slow.path("known_hosts").as_os_str(),
                "--resume".as_ref(),
                output.as_os_str(),
                "--concurrency".as_ref(),
                "16".as_ref(),
            ])
            .into_iter()
            .chain(args(end_soon))
            .collect::<Vec<_>>(),
        )
        .await;
        assert_eq!(resumed.status, 1, "{format}: {}", resumed.stderr);
        assert_eq!(
            slow.farm.accepted() - accepted,
            SILENT,
            "{format}: only the assets not finished are probed again"
        );

        let whole = slow.path(&format!("whole.{format}"));
        let (child, stderr) = slow.start_check(format, &whole, &end_soon);
        let (exit, stderr) = ended(child, stderr).await;
        assert_eq!(exit.code(), Some(1), "{format}: {exit}\n{stderr}");
        let union = latest(format, &output);
        assert_eq!(union, latest(format, &whole), "{format}");
        assert!(union.values().all(|c| c != "interrupted"), "{union:?}");
        assert_eq!(union.len(), OK + SILENT);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_sigint_completes_exactly_the_rest() {
    resume_completes_exactly_the_rest(Signal::SIGINT, 130).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_sigterm_completes_exactly_the_rest() {
    resume_completes_exactly_the_rest(Signal::SIGTERM, 143).await;
}

/// Interrupted results hold what probing their assets again takes: `--from RESULTS --only
/// interrupted` probes exactly those assets again from the results file alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_results_are_probed_again_from_the_results_alone() {
    let (slow, output, _) = SlowFarm::interrupted("jsonl", Signal::SIGINT, 130).await;

    let accepted = slow.farm.accepted();
    let again = prober(args([
        "check".as_ref(),
        "--from".as_ref(),
        output.as_os_str(),
        "--only".as_ref(),
        "interrupted".as_ref(),
        "--credentials".as_ref(),
        slow.files.credentials.as_os_str(),
        "--known-hosts".as_ref(),
        slow.path("known_hosts").as_os_str(),
        "--format".as_ref(),
        "jsonl".as_ref(),
        "--banner-timeout".as_ref(),
        "300ms".as_ref(),
    ]))
    .await;
    assert_eq!(again.status, 1, "{}", again.stderr);
    let probed: BTreeSet<String> = again
        .records()
        .iter()
        .map(|record| {
            assert_eq!(record["category"], "ssh_banner_timeout", "{record:#}");
            record["name"].as_str().unwrap().to_string()
        })
        .collect();
    let cut: BTreeSet<String> = slow.silent[..CONCURRENCY].iter().cloned().collect();
    assert_eq!(probed, cut, "{}", again.stderr);
    assert_eq!(slow.farm.accepted() - accepted, CONCURRENCY);
}

async fn second_signal(format: &str) -> (SlowFarm, PathBuf, String) {
    let slow = SlowFarm::start().await;
    let output = slow.path(&format!("results.{format}"));
    fs::write(&output, "previous\n").unwrap();
    let mut extra = HANG.to_vec();
    extra.extend(["--grace", "60m"]);
    let (mut child, mut stderr) = slow.start_check(format, &output, &extra);
    slow.every_slot_silent(&mut child).await;
    send(&child, Signal::SIGTERM);
    let mut said = String::new();
    while !said.contains("no new probes") {
        let line = stderr.recv().await.expect("prober says it is stopping");
        said.push_str(&line);
        said.push('\n');
    }
    send(&child, Signal::SIGINT);
    // Only so a broken build fails instead of waiting out the hour of grace.
    let (exit, rest) = tokio::time::timeout(Duration::from_secs(300), ended(child, stderr))
        .await
        .expect("a second signal ends the run");
    said.push_str(&rest);
    assert_eq!(exit.code(), Some(143), "the first signal's status: {said}");
    assert!(
        said.contains("stopped at once by a second signal (SIGINT)"),
        "{said}"
    );
    assert_eq!(leftovers(slow.dir.path()), Vec::<String>::new());
    (slow, output, said)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_ends_at_once_with_whole_lines() {
    let (slow, output, said) = second_signal("jsonl").await;
    let results = results("jsonl", &output);
    let ok: BTreeSet<String> = results
        .iter()
        .map(|(name, category)| {
            assert_eq!(
                category, "ok",
                "probes in flight are not recorded: {results:?}"
            );
            name.clone()
        })
        .collect();
    assert_eq!(ok, slow.ok, "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_leaves_a_previous_json_file_as_it_was() {
    let (_slow, output, said) = second_signal("json").await;
    assert_eq!(fs::read_to_string(&output).unwrap(), "previous\n");
    assert!(said.contains("was not written"), "{said}");
}

/// One ok asset and its files, for the output checks.
async fn one_asset() -> (Farm, tempfile::TempDir, FarmFiles) {
    let farm = Farm::start(FarmSpec {
        assets: 1,
        mix: Mix::only(mix::OK),
        seed: 1,
        port: 0,
        record_accepts: false,
    })
    .await
    .expect("the farm starts");
    let dir = tempfile::tempdir().unwrap();
    let files = farm.write_files(&dir.path().join("farm.csv")).unwrap();
    (farm, dir, files)
}

fn check_into(files: &FarmFiles, dir: &Path, output: &Path) -> Vec<std::ffi::OsString> {
    args([
        "check".as_ref(),
        files.inventory.as_os_str(),
        "--credentials".as_ref(),
        files.credentials.as_os_str(),
        "--known-hosts".as_ref(),
        dir.join("known_hosts").as_os_str(),
        "--format".as_ref(),
        "jsonl".as_ref(),
        "-q".as_ref(),
        "-o".as_ref(),
        output.as_os_str(),
    ])
}

#[tokio::test]
async fn results_are_never_written_over_an_input() {
    let (farm, dir, files) = one_asset().await;
    let inventory = fs::read(&files.inventory).unwrap();
    let credentials = fs::read(&files.credentials).unwrap();
    let hard = dir.path().join("hard.csv");
    fs::hard_link(&files.inventory, &hard).unwrap();
    let soft = dir.path().join("soft.csv");
    std::os::unix::fs::symlink(&files.inventory, &soft).unwrap();
    let dotted = dir.path().join(".").join("farm.csv");
    for (output, what) in [
        (files.inventory.clone(), "inventory"),
        (hard, "inventory"),
        (soft, "inventory"),
        (dotted, "inventory"),
        (files.credentials.clone(), "credentials file"),
    ] {
        let run = prober(check_into(&files, dir.path(), &output)).await;
        assert_eq!(run.status, 2, "{}: {}", output.display(), run.stderr);
        assert!(
            run.stderr.contains(&format!("is the {what}")),
            "{}: {}",
            output.display(),
            run.stderr
        );
    }
    assert_eq!(fs::read(&files.inventory).unwrap(), inventory);
    assert_eq!(fs::read(&files.credentials).unwrap(), credentials);
    assert_eq!(farm.accepted(), 0, "refused before any probe");
}

#[tokio::test]
async fn stdout_appended_to_the_inventory_is_refused() {
    let (farm, dir, files) = one_asset().await;
    let before = fs::read(&files.inventory).unwrap();
    let appended = fs::OpenOptions::new()
        .append(true)
        .open(&files.inventory)
        .unwrap();
    let mut argv = check_into(&files, dir.path(), Path::new("-"));
    argv.truncate(argv.len() - 2);
    let output = Command::from(prober_command())
        .args(argv)
        .stdout(appended)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
        .wait_with_output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("stdout is the inventory"), "{stderr}");
    assert_eq!(fs::read(&files.inventory).unwrap(), before);
    assert_eq!(farm.accepted(), 0);
}

#[tokio::test]
async fn a_dash_output_is_stdout() {
    let (_farm, dir, files) = one_asset().await;
    let output = Command::from(prober_command())
        .args(check_into(&files, dir.path(), Path::new("-")))
        .current_dir(dir.path())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let record: Value = serde_json::from_str(stdout.trim()).expect("one JSON line on stdout");
    assert_eq!(record["category"], "ok");
    assert!(!dir.path().join("-").exists(), "no file named -");
}
