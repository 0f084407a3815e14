//! Segment files: naming, the append-only writer, and the scan that replays one
//! file and finds where its valid data ends.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use bytes::Bytes;
use prost::Message;

use super::SpoolRecord;
use super::error::SpoolError;
use super::frame::{self, Decoded};

/// Every segment starts with these bytes, so a stray file (or a future format)
/// is never mistaken for frames.
pub const MAGIC: &[u8; 8] = b"WEIRSPL1";

const SUFFIX: &str = ".seg";

/// A segment is named for the sequence number of its first record, zero-padded
/// so names sort in replay order.
pub fn file_name(first_seq: u64) -> String {
    format!("{first_seq:020}{SUFFIX}")
}

/// The first sequence number encoded in a segment's file name, if it is one.
pub fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SUFFIX)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The segment that appends go to.
#[derive(Debug)]
pub struct SegmentWriter {
    file: File,
    path: PathBuf,
    /// Sequence number of the first record this segment may hold (its name).
    pub first_seq: u64,
    /// Bytes in the file, header included.
    pub len: u64,
    /// Bytes written since the last fsync.
    pub unsynced: u64,
    /// When the last fsync (or the open) happened.
    pub last_sync: Instant,
}

impl SegmentWriter {
    /// Creates a new, empty segment. Fails rather than overwrite an existing one.
    pub fn create(dir: &Path, first_seq: u64) -> Result<Self, SpoolError> {
        let path = dir.join(file_name(first_seq));
        let mut file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| SpoolError::io(&path, e))?;
        if let Err(e) = file.write_all(MAGIC) {
            // A header-less file would be quarantined on the next open; take it away now.
            let _ = fs::remove_file(&path);
            return Err(SpoolError::io(&path, e));
        }
        Ok(Self::new(file, path, first_seq, MAGIC.len() as u64))
    }

    /// Reopens an existing segment for appending after its first `valid_len`
    /// bytes, cutting off whatever follows (a torn or corrupt tail) and, if the
    /// header itself was lost, writing it again.
    pub fn reopen(path: PathBuf, first_seq: u64, valid_len: u64) -> Result<Self, SpoolError> {
        let mut file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| SpoolError::io(&path, e))?;
        let file_len = file.metadata().map_err(|e| SpoolError::io(&path, e))?.len();
        let mut len = valid_len;
        if valid_len < MAGIC.len() as u64 {
            file.set_len(0).map_err(|e| SpoolError::io(&path, e))?;
            file.write_all(MAGIC)
                .map_err(|e| SpoolError::io(&path, e))?;
            len = MAGIC.len() as u64;
        } else if file_len != valid_len {
            file.set_len(valid_len)
                .map_err(|e| SpoolError::io(&path, e))?;
        }
        if file_len != len {
            // The repair itself must survive a crash, or the next open repairs again
            // from a state we no longer know.
            file.sync_data().map_err(|e| SpoolError::io(&path, e))?;
        }
        Ok(Self::new(file, path, first_seq, len))
    }

    fn new(file: File, path: PathBuf, first_seq: u64, len: u64) -> Self {
        Self {
            file,
            path,
            first_seq,
            len,
            unsynced: 0,
            last_sync: Instant::now(),
        }
    }

    /// The segment's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes whole frames in one call. On failure the file is cut back to its
    /// previous length, so a half-written frame never sits before later appends.
    pub fn append(&mut self, frames: &[u8]) -> Result<(), SpoolError> {
        if let Err(e) = self.file.write_all(frames) {
            // Best effort: if even the truncate fails, the next open finds a torn
            // frame here and cuts it off then.
            let _ = self.file.set_len(self.len);
            return Err(SpoolError::io(&self.path, e));
        }
        self.len += frames.len() as u64;
        self.unsynced += frames.len() as u64;
        Ok(())
    }

    /// Flushes written data to stable storage (`fdatasync`).
    pub fn sync(&mut self) -> Result<(), SpoolError> {
        self.file
            .sync_data()
            .map_err(|e| SpoolError::io(&self.path, e))?;
        self.unsynced = 0;
        self.last_sync = Instant::now();
        Ok(())
    }
}

/// What scanning one segment found.
#[derive(Debug, Default)]
pub struct Scan {
    /// The records that passed their checksum and decoded, in file order.
    pub records: Vec<SpoolRecord>,
    /// Bytes from the start of the file up to the end of the last good frame
    /// (or the header): where appends may continue.
    pub valid_len: u64,
    /// The file's size on disk.
    pub file_len: u64,
    /// Frames that were torn, failed their checksum or did not decode.
    pub corrupt_frames: u64,
    /// The file does not start with [`MAGIC`]: not a segment, or its header was torn.
    pub bad_header: bool,
}

/// Reads a whole segment and decodes its frames. Never panics on bad bytes:
/// damage is counted and reading stops where the data can no longer be trusted.
pub fn scan(path: &Path) -> Result<Scan, SpoolError> {
    let buf = Bytes::from(fs::read(path).map_err(|e| SpoolError::io(path, e))?);
    let mut scan = Scan {
        file_len: buf.len() as u64,
        ..Scan::default()
    };
    if buf.get(..MAGIC.len()) != Some(&MAGIC[..]) {
        scan.bad_header = true;
        return Ok(scan);
    }
    let mut at = MAGIC.len();
    scan.valid_len = at as u64;
    while at < buf.len() {
        match frame::decode(&buf, at) {
            Decoded::Frame { start, len, next } => {
                // `Bytes` payloads are slices of `buf`: no copy per batch.
                match SpoolRecord::decode(buf.slice(start..start + len)) {
                    Ok(record) => scan.records.push(record),
                    // Checksummed but not a record (a bug or a foreign writer):
                    // skip just this frame, the framing is still sound.
                    Err(_) => scan.corrupt_frames += 1,
                }
                at = next;
                scan.valid_len = next as u64;
            }
            // A bad payload with a believable length: if a good frame follows
            // where this one claims to end, the damage is confined to it; skip it.
            Decoded::BadChecksum { next }
                if next < buf.len()
                    && matches!(frame::decode(&buf, next), Decoded::Frame { .. }) =>
            {
                scan.corrupt_frames += 1;
                at = next;
            }
            // Torn write, bad length, or a bad frame with nothing good after it:
            // everything from here on is the tail to cut off.
            Decoded::Short | Decoded::BadLength | Decoded::BadChecksum { .. } => {
                scan.corrupt_frames += 1;
                break;
            }
        }
    }
    Ok(scan)
}
