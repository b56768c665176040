//! gRPC inbound adapter of order. Every field passes `mediamesh_mesh::input` first.
use mediamesh_mesh::events::once::{Recorded, record_once};
use mediamesh_mesh::input::{self, NAME_MAX};
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Raise, Store};
use mediamesh_proto::iptv::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
use crate::domain::{Application, JoinOrder, Product, requested_cancel};
use crate::error::Error;
use crate::events::event;
use crate::store;

pub struct OrderApi {
    store: Store,
}

pub fn to_pb(o: &JoinOrder) -> pb::JoinOrder {
    let a = o.application();
    pb::JoinOrder {
        join_order_id: o.id().to_owned(),
        customer_id: a.customer_id.clone(),
        customer_name: a.customer_name.clone(),
        address: a.address.clone(),
        region: a.region.clone(),
        product: a.product.as_str().to_owned(),
        status: o.status().as_str().to_owned(),
        cancel_status: o.cancel().as_str().to_owned(),
        create_time: o.create_time().to_owned(),
    }
}

fn application(r: &pb::CreateJoinOrderRequest) -> Result<Application, Error> {
    let product = input::required_text("product", &r.product, NAME_MAX)?;
    Ok(Application {
        customer_id: input::id("customer_id", &r.customer_id)?,
        customer_name: input::required_text("customer_name", &r.customer_name, NAME_MAX)?,
        address: input::required_text("address", &r.address, NAME_MAX)?,
        region: input::required_text("region", &r.region, NAME_MAX)?,
        product: Product::parse(&product).ok_or_else(|| {
            mediamesh_mesh::error::FieldViolation::new("product", "must be INTERNET or INTERNET_TV")
        })?,
    })
}

impl OrderApi {
    pub fn new(store: Store) -> OrderApi {
        OrderApi { store }
    }

    async fn load(&self, id: &str) -> Result<JoinOrder, Error> {
        store::get(&self.store, id)
            .await?
            .ok_or_else(|| Error::NotFound(id.to_owned()))
    }

    /// Records the order and raises `JoinOrderRequested`; the same request again (same id,
    /// same application) answers the recorded order, another under a taken id is refused.
    async fn create(&self, r: pb::CreateJoinOrderRequest) -> Result<JoinOrder, Error> {
        let id = input::optional_id("join_order_id", &r.join_order_id)?
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let application = application(&r)?;
        let now = mediamesh_mesh::observe::telemetry::now_rfc3339();
        let (order, raised) = JoinOrder::request(id, application, now);
        let events = vec![event(&order, &raised)];
        match record_once(&self.store, order.clone(), events).await? {
            Recorded::New(order) => Ok(order),
            Recorded::Existing(recorded) if recorded.same_request(&order) => Ok(recorded),
            Recorded::Existing(recorded) => Err(Error::Exists(recorded.id().to_owned())),
        }
    }

    /// The customer asks to cancel: CANCEL_REQUESTED and `JoinOrderCancelRequested`; the desk
    /// answers by event. Asked again, the order answers as it stands.
    async fn cancel(&self, r: pb::UpdateJoinOrderRequest) -> Result<JoinOrder, Error> {
        let id = input::id("join_order_id", &r.join_order_id)?;
        requested_cancel(&input::required_text("status", &r.status, NAME_MAX)?)?;
        // An event of the desk or the installer may move the order between our read and our
        // save: the customer's request still stands, so read again and decide again.
        for _ in 0..CANCEL_ATTEMPTS {
            let mut order = self.load(&id).await?;
            let read_at = order.version();
            let Some(raised) = order.request_cancel() else {
                return Ok(order);
            };
            let mut tx = self.store.begin().await?;
            if !store::save(&mut tx, &order, read_at).await? {
                continue;
            }
            tx.raise(event(&order, &raised)).await?;
            tx.commit().await?;
            return Ok(order);
        }
        Err(Error::Changed)
    }

    async fn list(
        &self,
        r: pb::ListJoinOrdersRequest,
    ) -> Result<pb::ListJoinOrdersResponse, Error> {
        let page = Keyset::parse(r.page_size, &r.page_token, 2)?;
        let customer_id = input::optional_id("customer_id", &r.customer_id)?.unwrap_or_default();
        let rows = store::list(&self.store, &page, &customer_id).await?;
        let (orders, next_page_token) = page.split(rows);
        Ok(pb::ListJoinOrdersResponse {
            join_orders: orders.iter().map(to_pb).collect(),
            next_page_token,
        })
    }
}

#[tonic::async_trait]
impl pb::join_order_service_server::JoinOrderService for OrderApi {
    async fn create_join_order(
        &self,
        request: Request<pb::CreateJoinOrderRequest>,
    ) -> Result<Response<pb::JoinOrder>, Status> {
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.customer_id = access::orderer(caller, &r.customer_id)?;
        }
        Ok(Response::new(to_pb(&self.create(r).await?)))
    }

    async fn get_join_order(
        &self,
        request: Request<pb::GetJoinOrderRequest>,
    ) -> Result<Response<pb::JoinOrder>, Status> {
        let caller = auth::caller(&request).cloned();
        let id =
            input::id("join_order_id", &request.into_inner().join_order_id).map_err(Error::from)?;
        let order = self.load(&id).await?;
        auth::check(caller.as_ref(), |c| {
            access::may_use(c, &order.application().customer_id)
        })?;
        Ok(Response::new(to_pb(&order)))
    }

    async fn list_join_orders(
        &self,
        request: Request<pb::ListJoinOrdersRequest>,
    ) -> Result<Response<pb::ListJoinOrdersResponse>, Status> {
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.customer_id = access::list_filter(caller, &r.customer_id)?;
        }
        Ok(Response::new(self.list(r).await?))
    }

    async fn update_join_order(
        &self,
        request: Request<pb::UpdateJoinOrderRequest>,
    ) -> Result<Response<pb::JoinOrder>, Status> {
        if let Some(caller) = auth::caller(&request) {
            let id = input::id("join_order_id", &request.get_ref().join_order_id)
                .map_err(Error::from)?;
            let order = self.load(&id).await?;
            access::may_use(caller, &order.application().customer_id)?;
        }
        Ok(Response::new(to_pb(
            &self.cancel(request.into_inner()).await?,
        )))
    }
}

/// Reads a cancellation may take when events keep moving the order under it.
const CANCEL_ATTEMPTS: usize = 5;
