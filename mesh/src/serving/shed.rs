//! Server-side load shedding: past a configured number of calls in flight, answer at once
//! with `RESOURCE_EXHAUSTED` and `RetryInfo` instead of queueing without bound. Health and
//! reflection are never shed, so probes stay truthful under load.
//!
//! A call takes its permit only once its whole request has arrived (every mediamesh RPC is
//! unary), read within `BODY_DEADLINE` and up to `MAX_REQUEST_BYTES`: a client that sends
//! headers and holds its body back holds no permit, so a thousand such streams cannot stop
//! the server answering everyone else (and the calls contexts make to each other).
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::Semaphore;
use tower::{Layer, Service};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use tonic::body::Body;

use crate::error::resource_exhausted;

/// How long a request's body may take to arrive.
pub const BODY_DEADLINE: Duration = Duration::from_secs(10);
/// The largest request taken in (gRPC's default message limit, plus its 5-byte frame).
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024 + 5;

#[derive(Clone)]
pub struct ShedLayer {
    permits: Arc<Semaphore>,
    max: usize,
}

impl ShedLayer {
    pub fn new(max_in_flight: usize) -> ShedLayer {
        ShedLayer {
            permits: Arc::new(Semaphore::new(max_in_flight)),
            max: max_in_flight,
        }
    }

    /// Calls being served now (health and reflection not counted): shutdown waits for
    /// them to finish before it closes the listener.
    pub fn in_flight(&self) -> usize {
        self.max - self.permits.available_permits()
    }
}

impl<S> Layer<S> for ShedLayer {
    type Service = Shed<S>;
    fn layer(&self, inner: S) -> Shed<S> {
        Shed {
            inner,
            permits: self.permits.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Shed<S> {
    inner: S,
    permits: Arc<Semaphore>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> Service<http::Request<Body>> for Shed<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        // Take the service that was driven to readiness, leave a fresh clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if request.uri().path().starts_with("/grpc.") {
            return Box::pin(inner.call(request));
        }
        let permits = self.permits.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let read = Limited::new(body, MAX_REQUEST_BYTES).collect();
            let bytes: Bytes = match tokio::time::timeout(BODY_DEADLINE, read).await {
                Ok(Ok(collected)) => collected.to_bytes(),
                Ok(Err(_)) => {
                    let status = tonic::Status::resource_exhausted(
                        "request larger than 4 MiB, or broken off",
                    );
                    return Ok(status.into_http());
                }
                Err(_) => {
                    let status =
                        tonic::Status::deadline_exceeded("request body not received in time");
                    return Ok(status.into_http());
                }
            };
            let Ok(permit) = permits.try_acquire_owned() else {
                metrics::counter!(crate::observe::metrics::SHED).increment(1);
                let status = resource_exhausted(
                    "server overloaded; try again later",
                    Duration::from_millis(100),
                );
                return Ok(status.into_http());
            };
            let request = http::Request::from_parts(parts, Body::new(Full::new(bytes)));
            let response = inner.call(request).await;
            drop(permit);
            response
        })
    }
}
