//! stderr shared by log lines and the one-line progress display of a stdin
//! batch run: a log line first wipes the progress line, and the progress line
//! is drawn again under it, so the two never mix on a terminal.

use std::io::Write;
use std::sync::Mutex;

use tracing_subscriber::fmt::MakeWriter;

/// The progress line on screen now (drawn without a newline), if any.
static STATUS: Mutex<Option<String>> = Mutex::new(None);

fn lock() -> std::sync::MutexGuard<'static, Option<String>> {
    STATUS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Draws `line` as the status line (replacing the one before).
pub fn set_status(line: &str) {
    let mut status = lock();
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r{line}\x1b[K");
    let _ = err.flush();
    *status = Some(line.to_string());
}

/// Wipes the status line, if one is drawn.
pub fn clear_status() {
    let mut status = lock();
    if status.take().is_some() {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K");
        let _ = err.flush();
    }
}

/// The log writer: whole lines to stderr, around the status line.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let status = lock();
        let mut err = std::io::stderr().lock();
        match status.as_deref() {
            None => err.write_all(buf)?,
            Some(line) => {
                err.write_all(b"\r\x1b[K")?;
                err.write_all(buf)?;
                write!(err, "\r{line}\x1b[K")?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;
    fn make_writer(&'a self) -> LogWriter {
        LogWriter
    }
}
