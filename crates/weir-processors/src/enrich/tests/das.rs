//! Domain-Action-Status markers and the HTTP status fields.

use super::*;

use crate::enrich::das::{BUILTIN_ACTION, BUILTIN_DOMAIN, BUILTIN_STATUS};

#[test]
fn builtin_tables_match_the_spec_document() {
    let doc = include_str!("../../../../../docs/reference/enrich-das.md");
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
