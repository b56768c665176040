//! PostgreSQL under READ COMMITTED: check-then-insert races of MusiCloud, each driven by
//! concurrent requests, or by events published straight to JetStream at once or reordered
//! (as two replicas or a redelivery would apply them).
use std::time::Duration;

use async_nats::jetstream;
use futures::future::join_all;
use mediamesh_proto::music::v1 as pb;
use tonic::Code;

use super::{
    all_copyrights, all_mypages, all_sources, approval, contents, copyrights, reaches, request,
};
use crate::harness::{Sandbox, eventually};

async fn publish(
    js: &jetstream::Context,
    subject: &str,
    msg_id: &str,
    event: &impl prost::Message,
) {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", msg_id);
    js.publish_with_headers(subject.to_owned(), headers, event.encode_to_vec().into())
        .await
        .unwrap()
        .await
        .unwrap();
}

/// One client-chosen id uploaded many times at once on PostgreSQL: one upload is recorded
/// and approved, every other one is ALREADY_EXISTS, and one copyright exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_content_id_uploaded_at_once_is_recorded_once_on_postgres() {
    let sandbox = Sandbox::postgres("music-twins");
    let mesh = sandbox.serve("music").await;
    let client = contents(&mesh).await;
    let ids: Vec<String> = (0..5).map(|n| format!("twin-{n}")).collect();
    let client = &client;
    let uploads = ids.iter().flat_map(|id| {
        (0..8).map(move |n| {
            let mut client = client.clone();
            let request = pb::CreateContentRequest {
                title: format!("take {n}"),
                ..request(id, "New Music", "")
            };
            async move { (id.clone(), client.create_content(request).await) }
        })
    });
    let answers = join_all(uploads).await;
    for id in &ids {
        let (won, lost): (Vec<_>, Vec<_>) = answers
            .iter()
            .filter(|(i, _)| i == id)
            .map(|(_, answer)| answer)
            .partition(|answer| answer.is_ok());
        assert_eq!(won.len(), 1, "{id}: {answers:?}");
        assert!(
            lost.iter()
                .all(|a| a.as_ref().unwrap_err().code() == Code::AlreadyExists),
            "{lost:?}"
        );
        reaches(&mesh, id, "REGISTERED").await;
    }
    let stored = all_copyrights(&mesh).await;
    assert_eq!(stored.len(), ids.len(), "{stored:?}");
}

/// An upload abandoned (ContentUploadFailed) while its late approval is under way: whichever
/// commits first, the copyright ends RELEASED, never APPROVED for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_approval_never_escapes_its_release_on_postgres() {
    let sandbox = Sandbox::postgres("music-void-race");
    let mesh = sandbox.serve("music.copyright").await;
    let js = jetstream::new(async_nats::connect(&sandbox.nats.url).await.unwrap());
    let client = copyrights(&mesh).await;
    let ids: Vec<String> = (0..300).map(|n| format!("late-{n}")).collect();
    for chunk in ids.chunks(30) {
        let races = chunk.iter().map(|id| {
            let (js, mut client) = (js.clone(), client.clone());
            async move {
                let failed = pb::ContentUploadFailed {
                    content_id: id.clone(),
                    creator_name: "TIKITIK".into(),
                };
                let void = publish(&js, "music.content.ContentUploadFailed", id, &failed);
                let late = client.approve_copyright(approval(id, "TIKITIK", "Today"));
                let (_, approved) = futures::future::join(void, late).await;
                let status = approved
                    .expect("answered: approved, or already voided")
                    .into_inner()
                    .status;
                assert!(
                    ["APPROVED", "RELEASED"].contains(&status.as_str()),
                    "{status}"
                );
            }
        });
        join_all(races).await;
    }
    eventually(
        "every copyright released",
        Duration::from_secs(30),
        || async {
            let stored = all_copyrights(&mesh).await;
            let approved: Vec<_> = stored
                .iter()
                .filter(|c| c.status != "RELEASED")
                .map(|c| &c.content_id)
                .collect();
            if !approved.is_empty() {
                eprintln!("still approved: {approved:?}");
            }
            (stored.len() == ids.len() && approved.is_empty()).then_some(())
        },
    )
    .await;
}

/// Releases that reach source and mypage before their approvals (two replicas each, events
/// in reverse order or at once): every source ends RELEASED, never registered after its
/// release, and every page RELEASED with its title.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_before_approvals_stay_released_on_postgres() {
    let sandbox = Sandbox::postgres("music-reorder");
    let replica = sandbox.serve("music.source,music.mypage").await;
    let _other = sandbox.serve("music.source,music.mypage").await;
    let js = jetstream::new(async_nats::connect(&sandbox.nats.url).await.unwrap());
    let ids: Vec<String> = (0..60).map(|n| format!("reorder-{n}")).collect();
    let events = |id: &str| {
        let released = pb::CopyrightReleased {
            content_id: id.into(),
            creator_name: "TIKITIK".into(),
        };
        let approved = pb::CopyrightApproved {
            content_id: id.into(),
            creator_name: "TIKITIK".into(),
            title: format!("{id} title"),
            r#type: "New Music".into(),
            ..Default::default()
        };
        (released, approved)
    };
    for (n, id) in ids.iter().enumerate() {
        let (released, approved) = events(id);
        let (release_id, approve_id) = (format!("r-{id}"), format!("a-{id}"));
        let release = publish(
            &js,
            "music.copyright.CopyrightReleased",
            &release_id,
            &released,
        );
        let approve = publish(
            &js,
            "music.copyright.CopyrightApproved",
            &approve_id,
            &approved,
        );
        if n < 20 {
            release.await;
            approve.await;
        } else {
            futures::future::join(release, approve).await;
        }
    }
    eventually(
        "sources and pages released",
        Duration::from_secs(30),
        || async {
            let sources = all_sources(&replica).await;
            let pages = all_mypages(&replica).await;
            let settled = ids.iter().all(|id| {
                let source: Vec<_> = sources
                    .iter()
                    .filter(|s| &s.content_id == id)
                    .map(|s| s.status.as_str())
                    .collect();
                let page = pages.iter().find(|p| &p.content_id == id);
                source == ["RELEASED"]
                    && page
                        .is_some_and(|p| p.status == "RELEASED" && p.title == format!("{id} title"))
            });
            if !settled {
                let registered: Vec<_> = sources
                    .iter()
                    .filter(|s| s.status != "RELEASED")
                    .map(|s| &s.content_id)
                    .collect();
                let untitled: Vec<_> = pages
                    .iter()
                    .filter(|p| p.title.is_empty())
                    .map(|p| &p.content_id)
                    .collect();
                eprintln!("registered: {registered:?}; untitled pages: {untitled:?}");
            }
            settled.then_some(())
        },
    )
    .await;
}
