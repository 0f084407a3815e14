//! Attribute actions, env expansion, JSON bodies, detectors and lookup tables.

use super::*;

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
        Some(fingerprint::sha256_hex(&[b"ada@example.com"]).as_str())
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
async fn detectors_fill_absent_resource_attributes() {
    let yaml = "detectors: { host: true, os: true, process: true, service_name: checkout }";
    let (res, _) = run_log(
        yaml,
        vec![kv("service.name", s("mine"))],
        record("m", vec![]),
    )
    .await;
    assert_eq!(get_s(&res, "service.name"), Some("mine"));
    assert_eq!(get_s(&res, "os.type"), Some(detectors::os_type()));
    assert_eq!(
        get(&res, "process.pid"),
        Some(&Value::IntValue(i64::from(std::process::id())))
    );
    if let Some(h) = detectors::host_name() {
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
    let first = lookup::cache().get(&canonical).unwrap().clone();
    build(&yaml).unwrap();
    let second = lookup::cache().get(&canonical).unwrap().clone();
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
