//! gRPC inbound adapter of client. Every field passes `mediamesh_mesh::input` first; the
//! domain decides, and this adapter persists and publishes what it returns.
use mediamesh_mesh::input;
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Event, Raise, Store};
use mediamesh_proto::video::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
use crate::domain::{self, Client, Refund};
use crate::error::Error;
use crate::store;

const CONTEXT: &str = "video.client";

pub struct ClientApi {
    store: Store,
}

impl ClientApi {
    pub fn new(store: Store) -> ClientApi {
        ClientApi { store }
    }

    async fn load(&self, id: &str) -> Result<Client, Error> {
        store::get(&self.store, id)
            .await?
            .ok_or_else(|| Error::NotFound(id.to_owned()))
    }

    async fn create(&self, r: pb::CreateClientRequest) -> Result<Client, Error> {
        let id = input::optional_id("client_id", &r.client_id)?
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        domain::computed(r.total_view, true)?;
        let mut tx = self.store.begin().await?;
        // Its channels may have counted views before it registered.
        let total = store::sum_channels(&mut tx, &id).await?;
        let (client, registered) = Client::register(id, total);
        if !store::insert(&mut tx, &client).await? {
            drop(tx);
            // AIP-155: the same registration again is answered the client as it is now (its
            // body holds nothing but the id); a deleted client's id stays retired.
            let id = client.id().to_owned();
            return store::get(&self.store, &id).await?.ok_or(Error::Exists(id));
        }
        let event = pb::ClientRegistered {
            client_id: registered.client_id.clone(),
        };
        let id = &registered.client_id;
        tx.raise(Event::new(CONTEXT, &event, id, registered.version, id))
            .await?;
        tx.commit().await?;
        Ok(client)
    }

    async fn delete(&self, r: pb::DeleteClientRequest) -> Result<(), Error> {
        let id = input::id("client_id", &r.client_id)?;
        let mut tx = self.store.begin().await?;
        let mut client = store::lock(&mut tx, &id)
            .await?
            .ok_or_else(|| Error::NotFound(id.clone()))?;
        let deleted = client.delete();
        store::save(&mut tx, &client, true).await?;
        let event = pb::ClientDeleted {
            client_id: id.clone(),
        };
        tx.raise(Event::new(CONTEXT, &event, &id, deleted.version, &id))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn request_refund(&self, r: pb::CreateRefundRequestRequest) -> Result<Refund, Error> {
        let id = input::optional_id("refund_request_id", &r.refund_request_id)?
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let client_id = input::id("client_id", &r.client_id)?;
        let mut tx = self.store.begin().await?;
        // Locked, so the total the request carries is the client's as of this request.
        let client = store::lock(&mut tx, &client_id)
            .await?
            .ok_or(Error::NotFound(client_id))?;
        let (refund, requested) = Refund::request(id, &client);
        if !store::insert_refund(&mut tx, &refund).await? {
            drop(tx);
            // AIP-155: the same request again is answered the request as it is now; another
            // client's request under that id is refused.
            let id = refund.id().to_owned();
            return match store::get_refund(&self.store, &id).await? {
                Some(existing) if existing.same_request(&refund) => Ok(existing),
                _ => Err(Error::RefundExists(id)),
            };
        }
        let event = pb::RefundRequested {
            refund_request_id: requested.refund_request_id.clone(),
            client_id: requested.client_id.clone(),
            total_view: requested.total_view,
        };
        let id = &requested.refund_request_id;
        tx.raise(Event::new(CONTEXT, &event, id, 1, id)).await?;
        tx.commit().await?;
        Ok(refund)
    }
}

/// Counts past i32 are shown at the most the contract holds.
fn count(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn to_pb(c: Client) -> pb::Client {
    pb::Client {
        client_id: c.id().to_owned(),
        total_view: count(c.total_view()),
    }
}

fn refund_pb(r: Refund) -> pb::RefundRequest {
    pb::RefundRequest {
        refund_request_id: r.id().to_owned(),
        client_id: r.client_id().to_owned(),
        status: r.status().as_str().to_owned(),
        total_view: count(r.total_view()),
        refund_policy: count(r.refund_policy()),
    }
}

#[tonic::async_trait]
impl pb::client_service_server::ClientService for ClientApi {
    async fn list_clients(
        &self,
        request: Request<pb::ListClientsRequest>,
    ) -> Result<Response<pb::ListClientsResponse>, Status> {
        let r = request.into_inner();
        let page = Keyset::parse(r.page_size, &r.page_token, 2)?;
        let rows = store::list(&self.store, &page).await.map_err(Error::from)?;
        let (clients, next_page_token) = page.split(rows);
        Ok(Response::new(pb::ListClientsResponse {
            clients: clients.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn get_client(
        &self,
        request: Request<pb::GetClientRequest>,
    ) -> Result<Response<pb::Client>, Status> {
        let caller = auth::caller(&request).cloned();
        let id = input::id("client_id", &request.into_inner().client_id)?;
        if let Some(caller) = &caller {
            access::may_use(caller, &id)?;
        }
        Ok(Response::new(to_pb(self.load(&id).await?)))
    }

    async fn create_client(
        &self,
        request: Request<pb::CreateClientRequest>,
    ) -> Result<Response<pb::Client>, Status> {
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.client_id = access::client_for(caller, &r.client_id)?;
        }
        Ok(Response::new(to_pb(self.create(r).await?)))
    }

    async fn update_client(
        &self,
        request: Request<pb::UpdateClientRequest>,
    ) -> Result<Response<pb::Client>, Status> {
        let caller = auth::caller(&request).cloned();
        let r = request.into_inner();
        let id = input::id("client_id", &r.client_id)?;
        auth::check(caller.as_ref(), |c| access::may_use(c, &id))?;
        domain::computed(r.total_view, false).map_err(Error::from)?;
        Ok(Response::new(to_pb(self.load(&id).await?)))
    }

    async fn delete_client(
        &self,
        request: Request<pb::DeleteClientRequest>,
    ) -> Result<Response<pb::DeleteClientResponse>, Status> {
        auth::authorize(&request, |c| {
            access::may_use(c, &request.get_ref().client_id)
        })?;
        self.delete(request.into_inner()).await?;
        Ok(Response::new(pb::DeleteClientResponse {}))
    }

    async fn create_refund_request(
        &self,
        request: Request<pb::CreateRefundRequestRequest>,
    ) -> Result<Response<pb::RefundRequest>, Status> {
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.client_id = access::client_for(caller, &r.client_id)?;
        }
        let refund = self.request_refund(r).await?;
        Ok(Response::new(refund_pb(refund)))
    }

    async fn get_refund_request(
        &self,
        request: Request<pb::GetRefundRequestRequest>,
    ) -> Result<Response<pb::RefundRequest>, Status> {
        let caller = auth::caller(&request).cloned();
        let id = input::id("refund_request_id", &request.into_inner().refund_request_id)?;
        let refund = store::get_refund(&self.store, &id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::RefundNotFound(id))?;
        auth::check(caller.as_ref(), |c| access::may_use(c, refund.client_id()))?;
        Ok(Response::new(refund_pb(refund)))
    }

    async fn list_refund_requests(
        &self,
        request: Request<pb::ListRefundRequestsRequest>,
    ) -> Result<Response<pb::ListRefundRequestsResponse>, Status> {
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.client_id = access::refund_filter(caller, &r.client_id)?;
        }
        let page = Keyset::parse(r.page_size, &r.page_token, 2)?;
        let client_id = input::optional_id("client_id", &r.client_id)?.unwrap_or_default();
        let rows = store::list_refunds(&self.store, &page, &client_id)
            .await
            .map_err(Error::from)?;
        let (refunds, next_page_token) = page.split(rows);
        Ok(Response::new(pb::ListRefundRequestsResponse {
            refund_requests: refunds.into_iter().map(refund_pb).collect(),
            next_page_token,
        }))
    }
}
