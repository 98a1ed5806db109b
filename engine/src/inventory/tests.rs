use super::*;

fn read(text: &str) -> Vec<Entry> {
    InventoryReader::from_reader(
        Path::new("inv.csv"),
        Box::new(io::Cursor::new(text.as_bytes().to_vec())),
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
    let rows = read(
        "\u{feff}ID,IP,Hostname,Protocol,Port,Platform,Domain,Is active,Admin user,Public IP,Comment\n\
         1f1e,10.1.0.7,app-7,ssh,22,Linux,,True,ops-root,,\n\
         2a2b,10.1.0.8,app-8,ssh,2200,Linux,dmz,False,ops-root,,\n",
    );
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
    let rows = read(
        "ID,IP,主机名,协议,端口,系统平台,网域,激活,管理用户,公网IP,备注\n\
         1,10.2.0.1,数据库-1,ssh,22,Linux,机房A,True,运维root,,\n",
    );
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
    let rows: Vec<Entry> =
        InventoryReader::from_reader(Path::new("x"), Box::new(io::Cursor::new(bytes)))
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
    )
    .err()
    .expect("no host column");
    assert!(err.to_string().contains("no host column"), "{err}");
}
