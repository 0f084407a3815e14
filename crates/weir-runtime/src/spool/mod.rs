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
//! - [`Spool::ack`] marks a record delivered; a segment is deleted once every
//!   record in it is acknowledged.
//! - [`Spool::open`] replays every segment in order and returns the records not
//!   yet deleted. Torn or corrupt frames are skipped and counted
//!   ([`SpoolStats::corrupt_frames`]); the last segment is cut back to its valid
//!   data so appends continue after it.
//!
//! Acknowledgements live in memory only: after a restart every record still in
//! a segment is replayed, including ones acknowledged before the stop whose
//! segment had not yet emptied. Delivery is at least once.
//!
//! The spool is synchronous (plain `std::fs`); the harness runs it on a blocking
//! thread.

pub mod error;
pub mod frame;
pub mod segment;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use prost::Message;

pub use error::SpoolError;
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

/// When appended data is forced to stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// After every append: nothing acknowledged is lost even on power failure,
    /// at the price of one `fdatasync` per batch.
    Always,
    /// After an append once `period` has passed or `bytes` are unsynced since the
    /// last sync. A process crash loses nothing (the data is in the page cache);
    /// a power failure loses at most that window. Call [`Spool::sync`] on a timer
    /// to bound the window when appends stop.
    Interval {
        /// Longest time between syncs while appends continue.
        period: Duration,
        /// Most unsynced bytes before a sync.
        bytes: u64,
    },
    /// Leave it to the OS. Survives a process crash, not a power failure.
    Never,
}

impl Default for FsyncPolicy {
    fn default() -> Self {
        FsyncPolicy::Interval {
            period: Duration::from_millis(100),
            bytes: 32 * 1024 * 1024,
        }
    }
}

/// How a spool stores and bounds its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolConfig {
    /// A segment is closed and a new one started once the next record would take
    /// it past this size (a single larger record still gets a segment of its own).
    pub segment_bytes: u64,
    /// The most bytes all segments may take; appends beyond it fail with
    /// [`SpoolError::Full`].
    pub max_bytes: u64,
    /// When appends are synced to disk.
    pub fsync: FsyncPolicy,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        Self {
            segment_bytes: 64 * 1024 * 1024,
            max_bytes: 1024 * 1024 * 1024,
            fsync: FsyncPolicy::default(),
        }
    }
}

/// A record found on disk when the spool was opened: not yet acknowledged, to be
/// delivered (again) and then passed to [`Spool::ack`].
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    /// Its sequence number, also in `record.sequence`.
    pub seq: Seq,
    /// The record as appended.
    pub record: SpoolRecord,
}

/// Counters over the spool's life since [`Spool::open`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpoolStats {
    /// Records returned by replay.
    pub replayed_records: u64,
    /// Frames found torn, failing their checksum, not decoding, or out of order.
    pub corrupt_frames: u64,
    /// Bytes cut off the end of the last segment on open.
    pub truncated_bytes: u64,
    /// Files that were not valid segments, renamed to `*.corrupt` and left alone.
    pub quarantined_segments: u64,
    /// Records appended.
    pub appended_records: u64,
    /// Segments deleted because every record in them was acknowledged.
    pub deleted_segments: u64,
    /// `fdatasync` calls made.
    pub fsyncs: u64,
}

/// Bookkeeping for one segment on disk.
#[derive(Debug)]
struct SegmentState {
    path: PathBuf,
    /// Its size on disk.
    bytes: u64,
    /// Records in it not yet acknowledged.
    pending: HashSet<Seq>,
}

/// An open spool directory. See the [module docs](self).
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    config: SpoolConfig,
    /// Every segment on disk by first sequence number, the active one included.
    segments: BTreeMap<Seq, SegmentState>,
    active: SegmentWriter,
    next_seq: Seq,
    bytes_used: u64,
    stats: SpoolStats,
    /// Reused for encoding each frame.
    scratch: Vec<u8>,
}

impl Spool {
    /// Opens (creating if needed) the spool in `dir` and replays it: returns every
    /// record still on disk, in sequence order. Damage is repaired and counted in
    /// [`Spool::stats`], never returned as an error; I/O failures are.
    pub fn open(
        dir: impl AsRef<Path>,
        config: SpoolConfig,
    ) -> Result<(Spool, Vec<Replayed>), SpoolError> {
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

        let mut stats = SpoolStats::default();
        let mut replayed = Vec::new();
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
            for record in scan.records {
                let seq = record.sequence;
                // Sequence numbers only grow, and a segment holds those from its
                // name on; anything else cannot be placed, so it is damage.
                if seq < next_seq || seq < first_seq {
                    stats.corrupt_frames += 1;
                    continue;
                }
                next_seq = seq + 1;
                pending.insert(seq);
                replayed.push(Replayed { seq, record });
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
                    },
                );
            }
        }
        stats.replayed_records = replayed.len() as u64;

        let active = match last {
            Some((first_seq, path, valid_len)) => {
                SegmentWriter::reopen(path, first_seq, valid_len)?
            }
            None => {
                let writer = SegmentWriter::create(&dir, next_seq)?;
                segments.insert(
                    next_seq,
                    SegmentState {
                        path: writer.path().to_path_buf(),
                        bytes: writer.len,
                        pending: HashSet::new(),
                    },
                );
                writer
            }
        };
        let bytes_used = segments.values().map(|s| s.bytes).sum();
        let mut spool = Spool {
            dir,
            config,
            segments,
            active,
            next_seq,
            bytes_used,
            stats,
            scratch: Vec::new(),
        };
        // Appends go to a fresh segment if the last one is already full.
        if spool.active.len >= spool.config.segment_bytes {
            spool.roll()?;
        }
        Ok((spool, replayed))
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
            SegmentState {
                path: self.active.path().to_path_buf(),
                bytes: self.active.len,
                pending: HashSet::new(),
            },
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
        let Some((&first_seq, state)) = self.segments.range_mut(..=seq).next_back() else {
            return Ok(false);
        };
        if !state.pending.remove(&seq) {
            return Ok(false);
        }
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

/// The segment files in `dir`, in sequence order. Other files are ignored.
fn list_segments(dir: &Path) -> Result<Vec<(Seq, PathBuf)>, SpoolError> {
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

fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| SpoolError::io(dir, e))
}
