//! VOD store, purchase context (core): no payment, no approved purchase. A purchase calls
//! payment synchronously through the breaker; it validates VODs against its own replica of
//! the catalog (asking the catalog on a miss) and spends free-VOD credits issued by
//! mileage, both fed by events.
mod access;
mod checkout;
mod domain;
mod error;
mod grpc;
mod policy;
mod store;
mod titles;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use mediamesh_mesh::calls::saga::sweep;
use mediamesh_mesh::events::policy::Policies;
use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Handler};
use mediamesh_proto::vod::v1 as pb;
use mediamesh_proto::vod::v1::purchase_service_server::PurchaseServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "vod",
    name: "purchase",
    role: "core",
    services: &[(
        "mediamesh.vod.v1.PurchaseService",
        &[
            "CreatePurchase",
            "GetPurchase",
            "ListPurchases",
            "UpdatePurchase",
            "CancelPurchase",
        ],
    )],
    calls: &[("vod.payment", "Pay"), ("vod.catalog", "GetVod")],
    publishes: &["PurchasePlaced", "PurchaseCancelled", "PurchaseFailed"],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Purchase;

/// Fills a purchase store with `count` paid purchases (benchmarks of a large store).
pub use store::seed;

#[async_trait::async_trait]
impl Context for Purchase {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        let checkout = checkout::Checkout::new(env.store.clone(), env.peer("vod.payment")?);
        let saga = checkout.clone();
        env.tasks.spawn("vod.purchase recovery", move |stop| {
            let saga = saga.clone();
            async move { sweep(checkout::CONTEXT, &saga, stop).await }
        });
        let titles = titles::Titles::new(env.store.clone(), env.peer("vod.catalog")?);
        routes.add_service(PurchaseServiceServer::new(grpc::PurchaseApi::new(
            env.store, checkout, titles,
        )));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// The catalog replica and the free-VOD credits, kept current by events.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Replicate)
        .on::<pb::VodRegistered>()
        .on::<pb::FreeVodCreditIssued>()
        .on::<pb::FreeVodCreditRevoked>()
        .into_handler()
}
