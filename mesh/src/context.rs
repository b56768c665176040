//! What a bounded context registers with the mesh: its identity and context-map edges
//! (RPCs, sync calls, events published and consumed), its migrations, and a start function
//! that mounts its gRPC services; its typed event policies, from which its consumer is made.
use std::collections::BTreeMap;

use tonic::service::RoutesBuilder;

use crate::calls::resilience::Peer;
use crate::events::consumer::Subscription;
use crate::storage::store::{Migration, Store};

/// A context's registration, read by the runtime, `mediamesh map` and health.
#[derive(Debug)]
pub struct ContextInfo {
    /// The app, e.g. `vod`.
    pub app: &'static str,
    /// The context within the app, e.g. `purchase`.
    pub name: &'static str,
    /// core, supporting or general (the seeds' domain ranking).
    pub role: &'static str,
    /// Fully qualified gRPC services it serves, with their RPCs.
    pub services: &'static [(&'static str, &'static [&'static str])],
    /// Contexts it calls synchronously (`vod.payment`), with the RPC called.
    pub calls: &'static [(&'static str, &'static str)],
    /// Events it raises (message names; subject `<app>.<name>.<Event>`).
    pub publishes: &'static [&'static str],
    pub migrations: &'static [Migration],
    /// Tables that are a read model rebuilt from events (`mediamesh views rebuild`).
    pub views: &'static [&'static str],
}

impl ContextInfo {
    /// `<app>.<context>`, the name used by `--target`, `--peer`, data files and schemas.
    pub fn id(&self) -> String {
        format!("{}.{}", self.app, self.name)
    }
}

/// What the runtime hands a context when it starts.
pub struct ContextEnv {
    pub store: Store,
    pub peers: BTreeMap<String, Peer>,
    /// Where the context starts its own background work (stopped at shutdown).
    pub tasks: crate::tasks::Tasks,
}

impl ContextEnv {
    /// The peer context `id` (`vod.payment`); the runtime resolves every declared call.
    pub fn peer(&self, id: &str) -> anyhow::Result<Peer> {
        self.peers
            .get(id)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no peer registered for {id}"))
    }
}

/// A bounded context on the mesh.
#[async_trait::async_trait]
pub trait Context: Send + Sync {
    fn info(&self) -> &'static ContextInfo;

    /// Its typed event policies (`events::policy::Policies`), if it consumes events: what it
    /// consumes is derived from them.
    fn policies(&self) -> Option<std::sync::Arc<dyn crate::Handler>> {
        None
    }

    /// Mounts the context's gRPC services on `routes` and starts its own background work on
    /// `env.tasks`.
    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()>;
}

/// The durable consumer of a context: the one of its typed policies, if it has any.
pub fn subscription(context: &dyn Context) -> Option<Subscription> {
    let info = context.info();
    context
        .policies()
        .map(|policies| Subscription::of(info.app, info.name, policies))
}
