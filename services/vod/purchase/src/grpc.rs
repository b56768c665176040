//! gRPC inbound adapter of purchase.
use mediamesh_mesh::error::{internal, invalid_argument, not_found};
use mediamesh_mesh::input::{self, NAME_MAX};
use mediamesh_mesh::storage::page::Page;
use mediamesh_mesh::{Event, Raise, Store};
use mediamesh_proto::vod::v1 as pb;
use tonic::{Request, Response, Status};

use crate::checkout::Checkout;
use crate::domain::{Purchase, PurchaseError, requested_cancel};
use crate::store;
use crate::titles::Titles;

pub struct PurchaseApi {
    store: Store,
    checkout: Checkout,
    titles: Titles,
}

impl PurchaseApi {
    pub fn new(store: Store, checkout: Checkout, titles: Titles) -> PurchaseApi {
        PurchaseApi {
            store,
            checkout,
            titles,
        }
    }

    async fn load(&self, id: &str) -> Result<Purchase, Status> {
        let purchase = store::get(&self.store, id).await.map_err(internal)?;
        purchase.ok_or_else(|| not_found("purchase", id))
    }

    /// The cancel saga's first step: CANCELLED plus `PurchaseCancelled` (payment and mileage
    /// follow by events). Repeating it answers the cancelled purchase.
    async fn cancel(&self, id: &str) -> Result<Purchase, Status> {
        let mut purchase = self.load(id).await?;
        let changed = purchase
            .cancel()
            .map_err(|e| Status::failed_precondition(e.to_string()))?;
        if !changed {
            return Ok(purchase);
        }
        let mut tx = self.store.begin().await.map_err(internal)?;
        if !store::update_status(&mut tx, &purchase)
            .await
            .map_err(internal)?
        {
            return Err(Status::aborted("purchase changed meanwhile; try again"));
        }
        if purchase.free_vod {
            store::add_credit(&mut tx, &purchase.customer_id)
                .await
                .map_err(internal)?;
        }
        let event = pb::PurchaseCancelled {
            purchase_id: purchase.id.clone(),
            customer_id: purchase.customer_id.clone(),
            vod_id: purchase.vod_id.clone(),
            amount: purchase.amount as i32,
            free_vod: purchase.free_vod,
        };
        let (pid, version) = (purchase.id.clone(), purchase.version);
        tx.raise(Event::new("vod.purchase", &event, &pid, version, &pid))
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        tracing::info!(purchase_id = %pid, "purchase cancelled");
        Ok(purchase)
    }
}

fn to_pb(p: Purchase) -> pb::Purchase {
    pb::Purchase {
        purchase_id: p.id,
        vod_id: p.vod_id,
        vod_name: p.vod_name,
        customer_id: p.customer_id,
        order_status: p.status.as_str().to_owned(),
        amount: p.amount as i32,
        free_vod: p.free_vod,
        create_time: p.create_time,
    }
}

#[tonic::async_trait]
impl pb::purchase_service_server::PurchaseService for PurchaseApi {
    async fn create_purchase(
        &self,
        request: Request<pb::CreatePurchaseRequest>,
    ) -> Result<Response<pb::Purchase>, Status> {
        let r = request.into_inner();
        let id = input::optional_id("purchase_id", &r.purchase_id)?
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let vod_id = input::id("vod_id", &r.vod_id)?;
        // Informational, as in the seed (the catalog's name wins), yet bounded like any text.
        input::text("vod_name", &r.vod_name, NAME_MAX)?;
        // No customer: an anonymous purchase, with no account to earn or spend credits.
        let customer_id = input::optional_id("customer_id", &r.customer_id)?.unwrap_or_default();
        let (vod, credits) = self.titles.offer(&vod_id, &customer_id).await?;
        let may_be_free = !customer_id.is_empty() && credits > 0;
        let purchase = self
            .checkout
            .purchase(id, vod, customer_id, may_be_free)
            .await?;
        Ok(Response::new(to_pb(purchase)))
    }

    async fn get_purchase(
        &self,
        request: Request<pb::GetPurchaseRequest>,
    ) -> Result<Response<pb::Purchase>, Status> {
        let id = input::id("purchase_id", &request.into_inner().purchase_id)?;
        let purchase = self.load(&id).await?;
        Ok(Response::new(to_pb(purchase)))
    }

    async fn list_purchases(
        &self,
        request: Request<pb::ListPurchasesRequest>,
    ) -> Result<Response<pb::ListPurchasesResponse>, Status> {
        let r = request.into_inner();
        let page = Page::parse(r.page_size, &r.page_token)?;
        let customer_id = input::optional_id("customer_id", &r.customer_id)?.unwrap_or_default();
        let mut purchases = store::list(&self.store, page, &customer_id)
            .await
            .map_err(internal)?;
        let next_page_token = page.finish(&mut purchases);
        Ok(Response::new(pb::ListPurchasesResponse {
            purchases: purchases.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_purchase(
        &self,
        request: Request<pb::UpdatePurchaseRequest>,
    ) -> Result<Response<pb::Purchase>, Status> {
        let r = request.into_inner();
        let id = input::id("purchase_id", &r.purchase_id)?;
        let order_status = input::text("order_status", &r.order_status, NAME_MAX)?;
        requested_cancel(&order_status)
            .map_err(|e: PurchaseError| invalid_argument("order_status", e.to_string()))?;
        let purchase = self.cancel(&id).await?;
        Ok(Response::new(to_pb(purchase)))
    }

    async fn cancel_purchase(
        &self,
        request: Request<pb::CancelPurchaseRequest>,
    ) -> Result<Response<pb::Purchase>, Status> {
        let id = input::id("purchase_id", &request.into_inner().purchase_id)?;
        let purchase = self.cancel(&id).await?;
        Ok(Response::new(to_pb(purchase)))
    }
}
