//! Source's policies in process, in milliseconds: a real SQLite store in a temporary folder,
//! events delivered as the consumer would (inbox included), the gRPC adapter read directly.
use mediamesh_mesh::testkit::{TestStore, delivered};
use mediamesh_mesh::{Delivered, sql};
use mediamesh_proto::music::v1 as pb;
use pb::source_service_server::SourceService;
use tonic::Request;

use crate::grpc::SourceApi;

async fn source() -> (TestStore, SourceApi) {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let api = SourceApi::new(test.store.clone());
    (test, api)
}

fn approved(id: &str) -> Delivered {
    let event = pb::CopyrightApproved {
        content_id: id.into(),
        creator_name: "TIKITIK".into(),
        title: "The Song Of Today".into(),
        r#type: "New Music".into(),
        original_content_id: String::new(),
        original_creator_name: String::new(),
    };
    delivered("music.copyright", &event, id, 1)
}

fn released(id: &str) -> Delivered {
    let event = pb::CopyrightReleased {
        content_id: id.into(),
        creator_name: "TIKITIK".into(),
    };
    delivered("music.copyright", &event, id, 2)
}

async fn sources(api: &SourceApi) -> Vec<pb::Source> {
    let list = Request::new(pb::ListSourcesRequest {
        page_size: 100,
        page_token: String::new(),
    });
    api.list_sources(list).await.unwrap().into_inner().sources
}

#[tokio::test]
async fn an_approval_registers_one_source_whatever_the_copies() {
    let (test, api) = source().await;
    let policies = crate::policies();
    let event = approved("c1");
    test.deliver(&policies, &event).await.unwrap();
    test.deliver(&policies, &event).await.unwrap(); // redelivered: a no-op
    // The same approval as another event (published twice after a crash): nothing more.
    test.deliver(&policies, &approved("c1")).await.unwrap();
    let listed = sources(&api).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].status.as_str(), listed[0].title.as_str()),
        ("REGISTERED", "The Song Of Today")
    );
    let registered: Vec<pb::SourceRegistered> = test.raised_of().await;
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0].source_id, listed[0].source_id);
}

#[tokio::test]
async fn a_released_copyright_releases_its_source() {
    let (test, api) = source().await;
    let policies = crate::policies();
    test.deliver(&policies, &approved("c1")).await.unwrap();
    test.deliver(&policies, &released("c1")).await.unwrap();
    test.deliver(&policies, &released("c1")).await.unwrap();
    let listed = sources(&api).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, "RELEASED");
}

#[tokio::test]
async fn a_release_before_its_approval_is_never_registered() {
    let (test, api) = source().await;
    let policies = crate::policies();
    // Reordered: the release reaches this replica before the approval does.
    test.deliver(&policies, &released("c1")).await.unwrap();
    test.deliver(&policies, &approved("c1")).await.unwrap();
    let listed = sources(&api).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].status.as_str(), listed[0].title.as_str()),
        ("RELEASED", "The Song Of Today"),
        "stays released and gains its title"
    );
    assert!(
        test.raised_of::<pb::SourceRegistered>().await.is_empty(),
        "content never hears of a registration"
    );
}

#[tokio::test]
async fn a_bad_page_is_refused() {
    let (_test, api) = source().await;
    let list = Request::new(pb::ListSourcesRequest {
        page_size: -1,
        page_token: String::new(),
    });
    let refused = api.list_sources(list).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
}

/// Keyset paging: a source registered before the cursor, written between two pages, neither
/// repeats a row on the later pages (as an offset would) nor hides one; one registered after
/// it is still listed.
#[tokio::test]
async fn a_page_token_survives_rows_inserted_before_it() {
    let (test, api) = source().await;
    let write = |id: &str, at: &str| {
        let (store, id, at) = (test.store.clone(), id.to_owned(), at.to_owned());
        async move {
            sql::query(
                "INSERT INTO sources (source_id, content_id, creator_name, title, status, \
                 registered_at) VALUES ($1, $1, 'TIKITIK', $1, 'REGISTERED', $2)",
            )
            .bind(id)
            .bind(at)
            .execute(store.writer())
            .await
            .unwrap();
        }
    };
    for n in 1..=5 {
        write(&format!("s{n}"), &format!("2026-01-01T00:00:0{n}.000000Z")).await;
    }
    let list = |token: String| {
        let request = Request::new(pb::ListSourcesRequest {
            page_size: 2,
            page_token: token,
        });
        let api = &api;
        async move {
            let r = api.list_sources(request).await.unwrap().into_inner();
            let ids: Vec<String> = r.sources.into_iter().map(|s| s.source_id).collect();
            (ids, r.next_page_token)
        }
    };
    let (mut seen, token) = list(String::new()).await;
    assert_eq!(seen, ["s1", "s2"]);
    write("s0", "2026-01-01T00:00:00.000000Z").await;
    write("s9", "2026-01-01T00:00:09.000000Z").await;
    seen.extend(mediamesh_mesh::testkit::pages_from(token, list).await);
    assert_eq!(seen, ["s1", "s2", "s3", "s4", "s5", "s9"]);
}
