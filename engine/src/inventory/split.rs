//! Cuts the decoded inventory into rows, each at most [`MAX_ROW`] bytes, and numbers their
//! lines as an editor does: `\n`, `\r\n` and a lone `\r` each end one line. A longer row is
//! read past without being held, so one endless line (or one endless quoted field) costs
//! no more memory than a short one. Results files are cut the same way
//! ([`Splitter::whole_rows_only`]).

use std::io::{self, BufRead};

/// The longest row (a line, or the lines a quoted field spans) read; so also the longest
/// field. JumpServer rows are well under 1 KiB.
pub const MAX_ROW: usize = 64 * 1024;

/// How quotes and delimiters cut a row into fields: as the csv crate reads them (a quote
/// opens a quoted field only at the field's start; `""` inside is a quote), so that the
/// row ends here exactly where the CSV parser would end its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Csv(u8),
    /// A host list: no quoting, one row per line.
    Plain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// A row, its text in [`Splitter::text`].
    Text { line: u64 },
    /// A row longer than [`MAX_ROW`], skipped; `column` is where it went over (0-based).
    TooLong { line: u64, column: usize },
}

/// Where the scan is in a row.
#[derive(Debug, Default)]
struct Place {
    field: Field,
    /// The column the field is in (0-based).
    column: usize,
    /// The last byte was a `\r` inside quotes: a `\n` now ends the same line.
    quoted_cr: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Field {
    #[default]
    Start,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the field's end, or the first of `""`.
    QuoteInQuoted,
}

pub struct Splitter {
    source: Box<dyn BufRead + Send>,
    style: Style,
    /// The line the next byte is on.
    line: u64,
    /// The last line ended with `\r`: a `\n` right after it belongs to that line end.
    after_cr: bool,
    text: Vec<u8>,
    /// Bytes taken from the source, and up to the end of the last row and its line end.
    offset: u64,
    complete: u64,
    /// Text after the last line end is no row (a results file a killed run left).
    whole_rows_only: bool,
}

impl Splitter {
    pub fn new(source: Box<dyn BufRead + Send>) -> Splitter {
        Splitter {
            source,
            style: Style::Plain,
            line: 1,
            after_cr: false,
            text: Vec::new(),
            offset: 0,
            complete: 0,
            whole_rows_only: false,
        }
    }

    /// From now on, text after the last line end is not a row: a writer may still be
    /// adding to it, or was killed halfway through it.
    pub fn whole_rows_only(&mut self) {
        self.whole_rows_only = true;
    }

    /// Bytes up to the end of the last row's line end: where a whole row may be appended.
    /// A `\r\n`'s `\n` is counted once the next row is asked for (waiting for it would
    /// hold back a row read from a pipe).
    pub fn complete(&self) -> u64 {
        self.complete
    }

    pub fn set_style(&mut self, style: Style) {
        self.style = style;
    }

    /// The line the reader is on.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The text of the last [`Row::Text`], without its line end.
    pub fn text(&self) -> &[u8] {
        &self.text
    }

    pub fn next_row(&mut self) -> io::Result<Option<Row>> {
        self.text.clear();
        let line = self.line;
        let mut place = Place::default();
        let mut too_long = None;
        let mut started = false;
        loop {
            let buf = self.source.fill_buf()?;
            if buf.is_empty() {
                if !started || self.whole_rows_only {
                    return Ok(None);
                }
                break;
            }
            if std::mem::take(&mut self.after_cr) && buf[0] == b'\n' {
                self.source.consume(1);
                self.offset += 1;
                self.complete = self.offset;
                continue;
            }
            started = true;
            let (used, end) = scan(buf, self.style, &mut place, &mut self.line);
            let content = &buf[..used];
            if too_long.is_none() {
                if self.text.len() + content.len() > MAX_ROW {
                    too_long = Some(place.column);
                    self.text = Vec::new();
                } else {
                    self.text.extend_from_slice(content);
                }
            }
            let taken = used + usize::from(end.is_some());
            self.source.consume(taken);
            self.offset += taken as u64;
            match end {
                None => {}
                Some(end) => {
                    self.complete = self.offset;
                    self.after_cr = matches!(end, LineEnd::Cr);
                    break;
                }
            }
        }
        Ok(Some(match too_long {
            Some(column) => Row::TooLong { line, column },
            None => Row::Text { line },
        }))
    }
}

enum LineEnd {
    Lf,
    Cr,
}

/// Scans `buf` up to the row's end: how many bytes belong to the row, and the line end
/// found after them, if any. Runs of ordinary bytes are skipped with memchr: a gigabyte
/// line goes by at memory speed.
fn scan(buf: &[u8], style: Style, at_row: &mut Place, line: &mut u64) -> (usize, Option<LineEnd>) {
    let Place {
        field,
        column,
        quoted_cr,
    } = at_row;
    let delimiter = match style {
        Style::Csv(d) => d,
        Style::Plain => {
            return match memchr::memchr2(b'\n', b'\r', buf) {
                Some(at) => {
                    *line += 1;
                    (at, Some(line_end(buf[at])))
                }
                None => (buf.len(), None),
            };
        }
    };
    let mut at = 0;
    while at < buf.len() {
        let byte = buf[at];
        match *field {
            Field::Start if byte == b'"' => *field = Field::Quoted,
            Field::Start | Field::Unquoted | Field::QuoteInQuoted => {
                if byte == b'\n' || byte == b'\r' {
                    *line += 1;
                    return (at, Some(line_end(byte)));
                }
                if byte == delimiter {
                    *column += 1;
                    *field = Field::Start;
                } else if *field == Field::QuoteInQuoted && byte == b'"' {
                    *field = Field::Quoted;
                } else {
                    *field = Field::Unquoted;
                    match memchr::memchr3(delimiter, b'\n', b'\r', &buf[at + 1..]) {
                        Some(next) => at += next,
                        None => return (buf.len(), None),
                    }
                }
            }
            Field::Quoted if byte == b'"' => {
                *quoted_cr = false;
                *field = Field::QuoteInQuoted;
            }
            Field::Quoted if byte == b'\r' || byte == b'\n' => {
                // Inside quotes a line break is the field's text; it still starts a line
                // of the file, once for `\r\n`.
                *line += u64::from(byte == b'\r' || !*quoted_cr);
                *quoted_cr = byte == b'\r';
            }
            Field::Quoted => {
                *quoted_cr = false;
                match memchr::memchr3(b'"', b'\n', b'\r', &buf[at + 1..]) {
                    Some(next) => at += next,
                    None => return (buf.len(), None),
                }
            }
        }
        at += 1;
    }
    (buf.len(), None)
}

fn line_end(byte: u8) -> LineEnd {
    if byte == b'\n' {
        LineEnd::Lf
    } else {
        LineEnd::Cr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(bytes: &[u8], style: Style, capacity: usize) -> Vec<(Row, String)> {
        let source = io::BufReader::with_capacity(capacity, io::Cursor::new(bytes.to_vec()));
        let mut splitter = Splitter::new(Box::new(source));
        splitter.set_style(style);
        let mut out = Vec::new();
        while let Some(row) = splitter.next_row().unwrap() {
            out.push((row, String::from_utf8_lossy(splitter.text()).into_owned()));
        }
        out
    }

    fn text(line: u64, text: &str) -> (Row, String) {
        (Row::Text { line }, text.to_string())
    }

    #[test]
    fn line_ends_of_every_kind_count_once() {
        for capacity in [1, 2, 3, 64] {
            assert_eq!(
                rows(b"a\r\nb\nc\rd\r\n\r\ne", Style::Plain, capacity),
                [
                    text(1, "a"),
                    text(2, "b"),
                    text(3, "c"),
                    text(4, "d"),
                    text(5, ""),
                    text(6, "e")
                ]
            );
        }
    }

    #[test]
    fn quoted_fields_keep_their_line_breaks_and_count_them() {
        let csv = b"h1,h2\r\n\"multi\r\nline\",\"say \"\"hi\"\"\"\r\nnext,x\r\n";
        for capacity in [1, 2, 5, 64] {
            assert_eq!(
                rows(csv, Style::Csv(b','), capacity),
                [
                    text(1, "h1,h2"),
                    text(2, "\"multi\r\nline\",\"say \"\"hi\"\"\""),
                    text(4, "next,x")
                ]
            );
        }
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_is_text() {
        assert_eq!(
            rows(b"a\"b,c\nd\n", Style::Csv(b','), 64),
            [text(1, "a\"b,c"), text(2, "d")]
        );
    }

    #[test]
    fn long_rows_are_skipped_and_name_their_column() {
        let mut csv = b"a,b,".to_vec();
        csv.extend(std::iter::repeat_n(b'x', MAX_ROW + 10));
        csv.extend_from_slice(b"\nok,1\n\"");
        csv.extend(std::iter::repeat_n(b'y', MAX_ROW + 10));
        let rows = rows(&csv, Style::Csv(b','), 8192);
        assert_eq!(
            rows,
            [
                (Row::TooLong { line: 1, column: 2 }, String::new()),
                text(2, "ok,1"),
                (Row::TooLong { line: 3, column: 0 }, String::new()),
            ]
        );
    }

    #[test]
    fn whole_rows_only_leaves_the_unfinished_tail_and_counts_complete_bytes() {
        let csv = b"a,b\r\n\"c\nd\",e\r\n\r\npart,\"ial";
        for capacity in [1, 3, 64] {
            let source = io::BufReader::with_capacity(capacity, io::Cursor::new(csv.to_vec()));
            let mut splitter = Splitter::new(Box::new(source));
            splitter.set_style(Style::Csv(b','));
            splitter.whole_rows_only();
            let mut got = Vec::new();
            while let Some(row) = splitter.next_row().unwrap() {
                got.push((row, String::from_utf8_lossy(splitter.text()).into_owned()));
            }
            assert_eq!(got, [text(1, "a,b"), text(2, "\"c\nd\",e"), text(4, "")]);
            assert_eq!(splitter.complete(), 16, "up to the last CRLF, LF included");
        }
    }

    #[test]
    fn an_endless_quoted_field_ends_with_the_file() {
        let mut csv = b"\"".to_vec();
        csv.extend(std::iter::repeat_n(b'\n', MAX_ROW + 10));
        let rows = rows(&csv, Style::Csv(b','), 8192);
        assert_eq!(rows, [(Row::TooLong { line: 1, column: 0 }, String::new())]);
    }
}
