//! Level names and numbers onto OTLP severity numbers.

/// Level names (case-insensitive) and their OTLP severity numbers. Beside the
/// OTLP names this takes the usual spellings of common loggers and syslog.
const NAMES: &[(&str, i32)] = &[
    ("trace", 1),
    ("debug", 5),
    ("info", 9),
    ("warn", 13),
    ("error", 17),
    ("fatal", 21),
    ("warning", 13),
    ("critical", 21),
    ("panic", 21),
    ("dbg", 5),
    ("information", 9),
    ("informational", 9),
    ("notice", 10),
    ("err", 17),
    ("crit", 21),
    ("alert", 22),
    ("emerg", 23),
    ("emergency", 23),
];

/// The OTLP severity number (1-24) for a level: a name from trace, debug, info,
/// warn/warning, error, fatal/critical/panic (any case, plus common spellings such
/// as `err`, `notice`, `crit`), an OTLP short name with a step (`INFO2`, `WARN4`),
/// or a number 1-24 written as text. `None` for anything else.
pub fn severity_number(level: &str) -> Option<i32> {
    let level = level.trim();
    if let Some(n) = level.parse::<i32>().ok().filter(|n| (1..=24).contains(n)) {
        return Some(n);
    }
    if let Some(n) = lookup(level) {
        return Some(n);
    }
    // OTLP short names carry a step 2-4: `DEBUG3` is 5 + 2. The last byte is
    // checked to be ASCII first, so the slice below is on a char boundary.
    let step = match level.as_bytes().last()? {
        b'2' => 1,
        b'3' => 2,
        b'4' => 3,
        _ => return None,
    };
    let name = &level[..level.len() - 1];
    let base = lookup(name).filter(|_| is_otlp_short_name(name))?;
    Some(base + step)
}

fn lookup(name: &str) -> Option<i32> {
    NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, number)| *number)
}

fn is_otlp_short_name(name: &str) -> bool {
    NAMES[..6].iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}
