//! gRPC inbound adapter of installation, internal `WithdrawInstallation` included. Every
//! field passes `mediamesh_mesh::input` first.
use mediamesh_mesh::input::{self, NAME_MAX};
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Raise, Store};
use mediamesh_proto::iptv::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
use crate::domain::{Installation, InstallationError, Move};
use crate::error::Error;
use crate::events::event;
use crate::store;

pub struct InstallationApi {
    store: Store,
}

fn to_pb(i: &Installation) -> pb::Installation {
    let w = i.work();
    pb::Installation {
        join_order_id: i.id().to_owned(),
        installer_id: w.installer_id.clone(),
        customer_id: w.customer_id.clone(),
        address: w.address.clone(),
        product: w.product.clone(),
        status: i.status().as_str().to_owned(),
    }
}

/// What an installer's move came to in its transaction.
enum Moved {
    Done(Installation),
    Missing,
    Refused(InstallationError),
}

impl InstallationApi {
    pub fn new(store: Store) -> InstallationApi {
        InstallationApi { store }
    }

    async fn load(&self, id: &str) -> Result<Installation, Error> {
        store::get(&self.store, id)
            .await?
            .ok_or_else(|| Error::NotFound(id.to_owned()))
    }

    /// The installer accepts or completes.
    async fn update(&self, r: pb::UpdateInstallationRequest) -> Result<Installation, Error> {
        let id = input::id("join_order_id", &r.join_order_id)?;
        let step = Move::parse(&input::required_text("status", &r.status, NAME_MAX)?)?;
        // Moves that arrive together share one transaction (group commit); a refusal is a
        // value, so it never fails the others.
        let key = id.clone();
        let moved = self
            .store
            .write(move |tx| {
                let id = key.clone();
                Box::pin(async move {
                    let Some(mut i) = store::lock(tx, &id).await? else {
                        return Ok(Moved::Missing);
                    };
                    match i.apply(step) {
                        Ok(Some(raised)) => {
                            store::save(tx, &i).await?;
                            tx.raise(event(&i, raised)).await?;
                            Ok(Moved::Done(i))
                        }
                        Ok(None) => Ok(Moved::Done(i)),
                        Err(rule) => Ok(Moved::Refused(rule)),
                    }
                })
            })
            .await?;
        match moved {
            Moved::Done(i) => Ok(i),
            Moved::Missing => Err(Error::NotFound(id)),
            Moved::Refused(rule) => Err(rule.into()),
        }
    }

    /// Withdraws the installation unless installed. An order with none yet is withdrawn in
    /// advance (insert first: of two withdrawals at once, one inserts, the other locks it).
    async fn withdraw(&self, r: pb::WithdrawInstallationRequest) -> Result<pb::Withdrawal, Error> {
        let id = input::id("join_order_id", &r.join_order_id)?;
        let customer_id = input::id("customer_id", &r.customer_id)?;
        let mut tx = self.store.begin().await?;
        let (advance, raised) = Installation::withdrawn_in_advance(id.clone(), customer_id);
        let withdrawn = if store::insert(&mut tx, &advance).await? {
            tx.raise(event(&advance, raised)).await?;
            true
        } else {
            let mut i = store::lock(&mut tx, &id)
                .await?
                .ok_or_else(|| Error::Changed)?;
            match i.withdraw() {
                Ok(Some(raised)) => {
                    store::save(&mut tx, &i).await?;
                    tx.raise(event(&i, raised)).await?;
                    true
                }
                Ok(None) => true,
                Err(InstallationError::Completed) => false,
                Err(other) => return Err(other.into()),
            }
        };
        tx.commit().await?;
        Ok(pb::Withdrawal {
            join_order_id: id,
            withdrawn,
        })
    }

    async fn list(
        &self,
        r: pb::ListInstallationsRequest,
    ) -> Result<pb::ListInstallationsResponse, Error> {
        let page = Keyset::parse(r.page_size, &r.page_token, 1)?;
        let installer_id = input::optional_id("installer_id", &r.installer_id)?.unwrap_or_default();
        let rows = store::list(&self.store, &page, &installer_id).await?;
        let (rows, next_page_token) = page.split(rows);
        Ok(pb::ListInstallationsResponse {
            installations: rows.iter().map(to_pb).collect(),
            next_page_token,
        })
    }
}

#[tonic::async_trait]
impl pb::installation_service_server::InstallationService for InstallationApi {
    async fn get_installation(
        &self,
        request: Request<pb::GetInstallationRequest>,
    ) -> Result<Response<pb::Installation>, Status> {
        let caller = auth::caller(&request).cloned();
        let id =
            input::id("join_order_id", &request.into_inner().join_order_id).map_err(Error::from)?;
        let installation = to_pb(&self.load(&id).await?);
        auth::check(caller.as_ref(), |c| {
            access::may_read(c, &installation.installer_id, &installation.customer_id)
        })?;
        Ok(Response::new(installation))
    }

    async fn list_installations(
        &self,
        request: Request<pb::ListInstallationsRequest>,
    ) -> Result<Response<pb::ListInstallationsResponse>, Status> {
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.installer_id = access::list_filter(caller, &r.installer_id)?;
        }
        Ok(Response::new(self.list(r).await?))
    }

    async fn update_installation(
        &self,
        request: Request<pb::UpdateInstallationRequest>,
    ) -> Result<Response<pb::Installation>, Status> {
        if let Some(caller) = auth::caller(&request) {
            let id = input::id("join_order_id", &request.get_ref().join_order_id)
                .map_err(Error::from)?;
            let installation = to_pb(&self.load(&id).await?);
            access::may_move(caller, &installation.installer_id)?;
        }
        Ok(Response::new(to_pb(
            &self.update(request.into_inner()).await?,
        )))
    }

    async fn withdraw_installation(
        &self,
        request: Request<pb::WithdrawInstallationRequest>,
    ) -> Result<Response<pb::Withdrawal>, Status> {
        Ok(Response::new(self.withdraw(request.into_inner()).await?))
    }
}
