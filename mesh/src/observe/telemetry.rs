//! Logs (human or JSON) and W3C trace context. Every call and event hop carries a
//! `traceparent`: taken from incoming gRPC metadata or event headers, made fresh otherwise,
//! and passed on to outgoing calls and raised events.
use tonic::metadata::MetadataMap;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub use crate::observe::otel::OtelGuard;

tokio::task_local! {
    static TRACEPARENT: String;
}

/// Installs the global subscriber; `json` switches to one JSON object per line. With
/// `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans are exported too; keep the guard until exit.
pub fn init(json: bool) -> anyhow::Result<Option<OtelGuard>> {
    let filter = EnvFilter::try_from_env("MEDIAMESH_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,async_nats=warn,h2=warn,tower=warn"));
    let (fmt_json, fmt_text) = if json {
        (
            Some(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            ),
            None,
        )
    } else {
        (
            None,
            Some(tracing_subscriber::fmt::layer().with_writer(std::io::stderr)),
        )
    };
    let otel = crate::observe::otel::layer()?;
    let (otel_layer, guard) = match otel {
        Some((layer, guard)) => (Some(layer), Some(guard)),
        None => (None, None),
    };
    // A second init (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(otel_layer)
        .with(filter)
        .with(fmt_json)
        .with(fmt_text)
        .try_init();
    Ok(guard)
}

/// Runs `work` as one hop of a trace: a child of `parent` (the caller's or the event's
/// `traceparent`), exported as a span when OpenTelemetry is on, and handing its own
/// `traceparent` to every call it makes and event it raises.
pub async fn hop<F: std::future::Future>(
    name: &str,
    kind: &'static str,
    parent: Option<&str>,
    work: F,
) -> F::Output {
    if crate::observe::otel::enabled() {
        let (span, traceparent) = crate::observe::otel::span(name, kind, parent);
        in_trace(traceparent, work).instrument(span).await
    } else {
        in_trace(child_traceparent(parent), work).await
    }
}

/// Now in RFC 3339, UTC, always with microseconds: fixed width, so text order is time order.
pub fn now_rfc3339() -> String {
    rfc3339(time::OffsetDateTime::now_utc())
}

/// Milliseconds since the Unix epoch (outbox ages).
pub fn unix_millis() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The time `ago` before now, formatted like `now_rfc3339`.
pub fn rfc3339_before(ago: std::time::Duration) -> String {
    rfc3339(time::OffsetDateTime::now_utc() - ago)
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// The trace context of the call or event being handled, if any.
pub fn current_traceparent() -> Option<String> {
    TRACEPARENT.try_with(Clone::clone).ok()
}

/// A traceparent continuing `parent` (same trace id, new span id), or a new trace.
pub fn child_traceparent(parent: Option<&str>) -> String {
    let span = &uuid::Uuid::new_v4().simple().to_string()[..16];
    match parent.and_then(trace_id) {
        Some(trace) => format!("00-{trace}-{span}-01"),
        None => format!("00-{}-{span}-01", uuid::Uuid::new_v4().simple()),
    }
}

fn trace_id(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.split('-');
    let (_version, trace) = (parts.next()?, parts.next()?);
    (trace.len() == 32 && trace.chars().all(|c| c.is_ascii_hexdigit())).then_some(trace)
}

/// Runs `future` within the trace context `traceparent`.
pub async fn in_trace<F: std::future::Future>(traceparent: String, future: F) -> F::Output {
    TRACEPARENT.scope(traceparent, future).await
}

/// Adds the current trace context to outgoing gRPC metadata.
pub fn inject_traceparent(metadata: &mut MetadataMap) {
    if let Some(traceparent) = current_traceparent()
        && let Ok(value) = traceparent.parse()
    {
        metadata.insert("traceparent", value);
    }
}
