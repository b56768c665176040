//! gRPC inbound adapter of the channel view.
use mediamesh_mesh::Store;
use mediamesh_mesh::input;
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_proto::video::v1 as pb;
use tonic::{Request, Response, Status};

use crate::error::Error;
use crate::store;

pub struct ChannelViewApi {
    store: Store,
}

impl ChannelViewApi {
    pub fn new(store: Store) -> ChannelViewApi {
        ChannelViewApi { store }
    }

    async fn get(&self, r: pb::GetChannelViewRequest) -> Result<pb::ChannelView, Error> {
        let client_id = input::id("client_id", &r.client_id)?;
        let page = Keyset::parse(r.page_size, &r.page_token, 2)?;
        store::screen(&self.store, &client_id, &page)
            .await?
            .ok_or(Error::NotFound(client_id))
    }
}

#[tonic::async_trait]
impl pb::channel_view_service_server::ChannelViewService for ChannelViewApi {
    async fn get_channel_view(
        &self,
        request: Request<pb::GetChannelViewRequest>,
    ) -> Result<Response<pb::ChannelView>, Status> {
        // The screen shows the client's refunds: read by that client or an operator, as the
        // refunds themselves are.
        let caller = auth::caller(&request).cloned();
        let r = request.into_inner();
        if let Some(caller) = &caller {
            caller.acting_for(&r.client_id, "this client's screen")?;
        }
        Ok(Response::new(self.get(r).await?))
    }
}
