//! Runs built on an earlier run's results: where the rows come from (`--from`), and where
//! the results go (`--resume`).

use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, bail};
use prober_engine::report::{self, Format, Record, Sink, Title};
use prober_engine::results::{self, Done, Pick, ResultsFormat, ResultsReader};
use prober_engine::run::Entries;

use crate::cli::{OutputArgs, ResultsArgs};

/// `--from RESULTS`: the assets it picks from RESULTS, to probe instead of an inventory's.
/// RESULTS without any record is an error, as an inventory without rows is, unless
/// `allow_empty`; a filter that picks nothing from records is an answer ("nothing failed"),
/// not an error, so a script retrying failures ends cleanly once all is fixed.
pub fn from(args: &ResultsArgs, allow_empty: bool, quiet: bool) -> anyhow::Result<Option<Entries>> {
    let Some(from) = &args.from else {
        return Ok(None);
    };
    let pick = if args.failed {
        Pick::Failing
    } else if args.only.is_empty() {
        Pick::All
    } else {
        Pick::Only(args.only.clone())
    };
    let mut records = 0;
    let read = ResultsReader::open(from)?.inspect(|record| records += usize::from(record.is_ok()));
    let rows = results::assets(read, &pick)?;
    if records == 0 && !allow_empty {
        bail!(
            "no results in {}: it has no records (give --allow-empty if that is fine)",
            from.display()
        );
    }
    if !quiet {
        eprintln!("probing again {} assets of {}", rows.len(), from.display());
    }
    Ok(Some(Entries {
        path: from.clone(),
        rows: Box::new(rows.into_iter()),
    }))
}

/// `--resume RESULTS`: a sink appending to RESULTS, in its format, after the unfinished
/// last line a killed run may have left is dropped; and what RESULTS has done. RESULTS is
/// the output: `-o` may only name it again, and `--format` may only be its own (jsonl or
/// csv; jsonl for a new file).
pub fn resume(
    path: &Path,
    output: &OutputArgs,
    title: Title<'_>,
) -> anyhow::Result<(Box<dyn Sink + Send>, Arc<Done>)> {
    let quiet = output.quiet;
    let shown = path.display();
    if let Some(other) = &output.output
        && !crate::output::same_file(other, path)
    {
        bail!(
            "--resume {shown} appends to {shown}; -o {} names another file (leave -o out)",
            other.display()
        );
    }
    let wanted = match output.format {
        // The default: the file says.
        Format::Table => None,
        Format::Jsonl => Some(ResultsFormat::Jsonl),
        Format::Csv => Some(ResultsFormat::Csv),
        Format::Json | Format::Junit => bail!(
            "--resume appends to {shown}: --format json and junit cannot be appended to; use jsonl or csv"
        ),
    };
    if !path.exists() {
        if !quiet {
            eprintln!("resume: {shown} does not exist yet: a new run");
        }
        let file = File::create(path).map_err(|e| anyhow!("cannot create {shown}: {e}"))?;
        let format = format(wanted.unwrap_or(ResultsFormat::Jsonl));
        let sink = report::sink(
            format,
            Box::new(BufWriter::new(file)),
            output.lang(),
            output.excel(),
            title,
        )
        .map_err(|e| anyhow!("cannot write to {shown}: {e}"))?;
        return Ok((sink, Arc::default()));
    }
    let mut reader = ResultsReader::open(path)?;
    let done = Done::read(&mut reader)?;
    let found = reader.format();
    if let (Some(found), Some(wanted)) = (found, wanted)
        && found != wanted
    {
        bail!(
            "{shown} holds {} results; --format {} cannot continue it",
            name(found),
            name(wanted)
        );
    }
    if found == Some(ResultsFormat::Csv) && reader.header() != Record::FIELDS {
        bail!(
            "{shown}: its CSV columns are not the ones this prober writes (another version?); resume into a new file"
        );
    }
    let complete = reader.complete();
    let file = OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| anyhow!("cannot append to {shown}: {e}"))?;
    let length = file.metadata()?.len();
    if length > complete {
        // A run killed while writing left half a record: it is no result.
        file.set_len(complete)?;
        if !quiet {
            eprintln!(
                "resume: dropped the unfinished last line of {shown} ({} bytes)",
                length - complete
            );
        }
    }
    if !quiet {
        eprintln!(
            "resume: {} results already in {shown}; the summary counts them",
            done.len()
        );
    }
    let format = format(found.or(wanted).unwrap_or(ResultsFormat::Jsonl));
    let out = Box::new(BufWriter::new(file));
    // A byte order mark only ever starts a file: not after what a killed run left.
    let excel = output.excel() && complete == 0;
    let sink = match found {
        Some(_) => report::continuing(format, out),
        None => report::sink(format, out, output.lang(), excel, title),
    }
    .map_err(|e| anyhow!("cannot write to {shown}: {e}"))?;
    Ok((sink, Arc::new(done)))
}

fn format(results: ResultsFormat) -> Format {
    match results {
        ResultsFormat::Jsonl => Format::Jsonl,
        ResultsFormat::Csv => Format::Csv,
    }
}

fn name(results: ResultsFormat) -> &'static str {
    match results {
        ResultsFormat::Jsonl => "jsonl",
        ResultsFormat::Csv => "csv",
    }
}
