//! The metric names of DESIGN.md §6, in one place. [`ALL`] lists them for
//! tests that keep docs/telemetry.md and docs/dashboard.json in step.

/// Items a receiver handed to its pipelines.
pub const RECEIVER_ACCEPTED_ITEMS: &str = "weir_receiver_accepted_items_total";
/// Items a receiver refused, by `reason`.
pub const RECEIVER_REFUSED_ITEMS: &str = "weir_receiver_refused_items_total";
/// Items a receiver accepted after cutting them to its size limit.
pub const RECEIVER_TRUNCATED_ITEMS: &str = "weir_receiver_truncated_items_total";
/// Items that entered a processor.
pub const PROCESSOR_RECEIVED_ITEMS: &str = "weir_processor_received_items_total";
/// Items a processor emitted.
pub const PROCESSOR_SENT_ITEMS: &str = "weir_processor_sent_items_total";
/// Items a processor dropped on purpose, by `reason`.
pub const PROCESSOR_DROPPED_ITEMS: &str = "weir_processor_dropped_items_total";
/// Items an exporter delivered.
pub const EXPORTER_SENT_ITEMS: &str = "weir_exporter_sent_items_total";
/// Items an exporter gave up on, by `reason`.
pub const EXPORTER_FAILED_ITEMS: &str = "weir_exporter_failed_items_total";
/// Export attempts that were retried.
pub const EXPORTER_RETRIES: &str = "weir_exporter_retries_total";
/// Items waiting in an exporter's queue.
pub const EXPORTER_QUEUE_ITEMS: &str = "weir_exporter_queue_items";
/// Capacity of an exporter's queue, in batches.
pub const EXPORTER_QUEUE_CAPACITY: &str = "weir_exporter_queue_capacity";
/// Duration of export calls.
pub const EXPORTER_SEND_DURATION: &str = "weir_exporter_send_duration_seconds";
/// Items per batch handed to an exporter (histogram; one observation per
/// batch, however many attempts it takes).
pub const EXPORTER_BATCH_SIZE_ITEMS: &str = "weir_exporter_batch_size_items";
/// Approximate encoded bytes per batch handed to an exporter (histogram).
pub const EXPORTER_BATCH_SIZE_BYTES: &str = "weir_exporter_batch_size_bytes";
/// Seconds from the arrival of a batch's first data in weir to its successful
/// export (histogram; survives restarts with a disk queue).
pub const EXPORTER_END_TO_END_LATENCY: &str = "weir_exporter_end_to_end_latency_seconds";
/// Bytes a disk queue's spool takes on disk.
pub const EXPORTER_SPOOL_BYTES: &str = "weir_exporter_spool_bytes";
/// Batches in a disk queue's spool not yet delivered.
pub const EXPORTER_SPOOL_BATCHES: &str = "weir_exporter_spool_batches";
/// Spells during which a disk queue found its spool (or disk) full and held its intake.
pub const EXPORTER_SPOOL_FULL: &str = "weir_exporter_spool_full_total";
/// Torn or corrupt frames a disk queue skipped when it opened its spool.
pub const EXPORTER_SPOOL_CORRUPT_FRAMES: &str = "weir_exporter_spool_corrupt_frames_total";
/// Batches a disk queue found pending from the last run when it opened.
pub const EXPORTER_SPOOL_REPLAYED_BATCHES: &str = "weir_exporter_spool_replayed_batches_total";
/// The concurrency limit an exporter's adaptive concurrency has reached.
pub const EXPORTER_CONCURRENCY_LIMIT: &str = "weir_exporter_concurrency_limit";
/// Items waiting in a pipeline channel.
pub const CHANNEL_ITEMS: &str = "weir_channel_items";
/// `adaptive_batch`: items per emitted batch (histogram).
pub const PROCESSOR_BATCH_SIZE_ITEMS: &str = "weir_processor_batch_size_items";
/// `adaptive_batch`: emitted batches, by `reason` (`items`, `bytes`,
/// `delay`, `shutdown`).
pub const PROCESSOR_BATCH_FLUSHES: &str = "weir_processor_batch_flushes_total";
/// `adaptive_batch`: the current delay target in milliseconds (gauge).
pub const PROCESSOR_BATCH_DELAY_TARGET_MS: &str = "weir_processor_batch_delay_target_milliseconds";
/// `sample`: decisions, by `rule` and `outcome` (`kept`, `dropped`).
pub const PROCESSOR_SAMPLE_DECISIONS: &str = "weir_processor_sample_decisions_total";
/// `rate_limit`: per-key buckets held now (gauge).
pub const PROCESSOR_RATE_LIMIT_KEYS: &str = "weir_processor_rate_limit_keys";
/// `rate_limit`: items `on_excess: delay` held back until tokens were there.
pub const PROCESSOR_RATE_LIMIT_DELAYED_ITEMS: &str =
    "weir_processor_rate_limit_delayed_items_total";
/// `enrich`: string bodies turned into fields by `parse_json_body`.
pub const PROCESSOR_ENRICH_JSON_BODIES_PARSED: &str =
    "weir_processor_enrich_json_bodies_parsed_total";
/// `ledger`: requests made, by `status` (the HTTP status, or `timeout`,
/// `connect`, `transport` when there was no answer).
pub const EXPORTER_LEDGER_API_CALLS: &str = "weir_exporter_ledger_api_calls_total";
/// `ledger`: requests that failed, by `status` (every non-2xx answer and
/// every request without one).
pub const EXPORTER_LEDGER_API_ERRORS: &str = "weir_exporter_ledger_api_errors_total";
/// `ledger`: records that had a field cut or attributes dropped to fit
/// the server's limits (they are sent, marked `_truncated`).
pub const EXPORTER_LEDGER_TRUNCATED_ITEMS: &str = "weir_exporter_ledger_truncated_items_total";
/// `ledger`: milliseconds requests waited for the client-side rate limit.
pub const EXPORTER_LEDGER_RATE_LIMIT_WAIT: &str =
    "weir_exporter_ledger_rate_limit_wait_milliseconds_total";
/// `ledger`: settings reads, by `result` (`ok`, `failed`).
pub const EXPORTER_LEDGER_SETTINGS_FETCHES: &str = "weir_exporter_ledger_settings_fetches_total";
/// Resident memory of the process.
pub const PROCESS_RESIDENT_MEMORY: &str = "weir_process_resident_memory_bytes";
/// CPU time the process used.
pub const PROCESS_CPU_SECONDS: &str = "weir_process_cpu_seconds_total";
/// Seconds since the process started.
pub const PROCESS_UPTIME: &str = "weir_process_uptime_seconds";

/// Every name above, in order of declaration.
pub const ALL: &[&str] = &[
    RECEIVER_ACCEPTED_ITEMS,
    RECEIVER_REFUSED_ITEMS,
    RECEIVER_TRUNCATED_ITEMS,
    PROCESSOR_RECEIVED_ITEMS,
    PROCESSOR_SENT_ITEMS,
    PROCESSOR_DROPPED_ITEMS,
    EXPORTER_SENT_ITEMS,
    EXPORTER_FAILED_ITEMS,
    EXPORTER_RETRIES,
    EXPORTER_QUEUE_ITEMS,
    EXPORTER_QUEUE_CAPACITY,
    EXPORTER_SEND_DURATION,
    EXPORTER_BATCH_SIZE_ITEMS,
    EXPORTER_BATCH_SIZE_BYTES,
    EXPORTER_END_TO_END_LATENCY,
    EXPORTER_SPOOL_BYTES,
    EXPORTER_SPOOL_BATCHES,
    EXPORTER_SPOOL_FULL,
    EXPORTER_SPOOL_CORRUPT_FRAMES,
    EXPORTER_SPOOL_REPLAYED_BATCHES,
    EXPORTER_CONCURRENCY_LIMIT,
    CHANNEL_ITEMS,
    PROCESSOR_BATCH_SIZE_ITEMS,
    PROCESSOR_BATCH_FLUSHES,
    PROCESSOR_BATCH_DELAY_TARGET_MS,
    PROCESSOR_SAMPLE_DECISIONS,
    PROCESSOR_RATE_LIMIT_KEYS,
    PROCESSOR_RATE_LIMIT_DELAYED_ITEMS,
    PROCESSOR_ENRICH_JSON_BODIES_PARSED,
    EXPORTER_LEDGER_API_CALLS,
    EXPORTER_LEDGER_API_ERRORS,
    EXPORTER_LEDGER_TRUNCATED_ITEMS,
    EXPORTER_LEDGER_RATE_LIMIT_WAIT,
    EXPORTER_LEDGER_SETTINGS_FETCHES,
    PROCESS_RESIDENT_MEMORY,
    PROCESS_CPU_SECONDS,
    PROCESS_UPTIME,
];

#[cfg(test)]
mod tests {
    use super::ALL;

    #[test]
    fn all_lists_every_name_once() {
        let source = include_str!("names.rs");
        let declared: Vec<&str> = source
            .lines()
            .filter_map(|l| l.strip_prefix("pub const "))
            .filter_map(|l| l.split_once(": &str"))
            .map(|(name, _)| name)
            .collect();
        assert_eq!(declared.len(), ALL.len(), "ALL misses a name: {declared:?}");
        let mut unique = ALL.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ALL.len(), "a name twice");
        for name in ALL {
            assert!(name.starts_with("weir_"), "{name}");
        }
    }
}
