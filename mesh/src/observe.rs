//! Seeing the mesh: logs and W3C trace context (`telemetry`), OpenTelemetry export (`otel`),
//! Prometheus metrics (`metrics`).
pub mod metrics;
pub mod otel;
pub mod telemetry;
