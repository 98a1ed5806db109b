//! Reading the inventory as operators hand it over: Excel's encodings and line ends, stdin,
//! empty exports, and a file with one endless line.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};

use fixtures::lab::{Lab, scenarios};
use prober_engine::inventory::exports::JUMPSERVER_1_4_ZH;
use serde_json::Value;

use crate::util::{args, prober, prober_command, prober_with_stdin};

/// A character GB18030 encodes (in four bytes) and GBK cannot: CJK Extension B, found in
/// names.
const OUTSIDE_GBK: char = '𠮷';

/// The Chinese JumpServer 1.4 export of the lab's one asset, as JumpServer writes it
/// (UTF-8, BOM, CRLF), with a bad row and two rows to skip; one skipped row's name ends in
/// [`OUTSIDE_GBK`].
fn export_1_4_zh(port: &str) -> String {
    format!(
        "\u{feff}{JUMPSERVER_1_4_ZH}\r\n\
         1,127.0.0.1,数据库-1,ssh,{port},Linux,,True,lab-root,,\"第一行\r\n第二行\"\r\n\
         2,127.0.0.1,坏端口,ssh,70000,Linux,,True,lab-root,,\r\n\
         3,127.0.0.1,停用{OUTSIDE_GBK},ssh,{port},Linux,,False,lab-root,,\r\n\
         4,127.0.0.1,远程桌面,rdp,3389,Windows,,True,,,\r\n"
    )
}

fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
    let units = std::iter::once(0xfeff).chain(text.trim_start_matches('\u{feff}').encode_utf16());
    units
        .flat_map(|u| {
            if little_endian {
                u.to_le_bytes()
            } else {
                u.to_be_bytes()
            }
        })
        .collect()
}

/// What a record says, less the inventory's file name (it differs per variant) and times.
fn outcome(record: &Value) -> (String, String, String) {
    let message = record["message"].as_str().unwrap_or_default();
    let message = message.split_once(": ").map_or(message, |(_, rest)| rest);
    (
        record["name"].as_str().unwrap_or_default().to_string(),
        record["category"].as_str().unwrap_or_default().to_string(),
        message.to_string(),
    )
}

#[tokio::test]
async fn the_chinese_1_4_export_gives_the_same_results_in_every_encoding() {
    let lab = Lab::start(&[scenarios::OK_ROOT]).await.unwrap();
    let text = export_1_4_zh(lab.port(&scenarios::OK_ROOT));
    let bare = text.trim_start_matches('\u{feff}');
    // GBK holds all but that one character: its variants leave it out.
    let (_, _, lossy) = encoding_rs::GBK.encode(bare);
    assert!(lossy, "GBK cannot encode {OUTSIDE_GBK}");
    let without = bare.replace(OUTSIDE_GBK, "");
    let (gbk, _, lossy) = encoding_rs::GBK.encode(&without);
    assert!(!lossy);
    let gbk = gbk.into_owned();
    let (gb18030, _, lossy) = encoding_rs::GB18030.encode(bare);
    assert!(!lossy);
    let gb18030 = gb18030.into_owned();
    let variants: [(&str, Vec<u8>, &[&str]); 8] = [
        ("utf8.csv", text.clone().into_bytes(), &[]),
        ("gbk.csv", gbk.clone(), &[]),
        ("gbk-named.csv", gbk, &["--encoding", "gbk"]),
        ("gb18030.csv", gb18030, &[]),
        ("utf16le.txt", utf16(&text.replace(',', "\t"), true), &[]),
        (
            "utf16be.csv",
            utf16(&text, false),
            &["--encoding", "utf-16be"],
        ),
        ("utf16be-bom.csv", utf16(&text, false), &[]),
        ("lf.csv", text.replace("\r\n", "\n").into_bytes(), &[]),
    ];
    let mut reference = None;
    for (file, bytes, extra) in variants {
        let inventory = lab.dir().join(file);
        std::fs::write(&inventory, bytes).unwrap();
        let mut argv = lab.check_args_for(&inventory);
        argv.extend(args(extra));
        argv.extend(args(["--format", "jsonl", "--quiet"]));
        let run = prober(argv).await;
        assert_eq!(run.status, 1, "{file}: {}", run.stderr);
        let mut outcomes: Vec<_> = run.records().iter().map(outcome).collect();
        if !file.starts_with("gbk") {
            let whole = format!("停用{OUTSIDE_GBK}");
            assert!(
                outcomes.iter().any(|o| o.0 == whole),
                "{file}: {outcomes:?}"
            );
        }
        for outcome in &mut outcomes {
            outcome.0 = outcome.0.replace(OUTSIDE_GBK, "");
        }
        outcomes.sort();
        let reference = reference.get_or_insert_with(|| outcomes.clone());
        assert_eq!(&outcomes, reference, "{file}");
    }
    let reference = reference.unwrap();
    let category = |name: &str| {
        let found = reference.iter().find(|(n, _, _)| n == name);
        found.map(|(_, c, m)| (c.as_str(), m.as_str())).unwrap()
    };
    assert_eq!(category("数据库-1").0, "ok");
    // Line 4, not 3: the first row's comment spans two lines.
    assert_eq!(
        category("坏端口"),
        (
            "inventory_invalid",
            "line 4, field port: port 70000 is out of range 1-65535"
        )
    );
    assert_eq!(category("停用").0, "skipped");
    assert_eq!(category("远程桌面").0, "skipped");

    // The wrong encoding named: refused for its header, before any connection.
    let inventory = lab.dir().join("gbk.csv");
    let mut argv = lab.check_args_for(&inventory);
    argv.extend(args(["--format", "jsonl", "--encoding", "utf-8"]));
    let run = prober(argv).await;
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("give --encoding"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[tokio::test]
async fn stdin_is_read_for_dash_and_named_stdin() {
    let lab = Lab::start(&[scenarios::OK_ROOT]).await.unwrap();
    let port = lab.port(&scenarios::OK_ROOT);
    let inventory = format!(
        "name,host,port,admin_user,owner\r\ngood,127.0.0.1,{port},lab-root,me\r\nbad,127.0.0.1,0,lab-root,\r\n"
    );
    let mut argv = lab.check_args_for(Path::new("-"));
    argv.extend(args(["--format", "jsonl", "--quiet"]));
    let run = prober_with_stdin(argv, inventory.into_bytes()).await;
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_eq!(run.record("good")["category"], "ok");
    assert!(
        run.stderr
            .contains("warning: inventory stdin: columns not read: owner"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.record("bad")["message"],
        "stdin: line 3, field port: port 0 is out of range 1-65535"
    );
}

#[tokio::test]
async fn an_inventory_without_rows_exits_2_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let header = format!("\u{feff}{JUMPSERVER_1_4_ZH}\r\n");
    for (file, text) in [
        ("empty.csv", ""),
        ("header-only.csv", header.as_str()),
        ("comments.txt", "# no hosts yet\n\n"),
    ] {
        let inventory = dir.path().join(file);
        std::fs::write(&inventory, text).unwrap();
        let check = |extra: &'static [&'static str]| {
            let mut argv = args([
                "check".as_ref(),
                inventory.as_os_str(),
                "--user".as_ref(),
                "x".as_ref(),
                "--password-env".as_ref(),
                "PROBER_TEST_UNSET".as_ref(),
                "--host-key-check".as_ref(),
                "off".as_ref(),
            ]);
            argv.extend(args(extra));
            prober(argv)
        };
        let run = check(&[]).await;
        assert_eq!(run.status, 2, "{file}: {}", run.stderr);
        let said = format!("no assets in {}", inventory.display());
        assert!(run.stderr.contains(&said), "{file}: {}", run.stderr);
        let run = check(&["--allow-empty", "--format", "jsonl"]).await;
        assert_eq!((run.status, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    }
}

/// Peak memory of a child: the high-water mark of its own address space, read from
/// /proc while it runs. Not wait4's ru_maxrss: the kernel folds into that the memory of the
/// process it was spawned from (the test binary, which a busy test run makes large), as
/// posix_spawn's child shares its parent's memory until exec.
fn run_measured(command: &mut Command) -> (i32, String, u64) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run prober");
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).unwrap();
        text
    });
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    let mut readings = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        // VmHWM only grows while the process lives; a reading as it exits may be missing.
        if let Some(kib) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|text| high_water_kib(&text))
        {
            peak_kib = peak_kib.max(kib);
            readings += 1;
        }
        // The poll's pace, not a wait for something to happen.
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    assert!(
        readings > 0,
        "the prober ended before its memory could be read"
    );
    (
        status.code().unwrap_or(-1),
        reader.join().unwrap(),
        peak_kib,
    )
}

fn high_water_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_gigabyte_single_line_inventory_is_read_past_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    for (name, start) in [
        ("line.txt", &b"a"[..]),
        ("field.csv", &b"host,name\n\"10.0.0.1"[..]),
    ] {
        let inventory = dir.path().join(name);
        let file = File::create(&inventory).unwrap();
        std::io::Write::write_all(&mut &file, start).unwrap();
        // Sparse: a gigabyte of NUL bytes that takes no disk.
        file.set_len(1 << 30).unwrap();
        drop(file);
        let (status, stdout, peak_kib) = run_measured(
            prober_command()
                .arg("check")
                .arg(&inventory)
                .args(["--user", "x", "--password-env", "PROBER_TEST_UNSET"])
                .args(["--host-key-check", "off", "--quiet", "--format", "jsonl"]),
        );
        assert_eq!(status, 1, "{name}: {stdout}");
        let records: Vec<Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(records.len(), 1, "{name}: {stdout}");
        assert_eq!(records[0]["category"], "inventory_invalid");
        let message = records[0]["message"].as_str().unwrap();
        assert!(message.contains("longer than 64 KiB"), "{message}");
        assert!(
            stdout.len() < 4096,
            "{name}: a record of {} bytes",
            stdout.len()
        );
        assert!(
            peak_kib < 50 * 1024,
            "{name}: peak memory {peak_kib} KiB for a 1 GiB line"
        );
    }
}

/// `prober check - … < inventory.csv` with the results going to that same file, by `-o`,
/// `--resume` or stdout (`>>`): refused before anything is written or probed. Once, the
/// prober read its own results back as inventory rows and grew the file without end.
#[test]
fn stdin_that_is_the_results_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory.csv");
    let text = "name,host,port\nnone,127.0.0.1,1\n";
    let ways: [(&str, &[&str]); 3] = [
        ("--output", &["-o", "inventory.csv", "--format", "csv"]),
        ("--resume", &["--resume", "inventory.csv"]),
        ("stdout", &["--format", "csv"]),
    ];
    for (shown, extra) in ways {
        std::fs::write(&inventory, text).unwrap();
        let appended = std::fs::OpenOptions::new()
            .append(true)
            .open(&inventory)
            .unwrap();
        let mut child = prober_command()
            .args(["check", "-", "--user", "x", "--password-env"])
            .args(["PROBER_TEST_UNSET", "--host-key-check", "off", "--quiet"])
            .args(extra)
            .current_dir(dir.path())
            .stdin(File::open(&inventory).unwrap())
            .stdout(if shown == "stdout" {
                Stdio::from(appended)
            } else {
                Stdio::null()
            })
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Without the refusal the file grows without end: stop it at a size no inventory
        // of one row reaches, rather than wait for ever.
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::fs::metadata(&inventory).unwrap().len() > 1 << 20 {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("{shown}: the prober read its own results back");
            }
            std::thread::yield_now();
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(2), "{shown}: {stderr}");
        assert!(stderr.contains(shown), "{stderr}");
        assert!(
            stderr.contains("is the inventory read from stdin"),
            "{shown}: {stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(&inventory).unwrap(),
            text,
            "{shown}"
        );
    }
}

/// Chinese names stay as they are in messages: only what a terminal acts on is escaped.
#[tokio::test]
async fn chinese_names_are_shown_as_written_in_messages() {
    let lab = Lab::start(&[scenarios::OK_ROOT]).await.unwrap();
    let port = lab.port(&scenarios::OK_ROOT);
    let inventory = lab.dir().join("names.csv");
    std::fs::write(
        &inventory,
        format!(
            "name,host,port,admin_user,system_users\n\
             数据库-1,127.0.0.1,{port},lab-root,运维\n\
             数据库-2,127.0.0.1,{port},lab-root,运维\u{1b}[2J\n"
        ),
    )
    .unwrap();
    let mut argv = lab.check_args_for(&inventory);
    argv.extend(args(["--format", "jsonl", "--quiet"]));
    let run = prober(argv).await;
    assert_eq!(run.status, 1, "{}", run.stderr);
    let message = |name: &str| run.record(name)["message"].as_str().unwrap().to_string();
    assert!(
        message("数据库-1").contains("unknown credential `运维`"),
        "{}",
        message("数据库-1")
    );
    assert!(
        message("数据库-2").contains("unknown credential `运维\\u{1b}[2J`"),
        "{}",
        message("数据库-2")
    );
}
