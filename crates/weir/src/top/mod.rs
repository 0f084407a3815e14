//! `weir top`: a live table of a running weir's components, read from its
//! `/metrics` endpoint: items in and out per second, dropped, queue fill and
//! errors, per component, kind and signal.
//!
//! On a terminal the table is redrawn in place with plain ANSI escapes (cursor
//! home, clear to end of line, clear below): no raw mode, no alternate screen,
//! so Ctrl-C leaves the terminal as it was and the last table on screen, and no
//! TUI crate is needed for one table. Off a terminal, one table per interval is
//! printed, separated by a blank line. `--once` prints one table and exits.

mod parse;
mod render;
mod rows;
mod scrape;

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::exit;
use rows::Snapshot;
use scrape::Endpoint;

/// Runs `weir top`; returns the exit code.
pub fn run(address: &str, interval: Duration, once: bool) -> i32 {
    let endpoint = match Endpoint::parse(address) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("weir top: {e}");
            return exit::USAGE;
        }
    };
    if once {
        return match snapshot_once(&endpoint, interval) {
            Ok(lines) => {
                let mut out = std::io::stdout().lock();
                for l in lines {
                    let _ = writeln!(out, "{l}");
                }
                exit::OK
            }
            Err(e) => {
                eprintln!("weir top: {e}");
                exit::FAILURE
            }
        };
    }
    live(&endpoint, interval)
}

/// Scrapes once.
fn scrape(endpoint: &Endpoint) -> Result<Snapshot, scrape::ScrapeError> {
    let text = scrape::fetch(endpoint)?;
    Ok(Snapshot::new(&parse::parse(&text), Instant::now()))
}

/// Two scrapes `interval` apart, so the table has rates.
fn snapshot_once(endpoint: &Endpoint, interval: Duration) -> Result<Vec<String>, String> {
    let first = scrape(endpoint).map_err(|e| e.to_string())?;
    std::thread::sleep(interval);
    let second = scrape(endpoint).map_err(|e| e.to_string())?;
    Ok(frame(endpoint, Some(&first), &second))
}

fn frame(endpoint: &Endpoint, prev: Option<&Snapshot>, cur: &Snapshot) -> Vec<String> {
    let mut lines = vec![render::header(&endpoint.to_string(), prev, cur)];
    lines.extend(render::table(&rows::table(prev, cur)));
    lines
}

/// Refreshes until interrupted. A failed scrape shows its error in place of
/// the table and is tried again next interval (weir may be restarting).
fn live(endpoint: &Endpoint, interval: Duration) -> i32 {
    let terminal = std::io::stdout().is_terminal();
    let mut prev: Option<Snapshot> = None;
    let mut first = true;
    loop {
        let started = Instant::now();
        let lines = match scrape(endpoint) {
            Ok(cur) => {
                let lines = frame(endpoint, prev.as_ref(), &cur);
                prev = Some(cur);
                lines
            }
            Err(e) => {
                prev = None;
                vec![format!("weir top: {e} (retrying every {interval:?})")]
            }
        };
        let mut out = std::io::stdout().lock();
        let written = if terminal {
            out.write_all(redraw(&lines, first).as_bytes())
        } else {
            let mut text = lines.join("\n");
            text.push_str("\n\n");
            out.write_all(text.as_bytes())
        };
        // stdout closed (e.g. `weir top | head`): nothing more to do.
        if written.and_then(|()| out.flush()).is_err() {
            return exit::OK;
        }
        drop(out);
        first = false;
        std::thread::sleep(interval.saturating_sub(started.elapsed()));
    }
}

/// One frame for a terminal: from the top-left corner, each line clearing
/// what was left of the previous frame's, then everything below cleared.
fn redraw(lines: &[String], first: bool) -> String {
    let mut s = String::new();
    if first {
        s.push_str("\x1b[2J");
    }
    s.push_str("\x1b[H");
    for l in lines {
        s.push_str(l);
        s.push_str("\x1b[K\n");
    }
    s.push_str("\x1b[J");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_frame_redraws_in_place() {
        let lines = ["a".to_string(), "b".to_string()];
        assert_eq!(
            redraw(&lines, true),
            "\x1b[2J\x1b[Ha\x1b[K\nb\x1b[K\n\x1b[J"
        );
        assert_eq!(redraw(&lines, false), "\x1b[Ha\x1b[K\nb\x1b[K\n\x1b[J");
    }
}
