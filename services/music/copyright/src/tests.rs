//! Copyright's rules in process, in milliseconds: a real SQLite store in a temporary folder,
//! the gRPC adapter called directly, events delivered to the policies as the consumer would.
use mediamesh_mesh::Delivered;
use mediamesh_mesh::testkit::{TestStore, delivered};
use mediamesh_proto::music::v1 as pb;
use pb::copyright_service_server::CopyrightService;
use tonic::{Code, Request};

use crate::grpc::CopyrightApi;

async fn copyright() -> (TestStore, CopyrightApi) {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let api = CopyrightApi::new(test.store.clone());
    (test, api)
}

fn approve(id: &str, creator: &str) -> Request<pb::ApproveCopyrightRequest> {
    Request::new(pb::ApproveCopyrightRequest {
        content_id: id.into(),
        creator_name: creator.into(),
        title: "The Song Of Today".into(),
        r#type: "New Music".into(),
        original_content_id: String::new(),
        original_creator_name: String::new(),
    })
}

fn cover(id: &str, original: &str) -> Request<pb::ApproveCopyrightRequest> {
    let mut request = approve(id, "IU");
    request.get_mut().r#type = "Cover".into();
    request.get_mut().original_content_id = original.into();
    request.get_mut().original_creator_name = "TIKITIK".into();
    request
}

fn upload_failed(id: &str) -> Delivered {
    let event = pb::ContentUploadFailed {
        content_id: id.into(),
        creator_name: "TIKITIK".into(),
    };
    delivered("music.content", &event, id, 2)
}

fn deleted(id: &str) -> Delivered {
    let event = pb::ContentDeleted {
        content_id: id.into(),
        creator_name: "TIKITIK".into(),
    };
    delivered("music.content", &event, id, 3)
}

async fn statuses(api: &CopyrightApi) -> Vec<(String, String)> {
    let list = Request::new(pb::ListCopyrightsRequest {
        page_size: 100,
        page_token: String::new(),
    });
    let listed = api.list_copyrights(list).await.unwrap().into_inner();
    listed
        .copyrights
        .into_iter()
        .map(|c| (c.content_id, c.status))
        .collect()
}

#[tokio::test]
async fn an_approval_is_recorded_once_and_a_retry_answers_it() {
    let (test, api) = copyright().await;
    let first = api.approve_copyright(approve("c1", "TIKITIK")).await;
    let first = first.unwrap().into_inner();
    assert_eq!(first.status, "APPROVED");
    let again = api.approve_copyright(approve("c1", "TIKITIK")).await;
    assert_eq!(
        again.unwrap().into_inner(),
        first,
        "a retry answers the record"
    );
    let approved: Vec<pb::CopyrightApproved> = test.raised_of().await;
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0].creator_name, "TIKITIK");
}

#[tokio::test]
async fn a_reused_key_with_another_request_is_refused() {
    let (test, api) = copyright().await;
    api.approve_copyright(approve("c1", "TIKITIK"))
        .await
        .unwrap();
    let reused = api
        .approve_copyright(approve("c1", "IU"))
        .await
        .unwrap_err();
    assert_eq!(reused.code(), Code::AlreadyExists);
    assert!(
        reused.message().starts_with("content_id"),
        "{}",
        reused.message()
    );
    assert_eq!(test.raised_of::<pb::CopyrightApproved>().await.len(), 1);
    assert_eq!(
        statuses(&api).await,
        [("c1".to_owned(), "APPROVED".to_owned())]
    );
}

#[tokio::test]
async fn a_cover_names_another_original_and_its_creator_is_told() {
    let (test, api) = copyright().await;
    for (request, field) in [
        (cover("c", ""), "original_content_id"),
        (cover("c", "c"), "original_content_id"),
        (cover("c", "a b"), "original_content_id"),
        (approve("", "IU"), "content_id"),
        (approve("c", ""), "creator_name"),
    ] {
        let status = api.approve_copyright(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with(field), "{}", status.message());
    }
    assert!(
        test.raised().await.is_empty(),
        "nothing refused is recorded"
    );
    api.approve_copyright(cover("c", "o")).await.unwrap();
    let approved: Vec<pb::CopyrightApproved> = test.raised_of().await;
    assert_eq!(
        (
            approved[0].original_content_id.as_str(),
            approved[0].original_creator_name.as_str()
        ),
        ("o", "TIKITIK")
    );
}

#[tokio::test]
async fn a_deleted_content_releases_its_copyright_once() {
    let (test, api) = copyright().await;
    api.approve_copyright(approve("c1", "TIKITIK"))
        .await
        .unwrap();
    let policies = crate::policies();
    let event = deleted("c1");
    test.deliver(&policies, &event).await.unwrap();
    test.deliver(&policies, &event).await.unwrap(); // redelivered: applied once
    assert_eq!(test.raised_of::<pb::CopyrightReleased>().await.len(), 1);
    assert_eq!(
        statuses(&api).await,
        [("c1".to_owned(), "RELEASED".to_owned())]
    );
    // The same release as another event (an upload failure after the delete): nothing more.
    test.deliver(&policies, &upload_failed("c1")).await.unwrap();
    assert_eq!(test.raised_of::<pb::CopyrightReleased>().await.len(), 1);
}

#[tokio::test]
async fn an_abandoned_upload_releases_an_approval_that_went_through() {
    let (test, api) = copyright().await;
    api.approve_copyright(approve("c1", "TIKITIK"))
        .await
        .unwrap();
    test.deliver(&crate::policies(), &upload_failed("c1"))
        .await
        .unwrap();
    let released: Vec<pb::CopyrightReleased> = test.raised_of().await;
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].content_id, "c1");
}

#[tokio::test]
async fn a_late_approval_after_its_void_cannot_approve() {
    let (test, api) = copyright().await;
    // Reordered: the upload's failure arrives before its approval request does.
    test.deliver(&crate::policies(), &upload_failed("c1"))
        .await
        .unwrap();
    assert!(
        test.raised().await.is_empty(),
        "nothing was approved, nothing is released"
    );
    let late = api.approve_copyright(approve("c1", "TIKITIK")).await;
    assert_eq!(late.unwrap().into_inner().status, "RELEASED");
    assert!(test.raised_of::<pb::CopyrightApproved>().await.is_empty());
}

#[tokio::test]
async fn a_poisoned_event_is_refused() {
    let (test, _api) = copyright().await;
    let refused = test.deliver(&crate::policies(), &deleted("a b")).await;
    assert!(matches!(
        refused,
        Err(mediamesh_mesh::HandlerError::Poison(_))
    ));
}
