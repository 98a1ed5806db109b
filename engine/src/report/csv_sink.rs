use std::io::{self, Write};

use super::{Record, Sink, Summary};
use crate::text::csv_cell;

/// UTF-8's byte order mark. Excel opens a CSV as UTF-8 only when it starts with one; without
/// it, in the system's code page (GBK on a Chinese Windows), and every Chinese name and hint
/// turns to mojibake.
pub const BOM: &[u8] = b"\xef\xbb\xbf";

pub struct Csv {
    writer: csv::Writer<Box<dyn Write + Send>>,
}

impl Csv {
    /// A new file: the byte order mark if `excel`, then the header.
    pub fn new(mut out: Box<dyn Write + Send>, excel: bool) -> io::Result<Csv> {
        if excel {
            out.write_all(BOM)?;
        }
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(Record::FIELDS)?;
        Ok(Csv { writer })
    }

    /// More records for a file that has the header (and any byte order mark) already.
    pub fn continuing(out: Box<dyn Write + Send>) -> Csv {
        Csv {
            writer: csv::Writer::from_writer(out),
        }
    }
}

impl Sink for Csv {
    fn record(&mut self, r: &Record) -> io::Result<()> {
        // Spreadsheets open these files: no cell may read as a formula.
        self.writer.write_record(
            r.texts()
                .iter()
                .map(|(_, text)| csv_cell(text).into_owned()),
        )?;
        self.writer.flush()
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.writer.flush()
    }
}
