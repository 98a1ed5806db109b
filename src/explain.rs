//! `prober explain`: what a category means and how to fix it, or the whole table.

use std::io::{self, Write};

use prober_engine::category::{Category, Lang};
use prober_engine::i18n::Text;
use prober_engine::text::{pad, width};

use crate::cli::{ExplainArgs, ListFormat};
use crate::commands::OutputError;

pub fn run(args: &ExplainArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let lang = args.lang.unwrap_or_else(Lang::from_env);
    if args.list {
        return Ok(list(args.format, lang, out).map_err(OutputError::stdout)?);
    }
    // clap has looked the id up (crate::cli::parse_category) and requires it without --list.
    let Some(category) = args.category else {
        anyhow::bail!("give a category id, or --list");
    };
    Ok(describe(category, lang, out).map_err(OutputError::stdout)?)
}

fn list(format: ListFormat, lang: Lang, out: &mut dyn Write) -> io::Result<()> {
    if format == ListFormat::Md {
        return out.write_all(Category::markdown_table(lang).as_bytes());
    }
    let stages = Category::ALL
        .iter()
        .map(|c| width(c.stage_shown(lang)))
        .max()
        .unwrap_or(0);
    for category in Category::ALL {
        writeln!(
            out,
            "{} {} {}",
            pad(category.id(), Category::id_width()),
            pad(category.stage_shown(lang), stages.max(10)),
            category.meaning(lang)
        )?;
    }
    Ok(())
}

fn describe(category: Category, lang: Lang, out: &mut dyn Write) -> io::Result<()> {
    let labels = [Text::ExplainStage, Text::ExplainMeaning, Text::ExplainFix].map(|t| t.get(lang));
    let label_width = labels.iter().map(|l| width(l)).max().unwrap_or(0);
    let values = [
        category.stage_shown(lang),
        category.meaning(lang),
        category.hint(lang),
    ];
    writeln!(out, "{}", category.id())?;
    for (label, value) in labels.iter().zip(values) {
        writeln!(out, "  {} {value}", pad(label, label_width))?;
    }
    Ok(())
}
