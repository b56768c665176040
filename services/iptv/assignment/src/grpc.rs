//! gRPC inbound adapters of the desk: the installers' roster and the assignments. Every
//! field passes `mediamesh_mesh::input` first.
use mediamesh_mesh::input::{self, NAME_MAX};
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Peer, Raise, Retry, Store};
use mediamesh_proto::iptv::v1 as pb;
use mediamesh_proto::iptv::v1::installation_service_client::InstallationServiceClient;
use mediamesh_proto::iptv::v1::join_order_service_client::JoinOrderServiceClient;
use tonic::{Request, Response, Status};

use crate::access;
use crate::domain::{Assignment, DeskError, Installer, Order, requested_complete};
use crate::error::Error;
use crate::events::event;
use crate::store;

pub struct InstallerApi {
    store: Store,
}

impl InstallerApi {
    pub fn new(store: Store) -> InstallerApi {
        InstallerApi { store }
    }

    /// Registers an installer; the same one again answers the recorded one.
    async fn create(&self, r: pb::CreateInstallerRequest) -> Result<Installer, Error> {
        let installer = Installer {
            installer_id: input::optional_id("installer_id", &r.installer_id)?
                .unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
            name: input::required_text("name", &r.name, NAME_MAX)?,
            region: input::required_text("region", &r.region, NAME_MAX)?,
        };
        let (_, recorded) = store::add_installer(&self.store, installer.clone()).await?;
        if recorded != installer {
            return Err(Error::InstallerExists(recorded.installer_id));
        }
        Ok(recorded)
    }

    async fn list(
        &self,
        r: pb::ListInstallersRequest,
    ) -> Result<pb::ListInstallersResponse, Error> {
        let page = Keyset::parse(r.page_size, &r.page_token, 1)?;
        let region = input::text("region", &r.region, NAME_MAX)?;
        let rows = store::list_installers(&self.store, &page, &region).await?;
        let (installers, next_page_token) = page.split(rows);
        Ok(pb::ListInstallersResponse {
            installers: installers.into_iter().map(installer_pb).collect(),
            next_page_token,
        })
    }
}

fn installer_pb(i: Installer) -> pb::Installer {
    pb::Installer {
        installer_id: i.installer_id,
        name: i.name,
        region: i.region,
    }
}

fn to_pb(a: &Assignment) -> pb::Assignment {
    let o = a.order();
    pb::Assignment {
        join_order_id: a.id().to_owned(),
        customer_id: o.customer_id.clone(),
        address: o.address.clone(),
        region: o.region.clone(),
        product: o.product.clone(),
        installer_id: a.installer_id().to_owned(),
        status: a.status().as_str().to_owned(),
        cancel_status: a.cancel().as_str().to_owned(),
    }
}

#[tonic::async_trait]
impl pb::installer_service_server::InstallerService for InstallerApi {
    async fn create_installer(
        &self,
        request: Request<pb::CreateInstallerRequest>,
    ) -> Result<Response<pb::Installer>, Status> {
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.installer_id = access::registrant(caller, &r.installer_id)?;
        }
        Ok(Response::new(installer_pb(self.create(r).await?)))
    }

    async fn get_installer(
        &self,
        request: Request<pb::GetInstallerRequest>,
    ) -> Result<Response<pb::Installer>, Status> {
        let id =
            input::id("installer_id", &request.into_inner().installer_id).map_err(Error::from)?;
        let installer = store::get_installer(&self.store, &id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::InstallerNotFound(id))?;
        Ok(Response::new(installer_pb(installer)))
    }

    async fn list_installers(
        &self,
        request: Request<pb::ListInstallersRequest>,
    ) -> Result<Response<pb::ListInstallersResponse>, Status> {
        Ok(Response::new(self.list(request.into_inner()).await?))
    }
}

pub struct AssignmentApi {
    store: Store,
    order: Peer,
    installation: Peer,
}

impl AssignmentApi {
    pub fn new(store: Store, order: Peer, installation: Peer) -> AssignmentApi {
        AssignmentApi {
            store,
            order,
            installation,
        }
    }

    /// The assignment; an order the desk has not heard of yet (just placed) is asked of
    /// order and recorded, so the desk never answers a false 404.
    async fn find(&self, id: &str) -> Result<Assignment, Error> {
        if let Some(a) = store::get(&self.store, id).await? {
            return Ok(a);
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
        let o = match answer {
            Ok(o) => o,
            Err(error) if error.is_not_found() => return Err(Error::NotFound(id.to_owned())),
            Err(error) => return Err(error.into()),
        };
        let order = Order {
            customer_id: o.customer_id,
            address: o.address,
            region: o.region,
            product: o.product,
        };
        let learned = Assignment::waiting(id.to_owned(), order);
        let mut tx = self.store.begin().await?;
        store::insert(&mut tx, &learned).await?;
        tx.commit().await?;
        store::get(&self.store, id)
            .await?
            .ok_or_else(|| Error::NotFound(id.to_owned()))
    }

    /// Whether installation says the order is installed (the desk's replica may lag).
    async fn installed(&self, id: &str) -> Result<bool, Error> {
        let request = pb::GetInstallationRequest {
            join_order_id: id.to_owned(),
        };
        let answer = self
            .installation
            .call(Retry::Safe, |channel| {
                let request = self.installation.request(request.clone());
                async move {
                    InstallationServiceClient::new(channel)
                        .get_installation(request)
                        .await
                }
            })
            .await;
        match answer {
            Ok(i) => Ok(i.status == "COMPLETED"),
            Err(error) if error.is_not_found() => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    async fn update(&self, r: pb::UpdateAssignmentRequest) -> Result<Assignment, Error> {
        let id = input::id("join_order_id", &r.join_order_id)?;
        let installer_id = input::optional_id("installer_id", &r.installer_id)?;
        let status = input::text("status", &r.status, NAME_MAX)?;
        if !status.is_empty() {
            requested_complete(&status)?;
        }
        let installer = match &installer_id {
            Some(installer_id) => Some(
                store::get_installer(&self.store, installer_id)
                    .await?
                    .ok_or_else(|| Error::InstallerNotFound(installer_id.clone()))?,
            ),
            None if status.is_empty() => {
                return Err(mediamesh_mesh::error::FieldViolation::new(
                    "installer_id",
                    "is required",
                )
                .into());
            }
            None => None,
        };
        let known = self.find(&id).await?;
        let completing = !status.is_empty();
        // Asked before the row is locked: a peer call never holds a lock.
        let installed = completing
            && known.status() == crate::domain::Status::Assigned
            && self.installed(&id).await?;
        // Desk moves that arrive together share one transaction (group commit); a refusal is
        // a value, so it never fails the others.
        let key = id.clone();
        let decided = self
            .store
            .write(move |tx| {
                let (id, installer) = (key.clone(), installer.clone());
                Box::pin(async move {
                    let Some(mut a) = store::lock(tx, &id).await? else {
                        return Ok(Decided::Missing);
                    };
                    let mut raised = Vec::new();
                    if let Some(installer) = &installer {
                        match a.assign(installer) {
                            Ok(r) => raised.extend(r),
                            Err(rule) => return Ok(Decided::Refused(rule)),
                        }
                    }
                    let mut changed = !raised.is_empty();
                    if completing {
                        if installed {
                            changed |= a.installed();
                        }
                        match a.complete() {
                            Ok(r) => raised.extend(r),
                            Err(rule) => return Ok(Decided::Refused(rule)),
                        }
                    }
                    if changed || !raised.is_empty() {
                        store::save(tx, &a).await?;
                        for r in raised {
                            tx.raise(event(&a, r)).await?;
                        }
                    }
                    Ok(Decided::Done(a))
                })
            })
            .await?;
        let a = match decided {
            Decided::Done(a) => a,
            Decided::Missing => return Err(Error::NotFound(id)),
            Decided::Refused(rule) => return Err(rule.into()),
        };
        Ok(a)
    }
}

/// What a desk move came to in its transaction.
enum Decided {
    Done(Assignment),
    Missing,
    Refused(DeskError),
}

#[tonic::async_trait]
impl pb::assignment_service_server::AssignmentService for AssignmentApi {
    async fn get_assignment(
        &self,
        request: Request<pb::GetAssignmentRequest>,
    ) -> Result<Response<pb::Assignment>, Status> {
        auth::authorize(&request, access::may_read)?;
        let id =
            input::id("join_order_id", &request.into_inner().join_order_id).map_err(Error::from)?;
        Ok(Response::new(to_pb(&self.find(&id).await?)))
    }

    async fn list_assignments(
        &self,
        request: Request<pb::ListAssignmentsRequest>,
    ) -> Result<Response<pb::ListAssignmentsResponse>, Status> {
        auth::authorize(&request, access::may_read)?;
        let r = request.into_inner();
        let page = Keyset::parse(r.page_size, &r.page_token, 1)?;
        let rows = store::list(&self.store, &page).await.map_err(Error::from)?;
        let (rows, next_page_token) = page.split(rows);
        Ok(Response::new(pb::ListAssignmentsResponse {
            assignments: rows.iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_assignment(
        &self,
        request: Request<pb::UpdateAssignmentRequest>,
    ) -> Result<Response<pb::Assignment>, Status> {
        auth::authorize(&request, access::may_move)?;
        Ok(Response::new(to_pb(
            &self.update(request.into_inner()).await?,
        )))
    }
}
