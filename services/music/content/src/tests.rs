//! Content's rules in process, in milliseconds: a real SQLite store in a temporary folder,
//! copyright served in memory by a fake that approves, refuses or hangs, the gRPC adapter
//! called directly, events delivered to the policies as the consumer would.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mediamesh_mesh::testkit::{TestStore, delivered, peer_down, peer_in_memory, until};
use mediamesh_mesh::{CallPolicy, Peer};
use mediamesh_proto::music::v1 as pb;
use pb::content_service_server::ContentService;
use pb::copyright_service_server::{CopyrightService, CopyrightServiceServer};
use tonic::{Code, Request, Response, Status};

use crate::grpc::ContentApi;
use crate::upload::Upload;

#[derive(Clone, Copy)]
enum Answer {
    Approve,
    /// Approves, but the source registered on the approval's event is delivered to content
    /// before the answer is: the events outran the upload's own answer.
    ApproveAfterSource,
    Refuse,
    KeyTaken,
    Hang,
    /// Approves after 200 ms: longer than a hurried client waits.
    Slow,
}

/// Copyright as content sees it: answers every approval the same way and keeps the requests.
#[derive(Clone)]
struct FakeCopyright {
    answer: Answer,
    asked: Arc<Mutex<Vec<pb::ApproveCopyrightRequest>>>,
    content: Arc<TestStore>,
}

#[tonic::async_trait]
impl CopyrightService for FakeCopyright {
    async fn approve_copyright(
        &self,
        request: Request<pb::ApproveCopyrightRequest>,
    ) -> Result<Response<pb::Copyright>, Status> {
        let r = request.into_inner();
        self.asked.lock().unwrap().push(r.clone());
        if let Answer::ApproveAfterSource = self.answer {
            let event = source_registered(&r.content_id);
            self.content
                .deliver(&crate::policies(), &event)
                .await
                .map_err(|e| Status::internal(e.to_string()))?;
        }
        if let Answer::Slow = self.answer {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        match self.answer {
            Answer::Approve | Answer::ApproveAfterSource | Answer::Slow => {
                Ok(Response::new(pb::Copyright {
                    content_id: r.content_id,
                    creator_name: r.creator_name,
                    title: r.title,
                    original_content_id: r.original_content_id,
                    status: "APPROVED".into(),
                }))
            }
            Answer::Refuse => Err(Status::invalid_argument("title: refused")),
            Answer::KeyTaken => Err(Status::already_exists("content_id: another request")),
            Answer::Hang => std::future::pending().await,
        }
    }

    async fn list_copyrights(
        &self,
        _: Request<pb::ListCopyrightsRequest>,
    ) -> Result<Response<pb::ListCopyrightsResponse>, Status> {
        Err(Status::unimplemented("not used by content"))
    }
}

/// Copyright answering in 200 ms, waited for up to two seconds.
async fn slow_copyright() -> Fixture {
    let patient = CallPolicy {
        timeout: Duration::from_secs(2),
        ..policy()
    };
    content_within(Answer::Slow, patient).await
}

fn policy() -> CallPolicy {
    CallPolicy {
        timeout: Duration::from_millis(100),
        retries: 0,
        failure_threshold: 1,
        open_for: Duration::from_secs(60),
        ..CallPolicy::default()
    }
}

struct Fixture {
    test: Arc<TestStore>,
    api: ContentApi,
    /// The saga behind `api`, for what the recovery sweep does.
    upload: Upload,
    asked: Arc<Mutex<Vec<pb::ApproveCopyrightRequest>>>,
}

fn with_peer(test: &TestStore, copyright: Peer) -> ContentApi {
    ContentApi::new(
        test.store.clone(),
        Upload::new(test.store.clone(), copyright),
    )
}

async fn content(answer: Answer) -> Fixture {
    content_within(answer, policy()).await
}

async fn content_within(answer: Answer, policy: CallPolicy) -> Fixture {
    let test = Arc::new(TestStore::new(crate::store::MIGRATIONS).await);
    let asked = Arc::new(Mutex::new(Vec::new()));
    let fake = FakeCopyright {
        answer,
        asked: asked.clone(),
        content: test.clone(),
    };
    let routes = tonic::service::Routes::new(CopyrightServiceServer::new(fake));
    let copyright = peer_in_memory("music.copyright", routes, policy).await;
    let upload = Upload::new(test.store.clone(), copyright);
    let api = ContentApi::new(test.store.clone(), upload.clone());
    Fixture {
        test,
        api,
        upload,
        asked,
    }
}

fn create(id: &str, kind: &str, original: &str) -> Request<pb::CreateContentRequest> {
    Request::new(pb::CreateContentRequest {
        content_id: id.into(),
        creator_name: "TIKITIK".into(),
        title: "The Song Of Today".into(),
        r#type: kind.into(),
        description: String::new(),
        original_content_id: original.into(),
    })
}

async fn status_of(api: &ContentApi, id: &str) -> Result<String, Code> {
    let get = Request::new(pb::GetContentRequest {
        content_id: id.into(),
    });
    match api.get_content(get).await {
        Ok(c) => Ok(c.into_inner().status),
        Err(status) => Err(status.code()),
    }
}

fn source_registered(id: &str) -> mediamesh_mesh::Delivered {
    let event = pb::SourceRegistered {
        source_id: format!("s-{id}"),
        content_id: id.into(),
        creator_name: "TIKITIK".into(),
        title: "The Song Of Today".into(),
    };
    delivered("music.source", &event, id, 1)
}

#[tokio::test]
async fn an_approved_upload_is_registered_when_its_source_is() {
    let f = content(Answer::Approve).await;
    let created = f.api.create_content(create("c1", "New Music", "")).await;
    assert_eq!(created.unwrap().into_inner().status, "APPROVED");
    assert!(
        f.test.raised().await.is_empty(),
        "an approval raises nothing here"
    );
    let policies = crate::policies();
    let event = source_registered("c1");
    f.test.deliver(&policies, &event).await.unwrap();
    f.test.deliver(&policies, &event).await.unwrap(); // redelivered: a no-op
    assert_eq!(status_of(&f.api, "c1").await, Ok("REGISTERED".into()));
}

#[tokio::test]
async fn a_source_registered_before_the_approval_answers_is_kept_for_it() {
    let f = content(Answer::ApproveAfterSource).await;
    let created = f.api.create_content(create("c1", "New Music", "")).await;
    assert_eq!(created.unwrap().into_inner().status, "APPROVED");
    assert_eq!(
        status_of(&f.api, "c1").await,
        Ok("REGISTERED".into()),
        "the early registration was kept aside until the approval was recorded"
    );
}

#[tokio::test]
async fn a_refused_upload_fails_and_asks_for_a_release() {
    let f = content(Answer::Refuse).await;
    let refused = f.api.create_content(create("c1", "New Music", "")).await;
    assert_eq!(refused.unwrap_err().code(), Code::InvalidArgument);
    assert_eq!(status_of(&f.api, "c1").await, Ok("FAILED".into()));
    let failed: Vec<pb::ContentUploadFailed> = f.test.raised_of().await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].content_id, "c1");
}

#[tokio::test]
async fn a_hung_copyright_times_out_and_the_upload_fails() {
    let f = content(Answer::Hang).await;
    let started = std::time::Instant::now();
    let hung = f.api.create_content(create("c1", "New Music", "")).await;
    assert_eq!(hung.unwrap_err().code(), Code::Unavailable);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "bounded by the call policy"
    );
    assert_eq!(status_of(&f.api, "c1").await, Ok("FAILED".into()));
    assert_eq!(
        f.test.raised_of::<pb::ContentUploadFailed>().await.len(),
        1,
        "an approval that went through after all is released"
    );
}

#[tokio::test]
async fn an_open_breaker_refuses_before_recording() {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let api = with_peer(&test, peer_down("music.copyright", policy()));
    let down = api.create_content(create("c1", "New Music", "")).await;
    assert_eq!(down.unwrap_err().code(), Code::Unavailable);
    assert_eq!(status_of(&api, "c1").await, Ok("FAILED".into()));
    // The failure opened the breaker: the next upload is refused before anything is written.
    let open = api.create_content(create("c2", "New Music", "")).await;
    let open = open.unwrap_err();
    assert_eq!(open.code(), Code::Unavailable);
    assert!(
        open.message().contains("circuit open"),
        "{}",
        open.message()
    );
    assert_eq!(status_of(&api, "c2").await, Err(Code::NotFound));
}

/// AIP-155: the same upload again under its id answers the content as it is; another upload
/// under that id is refused, naming the field. Copyright is asked once.
#[tokio::test]
async fn a_retried_content_id_answers_the_content_and_asks_copyright_once() {
    let f = content(Answer::Approve).await;
    let first = f.api.create_content(create("c1", "New Music", "")).await;
    let first = first.unwrap().into_inner();
    let again = f.api.create_content(create("c1", "New Music", "")).await;
    assert_eq!(
        again.unwrap().into_inner(),
        first,
        "the same content, as it is"
    );
    let other = f.api.create_content(create("c1", "Other Music", "")).await;
    let other = other.unwrap_err();
    assert_eq!(other.code(), Code::AlreadyExists);
    assert!(other.message().starts_with("content_id: "), "{other:?}");
    assert_eq!(f.asked.lock().unwrap().len(), 1);
    assert_eq!(status_of(&f.api, "c1").await, Ok("APPROVED".into()));
}

/// A client that gives up (deadline 50 ms, copyright answers in 200 ms) drops its request;
/// the upload still settles at once (not 10-15 s later by the recovery sweep, which does not
/// run here), and the client's retry under the same id is answered the outcome.
#[tokio::test]
async fn a_caller_that_gives_up_leaves_no_pending_upload() {
    let f = slow_copyright().await;
    let hurried = f.api.create_content(create("c1", "New Music", ""));
    let hurried = tokio::time::timeout(Duration::from_millis(50), hurried).await;
    assert!(hurried.is_err(), "the client gave up first");
    until(Duration::from_secs(2), || async {
        (status_of(&f.api, "c1").await != Ok("UPLOADED".into())).then_some(())
    })
    .await;
    assert_eq!(status_of(&f.api, "c1").await, Ok("APPROVED".into()));
    let retry = f.api.create_content(create("c1", "New Music", "")).await;
    assert_eq!(retry.unwrap().into_inner().status, "APPROVED");
    assert_eq!(f.asked.lock().unwrap().len(), 1, "asked once");
}

/// A copy sent while the first waits for copyright (a client's retry) is answered what the
/// first comes to, APPROVED, not UPLOADED; copyright asked once.
#[tokio::test]
async fn a_copy_sent_while_the_first_is_being_approved_answers_it_approved() {
    let f = slow_copyright().await;
    let copy = async {
        until(Duration::from_secs(2), || async {
            (status_of(&f.api, "c1").await == Ok("UPLOADED".into())).then_some(())
        })
        .await;
        f.api.create_content(create("c1", "New Music", "")).await
    };
    let first = f.api.create_content(create("c1", "New Music", ""));
    let (first, copy) = tokio::join!(first, copy);
    assert_eq!(first.unwrap().into_inner().status, "APPROVED");
    assert_eq!(
        copy.unwrap().into_inner().status,
        "APPROVED",
        "the copy waited"
    );
    assert_eq!(f.asked.lock().unwrap().len(), 1, "asked once");
}

#[tokio::test]
async fn an_approval_held_by_another_request_is_not_released() {
    let f = content(Answer::KeyTaken).await;
    let taken = f.api.create_content(create("c1", "New Music", "")).await;
    assert_eq!(taken.unwrap_err().code(), Code::AlreadyExists);
    assert_eq!(status_of(&f.api, "c1").await, Ok("FAILED".into()));
    assert!(
        f.test
            .raised_of::<pb::ContentUploadFailed>()
            .await
            .is_empty(),
        "the approval is someone else's"
    );
}

#[tokio::test]
async fn a_cover_names_a_registered_original_whose_creator_is_told() {
    let f = content(Answer::Approve).await;
    for (request, field) in [
        (create("c", "Cover", ""), "original_content_id"),
        (create("c", "Cover", "c"), "original_content_id"),
        (create("c\r\n", "Cover", "o"), "content_id"),
    ] {
        let status = f.api.create_content(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with(field), "{}", status.message());
    }
    // An original that is no content: NOT_FOUND, naming the field it came in.
    let unknown = f.api.create_content(create("c", "Cover", "nobody")).await;
    let unknown = unknown.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(
        unknown.message(),
        "original_content_id: content \"nobody\" not found"
    );
    f.api
        .create_content(create("o", "New Music", ""))
        .await
        .unwrap();
    let early = f.api.create_content(create("c", "Cover", "o")).await;
    let early = early.unwrap_err();
    assert!(
        early.message().contains("not yet REGISTERED"),
        "{}",
        early.message()
    );
    f.test
        .deliver(&crate::policies(), &source_registered("o"))
        .await
        .unwrap();
    let cover = f.api.create_content(create("c", "Cover", "o")).await;
    assert_eq!(cover.unwrap().into_inner().status, "APPROVED");
    let asked = f.asked.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        (
            asked.original_content_id.as_str(),
            asked.original_creator_name.as_str()
        ),
        ("o", "TIKITIK")
    );
}

#[tokio::test]
async fn deleting_releases_once_and_the_release_follows() {
    let f = content(Answer::Approve).await;
    f.api
        .create_content(create("c1", "New Music", ""))
        .await
        .unwrap();
    let delete = || {
        Request::new(pb::DeleteContentRequest {
            content_id: "c1".into(),
        })
    };
    let deleted = f.api.delete_content(delete()).await.unwrap().into_inner();
    assert_eq!(deleted.status, "DELETED");
    let again = f.api.delete_content(delete()).await.unwrap().into_inner();
    assert_eq!(
        again.status, "DELETED",
        "deleting again answers it as it is"
    );
    assert_eq!(f.test.raised_of::<pb::ContentDeleted>().await.len(), 1);
    let released = pb::CopyrightReleased {
        content_id: "c1".into(),
        creator_name: "TIKITIK".into(),
    };
    let event = delivered("music.copyright", &released, "c1", 2);
    f.test.deliver(&crate::policies(), &event).await.unwrap();
    assert_eq!(status_of(&f.api, "c1").await, Ok("RELEASED".into()));
}

#[tokio::test]
async fn a_failed_upload_cannot_be_deleted_nor_released() {
    let f = content(Answer::Refuse).await;
    let _ = f.api.create_content(create("c1", "New Music", "")).await;
    let delete = Request::new(pb::DeleteContentRequest {
        content_id: "c1".into(),
    });
    let refused = f.api.delete_content(delete).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let released = pb::CopyrightReleased {
        content_id: "c1".into(),
        creator_name: "TIKITIK".into(),
    };
    let event = delivered("music.copyright", &released, "c1", 2);
    f.test.deliver(&crate::policies(), &event).await.unwrap();
    assert_eq!(status_of(&f.api, "c1").await, Ok("FAILED".into()));
}

#[tokio::test]
async fn an_upload_a_crash_left_pending_is_settled_by_the_sweep() {
    use mediamesh_mesh::calls::saga::SyncSaga;

    use crate::domain::{Content, Details};

    let f = content(Answer::Approve).await;
    // Recorded UPLOADED long ago, and nobody answered for it (the process crashed).
    let left = Content::upload(Details {
        id: "c1".into(),
        creator_name: "TIKITIK".into(),
        title: "The Song Of Today".into(),
        kind: "New Music".into(),
        description: String::new(),
        original_content_id: String::new(),
        create_time: "2000-01-01T00:00:00Z".into(),
    })
    .unwrap();
    f.test
        .store
        .write(move |tx| {
            let left = left.clone();
            Box::pin(async move { crate::store::insert(tx, &left).await })
        })
        .await
        .unwrap();
    let cutoff = mediamesh_mesh::observe::telemetry::now_rfc3339();
    let pending = f.upload.pending_before(&cutoff).await.unwrap();
    assert_eq!(pending.len(), 1);
    // What the sweep does for each: ask again with the same key, settle with the answer.
    for pending in pending {
        let answer = f.upload.ask(&pending).await;
        let settled = f.upload.settle(pending, answer).await.unwrap();
        assert_eq!(settled.status().as_str(), "APPROVED");
    }
    assert_eq!(status_of(&f.api, "c1").await, Ok("APPROVED".into()));
    assert_eq!(f.asked.lock().unwrap()[0].content_id, "c1");
    assert!(f.upload.pending_before(&cutoff).await.unwrap().is_empty());
}

/// Records a registered content of `creator` created at `at` directly, so tests choose its
/// time.
async fn insert(test: &TestStore, id: &str, creator: &str, at: &str) {
    mediamesh_mesh::sql::query(
        "INSERT INTO contents (content_id, creator_name, title, kind, description, \
         original_content_id, status, create_time) \
         VALUES ($1, $2, 'Song', 'New Music', '', '', 'REGISTERED', $3)",
    )
    .bind(id.to_owned())
    .bind(creator.to_owned())
    .bind(at.to_owned())
    .execute(test.store.writer())
    .await
    .unwrap();
}

/// Every content id from the first page to the last, `size` a page, of `creator` ("": all).
async fn paged(api: &ContentApi, creator: &str, size: i32) -> Vec<String> {
    let list = move |token: String| {
        let request = Request::new(pb::ListContentsRequest {
            page_size: size,
            page_token: token,
            creator_name: creator.into(),
        });
        async move {
            let r = api.list_contents(request).await.unwrap().into_inner();
            let ids: Vec<String> = r.contents.into_iter().map(|c| c.content_id).collect();
            (ids, r.next_page_token)
        }
    };
    mediamesh_mesh::testkit::every_page(list).await
}

/// A creator's pages follow the same order as all contents': creation time, then id for
/// contents created in the same microsecond.
#[tokio::test]
async fn a_creators_contents_page_in_creation_order_ties_by_id() {
    let f = content(Answer::Approve).await;
    let at = |s: u32| format!("2026-01-01T00:00:0{s}.000000Z");
    for (id, creator, second) in [
        ("c3", "TIKITIK", 1),
        ("c1", "IU", 1),
        ("c2", "TIKITIK", 1),
        ("c4", "IU", 2),
        ("c0", "TIKITIK", 3),
    ] {
        insert(&f.test, id, creator, &at(second)).await;
    }
    assert_eq!(paged(&f.api, "TIKITIK", 1).await, ["c2", "c3", "c0"]);
    assert_eq!(paged(&f.api, "IU", 2).await, ["c1", "c4"]);
    assert_eq!(paged(&f.api, "", 2).await, ["c1", "c2", "c3", "c4", "c0"]);
}

/// A creator's contents are sought in their index, in list order: not a walk of every
/// content (which `($n = '' OR creator_name = $n)` made of the listing) nor a sort.
#[tokio::test]
async fn a_creators_contents_are_sought_in_their_index() {
    let f = content(Answer::Approve).await;
    let (sql, _) = crate::store::list_statement("TIKITIK");
    f.test
        .assert_seeks(&sql, &["INDEX contents_by_creator (creator_name=?"])
        .await;
}
