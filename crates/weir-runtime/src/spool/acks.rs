//! The acknowledgement log: which spooled records were delivered, kept on disk
//! so a restart replays only what was not (plus what was in flight), not every
//! record of a segment that had not yet emptied.
//!
//! `acks.log` holds 12-byte entries: the sequence number (u64 LE) and a CRC-32 of
//! those 8 bytes (u32 LE). It is written, never synced: an ack lost to a power
//! cut only means a duplicate delivery, never a loss. A torn or damaged entry is
//! skipped. The log is rewritten (to a temporary file, then renamed over it) with
//! just the acks that still matter, on open and whenever it grows well past them.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::Seq;
use super::error::SpoolError;

const FILE: &str = "acks.log";
const ENTRY: usize = 12;

/// The open acknowledgement log.
#[derive(Debug)]
pub struct AckLog {
    file: File,
    path: PathBuf,
    /// Entries in the file now.
    entries: u64,
}

impl AckLog {
    /// Reads the log in `dir` (absent means empty): the sequence numbers it holds
    /// and how many entries were damaged.
    pub fn read(dir: &Path) -> Result<(HashSet<Seq>, u64), SpoolError> {
        let path = dir.join(FILE);
        let buf = match fs::read(&path) {
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(SpoolError::io(&path, e)),
        };
        let mut acked = HashSet::with_capacity(buf.len() / ENTRY);
        let mut damaged = u64::from(buf.len() % ENTRY != 0);
        for entry in buf.chunks_exact(ENTRY) {
            let (seq, crc) = entry.split_at(8);
            if crc32fast::hash(seq).to_le_bytes() == crc {
                acked.insert(u64::from_le_bytes(seq.try_into().expect("8 bytes")));
            } else {
                damaged += 1;
            }
        }
        Ok((acked, damaged))
    }

    /// Replaces the log with one holding exactly `live` and opens it for appends.
    pub fn rewrite(dir: &Path, live: impl Iterator<Item = Seq>) -> Result<Self, SpoolError> {
        let path = dir.join(FILE);
        let tmp = dir.join(format!("{FILE}.tmp"));
        let mut buf = Vec::new();
        let mut entries = 0;
        for seq in live {
            encode(&mut buf, seq);
            entries += 1;
        }
        fs::write(&tmp, &buf).map_err(|e| SpoolError::io(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| SpoolError::io(&path, e))?;
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| SpoolError::io(&path, e))?;
        Ok(Self {
            file,
            path,
            entries,
        })
    }

    /// Records that `seq` was delivered.
    pub fn append(&mut self, seq: Seq) -> Result<(), SpoolError> {
        let mut buf = Vec::with_capacity(ENTRY);
        encode(&mut buf, seq);
        self.file
            .write_all(&buf)
            .map_err(|e| SpoolError::io(&self.path, e))?;
        self.entries += 1;
        Ok(())
    }

    /// Entries in the file, live or not.
    pub fn entries(&self) -> u64 {
        self.entries
    }
}

fn encode(out: &mut Vec<u8>, seq: Seq) {
    let bytes = seq.to_le_bytes();
    out.extend_from_slice(&bytes);
    out.extend_from_slice(&crc32fast::hash(&bytes).to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(AckLog::read(dir.path()).unwrap(), (HashSet::new(), 0));
        let mut log = AckLog::rewrite(dir.path(), [1, 2].into_iter()).unwrap();
        log.append(7).unwrap();
        drop(log);
        let (acked, damaged) = AckLog::read(dir.path()).unwrap();
        assert_eq!(acked, HashSet::from([1, 2, 7]));
        assert_eq!(damaged, 0);

        let path = dir.path().join(FILE);
        let mut bytes = fs::read(&path).unwrap();
        bytes[ENTRY] ^= 1;
        bytes.extend_from_slice(&[1, 2, 3]);
        fs::write(&path, &bytes).unwrap();
        let (acked, damaged) = AckLog::read(dir.path()).unwrap();
        assert_eq!(acked, HashSet::from([1, 7]));
        assert_eq!(damaged, 2);
    }
}
