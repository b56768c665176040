//! IPTV subscription shop, orderstatus context (CQRS): the customer's view of each join
//! order, every step with its time and the cancellation notice, built only from events into
//! its own tables and rebuildable by replaying the stream (`mediamesh views rebuild`).
mod access;
mod domain;
mod error;
mod grpc;
mod policy;
mod store;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use mediamesh_mesh::events::policy::Policies;
use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Handler};
use mediamesh_proto::iptv::v1 as pb;
use mediamesh_proto::iptv::v1::order_status_service_server::OrderStatusServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "iptv",
    name: "orderstatus",
    role: "supporting",
    services: &[(
        "mediamesh.iptv.v1.OrderStatusService",
        &["GetOrderStatus", "ListOrderStatuses"],
    )],
    calls: &[("iptv.order", "GetJoinOrder")],
    publishes: &[],
    migrations: store::MIGRATIONS,
    views: store::VIEWS,
};

pub struct Orderstatus;

#[async_trait::async_trait]
impl Context for Orderstatus {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        // `views rebuild` starts the context with no peers: the view then serves nothing.
        if let Ok(order) = env.peer("iptv.order") {
            routes.add_service(OrderStatusServiceServer::new(grpc::OrderStatusApi::new(
                env.store, order,
            )));
        }
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// Every event of a join order's life.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Project)
        .on::<pb::JoinOrderRequested>()
        .on::<pb::InstallerAssigned>()
        .on::<pb::InstallationAccepted>()
        .on::<pb::InstallationCompleted>()
        .on::<pb::SubscriptionCompleted>()
        .on::<pb::JoinOrderCancelRequested>()
        .on::<pb::InstallationWithdrawn>()
        .on::<pb::CancellationRejected>()
        .on::<pb::CancellationAccepted>()
        .into_handler()
}
