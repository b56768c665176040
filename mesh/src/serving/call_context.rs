//! The context every incoming call runs in: the caller's `traceparent` continued (or a new
//! trace) and the caller's deadline from `grpc-timeout`, so the calls it makes in turn join
//! its trace and never outlive it.
use crate::observe::telemetry::hop;

/// Scopes every incoming call in its trace and deadline.
#[derive(Clone, Default)]
pub struct CallContextLayer;

impl<S> tower::Layer<S> for CallContextLayer {
    type Service = InCallContext<S>;
    fn layer(&self, inner: S) -> InCallContext<S> {
        InCallContext { inner }
    }
}

#[derive(Clone)]
pub struct InCallContext<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for InCallContext<S>
where
    S: tower::Service<http::Request<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let parent = request
            .headers()
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let timeout = request
            .headers()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(crate::calls::deadline::parse_grpc_timeout);
        let path = request.uri().path().to_owned();
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let call = hop(&path, "server", parent.as_deref(), inner.call(request));
            crate::calls::deadline::within(timeout, call).await
        })
    }
}
