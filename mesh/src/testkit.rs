//! Component tests without external processes (feature `testkit`): a real SQLite store in a
//! temporary folder with the context's migrations applied, peers served in memory over
//! tonic (a duplex pipe instead of a socket, as tonic's own mock example does), and events
//! delivered to a context's policies exactly as its consumer would, inbox included. Sagas,
//! policies (replays, duplicates, reordering) and transitions run in milliseconds.
use std::path::PathBuf;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use sqlx::Row;
use tonic::service::Routes;
use tonic::transport::{Endpoint, Server, Uri};

use crate::calls::resilience::{CallPolicy, Peer};
use crate::events::consumer::{Handler, HandlerError};
use crate::events::event::{Delivered, Event, MSG_ID};
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

    /// The events raised so far and not yet published, oldest first, as a consumer would
    /// receive them.
    pub async fn raised(&self) -> Vec<Delivered> {
        let rows =
            sqlx::query("SELECT event_id, subject, headers, payload FROM mesh_outbox ORDER BY seq")
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
