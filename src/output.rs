//! Where results go. Line formats are written to the file as records come, so a run
//! stopped at any point leaves whole lines. Formats that are only valid once complete
//! (json, junit) go to a temporary file beside the target, renamed into place at the end:
//! a run abandoned halfway leaves the previous file as it was.

use std::fs::{self, File, Permissions};
use std::io::{self, BufWriter, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use prober_engine::report::Format;
use tempfile::TempPath;

use crate::commands::OutputError;

/// `-o -` is stdout, like no `-o` at all.
pub fn target(output: Option<&Path>) -> Option<&Path> {
    output.filter(|path| *path != Path::new("-"))
}

/// Refuses results that would land on a file the run reads (`-o inventory.csv` once made
/// the prober read its own results and grow the file without end): the `--resume` file,
/// else the `--output` file, else stdout, against each input (`-` is stdin).
pub fn refuse_inputs(
    resume: Option<&Path>,
    output: Option<&Path>,
    inputs: &[(&str, &Path)],
) -> anyhow::Result<()> {
    let (shown, written) = match (resume, target(output)) {
        (Some(path), _) => (format!("--resume {}", path.display()), file_id(path)),
        (None, Some(path)) => (format!("--output {}", path.display()), file_id(path)),
        (None, None) => ("stdout".to_string(), opened_id(io::stdout().as_fd())),
    };
    // Not there yet, so not an input; a path that cannot be read fails on create.
    let Some(written) = written else {
        return Ok(());
    };
    for (what, input) in inputs {
        if file_id(input) == Some(written) {
            let input = match input.to_str() {
                Some("-") => "read from stdin".to_string(),
                _ => input.display().to_string(),
            };
            return Err(anyhow!(
                "{shown} is the {what} {input}: refusing to write results over it"
            ));
        }
    }
    Ok(())
}

/// Whether two paths name the same file: the same device and inode, whatever the name (a
/// link or `./` does not get around it); for files not there yet, the same name in the
/// same directory.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (file_id(a), file_id(b)) {
        (Some(a), Some(b)) => a == b,
        (None, None) => {
            let parent = |path: &Path| match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => file_id(dir),
                _ => file_id(Path::new(".")),
            };
            a.file_name() == b.file_name() && parent(a).is_some() && parent(a) == parent(b)
        }
        _ => false,
    }
}

/// The device and inode of the regular file (or directory) `path` names; stdin's file
/// for `-`, as the inventory reads it.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    if path == Path::new("-") {
        return opened_id(io::stdin().as_fd());
    }
    let meta = fs::metadata(path).ok()?;
    (meta.is_file() || meta.is_dir()).then(|| (meta.dev(), meta.ino()))
}

/// The device and inode of an open descriptor's file, when it is a regular one
/// (`>> inventory.csv`, `< inventory.csv`): a pipe or a terminal is no file a run reads.
fn opened_id(fd: BorrowedFd<'_>) -> Option<(u64, u64)> {
    let fd = fd.try_clone_to_owned().ok()?;
    let meta = File::from(fd).metadata().ok()?;
    meta.is_file().then(|| (meta.dev(), meta.ino()))
}

/// An open destination; [`Destination::commit`] puts staged results in place.
pub struct Destination {
    target: Option<PathBuf>,
    staged: Option<Staged>,
}

/// A temporary file beside the target, removed if dropped before its commit.
struct Staged {
    temp: TempPath,
    /// Another handle on the file the sink writes, to sync it before the rename.
    file: File,
    /// Where it goes: the target, or the file a symlink target points to.
    real: PathBuf,
}

impl Destination {
    /// Opens the destination and the writer for the sink.
    pub fn open(
        output: Option<&Path>,
        format: Format,
    ) -> Result<(Destination, Box<dyn Write + Send>), OutputError> {
        let Some(path) = target(output) else {
            let out = Box::new(BufWriter::new(io::stdout()));
            return Ok((Destination::stdout(), out));
        };
        let error = |source| OutputError::file(path, source);
        if !matches!(format, Format::Json | Format::Junit) {
            let file = File::create(path).map_err(error)?;
            let destination = Destination {
                target: Some(path.to_path_buf()),
                staged: None,
            };
            return Ok((destination, Box::new(BufWriter::new(file))));
        }
        // Through a symlink, the file it points to is replaced, as `File::create` would
        // write it, not the link.
        let real = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let dir = match real.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = real
            .file_name()
            .unwrap_or(real.as_os_str())
            .to_string_lossy();
        // 0666 as `File::create` asks: the umask decides, not tempfile's private 0600.
        let (file, temp) = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .permissions(Permissions::from_mode(0o666))
            .tempfile_in(dir)
            .map_err(error)?
            .into_parts();
        let writer = file.try_clone().map_err(error)?;
        let destination = Destination {
            target: Some(path.to_path_buf()),
            staged: Some(Staged { temp, file, real }),
        };
        Ok((destination, Box::new(BufWriter::new(writer))))
    }

    /// A file the sink appends to itself (`--resume`): nothing staged, nothing to rename.
    pub fn appending(path: &Path) -> Destination {
        Destination {
            target: Some(path.to_path_buf()),
            staged: None,
        }
    }

    fn stdout() -> Destination {
        Destination {
            target: None,
            staged: None,
        }
    }

    /// The error for a write to this destination.
    pub fn error(&self, source: io::Error) -> OutputError {
        match &self.target {
            Some(path) => OutputError::file(path, source),
            None => OutputError::stdout(source),
        }
    }

    /// Once the sink has finished: staged results, synced, take the target's place.
    pub fn commit(self) -> Result<(), OutputError> {
        let (Some(target), Some(staged)) = (&self.target, self.staged) else {
            return Ok(());
        };
        let error = |source| OutputError::file(target, source);
        staged.file.sync_all().map_err(error)?;
        staged
            .temp
            .persist(&staged.real)
            .map_err(|e| error(e.error))?;
        Ok(())
    }

    /// Staged results are dropped, leaving the target as it was.
    pub fn abandon(self) -> Option<PathBuf> {
        self.staged.and(self.target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staged_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.json");
        fs::write(&path, "previous").unwrap();
        let (destination, mut out) = Destination::open(Some(&path), Format::Json).unwrap();
        out.write_all(b"[]\n").unwrap();
        out.flush().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "previous");
        destination.commit().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "[]\n");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left: {left:?}");
    }

    #[test]
    fn an_abandoned_staged_file_leaves_the_target_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.xml");
        fs::write(&path, "previous").unwrap();
        let (destination, mut out) = Destination::open(Some(&path), Format::Junit).unwrap();
        out.write_all(b"<?xml").unwrap();
        out.flush().unwrap();
        assert_eq!(destination.abandon(), Some(path.clone()));
        assert_eq!(fs::read_to_string(&path).unwrap(), "previous");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_staged_file_replaces_what_a_symlink_points_to() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        fs::write(&real, "previous").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let (destination, mut out) = Destination::open(Some(&link), Format::Json).unwrap();
        out.write_all(b"[]\n").unwrap();
        out.flush().unwrap();
        destination.commit().unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "[]\n");
    }

    #[test]
    fn the_same_file_under_another_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let inventory = dir.path().join("inventory.csv");
        fs::write(&inventory, "host\n127.0.0.1\n").unwrap();
        let linked = dir.path().join("linked.csv");
        fs::hard_link(&inventory, &linked).unwrap();
        let inputs = [("inventory", inventory.as_path())];
        let error = refuse_inputs(None, Some(&linked), &inputs).unwrap_err();
        assert!(error.to_string().contains("--output"), "{error}");
        assert!(error.to_string().contains("is the inventory"), "{error}");
        let dotted = dir.path().join(".").join("inventory.csv");
        assert!(refuse_inputs(None, Some(&dotted), &inputs).is_err());
        let error = refuse_inputs(Some(&dotted), None, &inputs).unwrap_err();
        assert!(error.to_string().starts_with("--resume"), "{error}");
        let other = dir.path().join("results.csv");
        assert!(
            refuse_inputs(None, Some(&other), &inputs).is_ok(),
            "not there yet"
        );
        fs::write(&other, "").unwrap();
        assert!(
            refuse_inputs(None, Some(&other), &inputs).is_ok(),
            "another file"
        );
    }

    #[test]
    fn same_file_holds_for_files_not_there_yet() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.csv");
        let dotted = dir.path().join(".").join("new.csv");
        assert!(same_file(&new, &dotted));
        assert!(!same_file(&new, &dir.path().join("other.csv")));
        assert!(!same_file(
            &new,
            &dir.path().join("missing").join("new.csv")
        ));
        fs::write(&new, "").unwrap();
        assert!(same_file(&new, &dotted));
        assert!(!same_file(&new, &dir.path().join("other.csv")));
    }
}
