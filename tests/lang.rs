//! `--lang zh` (or a Chinese locale) end to end: the text for people in Chinese and aligned
//! by display width, machine formats unchanged, what servers said quoted as they said it,
//! and CSV that Excel on a Chinese Windows opens intact.

use std::path::{Path, PathBuf};

use fixtures::lab::{Lab, scenarios};
use prober_engine::Category;
use prober_engine::i18n::Lang;
use prober_engine::report::Record;
use prober_engine::text::width;

use crate::util::{Run, args, prober, prober_with_env};

const DB: &str = "数据库服务器-主";
const WEB: &str = "web-1";
const HTTP: &str = "内部门户";

/// A lab whose OK_ROOT asset is named [`WEB`], TCP_REFUSED [`DB`] and NOT_SSH [`HTTP`], and
/// the inventory naming them.
async fn named_lab() -> (Lab, PathBuf) {
    let lab = Lab::start(&[
        scenarios::OK_ROOT,
        scenarios::TCP_REFUSED,
        scenarios::NOT_SSH,
    ])
    .await
    .unwrap();
    let mut inventory = String::from("name,host,port,admin_user,system_users,gateway,active\n");
    for row in lab.rows() {
        let name = match row.name.as_str() {
            "ok-root" => WEB,
            "tcp-refused" => DB,
            "http-on-22" => HTTP,
            other => panic!("unexpected row {other}"),
        };
        inventory.push_str(&format!(
            "{name},{},{},{},,,true\n",
            row.host, row.port, row.admin_user
        ));
    }
    let path = lab.dir().join("named.csv");
    std::fs::write(&path, inventory).unwrap();
    (lab, path)
}

async fn check(lab: &Lab, inventory: &Path, extra: &[&str]) -> Run {
    let mut argv = lab.check_args_for(inventory);
    argv.extend(args(extra));
    prober(argv).await
}

/// Where the table's detail column starts: after name and address (24 columns each) and
/// the category (as wide as the longest id), one space apart.
fn detail_column() -> usize {
    24 + 1 + 24 + 1 + Category::id_width() + 1
}

/// The text of `line` from display column `column` on.
fn from_column(line: &str, column: usize) -> &str {
    let mut at = 0;
    for (i, c) in line.char_indices() {
        if at >= column {
            return &line[i..];
        }
        at += width(&c.to_string());
    }
    ""
}

#[tokio::test]
async fn a_chinese_table_has_chinese_headers_and_hints_and_columns_aligned_by_width() {
    let (lab, inventory) = named_lab().await;
    let run = check(&lab, &inventory, &["--lang", "zh", "--quiet"]).await;
    assert_eq!(run.status, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("名称"), "{}", run.stdout);
    // Columns are one space apart, in display columns: a Chinese name takes two a
    // character and its row stays in line with the others and the header.
    for line in &lines[..4] {
        let address = from_column(line, 25);
        let category = from_column(line, 50);
        let detail = from_column(line, detail_column());
        if line.starts_with("名称") {
            assert!(address.starts_with("地址 "), "{line:?}");
            assert!(category.starts_with("类别 "), "{line:?}");
            assert_eq!(detail, "详情", "{line:?}");
        } else {
            assert!(address.starts_with("127.0.0.1:"), "{line:?}");
            let id = category.split(' ').next().unwrap();
            assert!(id.parse::<Category>().is_ok(), "{line:?}");
            assert!(!detail.starts_with(' '), "{line:?}");
        }
    }
    let row = |name: &str| *lines.iter().find(|l| l.starts_with(name)).unwrap();
    assert!(from_column(row(DB), 50).starts_with("tcp_refused "));
    assert!(from_column(row(WEB), 50).starts_with("ok "));
    assert!(lines.contains(&"处理建议"), "{}", run.stdout);
    assert!(run.stdout.contains(Category::TcpRefused.hint(Lang::Zh)));
    assert!(!run.stdout.contains("HOW TO FIX"), "{}", run.stdout);
}

#[tokio::test]
async fn the_summary_is_in_chinese_and_ids_and_fields_stay_english() {
    let (lab, inventory) = named_lab().await;
    let run = check(&lab, &inventory, &["--lang", "zh", "--format", "jsonl"]).await;
    assert!(
        run.stderr.contains("共 3 个资产，用时 ")
            && run.stderr.contains("：1 个正常，2 个异常，0 个跳过"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("\n  tcp_refused "), "{}", run.stderr);
    let record = run.record(DB);
    assert_eq!(record["category"], "tcp_refused");
    assert_eq!(record["hint"], Category::TcpRefused.hint(Lang::Zh));
    let keys: Vec<&String> = record.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), Record::FIELDS.len());
}

/// What a server said (a banner, quoted in the message) is the server's, in any language:
/// the record's message and banner are the same in a Chinese run, and the table quotes them.
#[tokio::test]
async fn what_a_server_said_is_not_translated() {
    let (lab, inventory) = named_lab().await;
    let en = check(
        &lab,
        &inventory,
        &["--lang", "en", "--format", "jsonl", "--quiet"],
    )
    .await;
    let zh = check(
        &lab,
        &inventory,
        &["--lang", "zh", "--format", "jsonl", "--quiet"],
    )
    .await;
    let (en, zh) = (en.record(HTTP), zh.record(HTTP));
    assert_eq!(zh["category"], "ssh_not_ssh");
    assert_eq!(zh["banner"], "HTTP/1.1 400 Bad Request");
    let message = en["message"].as_str().unwrap();
    assert!(message.contains("HTTP/1.1 400 Bad Request"), "{message}");
    assert_eq!(zh["message"], message);
    assert_ne!(zh["hint"], en["hint"]);
    let table = check(&lab, &inventory, &["--lang", "zh", "--quiet"]).await;
    let row = table.stdout.lines().find(|l| l.starts_with(HTTP)).unwrap();
    assert_eq!(from_column(row, detail_column()), message, "{row:?}");
}

#[tokio::test]
async fn the_locale_chooses_chinese_and_lang_en_overrides_it() {
    let zh_meaning = Category::AuthFailed.meaning(Lang::Zh);
    let en_meaning = Category::AuthFailed.meaning(Lang::En);
    let list = |extra: &'static [&'static str], env: &'static [(&'static str, &'static str)]| {
        let mut argv = vec!["explain", "--list"];
        argv.extend(extra);
        prober_with_env(argv, env)
    };
    let zh = list(&[], &[("LANG", "zh_CN.UTF-8")]).await;
    assert!(zh.stdout.contains(zh_meaning), "{}", zh.stdout);
    // The meanings start in one column, by display width ("任意" takes four).
    let starts: Vec<usize> = zh
        .stdout
        .lines()
        .map(|line| {
            let meaning = Category::ALL
                .iter()
                .map(|c| c.meaning(Lang::Zh))
                .find(|m| line.ends_with(m))
                .unwrap_or_else(|| panic!("no meaning in {line:?}"));
            width(&line[..line.len() - meaning.len()])
        })
        .collect();
    assert!(starts.windows(2).all(|w| w[0] == w[1]), "{}", zh.stdout);
    assert!(zh.stdout.contains(" 任意 "), "{}", zh.stdout);

    let en = list(&["--lang", "en"], &[("LANG", "zh_CN.UTF-8")]).await;
    assert!(
        en.stdout.contains(en_meaning) && !en.stdout.contains(zh_meaning),
        "{}",
        en.stdout
    );
    // LC_ALL comes before LANG, LC_MESSAGES too.
    let c = list(&[], &[("LANG", "zh_CN.UTF-8"), ("LC_ALL", "C")]).await;
    assert!(c.stdout.contains(en_meaning), "{}", c.stdout);
    let c = list(&[], &[("LC_MESSAGES", "zh_TW.UTF-8"), ("LANG", "C")]).await;
    assert!(c.stdout.contains(zh_meaning), "{}", c.stdout);

    let md = list(&["--format", "md"], &[("LANG", "zh_CN.UTF-8")]).await;
    assert!(
        md.stdout
            .starts_with("| 类别 | 阶段 | 含义 |\n|---|---|---|\n"),
        "{}",
        md.stdout
    );
    let md = list(
        &["--format", "md", "--lang", "en"],
        &[("LANG", "zh_CN.UTF-8")],
    )
    .await;
    assert_eq!(md.stdout, Category::markdown_table(Lang::En));

    let one = prober_with_env(["explain", "sudo_requiretty"], &[("LANG", "zh_CN.UTF-8")]).await;
    assert!(
        one.stdout.contains("  阶段：     inspect\n")
            && one.stdout.contains(&format!(
                "  处理建议： {}",
                Category::SudoRequiretty.hint(Lang::Zh)
            )),
        "{}",
        one.stdout
    );

    // A run too: the table and its summary.
    let (lab, inventory) = named_lab().await;
    let mut argv = lab.check_args_for(&inventory);
    let run = prober_with_env(argv.clone(), &[("LANG", "zh_CN.UTF-8")]).await;
    assert!(run.stdout.starts_with("名称"), "{}", run.stdout);
    assert!(run.stderr.contains("共 3 个资产"), "{}", run.stderr);
    argv.extend(args(["--lang", "en"]));
    let run = prober_with_env(argv, &[("LANG", "zh_CN.UTF-8")]).await;
    assert!(run.stdout.starts_with("NAME"), "{}", run.stdout);
    assert!(run.stderr.contains("3 assets in"), "{}", run.stderr);
}

/// Text as Excel opens a CSV: UTF-8 when it starts with a byte order mark, else in the
/// system's code page, GBK on a Chinese Windows. encoding_rs's `decode` has that rule.
fn as_excel_opens(bytes: &[u8]) -> String {
    let (text, _, _) = encoding_rs::GBK.decode(bytes);
    text.into_owned()
}

#[tokio::test]
async fn csv_in_chinese_opens_in_excel_intact() {
    let (lab, inventory) = named_lab().await;
    let csv = |name: &'static str, extra: &'static [&'static str]| {
        let out = lab.dir().join(name);
        let mut argv = lab.check_args_for(&inventory);
        argv.extend(args(["--format", "csv", "--quiet", "-o"]));
        argv.push(out.clone().into());
        argv.extend(args(extra));
        async move {
            let run = prober(argv).await;
            assert_eq!(run.status, 1, "{}", run.stderr);
            std::fs::read(out).unwrap()
        }
    };
    let hint = Category::TcpRefused.hint(Lang::Zh);
    // Chinese: a BOM by default.
    let bytes = csv("zh.csv", &["--lang", "zh"]).await;
    assert!(bytes.starts_with(b"\xef\xbb\xbf"));
    let excel = as_excel_opens(&bytes);
    assert!(excel.starts_with(&Record::FIELDS.join(",")), "{excel}");
    assert!(
        excel.contains(DB) && excel.contains(HTTP) && excel.contains(hint),
        "{excel}"
    );
    // Without it Excel shows mojibake: the very failure the BOM is for.
    let bytes = csv("zh-no-excel.csv", &["--lang", "zh", "--no-excel"]).await;
    assert!(!bytes.starts_with(b"\xef\xbb\xbf"));
    let excel = as_excel_opens(&bytes);
    assert!(!excel.contains(DB) && !excel.contains(hint), "{excel}");
    assert!(String::from_utf8(bytes).unwrap().contains(DB));
    // English: none unless asked for.
    assert!(!csv("en.csv", &["--lang", "en"]).await.starts_with(b"\xef"));
    let bytes = csv("en-excel.csv", &["--lang", "en", "--excel"]).await;
    assert!(as_excel_opens(&bytes).contains(DB));
    // Stdout too: once, at its start.
    let mut argv = lab.check_args_for(&inventory);
    argv.extend(args(["--format", "csv", "--quiet", "--lang", "zh"]));
    let run = prober(argv).await;
    assert!(run.stdout.starts_with('\u{feff}'), "{}", run.stdout);
    assert_eq!(run.stdout.matches('\u{feff}').count(), 1);
}

#[tokio::test]
async fn resuming_a_csv_for_excel_appends_without_a_second_bom() {
    let (lab, inventory) = named_lab().await;
    let all = std::fs::read_to_string(&inventory).unwrap();
    let first: String = all.lines().take(2).map(|l| format!("{l}\n")).collect();
    let partial = lab.dir().join("partial.csv");
    std::fs::write(&partial, first).unwrap();
    let results = lab.dir().join("results.csv");
    let mut argv = lab.check_args_for(&partial);
    argv.extend(args(["--lang", "zh", "--format", "csv", "--quiet", "-o"]));
    argv.push(results.clone().into());
    prober(argv).await;
    let before = std::fs::read(&results).unwrap();
    assert!(before.starts_with(b"\xef\xbb\xbf"));
    assert_eq!(String::from_utf8_lossy(&before).lines().count(), 2);

    let mut argv = lab.check_args_for(&inventory);
    argv.extend(args(["--lang", "zh", "--quiet", "--resume"]));
    argv.push(results.clone().into());
    let run = prober(argv).await;
    assert_eq!(run.status, 1, "{}", run.stderr);
    let after = std::fs::read_to_string(&results).unwrap();
    assert!(
        after.as_bytes().starts_with(&before),
        "appended, not rewritten"
    );
    assert_eq!(after.matches('\u{feff}').count(), 1, "{after}");
    assert_eq!(after.lines().count(), 4, "{after}");
    assert!(as_excel_opens(after.as_bytes()).contains(DB));
    // And the results reader takes it: every subject is there, once.
    let diff = prober(["diff".as_ref(), results.as_os_str(), results.as_os_str()]).await;
    assert_eq!(
        (diff.status, diff.stdout.as_str()),
        (0, "no change\n"),
        "{}",
        diff.stderr
    );
}
