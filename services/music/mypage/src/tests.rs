//! The mypage projection in process, in milliseconds: a real SQLite store in a temporary
//! folder, events delivered as the consumer would (inbox included), pages read through the
//! gRPC adapter.
use mediamesh_mesh::Delivered;
use mediamesh_mesh::testkit::{TestStore, delivered};
use mediamesh_proto::music::v1 as pb;
use pb::mypage_service_server::MypageService;
use tonic::Request;

use crate::grpc::MypageApi;

async fn mypage() -> (TestStore, MypageApi) {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let api = MypageApi::new(test.store.clone());
    (test, api)
}

fn approved(id: &str, original: &str) -> Delivered {
    let event = pb::CopyrightApproved {
        content_id: id.into(),
        creator_name: "TIKITIK".into(),
        title: format!("Song {id}"),
        r#type: if original.is_empty() {
            "New Music"
        } else {
            "Cover"
        }
        .into(),
        original_content_id: original.into(),
        original_creator_name: String::new(),
    };
    delivered("music.copyright", &event, id, 1)
}

fn registered(id: &str) -> Delivered {
    let event = pb::SourceRegistered {
        source_id: format!("s-{id}"),
        content_id: id.into(),
        creator_name: "TIKITIK".into(),
        title: format!("Song {id}"),
    };
    delivered("music.source", &event, id, 1)
}

fn deleted(id: &str) -> Delivered {
    let event = pb::ContentDeleted {
        content_id: id.into(),
        creator_name: "TIKITIK".into(),
    };
    delivered("music.content", &event, id, 3)
}

fn released(id: &str) -> Delivered {
    let event = pb::CopyrightReleased {
        content_id: id.into(),
        creator_name: "TIKITIK".into(),
    };
    delivered("music.copyright", &event, id, 2)
}

async fn pages(api: &MypageApi) -> Vec<pb::Mypage> {
    let list = Request::new(pb::ListMypagesRequest {
        page_size: 100,
        page_token: String::new(),
        creator_name: String::new(),
    });
    api.list_mypages(list).await.unwrap().into_inner().mypages
}

async fn page_of(api: &MypageApi, id: &str) -> pb::Mypage {
    let pages = pages(api).await;
    pages
        .into_iter()
        .find(|p| p.content_id == id)
        .expect("a page")
}

#[tokio::test]
async fn a_content_moves_step_by_step_and_a_replay_changes_nothing() {
    let (test, api) = mypage().await;
    let policies = crate::policies();
    let approval = approved("c1", "");
    test.deliver(&policies, &approval).await.unwrap();
    assert_eq!(page_of(&api, "c1").await.status, "APPROVED");
    test.deliver(&policies, &registered("c1")).await.unwrap();
    test.deliver(&policies, &approval).await.unwrap(); // redelivered: a no-op
    let page = page_of(&api, "c1").await;
    assert_eq!(
        (page.status.as_str(), page.title.as_str()),
        ("REGISTERED", "Song c1")
    );
    test.deliver(&policies, &deleted("c1")).await.unwrap();
    test.deliver(&policies, &released("c1")).await.unwrap();
    assert_eq!(page_of(&api, "c1").await.status, "RELEASED");
    assert_eq!(pages(&api).await.len(), 1);
}

#[tokio::test]
async fn a_duplicate_approval_never_moves_a_page_back() {
    let (test, api) = mypage().await;
    let policies = crate::policies();
    test.deliver(&policies, &approved("c1", "")).await.unwrap();
    test.deliver(&policies, &registered("c1")).await.unwrap();
    // The same approval as another event (published again after a crash).
    test.deliver(&policies, &approved("c1", "")).await.unwrap();
    assert_eq!(page_of(&api, "c1").await.status, "REGISTERED");
}

#[tokio::test]
async fn a_release_before_the_approval_keeps_the_page_released_with_its_title() {
    let (test, api) = mypage().await;
    let policies = crate::policies();
    // Reordered across replicas: the end of the story first.
    test.deliver(&policies, &released("c1")).await.unwrap();
    test.deliver(&policies, &deleted("c1")).await.unwrap();
    test.deliver(&policies, &registered("c1")).await.unwrap();
    test.deliver(&policies, &approved("c1", "")).await.unwrap();
    let page = page_of(&api, "c1").await;
    assert_eq!(
        (
            page.status.as_str(),
            page.title.as_str(),
            page.creator_name.as_str()
        ),
        ("RELEASED", "Song c1", "TIKITIK")
    );
}

#[tokio::test]
async fn covers_show_on_their_original_once_and_at_most_fifty() {
    let (test, api) = mypage().await;
    let policies = crate::policies();
    test.deliver(&policies, &approved("o", "")).await.unwrap();
    let cover = approved("c-00", "o");
    test.deliver(&policies, &cover).await.unwrap();
    test.deliver(&policies, &approved("c-00", "o"))
        .await
        .unwrap(); // a duplicate
    assert_eq!(page_of(&api, "o").await.cover_content_ids, ["c-00"]);
    assert!(page_of(&api, "c-00").await.cover_content_ids.is_empty());
    for n in 1..=60 {
        let id = format!("c-{n:02}");
        test.deliver(&policies, &approved(&id, "o")).await.unwrap();
    }
    let covers = page_of(&api, "o").await.cover_content_ids;
    assert_eq!(covers.len(), crate::domain::COVERS_SHOWN as usize);
    assert_eq!(covers.first().map(String::as_str), Some("c-00"));
}

#[tokio::test]
async fn a_cover_approved_before_its_original_still_shows_on_it() {
    let (test, api) = mypage().await;
    let policies = crate::policies();
    test.deliver(&policies, &approved("c", "o")).await.unwrap();
    test.deliver(&policies, &approved("o", "")).await.unwrap();
    assert_eq!(page_of(&api, "o").await.cover_content_ids, ["c"]);
}

#[tokio::test]
async fn bad_requests_are_refused_naming_the_field() {
    let (_test, api) = mypage().await;
    let list = Request::new(pb::ListMypagesRequest {
        page_size: 10,
        page_token: String::new(),
        creator_name: "x".repeat(300),
    });
    let refused = api.list_mypages(list).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().starts_with("creator_name"));
}

/// Every page's content id from the first page to the last, `size` a page, of `creator`
/// ("": all).
async fn paged(api: &MypageApi, creator: &str, size: i32) -> Vec<String> {
    let list = move |token: String| {
        let request = Request::new(pb::ListMypagesRequest {
            page_size: size,
            page_token: token,
            creator_name: creator.into(),
        });
        async move {
            let r = api.list_mypages(request).await.unwrap().into_inner();
            let ids: Vec<String> = r.mypages.into_iter().map(|p| p.content_id).collect();
            (ids, r.next_page_token)
        }
    };
    mediamesh_mesh::testkit::every_page(list).await
}

#[tokio::test]
async fn a_creators_pages_and_all_page_in_content_id_order() {
    let (test, api) = mypage().await;
    let policies = crate::policies();
    for (id, creator) in [
        ("c3", "TIKITIK"),
        ("c1", "IU"),
        ("c2", "TIKITIK"),
        ("c4", "TIKITIK"),
    ] {
        let event = pb::CopyrightApproved {
            content_id: id.into(),
            creator_name: creator.into(),
            title: format!("Song {id}"),
            r#type: "New Music".into(),
            ..Default::default()
        };
        let event = delivered("music.copyright", &event, id, 1);
        test.deliver(&policies, &event).await.unwrap();
    }
    assert_eq!(paged(&api, "TIKITIK", 2).await, ["c2", "c3", "c4"]);
    assert_eq!(paged(&api, "IU", 1).await, ["c1"]);
    assert_eq!(paged(&api, "", 3).await, ["c1", "c2", "c3", "c4"]);
}

/// A creator's pages are sought in their index, in list order: not a walk of every page
/// (which `($n = '' OR creator_name = $n)` made of the listing) nor a sort.
#[tokio::test]
async fn a_creators_pages_are_sought_in_their_index() {
    let (test, _) = mypage().await;
    let (sql, _) = crate::store::list_statement("TIKITIK");
    test.assert_seeks(&sql, &["INDEX mypages_by_creator (creator_name=?"])
        .await;
}
