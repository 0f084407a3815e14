//! The spool directory's files: listing the segments, the lock that keeps one
//! spool per directory, and syncing the directory itself.

use std::fs;
use std::path::{Path, PathBuf};

use super::error::SpoolError;
use super::{LOCK_FILE, Seq, segment};

/// The segment files in `dir`, in sequence order. Other files are ignored.
pub(super) fn list_segments(dir: &Path) -> Result<Vec<(Seq, PathBuf)>, SpoolError> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| SpoolError::io(dir, e))? {
        let entry = entry.map_err(|e| SpoolError::io(dir, e))?;
        if let Some(seq) = entry.file_name().to_str().and_then(segment::parse_name) {
            found.push((seq, entry.path()));
        }
    }
    found.sort_unstable_by_key(|(seq, _)| *seq);
    Ok(found)
}

/// Takes the directory's lock file, failing with [`SpoolError::Locked`] while
/// another spool holds it.
pub(super) fn lock_dir(dir: &Path) -> Result<fs::File, SpoolError> {
    let lock_path = dir.join(LOCK_FILE);
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| SpoolError::io(&lock_path, e))?;
    #[cfg(unix)]
    {
        use rustix::fs::{FlockOperation, flock};
        match flock(&lock, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(SpoolError::Locked(dir.to_path_buf()));
            }
            Err(e) => return Err(SpoolError::io(&lock_path, e.into())),
        }
    }
    Ok(lock)
}

pub(super) fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| SpoolError::io(dir, e))
}
