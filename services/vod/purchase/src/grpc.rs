//! gRPC inbound adapter of purchase: parses requests at the edge, answers in contract types.
use mediamesh_mesh::input::{self, NAME_MAX};
use mediamesh_mesh::serving::auth::{self, Caller};
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Event, Raise, Store};
use mediamesh_proto::vod::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
use crate::checkout::{CONTEXT, Checkout};
use crate::domain::{Purchase, requested_cancel};
use crate::error::Error;
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

    async fn load(&self, id: &str) -> Result<Purchase, Error> {
        let purchase = store::get(&self.store, id).await?;
        purchase.ok_or_else(|| Error::NotFound("purchase", id.to_owned()))
    }

    /// The purchase, when the caller may use it (auth on); NOT_FOUND before PERMISSION_DENIED.
    async fn load_for(&self, caller: Option<&Caller>, id: &str) -> Result<Purchase, Status> {
        let purchase = self.load(id).await?;
        auth::check(caller, |c| {
            access::may_use(c, &purchase.order().customer_id)
        })?;
        Ok(purchase)
    }

    async fn create(&self, r: pb::CreatePurchaseRequest) -> Result<Purchase, Error> {
        let chosen = input::optional_id("purchase_id", &r.purchase_id)?;
        let vod_id = input::id("vod_id", &r.vod_id)?;
        // Informational, as in the seed (the catalog's name wins), yet bounded like any text.
        input::text("vod_name", &r.vod_name, NAME_MAX)?;
        // No customer: an anonymous purchase, with no account to earn or spend credits.
        let customer_id = input::optional_id("customer_id", &r.customer_id)?.unwrap_or_default();
        // A client-chosen id seen before: a retry answers it as it is now (even while
        // payment's breaker is open), another request is refused. Copies racing this read
        // meet again when the saga records the purchase.
        if let Some(id) = &chosen
            && let Some(existing) = store::get(&self.store, id).await?
        {
            let retry = existing.same_request(&vod_id, &customer_id);
            return self.checkout.retried(existing, retry).await;
        }
        let id = chosen.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let (vod, credits) = self.titles.offer(&vod_id, &customer_id).await?;
        let may_be_free = !customer_id.is_empty() && credits > 0;
        self.checkout
            .purchase(id, vod, customer_id, may_be_free)
            .await
    }

    /// The cancel saga's first step: CANCELLED plus `PurchaseCancelled` (payment and mileage
    /// follow by events). Repeating it answers the cancelled purchase.
    async fn cancel(&self, id: &str) -> Result<Purchase, Error> {
        let mut purchase = self.load(id).await?;
        let Some(cancelled) = purchase.cancel()? else {
            return Ok(purchase);
        };
        let mut tx = self.store.begin().await?;
        if !store::update_status(&mut tx, &purchase).await? {
            return Err(Error::Changed(id.to_owned()));
        }
        let order = &cancelled.order;
        if cancelled.credit_returned {
            store::add_credit(&mut tx, &order.customer_id).await?;
        }
        let event = pb::PurchaseCancelled {
            purchase_id: order.id.clone(),
            customer_id: order.customer_id.clone(),
            vod_id: order.vod_id.clone(),
            amount: order.amount.get(),
            free_vod: order.free_vod,
        };
        tx.raise(Event::new(CONTEXT, &event, id, cancelled.version, id))
            .await?;
        tx.commit().await?;
        tracing::info!(purchase_id = %id, "purchase cancelled");
        Ok(purchase)
    }
}

fn to_pb(p: Purchase) -> pb::Purchase {
    let status = p.status().as_str().to_owned();
    let order = p.order().clone();
    pb::Purchase {
        purchase_id: order.id,
        vod_id: order.vod_id,
        vod_name: order.vod_name,
        customer_id: order.customer_id,
        order_status: status,
        amount: order.amount.get(),
        free_vod: order.free_vod,
        create_time: order.create_time,
    }
}

#[tonic::async_trait]
impl pb::purchase_service_server::PurchaseService for PurchaseApi {
    async fn create_purchase(
        &self,
        request: Request<pb::CreatePurchaseRequest>,
    ) -> Result<Response<pb::Purchase>, Status> {
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.customer_id = access::buyer(caller, &r.customer_id)?;
        }
        let purchase = self.create(r).await?;
        Ok(Response::new(to_pb(purchase)))
    }

    async fn get_purchase(
        &self,
        request: Request<pb::GetPurchaseRequest>,
    ) -> Result<Response<pb::Purchase>, Status> {
        let caller = auth::caller(&request).cloned();
        let id = input::id("purchase_id", &request.into_inner().purchase_id)?;
        let purchase = self.load_for(caller.as_ref(), &id).await?;
        Ok(Response::new(to_pb(purchase)))
    }

    async fn list_purchases(
        &self,
        request: Request<pb::ListPurchasesRequest>,
    ) -> Result<Response<pb::ListPurchasesResponse>, Status> {
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.customer_id = access::list_filter(caller, &r.customer_id)?;
        }
        let page = Keyset::parse(r.page_size, &r.page_token, 2)?;
        let customer_id = input::optional_id("customer_id", &r.customer_id)?.unwrap_or_default();
        let mut purchases = store::list(&self.store, &page, &customer_id)
            .await
            .map_err(Error::from)?;
        let next_page_token = page.finish(&mut purchases, store::list_key);
        Ok(Response::new(pb::ListPurchasesResponse {
            purchases: purchases.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_purchase(
        &self,
        request: Request<pb::UpdatePurchaseRequest>,
    ) -> Result<Response<pb::Purchase>, Status> {
        let caller = auth::caller(&request).cloned();
        let r = request.into_inner();
        let id = input::id("purchase_id", &r.purchase_id)?;
        let order_status = input::text("order_status", &r.order_status, NAME_MAX)?;
        requested_cancel(&order_status).map_err(Error::from)?;
        self.load_for(caller.as_ref(), &id).await?;
        let purchase = self.cancel(&id).await?;
        Ok(Response::new(to_pb(purchase)))
    }

    async fn cancel_purchase(
        &self,
        request: Request<pb::CancelPurchaseRequest>,
    ) -> Result<Response<pb::Purchase>, Status> {
        let caller = auth::caller(&request).cloned();
        let id = input::id("purchase_id", &request.into_inner().purchase_id)?;
        self.load_for(caller.as_ref(), &id).await?;
        let purchase = self.cancel(&id).await?;
        Ok(Response::new(to_pb(purchase)))
    }
}
