//! Secret masking and error fingerprints.

use super::*;

use crate::enrich::fingerprint::{fingerprint, frames};

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
    let want = fingerprint::sha256_hex(&[
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
