//! Video platform, notification context: one notification per video status change
//! (uploaded, edited, deleted, taken down) and per refund decision, listed per client
//! (`/notifications?clientId=`). Sinks: the log always; a webhook when
//! `MEDIAMESH_NOTIFICATION_WEBHOOK` names one (`webhook.rs`: delivered by a background task
//! from a pending table, retried with a capped backoff, never blocking the consumer).
mod access;
mod domain;
mod error;
mod grpc;
mod policy;
mod store;
mod webhook;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use mediamesh_mesh::events::policy::Policies;
use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Handler};
use mediamesh_proto::video::v1 as pb;
use mediamesh_proto::video::v1::notification_service_server::NotificationServiceServer;
use tonic::service::RoutesBuilder;

pub use webhook::ENV as WEBHOOK_ENV;

pub static INFO: ContextInfo = ContextInfo {
    app: "video",
    name: "notification",
    role: "general",
    services: &[(
        "mediamesh.video.v1.NotificationService",
        &["ListNotifications"],
    )],
    calls: &[],
    publishes: &[],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Notification;

#[async_trait::async_trait]
impl Context for Notification {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        if let Some(hook) = webhook::Webhook::from_env()? {
            let store = env.store.clone();
            env.tasks.spawn("video.notification webhook", move |stop| {
                webhook::run(store.clone(), hook.clone(), stop)
            });
        }
        routes.add_service(NotificationServiceServer::new(grpc::NotificationApi::new(
            env.store,
        )));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies(webhook::configured()))
    }
}

/// A notification per video status change and refund decision.
fn policies(webhook: bool) -> Arc<dyn Handler> {
    Policies::new(policy::Notify { webhook })
        .on::<pb::VideoUploaded>()
        .on::<pb::VideoEdited>()
        .on::<pb::VideoDeleted>()
        .on::<pb::VideoRemovedByPolicy>()
        .on::<pb::RefundDecided>()
        .into_handler()
}
