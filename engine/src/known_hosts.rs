//! OpenSSH known_hosts, read once per run: plain, wildcard, negated and hashed (`|1|`)
//! host patterns, `@revoked` keys; new keys appended under accept-new like `ssh` does.
//! Lines naming hosts exactly are indexed by name, and keys learned during the run are
//! kept as digests: a run that learns a hundred thousand keys neither scans them all for
//! every asset nor holds them all in memory.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::hash::{BuildHasher, RandomState};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::{Algorithm, HashAlg, PublicKey};
use sha1::Sha1;

use crate::pattern::wildcard_match;
use crate::sync;

/// `--host-key-check`: what to do with a key known_hosts does not vouch for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum HostKeyPolicy {
    /// Refuse unknown keys.
    Strict,
    /// Record unknown keys in known_hosts; refuse changed ones.
    #[default]
    AcceptNew,
    /// Check nothing; only record the fingerprint.
    Off,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyStatus {
    Known,
    /// known_hosts holds another key of the same type for this host, at this line.
    Changed {
        line: usize,
    },
    Revoked {
        line: usize,
    },
    Unknown,
}

enum Pattern {
    Plain { glob: String, negated: bool },
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
}

struct Line {
    number: usize,
    patterns: Vec<Pattern>,
    revoked: bool,
    key: PublicKey,
}

/// The file's lines, and where to look for a name.
#[derive(Default)]
struct Entries {
    lines: Vec<Line>,
    /// Lines whose patterns are all exact names, by name.
    by_name: HashMap<String, Vec<usize>>,
    /// Lines with a wildcard, negated or hashed pattern: checked against every name.
    patterned: Vec<usize>,
    revoked: Vec<usize>,
    /// Keys this run learned, by a digest of the host name.
    learned: HashMap<u64, Learned>,
    /// Distinct algorithms of the learned keys, which `Learned` points into.
    algorithms: Vec<Algorithm>,
    /// Keyed per run, so nobody can pick names that collide.
    names: RandomState,
    /// The line number the next learned key gets.
    next_number: usize,
}

/// A learned key, in about 32 bytes instead of a parsed key and its names.
struct Learned {
    /// The first half of the key's SHA-256 fingerprint.
    digest: [u8; 16],
    algorithm: u8,
    number: usize,
}

fn digest(key: &PublicKey) -> [u8; 16] {
    let fingerprint = key.fingerprint(HashAlg::Sha256);
    let mut digest = [0u8; 16];
    digest.copy_from_slice(&fingerprint.as_bytes()[..16]);
    digest
}

impl Entries {
    fn push(&mut self, line: Line) {
        let index = self.lines.len();
        if line.revoked {
            self.revoked.push(index);
        } else if let Some(names) = line.exact_names() {
            for name in names {
                self.by_name
                    .entry(name.to_string())
                    .or_default()
                    .push(index);
            }
        } else {
            self.patterned.push(index);
        }
        self.next_number = self.next_number.max(line.number + 1);
        self.lines.push(line);
    }

    fn name_digest(&self, name: &str) -> u64 {
        self.names.hash_one(name.to_lowercase())
    }

    fn remember(&mut self, name: &str, key: &PublicKey) {
        let algorithm = key.algorithm();
        let index = match self.algorithms.iter().position(|a| *a == algorithm) {
            Some(index) => index,
            None => {
                self.algorithms.push(algorithm);
                self.algorithms.len() - 1
            }
        };
        let learned = Learned {
            digest: digest(key),
            algorithm: u8::try_from(index).unwrap_or(u8::MAX),
            number: self.next_number.max(1),
        };
        self.next_number = learned.number + 1;
        self.learned.insert(self.name_digest(name), learned);
    }

    /// Keys learned for any of `names`: their digest, algorithm and line.
    fn learned_for(&self, names: &[String]) -> Vec<(&[u8; 16], &Algorithm, usize)> {
        names
            .iter()
            .filter_map(|name| self.learned.get(&self.name_digest(name)))
            .map(|l| {
                let algorithm = &self.algorithms[usize::from(l.algorithm)];
                (&l.digest, algorithm, l.number)
            })
            .collect()
    }

    /// Unrevoked lines that match any of `names`, in file order.
    fn matching(&self, names: &[String]) -> Vec<&Line> {
        let mut indices: Vec<usize> = names
            .iter()
            .filter_map(|name| self.by_name.get(&name.to_lowercase()))
            .flatten()
            .copied()
            .collect();
        indices.extend(
            self.patterned
                .iter()
                .copied()
                .filter(|&i| names.iter().any(|n| self.lines[i].matches(n))),
        );
        indices.sort_unstable();
        indices.dedup();
        indices.into_iter().map(|i| &self.lines[i]).collect()
    }
}

pub struct KnownHosts {
    path: PathBuf,
    entries: RwLock<Entries>,
    /// The file, opened for appending on the first key learned, and kept open: a run
    /// may learn a key per asset.
    append: Mutex<Option<std::fs::File>>,
    learned: AtomicUsize,
    /// The first error writing to the file; later ones are alike.
    learn_error: Mutex<Option<String>>,
    /// Why the file could not be read: nothing is appended to a file not understood.
    unread: Option<String>,
}

impl KnownHosts {
    /// Reads `path`; a missing file is an empty one (it is created on first learn).
    pub fn load(path: &Path) -> io::Result<KnownHosts> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        let mut entries = Entries::default();
        for line in text
            .lines()
            .enumerate()
            .filter_map(|(i, line)| parse_line(i + 1, line))
        {
            entries.push(line);
        }
        Ok(KnownHosts {
            path: path.to_path_buf(),
            entries: RwLock::new(entries),
            append: Mutex::new(None),
            learned: AtomicUsize::new(0),
            learn_error: Mutex::new(None),
            unread: None,
        })
    }

    /// A file that could not be read, standing as one that knows no key and takes none.
    pub fn unreadable(path: &Path, error: &io::Error) -> KnownHosts {
        KnownHosts {
            path: path.to_path_buf(),
            entries: RwLock::new(Entries::default()),
            append: Mutex::new(None),
            learned: AtomicUsize::new(0),
            learn_error: Mutex::new(None),
            unread: Some(format!("it could not be read ({error})")),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks `key` against every entry for any of `names` (host name, then address).
    pub fn check(&self, names: &[String], key: &PublicKey) -> HostKeyStatus {
        let entries = sync::read(&self.entries);
        let same_key = |line: &Line| line.key.key_data() == key.key_data();
        // A revoked key stays revoked whatever other lines say about it.
        if let Some(line) = entries
            .revoked
            .iter()
            .map(|&i| &entries.lines[i])
            .find(|l| same_key(l))
        {
            return HostKeyStatus::Revoked { line: line.number };
        }
        let mut changed = None;
        for line in entries.matching(names) {
            if same_key(line) {
                return HostKeyStatus::Known;
            }
            if same_family(&line.key.algorithm(), &key.algorithm()) && changed.is_none() {
                changed = Some(line.number);
            }
        }
        let ours = digest(key);
        for (learned, algorithm, number) in entries.learned_for(names) {
            if *learned == ours {
                return HostKeyStatus::Known;
            }
            if same_family(algorithm, &key.algorithm()) && changed.is_none() {
                changed = Some(number);
            }
        }
        match changed {
            Some(line) => HostKeyStatus::Changed { line },
            None => HostKeyStatus::Unknown,
        }
    }

    /// Key algorithms known_hosts holds for these names, so the key exchange can ask for
    /// them first, as OpenSSH does; otherwise a host with a known RSA key that also has an
    /// Ed25519 key would look changed.
    pub fn known_algorithms(&self, names: &[String]) -> Vec<Algorithm> {
        let entries = sync::read(&self.entries);
        let mut algorithms = Vec::new();
        let learned = entries.learned_for(names);
        let found = entries
            .matching(names)
            .into_iter()
            .map(|line| line.key.algorithm())
            .chain(
                learned
                    .into_iter()
                    .map(|(_, algorithm, _)| algorithm.clone()),
            );
        for algorithm in found {
            if !algorithms.contains(&algorithm) {
                algorithms.push(algorithm);
            }
        }
        algorithms
    }

    /// How many keys this run recorded, and the first error recording one.
    pub fn learned(&self) -> (usize, Option<String>) {
        let error = sync::lock(&self.learn_error).clone();
        (self.learned.load(Ordering::Relaxed), error)
    }

    /// Appends a new key for `name`, and remembers it for the rest of the run.
    pub fn learn(&self, name: &str, key: &PublicKey) -> io::Result<()> {
        let result = self.append_line(name, key);
        match &result {
            Ok(added) => {
                self.learned
                    .fetch_add(usize::from(*added), Ordering::Relaxed);
            }
            Err(e) => {
                sync::lock(&self.learn_error).get_or_insert_with(|| e.to_string());
            }
        }
        result.map(|_| ())
    }

    fn open_for_append(&self) -> io::Result<std::fs::File> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)?;
        // A hand-edited file may lack its final newline; the new line must not join it.
        if file.metadata()?.len() > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::End(-1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
            }
        }
        Ok(file)
    }

    /// Whether a line was added: another asset of the same host may have learned the key
    /// while this one waited for the lock.
    fn append_line(&self, name: &str, key: &PublicKey) -> io::Result<bool> {
        if let Some(why) = &self.unread {
            return Err(io::Error::other(why.clone()));
        }
        let encoded = key.to_openssh().map_err(io::Error::other)?;
        let mut append = sync::lock(&self.append);
        if self.check(&[name.to_string()], key) == HostKeyStatus::Known {
            return Ok(false);
        }
        let file = match &mut *append {
            Some(file) => file,
            empty => empty.insert(self.open_for_append()?),
        };
        file.write_all(format!("{name} {encoded}\n").as_bytes())?;
        sync::write(&self.entries).remember(name, key);
        Ok(true)
    }
}

fn same_family(a: &Algorithm, b: &Algorithm) -> bool {
    match (a, b) {
        (Algorithm::Rsa { .. }, Algorithm::Rsa { .. }) => true,
        _ => a == b,
    }
}

fn parse_line(number: usize, line: &str) -> Option<Line> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.split_whitespace();
    let mut first = fields.next()?;
    let mut revoked = false;
    if let Some(marker) = first.strip_prefix('@') {
        match marker {
            "revoked" => revoked = true,
            // Certificate authorities vouch for certificates, which we do not request.
            _ => return None,
        }
        first = fields.next()?;
    }
    let _algorithm = fields.next()?;
    let key = russh::keys::parse_public_key_base64(fields.next()?).ok()?;
    let patterns = first.split(',').filter_map(parse_pattern).collect();
    Some(Line {
        number,
        patterns,
        revoked,
        key,
    })
}

fn parse_pattern(text: &str) -> Option<Pattern> {
    if let Some(hashed) = text.strip_prefix("|1|") {
        let (salt, hash) = hashed.split_once('|')?;
        return Some(Pattern::Hashed {
            salt: BASE64.decode(salt).ok()?,
            hash: BASE64.decode(hash).ok()?,
        });
    }
    let (negated, glob) = match text.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    Some(Pattern::Plain {
        glob: glob.to_lowercase(),
        negated,
    })
}

impl Line {
    /// The names of a line that only names hosts exactly (no wildcard, negation or hash).
    fn exact_names(&self) -> Option<Vec<&str>> {
        self.patterns
            .iter()
            .map(|pattern| match pattern {
                Pattern::Plain {
                    glob,
                    negated: false,
                } if !glob.contains(['*', '?']) => Some(glob.as_str()),
                _ => None,
            })
            .collect()
    }

    fn matches(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        let mut matched = false;
        for pattern in &self.patterns {
            match pattern {
                Pattern::Plain { glob, negated } if wildcard_match(glob, &name) => {
                    if *negated {
                        return false;
                    }
                    matched = true;
                }
                Pattern::Hashed { salt, hash } => {
                    if let Ok(mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(salt)
                        && mac.chain_update(name.as_bytes()).verify_slice(hash).is_ok()
                    {
                        matched = true;
                    }
                }
                Pattern::Plain { .. } => {}
            }
        }
        matched
    }
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::known_hosts_name;
    use russh::keys::PrivateKey;

    fn key() -> PublicKey {
        PrivateKey::random(&mut russh::keys::key::safe_rng(), Algorithm::Ed25519)
            .unwrap()
            .public_key()
            .clone()
    }

    fn hashed(name: &str) -> String {
        let salt = [7u8; 20];
        let mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&salt)
            .unwrap()
            .chain_update(name.as_bytes());
        format!(
            "|1|{}|{}",
            BASE64.encode(salt),
            BASE64.encode(mac.finalize().into_bytes())
        )
    }

    #[test]
    fn known_changed_unknown_revoked_hashed_and_wildcards() {
        let (a, b, c, d) = (key(), key(), key(), key());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        let text = format!(
            "# comment\n\
             web.example,10.0.0.1 {}\n\
             [10.0.0.2]:2222 {}\n\
             {} {}\n\
             *.lab,!bad.lab {}\n\
             @revoked * {}\n\
             garbage line\n",
            a.to_openssh().unwrap(),
            b.to_openssh().unwrap(),
            hashed("hidden.example"),
            c.to_openssh().unwrap(),
            d.to_openssh().unwrap(),
            c.to_openssh().unwrap(),
        );
        std::fs::write(&path, text).unwrap();
        let kh = KnownHosts::load(&path).unwrap();
        let names = |n: &str| vec![n.to_string()];
        assert_eq!(kh.check(&names("web.example"), &a), HostKeyStatus::Known);
        assert_eq!(
            kh.check(&names("10.0.0.1"), &b),
            HostKeyStatus::Changed { line: 2 }
        );
        assert_eq!(
            kh.check(&names(&known_hosts_name("10.0.0.2", 2222)), &b),
            HostKeyStatus::Known
        );
        assert_eq!(kh.check(&names("10.0.0.2"), &b), HostKeyStatus::Unknown);
        assert_eq!(kh.check(&names("db.lab"), &d), HostKeyStatus::Known);
        assert_eq!(kh.check(&names("bad.lab"), &d), HostKeyStatus::Unknown);
        assert_eq!(
            kh.check(&names("hidden.example"), &c),
            HostKeyStatus::Revoked { line: 6 }
        );
        assert_eq!(
            kh.known_algorithms(&names("web.example")),
            vec![Algorithm::Ed25519]
        );
    }

    #[test]
    fn learned_keys_are_appended_and_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/known_hosts");
        let kh = KnownHosts::load(&path).unwrap();
        let k = key();
        let name = known_hosts_name("127.0.0.1", 2200);
        assert_eq!(
            kh.check(std::slice::from_ref(&name), &k),
            HostKeyStatus::Unknown
        );
        kh.learn(&name, &k).unwrap();
        assert_eq!(
            kh.check(std::slice::from_ref(&name), &k),
            HostKeyStatus::Known
        );
        let reloaded = KnownHosts::load(&path).unwrap();
        assert_eq!(
            reloaded.check(std::slice::from_ref(&name), &k),
            HostKeyStatus::Known
        );
        // Within the run, another key for a learned name is a changed key, by any case.
        assert_eq!(
            kh.check(&[name.to_uppercase()], &key()),
            HostKeyStatus::Changed { line: 1 }
        );
        assert_eq!(kh.known_algorithms(&[name]), vec![Algorithm::Ed25519]);
        assert_eq!(kh.check(&["other".into()], &k), HostKeyStatus::Unknown);
    }

    #[test]
    fn learning_after_a_line_without_newline_keeps_both_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        let (old, new) = (key(), key());
        std::fs::write(&path, format!("old.example {}", old.to_openssh().unwrap())).unwrap();
        let kh = KnownHosts::load(&path).unwrap();
        kh.learn("new.example", &new).unwrap();
        kh.learn("new.example", &new).unwrap();
        assert_eq!(
            kh.learned().0,
            1,
            "a key known meanwhile is not appended again"
        );
        let reloaded = KnownHosts::load(&path).unwrap();
        assert_eq!(
            reloaded.check(&["old.example".into()], &old),
            HostKeyStatus::Known
        );
        assert_eq!(
            reloaded.check(&["new.example".into()], &new),
            HostKeyStatus::Known
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
    }
}
