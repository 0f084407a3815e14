//! The blocking side: a thread that only reads raw chunks and hands them over.

use std::io::{self, Read};

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;

/// Most bytes asked for per read. Large reads keep syscalls and channel
/// hand-offs per line low; a pipe usually returns less (its buffer, 64 KiB by
/// default).
pub(super) const READ_SIZE: usize = 256 * 1024;

/// Fewest bytes asked for per read.
const MIN_READ_SIZE: usize = 16 * 1024;

/// Chunks that may wait between the thread and the async side. Small, so a full
/// pipeline stops the reads quickly and memory stays at a few `READ_SIZE`s.
pub(super) const CHANNEL_CAPACITY: usize = 4;

/// What the thread hands over: a chunk of input, or the error that ended it.
/// The channel closing means end of input.
pub(super) type Chunk = io::Result<Bytes>;

/// Starts a thread reading `source` into a channel of [`CHANNEL_CAPACITY`] chunks.
///
/// The thread is detached on purpose: it may sit in a `read` that never returns
/// (an idle terminal), and a detached thread does not keep the process alive.
/// Once the receiving side is dropped, the thread ends after its current read.
pub(super) fn spawn_reader(
    source: Box<dyn Read + Send>,
    name: &str,
) -> io::Result<mpsc::Receiver<Chunk>> {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    // The thread logs in the receiver's span, so its lines name it.
    let span = tracing::Span::current();
    std::thread::Builder::new()
        .name(format!("{name}-reader"))
        .spawn(move || span.in_scope(|| read_loop(source, &tx)))?;
    Ok(rx)
}

fn read_loop(mut source: Box<dyn Read + Send>, tx: &mpsc::Sender<Chunk>) {
    let mut buf = BytesMut::new();
    let mut read_size = MIN_READ_SIZE;
    loop {
        // Once every chunk split off earlier is dropped, `reserve` reuses the
        // same allocation instead of asking for a new one.
        buf.reserve(read_size);
        // Safe code must zero what it reads into; asking for about twice what
        // the last read returned keeps that cost near the size of the data.
        buf.resize(read_size, 0);
        match source.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                buf.truncate(n);
                read_size = (2 * n).clamp(MIN_READ_SIZE, READ_SIZE);
                // Waits while the channel is full: this is the backpressure.
                if tx.blocking_send(Ok(buf.split().freeze())).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
    }
}
