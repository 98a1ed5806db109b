//! Splits a results file into records without ever holding more than [`MAX_RECORD`]
//! bytes: a longer record is read past and reported, and bytes after the last newline (a
//! run killed while writing) are never taken for a record.

use std::io::{self, BufRead};

use super::MAX_RECORD;

/// What the next piece of the file is.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    /// A whole record, in the buffer, starting on this line.
    Record(u64),
    /// A record longer than [`MAX_RECORD`], starting on this line: read past, not kept.
    TooLong(u64),
}

pub struct Lines<R> {
    reader: R,
    /// CSV: a newline inside a quoted field does not end the record. JSON lines never
    /// hold a raw newline.
    quoted_newlines: bool,
    /// Lines read so far.
    line: u64,
    /// Bytes read so far, and up to the end of the last whole record.
    offset: u64,
    complete: u64,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R, quoted_newlines: bool) -> Lines<R> {
        Lines {
            reader,
            quoted_newlines,
            line: 0,
            offset: 0,
            complete: 0,
        }
    }

    /// Bytes up to the end of the last whole record read: where appending must start.
    pub fn complete(&self) -> u64 {
        self.complete
    }

    /// Skips `n` bytes already looked at (a byte order mark).
    pub fn skip(&mut self, n: usize) {
        self.reader.consume(n);
        self.offset += n as u64;
        self.complete = self.offset;
    }

    /// The next non-blank record into `record`; `None` at the end of the file, and for
    /// an unfinished last record.
    pub fn next(&mut self, record: &mut Vec<u8>) -> io::Result<Option<Piece>> {
        loop {
            record.clear();
            let first = self.line + 1;
            let mut quoted = false;
            let mut too_long = false;
            loop {
                let chunk = match self.reader.fill_buf() {
                    Ok(chunk) => chunk,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                if chunk.is_empty() {
                    return Ok(None);
                }
                let mut end = None;
                for (i, &byte) in chunk.iter().enumerate() {
                    match byte {
                        b'"' if self.quoted_newlines => quoted = !quoted,
                        b'\n' => {
                            self.line += 1;
                            if !quoted {
                                end = Some(i);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let used = end.map_or(chunk.len(), |i| i + 1);
                let kept = end.unwrap_or(chunk.len());
                if !too_long && record.len() + kept <= MAX_RECORD {
                    record.extend_from_slice(&chunk[..kept]);
                } else {
                    too_long = true;
                    record.clear();
                }
                self.reader.consume(used);
                self.offset += used as u64;
                if end.is_some() {
                    self.complete = self.offset;
                    break;
                }
            }
            if too_long {
                return Ok(Some(Piece::TooLong(first)));
            }
            if record.last() == Some(&b'\r') {
                record.pop();
            }
            if !record.iter().all(u8::is_ascii_whitespace) {
                return Ok(Some(Piece::Record(first)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(bytes: &[u8], quoted: bool) -> (Vec<(Piece, String)>, u64) {
        let mut lines = Lines::new(bytes, quoted);
        let mut record = Vec::new();
        let mut out = Vec::new();
        while let Some(piece) = lines.next(&mut record).unwrap() {
            out.push((piece, String::from_utf8_lossy(&record).into_owned()));
        }
        (out, lines.complete())
    }

    #[test]
    fn records_lines_and_the_unfinished_tail() {
        let (got, complete) = pieces(b"a\r\n\n  \nb\n\"c\nd\"\npart", true);
        assert_eq!(
            got,
            [
                (Piece::Record(1), "a".into()),
                (Piece::Record(4), "b".into()),
                (Piece::Record(5), "\"c\nd\"".into()),
            ]
        );
        assert_eq!(complete, 15);
        let (got, _) = pieces(b"\"c\nd\"\n", false);
        assert_eq!(got.len(), 2, "JSON lines end at every newline");
    }

    #[test]
    fn a_record_too_long_is_read_past() {
        let mut bytes = b"a\n".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', MAX_RECORD + 1));
        bytes.extend_from_slice(b"\nb\n");
        let (got, complete) = pieces(&bytes, false);
        assert_eq!(
            got,
            [
                (Piece::Record(1), "a".into()),
                (Piece::TooLong(2), String::new()),
                (Piece::Record(3), "b".into()),
            ]
        );
        assert_eq!(complete, bytes.len() as u64);
    }
}
