//! `prober diff OLD NEW`: what changed between two runs, for a terminal, a script, or a
//! chat or ticket (Markdown). Names and categories come from the files: every one is
//! escaped for where it is shown.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::Path;

use prober_engine::category::Lang;
use prober_engine::i18n::Text;
use prober_engine::results::{self, Change, Difference, Recorded, ResultsReader};
use prober_engine::text;

use crate::cli::{DiffArgs, DiffFormat};
use crate::commands::OutputError;
use crate::exit::Outcome;

/// Exits 1 when something newly fails (an ok subject now failing, or one failing that was
/// not known before), else 0; an interrupted probe is no failure.
pub fn run(args: &DiffArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let differences = results::diff(read(&args.old)?, read(&args.new)?);
    render(args, &differences, out)
        .and_then(|()| out.flush())
        .map_err(OutputError::stdout)?;
    Ok((!differences.iter().any(|d| d.new_failure)).into())
}

fn render(args: &DiffArgs, differences: &[Difference], out: &mut dyn Write) -> io::Result<()> {
    let lang = args.lang.unwrap_or_else(Lang::from_env);
    match args.format {
        DiffFormat::Table => table(differences, lang, out),
        DiffFormat::Jsonl => jsonl(differences, out),
        DiffFormat::Md => markdown(differences, &args.old, &args.new, lang, out),
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<Recorded>> {
    Ok(ResultsReader::open(path)?.collect::<Result<_, _>>()?)
}

/// "2 newly failing, 1 fixed, …", or that nothing changed.
fn counts(differences: &[Difference], lang: Lang) -> String {
    if differences.is_empty() {
        return Text::DiffNoChange.get(lang).into();
    }
    let separator = match lang {
        Lang::En => ", ",
        Lang::Zh => "，",
    };
    Change::ALL
        .iter()
        .map(|&change| {
            let n = differences.iter().filter(|d| d.change == change).count();
            let title = change.title(lang).to_lowercase();
            Text::DiffCount.fill(lang, &[("n", &n), ("change", &title)])
        })
        .collect::<Vec<_>>()
        .join(separator)
}

fn category(id: &Option<String>) -> &str {
    id.as_deref().unwrap_or("-")
}

const WIDTH: usize = 40;

fn table(differences: &[Difference], lang: Lang, out: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<[String; 5]> = differences
        .iter()
        .map(|d| {
            [
                d.change.id().to_string(),
                text::cell(&d.identity.subject(), WIDTH),
                text::cell(&d.identity.address(), WIDTH),
                text::cell(category(&d.old), WIDTH),
                text::cell(category(&d.new), WIDTH),
            ]
        })
        .collect();
    let header = [
        Text::DiffChange,
        Text::DiffAsset,
        Text::DiffAddress,
        Text::DiffWas,
        Text::DiffNow,
    ]
    .map(|t| t.get(lang).to_string());
    let mut widths = [0; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(text::width(cell));
        }
    }
    if !rows.is_empty() {
        for row in std::iter::once(&header).chain(&rows) {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, width)| text::pad(cell, width))
                .collect();
            writeln!(out, "{}", cells.join("  ").trim_end())?;
        }
    }
    writeln!(out, "{}", counts(differences, lang))
}

fn jsonl(differences: &[Difference], out: &mut dyn Write) -> io::Result<()> {
    // JSON escapes C0 controls but not C1 ones (CSI), which a terminal acts on: the text
    // is made safe as the prober's own records are (a no-op for them).
    fn safe(text: &Option<String>) -> Option<Cow<'_, str>> {
        text.as_deref().map(text::safe)
    }
    for d in differences {
        let line = serde_json::json!({
            "change": d.change.id(),
            "name": text::safe(&d.identity.name),
            "system_user": safe(&d.identity.system_user),
            "host": text::safe(&d.identity.host),
            "port": d.identity.port,
            "old": safe(&d.old),
            "new": safe(&d.new),
        });
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn markdown(
    differences: &[Difference],
    old: &Path,
    new: &Path,
    lang: Lang,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "**prober diff** {} → {}: {}",
        md(&old.display().to_string()),
        md(&new.display().to_string()),
        counts(differences, lang)
    )?;
    for change in Change::ALL {
        let rows: Vec<&Difference> = differences.iter().filter(|d| d.change == change).collect();
        if rows.is_empty() {
            continue;
        }
        writeln!(out, "\n#### {} ({})\n", change.title(lang), rows.len())?;
        let header = [
            Text::DiffAsset,
            Text::DiffAddress,
            Text::DiffWas,
            Text::DiffNow,
        ]
        .map(|t| t.get(lang));
        writeln!(out, "| {} |\n|---|---|---|---|", header.join(" | "))?;
        for d in rows {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                md(&d.identity.subject()),
                md(&d.identity.address()),
                md(category(&d.old)),
                md(category(&d.new))
            )?;
        }
    }
    Ok(())
}

/// Text for a Markdown table cell: control characters replaced, cut, and every character
/// Markdown or a chat would read as markup escaped.
fn md(text: &str) -> String {
    let mut out = String::new();
    for c in text::cell(text, 80).chars() {
        if "\\`*_[]<>|~&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use prober_engine::results::Identity;

    fn hostile() -> Vec<Difference> {
        vec![Difference {
            change: Change::NewlyFailing,
            identity: Identity::new("\u{1b}]0;title\u{7}web|x\n", "10.0.0.1", Some(22), None),
            old: Some("ok".into()),
            new: Some("\u{9b}2J\u{1b}[31mauth_failed".into()),
            new_failure: true,
        }]
    }

    #[test]
    fn no_format_lets_a_control_character_through() {
        for format in [DiffFormat::Table, DiffFormat::Jsonl, DiffFormat::Md] {
            let args = DiffArgs {
                old: "a".into(),
                new: "b".into(),
                format,
                lang: Some(Lang::En),
            };
            let mut out = Vec::new();
            render(&args, &hostile(), &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{text:?}"
            );
            assert!(text.contains("newly"), "{text}");
        }
    }

    #[test]
    fn a_chinese_table_lines_up_chinese_names_by_display_width() {
        let difference = |change, name: &str, host: &str, old: Option<&str>| Difference {
            change,
            identity: Identity::new(name, host, Some(22), None),
            old: old.map(String::from),
            new: Some("ok".into()),
            new_failure: false,
        };
        let differences = [
            difference(
                Change::Fixed,
                "数据库服务器-主",
                "10.0.0.1",
                Some("tcp_refused"),
            ),
            difference(Change::Added, "web-1", "10.0.0.2", None),
        ];
        let mut out = Vec::new();
        table(&differences, Lang::Zh, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let column = |line: &str, at: &str| text::width(&line[..line.find(at).unwrap()]);
        assert_eq!(
            column(lines[0], "地址"),
            column(lines[1], "10.0.0.1"),
            "{text}"
        );
        assert_eq!(
            column(lines[1], "10.0.0.1"),
            column(lines[2], "10.0.0.2"),
            "{text}"
        );
        assert_eq!(
            lines[3],
            "新出现的失败 0 个，已修复 1 个，类别改变 0 个，新增 1 个，移除 0 个，未检测 0 个"
        );
    }

    #[test]
    fn markdown_cells_cannot_break_the_table_or_link() {
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("[x](http://e)"), "\\[x\\](http://e)");
        assert_eq!(md("\u{1b}[31m\n"), "?\\[31m?");
        assert_eq!(md("<img>"), "\\<img\\>");
    }
}
