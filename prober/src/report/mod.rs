//! Reporters: sinks that consume the stream of records as assets finish.

mod csv_sink;
mod json;
pub mod progress;
mod record;
mod summary;
mod table;

use std::io::{self, Write};

pub use record::{FIELDS, Record};
pub use summary::Summary;

use crate::category::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people, with the hints at the end.
    #[default]
    Table,
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// One JSON array.
    Json,
}

pub trait Sink {
    fn record(&mut self, record: &Record) -> io::Result<()>;
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}

pub fn sink(
    format: Format,
    out: Box<dyn Write + Send>,
    lang: Lang,
) -> io::Result<Box<dyn Sink + Send>> {
    Ok(match format {
        Format::Table => Box::new(table::Table::new(out, lang)?),
        Format::Csv => Box::new(csv_sink::Csv::new(out)?),
        Format::Jsonl => Box::new(json::JsonLines::new(out)),
        Format::Json => Box::new(json::JsonArray::new(out)),
    })
}
