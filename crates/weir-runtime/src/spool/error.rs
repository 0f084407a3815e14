//! The spool's errors.

use std::io;
use std::path::PathBuf;

/// Why a spool operation failed. None is ever swallowed: the exporter harness
/// turns [`SpoolError::Full`] and [`SpoolError::DiskFull`] into backpressure and
/// reports the rest.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// Appending would take the spool over its `max_bytes`; retry after acks free
    /// whole segments.
    #[error("spool full: {used} of {max} bytes in use, record needs {needed}")]
    Full {
        /// Bytes the spool's segments take now.
        used: u64,
        /// The configured limit.
        max: u64,
        /// Bytes the refused record's frame would take.
        needed: u64,
    },
    /// The file system ran out of space (ENOSPC) while writing; nothing of the
    /// record was kept.
    #[error("disk full writing spool segment {path}: {source}")]
    DiskFull {
        /// The segment being written.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A record that could never fit: over the frame limit or over `max_bytes`.
    #[error("record of {bytes} bytes is larger than the spool allows ({limit})")]
    RecordTooLarge {
        /// The encoded record's size.
        bytes: u64,
        /// The limit it exceeds.
        limit: u64,
    },
    /// Another process (or another spool in this one) has the directory open.
    #[error("spool directory {0} is in use by another spool (its `lock` file is held)")]
    Locked(PathBuf),
    /// The configuration cannot work (e.g. a zero segment size).
    #[error("invalid spool config: {0}")]
    Config(String),
    /// Any other I/O failure, with the file it concerned.
    #[error("spool I/O on {path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

impl SpoolError {
    /// Wraps an I/O error, singling out a full disk so callers can push back.
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        let path = path.into();
        if source.kind() == io::ErrorKind::StorageFull {
            SpoolError::DiskFull { path, source }
        } else {
            SpoolError::Io { path, source }
        }
    }
}
