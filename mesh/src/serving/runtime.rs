//! Assembles the selected contexts into one running process: stores migrated, JetStream
//! streams ensured, peers resolved (local contexts are still called over gRPC), services
//! mounted behind one server, outbox relays and consumers running. Shutdown in the order the
//! spec gives: health NOT_SERVING, in-flight calls finish, consumers stop, relays flush.
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tonic::service::RoutesBuilder;
use tonic_health::ServingStatus;

use crate::calls::resilience::{CallPolicy, Peer};
use crate::context::{Context, ContextEnv};
use crate::events::outbox::Relay;
use crate::serving::readiness::{self, Watched, set_all};
use crate::storage::store::{Database, Store};
use crate::tasks::{self, Running};

/// Everything a process needs to run some contexts.
#[derive(Debug, Clone)]
pub struct MeshConfig {
    pub nats_url: String,
    pub database: Database,
    /// Where to reach contexts not run here (`vod.payment` -> `http://host:50051`).
    pub peers: BTreeMap<String, String>,
    /// Calls in flight per server before it sheds load.
    pub max_in_flight: usize,
    pub call_policy: CallPolicy,
    /// JetStream replicas for streams this process creates (3 under Helm).
    pub stream_replicas: usize,
    /// Where `/metrics` and the console are served; None for no admin port.
    pub admin_addr: Option<SocketAddr>,
    /// Other processes' admin ports whose contexts the console shows beside its own.
    pub admin_peers: Vec<crate::serving::console::peers::AdminPeer>,
    /// How long a context may be unable to work before liveness fails (a restart is due).
    pub liveness_grace: Duration,
    /// Token checks on every call (`serving::auth`); None: off.
    pub auth: Option<MeshAuth>,
}

/// Auth settings: the keys tokens are checked against, and the mesh's own token.
#[derive(Clone)]
pub struct MeshAuth {
    /// The JWKS document (JSON).
    pub jwks: String,
    /// The token (role `mesh`) sent on calls between contexts; without one, contexts that
    /// call a peer are refused by it.
    pub service_token: Option<String>,
}

impl std::fmt::Debug for MeshAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeshAuth")
            .field(
                "service_token",
                &self.service_token.as_ref().map(|_| "****"),
            )
            .finish_non_exhaustive()
    }
}

/// Runs `contexts` on `listener` until `shutdown` resolves.
pub async fn run(
    config: MeshConfig,
    contexts: Vec<Arc<dyn Context>>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let local = listener.local_addr()?;
    let (auth, service_token) = auth_settings(&config, &contexts)?;
    crate::serving::console::peers::check(&config.admin_peers).map_err(anyhow::Error::msg)?;
    let admin = match config.admin_addr {
        Some(addr) => Some(crate::serving::admin::start(addr)?),
        None => None,
    };
    let mut console = Vec::new();
    let service_names: Vec<&'static str> = contexts
        .iter()
        .flat_map(|c| c.info().services.iter().map(|(name, _)| *name))
        .collect();
    let (health, health_service) = tonic_health::server::health_reporter();
    set_all(&health, &service_names, ServingStatus::NotServing).await;
    // Alive while starting: waiting for the broker or database is not wedged (a startup
    // probe bounds how long a start may take).
    health
        .set_service_status(readiness::LIVENESS, ServingStatus::Serving)
        .await;
    // Until storage and JetStream are ready, the port answers health (NOT_SERVING) so
    // probes see "not ready" rather than "refused".
    let listener = listener.into_std()?;
    let early = crate::serving::server::health_only(
        listener.try_clone()?,
        tonic::service::Routes::new(health_service.clone()),
    )?;

    let nats = crate::events::nats::options(&config.nats_url)?
        .retry_on_initial_connect()
        .connect(crate::events::nats::servers(&config.nats_url)?)
        .await?;
    wait_connected(&nats).await;
    let js = async_nats::jetstream::new(nats.clone());
    let apps: BTreeSet<&str> = contexts.iter().map(|c| c.info().app).collect();
    for app in &apps {
        crate::events::nats::ensure_stream(&js, app, config.stream_replicas).await?;
    }

    let mut routes = RoutesBuilder::default();
    routes.add_service(health_service);
    crate::serving::server::add_reflection(&mut routes)?;

    let ids: BTreeSet<String> = contexts.iter().map(|c| c.info().id()).collect();
    let stop_consumers = CancellationToken::new();
    let stop_relays = CancellationToken::new();
    let mut consumers = JoinSet::new();
    let mut relays = JoinSet::new();
    let mut watched = Vec::new();
    let context_tasks = crate::tasks::Tasks::default();
    let max_payload = nats.server_info().max_payload;
    for context in &contexts {
        let info = context.info();
        let id = info.id();
        let store = Store::open(&config.database, &id).await?;
        crate::events::migrate(&store, info.migrations).await?;
        let mut peers = BTreeMap::new();
        for (callee, _rpc) in info.calls {
            let url = peer_url(callee, &ids, &config.peers, local)?;
            let mut peer = Peer::connect(callee, &url, config.call_policy.clone())?;
            if let Some(token) = service_token {
                peer = peer.with_bearer(token)?;
            }
            peers.insert((*callee).to_owned(), peer);
        }
        console.push(crate::serving::console::Part {
            info,
            store: store.clone(),
            peers: peers.clone(),
            consumes: context.policies().map(|p| p.events()).unwrap_or_default(),
        });
        context
            .start(
                ContextEnv {
                    store: store.clone(),
                    peers,
                    tasks: context_tasks.clone(),
                },
                &mut routes,
            )
            .await?;
        let mut tasks = Vec::new();
        let mut durables = Vec::new();
        if let Some(sub) = crate::context::subscription(context.as_ref()) {
            let running = Running::default();
            let name = format!("consumer {}", sub.durable);
            tasks.push((name.clone(), running.clone()));
            durables.push((sub.app.clone(), sub.durable.clone()));
            let (store, js, stop) = (store.clone(), js.clone(), stop_consumers.clone());
            tasks::spawn(
                &mut consumers,
                name,
                running.clone(),
                stop.clone(),
                move || {
                    crate::events::consumer::run(
                        store.clone(),
                        js.clone(),
                        sub.clone(),
                        stop.clone(),
                        running.clone(),
                    )
                },
            );
        }
        let relay = Relay {
            store: store.clone(),
            js: js.clone(),
            context: id.clone(),
            max_payload,
            running: Running::default(),
        };
        let name = format!("relay {id}");
        tasks.push((name.clone(), relay.running.clone()));
        let stop = stop_relays.clone();
        tasks::spawn(
            &mut relays,
            name,
            relay.running.clone(),
            stop.clone(),
            move || relay.clone().run(stop.clone()),
        );
        watched.push(Watched {
            context: id.clone(),
            services: info.services.iter().map(|(name, _)| *name).collect(),
            store,
            tasks,
            durables,
        });
        tracing::info!(context = id, "context started");
    }

    if let Some(admin) = &admin {
        admin.attach(console, config.admin_peers.clone());
    }
    early.stop().await;
    let listener = TcpListener::from_std(listener)?;
    let drain = CancellationToken::new();
    let shed = crate::serving::shed::ShedLayer::new(config.max_in_flight);
    let mut server = tokio::spawn(crate::serving::server::serve(
        listener,
        routes.routes(),
        shed.clone(),
        auth,
        known_methods(&contexts),
        drain.clone().cancelled_owned(),
    ));
    set_all(&health, &service_names, ServingStatus::Serving).await;
    let stop_watch = CancellationToken::new();
    let watcher = tokio::spawn(readiness::watch(
        health.clone(),
        nats.clone(),
        watched,
        config.liveness_grace,
        stop_watch.clone(),
    ));
    tracing::info!(addr = %local, contexts = ?ids, "mesh serving");

    tokio::select! {
        _ = shutdown => {}
        ended = &mut server => {
            // The listener failed under us: stop everything else and report it.
            stop_consumers.cancel();
            stop_relays.cancel();
            stop_watch.cancel();
            context_tasks.shutdown().await;
            return match ended {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(error),
                Err(error) => Err(error.into()),
            };
        }
    }
    tracing::info!("shutting down: health NOT_SERVING, draining calls");
    // The watcher must be gone before NOT_SERVING is set, or its next pass could undo it.
    stop_watch.cancel();
    if tokio::time::timeout(STEP, watcher).await.is_err() {
        tracing::warn!("health watcher did not stop in time");
    }
    set_all(&health, &service_names, ServingStatus::NotServing).await;
    // Calls in flight may call contexts of this same process (a purchase's Pay): keep the
    // listener open until they are done, then stop accepting.
    let waited = tokio::time::timeout(DRAIN, async {
        while shed.in_flight() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    if waited.is_err() {
        tracing::warn!(
            in_flight = shed.in_flight(),
            "calls still in flight after the drain period"
        );
    }
    drain.cancel();
    match tokio::time::timeout(Duration::from_secs(5), server).await {
        Ok(Ok(Err(error))) => tracing::warn!(%error, "server ended with an error"),
        Err(_) => tracing::warn!("connections still open after the drain; closing"),
        _ => {}
    }
    // Every step below is bounded: a broker or database that hangs must not keep the process
    // from exiting (what is not done is redone after the restart: inbox and outbox).
    stop_consumers.cancel();
    if tokio::time::timeout(STEP, join_all(&mut consumers))
        .await
        .is_err()
    {
        tracing::warn!("consumers did not stop in time; abandoning them");
    }
    if tokio::time::timeout(STEP, context_tasks.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("context tasks did not stop in time; abandoning them");
    }
    stop_relays.cancel();
    if tokio::time::timeout(RELAY_FLUSH, join_all(&mut relays))
        .await
        .is_err()
    {
        tracing::warn!("outbox not flushed in time; the rest is published after the restart");
    }
    let _ = tokio::time::timeout(STEP, nats.flush()).await;
    // Last: metrics and the console stay up while the rest stops.
    if let Some(admin) = &admin
        && tokio::time::timeout(STEP, admin.shutdown()).await.is_err()
    {
        tracing::warn!("admin port did not stop in time; abandoning it");
    }
    tracing::info!("mesh stopped");
    Ok(())
}

/// The auth layer, and the mesh's own token for peer calls; checked before anything starts:
/// with auth on, a context that calls a peer needs the token, or every call it makes would
/// be refused by the peer.
fn auth_settings<'c>(
    config: &'c MeshConfig,
    contexts: &[Arc<dyn Context>],
) -> anyhow::Result<(crate::serving::auth::AuthLayer, Option<&'c str>)> {
    let Some(auth) = &config.auth else {
        return Ok((crate::serving::auth::AuthLayer::off(), None));
    };
    let verifier = crate::serving::auth::Verifier::from_jwks(&auth.jwks)?;
    if auth.service_token.is_none()
        && let Some(caller) = contexts.iter().find(|c| !c.info().calls.is_empty())
    {
        anyhow::bail!(
            "auth is on and {} calls other contexts: give the mesh its own token \
             (--auth-service-token, role mesh)",
            caller.info().id()
        );
    }
    Ok((
        crate::serving::auth::AuthLayer::on(verifier),
        auth.service_token.as_deref(),
    ))
}

/// The longest one shutdown step may take.
const STEP: Duration = Duration::from_secs(5);
/// How long the relays may take to publish what is left.
const RELAY_FLUSH: Duration = Duration::from_secs(10);

async fn join_all(set: &mut JoinSet<()>) {
    while set.join_next().await.is_some() {}
}

/// How long shutdown lets calls in flight finish.
const DRAIN: Duration = Duration::from_secs(20);

/// Every gRPC path this process serves: the contexts' RPCs, health and reflection.
fn known_methods(contexts: &[Arc<dyn Context>]) -> std::collections::HashSet<String> {
    let mut known: std::collections::HashSet<String> = [
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    for context in contexts {
        for (service, rpcs) in context.info().services {
            known.extend(rpcs.iter().map(|rpc| format!("/{service}/{rpc}")));
        }
    }
    known
}

/// Waits for the broker, saying so now and then: a mesh without JetStream cannot work.
async fn wait_connected(nats: &async_nats::Client) {
    let mut waited = 0u32;
    while nats.connection_state() != async_nats::connection::State::Connected {
        if waited.is_multiple_of(50) {
            tracing::warn!("waiting for NATS");
        }
        waited += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A local context is called on this process's own address; others at their `--peer` URL.
fn peer_url(
    callee: &str,
    local_ids: &BTreeSet<String>,
    peers: &BTreeMap<String, String>,
    local: SocketAddr,
) -> anyhow::Result<String> {
    if let Some(url) = peers.get(callee) {
        return Ok(url.clone());
    }
    if local_ids.contains(callee) {
        let host = if local.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else {
            local.ip().to_string()
        };
        return Ok(format!("http://{host}:{}", local.port()));
    }
    anyhow::bail!(
        "{callee} is not run here: give its address with --peer {callee}=http://HOST:PORT"
    )
}
