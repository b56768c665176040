//! IPTV subscription shop, order context (the customer's side): join orders for internet or
//! internet + TV, followed forward by the desk's and the installer's events, and the
//! customer's cancellation, asked here and answered by the desk.
mod access;
mod domain;
mod error;
mod events;
mod grpc;
mod policy;
mod store;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use mediamesh_mesh::events::policy::Policies;
use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Handler};
use mediamesh_proto::iptv::v1 as pb;
use mediamesh_proto::iptv::v1::join_order_service_server::JoinOrderServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "iptv",
    name: "order",
    role: "core",
    services: &[(
        "mediamesh.iptv.v1.JoinOrderService",
        &[
            "CreateJoinOrder",
            "GetJoinOrder",
            "ListJoinOrders",
            "UpdateJoinOrder",
        ],
    )],
    calls: &[],
    publishes: &["JoinOrderRequested", "JoinOrderCancelRequested"],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Order;

#[async_trait::async_trait]
impl Context for Order {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        routes.add_service(JoinOrderServiceServer::new(grpc::OrderApi::new(env.store)));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// The order follows the desk and the installer, and hears the cancellation's answer.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Follow)
        .on::<pb::InstallerAssigned>()
        .on::<pb::InstallationCompleted>()
        .on::<pb::SubscriptionCompleted>()
        .on::<pb::CancellationAccepted>()
        .on::<pb::CancellationRejected>()
        .into_handler()
}
