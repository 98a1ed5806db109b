//! Opening a file the run reads (an inventory, a results file).

use std::fs::File;
use std::io;
use std::path::Path;

/// Opens `path` for reading, refusing a directory: on Linux, opening one succeeds and only
/// the first read fails, with a message ("Is a directory") that names no file.
pub(crate) fn file(path: &Path) -> io::Result<File> {
    let file = File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(io::Error::other("is a directory"));
    }
    Ok(file)
}
