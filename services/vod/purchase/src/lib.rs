//! VOD store, purchase context (core): no payment, no approved purchase. A purchase calls
//! payment synchronously through the breaker; it validates VODs against its own replica of
//! the catalog (asking the catalog on a miss) and spends free-VOD credits issued by
//! mileage, both fed by events.
mod checkout;
mod domain;
mod grpc;
mod policy;
mod store;
mod titles;

use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Started, Subscription};
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
    consumes: &[
        "vod.catalog.VodRegistered",
        "vod.mileage.FreeVodCreditIssued",
    ],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Purchase;

#[async_trait::async_trait]
impl Context for Purchase {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<Started> {
        let checkout = checkout::Checkout::new(env.store.clone(), env.peer("vod.payment")?);
        tokio::spawn(mediamesh_mesh::calls::recovery::sweep(
            "vod.purchase",
            checkout.clone(),
        ));
        let titles = titles::Titles::new(env.store.clone(), env.peer("vod.catalog")?);
        routes.add_service(PurchaseServiceServer::new(grpc::PurchaseApi::new(
            env.store, checkout, titles,
        )));
        Ok(Started {
            subscriptions: vec![Subscription::of(&INFO, policy::Replicate)],
        })
    }
}
