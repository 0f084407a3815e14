//! [`FileWriter`]: the blocking side of the `file` exporter. It owns the active
//! file, encodes batches into one reused buffer, rotates and flushes. The exporter
//! calls it from the blocking thread pool only.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use weir_core::{Batch, ExportError};

use super::config::{FileCompression, FileExporterConfig, FileFormat};
use super::rotation::Backups;
use crate::utc::UtcTime;

/// Writes reach the OS in chunks of this size (bigger writes go straight through).
const WRITE_BUFFER_BYTES: usize = 256 * 1024;

/// The encode buffer is kept between batches, but not beyond this capacity: one
/// huge batch should not pin its memory for the life of the process.
const MAX_KEPT_ENCODE_BUFFER: usize = 4 * 1024 * 1024;

/// Counts the bytes that go to the file, i.e. after compression.
struct CountingWriter<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

type FileSink = CountingWriter<BufWriter<File>>;

/// The open active file, plain or as a gzip stream (boxed: the compressor's
/// state is large, and this is allocated once per file).
enum ActiveFile {
    Plain(FileSink),
    Gzip(Box<GzEncoder<FileSink>>),
}

impl ActiveFile {
    fn new(file: File, existing_len: u64, compression: FileCompression) -> Self {
        let sink = CountingWriter {
            inner: BufWriter::with_capacity(WRITE_BUFFER_BYTES, file),
            written: existing_len,
        };
        match compression {
            FileCompression::None => ActiveFile::Plain(sink),
            // Level 1: gzip-6 costs ~7x the CPU for a little more ratio (DESIGN.md §3).
            FileCompression::Gzip => {
                ActiveFile::Gzip(Box::new(GzEncoder::new(sink, Compression::fast())))
            }
        }
    }

    fn writer(&mut self) -> &mut dyn Write {
        match self {
            ActiveFile::Plain(w) => w,
            ActiveFile::Gzip(w) => w.as_mut(),
        }
    }

    /// Bytes in the file, counting those still in our write buffer (not those the
    /// compressor holds, which it has not turned into output yet).
    fn len(&self) -> u64 {
        match self {
            ActiveFile::Plain(w) => w.written,
            ActiveFile::Gzip(w) => w.get_ref().written,
        }
    }

    /// Ends the gzip stream (if any) and pushes every byte to the file.
    fn finish(self) -> io::Result<()> {
        let mut sink = match self {
            ActiveFile::Plain(w) => w,
            ActiveFile::Gzip(w) => w.finish()?,
        };
        sink.flush()
    }
}

/// The state behind a `file` exporter: the active file (opened on first write),
/// its backups, and the encode buffer.
pub(super) struct FileWriter {
    path: PathBuf,
    format: FileFormat,
    compression: FileCompression,
    max_bytes: u64,
    backups: Backups,
    active: Option<ActiveFile>,
    /// Whether the active file has data not yet flushed.
    dirty: bool,
    /// Whether backups on disk were looked at (done once, at the first open).
    resumed: bool,
    encode_buf: Vec<u8>,
}

impl FileWriter {
    /// A writer for `config`. Does no I/O: the file is opened on the first write.
    pub fn new(config: &FileExporterConfig) -> Self {
        FileWriter {
            path: config.path.clone(),
            format: config.format,
            compression: config.compression,
            max_bytes: config.rotation.max_bytes.bytes(),
            backups: Backups::new(&config.path, config.rotation.max_backups),
            active: None,
            dirty: false,
            resumed: false,
            encode_buf: Vec::new(),
        }
    }

    /// Appends one batch: a JSON line or a proto frame. Rotates afterwards when the
    /// file has reached `max_bytes`, so a file always ends on a whole batch.
    pub fn write_batch(&mut self, batch: &Batch) -> Result<(), ExportError> {
        self.encode_buf.clear();
        let proto;
        let parts: [&[u8]; 2] = match self.format {
            FileFormat::Json => {
                let data = batch
                    .data()
                    .map_err(|e| ExportError::permanent("decode", e.to_string()))?;
                weir_otlp::json::encode(data, &mut self.encode_buf);
                self.encode_buf.push(b'\n');
                [&self.encode_buf, &[]]
            }
            FileFormat::Proto => {
                // The bytes a receiver got, unless a processor changed the records.
                proto = batch.to_protobuf();
                let len = u32::try_from(proto.len()).map_err(|_| {
                    ExportError::permanent(
                        "too_large",
                        format!("a {} byte batch does not fit a proto frame", proto.len()),
                    )
                })?;
                self.encode_buf.extend_from_slice(&len.to_be_bytes());
                [&self.encode_buf, &proto]
            }
        };
        let file = open_active(
            &mut self.active,
            &mut self.backups,
            &mut self.resumed,
            &self.path,
            self.compression,
        )?;
        let written = parts.iter().try_for_each(|p| file.writer().write_all(p));
        self.dirty = true;
        if self.encode_buf.capacity() > MAX_KEPT_ENCODE_BUFFER {
            self.encode_buf = Vec::new();
        }
        if let Err(e) = written {
            // The file may hold part of the batch; start afresh on the next try.
            self.active = None;
            return Err(io_error("cannot write", &self.path, &e));
        }
        if self.max_bytes > 0 && file.len() >= self.max_bytes {
            self.rotate();
        }
        Ok(())
    }

    /// Pushes buffered data to the file (and a gzip sync point, so a reader of
    /// the live file sees every record written so far).
    pub fn flush(&mut self) -> Result<(), ExportError> {
        let Some(file) = self.active.as_mut().filter(|_| self.dirty) else {
            return Ok(());
        };
        if let Err(e) = file.writer().flush() {
            self.active = None;
            return Err(io_error("cannot write", &self.path, &e));
        }
        self.dirty = false;
        Ok(())
    }

    /// Ends the gzip stream and closes the file. A later write opens it again
    /// (appending; with gzip that starts a second gzip member, which `gzip -dc`
    /// and every gzip reader handle).
    pub fn close(&mut self) -> Result<(), ExportError> {
        self.dirty = false;
        match self.active.take() {
            Some(file) => file
                .finish()
                .map_err(|e| io_error("cannot write", &self.path, &e)),
            None => Ok(()),
        }
    }

    /// Closes the active file, renames it to a backup and prunes old backups.
    /// The batch that filled the file is written already, so a failure here must
    /// not fail the export (a retry would write it twice): it is logged, and the
    /// next batch tries again.
    fn rotate(&mut self) {
        if let Err(e) = self.close() {
            tracing::warn!(error = %e, "cannot finish file before rotating it");
            return;
        }
        let backup = self.backups.next_path(UtcTime::now());
        if let Err(e) = fs::rename(&self.path, &backup) {
            tracing::warn!(
                path = %self.path.display(),
                backup = %backup.display(),
                error = %e,
                "cannot rotate file; will try again after the next batch"
            );
            return;
        }
        match self.backups.prune() {
            Ok(deleted) => {
                for path in deleted {
                    tracing::debug!(path = %path.display(), "deleted old backup");
                }
            }
            Err(e) => tracing::warn!(
                path = %self.path.display(),
                error = %e,
                "cannot delete old backups"
            ),
        }
    }
}

/// The active file, opened (folders created, existing file appended to) if it is
/// not open yet. A free function so the caller can keep borrowing its buffer.
fn open_active<'a>(
    active: &'a mut Option<ActiveFile>,
    backups: &mut Backups,
    resumed: &mut bool,
    path: &Path,
    compression: FileCompression,
) -> Result<&'a mut ActiveFile, ExportError> {
    if let Some(file) = active {
        return Ok(file);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| io_error("cannot create folder", parent, &e))?;
    }
    if !*resumed {
        // Missing permission to list the folder only costs the numbering.
        if let Err(e) = backups.resume_numbering() {
            tracing::warn!(path = %path.display(), error = %e, "cannot list old backups");
        }
        *resumed = true;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| io_error("cannot open", path, &e))?;
    let existing_len = file
        .metadata()
        .map_err(|e| io_error("cannot open", path, &e))?
        .len();
    Ok(active.insert(ActiveFile::new(file, existing_len, compression)))
}

/// `cannot open /var/x/out.json: Permission denied (os error 13)`, retryable: a
/// full disk or a missing mount may well come back.
fn io_error(what: &str, path: &Path, e: &io::Error) -> ExportError {
    ExportError::retryable("io", format!("{what} {}: {e}", path.display()))
}
