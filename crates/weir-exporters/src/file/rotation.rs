//! Backup naming and pruning: `out.json.gz` is rotated to
//! `out-20261126T101500.123-3.json.gz` (UTC time, then a sequence number), and
//! backups beyond `max_backups` are deleted oldest first.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::utc::UtcTime;

/// Names, finds and prunes the backups of one active file.
#[derive(Debug, Clone)]
pub(super) struct Backups {
    /// The folder of the active file (and its backups).
    dir: PathBuf,
    /// The file name up to its first dot: `out` of `out.json.gz`.
    stem: String,
    /// Everything after the first dot, kept whole: `json.gz`.
    extension: Option<String>,
    /// Backups kept; 0 keeps all.
    max_backups: usize,
    /// Sequence number of the next backup. Continues after the highest one found
    /// on disk, so a restarted weir does not reuse numbers.
    next_seq: u64,
}

/// A backup found on disk, ordered by time then sequence number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Backup {
    stamp: String,
    seq: u64,
    path: PathBuf,
}

impl Backups {
    /// Backups of `active` (a path with a UTF-8 file name; configs only give those).
    pub fn new(active: &Path, max_backups: usize) -> Self {
        let name = active
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A leading dot belongs to the stem: `.weir.json` rotates to `.weir-...json`.
        let (stem, extension) = match name.get(1..).and_then(|rest| rest.find('.')) {
            Some(i) => (name[..=i].to_string(), Some(name[i + 2..].to_string())),
            None => (name, None),
        };
        let dir = match active.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Backups {
            dir,
            stem,
            extension,
            max_backups,
            next_seq: 1,
        }
    }

    /// Looks at the backups already on disk so numbering continues after them.
    pub fn resume_numbering(&mut self) -> io::Result<()> {
        if let Some(last) = self.list()?.last() {
            self.next_seq = self.next_seq.max(last.seq + 1);
        }
        Ok(())
    }

    /// The path for the next backup, taken at `now`.
    pub fn next_path(&mut self, now: UtcTime) -> PathBuf {
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut name = format!("{}-{}-{seq}", self.stem, now.compact_millis());
        if let Some(ext) = &self.extension {
            name.push('.');
            name.push_str(ext);
        }
        self.dir.join(name)
    }

    /// Deletes the oldest backups beyond `max_backups`; returns the paths deleted.
    pub fn prune(&self) -> io::Result<Vec<PathBuf>> {
        if self.max_backups == 0 {
            return Ok(Vec::new());
        }
        let backups = self.list()?;
        let excess = backups.len().saturating_sub(self.max_backups);
        let mut deleted = Vec::with_capacity(excess);
        for old in backups.into_iter().take(excess) {
            match fs::remove_file(&old.path) {
                Ok(()) => deleted.push(old.path),
                // Someone else removed it: the goal is met.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(deleted)
    }

    /// Backups on disk, oldest first.
    fn list(&self) -> io::Result<Vec<Backup>> {
        let mut found = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            if let Some(name) = entry.file_name().to_str()
                && let Some((stamp, seq)) = self.parse(name)
            {
                found.push(Backup {
                    stamp: stamp.to_string(),
                    seq,
                    path: entry.path(),
                });
            }
        }
        found.sort();
        Ok(found)
    }

    /// The stamp and sequence number of a backup's file name; `None` for any
    /// other file. The stamp's shape is checked exactly, so `out-x.json` (a
    /// different stem) is never taken for a backup of `out.json`.
    fn parse<'n>(&self, name: &'n str) -> Option<(&'n str, u64)> {
        let rest = name.strip_prefix(self.stem.as_str())?.strip_prefix('-')?;
        let middle = match &self.extension {
            Some(ext) => rest.strip_suffix(ext.as_str())?.strip_suffix('.')?,
            None => rest,
        };
        let (stamp, seq) = middle.split_once('-')?;
        let shape_ok = stamp.len() == 19
            && stamp.bytes().enumerate().all(|(i, b)| match i {
                8 => b == b'T',
                15 => b == b'.',
                _ => b.is_ascii_digit(),
            });
        let seq = seq.parse().ok().filter(|_| shape_ok)?;
        Some((stamp, seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> UtcTime {
        UtcTime::from_unix_nanos((1_795_688_100_000 + ms) * 1_000_000)
    }

    #[test]
    fn names_keep_the_whole_extension() {
        let mut b = Backups::new(Path::new("/var/x/out.json.gz"), 3);
        assert_eq!(
            b.next_path(at(123)),
            PathBuf::from("/var/x/out-20261126T101500.123-1.json.gz")
        );
        assert_eq!(
            b.next_path(at(124)),
            PathBuf::from("/var/x/out-20261126T101500.124-2.json.gz")
        );
        let mut b = Backups::new(Path::new("plain"), 3);
        assert_eq!(
            b.next_path(at(0)),
            PathBuf::from("./plain-20261126T101500.000-1")
        );
        let mut b = Backups::new(Path::new(".hidden.pb"), 3);
        assert_eq!(
            b.next_path(at(0)),
            PathBuf::from("./.hidden-20261126T101500.000-1.pb")
        );
    }

    #[test]
    fn parse_accepts_only_backups_of_this_file() {
        let b = Backups::new(Path::new("my-app.json"), 3);
        assert_eq!(
            b.parse("my-app-20261126T101500.123-12.json"),
            Some(("20261126T101500.123", 12))
        );
        assert_eq!(b.parse("my-app.json"), None);
        assert_eq!(b.parse("my-app-x-20261126T101500.123-1.json"), None);
        assert_eq!(b.parse("my-app-20261126T101500.123-1.json.gz"), None);
        assert_eq!(b.parse("my-app-20261126T101500.123-.json"), None);
        assert_eq!(b.parse("my-app-2026112XT101500.123-1.json"), None);
    }

    #[test]
    fn prune_deletes_oldest_first_and_numbering_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let active = dir.path().join("out.json");
        let mut b = Backups::new(&active, 2);
        let paths: Vec<_> = (0..4).map(|i| b.next_path(at(i))).collect();
        for p in &paths {
            fs::write(p, "x").unwrap();
        }
        fs::write(dir.path().join("other.json"), "x").unwrap();
        let deleted = b.prune().unwrap();
        assert_eq!(deleted, paths[..2].to_vec());
        assert!(paths[2].exists() && paths[3].exists());
        assert!(dir.path().join("other.json").exists());

        let mut resumed = Backups::new(&active, 2);
        resumed.resume_numbering().unwrap();
        let next = resumed.next_path(at(9));
        assert!(
            next.to_string_lossy().ends_with("-5.json"),
            "{}",
            next.display()
        );
        assert!(Backups::new(&active, 0).prune().unwrap().is_empty());
    }
}
