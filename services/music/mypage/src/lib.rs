//! MusiCloud, mypage context (CQRS): the creator's view of every content's progress and of
//! the covers of their works, built from events only and rebuildable by replay.
mod grpc;
mod policy;
mod store;

use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Started, Subscription};
use mediamesh_proto::music::v1::mypage_service_server::MypageServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "music",
    name: "mypage",
    role: "supporting",
    services: &[("mediamesh.music.v1.MypageService", &["ListMypages"])],
    calls: &[],
    publishes: &[],
    consumes: &[
        "music.copyright.CopyrightApproved",
        "music.source.SourceRegistered",
        "music.content.ContentDeleted",
        "music.copyright.CopyrightReleased",
    ],
    migrations: store::MIGRATIONS,
    views: &["mypages", "mypage_covers"],
};

pub struct Mypage;

#[async_trait::async_trait]
impl Context for Mypage {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<Started> {
        routes.add_service(MypageServiceServer::new(grpc::MypageApi::new(env.store)));
        Ok(Started {
            subscriptions: vec![Subscription::of(&INFO, policy::Project)],
        })
    }
}
