//! The `blackhole` exporter: accepts everything and keeps nothing, optionally
//! after a delay per batch. For benchmarks (a sink that costs nothing) and tests
//! (a deliberately slow destination).

use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use weir_core::{
    Batch, BuildContext, ComponentConfig, ConfigError, ExportError, ExportOutcome, Exporter,
    ExporterFactory, Signal, async_trait,
};

/// Counts and discards everything: a sink that costs nothing for benchmarks, and
/// with `delay` a slow destination for tests.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlackholeConfig {
    /// Time each export call takes, to stand in for a slow destination.
    /// Default: `0s`.
    #[serde(default, with = "humantime_serde")]
    #[schemars(with = "weir_core::schema::HumanDuration")]
    pub delay: Duration,
}

/// Builds [`BlackholeExporter`]s.
pub struct BlackholeExporterFactory;

impl ExporterFactory for BlackholeExporterFactory {
    fn type_name(&self) -> &'static str {
        "blackhole"
    }
    fn description(&self) -> &'static str {
        "accepts and discards everything, optionally slowly (benchmarks and tests)"
    }
    fn signals(&self) -> &'static [Signal] {
        &[Signal::Logs, Signal::Traces, Signal::Metrics]
    }
    fn config_schema(&self) -> Option<weir_core::schema::Schema> {
        Some(weir_core::schema::for_config::<BlackholeConfig>())
    }
    fn build(
        &self,
        cfg: &ComponentConfig,
        _cx: &BuildContext,
    ) -> Result<Box<dyn Exporter>, ConfigError> {
        Ok(Box::new(BlackholeExporter { cfg: cfg.parse()? }))
    }
}

/// Discards batches, counting them as delivered.
pub struct BlackholeExporter {
    cfg: BlackholeConfig,
}

#[async_trait]
impl Exporter for BlackholeExporter {
    async fn export(&self, batch: &Batch) -> Result<ExportOutcome, ExportError> {
        if !self.cfg.delay.is_zero() {
            tokio::time::sleep(self.cfg.delay).await;
        }
        Ok(ExportOutcome::delivered(batch.items()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_core::telemetry::Kind;
    use weir_core::{BatchMeta, otlp::logs::v1::ResourceLogs};

    #[tokio::test(start_paused = true)]
    async fn delivers_after_the_delay() {
        let cx = BuildContext::for_test("blackhole", Kind::Exporter, &[Signal::Logs]);
        let cfg = ComponentConfig::from_yaml("delay: 2s").unwrap();
        let x = BlackholeExporterFactory.build(&cfg, &cx).unwrap();
        let batch = Batch::logs(vec![ResourceLogs::default()], BatchMeta::default());
        let t0 = tokio::time::Instant::now();
        assert_eq!(x.export(&batch).await.unwrap(), ExportOutcome::delivered(0));
        assert_eq!(t0.elapsed(), Duration::from_secs(2));
        let bad = ComponentConfig::from_yaml("delay: soon").unwrap();
        assert!(BlackholeExporterFactory.build(&bad, &cx).is_err());
    }
}
