use std::io::{self, Write};

use super::{Record, Sink, Summary};
use crate::text::csv_cell;

pub struct Csv {
    writer: csv::Writer<Box<dyn Write + Send>>,
}

impl Csv {
    pub fn new(out: Box<dyn Write + Send>) -> io::Result<Csv> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(Record::FIELDS)?;
        Ok(Csv { writer })
    }

    /// More records for a file that has the header already.
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
