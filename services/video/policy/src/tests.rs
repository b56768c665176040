//! Policy in process: a real SQLite store in a temporary folder, video and client events
//! delivered as the consumer would (replayed, stale, raised twice), the gRPC adapter called
//! directly.
use std::sync::Arc;

use mediamesh_mesh::testkit::{TestStore, delivered};
use mediamesh_mesh::{Delivered, Handler};
use mediamesh_proto::video::v1 as pb;
use pb::policy_service_server::PolicyService;
use tonic::{Code, Request, Status};

use crate::grpc::PolicyApi;

struct Ctx {
    test: TestStore,
    api: PolicyApi,
    policies: Arc<dyn Handler>,
}

impl Ctx {
    async fn new() -> Ctx {
        let test = TestStore::new(crate::store::MIGRATIONS).await;
        Ctx {
            api: PolicyApi::new(test.store.clone()),
            test,
            policies: crate::policies(),
        }
    }

    async fn deliver(&self, events: &[&Delivered]) {
        for event in events {
            self.test.deliver(&self.policies, event).await.unwrap();
        }
    }

    async fn create(
        &self,
        id: &str,
        bar: i64,
        video: &str,
        words: &[&str],
    ) -> Result<pb::Policy, Status> {
        let request = Request::new(pb::CreatePolicyRequest {
            policy_id: id.into(),
            refund_policy: bar,
            delete_video_id: video.into(),
            banned_words: words.iter().map(|w| w.to_string()).collect(),
        });
        self.api
            .create_policy(request)
            .await
            .map(|r| r.into_inner())
    }

    async fn delete(&self, id: &str) -> Result<(), Status> {
        let request = Request::new(pb::DeletePolicyRequest {
            policy_id: id.into(),
        });
        self.api.delete_policy(request).await.map(|_| ())
    }

    async fn takedowns(&self) -> Vec<(String, String)> {
        let orders: Vec<pb::VideoTakedownOrdered> = self.test.raised_of().await;
        orders
            .into_iter()
            .map(|o| (o.video_id, o.policy_id))
            .collect()
    }
}

fn uploaded(video: &str, title: &str, version: i64) -> Delivered {
    let event = pb::VideoUploaded {
        video_id: video.into(),
        client_id: "c1".into(),
        channel_id: "ch1".into(),
        title: title.into(),
        view_count: 0,
        upload_time: String::new(),
    };
    delivered("video.video", &event, video, version)
}

fn edited(video: &str, title: &str, version: i64) -> Delivered {
    let event = pb::VideoEdited {
        video_id: video.into(),
        client_id: "c1".into(),
        channel_id: "ch1".into(),
        title: title.into(),
        view_count: 3,
        previous_channel_id: String::new(),
    };
    delivered("video.video", &event, video, version)
}

fn refund(request: &str, total: i64) -> Delivered {
    let event = pb::RefundRequested {
        refund_request_id: request.into(),
        client_id: "c1".into(),
        total_view: total,
    };
    delivered("video.client", &event, request, 1)
}

#[tokio::test]
async fn the_seed_policy_is_registered_changed_and_deleted_taking_its_video_down() {
    let c = Ctx::new().await;
    let policy = c.create("1", 10, "1", &[]).await.unwrap();
    let retry = c.create("1", 10, "1", &[]).await.unwrap();
    assert_eq!(
        retry, policy,
        "AIP-155: a retry is answered the policy as it is"
    );
    let other = c.create("1", 11, "1", &[]).await.unwrap_err();
    assert_eq!(other.code(), Code::AlreadyExists);
    assert!(other.message().starts_with("policy_id"));
    assert_eq!(c.test.raised_of::<pb::PolicyChanged>().await.len(), 1);
    assert_eq!(
        (policy.refund_policy, policy.delete_video_id.as_str()),
        (10, "1")
    );
    let patch = Request::new(pb::UpdatePolicyRequest {
        policy_id: "1".into(),
        refund_policy: Some(5),
        ..Default::default()
    });
    let changed = c.api.update_policy(patch).await.unwrap().into_inner();
    assert_eq!(
        (changed.refund_policy, changed.delete_video_id.as_str()),
        (5, "1")
    );
    c.delete("1").await.unwrap();
    assert_eq!(c.takedowns().await, [("1".to_string(), "1".to_string())]);
    let raised = c.test.raised().await;
    let versions: Vec<(String, i64)> = raised
        .iter()
        .map(|d| (d.name().to_owned(), d.aggregate_version()))
        .collect();
    assert_eq!(
        versions,
        [
            ("PolicyChanged".to_string(), 1),
            ("PolicyChanged".to_string(), 2),
            ("PolicyDeleted".to_string(), 3),
            ("VideoTakedownOrdered".to_string(), 3),
        ]
    );
    assert_eq!(c.delete("1").await.unwrap_err().code(), Code::NotFound);
    let get = Request::new(pb::GetPolicyRequest {
        policy_id: "1".into(),
    });
    assert_eq!(
        c.api.get_policy(get).await.unwrap_err().code(),
        Code::NotFound
    );
    let retired = c.create("1", 1, "", &[]).await.unwrap_err();
    assert_eq!(retired.code(), Code::AlreadyExists);
}

#[tokio::test]
async fn a_banned_title_is_taken_down_once_and_stale_edits_order_nothing() {
    let c = Ctx::new().await;
    c.create("p1", 10, "", &["spam"]).await.unwrap();
    let upload = uploaded("v1", "cooking", 1);
    let bad_edit = edited("v1", "cheap SPAM", 2);
    // Replayed, then the upload delivered late: one order, for the edit.
    c.deliver(&[
        &upload,
        &bad_edit,
        &bad_edit,
        &uploaded("v1", "spam again", 1),
    ])
    .await;
    assert_eq!(c.takedowns().await, [("v1".to_string(), "p1".to_string())]);
    c.deliver(&[
        &uploaded("v2", "gardening", 1),
        &edited("v2", "gardening 2", 2),
    ])
    .await;
    assert_eq!(c.takedowns().await.len(), 1, "clean titles stay up");
}

#[tokio::test]
async fn a_refund_is_decided_once_against_the_most_lenient_policy() {
    let c = Ctx::new().await;
    c.deliver(&[&refund("r0", 100)]).await;
    c.create("p1", 10, "", &[]).await.unwrap();
    c.create("p2", 50, "", &[]).await.unwrap();
    // r1 raised twice under two event ids (a duplicate), r2 below every bar.
    c.deliver(&[&refund("r1", 10), &refund("r1", 10), &refund("r2", 9)])
        .await;
    let decided: Vec<pb::RefundDecided> = c.test.raised_of().await;
    let answers: Vec<(&str, &str, i64)> = decided
        .iter()
        .map(|d| {
            (
                d.refund_request_id.as_str(),
                d.status.as_str(),
                d.refund_policy,
            )
        })
        .collect();
    assert_eq!(
        answers,
        [
            ("r0", "REJECTED", 0),
            ("r1", "APPROVED", 10),
            ("r2", "REJECTED", 10)
        ]
    );
}

#[tokio::test]
async fn bad_requests_are_refused_naming_the_field() {
    let c = Ctx::new().await;
    let too_many: Vec<String> = (0..21).map(|n| format!("w{n}")).collect();
    let cases = [
        ("a b", 1, "", vec![], "policy_id"),
        ("p1", -1, "", vec![], "refund_policy"),
        ("p1", 1, "v 1", vec![], "delete_video_id"),
        ("p1", 1, "", vec![String::new()], "banned_words"),
        ("p1", 1, "", vec!["x".repeat(51)], "banned_words"),
        ("p1", 1, "", too_many, "banned_words"),
    ];
    for (id, bar, video, words, field) in cases {
        let request = Request::new(pb::CreatePolicyRequest {
            policy_id: id.into(),
            refund_policy: bar,
            delete_video_id: video.into(),
            banned_words: words,
        });
        let status = c.api.create_policy(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        assert!(status.message().starts_with(field), "{}", status.message());
    }
    let patch = Request::new(pb::UpdatePolicyRequest {
        policy_id: "nope".into(),
        refund_policy: Some(1),
        ..Default::default()
    });
    assert_eq!(
        c.api.update_policy(patch).await.unwrap_err().code(),
        Code::NotFound
    );
    assert!(
        c.test.raised().await.is_empty(),
        "nothing refused is raised"
    );
}

#[tokio::test]
async fn policies_are_listed_in_pages() {
    let c = Ctx::new().await;
    for n in 0..3 {
        c.create(&format!("p{n}"), n, "", &[]).await.unwrap();
    }
    let first = Request::new(pb::ListPoliciesRequest {
        page_size: 2,
        page_token: String::new(),
    });
    let first = c.api.list_policies(first).await.unwrap().into_inner();
    assert_eq!(first.policies.len(), 2);
    let second = Request::new(pb::ListPoliciesRequest {
        page_size: 2,
        page_token: first.next_page_token,
    });
    let second = c.api.list_policies(second).await.unwrap().into_inner();
    assert_eq!(second.policies.len(), 1);
    assert!(second.next_page_token.is_empty());
}

#[test]
fn a_view_is_not_an_edit_so_it_is_not_consumed() {
    let events: Vec<String> = crate::policies()
        .events()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(events.iter().any(|e| e == "VideoEdited"), "{events:?}");
    assert!(!events.iter().any(|e| e == "VideoViewed"), "{events:?}");
}
