//! The OTLP schema as walkers, one per message (field numbers from
//! opentelemetry-proto's `.proto` files). Reserved and unknown numbers fall to
//! `skip`; every known number checks its wire type.

use weir_core::Signal;

use super::cursor::{At, Cur, R};
use super::metrics::metric;
use super::{WireError, WireSummary};
use crate::validate::{log_ids_problem, span_ids_problem};

/// Items under a node of the request tree, and how many of them are invalid.
#[derive(Clone, Copy, Default)]
pub(super) struct Tally {
    items: usize,
    invalid: usize,
    first_invalid: Option<&'static str>,
}

impl Tally {
    /// One item, invalid for `problem` if there is one.
    #[inline(always)]
    fn item(problem: Option<&'static str>) -> Tally {
        Tally {
            items: 1,
            invalid: usize::from(problem.is_some()),
            first_invalid: problem,
        }
    }

    /// `n` data points (they have no item-level check).
    #[inline(always)]
    fn points(n: usize) -> Tally {
        Tally {
            items: n,
            ..Tally::default()
        }
    }

    #[inline(always)]
    fn add(&mut self, other: Tally) {
        self.items += other.items;
        self.invalid += other.invalid;
        if self.first_invalid.is_none() {
            self.first_invalid = other.first_invalid;
        }
    }
}

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
                let tally = match signal {
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
                            scope_level(c, end, "ScopeMetrics", |c, end| {
                                metric(c, end).map(Tally::points)
                            })
                        })
                    })?,
                };
                sum.items += tally.items;
                sum.invalid_items += tally.invalid;
                if sum.first_invalid.is_none() {
                    sum.first_invalid = tally.first_invalid;
                }
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
    scope: impl Fn(&mut Cur<'_>, usize) -> R<Tally> + Copy,
) -> R<Tally> {
    let mut items = Tally::default();
    while c.pos < end {
        let (f, wt) = c.key(end, name)?;
        let at = At(name, f);
        match f {
            1 => c.message(wt, end, at, resource)?,
            2 => items.add(c.message(wt, end, at, scope)?),
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
    item: impl Fn(&mut Cur<'_>, usize) -> R<Tally> + Copy,
) -> R<Tally> {
    let mut items = Tally::default();
    while c.pos < end {
        let (f, wt) = c.key(end, name)?;
        let at = At(name, f);
        match f {
            1 => c.message(wt, end, at, scope)?,
            2 => items.add(c.message(wt, end, at, item)?),
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

fn log_record(c: &mut Cur<'_>, end: usize) -> R<Tally> {
    const M: &str = "LogRecord";
    // A repeated `bytes` field is legal protobuf; prost keeps the last one.
    let (mut trace_id, mut span_id) = (0, 0);
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
            9 => trace_id = c.bytes_len(wt, end, at)?,
            10 => span_id = c.bytes_len(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(Tally::item(log_ids_problem(trace_id, span_id)))
}

fn span(c: &mut Cur<'_>, end: usize) -> R<Tally> {
    const M: &str = "Span";
    let (mut trace_id, mut span_id, mut parent) = (0, 0, 0);
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            1 => trace_id = c.bytes_len(wt, end, at)?,
            2 => span_id = c.bytes_len(wt, end, at)?,
            4 => parent = c.bytes_len(wt, end, at)?,
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
    Ok(Tally::item(span_ids_problem(trace_id, span_id, parent)))
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
