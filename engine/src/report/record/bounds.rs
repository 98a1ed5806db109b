//! Records built from huge and hostile inputs stay small and terminal-safe in every
//! format.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::probe::Observations;
use crate::report::{Format, Summary, Title, sink};

/// Text from a hostile server or inventory: escape sequences, formulas, quotes that
/// JSON and CSV double, Chinese, repeated up to tens of kilobytes.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\x1b[31m"),
        Just("\x1b]0;pwned\x07"),
        Just("\r\n\t"),
        Just("\u{9b}2J"),
        Just("=HYPERLINK(\"http://x\",\"y\")"),
        Just(";@SUM(1)"),
        Just(";="),
        Just("\"\\"),
        Just("主机"),
        Just("\0"),
        Just("a"),
    ];
    (proptest::collection::vec(piece, 0..12), 1usize..2000)
        .prop_map(|(pieces, times)| pieces.concat().repeat(times))
}

fn asset(name: String, host: String) -> Asset {
    Asset {
        name,
        ..Asset::of_host(1, host, Some(22))
    }
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What `format` writes with this one record, and how much more that is than with none
/// (the table's hints for the category aside: they are ours).
fn written(format: Format, record: &Record, lang: Lang) -> (Vec<u8>, usize) {
    let run = |records: &[&Record]| {
        let out = Shared::default();
        let title = Title {
            command: "check",
            source: "assets",
        };
        let mut sink = sink(format, Box::new(out.clone()), lang, false, title).unwrap();
        for record in records {
            sink.record(record).unwrap();
        }
        sink.finish(&Summary::default()).unwrap();
        out.0.lock().unwrap().clone()
    };
    let (empty, mut one) = (run(&[]), run(&[record]));
    let hints = one.windows(10).position(|w| w == b"HOW TO FIX");
    let size = hints.unwrap_or(one.len()).saturating_sub(empty.len());
    if let Some(at) = hints {
        one.truncate(at);
    }
    (one, size)
}

/// The most a record may take in each format: JUnit writes the message twice and
/// XML's escapes are longer than JSON's; a table row is cut to its columns' characters,
/// up to 4 bytes each.
fn limit(format: Format) -> usize {
    match format {
        Format::Junit => 4 * Record::MAX_WRITTEN,
        Format::Table => 2048,
        Format::Csv | Format::Jsonl | Format::Json => Record::MAX_WRITTEN,
    }
}

fn check_every_format(record: &Record) -> Result<(), TestCaseError> {
    for lang in [Lang::En, Lang::Zh] {
        for format in [
            Format::Table,
            Format::Csv,
            Format::Jsonl,
            Format::Json,
            Format::Junit,
        ] {
            let (bytes, size) = written(format, record, lang);
            prop_assert!(
                size <= limit(format),
                "{format:?}: {size} bytes > {}",
                limit(format)
            );
            let text = String::from_utf8(bytes).expect("UTF-8");
            let raw = text
                .chars()
                .find(|c| c.is_control() && !matches!(c, '\n' | '\t'));
            prop_assert!(raw.is_none(), "{format:?} writes {raw:?} raw");
        }
    }
    Ok(())
}

proptest! {
    // Failing inputs are megabytes: not kept as regression files.
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn probed_records_are_bounded(
        name in hostile(),
        host in hostile(),
        message in hostile(),
        banner in hostile(),
        kex in hostile(),
        python in hostile(),
        hostname in hostile(),
        methods in proptest::collection::vec(hostile(), 0..300),
        user in hostile(),
        failed in any::<bool>(),
    ) {
        let observations = Observations {
            banner: Some(banner.clone()),
            kex: Some(kex.clone()),
            cipher: Some(kex.clone()),
            host_key_alg: Some(kex.clone()),
            host_key_fingerprint: Some(kex),
            auth_methods: Some(methods),
            python: Some(python),
            facts: Some(Facts {
                hostname: Some(hostname.clone()),
                os: Some(hostname.clone()),
                os_version: Some(hostname.clone()),
                kernel: Some(hostname.clone()),
                arch: Some(hostname),
                cpus: Some(u32::MAX),
                memory_mb: Some(u64::MAX),
            }),
            ..Observations::default()
        };
        let verdict = if failed {
            Err(crate::probe::Failure::at_home(Category::KexNoCommonAlgorithm, message))
        } else {
            Ok(message)
        };
        let probed = Probed { verdict, observations, duration: Duration::from_secs(1) };
        let record = Record::system_user(
            &asset(name, host),
            SystemUserProbed { credential: user, probed },
            Lang::Zh,
        );
        check_every_format(&record)?;
    }

    #[test]
    fn inventory_records_are_bounded(name in hostile(), host in hostile(), cell in hostile()) {
        let row = InvalidRow {
            line: u64::MAX,
            name: Some(name.clone()),
            host: Some(host.clone()),
            field: cell.clone(),
            reason: cell.clone(),
        };
        check_every_format(&Record::invalid(Path::new(&cell), &row, Lang::En))?;
        let asset = asset(name, host);
        check_every_format(&Record::skipped(&asset, &cell, Lang::En))?;
        check_every_format(&Record::unusable(Path::new(&cell), &asset, Field::AdminUser, &cell, Lang::En))?;
    }
}

/// The worst case, not left to chance: every text field full of what takes the most
/// room once written, in Chinese (the longer hints).
#[test]
fn the_worst_record_fits() {
    for worst in ["\"", ";=", "\\", "主", "\u{1b}"] {
        let text = worst.repeat(100_000);
        let facts = Facts {
            hostname: Some(text.clone()),
            os: Some(text.clone()),
            os_version: Some(text.clone()),
            kernel: Some(text.clone()),
            arch: Some(text.clone()),
            cpus: Some(u32::MAX),
            memory_mb: Some(u64::MAX),
        };
        let observations = Observations {
            ip: Some("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap()),
            banner: Some(text.clone()),
            kex: Some(text.clone()),
            cipher: Some(text.clone()),
            host_key_alg: Some(text.clone()),
            host_key_fingerprint: Some(text.clone()),
            auth_methods: Some(vec![text.clone(); 1000]),
            uid: Some(u32::MAX),
            sudo: Some(crate::probe::inspect::Sudo::PasswordRequired),
            python: Some(text.clone()),
            facts: Some(facts),
            ..Observations::default()
        };
        let failure = crate::probe::Failure::at_home(Category::SystemUserSudoMissing, text.clone());
        let probed = Probed {
            verdict: Err(failure),
            observations,
            duration: Duration::from_secs(u64::MAX / 1000),
        };
        let user = SystemUserProbed {
            credential: text.clone(),
            probed,
        };
        let asset = Asset {
            admin_user: Some(text.clone()),
            system_users: vec![text.clone(); 1000],
            jump_host: Some(text.clone()),
            id: Some(text.clone()),
            nodes: vec![text.clone(); 1000],
            ..asset(text.clone(), text.clone())
        };
        let record = Record::system_user(&asset, user, Lang::Zh);
        for format in [Format::Csv, Format::Jsonl] {
            let (_, size) = written(format, &record, Lang::Zh);
            assert!(
                size <= Record::MAX_WRITTEN,
                "{worst:?} in {format:?}: {size} bytes"
            );
        }
    }
}
