//! `prober explain`: what a category means and how to fix it, or the whole table.

use std::io::{self, Write};

use prober_engine::category::{Category, Lang};

use crate::cli::{ExplainArgs, ListFormat};
use crate::commands::OutputError;

pub fn run(args: &ExplainArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.list {
        return Ok(list(args.format, out).map_err(OutputError::stdout)?);
    }
    // clap has looked the id up (crate::cli::parse_category) and requires it without --list.
    let Some(category) = args.category else {
        anyhow::bail!("give a category id, or --list");
    };
    Ok(describe(category, args.lang, out).map_err(OutputError::stdout)?)
}

fn list(format: ListFormat, out: &mut dyn Write) -> io::Result<()> {
    if format == ListFormat::Md {
        return out.write_all(Category::markdown_table().as_bytes());
    }
    for category in Category::ALL {
        let stage = category.stage().map_or("any", |s| s.id());
        writeln!(
            out,
            "{:<26} {:<10} {}",
            category.id(),
            stage,
            category.meaning()
        )?;
    }
    Ok(())
}

fn describe(category: Category, lang: Lang, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", category.id())?;
    writeln!(
        out,
        "  stage:   {}",
        category.stage().map_or("any", |s| s.id())
    )?;
    writeln!(out, "  meaning: {}", category.meaning())?;
    writeln!(out, "  fix:     {}", category.hint(lang))
}
