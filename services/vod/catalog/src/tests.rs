//! The catalog's rules in process: a real SQLite store in a temporary folder, the gRPC
//! adapter called directly.
use mediamesh_mesh::sql;
use mediamesh_mesh::testkit::TestStore;
use mediamesh_proto::vod::v1 as pb;
use pb::catalog_service_server::CatalogService;
use tonic::{Code, Request};

use crate::grpc::CatalogApi;

async fn catalog() -> (TestStore, CatalogApi) {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let api = CatalogApi::new(test.store.clone());
    (test, api)
}

fn create(id: &str, name: &str, price: Option<i32>) -> Request<pb::CreateVodRequest> {
    Request::new(pb::CreateVodRequest {
        vod_id: id.into(),
        vod_name: name.into(),
        price,
    })
}

fn get(id: &str) -> Request<pb::GetVodRequest> {
    Request::new(pb::GetVodRequest { vod_id: id.into() })
}

#[tokio::test]
async fn a_registered_vod_is_served_and_raises_one_event() {
    let (test, api) = catalog().await;
    let vod = api.create_vod(create("3", " GoGo ", None)).await.unwrap();
    let vod = vod.into_inner();
    assert_eq!((vod.vod_name.as_str(), vod.price), ("GoGo", 1000));
    assert_eq!(api.get_vod(get("3")).await.unwrap().into_inner(), vod);
    let registered: Vec<pb::VodRegistered> = test.raised_of().await;
    assert_eq!(registered.len(), 1);
    assert_eq!(
        (registered[0].vod_id.as_str(), registered[0].price),
        ("3", 1000)
    );
}

#[tokio::test]
async fn the_seeds_titles_are_there_and_a_taken_id_is_refused() {
    let (test, api) = catalog().await;
    let alive = api.get_vod(get("1")).await.unwrap().into_inner();
    assert_eq!((alive.vod_name.as_str(), alive.price), ("Alive!", 1000));
    let taken = api.create_vod(create("2", "Other", Some(1))).await;
    assert_eq!(taken.unwrap_err().code(), Code::AlreadyExists);
    assert_eq!(
        api.get_vod(get("9")).await.unwrap_err().code(),
        Code::NotFound
    );
    assert!(test.raised().await.is_empty(), "nothing refused is raised");
}

#[tokio::test]
async fn bad_vods_are_refused_naming_the_field() {
    let (test, api) = catalog().await;
    for (request, field) in [
        (create("a b", "x", None), "vod_id"),
        (create("3", "  ", None), "vod_name"),
        (create("3", "x", Some(-1)), "price"),
        (create("3", "x", Some(1_000_001)), "price"),
    ] {
        let status = api.create_vod(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with(field), "{}", status.message());
    }
    assert!(test.raised().await.is_empty());
}

#[tokio::test]
async fn vods_are_listed_in_registration_order_by_pages() {
    let (_test, api) = catalog().await;
    api.create_vod(create("3", "GoGo", Some(500)))
        .await
        .unwrap();
    let list = |token: String| {
        Request::new(pb::ListVodsRequest {
            page_size: 2,
            page_token: token,
        })
    };
    let first = api
        .list_vods(list(String::new()))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<_> = first.vods.iter().map(|v| v.vod_id.as_str()).collect();
    assert_eq!(ids, ["1", "2"]);
    let rest = api.list_vods(list(first.next_page_token)).await.unwrap();
    let rest = rest.into_inner();
    assert_eq!(rest.vods.len(), 1);
    assert_eq!(rest.vods[0].vod_id, "3");
    assert!(rest.next_page_token.is_empty());
}

/// Keyset paging: a title registered before the cursor, written between two pages, neither
/// repeats a row on the later pages (as an offset would) nor hides one; one registered after
/// it is still listed.
#[tokio::test]
async fn a_page_token_survives_rows_inserted_before_it() {
    let (test, api) = catalog().await;
    let write = |id: &str, at: &str| {
        let (store, id, at) = (test.store.clone(), id.to_owned(), at.to_owned());
        async move {
            sql::query(
                "INSERT INTO vods (vod_id, vod_name, price, registered_at) \
                 VALUES ($1, $1, 1000, $2)",
            )
            .bind(id)
            .bind(at)
            .execute(store.writer())
            .await
            .unwrap();
        }
    };
    for n in 3..=5 {
        write(&format!("v{n}"), &format!("2021-01-01T00:00:0{n}Z")).await;
    }
    let list = |token: String| {
        let request = Request::new(pb::ListVodsRequest {
            page_size: 2,
            page_token: token,
        });
        let api = &api;
        async move {
            let r = api.list_vods(request).await.unwrap().into_inner();
            let ids: Vec<String> = r.vods.into_iter().map(|v| v.vod_id).collect();
            (ids, r.next_page_token)
        }
    };
    let (mut seen, token) = list(String::new()).await;
    assert_eq!(seen, ["1", "2"]);
    write("v0", "2019-01-01T00:00:00Z").await;
    write("v9", "2021-01-01T00:00:09Z").await;
    seen.extend(mediamesh_mesh::testkit::pages_from(token, list).await);
    assert_eq!(seen, ["1", "2", "v3", "v4", "v5", "v9"]);
}
