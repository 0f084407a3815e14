//! [`SourceMap`]: where each YAML path of a pipeline file sits in its text.
//!
//! `yaml_serde::Value` forgets positions, so the same text is walked once more with
//! `saphyr-parser`, whose events carry a marker each. Both parsers read the same
//! YAML, so the paths they produce agree for every node we care about.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

use super::Location;

/// A map from dotted YAML path (`receivers.stdin.max_line_bytes`,
/// `service.pipelines.logs.exporters[1]`) to the location of that node. A mapping
/// entry is located at its key (that is where an editor should put the cursor), a
/// sequence item at the item, the document (path `""`) at its first node.
#[derive(Debug, Clone, Default)]
pub(crate) struct SourceMap {
    nodes: HashMap<String, Location>,
    /// Value scalars written quoted: `"${env:PORT}"` stays a string after
    /// expansion, so users can opt out of typed re-reading.
    quoted: HashSet<String>,
}

/// The path of `key` inside the mapping at `parent`. Keys are one segment even if
/// they contain `.` or `/` (`receivers.otlp/edge`).
pub(crate) fn child_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// The path of item `index` inside the sequence at `parent`.
pub(crate) fn child_index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// The path one level up: `a.b[2]` → `a.b` → `a` → ``.
fn parent_of(path: &str) -> &str {
    match path.rfind(['.', '[']) {
        Some(i) => &path[..i],
        None => "",
    }
}

/// Where the walk is inside one open container.
enum Frame {
    /// A mapping; `key` is `None` while a key is expected, else the path of the
    /// entry whose value comes next (`Some(None)`: a key we cannot name, such as a
    /// complex `? [a, b]` key, whose value is then not recorded).
    Map {
        path: Option<String>,
        key: Option<Option<String>>,
        /// Keys seen so far with their locations, to catch a repeated key here
        /// (comparing whole paths could confuse `a: {b: }` with `a.b:`).
        seen: HashMap<String, Location>,
    },
    /// A sequence and the index of its next item.
    Seq { path: Option<String>, next: usize },
}

/// What a node that starts now is, from its parent's point of view.
enum Place {
    /// A mapping key under the mapping at this path.
    Key(Option<String>),
    /// A value node at this path; `record` is false for mapping values, which are
    /// located at their key.
    Node { path: Option<String>, record: bool },
}

impl SourceMap {
    /// Walks `text`; a syntax error comes back with its location and the parser's
    /// message.
    pub(crate) fn build(text: &str) -> Result<SourceMap, (Location, String)> {
        let mut map = SourceMap::default();
        let mut stack: Vec<Frame> = Vec::new();
        let mut documents = 0;
        for item in Parser::new_from_str(text) {
            let (event, span) = item.map_err(scan_error)?;
            let at = Location {
                line: span.start.line(),
                column: span.start.col() + 1,
            };
            let (is_container, scalar) = match &event {
                Event::DocumentStart(_) => {
                    // Only the first document is a pipeline file; yaml_serde rejects
                    // more, and their paths would clash with the first one's.
                    documents += 1;
                    continue;
                }
                _ if documents > 1 => continue,
                Event::Scalar(text, style, ..) => (false, Some((text.as_ref(), *style))),
                Event::Alias(_) => (false, None),
                Event::SequenceStart(..) | Event::MappingStart(..) => (true, None),
                Event::SequenceEnd | Event::MappingEnd => {
                    stack.pop();
                    continue;
                }
                _ => continue,
            };
            let new_frame = |path: Option<String>| match event {
                Event::SequenceStart(..) => Frame::Seq { path, next: 0 },
                _ => Frame::Map {
                    path,
                    key: None,
                    seen: HashMap::new(),
                },
            };
            match map.place(&mut stack) {
                Place::Key(parent) => {
                    let key_path = match (parent, scalar) {
                        (Some(parent), Some((key, _))) => Some(child_key(&parent, key)),
                        _ => None,
                    };
                    if let Some(Frame::Map { key, seen, .. }) = stack.last_mut() {
                        if let Some((text, _)) = scalar {
                            // yaml_serde refuses repeated keys too, but points at
                            // the mapping; the second key is the useful place.
                            if let Some(first) = seen.insert(text.to_string(), at) {
                                let message = format!(
                                    "duplicate key `{text}` (first at line {}, column {})",
                                    first.line, first.column
                                );
                                return Err((at, message));
                            }
                        }
                        *key = Some(key_path.clone());
                    }
                    if let Some(p) = key_path {
                        map.nodes.entry(p).or_insert(at);
                    }
                    if is_container {
                        // A complex key: walk it without recording anything inside.
                        stack.push(new_frame(None));
                    }
                }
                Place::Node { path, record } => {
                    if let Some(p) = &path {
                        if record {
                            map.nodes.entry(p.clone()).or_insert(at);
                        }
                        if scalar.is_some_and(|(_, style)| style != ScalarStyle::Plain) {
                            map.quoted.insert(p.clone());
                        }
                    }
                    if is_container {
                        stack.push(new_frame(path));
                    }
                }
            }
        }
        // An empty document still has a place, so every diagnostic gets one.
        map.nodes
            .entry(String::new())
            .or_insert(Location { line: 1, column: 1 });
        Ok(map)
    }

    /// Decides what a node starting now is, and advances its parent's state.
    fn place(&self, stack: &mut [Frame]) -> Place {
        match stack.last_mut() {
            None => Place::Node {
                path: Some(String::new()),
                record: true,
            },
            Some(Frame::Map { path, key, .. }) => match key.take() {
                None => Place::Key(path.clone()),
                Some(entry) => Place::Node {
                    path: entry,
                    record: false,
                },
            },
            Some(Frame::Seq { path, next }) => {
                let item = path.as_deref().map(|p| child_index(p, *next));
                *next += 1;
                Place::Node {
                    path: item,
                    record: true,
                }
            }
        }
    }

    /// The location of exactly this path, if the file has it.
    pub(crate) fn get(&self, path: &str) -> Option<Location> {
        self.nodes.get(path).copied()
    }

    /// The location of the deepest existing node on `path`: a missing field is
    /// reported at its parent, a path from a factory's error that goes below what
    /// the file spells out (an alias, say) at the closest node that is there.
    pub(crate) fn locate(&self, path: &str) -> Option<Location> {
        let mut p = path;
        loop {
            if let Some(l) = self.get(p) {
                return Some(l);
            }
            if p.is_empty() {
                return None;
            }
            p = parent_of(p);
        }
    }

    /// Whether the scalar at `path` was written in quotes.
    pub(crate) fn is_quoted(&self, path: &str) -> bool {
        self.quoted.contains(path)
    }
}

fn scan_error(e: ScanError) -> (Location, String) {
    let m = e.marker();
    let at = Location {
        line: m.line().max(1),
        column: m.col() + 1,
    };
    (at, e.info().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize) -> Option<Location> {
        Some(Location { line, column })
    }

    const TEXT: &str = "\
receivers:
  otlp/edge:
    protocols:
      grpc: { endpoint: \"0.0.0.0:4317\" }
service:
  pipelines:
    logs:
      exporters: [file, debug]
      receivers:
        - stdin
        - otlp/edge
";

    #[test]
    fn keys_are_located_at_the_key() {
        let m = SourceMap::build(TEXT).unwrap();
        assert_eq!(m.locate("receivers"), at(1, 1));
        assert_eq!(m.locate("receivers.otlp/edge"), at(2, 3));
        assert_eq!(m.locate("receivers.otlp/edge.protocols"), at(3, 5));
        assert_eq!(
            m.locate("receivers.otlp/edge.protocols.grpc.endpoint"),
            at(4, 15)
        );
    }

    #[test]
    fn sequence_items_are_located_at_the_item_in_flow_and_block_style() {
        let m = SourceMap::build(TEXT).unwrap();
        assert_eq!(m.locate("service.pipelines.logs.exporters[0]"), at(8, 19));
        assert_eq!(m.locate("service.pipelines.logs.exporters[1]"), at(8, 25));
        assert_eq!(m.locate("service.pipelines.logs.receivers[1]"), at(11, 11));
    }

    #[test]
    fn missing_paths_fall_back_to_the_deepest_existing_parent() {
        let m = SourceMap::build(TEXT).unwrap();
        assert_eq!(
            m.locate("receivers.otlp/edge.protocols.http.port"),
            at(3, 5)
        );
        assert_eq!(m.locate("service.pipelines.logs.exporters[7]"), at(8, 7));
        assert_eq!(m.locate("nothing.here"), at(1, 1));
        assert_eq!(m.get("nothing"), None);
    }

    #[test]
    fn keys_with_dots_are_one_segment() {
        let m = SourceMap::build("a:\n  k.with.dots:\n    x: 1\n").unwrap();
        assert_eq!(m.get("a.k.with.dots.x"), at(3, 5));
        assert_eq!(m.locate("a.k.with.dots.y"), at(2, 3));
    }

    #[test]
    fn quoted_value_scalars_are_remembered() {
        let m = SourceMap::build("a: \"x\"\nb: x\nc: ['y', z]\n").unwrap();
        assert!(m.is_quoted("a"));
        assert!(!m.is_quoted("b"));
        assert!(m.is_quoted("c[0]"));
        assert!(!m.is_quoted("c[1]"));
    }

    #[test]
    fn complex_keys_do_not_derail_the_walk() {
        let m = SourceMap::build("? [a, b]\n: 1\nnext: 2\n").unwrap();
        assert_eq!(m.get("next"), at(3, 1));
    }

    #[test]
    fn a_repeated_key_is_an_error_at_the_second_one() {
        let (loc, msg) = SourceMap::build("a:\n  b: 1\n  c: 2\n  b: 3\n").unwrap_err();
        assert_eq!(loc, Location { line: 4, column: 3 });
        assert_eq!(msg, "duplicate key `b` (first at line 2, column 3)");
        // Equal paths from different mappings are not repeats.
        assert!(SourceMap::build("a: {b: 1}\na.b: 2\nl: [{x: 1}, {x: 2}]\n").is_ok());
    }

    #[test]
    fn syntax_errors_carry_their_location() {
        let (loc, msg) = SourceMap::build("a:\n  b: [1, 2\nc: 3\n").unwrap_err();
        assert!(loc.line >= 2, "{loc:?} {msg}");
        assert!(!msg.is_empty());
    }
}
