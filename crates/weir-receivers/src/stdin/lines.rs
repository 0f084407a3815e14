//! Splits chunks of input into lines, carrying a partial line from one chunk to
//! the next, and cutting lines longer than the limit without buffering them.

use weir_otlp::logline::trim_partial_utf8;

/// One line, without its `\n` or `\r\n`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Line<'a> {
    /// The line, cut to the limit when it was longer.
    pub bytes: &'a [u8],
    /// The length of the whole line, when it was cut.
    pub original_len: Option<usize>,
}

/// Turns a stream of chunks into lines. A line that fits in one chunk is handed
/// out straight from that chunk; only a line that spans chunks is copied.
#[derive(Debug)]
pub(super) struct LineSplitter {
    max_line_bytes: usize,
    /// The start of a line whose end has not arrived yet (at most the limit).
    carried: Vec<u8>,
    /// Bytes of the carried line past the limit, counted but not kept.
    skipped: usize,
    /// Whether the last skipped byte was `\r` (it is not part of the line).
    skipped_ends_with_cr: bool,
    /// The carried line was handed out and must be cleared before the next one.
    carried_handed_out: bool,
}

impl LineSplitter {
    /// A splitter cutting lines at `max_line_bytes` (at least 1).
    pub fn new(max_line_bytes: usize) -> Self {
        LineSplitter {
            max_line_bytes: max_line_bytes.max(1),
            carried: Vec::new(),
            skipped: 0,
            skipped_ends_with_cr: false,
            carried_handed_out: false,
        }
    }

    /// The next complete, non-empty line of `chunk` from `*pos` on, advancing
    /// `*pos`. At the end of the chunk, keeps the unfinished rest and gives `None`.
    pub fn next_line<'a>(&'a mut self, chunk: &'a [u8], pos: &mut usize) -> Option<Line<'a>> {
        self.clear_handed_out();
        loop {
            let rest = &chunk[*pos..];
            if rest.is_empty() {
                return None;
            }
            let Some(end) = memchr::memchr(b'\n', rest) else {
                self.carry(rest);
                *pos = chunk.len();
                return None;
            };
            *pos += end + 1;
            let segment = &rest[..end];
            if self.carried.is_empty() && self.skipped == 0 {
                // The whole line is in this chunk: no copy.
                let content_len = segment.len() - usize::from(segment.ends_with(b"\r"));
                if content_len == 0 {
                    continue;
                }
                return Some(cut_line(segment, content_len, self.max_line_bytes));
            }
            self.carry(segment);
            // Decided before borrowing `carried`, so the loop may go on using self.
            let content_len = self.carried_content_len();
            self.carried_handed_out = true;
            if content_len == 0 {
                self.clear_handed_out();
                continue;
            }
            return Some(cut_line(&self.carried, content_len, self.max_line_bytes));
        }
    }

    /// The unfinished last line at the end of input (or at shutdown), if any.
    pub fn finish(&mut self) -> Option<Line<'_>> {
        self.clear_handed_out();
        let content_len = self.carried_content_len();
        self.carried_handed_out = true;
        if content_len == 0 {
            return None;
        }
        Some(cut_line(&self.carried, content_len, self.max_line_bytes))
    }

    fn clear_handed_out(&mut self) {
        if self.carried_handed_out {
            self.carried.clear();
            self.skipped = 0;
            self.skipped_ends_with_cr = false;
            self.carried_handed_out = false;
        }
    }

    /// Appends to the carried line; past the limit only counts the bytes.
    fn carry(&mut self, bytes: &[u8]) {
        let room = self.max_line_bytes.saturating_sub(self.carried.len());
        let kept = room.min(bytes.len());
        self.carried.extend_from_slice(&bytes[..kept]);
        if kept < bytes.len() {
            self.skipped += bytes.len() - kept;
            self.skipped_ends_with_cr = bytes.ends_with(b"\r");
        }
    }

    /// Length of the carried line without its final `\r`, skipped bytes included.
    fn carried_content_len(&self) -> usize {
        let ends_with_cr = if self.skipped > 0 {
            self.skipped_ends_with_cr
        } else {
            self.carried.ends_with(b"\r")
        };
        self.carried.len() + self.skipped - usize::from(ends_with_cr)
    }
}

/// `kept` holds the start of a line of `content_len` bytes (not counting a
/// final `\r`): the line itself when it fits, else its first `max` bytes cut
/// back to a UTF-8 boundary. A cut line may end anywhere in `kept`, which holds
/// at least `max` bytes then.
fn cut_line(kept: &[u8], content_len: usize, max: usize) -> Line<'_> {
    if content_len <= max {
        Line {
            bytes: &kept[..content_len],
            original_len: None,
        }
    } else {
        Line {
            bytes: trim_partial_utf8(&kept[..max]),
            original_len: Some(content_len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks` and collects (line, original length) pairs.
    fn split(max: usize, chunks: &[&[u8]]) -> Vec<(String, Option<usize>)> {
        let mut splitter = LineSplitter::new(max);
        let mut out = Vec::new();
        let mut push = |l: Line<'_>| {
            out.push((
                String::from_utf8_lossy(l.bytes).into_owned(),
                l.original_len,
            ));
        };
        for chunk in chunks {
            let mut pos = 0;
            while let Some(line) = splitter.next_line(chunk, &mut pos) {
                push(line);
            }
        }
        if let Some(line) = splitter.finish() {
            push(line);
        }
        out
    }

    fn whole(lines: &[&str]) -> Vec<(String, Option<usize>)> {
        lines.iter().map(|l| (l.to_string(), None)).collect()
    }

    #[test]
    fn lines_across_chunks_crlf_and_no_final_newline() {
        let got = split(100, &[b"one\r\ntw", b"o\n\n\r\nthr", b"ee"]);
        assert_eq!(got, whole(&["one", "two", "three"]));
        let got = split(100, &[b"a\r", b"\nb\n"]);
        assert_eq!(got, whole(&["a", "b"]));
    }

    #[test]
    fn long_lines_are_cut_and_their_length_counted() {
        // In one chunk.
        assert_eq!(
            split(4, &[b"abcdefgh\nok\n"]),
            vec![("abcd".into(), Some(8)), ("ok".into(), None)]
        );
        // Across chunks, with the rest skipped over several chunks.
        assert_eq!(
            split(4, &[b"ab", b"cdef", b"ghij", b"k\r\nxy"]),
            vec![("abcd".into(), Some(11)), ("xy".into(), None)]
        );
        // Exactly at the limit, with CRLF: not cut.
        assert_eq!(split(4, &[b"abcd\r\n"]), whole(&["abcd"]));
        assert_eq!(split(4, &[b"ab", b"cd\r", b"\n"]), whole(&["abcd"]));
        // Unfinished long last line.
        assert_eq!(split(3, &[b"abcdef"]), vec![("abc".into(), Some(6))]);
    }

    #[test]
    fn cuts_fall_on_utf8_boundaries() {
        // "é" is two bytes: a cut at 2 would split it.
        let got = split(2, &["aé\n".as_bytes()]);
        assert_eq!(got, vec![("a".into(), Some(3))]);
        let got = split(2, &[b"a", "é".as_bytes(), b"zz\n"]);
        assert_eq!(got, vec![("a".into(), Some(5))]);
    }
}
