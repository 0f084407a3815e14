//! The disk spool: a write-ahead log of batches that survives restarts and
//! crashes, so an exporter can deliver what it accepted even after `kill -9`.
//!
//! A spool is a directory of segment files named for the sequence number of
//! their first record (`00000000000000000042.seg`). Each holds a header
//! ([`segment::MAGIC`]) and frames (see [`frame`]); each frame holds one
//! [`SpoolRecord`], the protobuf message in `proto/spool.proto`.
//!
//! - [`Spool::append`] writes a record at the end of the active segment, rolling
//!   to a new one at [`SpoolConfig::segment_bytes`], and syncs it per
//!   [`FsyncPolicy`]. It refuses with [`SpoolError::Full`] at
//!   [`SpoolConfig::max_bytes`] and with [`SpoolError::DiskFull`] on ENOSPC.
//! - [`Spool::ack`] marks a record delivered, in memory and in the
//!   [acknowledgement log](acks); a segment is deleted once every record in it
//!   is acknowledged.
//! - [`Spool::open`] checks every segment in order and notes the records not
//!   yet acknowledged; [`Spool::read_pending`] then reads them back a segment at
//!   a time, so replaying a large spool never holds it all in memory. Torn or
//!   corrupt frames are skipped and counted ([`SpoolStats::corrupt_frames`]);
//!   the last segment is cut back to its valid data so appends continue after it.
//!
//! Delivery is at least once: after a crash, records appended and not yet
//! acknowledged come back, so only what was in flight is delivered twice (and
//! acks lost to a power cut, since the ack log is not synced).
//!
//! The spool is synchronous (plain `std::fs`); the harness runs it on a blocking
//! thread.

pub mod acks;
pub mod config;
pub mod error;
mod files;
pub mod frame;
pub mod segment;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use prost::Message;

use acks::AckLog;
pub use config::{FsyncPolicy, Replayed, SpoolConfig, SpoolStats};
pub use error::SpoolError;
use files::{list_segments, lock_dir, sync_dir};
use segment::{MAGIC, SegmentWriter};

// The record types generated from `proto/spool.proto` by build.rs.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/weir.spool.v1.rs"));
}
pub use generated::{MetadataEntry, Signal, SpoolRecord};

/// A record's sequence number: assigned by [`Spool::append`], strictly increasing
/// across the spool's life, restarts included.
pub type Seq = u64;

/// Bookkeeping for one segment on disk.
#[derive(Debug)]
struct SegmentState {
    path: PathBuf,
    /// Its size on disk.
    bytes: u64,
    /// Records in it not yet acknowledged.
    pending: HashSet<Seq>,
    /// Records in it acknowledged: the ack log entries still worth keeping.
    acked: HashSet<Seq>,
}

impl SegmentState {
    fn new(path: PathBuf, bytes: u64) -> Self {
        Self {
            path,
            bytes,
            pending: HashSet::new(),
            acked: HashSet::new(),
        }
    }
}

/// An open spool directory. See the [module docs](self).
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    config: SpoolConfig,
    /// Every segment on disk by first sequence number, the active one included.
    segments: BTreeMap<Seq, SegmentState>,
    active: SegmentWriter,
    acks: AckLog,
    next_seq: Seq,
    bytes_used: u64,
    stats: SpoolStats,
    /// Reused for encoding each frame.
    scratch: Vec<u8>,
    /// Held (locked) for the spool's life.
    _lock: fs::File,
}

/// The file whose lock says a spool has the directory open.
pub const LOCK_FILE: &str = "lock";

impl Spool {
    /// Opens (creating if needed) the spool in `dir` and checks it: every record
    /// not yet acknowledged is pending again, to be read with
    /// [`Spool::read_pending`]. Damage is repaired and counted in
    /// [`Spool::stats`], never returned as an error; I/O failures are.
    pub fn open(dir: impl AsRef<Path>, config: SpoolConfig) -> Result<Spool, SpoolError> {
        if config.segment_bytes <= MAGIC.len() as u64 {
            return Err(SpoolError::Config(format!(
                "segment_bytes must be over {} bytes",
                MAGIC.len()
            )));
        }
        if config.max_bytes < config.segment_bytes {
            return Err(SpoolError::Config(
                "max_bytes must be at least segment_bytes".into(),
            ));
        }
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| SpoolError::io(&dir, e))?;
        // Two writers would interleave frames and delete each other's segments.
        // The OS drops the lock when the process dies, so `kill -9` needs no cleanup.
        let lock = lock_dir(&dir)?;

        let (logged_acks, damaged_acks) = AckLog::read(&dir)?;
        let mut stats = SpoolStats {
            damaged_acks,
            ..SpoolStats::default()
        };
        let mut replayed: u64 = 0;
        let mut segments = BTreeMap::new();
        let mut next_seq: Seq = 0;
        // The last segment, to reopen for appends: (first_seq, path, valid_len).
        let mut last: Option<(Seq, PathBuf, u64)> = None;

        let names = list_segments(&dir)?;
        let count = names.len();
        for (i, (first_seq, path)) in names.into_iter().enumerate() {
            let is_last = i + 1 == count;
            let scan = segment::scan(&path)?;
            next_seq = next_seq.max(first_seq);
            if scan.bad_header && !is_last {
                // Not ours to delete: a human may want to look. Out of the way, though.
                let mut aside = path.clone().into_os_string();
                aside.push(".corrupt");
                fs::rename(&path, &aside).map_err(|e| SpoolError::io(&path, e))?;
                stats.quarantined_segments += 1;
                continue;
            }
            stats.corrupt_frames += scan.corrupt_frames;
            let mut pending = HashSet::with_capacity(scan.records.len());
            let mut acked = HashSet::new();
            for record in scan.records {
                let seq = record.sequence;
                // Sequence numbers only grow, and a segment holds those from its
                // name on; anything else cannot be placed, so it is damage.
                if seq < next_seq || seq < first_seq {
                    stats.corrupt_frames += 1;
                    continue;
                }
                next_seq = seq + 1;
                if logged_acks.contains(&seq) {
                    acked.insert(seq);
                } else {
                    pending.insert(seq);
                    replayed += 1;
                }
            }
            if is_last {
                // Everything past the valid data, a torn header included, is cut off.
                stats.truncated_bytes += scan.file_len - scan.valid_len;
                let bytes = scan.valid_len.max(MAGIC.len() as u64);
                last = Some((first_seq, path.clone(), scan.valid_len));
                segments.insert(
                    first_seq,
                    SegmentState {
                        path,
                        bytes,
                        pending,
                        acked,
                    },
                );
            } else if pending.is_empty() {
                fs::remove_file(&path).map_err(|e| SpoolError::io(&path, e))?;
                stats.deleted_segments += 1;
            } else {
                segments.insert(
                    first_seq,
                    SegmentState {
                        path,
                        bytes: scan.file_len,
                        pending,
                        acked,
                    },
                );
            }
        }
        stats.replayed_records = replayed;

        let active = match last {
            Some((first_seq, path, valid_len)) => {
                SegmentWriter::reopen(path, first_seq, valid_len)?
            }
            None => {
                let writer = SegmentWriter::create(&dir, next_seq)?;
                segments.insert(
                    next_seq,
                    SegmentState::new(writer.path().to_path_buf(), writer.len),
                );
                writer
            }
        };
        let bytes_used = segments.values().map(|s| s.bytes).sum();
        // Only acks of records still on disk matter; this also drops any for
        // sequence numbers a torn tail has freed for reuse.
        let acks = AckLog::rewrite(
            &dir,
            segments.values().flat_map(|s| s.acked.iter().copied()),
        )?;
        let mut spool = Spool {
            dir,
            config,
            segments,
            active,
            acks,
            next_seq,
            bytes_used,
            stats,
            scratch: Vec::new(),
            _lock: lock,
        };
        // Appends go to a fresh segment if the last one is already full.
        if spool.active.len >= spool.config.segment_bytes {
            spool.roll()?;
        }
        Ok(spool)
    }

    /// Pending records (appended, not yet acknowledged) with sequence numbers
    /// from `from` up to but not including `until`, read back from disk: those
    /// of the first segment that has any, in sequence order. Call again from
    /// the last one returned plus one; an empty answer means none are left in
    /// the range. Only one segment is read at a time, so memory stays bounded
    /// by `segment_bytes`.
    pub fn read_pending(&self, from: Seq, until: Seq) -> Result<Vec<Replayed>, SpoolError> {
        // The segment holding `from` starts at or before it.
        let start = self
            .segments
            .range(..=from)
            .next_back()
            .map_or(from, |(&first, _)| first);
        for (_, state) in self.segments.range(start..until) {
            if !state.pending.iter().any(|&s| s >= from && s < until) {
                continue;
            }
            let scan = segment::scan(&state.path)?;
            let found: Vec<Replayed> = scan
                .records
                .into_iter()
                .filter(|r| {
                    r.sequence >= from && r.sequence < until && state.pending.contains(&r.sequence)
                })
                .map(|record| Replayed {
                    seq: record.sequence,
                    record,
                })
                .collect();
            if !found.is_empty() {
                return Ok(found);
            }
        }
        Ok(Vec::new())
    }

    /// The lowest pending sequence number, if any record is pending.
    pub fn first_pending(&self) -> Option<Seq> {
        self.segments
            .values()
            .find_map(|s| s.pending.iter().min().copied())
    }

    /// Appends `record`, setting its `sequence`, and returns that sequence number.
    /// When this returns, the record is in the OS (it survives a process crash)
    /// and, per the [`FsyncPolicy`], possibly on disk.
    pub fn append(&mut self, mut record: SpoolRecord) -> Result<Seq, SpoolError> {
        let seq = self.next_seq;
        record.sequence = seq;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let encoded_len = record.encoded_len();
        if encoded_len > frame::MAX_RECORD_BYTES {
            self.scratch = scratch;
            return Err(SpoolError::RecordTooLarge {
                bytes: encoded_len as u64,
                limit: frame::MAX_RECORD_BYTES as u64,
            });
        }
        scratch.resize(frame::FRAME_HEADER_BYTES, 0);
        scratch.reserve(encoded_len);
        record
            .encode(&mut scratch)
            .expect("a Vec grows to fit any record");
        frame::seal(&mut scratch, 0);
        let result = self.write_frame(&scratch);
        self.scratch = scratch;
        result?;
        self.next_seq += 1;
        self.stats.appended_records += 1;
        Ok(seq)
    }

    fn write_frame(&mut self, frame: &[u8]) -> Result<(), SpoolError> {
        let needed = frame.len() as u64;
        let header = MAGIC.len() as u64;
        if needed + header > self.config.max_bytes {
            return Err(SpoolError::RecordTooLarge {
                bytes: needed,
                limit: self.config.max_bytes - header,
            });
        }
        if self.active.len > header && self.active.len + needed > self.config.segment_bytes {
            self.roll()?;
        }
        if self.bytes_used + needed > self.config.max_bytes {
            // The active segment is never deleted while appends go to it; if all
            // its records are delivered, close it so it can go, then look again.
            let active_done = self.active_state().pending.is_empty() && self.active.len > header;
            if active_done {
                self.roll()?;
            }
            if self.bytes_used + needed > self.config.max_bytes {
                return Err(SpoolError::Full {
                    used: self.bytes_used,
                    max: self.config.max_bytes,
                    needed,
                });
            }
        }
        self.active.append(frame)?;
        self.bytes_used += needed;
        let seq = self.next_seq;
        let state = self
            .segments
            .get_mut(&self.active.first_seq)
            .expect("the active segment is tracked");
        state.bytes += needed;
        state.pending.insert(seq);
        let due = match self.config.fsync {
            FsyncPolicy::Always => true,
            FsyncPolicy::Interval { period, bytes } => {
                self.active.unsynced >= bytes || self.active.last_sync.elapsed() >= period
            }
            FsyncPolicy::Never => false,
        };
        if due {
            self.sync()?;
        }
        Ok(())
    }

    fn active_state(&self) -> &SegmentState {
        self.segments
            .get(&self.active.first_seq)
            .expect("the active segment is tracked")
    }

    /// Closes the active segment and starts a new one at the next sequence number;
    /// the old one is deleted at once if nothing in it awaits delivery.
    fn roll(&mut self) -> Result<(), SpoolError> {
        if self.config.fsync != FsyncPolicy::Never && self.active.unsynced > 0 {
            self.sync()?;
        }
        let writer = SegmentWriter::create(&self.dir, self.next_seq)?;
        if self.config.fsync != FsyncPolicy::Never {
            // The new file's directory entry must be durable too, or a power cut
            // could lose the whole segment even after its data is synced.
            sync_dir(&self.dir)?;
        }
        let old = std::mem::replace(&mut self.active, writer);
        self.bytes_used += self.active.len;
        self.segments.insert(
            self.active.first_seq,
            SegmentState::new(self.active.path().to_path_buf(), self.active.len),
        );
        if self
            .segments
            .get(&old.first_seq)
            .is_some_and(|s| s.pending.is_empty())
        {
            self.delete_segment(old.first_seq)?;
        }
        Ok(())
    }

    /// Marks record `seq` delivered. Returns whether it was pending (acking twice,
    /// or a number never appended, is harmless). A segment whose records are all
    /// acknowledged is deleted, unless appends still go to it.
    pub fn ack(&mut self, seq: Seq) -> Result<bool, SpoolError> {
        let Some((&first_seq, state)) = self.segments.range(..=seq).next_back() else {
            return Ok(false);
        };
        if !state.pending.contains(&seq) {
            return Ok(false);
        }
        // Logged first: if that fails the record stays pending and is delivered
        // again, rather than being dropped here and replayed after a restart anyway.
        self.acks.append(seq)?;
        let state = self.segments.get_mut(&first_seq).expect("found just above");
        state.pending.remove(&seq);
        state.acked.insert(seq);
        if state.pending.is_empty() && first_seq != self.active.first_seq {
            self.delete_segment(first_seq)?;
        }
        Ok(true)
    }

    fn delete_segment(&mut self, first_seq: Seq) -> Result<(), SpoolError> {
        if let Some(state) = self.segments.remove(&first_seq) {
            if let Err(e) = fs::remove_file(&state.path) {
                // Keep tracking it, so the bytes stay counted and a later ack or
                // roll can retry.
                let err = SpoolError::io(&state.path, e);
                self.segments.insert(first_seq, state);
                return Err(err);
            }
            self.bytes_used -= state.bytes;
            self.stats.deleted_segments += 1;
            // The deleted segment's acks are dead weight in the log now; rewrite it
            // once they dominate, so it stays proportional to what is on disk.
            let live: u64 = self.segments.values().map(|s| s.acked.len() as u64).sum();
            if self.acks.entries() > 2 * live + 4096 {
                self.acks = AckLog::rewrite(
                    &self.dir,
                    self.segments.values().flat_map(|s| s.acked.iter().copied()),
                )?;
            }
        }
        Ok(())
    }

    /// Forces appended data to disk now, whatever the policy. The harness calls
    /// this on a timer under [`FsyncPolicy::Interval`], and on shutdown.
    pub fn sync(&mut self) -> Result<(), SpoolError> {
        self.active.sync()?;
        self.stats.fsyncs += 1;
        Ok(())
    }

    /// [`Spool::sync`] if anything was appended since the last sync.
    pub fn sync_if_dirty(&mut self) -> Result<(), SpoolError> {
        if self.active.unsynced > 0 {
            self.sync()?;
        }
        Ok(())
    }

    /// Bytes all segments take on disk now (headers included).
    pub fn bytes_used(&self) -> u64 {
        self.bytes_used
    }

    /// Records appended or replayed and not yet acknowledged.
    pub fn pending_records(&self) -> usize {
        self.segments.values().map(|s| s.pending.len()).sum()
    }

    /// Segment files on disk, the active one included.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// The sequence number the next append will get.
    pub fn next_seq(&self) -> Seq {
        self.next_seq
    }

    /// Counters since open.
    pub fn stats(&self) -> &SpoolStats {
        &self.stats
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &SpoolConfig {
        &self.config
    }

    /// The spool's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Syncs and closes the spool. Dropping it without this is safe too (that is
    /// what a crash does); this only makes the last appends durable first.
    pub fn close(mut self) -> Result<(), SpoolError> {
        if self.config.fsync != FsyncPolicy::Never {
            self.sync()?;
        }
        Ok(())
    }
}
