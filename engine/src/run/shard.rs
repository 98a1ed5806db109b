//! `--shard I/N`: one of N runs that together probe the inventory once, each asset in
//! the same shard whatever the order of the rows or the machine. A row belongs to the
//! shard its identity hashes to (XXH3-64 of the name, host and port its own record shows,
//! modulo N), so a `--from` or `--resume` run of a shard's results file finds its
//! rows in its own shard again.

use std::path::Path;
use std::str::FromStr;

use xxhash_rust::xxh3::Xxh3;

use crate::category::{Category, Lang, Stage};
use crate::inventory::{Entry, InvalidRow};
use crate::openssh::OpenSsh;
use crate::report::Record;
use crate::results::Identity;

/// Where Kubernetes' Indexed Jobs give each pod its index.
pub const COMPLETION_INDEX: &str = "JOB_COMPLETION_INDEX";

/// What `--shard` asks for: a shard, or the one [`COMPLETION_INDEX`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardSpec {
    Given(Shard),
    /// `auto/N`.
    FromJob {
        count: u64,
    },
}

/// One of `count` shards, `index` counted from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u64,
    count: u64,
}

/// A `--shard` that cannot be: the syntax's errors come through the command line's
/// parser, which names the option; the others name it themselves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("expected I/N (0 <= I < N, e.g. 0/4), or auto/N to take I from {COMPLETION_INDEX}")]
    Syntax,
    #[error("N, the number of shards, must be at least 1")]
    NoShards,
    #[error("the index {index} is not below the number of shards {count} (shards count from 0)")]
    OutOfRange { index: u64, count: u64 },
    #[error("--shard auto/{count}: {COMPLETION_INDEX} is not set (auto takes the index from it)")]
    NoCompletionIndex { count: u64 },
    #[error("--shard auto/{count}: {COMPLETION_INDEX}={value:?} is not an index below {count}")]
    BadCompletionIndex { count: u64, value: String },
}

impl FromStr for ShardSpec {
    type Err = ShardError;

    fn from_str(given: &str) -> Result<ShardSpec, ShardError> {
        let (index, count) = given.split_once('/').ok_or(ShardError::Syntax)?;
        let count: u64 = number(count).ok_or(ShardError::Syntax)?;
        if count == 0 {
            return Err(ShardError::NoShards);
        }
        if index == "auto" {
            return Ok(ShardSpec::FromJob { count });
        }
        let index = number(index).ok_or(ShardError::Syntax)?;
        Shard::new(index, count)
            .map(ShardSpec::Given)
            .ok_or(ShardError::OutOfRange { index, count })
    }
}

/// Digits alone: `+1` or ` 1` is a typo, not an index.
fn number(text: &str) -> Option<u64> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse().ok()).flatten()
}

impl ShardSpec {
    /// The shard, with `completion_index` the value of [`COMPLETION_INDEX`], if set.
    pub fn resolve(self, completion_index: Option<&str>) -> Result<Shard, ShardError> {
        let count = match self {
            ShardSpec::Given(shard) => return Ok(shard),
            ShardSpec::FromJob { count } => count,
        };
        let value = completion_index.ok_or(ShardError::NoCompletionIndex { count })?;
        number(value)
            .and_then(|index| Shard::new(index, count))
            .ok_or_else(|| ShardError::BadCompletionIndex {
                count,
                value: crate::text::shown(value),
            })
    }
}

impl Shard {
    pub fn new(index: u64, count: u64) -> Option<Shard> {
        (index < count).then_some(Shard { index, count })
    }

    pub fn index(&self) -> u64 {
        self.index
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether the row is this shard's to probe and report. An invalid row without a host
    /// has nothing stable to hash (its record names it by its line): shard 0 reports it.
    pub fn holds(&self, entry: &Entry, openssh: Option<&OpenSsh>) -> bool {
        let slot = row_identity(entry, openssh).map_or(0, |identity| slot(&identity, self.count));
        slot == self.index
    }

    /// Shard 0 does what belongs to no row (the gateway's own checks), so that exactly
    /// one shard does it.
    pub fn first(&self) -> bool {
        self.index == 0
    }
}

/// The shard, of `count`, an identity belongs to. Each field is followed by a 0 byte, so
/// that `ab`+`c` and `a`+`bc` differ; the port is hashed as written in a results file.
fn slot(identity: &Identity, count: u64) -> u64 {
    let mut hasher = Xxh3::new();
    let port = identity.port.map(|p| p.to_string()).unwrap_or_default();
    for field in [&identity.name, &identity.host, &port] {
        hasher.update(field.as_bytes());
        hasher.update(&[0]);
    }
    hasher.digest() % count
}

/// The identity of the row's own record: name and host as a record bounds them, and the
/// port it is probed on (`-p` or the ssh_config may give it). `None` for an invalid row
/// without a host.
fn row_identity(entry: &Entry, openssh: Option<&OpenSsh>) -> Option<Identity> {
    let record = match entry {
        Entry::Invalid(row) => invalid(row),
        Entry::Asset(asset) => Record::bare(
            asset.name.clone(),
            asset.host.clone(),
            Some(openssh.map_or(asset.port, |o| o.port(asset))),
            Category::Ok,
            Stage::Done,
            String::new(),
            Lang::En,
        ),
    };
    (!record.host.is_empty()).then(|| Identity::of(&record))
}

fn invalid(row: &InvalidRow) -> Record {
    Record::invalid(Path::new(""), row, Lang::En)
}

/// Rows read, and those of them the run's shard holds (all of them, unsharded).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ShardRows {
    pub here: usize,
    pub all: usize,
}

impl ShardRows {
    pub fn add(&mut self, other: ShardRows) {
        self.here += other.here;
        self.all += other.all;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Asset;

    fn asset(name: &str, host: &str, port: u16) -> Entry {
        Entry::Asset(Asset {
            name: name.into(),
            ..Asset::of_host(1, host.into(), Some(port))
        })
    }

    fn invalid_row(line: u64, name: Option<&str>, host: Option<&str>) -> Entry {
        Entry::Invalid(InvalidRow {
            line,
            name: name.map(str::to_string),
            host: host.map(str::to_string),
            field: "port".into(),
            reason: "not a port".into(),
        })
    }

    fn shard(index: u64, count: u64) -> Shard {
        Shard::new(index, count).unwrap()
    }

    fn holder(entry: &Entry, count: u64) -> Vec<u64> {
        (0..count)
            .filter(|&i| shard(i, count).holds(entry, None))
            .collect()
    }

    #[test]
    fn specs_parse_and_bad_ones_are_refused() {
        assert_eq!("2/5".parse(), Ok(ShardSpec::Given(shard(2, 5))));
        assert_eq!("0/1".parse(), Ok(ShardSpec::Given(shard(0, 1))));
        assert_eq!("auto/3".parse(), Ok(ShardSpec::FromJob { count: 3 }));
        for bad in [
            "", "1", "/4", "1/", "a/4", "-1/4", "+1/4", " 1/4", "1/4/2", "auto",
        ] {
            assert_eq!(bad.parse::<ShardSpec>(), Err(ShardError::Syntax), "{bad}");
        }
        assert_eq!("0/0".parse::<ShardSpec>(), Err(ShardError::NoShards));
        assert_eq!("auto/0".parse::<ShardSpec>(), Err(ShardError::NoShards));
        assert_eq!(
            "4/4".parse::<ShardSpec>(),
            Err(ShardError::OutOfRange { index: 4, count: 4 })
        );
    }

    #[test]
    fn auto_takes_the_completion_index_and_refuses_a_bad_one() {
        let auto = ShardSpec::FromJob { count: 3 };
        assert_eq!(auto.resolve(Some("2")), Ok(shard(2, 3)));
        assert_eq!(
            auto.resolve(None),
            Err(ShardError::NoCompletionIndex { count: 3 })
        );
        for bad in ["3", "", "x", "-1", "1 "] {
            let error = auto.resolve(Some(bad)).unwrap_err();
            assert!(
                matches!(&error, ShardError::BadCompletionIndex { count: 3, .. }),
                "{bad}: {error:?}"
            );
            assert!(error.to_string().contains(COMPLETION_INDEX), "{error}");
        }
        // A shard given outright does not look at the variable.
        let given = ShardSpec::Given(shard(1, 3));
        assert_eq!(given.resolve(Some("garbled")), Ok(shard(1, 3)));
    }

    #[test]
    fn every_row_is_in_exactly_one_shard() {
        for count in 1..=5 {
            for n in 0..200 {
                let entry = asset(
                    &format!("web{n}"),
                    &format!("10.0.{}.{}", n / 250, n % 250),
                    22,
                );
                assert_eq!(holder(&entry, count).len(), 1, "{count} shards, row {n}");
            }
        }
    }

    /// Rows alike but for a number in both name and address (a farm's, a subnet's) must
    /// not crowd into one shard, whatever N.
    #[test]
    fn shards_share_look_alike_rows_out() {
        for count in 2..=5 {
            let mut sizes = vec![0; count as usize];
            for n in 1..=400 {
                let entry = asset(
                    &format!("farm-{n:05}"),
                    &format!("127.128.{}.{}", n / 256, n % 256),
                    22,
                );
                sizes[holder(&entry, count)[0] as usize] += 1;
            }
            let fair = 400 / count as usize;
            assert!(
                sizes.iter().all(|&size| size > fair * 2 / 3),
                "{count} shards: {sizes:?}"
            );
        }
    }

    /// Pinned: a row that moved to another shard between releases would be probed twice,
    /// or not at all, by shards of different versions.
    const PINNED: u64 = 0x819d_188c_c0b7_e80d;

    #[test]
    fn the_hash_is_xxh3_of_name_host_and_port() {
        let identity = Identity::new("web1", "10.0.0.1", Some(22), None);
        let bytes = b"web1\x0010.0.0.1\x0022\x00";
        let hash = xxhash_rust::xxh3::xxh3_64(bytes);
        assert_eq!(hash, PINNED, "{hash:#x}");
        assert_eq!(slot(&identity, u64::MAX), hash % u64::MAX);
        assert_eq!(slot(&identity, 7), hash % 7);
        // The empty input's XXH3-64, as the reference implementation gives it.
        assert_eq!(xxhash_rust::xxh3::xxh3_64(b""), 0x2d06_8005_38d3_94c2);
    }

    #[test]
    fn name_host_and_port_each_place_a_row() {
        let count = 1000;
        let place = |name, host, port| holder(&asset(name, host, port), count)[0];
        let base = place("web1", "10.0.0.1", 22);
        assert_ne!(place("web2", "10.0.0.1", 22), base);
        assert_ne!(place("web1", "10.0.0.2", 22), base);
        assert_ne!(place("web1", "10.0.0.1", 2222), base);
        // Fields are kept apart: moving a character from one to the next is another row.
        assert_ne!(place("web1", "0.0.0.1", 22), place("web11", "0.0.0.1", 22));
    }

    #[test]
    fn an_invalid_row_goes_where_its_record_names_it_or_to_shard_0() {
        let count = 1000;
        // Its record is named by its host: the same shard as a valid row of that name
        // and host would be without a port.
        let invalid = invalid_row(7, None, Some("10.9.9.9"));
        let moved = invalid_row(900, None, Some("10.9.9.9"));
        assert_eq!(
            holder(&invalid, count),
            holder(&moved, count),
            "line ignored"
        );
        let identity = Identity::new("10.9.9.9", "10.9.9.9", None, None);
        assert_eq!(holder(&invalid, count), vec![slot(&identity, count)]);
        // No host: its record is named by its line, or by a name alone.
        for row in [
            invalid_row(7, None, None),
            invalid_row(8, Some("web"), None),
        ] {
            assert_eq!(holder(&row, count), vec![0], "{row:?}");
        }
    }
}
