//! Reads a results file the prober wrote, JSONL or CSV (told apart by content), record by
//! record. Only the fields resume, `--from` and `diff` need are read; the others may be
//! anything, so results of other versions still read.

use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{MAX_RECORD, Recorded};
use crate::inventory::split::{Row, Splitter, Style};
use crate::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultsFormat {
    Jsonl,
    Csv,
}

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("cannot read results {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("results {path}: {reason}")]
    NotResults { path: PathBuf, reason: String },
    #[error("results {path}: line {line}: {reason}")]
    Malformed {
        path: PathBuf,
        line: u64,
        reason: String,
    },
}

pub struct ResultsReader {
    path: PathBuf,
    /// The inventory's splitter, so CSV quoting and line ends are read alike.
    rows: Splitter,
    /// A byte order mark's length, before what the splitter counts.
    bom: u64,
    /// `None` for a file without any record.
    format: Option<ResultsFormat>,
    /// CSV: the header's labels, and where the fields we read are.
    header: Vec<String>,
    columns: Columns,
    buffer: Vec<u8>,
    /// The first record, read to tell the format, not yet handed out.
    pending: Option<u64>,
    /// Set after an error: the rest of the file cannot be trusted.
    failed: bool,
}

/// Where each field sits in a CSV header.
#[derive(Debug, Default)]
struct Columns {
    name: usize,
    host: usize,
    category: usize,
    system_user: Option<usize>,
    port: Option<usize>,
    admin_user: Option<usize>,
    gateway: Option<usize>,
    system_users: Option<usize>,
    asset_id: Option<usize>,
    nodes: Option<usize>,
}

impl ResultsReader {
    pub fn open(path: &Path) -> Result<ResultsReader, ResultsError> {
        let io_error = |source| ResultsError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = crate::inventory::open::file(path).map_err(io_error)?;
        ResultsReader::from_reader(path, Box::new(file))
    }

    /// Reads results from any byte source; `path` only names it in messages.
    pub fn from_reader(
        path: &Path,
        source: Box<dyn Read + Send>,
    ) -> Result<ResultsReader, ResultsError> {
        let mut reader = BufReader::with_capacity(64 * 1024, source);
        let head = reader.fill_buf().map_err(|source| ResultsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bom = head.starts_with(b"\xef\xbb\xbf");
        // A JSON line never holds a raw newline, and its escaped quotes would fool the
        // CSV rule that a newline inside quotes does not end the record.
        let json = head[if bom { 3 } else { 0 }..]
            .trim_ascii_start()
            .starts_with(b"{");
        if bom {
            reader.consume(3);
        }
        let mut rows = Splitter::new(Box::new(reader));
        rows.set_style(if json { Style::Plain } else { Style::Csv(b',') });
        rows.whole_rows_only();
        let mut results = ResultsReader {
            path: path.to_path_buf(),
            rows,
            bom: if bom { 3 } else { 0 },
            format: None,
            header: Vec::new(),
            columns: Columns::default(),
            buffer: Vec::new(),
            pending: None,
            failed: false,
        };
        results.sniff()?;
        Ok(results)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `None` when the file holds no record at all (empty, or only an unfinished line).
    pub fn format(&self) -> Option<ResultsFormat> {
        self.format
    }

    /// A CSV file's header labels; empty for JSONL.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Bytes up to the end of the last whole record read so far: after reading every
    /// record, what is beyond is a line a killed run left unfinished.
    pub fn complete(&self) -> u64 {
        self.bom + self.rows.complete()
    }

    fn sniff(&mut self) -> Result<(), ResultsError> {
        let Some(piece) = self.piece()? else {
            return Ok(());
        };
        let first = match piece {
            Row::Text { line } => line,
            Row::TooLong { line, .. } => return Err(self.too_long(line)),
        };
        let start = self.buffer.trim_ascii_start();
        if start.starts_with(b"{") {
            self.format = Some(ResultsFormat::Jsonl);
            self.pending = Some(first);
            return Ok(());
        }
        if start.starts_with(b"[") {
            return Err(self.not_results(
                "a JSON array (--format json): resume, --from and diff read jsonl or csv results",
            ));
        }
        let header = csv_fields(&self.buffer).ok_or_else(|| {
            self.not_results("neither JSON lines nor a CSV header written by prober")
        })?;
        let find = |label: &str| header.iter().position(|h| h == label);
        let (Some(name), Some(host), Some(category)) =
            (find("name"), find("host"), find("category"))
        else {
            let found: Vec<String> = header.iter().take(20).map(|h| text::shown(h)).collect();
            return Err(self.not_results(&format!(
                "not results written by prober: the CSV header has no name, host and category columns (found: {})",
                found.join(", ")
            )));
        };
        self.columns = Columns {
            name,
            host,
            category,
            system_user: find("system_user"),
            port: find("port"),
            admin_user: find("admin_user"),
            gateway: find("gateway"),
            system_users: find("system_users"),
            asset_id: find("asset_id"),
            nodes: find("nodes"),
        };
        self.header = header;
        self.format = Some(ResultsFormat::Csv);
        Ok(())
    }

    /// The next record that is not blank, its text in the buffer.
    fn piece(&mut self) -> Result<Option<Row>, ResultsError> {
        loop {
            let row = self.rows.next_row().map_err(|source| ResultsError::Io {
                path: self.path.clone(),
                source,
            })?;
            if let Some(Row::Text { .. }) = row
                && self.rows.text().iter().all(u8::is_ascii_whitespace)
            {
                continue;
            }
            self.buffer.clear();
            self.buffer.extend_from_slice(self.rows.text());
            return Ok(row);
        }
    }

    fn not_results(&self, reason: &str) -> ResultsError {
        ResultsError::NotResults {
            path: self.path.clone(),
            reason: reason.to_string(),
        }
    }

    fn malformed(&self, line: u64, reason: String) -> ResultsError {
        ResultsError::Malformed {
            path: self.path.clone(),
            line,
            reason,
        }
    }

    fn too_long(&self, line: u64) -> ResultsError {
        self.malformed(
            line,
            format!("a record longer than {} KiB", MAX_RECORD / 1024),
        )
    }

    fn parse(&self, line: u64) -> Result<Recorded, ResultsError> {
        let parsed = match self.format {
            Some(ResultsFormat::Csv) => self.csv_record(line),
            _ => json_record(&self.buffer, line),
        };
        parsed.map_err(|reason| self.malformed(line, reason))
    }

    fn csv_record(&self, line: u64) -> Result<Recorded, String> {
        let cells = csv_fields(&self.buffer).ok_or("not one CSV record")?;
        let c = &self.columns;
        let cell = |i: usize| {
            cells
                .get(i)
                .map(|v| text::from_csv_cell(v).into_owned())
                .unwrap_or_default()
        };
        let text = |i: Option<usize>| i.map(cell).filter(|v| !v.is_empty());
        let list = |i: Option<usize>| {
            text(i).map_or_else(Vec::new, |v| v.split(',').map(str::to_string).collect())
        };
        let port = match text(c.port) {
            None => None,
            Some(port) => Some(
                port.parse::<u16>()
                    .map_err(|_| format!("port {} is not a port number", text::shown(&port)))?,
            ),
        };
        let category = cell(c.category);
        if category.is_empty() {
            return Err("no category".into());
        }
        Ok(Recorded {
            line,
            name: cell(c.name).to_string(),
            system_user: text(c.system_user),
            host: cell(c.host).to_string(),
            port,
            category: category.to_string(),
            admin_user: text(c.admin_user),
            gateway: text(c.gateway),
            system_users: list(c.system_users),
            asset_id: text(c.asset_id),
            nodes: list(c.nodes),
        })
    }
}

impl Iterator for ResultsReader {
    type Item = Result<Recorded, ResultsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let line = match self.pending.take() {
            Some(line) => line,
            None => match self.piece() {
                Ok(None) => return None,
                Ok(Some(Row::Text { line })) => line,
                Ok(Some(Row::TooLong { line, .. })) => {
                    self.failed = true;
                    return Some(Err(self.too_long(line)));
                }
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            },
        };
        let parsed = self.parse(line);
        self.failed = parsed.is_err();
        Some(parsed)
    }
}

/// The fields of one CSV record, `None` unless `bytes` is exactly one record of UTF-8.
fn csv_fields(bytes: &[u8]) -> Option<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.records();
    let record = records.next()?.ok()?;
    if records.next().is_some() {
        return None;
    }
    Some(record.iter().map(str::to_string).collect())
}

/// The fields of a JSON line that resume, `--from` and `diff` need; the others are
/// ignored.
#[derive(Deserialize)]
struct JsonRecord {
    name: String,
    #[serde(default)]
    system_user: Option<String>,
    host: String,
    #[serde(default)]
    port: Option<u16>,
    category: String,
    #[serde(default)]
    admin_user: Option<String>,
    #[serde(default)]
    gateway: Option<String>,
    #[serde(default)]
    system_users: Option<Vec<String>>,
    #[serde(default)]
    asset_id: Option<String>,
    #[serde(default)]
    nodes: Option<Vec<String>>,
}

fn json_record(bytes: &[u8], line: u64) -> Result<Recorded, String> {
    let r: JsonRecord = serde_json::from_slice(bytes).map_err(|e| format!("not a record: {e}"))?;
    if r.category.is_empty() {
        return Err("no category".into());
    }
    Ok(Recorded {
        line,
        name: r.name,
        system_user: r.system_user,
        host: r.host,
        port: r.port,
        category: r.category,
        admin_user: r.admin_user,
        gateway: r.gateway,
        system_users: r.system_users.unwrap_or_default(),
        asset_id: r.asset_id,
        nodes: r.nodes.unwrap_or_default(),
    })
}
