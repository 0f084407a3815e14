//! The receiver through its public surface: built from config, run over
//! in-memory and slow readers into a collecting sink.

use std::io::{self, Cursor, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use weir_core::otlp::common::v1::any_value::Value;
use weir_core::otlp::logs::v1::LogRecord;
use weir_core::telemetry::{Kind, names};
use weir_core::testing::CollectSink;
use weir_core::{
    Batch, BatchSink, BuildContext, ComponentConfig, ComponentError, Output, Receiver,
    ReceiverContext, ReceiverFactory, SendError, Shutdown, ShutdownTrigger, Signal, async_trait,
};
use weir_otlp::logline::{LineFormat, attr};

use super::{SCOPE_NAME, StdinConfig, StdinReceiver, StdinReceiverFactory};

/// A receiver of `yaml` config over `reader`, wired to a collecting sink.
struct Harness {
    receiver: StdinReceiver,
    cx: ReceiverContext,
    trigger: ShutdownTrigger,
    sink: CollectSink,
    build: BuildContext,
}

fn harness(yaml: &str, reader: impl Read + Send + 'static) -> Harness {
    harness_with_sink(yaml, reader, None)
}

/// As [`harness`], sending into `sink` instead of the collector when given.
fn harness_with_sink(
    yaml: &str,
    reader: impl Read + Send + 'static,
    sink: Option<Arc<dyn BatchSink>>,
) -> Harness {
    let build = BuildContext::for_test("stdin", Kind::Receiver, &[Signal::Logs]);
    let config = StdinConfig::from_component(&ComponentConfig::from_yaml(yaml).unwrap()).unwrap();
    let receiver = StdinReceiver::new(config, &build).with_reader(reader);
    let collect = CollectSink::new();
    let sink = sink.unwrap_or_else(|| Arc::new(collect.clone()));
    let output = Output::new(&build.telemetry, [(Signal::Logs, sink)]);
    let (trigger, shutdown) = Shutdown::new();
    let cx = ReceiverContext::new(output, shutdown, build.telemetry.clone());
    Harness {
        receiver,
        cx,
        trigger,
        sink: collect,
        build,
    }
}

impl Harness {
    /// Runs to the end of input and gives the batches.
    async fn run_to_end(self) -> Vec<Batch> {
        let Harness {
            receiver, cx, sink, ..
        } = self;
        let receiver: Box<dyn Receiver> = Box::new(receiver);
        tokio::time::timeout(Duration::from_secs(10), receiver.run(cx))
            .await
            .expect("receiver ends at end of input")
            .expect("receiver succeeds");
        sink.take()
    }

    /// Runs the receiver as a task.
    fn start(
        self,
    ) -> (
        tokio::task::JoinHandle<Result<(), ComponentError>>,
        ShutdownTrigger,
    ) {
        let receiver: Box<dyn Receiver> = Box::new(self.receiver);
        (tokio::spawn(receiver.run(self.cx)), self.trigger)
    }
}

fn records(batches: &[Batch]) -> Vec<LogRecord> {
    let mut out = Vec::new();
    for batch in batches {
        let weir_core::SignalData::Logs(rl) = batch.data().unwrap() else {
            panic!("logs batch")
        };
        for r in rl {
            for s in &r.scope_logs {
                assert_eq!(s.scope.as_ref().unwrap().name, SCOPE_NAME);
                out.extend(s.log_records.iter().cloned());
            }
        }
    }
    out
}

fn bodies(batches: &[Batch]) -> Vec<String> {
    records(batches)
        .iter()
        .map(|r| match r.body.as_ref().and_then(|b| b.value.as_ref()) {
            Some(Value::StringValue(s)) => s.clone(),
            other => format!("{other:?}"),
        })
        .collect()
}

/// Returns at most `max` bytes per read, so lines span chunks.
struct SmallReads<R>(R, usize);

impl<R: Read> Read for SmallReads<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.1);
        self.0.read(&mut buf[..n])
    }
}

/// Blocks until the test hands it bytes; end of input when the sender drops.
struct SlowReader {
    rx: mpsc::Receiver<Vec<u8>>,
    pending: Cursor<Vec<u8>>,
}

fn slow_reader() -> (mpsc::Sender<Vec<u8>>, SlowReader) {
    let (tx, rx) = mpsc::channel();
    let pending = Cursor::new(Vec::new());
    (tx, SlowReader { rx, pending })
}

impl Read for SlowReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pending.position() as usize == self.pending.get_ref().len() {
            match self.rx.recv() {
                Ok(bytes) => self.pending = Cursor::new(bytes),
                Err(_) => return Ok(0),
            }
        }
        self.pending.read(buf)
    }
}

async fn wait_for_items(sink: &CollectSink, items: usize) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while sink.items() < items {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("items arrive");
}

#[tokio::test]
async fn lines_arrive_in_order_in_batches_of_at_most_max_batch() {
    let input: String = (0..2500).map(|i| format!("line {i}\n")).collect();
    let h = harness("max_batch: 1000", SmallReads(Cursor::new(input), 777));
    let accepted = h.build.telemetry.clone();
    let batches = h.run_to_end().await;
    assert!(batches.iter().all(|b| b.items() <= 1000));
    assert_eq!(batches.iter().map(Batch::items).sum::<usize>(), 2500);
    let expected: Vec<String> = (0..2500).map(|i| format!("line {i}")).collect();
    assert_eq!(bodies(&batches), expected);
    assert_eq!(batches[0].meta().receiver.as_deref(), Some("stdin"));
    let accepted = accepted
        .counter(names::RECEIVER_ACCEPTED_ITEMS, Some(Signal::Logs), &[])
        .get();
    assert_eq!(accepted, 2500);
}

#[tokio::test]
async fn json_and_text_lines_are_mapped() {
    let input = "plain\n{\"msg\":\"structured\",\"level\":\"error\",\"user\":\"ada\"}\n{broken\n";
    let batches = harness("{}", Cursor::new(input)).run_to_end().await;
    let got = records(&batches);
    assert_eq!(bodies(&batches), ["plain", "structured", "{broken"]);
    assert_eq!(got[1].severity_number, 17);
    assert_eq!(got[1].attributes[0].key, "user");
    assert!(got.iter().all(|r| r.observed_time_unix_nano > 0));

    let batches = harness("format: json", Cursor::new("not json\n"))
        .run_to_end()
        .await;
    assert_eq!(records(&batches)[0].attributes[0].key, attr::PARSE_ERROR);
    let batches = harness("format: text", Cursor::new("{\"msg\":1}\n"))
        .run_to_end()
        .await;
    assert_eq!(bodies(&batches), ["{\"msg\":1}"]);
}

#[tokio::test]
async fn crlf_empty_lines_and_a_missing_final_newline() {
    let input = "first\r\n\r\n\nsecond\r\nlast without newline";
    let batches = harness("{}", SmallReads(Cursor::new(input), 3))
        .run_to_end()
        .await;
    assert_eq!(
        bodies(&batches),
        ["first", "second", "last without newline"]
    );
}

#[tokio::test]
async fn long_lines_are_cut_marked_and_counted() {
    // A 100 KB line spanning many reads, with a multi-byte char at the cut.
    let long = format!("abcdefghijklmno\u{e9}{}", "x".repeat(100_000));
    let input = format!("short\n{long}\nafter\n");
    let h = harness("max_line_bytes: 16", SmallReads(Cursor::new(input), 4096));
    let telemetry = h.build.telemetry.clone();
    let batches = h.run_to_end().await;
    let got = records(&batches);
    assert_eq!(bodies(&batches), ["short", "abcdefghijklmno", "after"]);
    let marks: Vec<_> = got[1].attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(marks, [attr::TRUNCATED, attr::ORIGINAL_BYTES]);
    let original = &got[1].attributes[1].value.as_ref().unwrap().value;
    assert_eq!(original, &Some(Value::IntValue(long.len() as i64)));
    assert!(got[0].attributes.is_empty() && got[2].attributes.is_empty());
    let truncated = telemetry.counter(names::RECEIVER_TRUNCATED_ITEMS, Some(Signal::Logs), &[]);
    assert_eq!(truncated.get(), 1);
}

#[tokio::test]
async fn a_partial_batch_goes_out_after_max_delay() {
    let (tx, reader) = slow_reader();
    let h = harness("max_delay: 50ms\nmax_batch: 1000", reader);
    let sink = h.sink.clone();
    let (run, _trigger) = h.start();
    let sent_at = std::time::Instant::now();
    tx.send(b"a\nb\n".to_vec()).unwrap();
    wait_for_items(&sink, 2).await;
    assert!(
        sent_at.elapsed() >= Duration::from_millis(50),
        "not before max_delay"
    );
    tx.send(b"c\n".to_vec()).unwrap();
    drop(tx);
    run.await.unwrap().unwrap();
    let batches = sink.take();
    assert_eq!(batches.len(), 2);
    assert_eq!(bodies(&batches), ["a", "b", "c"]);
}

#[tokio::test]
async fn shutdown_mid_stream_sends_what_was_read() {
    let (tx, reader) = slow_reader();
    let h = harness("max_delay: 1h", reader);
    let sink = h.sink.clone();
    let (run, trigger) = h.start();
    tx.send(b"x\ny\npart".to_vec()).unwrap();
    // Give the reader thread time to hand the chunk over; nothing is flushed yet.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.items(), 0);
    trigger.trigger();
    // The reader thread is still blocked in `read`: the receiver must not wait for it.
    tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .expect("stops at shutdown")
        .unwrap()
        .unwrap();
    assert_eq!(bodies(&sink.take()), ["x", "y", "part"]);
    drop(tx);
}

/// Gives `data`, then fails.
struct FailingReader(Cursor<&'static str>);

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.read(buf)? {
            0 => Err(io::Error::other("disk on fire")),
            n => Ok(n),
        }
    }
}

#[tokio::test]
async fn a_read_error_fails_the_run_after_sending_what_came_before() {
    let h = harness("{}", FailingReader(Cursor::new("one\ntwo")));
    let sink = h.sink.clone();
    let (run, _trigger) = h.start();
    let err: ComponentError = run.await.unwrap().unwrap_err();
    assert!(err.to_string().contains("disk on fire"), "{err}");
    assert_eq!(bodies(&sink.take()), ["one", "two"]);
}

/// A sink that never has room.
struct BlockingSink;

#[async_trait]
impl BatchSink for BlockingSink {
    async fn send(
        &self,
        _batch: Batch,
        _deadline: Option<tokio::time::Instant>,
    ) -> Result<(), SendError> {
        std::future::pending().await
    }
}

/// Endless 1 KB lines, counting the bytes handed out.
struct EndlessReader(Arc<AtomicUsize>);

impl Read for EndlessReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = if i % 1024 == 1023 { b'\n' } else { b'x' };
        }
        self.0.fetch_add(buf.len(), Ordering::Relaxed);
        Ok(buf.len())
    }
}

#[tokio::test]
async fn a_full_pipeline_stops_the_reading() {
    let read = Arc::new(AtomicUsize::new(0));
    let h = harness_with_sink(
        "max_batch: 10",
        EndlessReader(Arc::clone(&read)),
        Some(Arc::new(BlockingSink)),
    );
    let accepted = h.build.telemetry.clone();
    let (run, _trigger) = h.start();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after_300ms = read.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after_500ms = read.load(Ordering::Relaxed);
    assert_eq!(after_300ms, after_500ms, "reading stopped");
    // The channel and the chunk in hand: a few read buffers, not the stream.
    assert!(after_500ms <= 8 * 256 * 1024, "{after_500ms} bytes read");
    run.abort();
    let accepted = accepted.counter(names::RECEIVER_ACCEPTED_ITEMS, Some(Signal::Logs), &[]);
    assert_eq!(accepted.get(), 0);
}

#[test]
fn config_defaults_and_every_key() {
    let all = "format: json\nmax_line_bytes: 64KiB\nmax_batch: 5\nmax_delay: 1s";
    let c = StdinConfig::from_component(&ComponentConfig::from_yaml(all).unwrap()).unwrap();
    assert_eq!(c.format, LineFormat::Json);
    assert_eq!(c.max_line_bytes.bytes(), 64 * 1024);
    assert_eq!((c.max_batch, c.max_delay), (5, Duration::from_secs(1)));
    let empty = ComponentConfig::new(Default::default());
    assert_eq!(
        StdinConfig::from_component(&empty).unwrap(),
        StdinConfig::default()
    );
    let d = StdinConfig::default();
    assert_eq!(d.format, LineFormat::Auto);
    assert_eq!(d.max_line_bytes.bytes(), 1 << 20);
    assert_eq!(
        (d.max_batch, d.max_delay),
        (1000, Duration::from_millis(200))
    );
}

#[test]
fn config_errors_name_the_key() {
    let cases = [
        ("max_batch: 0", Some("max_batch")),
        ("max_line_bytes: 0", Some("max_line_bytes")),
        ("format: xml", Some("format")),
        ("max_delay: soon", Some("max_delay")),
        ("max_line_bytes: lots", Some("max_line_bytes")),
        ("max_batch: -1", Some("max_batch")),
    ];
    let cx = BuildContext::for_test("stdin", Kind::Receiver, &[Signal::Logs]);
    for (yaml, path) in cases {
        let cfg = ComponentConfig::from_yaml(yaml).unwrap();
        let err = StdinReceiverFactory.build(&cfg, &cx).err().expect(yaml);
        assert_eq!(err.path.as_deref(), path, "{yaml}: {err}");
    }
    let cfg = ComponentConfig::from_yaml("colour: blue").unwrap();
    let err = StdinReceiverFactory.build(&cfg, &cx).err().unwrap();
    assert!(err.to_string().contains("colour"), "{err}");
    assert_eq!(StdinReceiverFactory.type_name(), "stdin");
    assert_eq!(StdinReceiverFactory.signals(), &[Signal::Logs]);
}

#[tokio::test]
async fn over_the_memory_budget_input_waits_and_nothing_is_refused() {
    use weir_core::ByteSize;
    use weir_core::memory::MemoryBudget;
    let (tx, reader) = slow_reader();
    let mut h = harness("max_delay: 10ms\nmax_batch: 1000", reader);
    let budget = MemoryBudget::new(ByteSize::mib(64));
    budget.record_resident(63 << 20);
    h.cx = h.cx.with_memory(budget.clone());
    let sink = h.sink.clone();
    let (run, _trigger) = h.start();
    tx.send(b"a\nb\n".to_vec()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.items(), 0, "no input taken while over the budget");
    budget.record_resident(10 << 20);
    wait_for_items(&sink, 2).await;
    drop(tx);
    run.await.unwrap().unwrap();
    assert_eq!(bodies(&sink.take()), ["a", "b"]);
}
