//! `weir_core::testing` drives weir's own processors as well as yours: here
//! two of the built-ins' unit tests, rewritten with the harness, taking the
//! factories from the distribution `my-weir` is built from. Handy when your
//! processor is meant to sit next to a built-in.

use std::time::Duration;

use weir_core::ProcessorFactory;
use weir_core::testing::{ProcessorHarness, log, logs};

fn builtin(type_name: &str) -> std::sync::Arc<dyn ProcessorFactory> {
    let dist = weir::Distribution::builtin();
    dist.registry()
        .processor(type_name)
        .cloned()
        .unwrap_or_else(|| panic!("no built-in processor {type_name}"))
}

/// rate_limit's `admitted_rate_stays_within_5_percent_over_2s_windows`:
/// 10 s of 10-record batches every millisecond, ten times the rate.
#[tokio::test(start_paused = true)]
async fn rate_limit_admits_its_rate_and_counts_the_rest() {
    let factory = builtin("rate_limit");
    let mut h = ProcessorHarness::new(factory.as_ref(), "rate: 1000\nburst: 50");
    let mut windows = Vec::new();
    let mut admitted = 0;
    for ms in 1..=10_000 {
        let batch = logs((0..10).map(|i| format!("record {i}")));
        admitted += h.process(batch).await.unwrap().items();
        h.advance(Duration::from_millis(1)).await.unwrap();
        if ms % 2000 == 0 {
            windows.push(admitted);
            admitted = 0;
        }
    }
    for w in &windows {
        assert!(
            (1900..=2100).contains(w),
            "a 2 s window admitted {w}, want 2000 ± 5%"
        );
    }
    // Nothing is lost without a count.
    assert_eq!(h.received_items(), 100_000);
    assert_eq!(h.sent_items() + h.dropped("rate_limited"), 100_000);
}

/// adaptive_batch's `full_batches_leave_at_once_and_the_rest_at_shutdown`,
/// plus its timer: a partial batch leaves once its delay is up.
#[tokio::test(start_paused = true)]
async fn adaptive_batch_cuts_full_batches_and_times_out_the_rest() {
    let factory = builtin("adaptive_batch");
    let mut h = ProcessorHarness::new(factory.as_ref(), "max_items: 10");
    let out = h
        .process(logs((0..25).map(|i| format!("r{i}"))))
        .await
        .unwrap();
    assert_eq!(out.batch_sizes(), [10, 10]);
    assert_eq!(
        h.counter("weir_processor_batch_flushes_total", &[("reason", "items")]),
        2
    );
    // The 5 left wait at most max_delay (500ms by default) for more.
    let out = h.advance(Duration::from_millis(600)).await.unwrap();
    assert_eq!(out.bodies(), ["r20", "r21", "r22", "r23", "r24"]);

    h.process(logs([log("last").severity(9)])).await.unwrap();
    let out = h.flush().await.unwrap();
    assert_eq!(out.bodies(), ["last"]);
    assert_eq!(
        h.counter(
            "weir_processor_batch_flushes_total",
            &[("reason", "shutdown")]
        ),
        1
    );
}
