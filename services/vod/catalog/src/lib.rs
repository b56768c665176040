//! VOD store, catalog context (supporting): the VOD list. Registration raises
//! `VodRegistered`, so purchase keeps its own replica and never needs the catalog up.
mod access;
mod domain;
mod error;
mod grpc;
mod store;

#[cfg(test)]
mod tests;

use mediamesh_mesh::{Context, ContextEnv, ContextInfo};
use mediamesh_proto::vod::v1::catalog_service_server::CatalogServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "vod",
    name: "catalog",
    role: "supporting",
    services: &[(
        "mediamesh.vod.v1.CatalogService",
        &["ListVods", "GetVod", "CreateVod"],
    )],
    calls: &[],
    publishes: &["VodRegistered"],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Catalog;

#[async_trait::async_trait]
impl Context for Catalog {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        routes.add_service(CatalogServiceServer::new(grpc::CatalogApi::new(env.store)));
        Ok(())
    }
}
