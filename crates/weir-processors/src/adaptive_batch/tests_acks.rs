//! Acknowledgements through the batcher: a merged batch answers every
//! request it came from, a split one answers its request once every part is
//! settled, and a batch waiting for its delay leaves on the timer, so a
//! client waiting for its answer is never stuck behind a batch that does not
//! fill.

use std::time::Duration;

use tokio::task::JoinHandle;
use weir_core::ack::{AckFailure, ack_pair};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::telemetry::Kind;
use weir_core::testing::CollectSink;
use weir_core::{Batch, BatchMeta, BuildContext, ComponentConfig, Processor, Signal, SignalData};

use super::{AdaptiveBatchConfig, AdaptiveBatchProcessor};

type Answer = JoinHandle<Result<(), AckFailure>>;

fn processor(yaml: &str) -> AdaptiveBatchProcessor {
    let cx = BuildContext::for_test("adaptive_batch", Kind::Processor, &[Signal::Logs]);
    let cfg =
        AdaptiveBatchConfig::from_component(&ComponentConfig::from_yaml(yaml).unwrap()).unwrap();
    AdaptiveBatchProcessor::new(cfg, &cx)
}

/// A request of `n` log records, decoded or as received bytes, and its
/// client's answer (a task waiting on the request's waiter).
fn request(n: usize, encoded: bool) -> (Batch, Answer) {
    let (token, waiter) = ack_pair();
    let meta = BatchMeta::default().with_ack(token);
    let data = SignalData::Logs(vec![ResourceLogs {
        scope_logs: vec![ScopeLogs {
            log_records: vec![LogRecord::default(); n],
            ..Default::default()
        }],
        ..Default::default()
    }]);
    let batch = if encoded {
        let mut buf = Vec::new();
        data.encode_to(&mut buf);
        Batch::from_encoded(Signal::Logs, buf.into(), n, meta)
    } else {
        Batch::from_data(data, meta)
    };
    (batch, tokio::spawn(waiter.wait()))
}

/// Lets the waiting tasks run.
async fn settle() {
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
}

async fn answers(waiting: Vec<Answer>) -> Vec<Result<(), AckFailure>> {
    let mut out = Vec::new();
    for a in waiting {
        out.push(a.await.unwrap());
    }
    out
}

#[tokio::test(start_paused = true)]
async fn a_merged_batch_carries_and_answers_every_request() {
    for encoded in [false, true] {
        let mut p = processor("max_items: 100");
        let sink = CollectSink::new();
        let mut out = sink.emitter();
        let mut waiting = Vec::new();
        for _ in 0..3 {
            let (b, a) = request(2, encoded);
            p.process(b, &mut out).await.unwrap();
            waiting.push(a);
        }
        p.flush(&mut out).await.unwrap();
        let mut batches = sink.take();
        assert_eq!(batches.len(), 1, "merged (encoded: {encoded})");
        assert_eq!(batches[0].meta().acks.len(), 3);
        settle().await;
        assert!(
            waiting.iter().all(|a| !a.is_finished()),
            "held by the batch"
        );
        // The exporter fails it: every request it came from hears so.
        batches[0].meta_mut().acks.fail("retries_exhausted");
        drop(batches);
        assert_eq!(
            answers(waiting).await,
            [Err(AckFailure("retries_exhausted")); 3]
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_split_request_settles_when_its_last_part_does() {
    for encoded in [false, true] {
        let mut p = processor("max_items: 10");
        let sink = CollectSink::new();
        let mut out = sink.emitter();
        let (b, answer) = request(25, encoded);
        p.process(b, &mut out).await.unwrap();
        p.flush(&mut out).await.unwrap();
        let mut parts = sink.take();
        assert_eq!(
            parts.iter().map(Batch::items).collect::<Vec<_>>(),
            [10, 10, 5]
        );
        assert!(parts.iter().all(|b| b.meta().acks.len() == 1));
        let last = parts.pop().unwrap();
        drop(parts);
        settle().await;
        assert!(!answer.is_finished(), "one part is still on its way");
        drop(last);
        assert_eq!(answer.await.unwrap(), Ok(()), "encoded: {encoded}");
    }
}

#[tokio::test(start_paused = true)]
async fn one_failed_part_fails_the_split_request() {
    let mut p = processor("max_items: 10");
    let sink = CollectSink::new();
    let mut out = sink.emitter();
    let (b, answer) = request(25, false);
    p.process(b, &mut out).await.unwrap();
    p.flush(&mut out).await.unwrap();
    let mut parts = sink.take();
    parts[1].meta_mut().acks.fail("permanent");
    drop(parts);
    assert_eq!(answer.await.unwrap(), Err(AckFailure("permanent")));
}

#[tokio::test(start_paused = true)]
async fn a_batch_that_never_fills_leaves_on_its_delay_and_is_answered() {
    for encoded in [false, true] {
        let mut p = processor("max_items: 10000\nmin_delay: 1s\ntarget_latency: 2s\nmax_delay: 2s");
        let sink = CollectSink::new();
        let mut out = sink.emitter();
        let (b, answer) = request(1, encoded);
        p.process(b, &mut out).await.unwrap();
        // The runtime calls on_timer every tick; nothing else arrives.
        let tick = p.timer().unwrap();
        let mut waited = Duration::ZERO;
        while sink.items() == 0 {
            assert!(waited <= Duration::from_secs(2), "held past max_delay");
            tokio::time::advance(tick).await;
            waited += tick;
            p.on_timer(&mut out).await.unwrap();
        }
        drop(sink.take());
        assert_eq!(answer.await.unwrap(), Ok(()), "encoded: {encoded}");
    }
}
