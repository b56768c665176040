//! gRPC inbound adapter of notification.
use mediamesh_mesh::Store;
use mediamesh_mesh::input;
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_proto::video::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
use crate::error::Error;
use crate::store;

pub struct NotificationApi {
    store: Store,
}

impl NotificationApi {
    pub fn new(store: Store) -> NotificationApi {
        NotificationApi { store }
    }

    async fn list(
        &self,
        r: pb::ListNotificationsRequest,
    ) -> Result<pb::ListNotificationsResponse, Error> {
        let client_id = input::id("client_id", &r.client_id)?;
        let page = Keyset::parse(r.page_size, &r.page_token, 2)?;
        let mut notifications = store::list(&self.store, &page, &client_id).await?;
        let next_page_token = page.finish(&mut notifications, |n| {
            vec![n.create_time.clone(), n.notification_id.clone()]
        });
        Ok(pb::ListNotificationsResponse {
            notifications,
            next_page_token,
        })
    }
}

#[tonic::async_trait]
impl pb::notification_service_server::NotificationService for NotificationApi {
    async fn list_notifications(
        &self,
        request: Request<pb::ListNotificationsRequest>,
    ) -> Result<Response<pb::ListNotificationsResponse>, Status> {
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.client_id = access::client_filter(caller, &r.client_id)?;
        }
        Ok(Response::new(self.list(r).await?))
    }
}
