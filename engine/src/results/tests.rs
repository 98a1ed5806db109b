use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use proptest::prelude::*;

use super::*;
use crate::category::{Category, Lang};
use crate::inventory::{Asset, Entry};
use crate::report::{self, Format, Record, Summary};

fn read(bytes: &[u8]) -> Result<Vec<Recorded>, ResultsError> {
    ResultsReader::from_reader(Path::new("r"), Box::new(io::Cursor::new(bytes.to_vec())))?.collect()
}

fn asset(name: &str, host: &str, port: u16, users: &[&str]) -> Asset {
    Asset {
        line: 1,
        name: name.into(),
        host: host.into(),
        port,
        port_given: true,
        admin_user: Some("ops-root".into()),
        system_users: users.iter().map(|u| u.to_string()).collect(),
        jump_host: Some("dmz".into()),
        platform: None,
        id: Some("6b8d0f6c-2b1e-4f5e-9d55-0c8c1c7e2a11".into()),
        nodes: vec!["/Default/web".into()],
        skip: None,
    }
}

/// A record about `asset` (or one of its system users) with this verdict.
fn record(asset: &Asset, user: Option<&str>, category: Category) -> Record {
    Record {
        category,
        system_user: user.map(str::to_string),
        message: "a message, with \"quotes\"\nand a newline".into(),
        ..Record::skipped(asset, "x", Lang::En)
    }
}

/// A `Write` the test keeps a handle on.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn written_for(format: Format, excel: bool, records: &[Record]) -> Vec<u8> {
    let out = Shared::default();
    let title = report::Title {
        command: "test",
        source: "test",
    };
    let mut sink = report::sink(format, Box::new(out.clone()), Lang::En, excel, title).unwrap();
    for r in records {
        sink.record(r).unwrap();
    }
    sink.finish(&Summary::default()).unwrap();
    drop(sink);
    out.0.lock().unwrap().clone()
}

fn written(format: Format, records: &[Record]) -> Vec<u8> {
    written_for(format, false, records)
}

/// What a record must read back as.
fn expected(r: &Record, line: u64) -> Recorded {
    Recorded {
        line,
        name: r.name.clone(),
        system_user: r.system_user.clone(),
        host: r.host.clone(),
        port: r.port,
        category: r.category.id().into(),
        admin_user: r.admin_user.clone(),
        gateway: r.gateway.clone(),
        system_users: r.system_users.clone().unwrap_or_default(),
        asset_id: r.asset_id.clone(),
        nodes: r.nodes.clone().unwrap_or_default(),
    }
}

fn without_lines(records: Vec<Recorded>) -> Vec<Recorded> {
    records
        .into_iter()
        .map(|r| Recorded { line: 0, ..r })
        .collect()
}

#[test]
fn both_formats_read_back_what_the_sinks_wrote() {
    let web = asset("web-1", "10.0.0.5", 2222, &["deploy", "app"]);
    let records = [
        record(&web, None, Category::Ok),
        record(&web, Some("deploy"), Category::SystemUserMissing),
    ];
    let want: Vec<Recorded> = records.iter().map(|r| expected(r, 0)).collect();
    for format in [Format::Jsonl, Format::Csv] {
        let bytes = written(format, &records);
        let reader =
            ResultsReader::from_reader(Path::new("r"), Box::new(io::Cursor::new(bytes))).unwrap();
        assert_eq!(
            reader.format(),
            Some(match format {
                Format::Csv => ResultsFormat::Csv,
                _ => ResultsFormat::Jsonl,
            })
        );
        let got: Vec<Recorded> = reader.collect::<Result<_, _>>().unwrap();
        // CSV: the header first. A newline in a message is escaped like every control
        // character, so every record is one line.
        let lines: Vec<u64> = got.iter().map(|r| r.line).collect();
        let want_lines = if format == Format::Csv {
            [2, 3]
        } else {
            [1, 2]
        };
        assert_eq!(lines, want_lines, "{format:?}");
        assert_eq!(without_lines(got), want, "{format:?}");
    }
}

#[test]
fn an_unfinished_last_line_is_no_record_and_is_left_out_of_the_complete_bytes() {
    let web = asset("web-1", "10.0.0.5", 22, &[]);
    let bytes = written(Format::Jsonl, &[record(&web, None, Category::Ok)]);
    let mut cut = bytes.clone();
    cut.extend_from_slice(&bytes[..bytes.len() / 2]);
    let mut reader =
        ResultsReader::from_reader(Path::new("r"), Box::new(io::Cursor::new(cut))).unwrap();
    assert_eq!(reader.by_ref().count(), 1);
    assert_eq!(reader.complete(), bytes.len() as u64);
}

/// `--excel` CSV: one byte order mark, then the header; read back, resumed after.
#[test]
fn a_csv_for_excel_starts_with_one_bom_and_reads_back() {
    let web = asset("数据库-1", "10.0.0.5", 22, &[]);
    let records = [record(&web, None, Category::TcpRefused)];
    let bytes = written_for(Format::Csv, true, &records);
    assert!(bytes.starts_with(report::BOM) && !bytes[3..].starts_with(report::BOM));
    assert_eq!(written(Format::Csv, &records), bytes[3..]);
    let mut reader =
        ResultsReader::from_reader(Path::new("r"), Box::new(io::Cursor::new(bytes.clone())))
            .unwrap();
    assert_eq!(reader.header(), Record::FIELDS);
    let got: Vec<Recorded> = reader.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(without_lines(got), [expected(&records[0], 0)]);
    assert_eq!(reader.complete(), bytes.len() as u64, "the BOM is counted");
}

#[test]
fn a_results_file_saved_again_with_a_bom_and_crlf_reads_the_same() {
    let web = asset("web-1", "10.0.0.5", 22, &[]);
    let records = [
        record(&web, None, Category::Ok),
        record(&web, Some("u"), Category::AuthFailed),
    ];
    let bytes = written(Format::Csv, &records);
    let plain: Vec<Recorded> = read(&bytes).unwrap();
    // As a spreadsheet saves it: a BOM, CRLF line ends, a blank line.
    let text = String::from_utf8(bytes).unwrap().replace('\n', "\r\n");
    let saved = format!("\u{feff}{text}\r\n");
    let mut reader = ResultsReader::from_reader(
        Path::new("r"),
        Box::new(io::Cursor::new(saved.clone().into_bytes())),
    )
    .unwrap();
    let again: Vec<Recorded> = reader.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(without_lines(again), without_lines(plain));
    assert_eq!(reader.complete(), saved.len() as u64);
}

#[test]
fn files_that_are_not_results_say_so() {
    let not = |bytes: &[u8]| read(bytes).unwrap_err().to_string();
    assert!(not(b"[\n{\"name\":\"a\"}\n]\n").contains("JSON array"));
    assert!(not(b"name,host,port\nweb,10.0.0.1,22\n").contains("no name, host and category"));
    let e = not(b"{\"name\":\"a\",\"host\":\"h\",\"category\":\"ok\"}\n{\"name\":1}\n");
    assert!(e.contains("line 2"), "{e}");
    let e = not(b"name,host,port,category\nweb,h,99999,ok\n");
    assert!(e.contains("line 2") && e.contains("99999"), "{e}");
    let mut long = b"{\"name\":\"".to_vec();
    long.extend(std::iter::repeat_n(b'a', MAX_RECORD));
    long.extend_from_slice(b"\"}\n");
    assert!(not(&long).contains("longer than 64 KiB"));
    assert_eq!(read(b"").unwrap(), []);
    assert_eq!(read(b"{\"name\":\"half").unwrap(), []);
}

#[test]
fn csv_cells_protected_from_spreadsheets_read_as_they_were() {
    let got =
        read("\u{feff}name,host,port,category\n'=web,h,22,ok\n'x,h,22,ok\n".as_bytes()).unwrap();
    assert_eq!(got[0].name, "=web");
    assert_eq!(got[1].name, "'x");
}

#[test]
fn resume_counts_every_result_but_interrupted_ones() {
    let web = asset("web", "10.0.0.5", 22, &["deploy"]);
    let db = asset("db", "10.0.0.6", 22, &[]);
    let mut lines = written(
        Format::Jsonl,
        &[
            record(&web, None, Category::Ok),
            record(&web, Some("deploy"), Category::AuthFailed),
        ],
    );
    lines.extend_from_slice(
        b"{\"name\":\"db\",\"host\":\"10.0.0.6\",\"port\":22,\"category\":\"interrupted\"}\n",
    );
    let done = Done::read(read(&lines).unwrap().into_iter().map(Ok)).unwrap();
    let id = |a: &Asset, user: Option<&str>| Identity::new(&a.name, &a.host, Some(a.port), user);
    assert!(done.contains(&id(&web, None)) && done.contains(&id(&web, Some("deploy"))));
    assert!(
        !done.contains(&id(&db, None)),
        "an interrupted probe is not done"
    );
    assert!(!done.contains(&Identity::new("web", "10.0.0.5", Some(2222), None)));
    let mut categories: Vec<&str> = done.categories().collect();
    categories.sort();
    assert_eq!(categories, ["auth_failed", "ok"]);
}

fn names(entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| match e {
            Entry::Asset(a) => a.name.clone(),
            Entry::Invalid(i) => format!("invalid {}", i.field),
        })
        .collect()
}

#[test]
fn from_picks_whole_assets_by_their_latest_results() {
    let web = asset("web", "10.0.0.5", 22, &["deploy", "app"]);
    let db = asset("db", "10.0.0.6", 22, &[]);
    let old = asset("old", "10.0.0.7", 22, &[]);
    let bytes = written(
        Format::Csv,
        &[
            record(&web, None, Category::Ok),
            record(&web, Some("deploy"), Category::SystemUserMissing),
            record(&web, Some("app"), Category::Ok),
            record(&db, None, Category::AuthFailed),
            record(&old, None, Category::AuthFailed),
            // A later run fixed it: the latest result counts.
            record(&old, None, Category::Ok),
        ],
    );
    let pick = |pick: Pick| assets(read(&bytes).unwrap().into_iter().map(Ok), &pick).unwrap();
    assert_eq!(names(&pick(Pick::All)), ["web", "db", "old"]);
    assert_eq!(names(&pick(Pick::Failing)), ["web", "db"]);
    let only = pick(Pick::Only(vec![Category::AuthFailed]));
    assert_eq!(names(&only), ["db"]);
    let Entry::Asset(rebuilt) = &pick(Pick::Only(vec![Category::SystemUserMissing]))[0] else {
        panic!("not an asset")
    };
    assert_eq!(
        rebuilt,
        &Asset {
            line: 2,
            ..web.clone()
        }
    );
}

#[test]
fn from_rebuilds_system_users_of_gateway_results_and_refuses_rows_without_address() {
    let text = "name,system_user,host,port,category\n\
                gateway,,10.9.9.9,2222,ok\n\
                web,deploy,10.0.0.5,22,gateway_permission_denied\n\
                web,app,10.0.0.5,22,ok\n\
                line 9,,,,inventory_invalid\n";
    let entries = assets(
        read(text.as_bytes()).unwrap().into_iter().map(Ok),
        &Pick::All,
    )
    .unwrap();
    assert_eq!(names(&entries), ["web", "invalid host"]);
    let Entry::Asset(web) = &entries[0] else {
        panic!()
    };
    assert_eq!(web.system_users, ["deploy", "app"]);
}

fn recorded(name: &str, user: Option<&str>, category: &str) -> Recorded {
    Recorded {
        line: 1,
        name: name.into(),
        system_user: user.map(str::to_string),
        host: "10.0.0.1".into(),
        port: Some(22),
        category: category.into(),
        admin_user: None,
        gateway: None,
        system_users: Vec::new(),
        asset_id: None,
        nodes: Vec::new(),
    }
}

#[test]
fn diff_sorts_subjects_by_how_they_changed() {
    let old = [
        recorded("a", None, "ok"),
        recorded("b", None, "auth_failed"),
        recorded("c", None, "auth_failed"),
        recorded("d", None, "ok"),
        recorded("gone", None, "ok"),
        recorded("a", Some("u"), "ok"),
        recorded("e", None, "interrupted"),
        recorded("e", None, "ok"),
    ];
    let new = [
        recorded("a", None, "ok"),
        recorded("b", None, "ok"),
        recorded("c", None, "tcp_refused"),
        recorded("d", None, "skipped"),
        recorded("a", Some("u"), "system_user_missing"),
        recorded("new", None, "auth_failed"),
        recorded("e", None, "ok"),
    ];
    let found: Vec<(Change, String, bool)> = diff(old, new)
        .into_iter()
        .map(|d| (d.change, d.identity.to_string(), d.new_failure))
        .collect();
    let at = " at 10.0.0.1:22";
    assert_eq!(
        found,
        [
            (Change::NewlyFailing, format!("a (u){at}"), true),
            (Change::Fixed, format!("b{at}"), false),
            (Change::Changed, format!("c{at}"), false),
            (Change::Changed, format!("d{at}"), false),
            (Change::Added, format!("new{at}"), true),
            (Change::Removed, format!("gone{at}"), false),
        ]
    );
}

#[test]
fn an_interrupted_probe_is_not_probed_never_a_new_failure() {
    let old = [
        recorded("a", None, "ok"),
        recorded("b", None, "interrupted"),
        recorded("c", None, "interrupted"),
    ];
    let new = [
        recorded("a", None, "interrupted"),
        recorded("b", None, "auth_failed"),
        recorded("c", None, "ok"),
        recorded("d", None, "interrupted"),
    ];
    let found: Vec<(Change, String, bool)> = diff(old, new)
        .into_iter()
        .map(|d| (d.change, d.identity.name, d.new_failure))
        .collect();
    assert_eq!(
        found,
        [
            (Change::Added, "d".into(), false),
            (Change::NotProbed, "a".into(), false),
            // Nothing was known before: it fails now, as an added subject that fails.
            (Change::NotProbed, "b".into(), true),
            (Change::NotProbed, "c".into(), false),
        ]
    );
}

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ._=+@,\"数据库-]{1,24}"
        .prop_filter("a leading ' is CSV's", |n| !n.starts_with('\''))
}

fn item() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_.@数-]{1,12}"
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<std::net::Ipv4Addr>().prop_map(|ip| ip.to_string()),
        any::<std::net::Ipv6Addr>().prop_map(|ip| ip.to_string()),
        "[a-z][a-z0-9-]{0,10}(\\.[a-z]{1,6}){0,2}",
    ]
}

prop_compose! {
    fn generated()(
        name in name(),
        host in host(),
        port in 1..=u16::MAX,
        admin_user in proptest::option::of(name()),
        gateway in proptest::option::of(name()),
        system_users in proptest::collection::vec(item(), 0..4),
        asset_id in proptest::option::of("[0-9a-f-]{1,36}"),
        nodes in proptest::collection::vec(item(), 0..3),
        category in proptest::sample::select(Category::ALL),
        user in any::<proptest::sample::Index>(),
        own in any::<bool>(),
    ) -> Record {
        let asset = Asset {
            line: 1,
            name,
            host,
            port,
            port_given: true,
            admin_user,
            system_users,
            jump_host: gateway,
            platform: None,
            id: asset_id,
            nodes,
            skip: None,
        };
        let user = (!own && !asset.system_users.is_empty())
            .then(|| user.get(&asset.system_users).as_str());
        record(&asset, user, category)
    }
}

proptest! {
    #[test]
    fn records_written_by_the_sinks_read_back_the_same(
        records in proptest::collection::vec(generated(), 0..8),
        csv in any::<bool>(),
    ) {
        let format = if csv { Format::Csv } else { Format::Jsonl };
        let got = read(&written(format, &records)).unwrap();
        let want: Vec<Recorded> = records.iter().map(|r| expected(r, 0)).collect();
        prop_assert_eq!(without_lines(got), want);
    }

    #[test]
    fn a_file_cut_anywhere_reads_as_the_records_before_the_cut(
        records in proptest::collection::vec(generated(), 1..5),
        csv in any::<bool>(),
        at in any::<proptest::sample::Index>(),
    ) {
        let format = if csv { Format::Csv } else { Format::Jsonl };
        let bytes = written(format, &records);
        let all = read(&bytes).unwrap();
        let cut = at.index(bytes.len());
        let got = read(&bytes[..cut]).unwrap();
        prop_assert!(got.len() <= all.len());
        prop_assert_eq!(&got[..], &all[..got.len()]);
    }

    #[test]
    fn any_bytes_read_without_panic_into_bounded_records(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        prefix in proptest::sample::select(vec![&b""[..], b"{", b"name,host,category\n", b"\xef\xbb\xbf"]),
    ) {
        let input = [prefix, &bytes[..]].concat();
        let Ok(reader) = ResultsReader::from_reader(Path::new("r"), Box::new(io::Cursor::new(input.clone()))) else {
            return Ok(());
        };
        let records: Vec<Recorded> = reader.take_while(Result::is_ok).map(Result::unwrap).collect();
        prop_assert!(records.len() <= input.iter().filter(|&&b| b == b'\n').count());
        for r in &records {
            let size = r.name.len() + r.host.len() + r.category.len()
                + r.system_users.iter().chain(&r.nodes).map(String::len).sum::<usize>();
            prop_assert!(size <= MAX_RECORD);
        }
        let _ = assets(records.iter().cloned().map(Ok), &Pick::Failing);
        let _ = diff(records.clone(), records);
    }

    #[test]
    fn lines_of_any_length_are_bounded(
        length in 0..(3 * MAX_RECORD),
        byte in proptest::sample::select(vec![b'a', b'"', b'{']),
    ) {
        let mut input = b"name,host,category\n".to_vec();
        input.extend(std::iter::repeat_n(byte, length));
        input.extend_from_slice(b"\nweb,h,ok\n");
        let got: Vec<Result<Recorded, ResultsError>> =
            ResultsReader::from_reader(Path::new("r"), Box::new(io::Cursor::new(input))).unwrap().collect();
        // An unclosed quote makes the rest of the file one unfinished record.
        prop_assert!(byte == b'"' || !got.is_empty());
        if length > MAX_RECORD && byte != b'"' {
            let too_long = matches!(&got[0], Err(e) if e.to_string().contains("longer than"));
            prop_assert!(too_long);
        }
    }
}
