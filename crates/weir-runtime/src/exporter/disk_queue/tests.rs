//! The disk queue's own pieces; the whole of it runs in tests/disk_queue.rs.

use super::record::{batch_of, record_of};
use super::*;
use std::time::Duration;
use weir_core::otlp::logs::v1::ResourceLogs;
use weir_core::{BatchMeta, ClientInfo, Signal};

fn batch() -> Batch {
    Batch::logs(vec![ResourceLogs::default()], BatchMeta::default())
}

#[test]
fn the_hot_window_fills_and_a_backlog_on_disk_reads_full() {
    let mut st = State {
        hot: VecDeque::new(),
        hot_bytes: 0,
        hot_batches: 4,
        hot_limit: 1 << 20,
        cold_from: 0,
        cold_until: 0,
        intake_done: false,
    };
    assert_eq!(st.fill(), 0.0);
    st.push(0, batch());
    st.push(1, batch());
    assert_eq!(st.fill(), 0.5);
    st.push(2, batch());
    st.push(3, batch());
    st.push(4, batch()); // over the window: stays on disk
    assert_eq!(st.hot.len(), 4);
    assert_eq!((st.cold_from, st.cold_until), (4, 5));
    assert_eq!(st.fill(), 1.0);
    // Later batches join the backlog, keeping the order.
    st.hot.clear();
    st.push(5, batch());
    assert_eq!((st.cold_from, st.cold_until), (4, 6));
    assert_eq!(st.fill(), 1.0);
}

#[test]
fn a_batch_comes_back_from_its_record_with_its_meta() {
    let mut client = ClientInfo::default();
    client.subject = Some("tok-1234".into());
    client.headers = vec![("x-tenant".into(), "acme".into())];
    let meta = BatchMeta::from_receiver("otlp/edge".into()).with_client(Arc::new(client));
    let b = Batch::logs(vec![ResourceLogs::default()], meta);
    let back = batch_of(record_of(&b));
    assert_eq!(back.signal(), Signal::Logs);
    assert_eq!(back.to_protobuf(), b.to_protobuf());
    assert_eq!(back.meta().receiver.as_deref(), Some("otlp/edge"));
    let c = back.meta().client.as_ref().expect("client kept");
    assert_eq!(c.subject.as_deref(), Some("tok-1234"));
    assert_eq!(c.headers, vec![("x-tenant".into(), "acme".into())]);
    assert!(back.meta().received_at.elapsed() < Duration::from_secs(5));
}
