//! gRPC inbound adapter of the order status view. A join order the view has not heard of
//! yet (placed a moment ago) is asked of order, so the view never answers a false 404.
use mediamesh_mesh::input;
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Peer, Retry, Store};
use mediamesh_proto::iptv::v1 as pb;
use mediamesh_proto::iptv::v1::join_order_service_client::JoinOrderServiceClient;
use tonic::{Request, Response, Status};

use crate::access;
use crate::domain::{Step, View};
use crate::error::Error;
use crate::store::{self, Listed};

pub struct OrderStatusApi {
    store: Store,
    order: Peer,
}

fn to_pb(l: Listed) -> pb::OrderStatus {
    pb::OrderStatus {
        join_order_id: l.join_order_id,
        customer_id: l.customer_id,
        product: l.product,
        status: l.view.status().to_owned(),
        notice: l.view.notice().to_owned(),
        steps: l
            .view
            .steps()
            .iter()
            .map(|(step, time)| pb::OrderStep {
                step: step.as_str().to_owned(),
                time: time.clone(),
            })
            .collect(),
    }
}

impl OrderStatusApi {
    pub fn new(store: Store, order: Peer) -> OrderStatusApi {
        OrderStatusApi { store, order }
    }

    async fn get(&self, id: &str) -> Result<Listed, Error> {
        if let Some(listed) = store::get(&self.store, id).await? {
            return Ok(listed);
        }
        let request = pb::GetJoinOrderRequest {
            join_order_id: id.to_owned(),
        };
        let answer = self
            .order
            .call(Retry::Safe, |channel| {
                let request = self.order.request(request.clone());
                async move {
                    JoinOrderServiceClient::new(channel)
                        .get_join_order(request)
                        .await
                }
            })
            .await;
        match answer {
            // Only what the order says happened first; the rest follows by events.
            Ok(o) => Ok(Listed {
                join_order_id: o.join_order_id,
                customer_id: o.customer_id,
                product: o.product,
                view: View::new(vec![(Step::Requested, o.create_time)]),
            }),
            Err(error) if error.is_not_found() => Err(Error::NotFound(id.to_owned())),
            Err(error) => Err(error.into()),
        }
    }

    async fn list(
        &self,
        r: pb::ListOrderStatusesRequest,
    ) -> Result<pb::ListOrderStatusesResponse, Error> {
        let page = Keyset::parse(r.page_size, &r.page_token, 1)?;
        let customer_id = input::optional_id("customer_id", &r.customer_id)?.unwrap_or_default();
        let mut rows = store::list(&self.store, &page, &customer_id).await?;
        let next_page_token = page.finish(&mut rows, |l| vec![l.join_order_id.clone()]);
        Ok(pb::ListOrderStatusesResponse {
            order_statuses: rows.into_iter().map(to_pb).collect(),
            next_page_token,
        })
    }
}

#[tonic::async_trait]
impl pb::order_status_service_server::OrderStatusService for OrderStatusApi {
    async fn get_order_status(
        &self,
        request: Request<pb::GetOrderStatusRequest>,
    ) -> Result<Response<pb::OrderStatus>, Status> {
        let caller = auth::caller(&request).cloned();
        let id =
            input::id("join_order_id", &request.into_inner().join_order_id).map_err(Error::from)?;
        let status = self.get(&id).await?;
        auth::check(caller.as_ref(), |c| {
            access::may_read(c, &status.customer_id)
        })?;
        Ok(Response::new(to_pb(status)))
    }

    async fn list_order_statuses(
        &self,
        request: Request<pb::ListOrderStatusesRequest>,
    ) -> Result<Response<pb::ListOrderStatusesResponse>, Status> {
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.customer_id = access::list_filter(caller, &r.customer_id)?;
        }
        Ok(Response::new(self.list(r).await?))
    }
}
