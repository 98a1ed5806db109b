//! Reporters: sinks that consume the stream of records as assets finish.

mod csv_sink;
pub mod file_sd;
mod json;
mod junit;
pub mod progress;
mod record;
mod summary;
mod table;

use std::io::{self, Write};

pub use csv_sink::BOM;
pub use record::{Record, subject};
pub use summary::{Interruption, Summary};

use crate::category::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// Aligned columns for people, with the hints at the end.
    #[default]
    Table,
    /// Comma-separated values with a header row, for spreadsheets.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// One JSON array.
    Json,
    /// JUnit XML, one test case per result, for CI systems.
    Junit,
}

pub trait Sink {
    fn record(&mut self, record: &Record) -> io::Result<()>;
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}

/// What names a run in the formats that carry a title (JUnit).
#[derive(Debug, Clone, Copy)]
pub struct Title<'a> {
    /// The command that ran (JUnit's test suite).
    pub command: &'a str,
    /// What was probed, the same from one run to the next so that CI systems keep each
    /// asset's history (JUnit's class): the inventory's file stem, `stdin`, the `--from`
    /// results file's stem, `demo`, `gateway`. Named by the caller, who knows where the
    /// assets came from.
    pub source: &'a str,
}

/// `excel` starts a CSV with a UTF-8 byte order mark, the sign Excel reads it as UTF-8 by
/// (see [`BOM`]).
pub fn sink(
    format: Format,
    out: Box<dyn Write + Send>,
    lang: Lang,
    excel: bool,
    title: Title<'_>,
) -> io::Result<Box<dyn Sink + Send>> {
    Ok(match format {
        Format::Table => Box::new(table::Table::new(out, lang)?),
        Format::Csv => Box::new(csv_sink::Csv::new(out, excel)?),
        Format::Jsonl => Box::new(json::JsonLines::new(out)),
        Format::Json => Box::new(json::JsonArray::new(out)),
        Format::Junit => Box::new(junit::Junit::new(out, title)),
    })
}

/// A sink continuing a results file already in `format` (`--resume`): a CSV's header (and
/// byte order mark, if any) is there already. Only the line formats can be continued.
pub fn continuing(format: Format, out: Box<dyn Write + Send>) -> io::Result<Box<dyn Sink + Send>> {
    match format {
        Format::Csv => Ok(Box::new(csv_sink::Csv::continuing(out))),
        Format::Jsonl => Ok(Box::new(json::JsonLines::new(out))),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "only jsonl and csv results can be continued",
        )),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::{self, Write};
    use std::sync::{Arc, Mutex};

    /// A writer a test reads back once the sink that owns a clone is done.
    #[derive(Clone, Default)]
    pub struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Shared {
        pub fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
}
