//! The one gRPC server every process runs: the contexts' services plus health and
//! reflection, behind the same layers (trace context, load shedding) for every service.
use std::future::Future;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::{Routes, RoutesBuilder};
use tonic::transport::Server;

use crate::serving::auth::AuthLayer;
use crate::serving::call_context::CallContextLayer;
use crate::serving::shed::ShedLayer;

/// Adds gRPC server reflection (v1 and v1alpha, for older grpcurl) over every contract.
pub fn add_reflection(routes: &mut RoutesBuilder) -> anyhow::Result<()> {
    let v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(mediamesh_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(mediamesh_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    routes.add_service(v1).add_service(v1alpha);
    Ok(())
}

/// Serves `routes` on `listener` until `shutdown` resolves, then lets in-flight calls finish.
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    shed: ShedLayer,
    auth: AuthLayer,
    known_methods: std::collections::HashSet<String>,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    Server::builder()
        .tcp_nodelay(true)
        .http2_keepalive_interval(Some(std::time::Duration::from_secs(30)))
        .layer(crate::observe::metrics::RecordLayer::new(known_methods))
        .layer(crate::serving::sanitize::SanitizeLayer)
        .layer(CallContextLayer)
        .layer(auth)
        .layer(shed)
        .add_routes(routes)
        .serve_with_incoming_shutdown(no_delay(listener), shutdown)
        .await?;
    Ok(())
}

/// The accepted connections with Nagle's algorithm off. `Server::tcp_nodelay` applies only
/// to the listener tonic binds itself, not to an incoming stream: without this a small
/// answer could wait for the peer's delayed ACK, 40 ms on Linux (every p99 sat at ~44 ms).
fn no_delay(
    listener: TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt;
    TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set; serving the connection anyway");
        }
        Ok(stream)
    })
}

/// A server answering only health, on a listener shared with the full server that follows.
pub struct EarlyHealth {
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

/// The metadata key on an answer given for a call that was not run at all, so a gateway
/// may send it again (to another replica, or to this one once started) without risk.
pub const NOT_RUN: &str = "mediamesh-not-run";

/// Serves health alone on `listener` (a clone of the full server's socket, which stays
/// open, so no connection is refused during the handover). Every other call is answered
/// UNAVAILABLE with RetryInfo and [`NOT_RUN`]: the process is starting, nothing ran, come
/// back shortly. (tonic's own answer, UNIMPLEMENTED, told a client through the gateway a
/// 501 "not implemented" for a method the process serves a moment later.)
pub fn health_only(listener: std::net::TcpListener, health: Routes) -> anyhow::Result<EarlyHealth> {
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    let stop = tokio_util::sync::CancellationToken::new();
    let shutdown = stop.clone().cancelled_owned();
    let starting = tower::service_fn(|_: http::Request<axum::body::Body>| async {
        let mut status = crate::error::unavailable(
            "starting: this method is served in a moment; nothing was run",
            std::time::Duration::from_millis(250),
        );
        status.metadata_mut().insert(
            NOT_RUN,
            tonic::metadata::MetadataValue::from_static("starting"),
        );
        Ok::<_, std::convert::Infallible>(status.into_http::<tonic::body::Body>())
    });
    let routes = Routes::from(health.into_axum_router().fallback_service(starting));
    let task = tokio::spawn(async move {
        // Sanitized like the full server: a malformed health request is INVALID_ARGUMENT.
        let served = Server::builder()
            .layer(crate::serving::sanitize::SanitizeLayer)
            .add_routes(routes)
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
            .await;
        if let Err(error) = served {
            tracing::warn!(%error, "early health server failed");
        }
    });
    Ok(EarlyHealth { stop, task })
}

impl EarlyHealth {
    /// Stops accepting and closes its connections (clients reconnect to the full server).
    /// A call still open after a moment (a health `Watch` never ends by itself) is cut
    /// rather than waited for: it would hold the start back and keep this server running.
    pub async fn stop(mut self) {
        self.stop.cancel();
        let wait = std::time::Duration::from_millis(200);
        if tokio::time::timeout(wait, &mut self.task).await.is_err() {
            self.task.abort();
        }
    }
}
