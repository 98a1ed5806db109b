use std::io::{self, Write};

use super::{Record, Sink, Summary};

pub struct JsonLines {
    out: Box<dyn Write + Send>,
}

impl JsonLines {
    pub fn new(out: Box<dyn Write + Send>) -> JsonLines {
        JsonLines { out }
    }
}

impl Sink for JsonLines {
    fn record(&mut self, record: &Record) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, record)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}

/// A JSON array written element by element, so it streams like the other formats.
pub struct JsonArray {
    out: Box<dyn Write + Send>,
    first: bool,
}

impl JsonArray {
    pub fn new(out: Box<dyn Write + Send>) -> JsonArray {
        JsonArray { out, first: true }
    }
}

impl Sink for JsonArray {
    fn record(&mut self, record: &Record) -> io::Result<()> {
        self.out
            .write_all(if self.first { b"[\n" } else { b",\n" })?;
        self.first = false;
        serde_json::to_writer(&mut self.out, record)?;
        self.out.flush()
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.out
            .write_all(if self.first { b"[]\n" } else { b"\n]\n" })?;
        self.out.flush()
    }
}
