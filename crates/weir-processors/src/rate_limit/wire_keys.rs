//! Keys read from a batch's received bytes, so that a batch of one key passes
//! without being decoded (the OTLP receiver's batches are bytes).

use std::borrow::Cow;
use std::ops::Range;

use weir_core::Signal;
use weir_otlp::splice::Layout;
use weir_otlp::splice::attrs::attributes;
use weir_otlp::splice::read::Malformed;

/// The first attribute `name` among the attributes (field `field`) of the
/// message `buf[body]`, as a key.
fn find<'a>(
    buf: &'a [u8],
    body: Range<usize>,
    field: u32,
    name: &str,
) -> Result<Option<Cow<'a, str>>, Malformed> {
    for a in attributes(buf, body, field) {
        let a = a?;
        if a.key_bytes == name.as_bytes() {
            return Ok(super::keys::key_text(a.value()));
        }
    }
    Ok(None)
}

/// Folds `keys` into the one they all share; `None` when they differ.
fn one<'a>(
    keys: impl Iterator<Item = Result<Option<Cow<'a, str>>, Malformed>>,
) -> Result<Option<Option<Cow<'a, str>>>, Malformed> {
    let mut first: Option<Option<Cow<'a, str>>> = None;
    for key in keys {
        let key = key?;
        match &first {
            None => first = Some(key),
            Some(f) if *f != key => return Ok(None),
            Some(_) => {}
        }
    }
    Ok(Some(first.flatten()))
}

/// As `keys::whole` for a resource attribute key.
pub(super) fn whole_by_resource<'a>(
    bytes: &'a [u8],
    name: &str,
) -> Result<Option<Option<Cow<'a, str>>>, Malformed> {
    let layout = Layout::of(bytes)?;
    one(layout.resources.iter().map(|r| match &r.resource {
        Some(body) => find(bytes, body.clone(), 1, name),
        None => Ok(None),
    }))
}

/// As `keys::whole` for a record attribute key.
pub(super) fn whole_by_record<'a>(
    bytes: &'a [u8],
    signal: Signal,
    name: &str,
) -> Result<Option<Option<Cow<'a, str>>>, Malformed> {
    let field = match signal {
        Signal::Logs => 6,
        Signal::Traces => 9,
        Signal::Metrics => return Err(Malformed { at: 0 }),
    };
    let layout = Layout::of(bytes)?;
    one(layout
        .units
        .iter()
        .map(|u| find(bytes, u.clone(), field, name)))
}
