//! The spool against real files in temporary directories.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;

use super::*;

fn record(i: u64, payload_len: usize) -> SpoolRecord {
    SpoolRecord {
        signal: Signal::Logs as i32,
        payload: Bytes::from(vec![(i % 251) as u8; payload_len]),
        items: i + 1,
        sequence: 0,
        received_at_unix_nanos: 1_700_000_000_000_000_000 + i,
        metadata: vec![MetadataEntry {
            key: "x-tenant".into(),
            value: Bytes::from(format!("t{i}")),
        }],
    }
}

fn small_config() -> SpoolConfig {
    SpoolConfig {
        segment_bytes: 4096,
        max_bytes: 1024 * 1024,
        fsync: FsyncPolicy::Never,
    }
}

/// Opens the spool and reads back everything pending, as the harness does.
fn open_all(dir: &Path, config: SpoolConfig) -> Result<(Spool, Vec<Replayed>), SpoolError> {
    let spool = Spool::open(dir, config)?;
    let mut all = Vec::new();
    let mut from = 0;
    loop {
        let part = spool.read_pending(from, spool.next_seq())?;
        let Some(last) = part.last() else { break };
        from = last.seq + 1;
        all.extend(part);
    }
    assert_eq!(all.len() as u64, spool.stats().replayed_records);
    assert_eq!(all.first().map(|r| r.seq), spool.first_pending());
    Ok((spool, all))
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    files.sort();
    files
}

fn append_n(spool: &mut Spool, range: std::ops::Range<u64>, len: usize) -> Vec<Seq> {
    range
        .map(|i| spool.append(record(i, len)).unwrap())
        .collect()
}

#[test]
fn round_trip_and_replay_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, replayed) = open_all(dir.path(), small_config()).unwrap();
    assert!(replayed.is_empty());
    let seqs = append_n(&mut spool, 0..50, 300);
    assert_eq!(seqs, (0..50).collect::<Vec<_>>());
    assert!(spool.segment_count() > 1, "4 KiB segments must have rolled");
    assert_eq!(spool.pending_records(), 50);
    spool.close().unwrap();

    let (mut spool, replayed) = open_all(dir.path(), small_config()).unwrap();
    assert_eq!(replayed.len(), 50);
    for (i, r) in replayed.iter().enumerate() {
        let mut want = record(i as u64, 300);
        want.sequence = i as u64;
        assert_eq!(r.seq, i as u64);
        assert_eq!(r.record, want);
    }
    assert_eq!(spool.stats().corrupt_frames, 0);
    assert_eq!(spool.stats().truncated_bytes, 0);
    // Sequence numbers carry on past a restart.
    assert_eq!(spool.append(record(50, 10)).unwrap(), 50);
}

#[test]
fn crash_without_close_loses_nothing_unacked() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open_all(dir.path(), small_config()).unwrap();
    let seqs = append_n(&mut spool, 0..40, 200);
    for seq in &seqs[..25] {
        assert!(spool.ack(*seq).unwrap());
    }
    // A crash: no close, no sync.
    drop(spool);

    let (spool, replayed) = open_all(dir.path(), small_config()).unwrap();
    let got: Vec<Seq> = replayed.iter().map(|r| r.seq).collect();
    // Exactly the unacknowledged records are back, in order: the ack log keeps
    // acknowledged ones from coming back even where their segment remains.
    assert_eq!(got, seqs[25..]);
    assert_eq!(spool.pending_records(), got.len());
}

#[test]
fn acked_segments_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open_all(dir.path(), small_config()).unwrap();
    let seqs = append_n(&mut spool, 0..60, 300);
    let before = segment_files(dir.path()).len();
    assert!(before >= 4);
    let used_before = spool.bytes_used();
    // Out of order, and twice: deletion waits for every record of a segment.
    for seq in seqs.iter().rev() {
        assert!(spool.ack(*seq).unwrap());
        assert!(!spool.ack(*seq).unwrap());
    }
    assert!(!spool.ack(1_000).unwrap());
    // Only the active segment is left.
    assert_eq!(segment_files(dir.path()).len(), 1);
    assert_eq!(spool.segment_count(), 1);
    assert!(spool.bytes_used() < used_before);
    assert_eq!(spool.pending_records(), 0);
    let on_disk: u64 = segment_files(dir.path())
        .iter()
        .map(|p| fs::metadata(p).unwrap().len())
        .sum();
    assert_eq!(spool.bytes_used(), on_disk);
    drop(spool);
    let (_, replayed) = open_all(dir.path(), small_config()).unwrap();
    assert!(replayed.is_empty(), "acks survive a restart");
}

#[test]
fn partial_ack_keeps_segment() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open_all(dir.path(), small_config()).unwrap();
    let seqs = append_n(&mut spool, 0..30, 300);
    // Ack all but the first record: the first segment must stay.
    for seq in &seqs[1..] {
        spool.ack(*seq).unwrap();
    }
    drop(spool);
    let (_, replayed) = open_all(dir.path(), small_config()).unwrap();
    assert_eq!(replayed[0].seq, 0);
}

fn last_segment(dir: &Path) -> PathBuf {
    segment_files(dir).pop().unwrap()
}

#[test]
fn torn_tail_is_cut_counted_and_appends_continue() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open_all(dir.path(), small_config()).unwrap();
    append_n(&mut spool, 0..5, 100);
    drop(spool);
    let path = last_segment(dir.path());
    let len = fs::metadata(&path).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 3)
        .unwrap();

    let (mut spool, replayed) = open_all(dir.path(), small_config()).unwrap();
    assert_eq!(replayed.len(), 4, "the torn last record is dropped");
    assert_eq!(spool.stats().corrupt_frames, 1);
    assert!(spool.stats().truncated_bytes > 0);
    // The lost record never got past the OS, so its number is free again.
    let seq = spool.append(record(99, 100)).unwrap();
    assert_eq!(seq, 4);
    drop(spool);

    let (spool, replayed) = open_all(dir.path(), small_config()).unwrap();
    assert_eq!(replayed.len(), 5);
    assert_eq!(replayed[4].record.items, 100);
    assert_eq!(spool.stats().corrupt_frames, 0, "the repair held");
}

#[test]
fn flipped_byte_in_last_frame_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open_all(dir.path(), small_config()).unwrap();
    append_n(&mut spool, 0..5, 100);
    drop(spool);
    let path = last_segment(dir.path());
    let mut bytes = fs::read(&path).unwrap();
    let at = bytes.len() - 50;
    bytes[at] ^= 0x40;
    fs::write(&path, &bytes).unwrap();

    let (mut spool, replayed) = open_all(dir.path(), small_config()).unwrap();
    assert_eq!(replayed.len(), 4);
    assert_eq!(spool.stats().corrupt_frames, 1);
    spool.append(record(7, 100)).unwrap();
    drop(spool);
    let (spool, replayed) = open_all(dir.path(), small_config()).unwrap();
    assert_eq!(replayed.len(), 5);
    assert_eq!(spool.stats().corrupt_frames, 0);
}

#[test]
fn corrupt_frame_mid_segment_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let config = SpoolConfig {
        segment_bytes: 1024 * 1024,
        ..small_config()
    };
    let (mut spool, _) = open_all(dir.path(), config.clone()).unwrap();
    append_n(&mut spool, 0..5, 100);
    drop(spool);
    let path = last_segment(dir.path());
    let mut bytes = fs::read(&path).unwrap();
    // Inside the second record's payload: header, one frame, its header, a bit more.
    let frame = (bytes.len() - MAGIC.len()) / 5;
    bytes[MAGIC.len() + frame + frame::FRAME_HEADER_BYTES + 20] ^= 0xff;
    fs::write(&path, &bytes).unwrap();

    let (spool, replayed) = open_all(dir.path(), config).unwrap();
    let got: Vec<Seq> = replayed.iter().map(|r| r.seq).collect();
    assert_eq!(got, vec![0, 2, 3, 4]);
    assert_eq!(spool.stats().corrupt_frames, 1);
}

#[test]
fn garbage_and_empty_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    // A torn header on the only segment: reset and used.
    fs::write(dir.path().join(segment::file_name(0)), b"WEI").unwrap();
    let (mut spool, replayed) = open_all(dir.path(), small_config()).unwrap();
    assert!(replayed.is_empty());
    spool.append(record(0, 10)).unwrap();
    drop(spool);
    // Files not named like segments are none of the spool's business.
    fs::write(
        dir.path()
            .join(segment::file_name(0).replace("000.seg", "000.tmp")),
        b"x",
    )
    .unwrap();
    let (spool, replayed) = open_all(dir.path(), small_config()).unwrap();
    assert_eq!(replayed.len(), 1);
    drop(spool);

    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join(segment::file_name(0)),
        b"not a segment at all",
    )
    .unwrap();
    fs::write(dir.path().join(segment::file_name(5)), b"").unwrap();
    let (spool, replayed) = open_all(dir.path(), small_config()).unwrap();
    assert!(replayed.is_empty());
    assert_eq!(spool.stats().quarantined_segments, 1);
    assert!(
        dir.path()
            .join(format!("{}.corrupt", segment::file_name(0)))
            .exists()
    );
    assert_eq!(spool.next_seq(), 5);
}

#[test]
fn full_at_max_bytes_until_acks_free_space() {
    let dir = tempfile::tempdir().unwrap();
    let config = SpoolConfig {
        segment_bytes: 4096,
        max_bytes: 16 * 1024,
        fsync: FsyncPolicy::Never,
    };
    let (mut spool, _) = open_all(dir.path(), config).unwrap();
    let mut seqs = Vec::new();
    let err = loop {
        match spool.append(record(seqs.len() as u64, 500)) {
            Ok(seq) => seqs.push(seq),
            Err(e) => break e,
        }
    };
    assert!(matches!(err, SpoolError::Full { .. }), "{err}");
    assert!(spool.bytes_used() <= 16 * 1024);
    // Nothing of the refused record was kept.
    assert_eq!(spool.pending_records(), seqs.len());
    assert_eq!(spool.next_seq(), seqs.len() as u64);
    // Delivering everything frees the space, the active segment included.
    for seq in &seqs {
        spool.ack(*seq).unwrap();
    }
    spool.append(record(0, 500)).unwrap();

    let too_big = spool.append(record(0, 20 * 1024));
    assert!(matches!(too_big, Err(SpoolError::RecordTooLarge { .. })));
}

#[test]
fn every_fsync_policy_works() {
    for fsync in [
        FsyncPolicy::Always,
        FsyncPolicy::Never,
        FsyncPolicy::default(),
        FsyncPolicy::Interval {
            period: Duration::ZERO,
            bytes: u64::MAX,
        },
        FsyncPolicy::Interval {
            period: Duration::from_secs(3600),
            bytes: 1,
        },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = SpoolConfig {
            fsync,
            ..small_config()
        };
        let (mut spool, _) = open_all(dir.path(), config.clone()).unwrap();
        append_n(&mut spool, 0..20, 300);
        let fsyncs = spool.stats().fsyncs;
        match fsync {
            FsyncPolicy::Never => assert_eq!(fsyncs, 0),
            FsyncPolicy::Always => assert!(fsyncs >= 20),
            FsyncPolicy::Interval { period, .. } if period.is_zero() => assert!(fsyncs >= 20),
            FsyncPolicy::Interval { bytes: 1, .. } => assert!(fsyncs >= 20),
            FsyncPolicy::Interval { .. } => {}
        }
        spool.close().unwrap();
        let (_, replayed) = open_all(dir.path(), config).unwrap();
        assert_eq!(replayed.len(), 20, "{fsync:?}");
    }
}

#[test]
fn bad_config_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = SpoolConfig {
        segment_bytes: 4,
        ..SpoolConfig::default()
    };
    assert!(matches!(
        open_all(dir.path(), config),
        Err(SpoolError::Config(_))
    ));
    let config = SpoolConfig {
        max_bytes: 10,
        segment_bytes: 100,
        ..SpoolConfig::default()
    };
    assert!(matches!(
        open_all(dir.path(), config),
        Err(SpoolError::Config(_))
    ));
}

#[test]
fn disk_errors_surface() {
    // The spool's own directory vanishing is the portable stand-in for a failing
    // disk: the next roll cannot create its segment, and says so.
    let dir = tempfile::tempdir().unwrap();
    let spool_dir = dir.path().join("spool");
    let (mut spool, _) = open_all(&spool_dir, small_config()).unwrap();
    fs::remove_dir_all(&spool_dir).unwrap();
    let err = (0..100)
        .find_map(|i| spool.append(record(i, 500)).err())
        .expect("an append must fail");
    assert!(matches!(err, SpoolError::Io { .. }), "{err}");
}

#[test]
fn enospc_maps_to_disk_full() {
    let err = SpoolError::io("x", std::io::Error::from(std::io::ErrorKind::StorageFull));
    assert!(matches!(err, SpoolError::DiskFull { .. }));
}

#[test]
fn ack_log_is_compacted_and_damage_only_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _) = open_all(dir.path(), small_config()).unwrap();
    for i in 0..10_000 {
        let seq = spool.append(record(i, 10)).unwrap();
        spool.ack(seq).unwrap();
    }
    let log = dir.path().join("acks.log");
    // Bounded by the live acks plus the rewrite slack, not by every ack ever made.
    assert!(fs::metadata(&log).unwrap().len() < 12 * (2 * 4096 + 200));
    let seqs = append_n(&mut spool, 0..3, 10);
    spool.ack(seqs[0]).unwrap();
    drop(spool);

    // Damage the log's last entry (the ack of seqs[0]): that record comes back.
    let mut bytes = fs::read(&log).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0xff;
    fs::write(&log, &bytes).unwrap();
    let (spool, replayed) = open_all(dir.path(), small_config()).unwrap();
    let got: Vec<Seq> = replayed.iter().map(|r| r.seq).collect();
    assert_eq!(got, seqs);
    assert_eq!(spool.stats().damaged_acks, 1);
}

#[test]
fn read_pending_goes_a_segment_at_a_time_skipping_acked_and_stopping_at_until() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path(), small_config()).unwrap();
    // ~1 KiB records in 4 KiB segments: three per segment.
    let seqs = append_n(&mut spool, 0..12, 1000);
    assert!(spool.segment_count() >= 4);
    spool.ack(seqs[1]).unwrap();
    let first = spool.read_pending(0, 12).unwrap();
    let got: Vec<Seq> = first.iter().map(|r| r.seq).collect();
    assert_eq!(got, vec![0, 2], "one segment, the acked record skipped");
    assert_eq!(first[1].record.items, 3);
    let next = spool.read_pending(3, 5).unwrap();
    assert_eq!(next.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![3, 4]);
    assert!(spool.read_pending(12, 20).unwrap().is_empty());
    // Reading works on the segment appends still go to.
    let last = spool.read_pending(11, 12).unwrap();
    assert_eq!(last.len(), 1);
}

#[test]
fn a_directory_has_one_spool_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), small_config()).unwrap();
    assert!(matches!(
        Spool::open(dir.path(), small_config()),
        Err(SpoolError::Locked(_))
    ));
    drop(spool);
    Spool::open(dir.path(), small_config()).expect("free once the first is gone");
}
