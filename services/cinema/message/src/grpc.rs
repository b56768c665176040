//! gRPC inbound adapter of message.
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Store, input};
use mediamesh_proto::cinema::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
use crate::error::Error;
use crate::store;

pub struct MessageApi {
    store: Store,
}

impl MessageApi {
    pub fn new(store: Store) -> MessageApi {
        MessageApi { store }
    }

    /// `customer`: only their messages (empty: everyone's).
    async fn list(
        &self,
        r: pb::ListMessagesRequest,
        customer: &str,
    ) -> Result<pb::ListMessagesResponse, Error> {
        let page = Keyset::parse(r.page_size, &r.page_token, 2)?;
        let rsv_id = input::optional_id("rsv_id", &r.rsv_id)?.unwrap_or_default();
        let mut messages = store::list(&self.store, &page, &rsv_id, customer).await?;
        let next_page_token = page.finish(&mut messages, |m| {
            vec![m.create_time.clone(), m.message_id.clone()]
        });
        Ok(pb::ListMessagesResponse {
            messages,
            next_page_token,
        })
    }
}

#[tonic::async_trait]
impl pb::message_service_server::MessageService for MessageApi {
    async fn list_messages(
        &self,
        request: Request<pb::ListMessagesRequest>,
    ) -> Result<Response<pb::ListMessagesResponse>, Status> {
        let customer = auth::caller(&request)
            .map(access::customer_filter)
            .unwrap_or_default();
        Ok(Response::new(
            self.list(request.into_inner(), &customer).await?,
        ))
    }
}
