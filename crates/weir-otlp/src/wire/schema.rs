//! The OTLP schema as walkers, one per message (field numbers from
//! opentelemetry-proto's `.proto` files). Reserved and unknown numbers fall to
//! `skip`; every known number checks its wire type.

use weir_core::Signal;

use super::cursor::{At, Cur, R};
use super::metrics::metric;
use super::{WireError, WireSummary};

pub(super) fn request(signal: Signal, bytes: &[u8]) -> Result<WireSummary, WireError> {
    walk_request(signal, bytes).map_err(|e| *e)
}

fn walk_request(signal: Signal, bytes: &[u8]) -> R<WireSummary> {
    let (name, resource_name) = match signal {
        Signal::Logs => ("ExportLogsServiceRequest", "ResourceLogs"),
        Signal::Traces => ("ExportTraceServiceRequest", "ResourceSpans"),
        Signal::Metrics => ("ExportMetricsServiceRequest", "ResourceMetrics"),
    };
    let (mut c, end) = (Cur::new(bytes), bytes.len());
    let mut sum = WireSummary::default();
    while c.pos < end {
        let (f, wt) = c.key(end, name)?;
        let at = At(name, f);
        match f {
            1 => {
                sum.items += match signal {
                    Signal::Logs => c.message(wt, end, at, |c, end| {
                        resource_level(c, end, resource_name, |c, end| {
                            scope_level(c, end, "ScopeLogs", log_record)
                        })
                    })?,
                    Signal::Traces => c.message(wt, end, at, |c, end| {
                        resource_level(c, end, resource_name, |c, end| {
                            scope_level(c, end, "ScopeSpans", span)
                        })
                    })?,
                    Signal::Metrics => c.message(wt, end, at, |c, end| {
                        resource_level(c, end, resource_name, |c, end| {
                            scope_level(c, end, "ScopeMetrics", metric)
                        })
                    })?,
                };
                sum.resources += 1;
            }
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(sum)
}

/// `Resource{Logs,Spans,Metrics}`: resource = 1, scope_* = 2, schema_url = 3.
#[inline(always)]
fn resource_level(
    c: &mut Cur<'_>,
    end: usize,
    name: &'static str,
    scope: impl Fn(&mut Cur<'_>, usize) -> R<usize> + Copy,
) -> R<usize> {
    let mut items = 0;
    while c.pos < end {
        let (f, wt) = c.key(end, name)?;
        let at = At(name, f);
        match f {
            1 => c.message(wt, end, at, resource)?,
            2 => items += c.message(wt, end, at, scope)?,
            3 => c.string(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(items)
}

/// `Scope{Logs,Spans,Metrics}`: scope = 1, items = 2, schema_url = 3.
#[inline(always)]
fn scope_level(
    c: &mut Cur<'_>,
    end: usize,
    name: &'static str,
    item: impl Fn(&mut Cur<'_>, usize) -> R<usize> + Copy,
) -> R<usize> {
    let mut items = 0;
    while c.pos < end {
        let (f, wt) = c.key(end, name)?;
        let at = At(name, f);
        match f {
            1 => c.message(wt, end, at, scope)?,
            2 => items += c.message(wt, end, at, item)?,
            3 => c.string(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(items)
}

fn resource(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "Resource";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            1 => c.message(wt, end, at, key_value)?,
            2 => c.varint(wt, end, at)?,
            3 => c.message(wt, end, at, entity_ref)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}

fn entity_ref(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "EntityRef";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            1..=4 => c.string(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}

fn scope(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "InstrumentationScope";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            1 | 2 => c.string(wt, end, at)?,
            3 => c.message(wt, end, at, key_value)?,
            4 => c.varint(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}

/// `KeyValue`: key = 1, value = 2, key_strindex = 3.
#[inline]
pub(super) fn key_value(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "KeyValue";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            1 => c.string(wt, end, at)?,
            2 => c.message(wt, end, at, any_value)?,
            3 => c.varint(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}

/// `AnyValue`: string = 1, bool = 2, int = 3, double = 4, array = 5, kvlist = 6,
/// bytes = 7, string_strindex = 8. Recursion is bounded by the cursor's depth.
fn any_value(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "AnyValue";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            1 => c.string(wt, end, at)?,
            2 | 3 | 8 => c.varint(wt, end, at)?,
            4 => c.fixed64(wt, end, at)?,
            5 => c.message(wt, end, at, array_value)?,
            6 => c.message(wt, end, at, key_value_list)?,
            7 => c.bytes(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}

fn array_value(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "ArrayValue";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            1 => c.message(wt, end, at, any_value)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}

fn key_value_list(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "KeyValueList";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            1 => c.message(wt, end, at, key_value)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}

fn log_record(c: &mut Cur<'_>, end: usize) -> R<usize> {
    const M: &str = "LogRecord";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            1 | 11 => c.fixed64(wt, end, at)?,
            2 | 7 => c.varint(wt, end, at)?,
            3 | 12 => c.string(wt, end, at)?,
            5 => c.message(wt, end, at, any_value)?,
            6 => c.message(wt, end, at, key_value)?,
            8 => c.fixed32(wt, end, at)?,
            9 | 10 => c.bytes(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(1)
}

fn span(c: &mut Cur<'_>, end: usize) -> R<usize> {
    const M: &str = "Span";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            1 | 2 | 4 => c.bytes(wt, end, at)?,
            3 | 5 => c.string(wt, end, at)?,
            6 | 10 | 12 | 14 => c.varint(wt, end, at)?,
            7 | 8 => c.fixed64(wt, end, at)?,
            9 => c.message(wt, end, at, key_value)?,
            11 => c.message(wt, end, at, event)?,
            13 => c.message(wt, end, at, link)?,
            15 => c.message(wt, end, at, status)?,
            16 => c.fixed32(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(1)
}

fn event(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "Span.Event";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            1 => c.fixed64(wt, end, at)?,
            2 => c.string(wt, end, at)?,
            3 => c.message(wt, end, at, key_value)?,
            4 => c.varint(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}

fn link(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "Span.Link";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            1 | 2 => c.bytes(wt, end, at)?,
            3 => c.string(wt, end, at)?,
            4 => c.message(wt, end, at, key_value)?,
            5 => c.varint(wt, end, at)?,
            6 => c.fixed32(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}

fn status(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "Status";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            2 => c.string(wt, end, at)?,
            3 => c.varint(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}
