//! Where the resources, scopes and units of an encoded export request are.
//!
//! All three signals share one shape at the top (OTLP's `Resource*`/`Scope*`
//! messages): the request's field 1 holds resource groups; a resource group's
//! field 2 holds scope groups and its other fields (the resource, the schema
//! URL) are its header; a scope group's field 2 holds the units (log records,
//! spans or metrics) and its other fields (the scope, the schema URL) are its
//! header. One walk over those three levels finds everything; unit bodies are
//! not looked into.

use std::ops::Range;

use super::read::{LEN, Malformed, fields};

/// Field number of the repeated child in requests, resource and scope groups.
const CHILDREN: u32 = 2;
/// Field number of the resource groups in an export request.
const RESOURCES: u32 = 1;

/// The layout of one export request; ranges index its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// Resource groups, in order.
    pub resources: Vec<ResourceGroup>,
    /// Scope groups of every resource, in order.
    pub scopes: Vec<ScopeGroup>,
    /// Header fields of every resource and scope group.
    pub headers: Vec<HeaderField>,
    /// Unit bodies (without their tag and length), in order.
    pub units: Vec<Range<usize>>,
}

/// A field of a group other than its children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    /// Its field number: below 2 it is written before the children, above
    /// after them (prost's order).
    pub number: u32,
    /// The whole field, tag included.
    pub raw: Range<usize>,
}

impl HeaderField {
    /// Whether prost writes it after the group's children.
    pub fn after_children(&self) -> bool {
        self.number > CHILDREN
    }
}

/// One `Resource*` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceGroup {
    /// Its header fields, as a range of [`Layout::headers`].
    pub header: Range<usize>,
    /// Its scope groups, as a range of [`Layout::scopes`].
    pub scopes: Range<usize>,
    /// The resource message's body (field 1), when present.
    pub resource: Option<Range<usize>>,
}

/// One `Scope*` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeGroup {
    /// Its header fields, as a range of [`Layout::headers`].
    pub header: Range<usize>,
    /// Its units, as a range of [`Layout::units`].
    pub units: Range<usize>,
}

impl Layout {
    /// Walks `buf`, an `Export{Logs,Trace,Metrics}ServiceRequest`. Fields of
    /// the request other than its resource groups are ignored (OTLP defines
    /// none).
    pub fn of(buf: &[u8]) -> Result<Layout, Malformed> {
        let mut l = Layout::default();
        for f in fields(buf, 0..buf.len()) {
            let f = f?;
            if f.number != RESOURCES || f.wire_type != LEN {
                continue;
            }
            let scopes_start = l.scopes.len();
            let mut resource = None;
            // Scope headers go into `headers` as the scopes are met, so the
            // resource's own header fields are held back until its end.
            let mut own = Vec::new();
            for rf in fields(buf, f.value.clone()) {
                let rf = rf?;
                if rf.number == CHILDREN && rf.wire_type == LEN {
                    l.scope(buf, rf.value)?;
                } else {
                    if rf.number == 1 && rf.wire_type == LEN {
                        resource = Some(rf.value.clone());
                    }
                    own.push(HeaderField {
                        number: rf.number,
                        raw: rf.raw,
                    });
                }
            }
            let header_start = l.headers.len();
            l.headers.extend(own);
            l.resources.push(ResourceGroup {
                header: header_start..l.headers.len(),
                scopes: scopes_start..l.scopes.len(),
                resource,
            });
        }
        Ok(l)
    }

    fn scope(&mut self, buf: &[u8], body: Range<usize>) -> Result<(), Malformed> {
        let header_start = self.headers.len();
        let units_start = self.units.len();
        for sf in fields(buf, body) {
            let sf = sf?;
            if sf.number == CHILDREN && sf.wire_type == LEN {
                self.units.push(sf.value);
            } else {
                self.headers.push(HeaderField {
                    number: sf.number,
                    raw: sf.raw,
                });
            }
        }
        self.scopes.push(ScopeGroup {
            header: header_start..self.headers.len(),
            units: units_start..self.units.len(),
        });
        Ok(())
    }

    /// The header fields of a group.
    pub fn header(&self, of: &Range<usize>) -> &[HeaderField] {
        &self.headers[of.clone()]
    }

    /// Encoded length of a group's header fields.
    pub fn header_len(&self, of: &Range<usize>) -> usize {
        self.header(of).iter().map(|h| h.raw.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use weir_core::otlp::collector::logs::v1::ExportLogsServiceRequest;
    use weir_core::otlp::common::v1::InstrumentationScope;
    use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use weir_core::otlp::resource::v1::Resource;

    #[test]
    fn finds_groups_headers_and_units() {
        let record = |t| LogRecord {
            time_unix_nano: t,
            ..Default::default()
        };
        let req = ExportLogsServiceRequest {
            resource_logs: vec![
                ResourceLogs {
                    resource: Some(Resource::default()),
                    scope_logs: vec![
                        ScopeLogs {
                            scope: Some(InstrumentationScope {
                                name: "a".into(),
                                ..Default::default()
                            }),
                            log_records: vec![record(1), record(2)],
                            schema_url: "s".into(),
                        },
                        ScopeLogs {
                            log_records: vec![record(3)],
                            ..Default::default()
                        },
                    ],
                    schema_url: "r".into(),
                },
                ResourceLogs::default(),
            ],
        };
        let buf = req.encode_to_vec();
        let l = Layout::of(&buf).unwrap();
        assert_eq!(l.resources.len(), 2);
        assert_eq!(l.scopes.len(), 2);
        assert_eq!(l.units.len(), 3);
        let r0 = &l.resources[0];
        assert_eq!(r0.scopes, 0..2);
        // The resource (empty message) and the schema URL.
        assert_eq!(l.header(&r0.header).len(), 2);
        assert!(r0.resource.is_some());
        assert_eq!(l.header(&l.scopes[0].header).len(), 2);
        assert_eq!(l.scopes[0].units, 0..2);
        assert_eq!(l.scopes[1].units, 2..3);
        let third = LogRecord::decode(&buf[l.units[2].clone()]).unwrap();
        assert_eq!(third.time_unix_nano, 3);
        assert_eq!(l.resources[1].scopes, 2..2);
        assert!(l.resources[1].resource.is_none());
    }

    #[test]
    fn malformed_requests_are_errors() {
        let req = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs::default()],
        };
        let mut buf = req.encode_to_vec();
        buf.extend_from_slice(&[0x0a, 0x09, 0x12]);
        assert!(Layout::of(&buf).is_err());
    }
}
