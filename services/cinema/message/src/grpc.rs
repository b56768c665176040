//! gRPC inbound adapter of message.
use mediamesh_mesh::Store;
use mediamesh_mesh::error::internal;
use mediamesh_mesh::input;
use mediamesh_mesh::storage::page::Page;
use mediamesh_proto::cinema::v1 as pb;
use tonic::{Request, Response, Status};

use crate::store;

pub struct MessageApi {
    store: Store,
}

impl MessageApi {
    pub fn new(store: Store) -> MessageApi {
        MessageApi { store }
    }
}

#[tonic::async_trait]
impl pb::message_service_server::MessageService for MessageApi {
    async fn list_messages(
        &self,
        request: Request<pb::ListMessagesRequest>,
    ) -> Result<Response<pb::ListMessagesResponse>, Status> {
        let r = request.into_inner();
        let page = Page::parse(r.page_size, &r.page_token)?;
        let rsv_id = input::optional_id("rsv_id", &r.rsv_id)?.unwrap_or_default();
        let mut messages = store::list(&self.store, page, &rsv_id)
            .await
            .map_err(internal)?;
        let next_page_token = page.finish(&mut messages);
        Ok(Response::new(pb::ListMessagesResponse {
            messages,
            next_page_token,
        }))
    }
}
