//! Server-side load shedding: past a configured number of calls in flight, answer at once
//! with `RESOURCE_EXHAUSTED` and `RetryInfo` instead of queueing without bound. Health and
//! reflection are never shed, so probes stay truthful under load.
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::Semaphore;
use tower::{Layer, Service};

use crate::error::resource_exhausted;

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

impl<S, B> Service<http::Request<B>> for Shed<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let exempt = request.uri().path().starts_with("/grpc.");
        let permit = if exempt {
            None
        } else {
            self.permits.clone().try_acquire_owned().ok()
        };
        if !exempt && permit.is_none() {
            metrics::counter!(crate::observe::metrics::SHED).increment(1);
            let status = resource_exhausted(
                "server overloaded; try again later",
                Duration::from_millis(100),
            );
            return Box::pin(async move { Ok(status.into_http()) });
        }
        // Take the service that was driven to readiness, leave a fresh clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let response = inner.call(request).await;
            drop(permit);
            response
        })
    }
}
