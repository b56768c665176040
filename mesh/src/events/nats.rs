//! JetStream plumbing: one stream per app (`MEDIAMESH_<APP>`, subjects `<app>.>`, file
//! storage, as many replicas as configured), the broker's addresses (one URL, or the nodes of
//! a cluster comma-separated) and the header conversions.
use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::{self, stream};

/// The servers in `url`: one URL, or several comma-separated (the nodes of a cluster, tried
/// in turn on connect and on reconnect when the one in use dies).
pub fn servers(url: &str) -> anyhow::Result<Vec<async_nats::ServerAddr>> {
    url.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| u.parse().map_err(|e| anyhow::anyhow!("NATS URL: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()
        .and_then(|all| {
            anyhow::ensure!(!all.is_empty(), "NATS URL: empty");
            Ok(all)
        })
}

/// Connection options for `url`, with the credentials it carries: `nats://TOKEN@host:port` for
/// a token, `nats://USER:PASS@host:port` for a user (async-nats reads neither from the URL).
/// A cluster's nodes share credentials: the first URL's are used.
pub fn options(url: &str) -> anyhow::Result<async_nats::ConnectOptions> {
    let addr = servers(url)?.remove(0);
    let options = async_nats::ConnectOptions::new().name("mediamesh");
    Ok(match (addr.username(), addr.password()) {
        (Some(user), Some(pass)) => options.user_and_password(user.to_owned(), pass.to_owned()),
        (Some(token), None) => options.token(token.to_owned()),
        _ => options,
    })
}

/// The stream that holds `app`'s events.
pub fn stream_name(app: &str) -> String {
    format!("MEDIAMESH_{}", app.to_ascii_uppercase())
}

/// Creates the app's stream if it does not exist yet, and brings an existing one to
/// `replicas` (a mesh moved onto a JetStream cluster asks for 3; the server adds or drops
/// the copies). Its other settings are left as they are: an operator may have tuned them.
pub async fn ensure_stream(
    js: &jetstream::Context,
    app: &str,
    replicas: usize,
) -> anyhow::Result<stream::Stream> {
    let config = stream::Config {
        name: stream_name(app),
        subjects: vec![format!("{app}.>")],
        storage: stream::StorageType::File,
        num_replicas: replicas,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    };
    let mut stream = js
        .get_or_create_stream(config)
        .await
        .map_err(|e| anyhow::anyhow!("jetstream stream {}: {e}", stream_name(app)))?;
    let current = stream.cached_info().config.clone();
    if current.num_replicas.max(1) != replicas.max(1) {
        tracing::info!(
            stream = current.name,
            from = current.num_replicas,
            to = replicas,
            "stream replicas changed"
        );
        let name = current.name.clone();
        js.update_stream(stream::Config {
            num_replicas: replicas,
            ..current
        })
        .await
        .map_err(|e| anyhow::anyhow!("jetstream stream {name} to {replicas} replicas: {e}"))?;
        // The stream's leader applies the change a moment later; until it has, durables at
        // the new count are refused ("exceeds parent stream"). Bounded: past it, consumers
        // retry on their own.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::time::Instant::now() < deadline {
            let placed = stream.info().await.ok().is_some_and(|info| {
                info.config.num_replicas == replicas
                    && info.cluster.as_ref().map_or(1, |c| c.replicas.len() + 1) >= replicas
            });
            if placed {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(stream)
}

/// NATS headers from an event's; a name or value NATS cannot carry (CR, LF, ':' in a name)
/// is an error naming it, never a panic (async-nats's own conversions assert).
pub fn to_header_map(
    headers: &BTreeMap<String, String>,
) -> Result<async_nats::HeaderMap, InvalidHeader> {
    let mut map = async_nats::HeaderMap::new();
    for (name, value) in headers {
        let invalid = || InvalidHeader(name.chars().take(64).collect());
        let key: async_nats::HeaderName = name.parse().map_err(|_| invalid())?;
        let value: async_nats::HeaderValue = value.parse().map_err(|_| invalid())?;
        map.insert(key, value);
    }
    Ok(map)
}

/// A header NATS cannot carry.
#[derive(Debug, thiserror::Error)]
#[error("header {0:?} has a name or value NATS cannot carry")]
pub struct InvalidHeader(pub String);

pub fn from_header_map(headers: Option<&async_nats::HeaderMap>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    if let Some(headers) = headers {
        for (name, values) in headers.iter() {
            if let Some(value) = values.first() {
                map.insert(name.to_string(), value.as_str().to_owned());
            }
        }
    }
    map
}
