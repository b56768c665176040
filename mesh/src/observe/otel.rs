//! OpenTelemetry traces over OTLP/gRPC, on when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the
//! standard variable; `OTEL_SERVICE_NAME` and `OTEL_BSP_*` are honoured by the SDK). Each
//! gRPC call served and each event applied is a span; spans join the caller's trace through
//! `traceparent`, so one trace covers a REST call, its gRPC hops and its event hops.
use std::collections::HashMap;
use std::sync::OnceLock;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing_opentelemetry::OpenTelemetrySpanExt;

static ENABLED: OnceLock<bool> = OnceLock::new();

/// Whether spans are being exported (decides whether calls open spans at all).
pub fn enabled() -> bool {
    ENABLED.get().copied().unwrap_or(false)
}

/// Flushes and stops the exporter when dropped (at process exit).
pub struct OtelGuard {
    provider: SdkTracerProvider,
}

impl Drop for OtelGuard {
    fn drop(&mut self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("opentelemetry shutdown: {error}");
        }
    }
}

/// The tracing layer exporting spans, if `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
pub fn layer<S>() -> anyhow::Result<Option<(impl tracing_subscriber::Layer<S>, OtelGuard)>>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let Ok(endpoint) = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT") else {
        let _ = ENABLED.set(false);
        return Ok(None);
    };
    // The SDK exports from its own thread, where tonic finds no Tokio reactor: the exporter
    // gets a small runtime of its own.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("otel-export")
        .enable_all()
        .build()?;
    let exporter = {
        let _entered = runtime.enter();
        opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()?
    };
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "mediamesh".into());
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service)
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(OwnRuntime {
            inner: exporter,
            runtime,
        })
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("mediamesh");
    let _ = ENABLED.set(true);
    Ok(Some((
        tracing_opentelemetry::layer().with_tracer(tracer),
        OtelGuard { provider },
    )))
}

/// A span for one unit of work, child of `traceparent`; returns it with its own
/// `traceparent` to hand on to the next hop.
pub fn span(name: &str, kind: &'static str, traceparent: Option<&str>) -> (tracing::Span, String) {
    let span = tracing::info_span!("mediamesh", otel.name = name, otel.kind = kind);
    if let Some(parent) = traceparent {
        let carrier = HashMap::from([("traceparent".to_owned(), parent.to_owned())]);
        let _ = span.set_parent(TraceContextPropagator::new().extract(&carrier));
    }
    let context = span.context();
    let sc = context.span().span_context().clone();
    let traceparent = format!(
        "00-{}-{}-{:02x}",
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags().to_u8()
    );
    (span, traceparent)
}

#[derive(Debug)]
struct OwnRuntime<E> {
    inner: E,
    runtime: tokio::runtime::Runtime,
}

impl<E: SpanExporter> SpanExporter for OwnRuntime<E> {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        // Called on the SDK's export thread, outside any runtime.
        std::future::ready(self.runtime.block_on(self.inner.export(batch)))
    }

    fn shutdown_with_timeout(&self, timeout: std::time::Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}
