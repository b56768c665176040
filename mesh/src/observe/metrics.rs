//! Prometheus metrics on the admin port (`/metrics`): calls served by method and code with
//! their latency, load shed, peer calls and breaker state, events published, applied,
//! redelivered and dead-lettered; and the gauges an operator alerts on: outbox backlog and
//! the age of its oldest row, consumer lag, dead letters, breaker state per peer, and each
//! context's readiness.
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const CALLS: &str = "mediamesh_grpc_server_handled_total";
pub const CALL_SECONDS: &str = "mediamesh_grpc_server_handling_seconds";
pub const SHED: &str = "mediamesh_grpc_server_shed_total";
pub const PEER_CALLS: &str = "mediamesh_peer_calls_total";
pub const BREAKER_OPEN: &str = "mediamesh_peer_breaker_open";
/// Per peer: 0 closed, 1 half-open (a probe in flight), 2 open; set on every transition.
pub const BREAKER_STATE: &str = "mediamesh_peer_breaker_state";
pub const PUBLISHED: &str = "mediamesh_events_published_total";
pub const APPLIED: &str = "mediamesh_events_applied_total";
pub const REDELIVERED: &str = "mediamesh_events_redelivered_total";
pub const DEAD_LETTERED: &str = "mediamesh_events_dead_lettered_total";
pub const RELAY_ERRORS: &str = "mediamesh_outbox_relay_errors_total";
pub const TASK_RESTARTS: &str = "mediamesh_task_restarts_total";
pub const OUTBOX_BACKLOG: &str = "mediamesh_outbox_backlog";
pub const OUTBOX_OLDEST_SECONDS: &str = "mediamesh_outbox_oldest_age_seconds";
pub const DEAD_LETTERS: &str = "mediamesh_dead_letters";
pub const CONSUMER_PENDING: &str = "mediamesh_consumer_pending";
/// Events in the stream a durable consumer has not applied yet (pending plus unacked).
pub const CONSUMER_LAG: &str = "mediamesh_consumer_lag";
/// 1 while a context is ready (its health services SERVING), else 0.
pub const CONTEXT_READY: &str = "mediamesh_context_ready";
pub const TASK_RUNNING: &str = "mediamesh_task_running";

/// Installs the process's Prometheus recorder; the admin port (`serving::admin`) serves
/// what the handle renders and runs its `upkeep`.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("_seconds".into()),
            &[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ],
        )?
        .install_recorder()?;
    Ok(handle)
}

/// Histogram upkeep every 5 s until `stop` (the admin port runs it supervised).
pub async fn upkeep(handle: PrometheusHandle, stop: tokio_util::sync::CancellationToken) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => handle.run_upkeep(),
            _ = stop.cancelled() => return,
        }
    }
}

/// Counts every call served by method and gRPC code, and times it. Methods this server does
/// not serve are counted as one `unknown` label: a label per random path would let anyone
/// grow `/metrics` and the process without bound.
#[derive(Clone, Default)]
pub struct RecordLayer {
    known: Arc<HashSet<String>>,
}

impl RecordLayer {
    /// `known` holds the served paths (`/mediamesh.vod.v1.PaymentService/Pay`).
    pub fn new(known: HashSet<String>) -> RecordLayer {
        RecordLayer {
            known: Arc::new(known),
        }
    }
}

impl<S> tower::Layer<S> for RecordLayer {
    type Service = Recorded<S>;
    fn layer(&self, inner: S) -> Recorded<S> {
        Recorded {
            inner,
            known: self.known.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Recorded<S> {
    inner: S,
    known: Arc<HashSet<String>>,
}

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S, B, R> tower::Service<http::Request<B>> for Recorded<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path();
        let method = if self.known.contains(path) {
            path.to_owned()
        } else {
            "unknown".to_owned()
        };
        let started = Instant::now();
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let response = inner.call(request).await;
            if let Ok(response) = &response {
                // Errors come back trailers-only, with grpc-status in the headers; a unary
                // success sends its status in trailers.
                let code = response
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i32>().ok())
                    .map(|c| format!("{:?}", tonic::Code::from(c)))
                    .unwrap_or_else(|| "Ok".to_owned());
                metrics::counter!(CALLS, "grpc_method" => method.clone(), "grpc_code" => code)
                    .increment(1);
                metrics::histogram!(CALL_SECONDS, "grpc_method" => method)
                    .record(started.elapsed().as_secs_f64());
            }
            response
        })
    }
}
