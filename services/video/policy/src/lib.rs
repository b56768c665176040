//! Video platform, policy context: policies (the views a client needs for a refund, banned
//! title words, the video a policy's deletion takes down). Every upload and edit is checked
//! against the banned words asynchronously (VideoTakedownOrdered); deleting a policy that
//! names a video takes it down; refund requests are decided against the most lenient live
//! policy and the total the request carries (RefundDecided, correlated by request id).
mod access;
mod domain;
mod error;
mod events;
mod grpc;
mod policy;
mod store;
mod write;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use mediamesh_mesh::events::policy::Policies;
use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Handler};
use mediamesh_proto::video::v1 as pb;
use mediamesh_proto::video::v1::policy_service_server::PolicyServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "video",
    name: "policy",
    role: "supporting",
    services: &[(
        "mediamesh.video.v1.PolicyService",
        &[
            "CreatePolicy",
            "GetPolicy",
            "ListPolicies",
            "UpdatePolicy",
            "DeletePolicy",
        ],
    )],
    calls: &[],
    publishes: &[
        "PolicyChanged",
        "PolicyDeleted",
        "VideoTakedownOrdered",
        "RefundDecided",
    ],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Policy;

#[async_trait::async_trait]
impl Context for Policy {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        routes.add_service(PolicyServiceServer::new(grpc::PolicyApi::new(env.store)));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// Uploads and edits are checked; refund requests decided.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Police)
        .on::<pb::VideoUploaded>()
        .on::<pb::VideoEdited>()
        .on::<pb::RefundRequested>()
        .into_handler()
}
