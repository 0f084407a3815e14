//! The benchmark harness in quick mode against the debug binary, so it never
//! rots: every scenario must deliver everything it sent.

use std::path::Path;

use weir_bench::{BenchEnv, SCENARIOS};

#[test]
fn every_bench_scenario_runs_quick_and_loses_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let env = BenchEnv {
        weir: env!("CARGO_BIN_EXE_weir").into(),
        workspace: Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
        scratch: scratch.path().to_path_buf(),
        quick: true,
    };
    for name in SCENARIOS {
        let r = weir_bench::run(name, &env).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.errors, 0, "{name}: weir failed");
        assert!(r.sent > 0, "{name}: sent nothing");
        assert_eq!(r.sent, r.received, "{name}: sent != received");
        assert!(
            r.peak_rss > 0 && r.cpu_seconds > 0.0,
            "{name}: no usage sampled: {r:?}"
        );
    }
}
