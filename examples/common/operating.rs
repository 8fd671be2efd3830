//! `GET /metrics` and `GET /ready` of every example server: the library's
//! metrics (feature `metrics`) in the Prometheus text format, rendered by
//! `metrics-exporter-prometheus` on the server's own port (no listener of
//! its own), and the validator's readiness report.

use std::sync::OnceLock;
use std::time::Duration;

use bearer_policy::{ReadinessReport, Validator};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The `Content-Type` of `GET /metrics`: the Prometheus text format.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4";

static PROMETHEUS: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder as the process's recorder. Call it
/// before the validator is built: the validator registers its handles with
/// the recorder installed then.
pub fn install_recorder() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() || PROMETHEUS.set(handle.clone()).is_err() {
        return;
    }
    // Histograms are drained into their summaries by upkeep.
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            handle.run_upkeep();
        }
    });
}

/// The body of `GET /metrics`.
pub fn render() -> String {
    PROMETHEUS
        .get()
        .map(PrometheusHandle::render)
        .unwrap_or_default()
}

/// `GET /ready`: 200 when every issuer has keys, else 503 (though the
/// server already serves the issuers that are up), with the report.
pub fn readiness(validator: &Validator) -> (u16, ReadinessReport) {
    let report = validator.readiness();
    (if report.ready { 200 } else { 503 }, report)
}
