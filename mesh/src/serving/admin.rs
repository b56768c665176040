//! The admin port (loopback by default): `/metrics` for Prometheus, and the live console
//! (`/`, `/console/*`) once the contexts have started, on hyper's HTTP/1 server (already in
//! the tree under tonic).
//!
//! The console can act (replay dead letters), so it answers only clients on this machine
//! (loopback; a widened port serves `/metrics` alone to others), and refuses what a hostile
//! page in the operator's browser could send: a `Host` that is a DNS name other than `localhost` (DNS
//! rebinding), and a POST without the console's own header (a cross-site form cannot set
//! one, and a cross-origin fetch that sets one needs a CORS preflight this port never
//! grants) or from another origin. Its pages forbid framing and scripts from elsewhere.
use std::convert::Infallible;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::serving::console::peers::AdminPeer;
use crate::serving::console::{self, Console, Part};
use crate::tasks::Tasks;

/// The header the console's own script sends with a replay.
pub const CONSOLE_HEADER: &str = "x-mediamesh-console";
/// A replay request's body is a context id and an event id.
const MAX_BODY: usize = 4096;

type Body = BoxBody<Bytes, Infallible>;

struct State {
    metrics: PrometheusHandle,
    console: OnceLock<Arc<Console>>,
}

/// The running admin port. Its loops (accept, metrics upkeep, console sampling) run
/// supervised (restarted if they die, `tasks`) and its connections are tracked: `shutdown`
/// stops and awaits all of them.
pub struct Admin {
    state: Arc<State>,
    tasks: Tasks,
    connections: TaskTracker,
}

/// Binds `addr` (a taken port is named with the flag that sets it), installs the metrics
/// recorder and serves until `Admin::shutdown`.
pub fn start(addr: SocketAddr) -> anyhow::Result<Admin> {
    let listener = std::net::TcpListener::bind(addr).map_err(|e| {
        anyhow::anyhow!("admin address {addr} (--admin-addr, MEDIAMESH_ADMIN_ADDR): {e}")
    })?;
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let state = Arc::new(State {
        metrics: crate::observe::metrics::install()?,
        console: OnceLock::new(),
    });
    let (tasks, connections) = (Tasks::default(), TaskTracker::new());
    let listener = Arc::new(listener);
    {
        let (state, connections) = (state.clone(), connections.clone());
        tasks.spawn("admin accept", move |stop| {
            accept(listener.clone(), state.clone(), connections.clone(), stop)
        });
    }
    let metrics = state.metrics.clone();
    tasks.spawn("metrics upkeep", move |stop| {
        crate::observe::metrics::upkeep(metrics.clone(), stop)
    });
    tracing::info!(%addr, "admin port: /metrics and the console on /");
    Ok(Admin {
        state,
        tasks,
        connections,
    })
}

impl Admin {
    /// Opens the console on the contexts started, following `admin_peers`' consoles.
    pub fn attach(&self, parts: Vec<Part>, admin_peers: Vec<AdminPeer>) {
        let console = Console::new(parts, self.state.metrics.clone(), admin_peers);
        if self.state.console.set(console.clone()).is_ok() {
            let sampler = console.clone();
            self.tasks
                .spawn("console sampler", move |stop| sampler.clone().sample(stop));
            if console.has_peers() {
                self.tasks.spawn("console peers", move |stop| {
                    console.clone().follow_peers(stop)
                });
            }
        }
    }

    /// Stops the loops, closes open connections (a console page's stream never ends by
    /// itself) and waits for all of them.
    pub async fn shutdown(&self) {
        self.tasks.shutdown().await;
        self.connections.close();
        self.connections.wait().await;
    }
}

async fn accept(
    listener: Arc<tokio::net::TcpListener>,
    state: Arc<State>,
    connections: TaskTracker,
    stop: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.cancelled() => return,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "admin port accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let state = state.clone();
        let local = on_this_machine(peer.ip());
        let stop = stop.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(route(&state, local, request).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = stop.cancelled() => {}
            }
        });
    }
}

/// `local`: the client connected from this machine (loopback).
async fn route(state: &State, local: bool, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    if path == "/metrics" && method == Method::GET {
        return text(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            state.metrics.render(),
        );
    }
    if !local {
        // A widened admin port (containers) is for Prometheus; the console, which can act,
        // stays with clients on this machine (`kubectl port-forward` is one).
        let refused = "the console answers clients on this machine only (port-forward to it)";
        return text(StatusCode::FORBIDDEN, "text/plain", refused.into());
    }
    if let Err(refused) = host_allowed(&request) {
        return text(StatusCode::FORBIDDEN, "text/plain", refused.into());
    }
    let Some(console) = state.console.get() else {
        let starting = "the contexts are starting; the console opens when they run";
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            starting.into(),
        );
    };
    match (method, path.as_str()) {
        (Method::GET, "/") => page(console::PAGE, "text/html; charset=utf-8"),
        (Method::GET, "/console.js") => page(console::SCRIPT, "text/javascript; charset=utf-8"),
        (Method::GET, "/console.css") => page(console::STYLE, "text/css; charset=utf-8"),
        // Browsers ask for it; there is none.
        (Method::GET, "/favicon.ico") => text(StatusCode::NO_CONTENT, "text/plain", String::new()),
        (Method::GET, "/console/map") => json(StatusCode::OK, &console.map()),
        (Method::GET, "/console/stream") => stream(console),
        // A peer's console reads this one's own figures (never those of its peers).
        (Method::GET, console::peers::PATH) => match console.own_view() {
            Some(view) => {
                let mut response = Response::new(Full::new(view).boxed());
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    http::HeaderValue::from_static("application/json"),
                );
                response.headers_mut().insert(
                    header::CACHE_CONTROL,
                    http::HeaderValue::from_static("no-store"),
                );
                response
            }
            None => problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "no figures yet: the console samples from now on; ask again",
            ),
        },
        (Method::POST, "/console/replay") => replay(console, request).await,
        _ => text(StatusCode::NOT_FOUND, "text/plain", "not found".into()),
    }
}

/// A loopback client (IPv4, IPv6, or IPv4 mapped into IPv6).
fn on_this_machine(peer: std::net::IpAddr) -> bool {
    peer.to_canonical().is_loopback()
}

/// The console answers only to an IP address or `localhost`: a DNS name pointed at this
/// port by a hostile site (rebinding) would make that site "same-origin".
fn host_allowed<B>(request: &Request<B>) -> Result<(), &'static str> {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .ok_or("a Host header is required")?;
    let ip_or_localhost = match host.strip_prefix('[') {
        // `[addr]` or `[addr]:port`, nothing else after the bracket.
        Some(v6) => v6.split_once(']').is_some_and(|(addr, rest)| {
            addr.parse::<Ipv6Addr>().is_ok()
                && (rest.is_empty()
                    || rest
                        .strip_prefix(':')
                        .is_some_and(|p| p.parse::<u16>().is_ok()))
        }),
        // `name` or `name:port`, the port a number: `127.0.0.1:1, evil.com` is refused.
        None => {
            let (name, port_ok) = match host.rsplit_once(':') {
                Some((name, port)) => (name, port.parse::<u16>().is_ok()),
                None => (host, true),
            };
            port_ok && (name.eq_ignore_ascii_case("localhost") || name.parse::<Ipv4Addr>().is_ok())
        }
    };
    if ip_or_localhost {
        Ok(())
    } else {
        Err("the console answers on an IP address or localhost only")
    }
}

/// A state-changing request must come from the console's own page.
fn same_origin<B>(request: &Request<B>) -> Result<(), &'static str> {
    let headers = request.headers();
    if !headers.contains_key(CONSOLE_HEADER) {
        return Err("missing the console's header (x-mediamesh-console)");
    }
    if let Some(site) = headers.get("sec-fetch-site")
        && site != "same-origin"
    {
        return Err("cross-site request refused");
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let expected = host.map(|h| format!("http://{h}"));
        if origin.to_str().ok() != expected.as_deref() {
            return Err("cross-origin request refused");
        }
    }
    Ok(())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReplayRequest {
    context: String,
    event_id: String,
}

async fn replay(console: &Console, request: Request<Incoming>) -> Response<Body> {
    if let Err(refused) = same_origin(&request) {
        return text(StatusCode::FORBIDDEN, "text/plain", refused.into());
    }
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return problem(StatusCode::PAYLOAD_TOO_LARGE, "body over 4 KiB"),
    };
    let Ok(asked) = serde_json::from_slice::<ReplayRequest>(&body) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "body must be {\"context\": ..., \"eventId\": ...}",
        );
    };
    if let Err(violation) = crate::input::id("eventId", &asked.event_id) {
        return problem(StatusCode::BAD_REQUEST, &violation.to_string());
    }
    match console.replay(&asked.context, &asked.event_id).await {
        None => problem(StatusCode::NOT_FOUND, "no such context in this process"),
        Some(Ok(replayed)) => {
            tracing::info!(
                context = asked.context,
                event = asked.event_id,
                replayed,
                "dead letters replayed from the console"
            );
            json(StatusCode::OK, &serde_json::json!({ "replayed": replayed }))
        }
        Some(Err(error)) => {
            tracing::warn!(%error, context = asked.context, "console replay failed");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store could not replay; retry",
            )
        }
    }
}

/// Server-sent events: one `data:` line of JSON per second, for as long as the page is open.
fn stream(console: &Console) -> Response<Body> {
    let Ok(permit) = console.streams.clone().try_acquire_owned() else {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many console pages open; close one",
        );
    };
    let snapshots = console.subscribe();
    // The permit lives as long as the stream: a closed page gives its slot back.
    let events =
        futures::stream::unfold((snapshots, permit), |(mut snapshots, permit)| async move {
            snapshots.changed().await.ok()?;
            let event = snapshots.borrow_and_update().clone();
            Some((Ok::<_, Infallible>(Frame::data(event)), (snapshots, permit)))
        });
    let mut response = Response::new(StreamBody::new(events).boxed());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, "text/event-stream".parse().unwrap());
    headers.insert(header::CACHE_CONTROL, "no-store".parse().unwrap());
    response
}

fn page(body: &'static str, content_type: &'static str) -> Response<Body> {
    let mut response = text(StatusCode::OK, content_type, body.into());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
         img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
            .parse()
            .unwrap(),
    );
    headers.insert(header::X_FRAME_OPTIONS, "DENY".parse().unwrap());
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, "nosniff".parse().unwrap());
    response
}

fn json(status: StatusCode, value: &impl serde::Serialize) -> Response<Body> {
    let body = serde_json::to_string(value).expect("serializes");
    text(status, "application/json", body)
}

fn problem(status: StatusCode, message: &str) -> Response<Body> {
    json(status, &serde_json::json!({ "error": message }))
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body)).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::post("/console/replay");
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn the_console_is_for_clients_on_this_machine() {
        for ip in ["127.0.0.1", "127.8.0.1", "::1", "::ffff:127.0.0.1"] {
            assert!(on_this_machine(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["192.0.2.2", "10.0.0.7", "fd00::2", "::ffff:10.0.0.7"] {
            assert!(!on_this_machine(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn only_ip_addresses_and_localhost_are_served() {
        for host in ["127.0.0.1:9464", "localhost:9464", "[::1]:9464", "10.0.0.7"] {
            assert!(host_allowed(&request(&[("host", host)])).is_ok(), "{host}");
        }
        for host in [
            "evil.example:9464",
            "127.0.0.1.nip.io",
            "[evil]:1",
            "[::1]evil.com",
            "[::1]:x",
            "127.0.0.1:41464, evil.com",
            "localhost:x",
            "127.0.0.1:",
        ] {
            assert!(host_allowed(&request(&[("host", host)])).is_err(), "{host}");
        }
        assert!(host_allowed(&request(&[])).is_err(), "no Host");
    }

    #[test]
    fn a_replay_needs_the_console_header_and_the_same_origin() {
        let host = ("host", "127.0.0.1:9464");
        let mark = (CONSOLE_HEADER, "1");
        assert!(same_origin(&request(&[host, mark])).is_ok());
        let own = ("origin", "http://127.0.0.1:9464");
        assert!(
            same_origin(&request(&[
                host,
                mark,
                own,
                ("sec-fetch-site", "same-origin")
            ]))
            .is_ok()
        );
        assert!(same_origin(&request(&[host])).is_err(), "a plain form post");
        let other = ("origin", "http://evil.example");
        assert!(same_origin(&request(&[host, mark, other])).is_err());
        let cross = ("sec-fetch-site", "cross-site");
        assert!(same_origin(&request(&[host, mark, cross])).is_err());
    }
}
