//! Hostile servers and inventories: escape sequences and spreadsheet formulas in what the
//! prober copies into its results reach no terminal and no spreadsheet, in any format.

use std::fmt::Write as _;

use crate::util::{args, prober};
use fixtures::hostile::FORMULA;
use fixtures::lab::{Lab, scenarios};
use prober_engine::report::Record;

/// Asset names from a hostile inventory, each probing the hostile inspection host.
const NAMES: &[&str] = &[
    FORMULA,
    "-2+3 \x1b[31mred",
    "@SUM(1);=1+2\x1b]0;pwned\x07",
    " +cmd|' /C calc'!A0",
];

/// What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection").
const FORMULA_STARTS: &[char] = &['=', '+', '-', '@', '\t', '\r', '\n'];

/// The lab's inventory, plus rows whose names are hostile.
fn hostile_inventory(lab: &Lab) -> std::path::PathBuf {
    let mut inventory = std::fs::read_to_string(lab.inventory()).unwrap();
    let port = lab.port(&scenarios::HOSTILE_INSPECTION).to_string();
    for name in NAMES {
        let quoted = name.replace('"', "\"\"");
        let _ = writeln!(inventory, "\"{quoted}\",127.0.0.1,{port},lab-root,,,true");
    }
    let path = lab.dir().join("hostile.csv");
    std::fs::write(&path, inventory).unwrap();
    path
}

/// Characters a terminal acts on: C0 but the line feed, DEL and C1.
fn raw_control(text: &str) -> Option<char> {
    text.chars().find(|c| c.is_control() && *c != '\n')
}

/// Whether a spreadsheet would read a cell, or a piece of it a `;`-separated import
/// starts a cell with, as a formula.
fn reads_as_formula(cell: &str) -> bool {
    cell.split(';').any(|piece| {
        piece
            .trim_start_matches([' ', '"'])
            .starts_with(FORMULA_STARTS)
    })
}

#[tokio::test]
async fn hostile_text_is_escaped_and_neutralised_in_every_format() {
    let lab = Lab::start(scenarios::HOSTILE).await.unwrap();
    let inventory = hostile_inventory(&lab);
    let run_with = |format: &str| {
        let mut argv = lab.check_args_for(&inventory);
        argv.extend(args(["--quiet", "--format", format]));
        prober(argv)
    };

    // The hostile text did reach the records, escaped, and they stay small.
    let jsonl = run_with("jsonl").await;
    for scenario in scenarios::HOSTILE {
        let record = jsonl.record(scenario.name);
        assert_eq!(record["category"], scenario.expected.id(), "{record}");
    }
    assert_eq!(jsonl.record("hostile-banner")["banner"], FORMULA);
    let kex = jsonl.record("hostile-kex");
    let message = kex["message"].as_str().unwrap();
    assert!(
        message.contains("HYPERLINK") && message.contains("\\u{1b}[31m"),
        "{message}"
    );
    assert!(
        message.contains("more)"),
        "the offer is excerpted: {message}"
    );
    assert!(kex["banner"].as_str().unwrap().contains("\\u{1b}"), "{kex}");
    let inspected = jsonl.record("hostile-inspection");
    assert!(
        inspected["python"].as_str().unwrap().contains("\\u{1b}]0;"),
        "{inspected}"
    );
    assert!(
        inspected["facts"]["hostname"]
            .as_str()
            .unwrap()
            .starts_with(FORMULA)
    );
    for line in jsonl.stdout.lines() {
        assert!(
            line.len() <= Record::MAX_WRITTEN,
            "{} bytes: {line}",
            line.len()
        );
    }
    let named = jsonl.records().len();
    assert_eq!(
        named,
        scenarios::HOSTILE.len() + NAMES.len(),
        "{}",
        jsonl.stdout
    );

    let mut outputs = vec![("jsonl", jsonl.status, jsonl.stdout.clone())];
    for format in ["table", "csv", "json", "junit"] {
        let run = run_with(format).await;
        outputs.push((format, run.status, run.stdout));
    }
    for (format, status, stdout) in &outputs {
        assert_eq!(*status, 1, "{format}");
        assert!(stdout.contains("HYPERLINK"), "{format}: {stdout}");
        if let Some(c) = raw_control(stdout) {
            panic!("{format} writes {c:?} raw:\n{stdout}");
        }
    }

    let csv = &outputs
        .iter()
        .find(|(format, ..)| *format == "csv")
        .unwrap()
        .2;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let mut rows = 0;
    for row in reader.records() {
        let row = row.unwrap();
        for cell in &row {
            assert!(!reads_as_formula(cell), "a formula in CSV: {cell:?}");
        }
        rows += 1;
    }
    assert_eq!(rows, named);
    assert!(
        csv.contains(&format!("'{}", FORMULA.replace('"', "\"\""))),
        "{csv}"
    );

    // What a person reads beside the results: the summary, hints and warnings on stderr,
    // and `diff` of these results in every format.
    let old = lab.dir().join("hostile-old.jsonl");
    let mut argv = lab.check_args_for(&inventory);
    argv.extend(args([
        "--format".as_ref(),
        "jsonl".as_ref(),
        "-o".as_ref(),
        old.as_os_str(),
    ]));
    let loud = prober(argv).await;
    assert_eq!(loud.status, 1, "{}", loud.stderr);
    assert!(!loud.stderr.is_empty());
    if let Some(c) = raw_control(&loud.stderr) {
        panic!("stderr has {c:?} raw:\n{}", loud.stderr);
    }
    // The same subjects, each now with a category of a (hostile) newer prober.
    let new = lab.dir().join("hostile-new.jsonl");
    let mut changed = String::new();
    for line in std::fs::read_to_string(&old).unwrap().lines() {
        let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
        record["category"] = "\u{1b}]0;pwned\u{7}\u{9b}2J=1+2".into();
        changed.push_str(&format!("{record}\n"));
    }
    std::fs::write(&new, changed).unwrap();
    for format in ["table", "jsonl", "md"] {
        let diff = prober(args([
            "diff".as_ref(),
            old.as_os_str(),
            new.as_os_str(),
            "--format".as_ref(),
            format.as_ref(),
        ]))
        .await;
        assert_eq!(diff.status, 1, "{format}: {}", diff.stderr);
        assert!(
            diff.stdout.contains("HYPERLINK"),
            "{format}: {}",
            diff.stdout
        );
        for text in [&diff.stdout, &diff.stderr] {
            if let Some(c) = raw_control(text) {
                panic!("diff --format {format} writes {c:?} raw:\n{text}");
            }
        }
    }
}
