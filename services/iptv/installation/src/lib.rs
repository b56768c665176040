//! IPTV subscription shop, installation context (the installer): installations opened by
//! the desk's assignment, accepted and completed by their installer, and withdrawn when the
//! desk asks (internal `WithdrawInstallation`) unless installed already.
mod access;
mod domain;
mod error;
mod events;
mod grpc;
mod policy;
mod store;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use mediamesh_mesh::events::policy::Policies;
use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Handler};
use mediamesh_proto::iptv::v1 as pb;
use mediamesh_proto::iptv::v1::installation_service_server::InstallationServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "iptv",
    name: "installation",
    role: "supporting",
    services: &[(
        "mediamesh.iptv.v1.InstallationService",
        &[
            "GetInstallation",
            "ListInstallations",
            "UpdateInstallation",
            "WithdrawInstallation",
        ],
    )],
    calls: &[],
    publishes: &[
        "InstallationAccepted",
        "InstallationCompleted",
        "InstallationWithdrawn",
    ],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Installation;

#[async_trait::async_trait]
impl Context for Installation {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        routes.add_service(InstallationServiceServer::new(grpc::InstallationApi::new(
            env.store,
        )));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// The desk's assignment opens an installation.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Open)
        .on::<pb::InstallerAssigned>()
        .into_handler()
}
