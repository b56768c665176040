//! Component tests without external processes (feature `testkit`): a real SQLite store in a
//! temporary folder with the context's migrations applied, peers served in memory over
//! tonic (a duplex pipe instead of a socket, as tonic's own mock example does), and events
//! delivered to a context's policies exactly as its consumer would, inbox included; a peer's
//! fake names only the RPCs it is asked (`Fake`). Sagas,
//! policies (replays, duplicates, reordering) and transitions run in milliseconds.
use std::collections::HashMap;
use std::convert::Infallible;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;

use hyper_util::rt::TokioIo;
use tonic::body::Body;
use tonic::server::{NamedService, UnaryService};
use tonic::service::Routes;
use tonic::transport::{Endpoint, Server, Uri};

use crate::calls::resilience::{CallPolicy, Peer};
use crate::events::consumer::{Handler, HandlerError};
use crate::events::event::{Delivered, Event, MSG_ID};
use crate::storage::sql;
use crate::storage::store::{Database, Migration, Store};

/// A context's SQLite store in a fresh folder, removed when dropped.
pub struct TestStore {
    pub store: Store,
    dir: PathBuf,
}

impl TestStore {
    /// Opens a store with the mesh's tables and `migrations` applied.
    pub async fn new(migrations: &[Migration]) -> TestStore {
        let dir = std::env::temp_dir().join(format!("mediamesh-testkit-{}", uuid::Uuid::new_v4()));
        let database = Database::SqliteDir {
            dir: dir.clone(),
            synchronous_full: false,
        };
        let store = Store::open(&database, "test.context")
            .await
            .expect("open a test store");
        crate::events::migrate(&store, migrations)
            .await
            .expect("migrate a test store");
        TestStore { store, dir }
    }

    /// The store's SQLite file, for a test that opens it as another process would.
    pub fn file(&self) -> PathBuf {
        self.dir.join("test.context.db")
    }

    /// Asserts that SQLite runs `sql` by seeking one of `any_of` (as its plan names it:
    /// `"INDEX name (column=?"`), neither walking a table nor sorting: a listing's
    /// statement uses its index.
    pub async fn assert_seeks(&self, sql: &str, any_of: &[&str]) {
        let plan: Vec<String> = sql::query(&format!("EXPLAIN QUERY PLAN {sql}"))
            .fetch_all(self.store.reader())
            .await
            .expect("plan a statement")
            .iter()
            .map(|row| row.get("detail"))
            .collect();
        let seeks = |step: &String| any_of.iter().any(|index| step.contains(index));
        assert!(plan.iter().any(seeks), "seeks none of {any_of:?}: {plan:?}");
        let walks = |step: &String| step.contains("SCAN") || step.contains("TEMP B-TREE");
        assert!(!plan.iter().any(walks), "walks or sorts: {plan:?}");
    }

    /// The events raised so far and not yet published, oldest first, as a consumer would
    /// receive them.
    pub async fn raised(&self) -> Vec<Delivered> {
        let rows =
            sql::query("SELECT event_id, subject, headers, payload FROM mesh_outbox ORDER BY seq")
                .fetch_all(self.store.reader())
                .await
                .expect("read the outbox");
        rows.iter()
            .map(|row| {
                let headers: String = row.get("headers");
                let payload: Vec<u8> = row.get("payload");
                let mut headers: std::collections::BTreeMap<String, String> =
                    serde_json::from_str(&headers).expect("outbox headers");
                let id: String = row.get("event_id");
                headers.insert(MSG_ID.to_owned(), id.clone());
                Delivered {
                    id,
                    subject: row.get("subject"),
                    headers,
                    payload: payload.into(),
                }
            })
            .collect()
    }

    /// The raised events of type `M`, decoded.
    pub async fn raised_of<M: prost::Message + prost::Name + Default>(&self) -> Vec<M> {
        self.raised()
            .await
            .into_iter()
            .filter(|d| d.name() == M::NAME)
            .map(|d| d.decode::<M>().expect("decodes"))
            .collect()
    }

    /// Applies `event` through `policies` as the context's consumer does: once per event id
    /// (a redelivery is a no-op), in one transaction with the policy's changes.
    pub async fn deliver(
        &self,
        policies: &Arc<dyn Handler>,
        event: &Delivered,
    ) -> Result<(), HandlerError> {
        let mut tx = self.store.begin().await?;
        crate::events::consumer::apply_once(&mut tx, "test", policies.as_ref(), event).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An event as a consumer receives it, raised by `context` (e.g. `vod.payment`).
pub fn delivered<M: prost::Message + prost::Name>(
    context: &str,
    message: &M,
    aggregate: &str,
    version: i64,
) -> Delivered {
    let event = Event::new(context, message, aggregate, version, aggregate);
    let mut headers = event.headers;
    headers.insert(MSG_ID.to_owned(), event.id.clone());
    Delivered {
        id: event.id,
        subject: event.subject,
        headers,
        payload: event.payload.into(),
    }
}

/// A peer context served in memory: `routes` behind a real tonic server on one end of a
/// duplex pipe, and a `Peer` (breaker, deadline, retries) on the other.
pub async fn peer_in_memory(name: &str, routes: Routes, policy: CallPolicy) -> Peer {
    let (client, server) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let incoming = tokio_stream::once(Ok::<_, std::io::Error>(server));
        let _ = Server::builder()
            .add_routes(routes)
            .serve_with_incoming(incoming)
            .await;
    });
    let mut client = Some(client);
    let channel = Endpoint::try_from("http://in-memory.peer")
        .expect("static uri")
        .connect_with_connector_lazy(tower::service_fn(move |_: Uri| {
            let client = client.take();
            async move {
                client.map(TokioIo::new).ok_or_else(|| {
                    std::io::Error::other("the in-memory peer serves one connection")
                })
            }
        }));
    Peer::from_channel(name, channel, policy)
}

/// A peer nothing answers at (a context that is down): every call fails at once.
pub fn peer_down(name: &str, policy: CallPolicy) -> Peer {
    Peer::connect(name, "http://127.0.0.1:9", policy).expect("static url")
}

type Rpc =
    Arc<dyn Fn(http::Request<Body>) -> BoxFuture<'static, http::Response<Body>> + Send + Sync>;

/// A fake of a peer's gRPC service `S` (its generated server type, e.g.
/// `JoinOrderServiceServer<()>`, for the service name) answering the RPCs it is given, each
/// an async function of its request; every other RPC answers UNIMPLEMENTED, so a fake names
/// only what the context under test asks.
pub struct Fake<S> {
    rpcs: HashMap<&'static str, Rpc>,
    service: PhantomData<fn() -> S>,
}

impl<S: NamedService> Fake<S> {
    pub fn new() -> Fake<S> {
        Fake {
            rpcs: HashMap::new(),
            service: PhantomData,
        }
    }

    /// Answers the unary RPC `method` (e.g. `GetJoinOrder`) with `answer`.
    pub fn unary<Req, Res, F, Fut>(mut self, method: &'static str, answer: F) -> Fake<S>
    where
        Req: prost::Message + Default + Send + 'static,
        Res: prost::Message + Send + 'static,
        F: Fn(Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Res, tonic::Status>> + Send + 'static,
    {
        let answer = Arc::new(answer);
        let rpc: Rpc = Arc::new(move |request| {
            let answer = Answer(Arc::clone(&answer));
            Box::pin(async move {
                let codec = tonic_prost::ProstCodec::<Res, Req>::default();
                tonic::server::Grpc::new(codec).unary(answer, request).await
            })
        });
        self.rpcs.insert(method, rpc);
        self
    }

    /// The fake, to serve with `peer_in_memory`.
    pub fn routes(self) -> Routes
    where
        S: 'static,
    {
        Routes::new(self)
    }
}

impl<S: NamedService> Default for Fake<S> {
    fn default() -> Self {
        Fake::new()
    }
}

impl<S> Clone for Fake<S> {
    fn clone(&self) -> Self {
        Fake {
            rpcs: self.rpcs.clone(),
            service: PhantomData,
        }
    }
}

impl<S: NamedService> NamedService for Fake<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> tower::Service<http::Request<Body>> for Fake<S> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let method = request.uri().path().rsplit('/').next().unwrap_or_default();
        let rpc = self.rpcs.get(method).cloned();
        Box::pin(async move {
            Ok(match rpc {
                Some(rpc) => rpc(request).await,
                None => tonic::Status::unimplemented("not asked of this fake").into_http(),
            })
        })
    }
}

struct Answer<F>(Arc<F>);

impl<Req, Res, F, Fut> UnaryService<Req> for Answer<F>
where
    F: Fn(Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Res, tonic::Status>> + Send + 'static,
{
    type Response = Res;
    type Future = BoxFuture<'static, Result<tonic::Response<Res>, tonic::Status>>;

    fn call(&mut self, request: tonic::Request<Req>) -> Self::Future {
        let answer = (self.0)(request.into_inner());
        Box::pin(async move { answer.await.map(tonic::Response::new) })
    }
}

/// The ids of every page from the first to the last, as `list(token)` answers `(ids, next)`.
pub async fn every_page<F, Fut>(mut list: F) -> Vec<String>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = (Vec<String>, String)>,
{
    let (mut ids, token) = list(String::new()).await;
    ids.extend(pages_from(token, list).await);
    ids
}

/// The ids of every page from `token` to the last, as `list(token)` answers `(ids, next)`.
pub async fn pages_from<F, Fut>(mut token: String, mut list: F) -> Vec<String>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = (Vec<String>, String)>,
{
    let mut ids = Vec::new();
    while !token.is_empty() {
        let (page, next) = list(token).await;
        ids.extend(page);
        token = next;
    }
    ids
}

/// Polls `probe` every 5 ms until it answers, failing the test after `within` (waits on an
/// outcome, never a sleep as synchronization).
pub async fn until<T, F, Fut>(within: std::time::Duration, probe: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {within:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
