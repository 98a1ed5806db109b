use super::*;

fn read(text: &str) -> Vec<Entry> {
    InventoryReader::from_reader(
        Path::new("inv.csv"),
        Box::new(io::Cursor::new(text.as_bytes().to_vec())),
        &ReadOptions::default(),
    )
    .expect("inventory opens")
    .collect()
}

fn asset(entry: &Entry) -> &Asset {
    match entry {
        Entry::Asset(a) => a,
        Entry::Invalid(i) => panic!("unexpected invalid row: {i:?}"),
    }
}

fn invalid(entry: &Entry) -> &InvalidRow {
    match entry {
        Entry::Invalid(i) => i,
        Entry::Asset(a) => panic!("unexpected asset: {a:?}"),
    }
}

#[test]
fn own_columns_in_any_order_and_case() {
    let rows = read(
        "Port,HOST,name,admin_user,system_users,gateway,platform,active,extra\n\
         2222,10.0.0.5,web-1,ops-root,deploy;app,dmz,Linux,true,ignored\n\
         ,db.internal,,ops-root,,,,,\n",
    );
    assert_eq!(rows.len(), 2);
    let web = asset(&rows[0]);
    assert_eq!(
        (web.name.as_str(), web.host.as_str(), web.port),
        ("web-1", "10.0.0.5", 2222)
    );
    assert_eq!(web.admin_user.as_deref(), Some("ops-root"));
    assert_eq!(web.system_users, vec!["deploy", "app"]);
    assert_eq!(web.jump_host.as_deref(), Some("dmz"));
    assert_eq!(web.line, 2);
    let db = asset(&rows[1]);
    assert_eq!(
        (db.name.as_str(), db.port, db.skip.as_deref()),
        ("db.internal", 22, None)
    );
}

#[test]
fn jumpserver_1_4_export_english_with_bom() {
    let rows = read(&format!(
        "\u{feff}{}\n\
         1f1e,10.1.0.7,app-7,ssh,22,Linux,,True,ops-root,,\n\
         2a2b,10.1.0.8,app-8,ssh,2200,Linux,dmz,False,ops-root,,\n",
        exports::JUMPSERVER_1_4_EN
    ));
    let a = asset(&rows[0]);
    assert_eq!(
        (a.name.as_str(), a.host.as_str(), a.port),
        ("app-7", "10.1.0.7", 22)
    );
    assert_eq!(a.admin_user.as_deref(), Some("ops-root"));
    assert_eq!(a.id.as_deref(), Some("1f1e"));
    let b = asset(&rows[1]);
    assert_eq!(b.port, 2200);
    assert_eq!(b.skip.as_deref(), Some("inactive in the inventory"));
}

#[test]
fn jumpserver_1_4_export_chinese_labels() {
    let rows = read(&format!(
        "{}\n1,10.2.0.1,数据库-1,ssh,22,Linux,机房A,True,运维root,,\n",
        exports::JUMPSERVER_1_4_ZH
    ));
    let a = asset(&rows[0]);
    assert_eq!(a.name, "数据库-1");
    assert_eq!(a.jump_host.as_deref(), Some("机房A"));
    assert_eq!(a.admin_user.as_deref(), Some("运维root"));
}

#[test]
fn jumpserver_3_export_with_help_row_protocols_and_object_ids() {
    let rows = read(
        "*Name,*IP/Host,*Platform,*Protocols,Zone|Domain,Nodes,Accounts,Is active,Comment\n\
         #Help,Asset name,IP or host,Linux,\"[\"\"ssh/22\"\"]\",,,,,\n\
         web,10.3.0.1,Linux(00000000-0000-0000-0000-000000000001),\"[\"\"ssh/2022\"\",\"\"sftp/22\"\"]\",dmz(6b8d0f6c-2b1e-4f5e-9d55-0c8c1c7e2a11),/Default,,True,\n\
         win,10.3.0.2,Windows,\"[\"\"rdp/3389\"\"]\",,,,True,\n",
    );
    assert_eq!(rows.len(), 2, "the #Help row is skipped");
    let web = asset(&rows[0]);
    assert_eq!((web.host.as_str(), web.port), ("10.3.0.1", 2022));
    assert_eq!(web.jump_host.as_deref(), Some("dmz"));
    assert_eq!(web.platform.as_deref(), Some("Linux"));
    assert_eq!(web.nodes, ["/Default"]);
    assert_eq!(web.line, 3);
    let win = asset(&rows[1]);
    assert_eq!(
        win.skip.as_deref(),
        Some("no SSH protocol (protocols: rdp/3389)")
    );
}

#[test]
fn semicolon_and_tab_delimited_files() {
    let rows = read("host;port\n10.0.0.1;2200\n");
    assert_eq!(asset(&rows[0]).port, 2200);
    let rows = read("name\thost\nx\t10.0.0.2\n");
    assert_eq!(asset(&rows[0]).host, "10.0.0.2");
}

#[test]
fn bad_rows_name_line_and_field_and_do_not_stop_the_rest() {
    let rows = read(
        "name,host,port,active\n\
         empty-host,,22,\n\
         big-port,10.0.0.1,70000,\n\
         word-port,10.0.0.1,ssh,\n\
         hostile,a;reboot,22,\n\
         subshell,$(id),22,\n\
         weird-active,10.0.0.1,22,perhaps\n\
         good,10.0.0.9,22,\n",
    );
    let expect = [
        (2, "host", "empty-host"),
        (3, "port", "big-port"),
        (4, "port", "word-port"),
        (5, "host", "hostile"),
        (6, "host", "subshell"),
        (7, "active", "weird-active"),
    ];
    for (entry, (line, field, name)) in rows.iter().zip(expect) {
        let bad = invalid(entry);
        assert_eq!(
            (bad.line, bad.field.as_str(), bad.name.as_deref()),
            (line, field, Some(name))
        );
    }
    assert_eq!(asset(&rows[6]).host, "10.0.0.9");
    let message = invalid(&rows[1]).message(Path::new("inv.csv"));
    assert_eq!(
        message,
        "inv.csv: line 3, field port: port 70000 is out of range 1-65535"
    );
}

#[test]
fn invalid_utf8_in_a_cell_is_one_bad_row() {
    let mut bytes = b"name,host\nok,10.0.0.1\n".to_vec();
    bytes.extend_from_slice(b"bad,10.0.\xff.1\nok2,10.0.0.2\n");
    let rows: Vec<Entry> = InventoryReader::from_reader(
        Path::new("x"),
        Box::new(io::Cursor::new(bytes)),
        &ReadOptions::default(),
    )
    .unwrap()
    .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(invalid(&rows[1]).field, "host");
    assert_eq!(asset(&rows[2]).name, "ok2");
}

#[test]
fn jumpserver_1_4_rdp_assets_are_skipped_despite_their_port() {
    let rows =
        read("IP,Hostname,Protocol,Port\n10.1.0.9,win-1,rdp,3389\n10.1.0.7,app-7,ssh,2222\n");
    assert_eq!(
        asset(&rows[0]).skip.as_deref(),
        Some("no SSH protocol (protocols: rdp)")
    );
    assert_eq!(
        (asset(&rows[1]).port, asset(&rows[1]).skip.as_deref()),
        (2222, None)
    );
}

#[test]
fn a_host_list_whose_first_line_has_a_comment_with_commas() {
    let rows = read("10.0.0.1   # web, primary\n10.0.0.2\n");
    assert_eq!(rows.len(), 2);
    assert_eq!(asset(&rows[0]).host, "10.0.0.1");
}

#[test]
fn plain_host_lists() {
    let rows = read(
        "# bastion targets\n10.0.0.1\nweb.internal:2222  # the web box\n\n[::1]:22\nbad host!\n",
    );
    assert_eq!(rows.len(), 4);
    assert_eq!(asset(&rows[0]).host, "10.0.0.1");
    let web = asset(&rows[1]);
    assert_eq!(
        (web.host.as_str(), web.port, web.line),
        ("web.internal", 2222, 3)
    );
    assert_eq!(asset(&rows[2]).host, "::1");
    assert_eq!(invalid(&rows[3]).line, 6);
}

#[test]
fn single_column_csv_with_a_host_header() {
    let rows = read("ip\n10.9.9.9\n");
    assert_eq!(rows.len(), 1);
    assert_eq!(asset(&rows[0]).host, "10.9.9.9");
}

#[test]
fn a_header_without_host_is_a_usage_error() {
    let err = InventoryReader::from_reader(
        Path::new("inv.csv"),
        Box::new(io::Cursor::new(b"name,port\nx,22\n".to_vec())),
        &ReadOptions::default(),
    )
    .err()
    .expect("no host column");
    assert!(err.to_string().contains("no host column"), "{err}");
}

fn read_bytes(bytes: Vec<u8>, encoding: Encoding) -> Result<Vec<Entry>, InventoryError> {
    let options = ReadOptions {
        encoding,
        allow_empty: false,
    };
    InventoryReader::from_reader(
        Path::new("inv.csv"),
        Box::new(io::Cursor::new(bytes)),
        &options,
    )
    .map(Iterator::collect)
}

/// A Chinese JumpServer 1.4 export as it leaves JumpServer (UTF-8, BOM, CRLF), with a
/// comment spanning two lines, bad rows and rows to skip.
fn export_1_4_zh() -> String {
    format!(
        "\u{feff}{}\r\n\
    1,10.2.0.1,数据库-1,ssh,22,Linux,机房A,True,运维root,,\r\n\
    2,10.2.0.2,网站-2,ssh,2222,Linux,,True,运维root,,\"第一行\r\n第二行\"\r\n\
    3,10.2.0.3,坏端口,ssh,70000,Linux,,True,运维root,,\r\n\
    4,10.2.0.4,停用,ssh,22,Linux,,False,运维root,,\r\n\
    5,10.2.0.5,远程桌面,rdp,3389,Windows,,True,,,\r\n\
    \r\n\
    6,坏;地址,坏主机,ssh,22,Linux,,True,运维root,,\r\n",
        exports::JUMPSERVER_1_4_ZH
    )
}

fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
    let mut bytes = Vec::new();
    for unit in std::iter::once(0xfeff).chain(text.trim_start_matches('\u{feff}').encode_utf16()) {
        let pair = if little_endian {
            unit.to_le_bytes()
        } else {
            unit.to_be_bytes()
        };
        bytes.extend_from_slice(&pair);
    }
    bytes
}

#[test]
fn the_chinese_1_4_export_reads_the_same_in_every_encoding_and_line_end() {
    let expected = read_bytes(export_1_4_zh().into(), Encoding::Auto).unwrap();
    let summary: Vec<(u64, &str, Option<&str>)> = expected
        .iter()
        .map(|entry| match entry {
            Entry::Asset(a) => (a.line, a.name.as_str(), a.skip.as_deref()),
            Entry::Invalid(i) => (i.line, i.field.as_str(), i.name.as_deref()),
        })
        .collect();
    assert_eq!(
        summary,
        [
            (2, "数据库-1", None),
            (3, "网站-2", None),
            (5, "port", Some("坏端口")),
            (6, "停用", Some("inactive in the inventory")),
            (7, "远程桌面", Some("no SSH protocol (protocols: rdp)")),
            (9, "host", Some("坏主机")),
        ]
    );
    assert_eq!(asset(&expected[1]).port, 2222);
    assert_eq!(asset(&expected[0]).admin_user.as_deref(), Some("运维root"));

    let export = export_1_4_zh();
    let without_bom = export.trim_start_matches('\u{feff}');
    let lf = without_bom.replace("\r\n", "\n");
    let gbk = encoding_rs::GBK.encode(without_bom).0.into_owned();
    let gb18030 = encoding_rs::GB18030.encode(without_bom).0.into_owned();
    let variants: Vec<(&str, Vec<u8>, Encoding)> = vec![
        ("utf-8 without BOM", without_bom.into(), Encoding::Auto),
        ("utf-8, LF", lf.clone().into(), Encoding::Auto),
        ("utf-8, CR", lf.replace('\n', "\r").into(), Encoding::Auto),
        ("gbk", gbk.clone(), Encoding::Auto),
        ("gbk, named", gbk, Encoding::Gbk),
        ("gb18030", gb18030.clone(), Encoding::Auto),
        ("gb18030, named", gb18030, Encoding::Gb18030),
        (
            "gbk, LF",
            encoding_rs::GBK.encode(&lf).0.into_owned(),
            Encoding::Auto,
        ),
        ("utf-16le", utf16(&export_1_4_zh(), true), Encoding::Auto),
        ("utf-16be", utf16(&export_1_4_zh(), false), Encoding::Auto),
        (
            "utf-16le, named",
            utf16(&export_1_4_zh(), true),
            Encoding::Utf16Le,
        ),
        ("utf-16be, LF", utf16(&lf, false), Encoding::Auto),
    ];
    for (what, bytes, encoding) in variants {
        let entries = read_bytes(bytes, encoding).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(entries, expected, "{what}");
    }
}

#[test]
fn excel_unicode_text_is_utf16_with_tabs() {
    let tabs = export_1_4_zh().replace(',', "\t");
    let entries = read_bytes(utf16(&tabs, true), Encoding::Auto).unwrap();
    assert_eq!(asset(&entries[0]).name, "数据库-1");
    assert_eq!(asset(&entries[1]).line, 3);
}

#[test]
fn gbk_rows_after_a_long_ascii_prefix_are_still_gbk() {
    let mut text = String::from("name,host,admin_user\n");
    for i in 0..5000 {
        text.push_str(&format!("web-{i},10.0.{}.{},ops\n", i / 250, i % 250));
    }
    text.push_str("数据库,10.9.0.1,运维\n");
    let bytes = encoding_rs::GBK.encode(&text).0.into_owned();
    let entries = read_bytes(bytes, Encoding::Auto).unwrap();
    let last = asset(entries.last().unwrap());
    assert_eq!(
        (last.name.as_str(), last.admin_user.as_deref(), last.line),
        ("数据库", Some("运维"), 5002)
    );
}

#[test]
fn refused_header_labels_are_quoted_safe_and_keep_chinese() {
    let err = read_bytes(
        "主机,\u{1b}[2J名\n10.0.0.1,a\n".as_bytes().to_vec(),
        Encoding::Auto,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("labels \"\\u{1b}[2J名\" are not text"),
        "{err}"
    );
    assert!(!err.chars().any(char::is_control), "{err}");
}

#[test]
fn a_gbk_file_read_as_utf8_is_refused_for_its_header() {
    let export = export_1_4_zh();
    let gbk = encoding_rs::GBK.encode(export.trim_start_matches('\u{feff}'));
    let err = read_bytes(gbk.0.into_owned(), Encoding::Utf8).unwrap_err();
    assert!(matches!(err, InventoryError::Garbled { .. }), "{err}");
    assert!(err.to_string().contains("--encoding"), "{err}");
}

#[test]
fn unknown_headers_are_refused_not_guessed() {
    let err = read_bytes(
        "ID,IP,ホスト名,プロトコル,ポート\n1,10.0.0.1,x,ssh,22\n".into(),
        Encoding::Auto,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("\"ホスト名\", \"プロトコル\", \"ポート\""),
        "{err}"
    );
    // However long the header, the message names a dozen labels.
    let err = read_bytes(format!("a{}\n", ",b".repeat(5000)).into(), Encoding::Auto).unwrap_err();
    assert!(err.to_string().contains("(4989 more)"), "{err}");
    // A first line that is no host and no label we know, without a delimiter.
    let err = read_bytes("主机地址\n10.0.0.1\n".into(), Encoding::Auto).unwrap_err();
    assert!(matches!(err, InventoryError::NotAHostList { .. }), "{err}");
    // A mistyped address on the first line is a bad row, as on any other.
    for first in ["10.0.0.1.x!", "bad host!"] {
        let entries = read_bytes(format!("{first}\n10.0.0.2\n").into(), Encoding::Auto).unwrap();
        assert_eq!(invalid(&entries[0]).line, 1);
    }
}

#[test]
fn a_few_extra_columns_are_read_past_and_named() {
    let reader = InventoryReader::from_reader(
        Path::new("inv.csv"),
        Box::new(io::Cursor::new(b"host,owner\n10.0.0.1,me\n".to_vec())),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(reader.unused_columns(), ["owner"]);
}

#[test]
fn inventories_without_rows_are_empty_unless_allowed() {
    for text in [
        "",
        "\r\n",
        "# only a comment\n",
        "host,port\r\n",
        "name,host\n\n#Help,x\n",
    ] {
        let err = read_bytes(text.into(), Encoding::Auto).unwrap_err();
        assert_eq!(
            err.to_string().split(':').next(),
            Some("no assets in inv.csv")
        );
        let options = ReadOptions {
            allow_empty: true,
            ..ReadOptions::default()
        };
        let reader = InventoryReader::from_reader(
            Path::new("inv.csv"),
            Box::new(io::Cursor::new(text.as_bytes().to_vec())),
            &options,
        )
        .unwrap();
        assert_eq!(reader.count(), 0, "{text:?}");
    }
}

#[test]
fn long_rows_are_bad_rows_naming_line_and_column_and_the_rest_is_read() {
    let mut csv = b"name,host,comment\r\nok-1,10.0.0.1,\r\nlong,10.0.0.2,\"".to_vec();
    csv.extend(std::iter::repeat_n(b'x', MAX_ROW));
    csv.extend_from_slice(b"\r\nstill the field\"\r\nok-2,10.0.0.3,\r\n");
    let entries = read_bytes(csv, Encoding::Auto).unwrap();
    assert_eq!(entries.len(), 3);
    let long = invalid(&entries[1]);
    assert_eq!((long.line, long.field.as_str()), (3, "comment"));
    assert!(long.reason.contains("64 KiB"), "{}", long.reason);
    assert_eq!(asset(&entries[2]).line, 5);
}

#[test]
fn an_invalid_row_copies_only_an_excerpt_of_its_cells() {
    let huge = "\0".repeat(MAX_ROW / 4);
    let entries = read(&format!("name,host,port\n{huge},{huge}x,{huge}\n"));
    let bad = invalid(&entries[0]);
    for text in [
        bad.name.as_deref().unwrap(),
        bad.host.as_deref().unwrap(),
        &bad.reason,
    ] {
        assert!(
            text.chars().count() <= 2 * fields::EXCERPT,
            "{} chars",
            text.len()
        );
    }
}
