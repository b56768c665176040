//! IPTV subscription shop, assignment context (the customer-service desk): the installers'
//! roster, every join order waiting for an installer of its region, the subscription
//! completed once installed, and the customer's cancellation decided with installation
//! (a synchronous saga through the breaker, answered once, recovered when installation is
//! down or hung).
mod access;
mod cancel;
mod domain;
mod error;
mod events;
mod grpc;
mod policy;
mod store;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use mediamesh_mesh::calls::saga::sweep;
use mediamesh_mesh::events::policy::Policies;
use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Handler};
use mediamesh_proto::iptv::v1 as pb;
use mediamesh_proto::iptv::v1::assignment_service_server::AssignmentServiceServer;
use mediamesh_proto::iptv::v1::installer_service_server::InstallerServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "iptv",
    name: "assignment",
    role: "core",
    services: &[
        (
            "mediamesh.iptv.v1.InstallerService",
            &["CreateInstaller", "GetInstaller", "ListInstallers"],
        ),
        (
            "mediamesh.iptv.v1.AssignmentService",
            &["GetAssignment", "ListAssignments", "UpdateAssignment"],
        ),
    ],
    calls: &[
        ("iptv.installation", "WithdrawInstallation"),
        ("iptv.installation", "GetInstallation"),
        ("iptv.order", "GetJoinOrder"),
    ],
    publishes: &[
        "InstallerAssigned",
        "SubscriptionCompleted",
        "CancellationAccepted",
        "CancellationRejected",
    ],
    migrations: store::MIGRATIONS,
    views: &[],
};

/// The desk; holds where its policy hands recorded cancellations to the task that answers
/// them.
#[derive(Default)]
pub struct Assignment {
    requests: cancel::Requests,
}

#[async_trait::async_trait]
impl Context for Assignment {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        let installation = env.peer("iptv.installation")?;
        let saga = cancel::Cancellations::new(env.store.clone(), installation.clone());
        let requests = Arc::new(tokio::sync::Mutex::new(self.requests.open()));
        let answering = saga.clone();
        env.tasks
            .spawn("iptv.assignment cancellations", move |stop| {
                cancel::answer(answering.clone(), requests.clone(), stop)
            });
        env.tasks.spawn("iptv.assignment recovery", move |stop| {
            let saga = saga.clone();
            async move { sweep("iptv.assignment", &saga, stop).await }
        });
        routes.add_service(InstallerServiceServer::new(grpc::InstallerApi::new(
            env.store.clone(),
        )));
        let order = env.peer("iptv.order")?;
        routes.add_service(AssignmentServiceServer::new(grpc::AssignmentApi::new(
            env.store,
            order,
            installation,
        )));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies(self.requests.clone()))
    }
}

/// Join orders and their cancellations reach the desk; so does a completed installation.
fn policies(requests: cancel::Requests) -> Arc<dyn Handler> {
    Policies::new(policy::Desk { requests })
        .on::<pb::JoinOrderRequested>()
        .on::<pb::JoinOrderCancelRequested>()
        .on::<pb::InstallationCompleted>()
        .into_handler()
}
