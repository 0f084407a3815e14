//! The processor through its public surface: built from YAML by the factory,
//! fed batches, checked in a collecting sink.

use std::io::Write;
use std::sync::Arc;

use weir_core::otlp::common::v1::{AnyValue, KeyValue, KeyValueList, any_value::Value};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::otlp::resource::v1::Resource;
use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};
use weir_core::telemetry::Kind;
use weir_core::testing::CollectSink;
use weir_core::{
    Batch, BatchMeta, BuildContext, ComponentConfig, ConfigError, Processor, ProcessorFactory,
    Signal,
};

use super::EnrichProcessorFactory;
use super::das::{BUILTIN_ACTION, BUILTIN_DOMAIN, BUILTIN_STATUS};
use super::fingerprint::{fingerprint, frames};

fn cx() -> BuildContext {
    BuildContext::for_test("enrich", Kind::Processor, &[Signal::Logs, Signal::Traces])
}

fn build(yaml: &str) -> Result<Box<dyn Processor>, ConfigError> {
    EnrichProcessorFactory.build(&ComponentConfig::from_yaml(yaml)?, &cx())
}

fn s(v: &str) -> Value {
    Value::StringValue(v.to_owned())
}

fn kv(k: &str, v: Value) -> KeyValue {
    KeyValue {
        key: k.to_owned(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

fn record(body: &str, attrs: Vec<KeyValue>) -> LogRecord {
    LogRecord {
        body: Some(AnyValue {
            value: Some(s(body)),
        }),
        attributes: attrs,
        ..Default::default()
    }
}

/// Runs one log record (with `resource` attributes) through `yaml`.
async fn run_log(yaml: &str, resource: Vec<KeyValue>, r: LogRecord) -> (Vec<KeyValue>, LogRecord) {
    let mut p = build(yaml).unwrap();
    let batch = Batch::logs(
        vec![ResourceLogs {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![r],
                ..Default::default()
            }],
            ..Default::default()
        }],
        BatchMeta::default(),
    );
    let sink = CollectSink::new();
    p.process(batch, &mut sink.emitter()).await.unwrap();
    let mut batches = sink.take();
    assert_eq!(batches.len(), 1);
    let mut rl = batches.remove(0).logs_mut().unwrap().remove(0);
    let rec = rl.scope_logs.remove(0).log_records.remove(0);
    (rl.resource.unwrap_or_default().attributes, rec)
}

fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn get_s<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match get(attrs, key) {
        Some(Value::StringValue(v)) => Some(v),
        _ => None,
    }
}

fn body(r: &LogRecord) -> &str {
    match r.body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(Value::StringValue(v)) => v,
        other => panic!("body is {other:?}"),
    }
}

// ---- (1) attribute actions ----

#[tokio::test]
async fn insert_is_the_default_and_keeps_existing_values() {
    let yaml = "attributes:\n  - { key: env, value: prod }\n  - { key: team, value: a }\n  - { key: n, value: 3 }\n  - { key: f, value: true }";
    let (_, r) = run_log(yaml, vec![], record("m", vec![kv("team", s("b"))])).await;
    assert_eq!(get_s(&r.attributes, "env"), Some("prod"));
    assert_eq!(get_s(&r.attributes, "team"), Some("b"));
    assert_eq!(get(&r.attributes, "n"), Some(&Value::IntValue(3)));
    assert_eq!(get(&r.attributes, "f"), Some(&Value::BoolValue(true)));
}

#[tokio::test]
async fn upsert_update_delete_rename_hash() {
    let yaml = r#"
attributes:
  - { key: a, action: upsert, value: new }
  - { key: b, action: upsert, value: new }
  - { key: c, action: update, value: new }
  - { key: missing, action: update, value: new }
  - { key: d, action: delete }
  - { key: e, action: rename, to: e2 }
  - { key: email, action: hash }
"#;
    let attrs = vec![
        kv("a", s("old")),
        kv("c", s("old")),
        kv("d", s("x")),
        kv("e", s("moved")),
        kv("e2", s("replaced")),
        kv("email", s("ada@example.com")),
    ];
    let (_, r) = run_log(yaml, vec![], record("m", attrs)).await;
    let a = &r.attributes;
    assert_eq!(get_s(a, "a"), Some("new"));
    assert_eq!(get_s(a, "b"), Some("new"));
    assert_eq!(get_s(a, "c"), Some("new"));
    assert_eq!(get(a, "missing"), None);
    assert_eq!(get(a, "d"), None);
    assert_eq!(get(a, "e"), None);
    assert_eq!(get_s(a, "e2"), Some("moved"));
    assert_eq!(a.iter().filter(|kv| kv.key == "e2").count(), 1);
    assert_eq!(
        get_s(a, "email"),
        Some(super::fingerprint::sha256_hex(&[b"ada@example.com"]).as_str())
    );
    assert_eq!(get_s(a, "email").unwrap().len(), 64);
}

#[tokio::test]
async fn resource_target_and_env_expansion() {
    // `set_var` is unsafe in edition 2024 (and the crate forbids unsafe): use a
    // variable every test environment has.
    let path = std::env::var("PATH").unwrap();
    let yaml = "attributes:\n  - { key: p, value: \"x-${env:PATH}-y\", target: resource }";
    let (res, r) = run_log(yaml, vec![], record("m", vec![])).await;
    assert_eq!(get_s(&res, "p"), Some(format!("x-{path}-y").as_str()));
    assert_eq!(get(&r.attributes, "p"), None);
}

#[test]
fn missing_env_var_is_a_config_error_at_its_path() {
    let yaml = "attributes:\n  - { key: a, value: x }\n  - { key: b, value: \"${env:WEIR_ENRICH_SURELY_UNSET_42}\" }";
    let err = build(yaml).err().unwrap();
    assert_eq!(err.path.as_deref(), Some("attributes[1].value"));
    assert!(err.message.contains("WEIR_ENRICH_SURELY_UNSET_42"));
}

#[test]
fn bad_action_configs_are_refused() {
    assert!(build("attributes: [{ key: a }]").is_err());
    assert!(build("attributes: [{ key: a, action: rename }]").is_err());
    assert!(build("attributes: [{ key: a, action: delete, value: x }]").is_err());
    assert!(build("attributes: [{ key: a, value: x, bogus: 1 }]").is_err());
    assert!(build("nope: 1").is_err());
}

// ---- (2) Domain-Action-Status ----

#[test]
fn builtin_tables_match_the_spec_document() {
    let doc = include_str!("../../../../../shared/enrich-das.md");
    for (heading, table) in [
        ("**domain**:", BUILTIN_DOMAIN),
        ("**action**:", BUILTIN_ACTION),
        ("**status**:", BUILTIN_STATUS),
    ] {
        let start = doc.find(heading).unwrap() + heading.len();
        let para = doc[start..].split("\n\n").next().unwrap();
        let entries: Vec<(&str, &str)> = para
            .split('·')
            .map(|e| {
                let mut it = e.split_whitespace();
                (it.next().unwrap(), it.next().unwrap())
            })
            .collect();
        assert_eq!(entries, table.to_vec(), "{heading}");
    }
}

#[tokio::test]
async fn markers_from_attributes_with_body_prefix() {
    let yaml = "das: { prefix_body: true }";
    let attrs = vec![
        kv("domain", s("AUTH")),
        kv("app.action", s("login")),
        kv("status", s("failure")),
    ];
    let (_, r) = run_log(yaml, vec![], record("User login attempt", attrs)).await;
    assert_eq!(get_s(&r.attributes, "das.markers"), Some("[🔑][➡️][❌]"));
    assert_eq!(body(&r), "[🔑][➡️][❌] User login attempt");
}

#[tokio::test]
async fn unknown_and_missing_values_take_the_default_marker() {
    let attrs = vec![kv("domain", s("weird")), kv("status", s("success"))];
    let (_, r) = run_log("das: {}", vec![], record("m", attrs)).await;
    assert_eq!(get_s(&r.attributes, "das.markers"), Some("[❓][❓][✅]"));
    assert_eq!(body(&r), "m", "no prefix unless asked");
    let (_, r) = run_log("das: {}", vec![], record("m", vec![kv("x", s("y"))])).await;
    assert_eq!(get(&r.attributes, "das.markers"), None, "nothing to mark");
}

#[tokio::test]
async fn markers_derived_from_event_names() {
    let yaml = "das: { attribute: m }";
    let (_, r) = run_log(
        yaml,
        vec![],
        record("x", vec![kv("event.name", s("database_query_timeout"))]),
    )
    .await;
    assert_eq!(get_s(&r.attributes, "m"), Some("[🗄️][🔍][⏱️]"));
    let mut rec = record("x", vec![]);
    rec.event_name = "user_custom_login_success".into();
    let (_, r) = run_log(yaml, vec![], rec).await;
    assert_eq!(get_s(&r.attributes, "m"), Some("[👤][➡️][✅]"));
    // Explicit attributes win over the derivation; unknown status stays default.
    let attrs = vec![
        kv("evt", s("server_start_whatever")),
        kv("domain", s("cache")),
    ];
    let yaml = "das: { attribute: m, event_name_key: evt }";
    let (_, r) = run_log(yaml, vec![], record("x", attrs)).await;
    assert_eq!(get_s(&r.attributes, "m"), Some("[💾][🚀][➡️]"));
    // Derivation can be turned off.
    let yaml = "das: { from_event_name: false }";
    let (_, r) = run_log(
        yaml,
        vec![],
        record("x", vec![kv("event.name", s("auth_login_success"))]),
    )
    .await;
    assert_eq!(get(&r.attributes, "das.markers"), None);
}

#[tokio::test]
async fn user_sets_override_by_priority() {
    let yaml = r#"
das:
  sets:
    - { name: low, priority: -5, domain: { auth: "L" } }
    - { name: high, priority: 10, domain: { auth: "H", Billing: "💰" }, status: { default: "·" } }
"#;
    let attrs = vec![kv("domain", s("auth")), kv("action", s("login"))];
    let (_, r) = run_log(yaml, vec![], record("m", attrs)).await;
    assert_eq!(get_s(&r.attributes, "das.markers"), Some("[H][➡️][·]"));
    let (_, r) = run_log(yaml, vec![], record("m", vec![kv("domain", s("billing"))])).await;
    assert_eq!(get_s(&r.attributes, "das.markers"), Some("[💰][❓][·]"));
}

#[tokio::test]
async fn user_set_from_a_yaml_file() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    writeln!(f, "domain:\n  shipping: \"🚚\"").unwrap();
    let yaml = format!(
        "das: {{ sets: [{{ priority: 1, file: {} }}] }}",
        f.path().display()
    );
    let (_, r) = run_log(
        &yaml,
        vec![],
        record("m", vec![kv("domain", s("shipping"))]),
    )
    .await;
    assert_eq!(get_s(&r.attributes, "das.markers"), Some("[🚚][❓][➡️]"));
}

#[tokio::test]
async fn http_fields_from_status_codes() {
    let (_, r) = run_log(
        "das: {}",
        vec![],
        record(
            "m",
            vec![kv("http.response.status_code", Value::IntValue(503))],
        ),
    )
    .await;
    assert_eq!(get_s(&r.attributes, "http.status_class"), Some("5xx"));
    assert_eq!(
        get(&r.attributes, "http.server_error"),
        Some(&Value::BoolValue(true))
    );
    let attrs = vec![
        kv("http.status_code", s("404")),
        kv("http.status_class", s("keep")),
    ];
    let (_, r) = run_log("das: {}", vec![], record("m", attrs)).await;
    assert_eq!(get_s(&r.attributes, "http.status_class"), Some("keep"));
    assert_eq!(
        get(&r.attributes, "http.client_error"),
        Some(&Value::BoolValue(true))
    );
    let (_, r) = run_log(
        "das: {}",
        vec![],
        record("m", vec![kv("http.status_code", Value::IntValue(201))]),
    )
    .await;
    assert_eq!(
        get(&r.attributes, "http.success"),
        Some(&Value::BoolValue(true))
    );
    let (_, r) = run_log(
        "das: { http_fields: false }",
        vec![],
        record("m", vec![kv("http.status_code", Value::IntValue(201))]),
    )
    .await;
    assert_eq!(get(&r.attributes, "http.status_class"), None);
}

#[tokio::test]
async fn markers_are_not_added_twice() {
    let attrs = vec![kv("domain", s("auth")), kv("das.markers", s("[x]"))];
    let (_, r) = run_log("das: { prefix_body: true }", vec![], record("m", attrs)).await;
    assert_eq!(get_s(&r.attributes, "das.markers"), Some("[x]"));
    assert_eq!(body(&r), "m");
}

// ---- (3) parse_json_body ----

#[tokio::test]
async fn json_bodies_map_like_stdin() {
    let text = r#"{"msg":"hi","level":"warn","time":"2024-01-02T03:04:05Z","user":"ada","n":2,"nested":{"a":1},"keep":"json"}"#;
    let (_, r) = run_log(
        "parse_json_body: true",
        vec![],
        record(text, vec![kv("keep", s("old")), kv("other", s("o"))]),
    )
    .await;
    let expected = weir_otlp::logline::record_from_json_slice(text.as_bytes(), 0).unwrap();
    assert_eq!(body(&r), "hi");
    assert_eq!(r.severity_number, expected.severity_number);
    assert_eq!(r.severity_number, 13);
    assert_eq!(r.severity_text, "warn");
    assert_eq!(r.time_unix_nano, expected.time_unix_nano);
    assert_eq!(get_s(&r.attributes, "user"), Some("ada"));
    assert_eq!(get(&r.attributes, "n"), Some(&Value::IntValue(2)));
    assert!(matches!(
        get(&r.attributes, "nested"),
        Some(Value::KvlistValue(_))
    ));
    assert_eq!(get_s(&r.attributes, "keep"), Some("json"));
    assert_eq!(get_s(&r.attributes, "other"), Some("o"));
}

#[tokio::test]
async fn non_json_bodies_are_left_alone() {
    for text in ["plain text", "{not json", "[1,2]"] {
        let (_, r) = run_log("parse_json_body: true", vec![], record(text, vec![])).await;
        assert_eq!(body(&r), text);
    }
    let text = r#"{"msg":"hi"}"#;
    let (_, r) = run_log("{}", vec![], record(text, vec![])).await;
    assert_eq!(body(&r), text, "off by default");
}

// ---- (4) masking ----

#[tokio::test]
async fn secret_keys_and_values_are_masked() {
    let attrs = vec![
        kv("http.request.header.Authorization", s("Bearer abc.def")),
        kv("db_password", Value::IntValue(1234)),
        kv("X-API-Key", s("k")),
        kv("url", s("https://x/?api_key=s3cr3t&page=2")),
        kv("note", s("sent with bearer tok123, fine")),
        kv("user", s("ada")),
        kv(
            "headers",
            Value::KvlistValue(KeyValueList {
                values: vec![kv("cookie", s("sid=1")), kv("ok", s("v"))],
            }),
        ),
    ];
    let text = "login password=hunter2 token: xyz Authorization: Bearer eyJ.a.b done";
    let (_, r) = run_log("mask: {}", vec![], record(text, attrs)).await;
    let a = &r.attributes;
    assert_eq!(get_s(a, "http.request.header.Authorization"), Some("***"));
    assert_eq!(get_s(a, "db_password"), Some("***"));
    assert_eq!(get_s(a, "X-API-Key"), Some("***"));
    assert_eq!(get_s(a, "url"), Some("https://x/?api_key=***&page=2"));
    assert_eq!(get_s(a, "note"), Some("sent with bearer ***, fine"));
    assert_eq!(get_s(a, "user"), Some("ada"));
    let Some(Value::KvlistValue(h)) = get(a, "headers") else {
        panic!()
    };
    assert_eq!(get_s(&h.values, "cookie"), Some("***"));
    assert_eq!(get_s(&h.values, "ok"), Some("v"));
    let b = body(&r);
    assert!(
        !b.contains("hunter2") && !b.contains("xyz") && !b.contains("eyJ"),
        "{b}"
    );
    assert!(b.starts_with("login password=*** token: *** "), "{b}");
    assert!(b.ends_with(" done"), "{b}");
}

#[tokio::test]
async fn mask_options() {
    let yaml = r#"mask: { keys: [ssn], patterns: ['\d{4}-\d{4}'], body: false, replacement: "[redacted]" }"#;
    let attrs = vec![
        kv("SSN", s("1")),
        kv("password", s("p")),
        kv("card", s("c 1234-5678 x")),
    ];
    let (_, r) = run_log(yaml, vec![], record("card 1111-2222", attrs)).await;
    assert_eq!(get_s(&r.attributes, "SSN"), Some("[redacted]"));
    assert_eq!(get_s(&r.attributes, "password"), Some("p"));
    assert_eq!(get_s(&r.attributes, "card"), Some("c [redacted] x"));
    assert_eq!(body(&r), "card 1111-2222");
    assert!(build("mask: { patterns: ['('] }").is_err());
}

#[tokio::test]
async fn masking_applies_to_resources_and_json_bodies() {
    let text = r#"{"msg":"m","token":"abc"}"#;
    let (res, r) = run_log(
        "parse_json_body: true\nmask: {}",
        vec![kv("secret", s("x"))],
        record(text, vec![]),
    )
    .await;
    assert_eq!(get_s(&res, "secret"), Some("***"));
    assert_eq!(get_s(&r.attributes, "token"), Some("***"));
}

// ---- (5) fingerprint ----

const JAVA: &str = "java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)\n\tat a.E.f(E.java:3)\n\tat a.G.h(G.java:4)";
const PY: &str = "Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\n    main()\n  File \"a.py\", line 5, in main\n    run()\nValueError: x";

#[test]
fn frames_are_recognised() {
    assert_eq!(
        frames(JAVA),
        [
            "at a.B.c(B.java:1)",
            "at a.B.d(B.java:2)",
            "at a.E.f(E.java:3)"
        ]
    );
    assert_eq!(
        frames(PY),
        [
            "File \"a.py\", line 1, in <module>",
            "File \"a.py\", line 5, in main"
        ]
    );
}

#[tokio::test]
async fn fingerprint_of_exceptions() {
    let attrs = vec![
        kv("exception.type", s("IllegalStateException")),
        kv("exception.stacktrace", s(JAVA)),
    ];
    let (_, r) = run_log(
        "{}",
        vec![kv("telemetry.sdk.language", s("java"))],
        record("m", attrs),
    )
    .await;
    let want = super::fingerprint::sha256_hex(&[
        b"IllegalStateException",
        b"at a.B.c(B.java:1)",
        b"at a.B.d(B.java:2)",
        b"at a.E.f(E.java:3)",
        b"java",
    ]);
    assert_eq!(
        get_s(&r.attributes, "exception.fingerprint"),
        Some(want.as_str())
    );
    assert_eq!(want, fingerprint("IllegalStateException", JAVA, "java"));
    assert_ne!(want, fingerprint("IllegalStateException", JAVA, "python"));
    let (_, r) = run_log(
        "fingerprint: false",
        vec![],
        record("m", vec![kv("exception.stacktrace", s(JAVA))]),
    )
    .await;
    assert_eq!(get(&r.attributes, "exception.fingerprint"), None);
    let (_, r) = run_log(
        "{}",
        vec![],
        record("m", vec![kv("exception.type", s("E"))]),
    )
    .await;
    assert_eq!(get(&r.attributes, "exception.fingerprint"), None);
}

// ---- (6) detectors ----

#[tokio::test]
async fn detectors_fill_absent_resource_attributes() {
    let yaml = "detectors: { host: true, os: true, process: true, service_name: checkout }";
    let (res, _) = run_log(
        yaml,
        vec![kv("service.name", s("mine"))],
        record("m", vec![]),
    )
    .await;
    assert_eq!(get_s(&res, "service.name"), Some("mine"));
    assert_eq!(get_s(&res, "os.type"), Some(super::detectors::os_type()));
    assert_eq!(
        get(&res, "process.pid"),
        Some(&Value::IntValue(i64::from(std::process::id())))
    );
    if let Some(h) = super::detectors::host_name() {
        assert_eq!(get_s(&res, "host.name"), Some(h.as_str()));
    }
    let (res, _) = run_log(yaml, vec![], record("m", vec![])).await;
    assert_eq!(get_s(&res, "service.name"), Some("checkout"));
}

// ---- (7) lookup ----

#[tokio::test]
async fn lookup_from_csv_and_yaml_shared_across_instances() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("users.csv");
    std::fs::write(&csv, "id,team,tier\nu1,core,gold\nu2,edge,\n").unwrap();
    let yaml = format!(
        "lookup: [{{ file: {}, key: user.id, columns: [team, tier] }}]",
        csv.display()
    );
    let (_, r) = run_log(
        &yaml,
        vec![],
        record("m", vec![kv("user.id", s("u1")), kv("tier", s("keep"))]),
    )
    .await;
    assert_eq!(get_s(&r.attributes, "team"), Some("core"));
    assert_eq!(get_s(&r.attributes, "tier"), Some("keep"));
    let (_, r) = run_log(&yaml, vec![kv("user.id", s("u2"))], record("m", vec![])).await;
    assert_eq!(get_s(&r.attributes, "team"), Some("edge"));
    assert_eq!(get(&r.attributes, "tier"), None);
    let canonical = csv.canonicalize().unwrap();
    let first = super::lookup::cache().get(&canonical).unwrap().clone();
    build(&yaml).unwrap();
    let second = super::lookup::cache().get(&canonical).unwrap().clone();
    assert!(Arc::ptr_eq(&first, &second), "one table for every instance");
    assert_eq!(first.len(), 2);

    let y = dir.path().join("hosts.yaml");
    std::fs::write(&y, "web-1: { dc: fra, rack: 7 }\n").unwrap();
    let yaml = format!(
        "lookup: [{{ file: {}, key: host.name, columns: [dc, rack] }}]",
        y.display()
    );
    let (_, r) = run_log(
        &yaml,
        vec![kv("host.name", s("web-1"))],
        record("m", vec![]),
    )
    .await;
    assert_eq!(get_s(&r.attributes, "dc"), Some("fra"));
    assert_eq!(get_s(&r.attributes, "rack"), Some("7"));

    let err = build(&format!(
        "lookup: [{{ file: {}, key: k, columns: [nope] }}]",
        csv.display()
    ))
    .err()
    .unwrap();
    assert_eq!(err.path.as_deref(), Some("lookup[0].columns[0]"));
    let err = build("lookup: [{ file: /no/such.csv, key: k, columns: [a] }]")
        .err()
        .unwrap();
    assert_eq!(err.path.as_deref(), Some("lookup[0].file"));
}

// ---- signals and pass-through ----

#[tokio::test]
async fn spans_get_attributes_markers_and_masking() {
    let mut p = build("attributes: [{ key: a, value: b }]\ndas: {}\nmask: {}").unwrap();
    let span = Span {
        attributes: vec![kv("domain", s("network")), kv("token", s("t"))],
        ..Default::default()
    };
    let batch = Batch::traces(
        vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![span],
                ..Default::default()
            }],
            ..Default::default()
        }],
        BatchMeta::default(),
    );
    let sink = CollectSink::new();
    p.process(batch, &mut sink.emitter()).await.unwrap();
    let mut b = sink.take().remove(0);
    let span = &b.traces_mut().unwrap()[0].scope_spans[0].spans[0];
    assert_eq!(get_s(&span.attributes, "a"), Some("b"));
    assert_eq!(get_s(&span.attributes, "das.markers"), Some("[🌐][❓][➡️]"));
    assert_eq!(get_s(&span.attributes, "token"), Some("***"));
}

#[tokio::test]
async fn nothing_to_do_keeps_received_bytes() {
    let mut p = build("fingerprint: false").unwrap();
    let logs = vec![ResourceLogs {
        scope_logs: vec![ScopeLogs {
            log_records: vec![record("m", vec![])],
            ..Default::default()
        }],
        ..Default::default()
    }];
    let data = Batch::logs(logs, BatchMeta::default()).to_protobuf();
    let batch = Batch::from_encoded(Signal::Logs, data.clone(), 1, BatchMeta::default());
    let sink = CollectSink::new();
    p.process(batch, &mut sink.emitter()).await.unwrap();
    assert_eq!(sink.take()[0].received_bytes(), Some(&data));
}

#[test]
fn registered_in_the_builtin_registry() {
    let mut r = weir_core::Registry::new();
    crate::register(&mut r);
    assert!(r.processor("enrich").is_some());
}
