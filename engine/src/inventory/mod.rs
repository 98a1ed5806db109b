//! Streaming inventory reader: a CSV (ours or a JumpServer export) or a plain list of
//! `host[:port]` lines, in UTF-8, UTF-16 or GB18030/GBK. Rows come out one at a time, each
//! at most [`MAX_ROW`] bytes, so memory does not grow with the file or with its longest
//! line; a bad row becomes an [`Entry::Invalid`] and reading goes on.

mod columns;
mod decode;
pub mod exports;
pub mod fields;
mod header;
pub(crate) mod open;
pub(crate) mod split;

use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use columns::ColumnMap;
pub use columns::Field;
pub use decode::Encoding;
use fields::SshProtocol;
use header::Refusal;
pub use split::MAX_ROW;
use split::{Row, Splitter, Style};

/// One asset to probe, as the inventory describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Line of the inventory file the asset came from (1-based).
    pub line: u64,
    pub name: String,
    pub host: String,
    pub port: u16,
    /// Whether the row gave the port (else 22, or what `-p` or the ssh_config says).
    pub port_given: bool,
    pub admin_user: Option<String>,
    pub system_users: Vec<String>,
    /// The jump host (JumpServer's domain gateway) the asset is reached through.
    pub jump_host: Option<String>,
    pub platform: Option<String>,
    /// JumpServer's id of the asset (its export's `ID` column), when the inventory has one.
    pub id: Option<String>,
    /// JumpServer's nodes the asset is in, when the inventory has them.
    pub nodes: Vec<String>,
    /// Why the asset is not to be probed (inactive, no SSH protocol); `None` to probe it.
    pub skip: Option<String>,
}

impl Asset {
    /// A host alone, as a plain list's line gives it: named after the host, on port 22
    /// unless one is given, with nothing else known.
    pub fn of_host(line: u64, host: String, port: Option<u16>) -> Asset {
        Asset {
            line,
            name: host.clone(),
            host,
            port: port.unwrap_or(22),
            port_given: port.is_some(),
            admin_user: None,
            system_users: Vec::new(),
            jump_host: None,
            platform: None,
            id: None,
            nodes: Vec::new(),
            skip: None,
        }
    }
}

/// A row that cannot be probed, with the line and field to fix. Its texts are excerpts
/// ([`fields::excerpt`]): a bad cell may be as long as a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRow {
    pub line: u64,
    pub name: Option<String>,
    pub host: Option<String>,
    pub field: String,
    pub reason: String,
}

impl InvalidRow {
    pub fn message(&self, file: &Path) -> String {
        format!(
            "{}: line {}, field {}: {}",
            file.display(),
            self.line,
            self.field,
            self.reason
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Asset(Asset),
    Invalid(InvalidRow),
}

/// How to read an inventory.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    pub encoding: Encoding,
    /// An inventory without a single row is fine (else [`InventoryError::Empty`]).
    pub allow_empty: bool,
}

/// The name `-` (stdin) has in messages.
pub const STDIN: &str = "stdin";

/// Problems with the inventory as a whole: nothing in it can be probed.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("cannot read inventory {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "inventory {path}: the header has no host column (expected one of: host, ip, IP/Host, address); found: {found}"
    )]
    NoHostColumn { path: PathBuf, found: String },
    #[error(
        "inventory {path}: the header's labels {labels} are not text in the encoding it was read in: give --encoding (utf-8, utf-16le, utf-16be, gb18030, gbk)"
    )]
    Garbled { path: PathBuf, labels: String },
    #[error(
        "inventory {path}: the header's labels {unknown} are no columns the prober knows (see the README's Inventory section); rename them, or check the file's --encoding"
    )]
    UnknownColumns { path: PathBuf, unknown: String },
    #[error(
        "inventory {path}: the first line \"{first}\" is neither a host[:port] nor a header with known columns (if it is a header, is --encoding right?)"
    )]
    NotAHostList { path: PathBuf, first: String },
    #[error("inventory {path}: {message}")]
    Malformed { path: PathBuf, message: String },
    #[error("no assets in {path}: it has no rows (give --allow-empty if that is fine)")]
    Empty { path: PathBuf },
}

pub struct InventoryReader {
    path: PathBuf,
    splitter: Splitter,
    rows: Rows,
    /// The first entry, read when opening to know the inventory is not empty.
    peeked: Option<Entry>,
    /// Set after a read error: the rest of the file cannot be trusted.
    exhausted: bool,
    unused: Vec<String>,
}

enum Rows {
    Csv(Box<CsvRows>),
    Plain,
}

/// A CSV's parser and the columns its header gave.
struct CsvRows {
    parser: csv_core::Reader,
    columns: ColumnMap,
    labels: Vec<String>,
    record: csv::ByteRecord,
    output: Vec<u8>,
    ends: Vec<usize>,
}

impl InventoryReader {
    /// `-` reads stdin.
    pub fn open(path: &Path, options: &ReadOptions) -> Result<InventoryReader, InventoryError> {
        if path == Path::new("-") {
            return Self::from_reader(Path::new(STDIN), Box::new(io::stdin()), options);
        }
        let io_error = |source| InventoryError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = open::file(path).map_err(io_error)?;
        Self::from_reader(path, Box::new(file), options)
    }

    /// Reads an inventory from any byte source; `path` only names it in messages.
    pub fn from_reader(
        path: &Path,
        source: Box<dyn Read + Send>,
        options: &ReadOptions,
    ) -> Result<InventoryReader, InventoryError> {
        let io_error = |source| InventoryError::Io {
            path: path.to_path_buf(),
            source,
        };
        let buffered = BufReader::with_capacity(64 * 1024, source);
        let decoded =
            decode::Decoded::new(Box::new(buffered), options.encoding).map_err(io_error)?;
        let mut reader = InventoryReader {
            path: path.to_path_buf(),
            splitter: Splitter::new(Box::new(BufReader::with_capacity(64 * 1024, decoded))),
            rows: Rows::Plain,
            peeked: None,
            exhausted: false,
            unused: Vec::new(),
        };
        reader.read_head()?;
        if reader.peeked.is_none() {
            reader.peeked = reader.next_entry();
        }
        if reader.peeked.is_none() && !options.allow_empty {
            return Err(InventoryError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(reader)
    }

    /// Reads up to the first row that is not blank or a comment: it tells a CSV (it is then
    /// the header) from a host list (it is then the first entry).
    fn read_head(&mut self) -> Result<(), InventoryError> {
        let io_error = |source| InventoryError::Io {
            path: self.path.clone(),
            source,
        };
        while let Some(row) = self.splitter.next_row().map_err(io_error)? {
            match row {
                Row::TooLong { line, .. } => {
                    self.peeked = Some(too_long(line, "row".into()));
                    break;
                }
                Row::Text { line } => {
                    let text = String::from_utf8_lossy(self.splitter.text()).into_owned();
                    match sniff(&text) {
                        None => continue,
                        Some(Style::Csv(delimiter)) => {
                            self.start_csv(delimiter)?;
                        }
                        Some(Style::Plain) => {
                            let entry = plain_row(self.splitter.text(), line);
                            if let Some(Entry::Invalid(_)) = &entry
                                && !text.is_ascii()
                            {
                                // No host is written in another script: this is a label
                                // (主机地址), so likely a header; a mistyped ASCII address is
                                // a bad row like any other.
                                return Err(InventoryError::NotAHostList {
                                    path: self.path.clone(),
                                    first: fields::excerpt(text.trim()),
                                });
                            }
                            self.peeked = entry;
                        }
                    }
                    break;
                }
            }
        }
        Ok(())
    }

    /// The header is the row just read.
    fn start_csv(&mut self, delimiter: u8) -> Result<(), InventoryError> {
        let path = || self.path.clone();
        let mut rows = CsvRows {
            parser: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            columns: ColumnMap::default(),
            labels: Vec::new(),
            record: csv::ByteRecord::new(),
            output: Vec::new(),
            ends: Vec::new(),
        };
        rows.parse(self.splitter.text());
        let labels: Vec<String> = rows
            .record
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        // A header may have thousands of labels: a message names a dozen.
        let listed = |labels: Vec<String>| {
            let shown: Vec<String> = labels.iter().take(12).map(|l| format!("\"{l}\"")).collect();
            match labels.len().saturating_sub(shown.len()) {
                0 => shown.join(", "),
                more => format!("{}, … ({more} more)", shown.join(", ")),
            }
        };
        let header = header::judge(&labels).map_err(|refusal| match refusal {
            Refusal::Garbled(labels) => InventoryError::Garbled {
                path: path(),
                labels: listed(labels),
            },
            Refusal::NoHost(found) => InventoryError::NoHostColumn {
                path: path(),
                found: listed(found),
            },
            Refusal::MostlyUnknown { unknown } => InventoryError::UnknownColumns {
                path: path(),
                unknown: listed(unknown),
            },
        })?;
        rows.columns = header.columns;
        rows.labels = labels.iter().map(|l| fields::excerpt(l.trim())).collect();
        self.unused = header.unused.into_iter().take(12).collect();
        self.splitter.set_style(Style::Csv(delimiter));
        self.rows = Rows::Csv(Box::new(rows));
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Header labels that no field reads and that are not known export columns (the first
    /// dozen): the caller warns about them, so a misspelt column is not silently ignored.
    pub fn unused_columns(&self) -> &[String] {
        &self.unused
    }

    fn next_entry(&mut self) -> Option<Entry> {
        if self.exhausted {
            return None;
        }
        loop {
            let row = match self.splitter.next_row() {
                Ok(Some(row)) => row,
                Ok(None) => return None,
                Err(e) => {
                    self.exhausted = true;
                    return Some(Entry::Invalid(InvalidRow {
                        line: self.splitter.line(),
                        name: None,
                        host: None,
                        field: "row".into(),
                        reason: format!("read error: {e}"),
                    }));
                }
            };
            let text = self.splitter.text();
            match (row, &mut self.rows) {
                (Row::TooLong { line, .. }, Rows::Plain) => {
                    return Some(too_long(line, Field::Host.id().into()));
                }
                (Row::TooLong { line, column }, Rows::Csv(csv)) => {
                    return Some(too_long(line, csv.column_name(column)));
                }
                (Row::Text { line }, Rows::Plain) => {
                    if let Some(entry) = plain_row(text, line) {
                        return Some(entry);
                    }
                }
                (Row::Text { line }, Rows::Csv(csv)) => {
                    csv.parse(text);
                    let record = &csv.record;
                    let blank = record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace));
                    // Comments, and the `#Help` row of JumpServer 3.x templates.
                    let comment = record
                        .get(0)
                        .is_some_and(|f| f.trim_ascii_start().starts_with(b"#"));
                    if !(blank || comment) {
                        return Some(csv_row(record, &csv.columns, line));
                    }
                }
            }
        }
    }
}

impl CsvRows {
    /// Parses one row, as cut by the splitter, into `record`.
    fn parse(&mut self, text: &[u8]) {
        self.parser.reset();
        // A field's text is never longer than the row, nor are there more fields than bytes.
        self.output.resize(text.len().max(1), 0);
        self.ends.resize(text.len() + 2, 0);
        let (mut read, mut written, mut ended) = (0, 0, 0);
        loop {
            let (result, r, w, e) = self.parser.read_record(
                &text[read..],
                &mut self.output[written..],
                &mut self.ends[ended..],
            );
            (read, written, ended) = (read + r, written + w, ended + e);
            match result {
                // The next call, with nothing left, tells the parser the row has ended.
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => {
                    self.output.resize(self.output.len() * 2, 0)
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    self.ends.resize(self.ends.len() * 2, 0)
                }
                csv_core::ReadRecordResult::Record | csv_core::ReadRecordResult::End => break,
            }
        }
        self.record.clear();
        let mut start = 0;
        for &end in &self.ends[..ended] {
            self.record.push_field(&self.output[start..end]);
            start = end;
        }
    }

    /// A column as an invalid row names it: our field's id, else the header's label.
    fn column_name(&self, column: usize) -> String {
        let field = self.columns.field_at(column);
        match (field, self.labels.get(column)) {
            (Some(field), _) => field.id().into(),
            (None, Some(label)) if !label.is_empty() => label.clone(),
            _ => format!("column {}", column + 1),
        }
    }
}

fn too_long(line: u64, field: String) -> Entry {
    Entry::Invalid(InvalidRow {
        line,
        name: None,
        host: None,
        field,
        reason: format!(
            "the row is longer than {} KiB, the inventory's limit: not read",
            MAX_ROW / 1024
        ),
    })
}

/// A CSV has a delimiter or a known header label on its first line; anything else is a
/// list of hosts. `None` for a blank or comment line.
fn sniff(line: &str) -> Option<Style> {
    let first = line.trim();
    if first.is_empty() || first.starts_with('#') {
        return None;
    }
    // A host list's line may carry a comment, with commas in it.
    let first = first.split('#').next().unwrap_or("").trim();
    let count = |d: char| first.matches(d).count();
    let (delimiter, hits) = [(b',', count(',')), (b';', count(';')), (b'\t', count('\t'))]
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .unwrap_or((b',', 0));
    Some(if hits > 0 || columns::field_for(first).is_some() {
        Style::Csv(delimiter)
    } else {
        Style::Plain
    })
}

impl Iterator for InventoryReader {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        self.peeked.take().or_else(|| self.next_entry())
    }
}

fn plain_row(bytes: &[u8], line: u64) -> Option<Entry> {
    let invalid = |reason: String| {
        Some(Entry::Invalid(InvalidRow {
            line,
            name: None,
            host: None,
            field: "host".into(),
            reason,
        }))
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return invalid("line is not valid UTF-8".into());
    };
    let text = text.split('#').next().unwrap_or("").trim();
    if text.is_empty() {
        return None;
    }
    if text.split_whitespace().count() > 1 {
        return invalid(format!(
            "\"{}\": expected one host[:port] per line",
            fields::excerpt(text)
        ));
    }
    match fields::host_and_port(text) {
        Ok((host, port)) => Some(Entry::Asset(Asset::of_host(line, host, port))),
        Err(reason) => invalid(reason),
    }
}

fn csv_row(record: &csv::ByteRecord, columns: &ColumnMap, line: u64) -> Entry {
    let row = CsvRow { record, columns };
    match row.asset(line) {
        Ok(asset) => Entry::Asset(asset),
        Err((field, reason)) => Entry::Invalid(InvalidRow {
            line,
            name: row.lossy(Field::Name),
            host: row.lossy(Field::Host),
            field: field.id().into(),
            reason,
        }),
    }
}

struct CsvRow<'a> {
    record: &'a csv::ByteRecord,
    columns: &'a ColumnMap,
}

type FieldError = (Field, String);

impl CsvRow<'_> {
    fn raw(&self, field: Field) -> Option<&[u8]> {
        self.columns.index(field).and_then(|i| self.record.get(i))
    }

    /// The trimmed value, `None` when the column is absent or the cell empty.
    fn get(&self, field: Field) -> Result<Option<&str>, FieldError> {
        let Some(raw) = self.raw(field) else {
            return Ok(None);
        };
        let text = std::str::from_utf8(raw)
            .map_err(|_| {
                (
                    field,
                    "value is not valid text in the file's encoding (see --encoding)".to_string(),
                )
            })?
            .trim();
        Ok((!text.is_empty()).then_some(text))
    }

    fn lossy(&self, field: Field) -> Option<String> {
        self.raw(field)
            .map(|raw| fields::excerpt(String::from_utf8_lossy(raw).trim()))
            .filter(|v| !v.is_empty())
    }

    fn object_name(&self, field: Field) -> Result<Option<String>, FieldError> {
        Ok(self
            .get(field)?
            .map(|v| fields::object_name(v).to_string())
            .filter(|v| !v.is_empty()))
    }

    fn asset(&self, line: u64) -> Result<Asset, FieldError> {
        let host = fields::host(self.get(Field::Host)?.unwrap_or(""))
            .map_err(|reason| (Field::Host, reason))?;
        let mut skip = None;
        // An asset without SSH (RDP, VNC) is skipped whatever its port column says; the
        // port column, when there is one, is the SSH port.
        let protocol = match self.get(Field::Protocols)? {
            Some(protocols) => {
                fields::ssh_protocol(protocols).map_err(|r| (Field::Protocols, r))?
            }
            None => SshProtocol::DefaultPort,
        };
        if let SshProtocol::Absent(list) = &protocol {
            skip = Some(format!("no SSH protocol (protocols: {list})"));
        }
        let (port, port_given) = match (self.get(Field::Port)?, protocol) {
            (Some(port), _) => (fields::port(port).map_err(|r| (Field::Port, r))?, true),
            (None, SshProtocol::Port(port)) => (port, true),
            (None, _) => (22, false),
        };
        let active = match self.get(Field::Active)? {
            Some(text) => fields::active(text).map_err(|r| (Field::Active, r))?,
            None => true,
        };
        if !active {
            skip = Some("inactive in the inventory".into());
        }
        Ok(Asset {
            line,
            name: self.get(Field::Name)?.unwrap_or(&host).to_string(),
            port,
            port_given,
            admin_user: self.object_name(Field::AdminUser)?,
            system_users: self
                .get(Field::SystemUsers)?
                .map(fields::list)
                .unwrap_or_default(),
            jump_host: self.object_name(Field::JumpHost)?,
            platform: self.object_name(Field::Platform)?,
            id: self.get(Field::AssetId)?.map(str::to_string),
            nodes: self
                .get(Field::Nodes)?
                .map(fields::list)
                .unwrap_or_default(),
            skip,
            host,
        })
    }
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
