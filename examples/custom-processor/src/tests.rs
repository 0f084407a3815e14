//! `redact` through its factory, with `weir_core::testing`: no runtime, no
//! sockets, one line per batch.

use weir_core::Signal;
use weir_core::testing::{ProcessorHarness, attr_str, kv, log, logs, span, spans};

use crate::{CHANGED_ITEMS, REDACTIONS, RedactFactory};

#[tokio::test(start_paused = true)]
async fn masks_bodies_and_attributes_and_counts_what_it_changed() {
    let mut h = ProcessorHarness::new(&RedactFactory, "{}");
    let out = h
        .process(logs([
            log("ada@example.com paid with 4111 1111 1111 1111").attr("user", "ada@example.com"),
            log("order 42 shipped").attr("order", 42),
            log("card 5555-5555-5555-4444, not 4111111111111112"),
        ]))
        .await
        .unwrap();

    assert_eq!(
        out.bodies(),
        [
            "[email] paid with [card]",
            "order 42 shipped",
            "card [card], not 4111111111111112",
        ]
    );
    assert_eq!(out.log_attr("user"), [Some("[email]"), None, None]);
    assert_eq!(h.counter(REDACTIONS, &[("rule", "email")]), 2);
    assert_eq!(h.counter(REDACTIONS, &[("rule", "card")]), 2);
    assert_eq!(h.counter(CHANGED_ITEMS, &[("signal", "logs")]), 2);
    // Nothing is dropped: every record goes on.
    assert_eq!((h.received_items(), h.sent_items()), (3, 3));
}

#[tokio::test(start_paused = true)]
async fn nested_values_are_masked_too() {
    let mut h = ProcessorHarness::new(&RedactFactory, "{}");
    let user = weir_core::otlp::common::v1::AnyValue {
        value: Some(weir_core::otlp::common::v1::any_value::Value::KvlistValue(
            weir_core::otlp::common::v1::KeyValueList {
                values: vec![kv("email", "eve@example.net"), kv("id", 7)],
            },
        )),
    };
    let out = h
        .process(logs([log("signup")
            .attr("user", user)
            .attr("cc", vec!["4111111111111111", "x"])]))
        .await
        .unwrap();
    let record = out.log_records()[0];
    let text = format!("{:?}", record.attributes);
    assert!(
        !text.contains("eve@example.net") && text.contains("[email]"),
        "{text}"
    );
    assert!(
        !text.contains("4111111111111111") && text.contains("[card]"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn attributes_off_leaves_attributes_alone() {
    let mut h = ProcessorHarness::new(&RedactFactory, "attributes: false");
    let out = h
        .process(logs([
            log("from ada@example.com").attr("user", "ada@example.com")
        ]))
        .await
        .unwrap();
    assert_eq!(out.bodies(), ["from [email]"]);
    assert_eq!(out.log_attr("user"), [Some("ada@example.com")]);
}

#[tokio::test(start_paused = true)]
async fn the_replacement_and_the_rules_follow_the_config() {
    let yaml = "card_numbers: false\nreplacement: '<{kind}>'";
    let mut h = ProcessorHarness::new(&RedactFactory, yaml);
    let out = h
        .process(logs(["ada@example.com 4111 1111 1111 1111"]))
        .await
        .unwrap();
    assert_eq!(out.bodies(), ["<email> 4111 1111 1111 1111"]);
}

#[tokio::test(start_paused = true)]
async fn span_and_event_attributes_are_masked() {
    let mut h = ProcessorHarness::new(&RedactFactory, "{}");
    let out = h
        .process(spans([
            span("POST /checkout")
                .attr("enduser.id", "ada@example.com")
                .event(
                    "exception",
                    vec![kv("exception.message", "card 4111111111111111 declined")],
                ),
            span("GET /health"),
        ]))
        .await
        .unwrap();
    assert_eq!(out.span_attr("enduser.id"), [Some("[email]"), None]);
    let event = &out.spans()[0].events[0];
    assert_eq!(
        attr_str(&event.attributes, "exception.message"),
        Some("card [card] declined")
    );
    assert_eq!(h.counter(CHANGED_ITEMS, &[("signal", "traces")]), 1);
    assert_eq!(h.counter(REDACTIONS, &[("signal", "logs")]), 0);
}

#[tokio::test(start_paused = true)]
async fn a_batch_with_nothing_to_mask_keeps_its_received_bytes() {
    use weir_core::{Batch, BatchMeta};
    let clean = logs(["nothing to see", "order 42"]);
    let received = Batch::from_encoded(Signal::Logs, clean.to_protobuf(), 2, BatchMeta::default());
    let mut h = ProcessorHarness::new(&RedactFactory, "{}");
    let out = h.process(received).await.unwrap();
    assert!(
        out.batches()[0].received_bytes().is_some(),
        "forwarded as it came, no re-encode"
    );
}

#[test]
fn a_config_that_masks_nothing_is_refused() {
    let err = ProcessorHarness::try_new(&RedactFactory, "emails: false\ncard_numbers: false")
        .err()
        .expect("refused");
    assert!(err.to_string().contains("nothing to redact"), "{err}");
    let err = ProcessorHarness::try_new(&RedactFactory, "email: true")
        .err()
        .expect("unknown field refused");
    assert!(err.to_string().contains("email"), "{err}");
}
