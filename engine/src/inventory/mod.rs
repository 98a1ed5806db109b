//! Streaming inventory reader: a CSV (ours or a JumpServer export) or a plain list of
//! `host[:port]` lines. Rows come out one at a time, so memory does not grow with the
//! file; a bad row becomes an [`Entry::Invalid`] and reading goes on.

mod columns;
pub mod fields;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use columns::ColumnMap;
pub use columns::Field;
use fields::SshProtocol;

/// One asset to probe, as the inventory describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Line of the inventory file the asset came from (1-based).
    pub line: u64,
    pub name: String,
    pub host: String,
    pub port: u16,
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

/// A row that cannot be probed, with the line and field to fix.
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

/// Problems with the inventory as a whole: nothing in it can be probed.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("cannot read inventory {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "inventory {path}: the header has no host column (expected one of: host, ip, IP/Host, address); found: {found}"
    )]
    NoHostColumn { path: PathBuf, found: String },
    #[error("inventory {path}: {message}")]
    Malformed { path: PathBuf, message: String },
}

pub struct InventoryReader {
    path: PathBuf,
    rows: Rows,
    /// Set after a read error: the rest of the file cannot be trusted.
    exhausted: bool,
}

enum Rows {
    Csv {
        reader: csv::Reader<Box<dyn Read + Send>>,
        columns: ColumnMap,
        record: csv::ByteRecord,
    },
    Plain {
        lines: io::Split<BufReader<Box<dyn Read + Send>>>,
        line: u64,
    },
}

impl InventoryReader {
    pub fn open(path: &Path) -> Result<InventoryReader, InventoryError> {
        let io_error = |source| InventoryError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io_error)?;
        if file.metadata().map_err(io_error)?.is_dir() {
            return Err(io_error(io::Error::other("is a directory")));
        }
        Self::from_reader(path, Box::new(file))
    }

    /// Reads an inventory from any byte source; `path` only names it in messages.
    pub fn from_reader(
        path: &Path,
        source: Box<dyn Read + Send>,
    ) -> Result<InventoryReader, InventoryError> {
        let io_error = |source| InventoryError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut buffered = BufReader::with_capacity(64 * 1024, source);
        let head = buffered.fill_buf().map_err(io_error)?;
        if head.starts_with(b"\xef\xbb\xbf") {
            buffered.consume(3);
        }
        let head = buffered.fill_buf().map_err(io_error)?;
        let rows = match sniff(head) {
            Style::Csv(delimiter) => {
                let mut reader = csv::ReaderBuilder::new()
                    .delimiter(delimiter)
                    .flexible(true)
                    .from_reader(Box::new(buffered) as Box<dyn Read + Send>);
                let header = reader
                    .byte_headers()
                    .map_err(|e| InventoryError::Malformed {
                        path: path.to_path_buf(),
                        message: format!("cannot read the header row: {e}"),
                    })?;
                let labels: Vec<String> = header
                    .iter()
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .collect();
                let columns = ColumnMap::from_header(labels.iter().map(String::as_str));
                if columns.index(Field::Host).is_none() {
                    return Err(InventoryError::NoHostColumn {
                        path: path.to_path_buf(),
                        found: labels.join(", "),
                    });
                }
                Rows::Csv {
                    reader,
                    columns,
                    record: csv::ByteRecord::new(),
                }
            }
            Style::Plain => Rows::Plain {
                lines: BufReader::new(Box::new(buffered) as Box<dyn Read + Send>).split(b'\n'),
                line: 0,
            },
        };
        Ok(InventoryReader {
            path: path.to_path_buf(),
            rows,
            exhausted: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

enum Style {
    Csv(u8),
    Plain,
}

/// A CSV has a delimiter or a known header label on its first line; anything else is a
/// list of hosts.
fn sniff(head: &[u8]) -> Style {
    let text = String::from_utf8_lossy(head);
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    // A host list's line may carry a comment, with commas in it.
    let first = first.split('#').next().unwrap_or("").trim();
    let count = |d: char| first.matches(d).count();
    let (delimiter, hits) = [(b',', count(',')), (b';', count(';')), (b'\t', count('\t'))]
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .unwrap_or((b',', 0));
    if hits > 0 || columns::field_for(first).is_some() {
        Style::Csv(delimiter)
    } else {
        Style::Plain
    }
}

impl Iterator for InventoryReader {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        if self.exhausted {
            return None;
        }
        match &mut self.rows {
            Rows::Csv {
                reader,
                columns,
                record,
            } => loop {
                match reader.read_byte_record(record) {
                    Ok(false) => return None,
                    Ok(true) => {
                        let line = record.position().map_or(0, |p| p.line());
                        let blank = record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace));
                        // Comments, and the `#Help` row of JumpServer 3.x templates.
                        let comment = record
                            .get(0)
                            .is_some_and(|f| f.trim_ascii_start().starts_with(b"#"));
                        if blank || comment {
                            continue;
                        }
                        return Some(csv_row(record, columns, line));
                    }
                    Err(e) => {
                        self.exhausted = matches!(e.kind(), csv::ErrorKind::Io(_));
                        return Some(Entry::Invalid(InvalidRow {
                            line: e.position().map_or(0, |p| p.line()),
                            name: None,
                            host: None,
                            field: "row".into(),
                            reason: format!("unparsable CSV: {e}"),
                        }));
                    }
                }
            },
            Rows::Plain { lines, line } => loop {
                let bytes = match lines.next()? {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        *line += 1;
                        self.exhausted = true;
                        return Some(Entry::Invalid(InvalidRow {
                            line: *line,
                            name: None,
                            host: None,
                            field: "row".into(),
                            reason: format!("read error: {e}"),
                        }));
                    }
                };
                *line += 1;
                if let Some(entry) = plain_row(&bytes, *line) {
                    return Some(entry);
                }
            },
        }
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
        return invalid(format!("{text:?}: expected one host[:port] per line"));
    }
    match fields::host_and_port(text) {
        Ok((host, port)) => Some(Entry::Asset(Asset {
            line,
            name: host.clone(),
            host,
            port: port.unwrap_or(22),
            admin_user: None,
            system_users: Vec::new(),
            jump_host: None,
            platform: None,
            id: None,
            nodes: Vec::new(),
            skip: None,
        })),
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
            .map_err(|_| (field, "value is not valid UTF-8".to_string()))?
            .trim();
        Ok((!text.is_empty()).then_some(text))
    }

    fn lossy(&self, field: Field) -> Option<String> {
        self.raw(field)
            .map(|raw| String::from_utf8_lossy(raw).trim().to_string())
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
        let port = match (self.get(Field::Port)?, protocol) {
            (Some(port), _) => fields::port(port).map_err(|r| (Field::Port, r))?,
            (None, SshProtocol::Port(port)) => port,
            (None, _) => 22,
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
mod tests;
