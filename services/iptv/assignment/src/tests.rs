//! The desk in process: the region rule, completion only once installed, and the
//! cancellation saga against installation served in memory (withdraws, refuses, hangs, down),
//! answered once, with the recovery path (pending asked again) exercised directly.
use std::sync::Arc;
use std::time::Duration;

use mediamesh_mesh::calls::saga::{SyncSaga, complete};
use mediamesh_mesh::testkit::{Fake, TestStore, delivered, peer_down, peer_in_memory};
use mediamesh_mesh::{CallPolicy, Peer};
use mediamesh_proto::iptv::v1 as pb;
use pb::assignment_service_server::AssignmentService;
use pb::installation_service_server::InstallationServiceServer;
use pb::installer_service_server::InstallerService;
use pb::join_order_service_server::JoinOrderServiceServer;
use tonic::{Code, Request, Status};

use crate::cancel::{Cancellations, Requests};
use crate::grpc::{AssignmentApi, InstallerApi};

#[derive(Clone, Copy)]
enum Answers {
    Withdraws,
    Refuses,
    Hangs,
}

fn quick() -> CallPolicy {
    CallPolicy {
        timeout: Duration::from_millis(100),
        ..CallPolicy::default()
    }
}

/// Installation: every installation ACCEPTED; a withdrawal answered as `answers` says.
async fn installation(answers: Answers) -> Peer {
    let fake = Fake::<InstallationServiceServer<()>>::new()
        .unary(
            "GetInstallation",
            |r: pb::GetInstallationRequest| async move {
                Ok(pb::Installation {
                    join_order_id: r.join_order_id,
                    status: "ACCEPTED".into(),
                    ..Default::default()
                })
            },
        )
        .unary(
            "WithdrawInstallation",
            move |r: pb::WithdrawInstallationRequest| async move {
                let withdrawn = match answers {
                    Answers::Withdraws => true,
                    Answers::Refuses => false,
                    Answers::Hangs => std::future::pending().await,
                };
                Ok(pb::Withdrawal {
                    join_order_id: r.join_order_id,
                    withdrawn,
                })
            },
        );
    peer_in_memory("iptv.installation", fake.routes(), quick()).await
}

/// Order, as the desk asks it on a miss: knows "placed" only.
async fn order() -> Peer {
    let fake = Fake::<JoinOrderServiceServer<()>>::new().unary(
        "GetJoinOrder",
        |r: pb::GetJoinOrderRequest| async move {
            if r.join_order_id != "placed" {
                return Err(Status::not_found("no such order"));
            }
            Ok(pb::JoinOrder {
                join_order_id: r.join_order_id,
                customer_id: "kim".into(),
                region: "seoul".into(),
                product: "INTERNET".into(),
                ..Default::default()
            })
        },
    );
    peer_in_memory("iptv.order", fake.routes(), quick()).await
}

struct Desk {
    test: TestStore,
    installers: InstallerApi,
    api: AssignmentApi,
}

async fn desk(answers: Answers) -> Desk {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let api = AssignmentApi::new(
        test.store.clone(),
        order().await,
        installation(answers).await,
    );
    let installers = InstallerApi::new(test.store.clone());
    for (id, region) in [("s1", "seoul"), ("b1", "busan")] {
        let request = pb::CreateInstallerRequest {
            installer_id: id.into(),
            name: id.into(),
            region: region.into(),
        };
        installers
            .create_installer(Request::new(request))
            .await
            .unwrap();
    }
    Desk {
        test,
        installers,
        api,
    }
}

fn requested(id: &str) -> mediamesh_mesh::Delivered {
    let e = pb::JoinOrderRequested {
        join_order_id: id.into(),
        customer_id: "kim".into(),
        customer_name: "Kim".into(),
        address: "Seoul 1".into(),
        region: "seoul".into(),
        product: "INTERNET".into(),
    };
    delivered("iptv.order", &e, id, 1)
}

fn cancel_requested(id: &str) -> mediamesh_mesh::Delivered {
    let e = pb::JoinOrderCancelRequested {
        join_order_id: id.into(),
        customer_id: "kim".into(),
        address: "Seoul 1".into(),
        region: "seoul".into(),
        product: "INTERNET".into(),
    };
    delivered("iptv.order", &e, id, 2)
}

fn completed(id: &str) -> mediamesh_mesh::Delivered {
    let e = pb::InstallationCompleted {
        join_order_id: id.into(),
        customer_id: "kim".into(),
        installer_id: "s1".into(),
    };
    delivered("iptv.installation", &e, id, 3)
}

async fn update(
    api: &AssignmentApi,
    id: &str,
    installer: &str,
    status: &str,
) -> Result<pb::Assignment, Status> {
    let request = pb::UpdateAssignmentRequest {
        join_order_id: id.into(),
        installer_id: installer.into(),
        status: status.into(),
    };
    api.update_assignment(Request::new(request))
        .await
        .map(|r| r.into_inner())
}

async fn get(api: &AssignmentApi, id: &str) -> Result<pb::Assignment, Status> {
    let request = pb::GetAssignmentRequest {
        join_order_id: id.into(),
    };
    api.get_assignment(Request::new(request))
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn only_an_installer_of_the_orders_region_is_assigned() {
    let d = desk(Answers::Withdraws).await;
    let policies = crate::policies(Requests::default());
    d.test.deliver(&policies, &requested("o1")).await.unwrap();
    d.test.deliver(&policies, &requested("o1")).await.unwrap();
    let other = update(&d.api, "o1", "b1", "").await.unwrap_err();
    assert_eq!(other.code(), Code::FailedPrecondition);
    assert!(other.message().contains("busan"), "{}", other.message());
    let a = update(&d.api, "o1", "s1", "").await.unwrap();
    assert_eq!(
        (a.status.as_str(), a.installer_id.as_str()),
        ("ASSIGNED", "s1")
    );
    update(&d.api, "o1", "s1", "").await.unwrap();
    let assigned: Vec<pb::InstallerAssigned> = d.test.raised_of().await;
    assert_eq!(assigned.len(), 1, "assigned once");
    assert_eq!(
        update(&d.api, "o1", "nobody", "").await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        update(&d.api, "o1", "", "").await.unwrap_err().code(),
        Code::InvalidArgument
    );
    assert_eq!(
        update(&d.api, "o1", "", "join").await.unwrap_err().code(),
        Code::InvalidArgument
    );
    let request = pb::CreateInstallerRequest {
        installer_id: "s1".into(),
        name: "someone else".into(),
        region: "seoul".into(),
    };
    let taken = d
        .installers
        .create_installer(Request::new(request))
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);
}

#[tokio::test]
async fn the_subscription_completes_only_once_installed() {
    let d = desk(Answers::Withdraws).await;
    let policies = crate::policies(Requests::default());
    d.test.deliver(&policies, &requested("o1")).await.unwrap();
    update(&d.api, "o1", "s1", "").await.unwrap();
    let early = update(&d.api, "o1", "", "complete").await.unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition);
    d.test.deliver(&policies, &completed("o1")).await.unwrap();
    d.test.deliver(&policies, &completed("o1")).await.unwrap();
    assert_eq!(
        update(&d.api, "o1", "", "complete").await.unwrap().status,
        "JOINED"
    );
    assert_eq!(
        update(&d.api, "o1", "", "complete").await.unwrap().status,
        "JOINED"
    );
    let joined: Vec<pb::SubscriptionCompleted> = d.test.raised_of().await;
    assert_eq!(joined.len(), 1);
}

#[tokio::test]
async fn a_miss_asks_order_never_a_false_404() {
    let d = desk(Answers::Withdraws).await;
    let a = update(&d.api, "placed", "s1", "").await.unwrap();
    assert_eq!(a.status, "ASSIGNED", "an order placed a moment ago");
    assert_eq!(
        get(&d.api, "nope").await.unwrap_err().code(),
        Code::NotFound
    );
    // The order's own event, arriving late, changes nothing.
    d.test
        .deliver(&crate::policies(Requests::default()), &requested("placed"))
        .await
        .unwrap();
    assert_eq!(get(&d.api, "placed").await.unwrap().status, "ASSIGNED");
}

/// The real path: the policy records the cancellation and hands it to the answering task.
#[tokio::test]
async fn a_cancellation_is_withdrawn_and_answered_once() {
    let d = desk(Answers::Withdraws).await;
    let requests = Requests::default();
    let receiver = Arc::new(tokio::sync::Mutex::new(requests.open()));
    let saga = Cancellations::new(d.test.store.clone(), installation(Answers::Withdraws).await);
    let stop = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(crate::cancel::answer(saga.clone(), receiver, stop.clone()));
    let policies = crate::policies(requests);
    d.test.deliver(&policies, &requested("o1")).await.unwrap();
    d.test
        .deliver(&policies, &cancel_requested("o1"))
        .await
        .unwrap();
    d.test
        .deliver(&policies, &cancel_requested("o1"))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while get(&d.api, "o1").await.unwrap().cancel_status != "CANCELLED" {
        assert!(tokio::time::Instant::now() < deadline, "never answered");
        tokio::task::yield_now().await;
    }
    // The sweep finds nothing left to answer.
    assert!(saga.pending_before("9999").await.unwrap().is_empty());
    stop.cancel();
    task.await.unwrap();
    let accepted: Vec<pb::CancellationAccepted> = d.test.raised_of().await;
    assert_eq!(accepted.len(), 1, "answered once");
    assert!(
        d.test
            .raised_of::<pb::CancellationRejected>()
            .await
            .is_empty()
    );
    let a = get(&d.api, "o1").await.unwrap();
    assert_eq!(a.status, "CANCELLED");
    let late = update(&d.api, "o1", "s1", "").await.unwrap_err();
    assert_eq!(
        late.code(),
        Code::FailedPrecondition,
        "a cancelled order is not assigned"
    );
}

/// Settles every pending cancellation once, as a sweep round does.
async fn sweep_once(
    saga: &Cancellations,
) -> Vec<Result<crate::domain::Assignment, crate::error::Error>> {
    let mut settled = Vec::new();
    for pending in saga.pending_before("9999").await.unwrap() {
        settled.push(complete(saga, pending).await);
    }
    settled
}

#[tokio::test]
async fn installed_already_the_cancellation_is_rejected_and_the_state_kept() {
    let d = desk(Answers::Refuses).await;
    let policies = crate::policies(Requests::default());
    d.test.deliver(&policies, &requested("o1")).await.unwrap();
    update(&d.api, "o1", "s1", "").await.unwrap();
    d.test.deliver(&policies, &completed("o1")).await.unwrap();
    d.test
        .deliver(&policies, &cancel_requested("o1"))
        .await
        .unwrap();
    let saga = Cancellations::new(d.test.store.clone(), installation(Answers::Refuses).await);
    assert!(sweep_once(&saga).await.iter().all(Result::is_ok));
    assert!(sweep_once(&saga).await.is_empty(), "answered once");
    let a = get(&d.api, "o1").await.unwrap();
    assert_eq!(
        (a.status.as_str(), a.cancel_status.as_str()),
        ("INSTALLED", "CANCEL_REJECTED")
    );
    assert_eq!(
        d.test.raised_of::<pb::CancellationRejected>().await.len(),
        1
    );
}

/// Installation hung, then down: the cancellation stays requested (nothing raised); once
/// installation answers, the recovery asks again and answers it once.
#[tokio::test]
async fn installation_hung_or_down_keeps_the_cancellation_until_it_answers() {
    let d = desk(Answers::Withdraws).await;
    let policies = crate::policies(Requests::default());
    d.test.deliver(&policies, &requested("o1")).await.unwrap();
    d.test
        .deliver(&policies, &cancel_requested("o1"))
        .await
        .unwrap();

    let hung = Cancellations::new(d.test.store.clone(), installation(Answers::Hangs).await);
    let outcome = sweep_once(&hung).await;
    assert!(matches!(&outcome[..], [Err(crate::error::Error::Peer(e))] if e.is_unavailable()));
    let down = Cancellations::new(
        d.test.store.clone(),
        peer_down("iptv.installation", quick()),
    );
    assert!(sweep_once(&down).await.iter().all(Result::is_err));
    let a = get(&d.api, "o1").await.unwrap();
    assert_eq!(a.cancel_status, "CANCEL_REQUESTED", "kept, never lost");
    assert!(
        d.test
            .raised_of::<pb::CancellationAccepted>()
            .await
            .is_empty()
    );

    let back = Cancellations::new(d.test.store.clone(), installation(Answers::Withdraws).await);
    assert!(sweep_once(&back).await.iter().all(Result::is_ok));
    assert!(sweep_once(&back).await.is_empty());
    assert_eq!(get(&d.api, "o1").await.unwrap().cancel_status, "CANCELLED");
    assert_eq!(
        d.test.raised_of::<pb::CancellationAccepted>().await.len(),
        1
    );
}

/// Every installer id from the first page to the last, `size` a page, of `region` ("": all).
async fn paged(api: &InstallerApi, region: &str, size: i32) -> Vec<String> {
    let list = move |token: String| {
        let request = Request::new(pb::ListInstallersRequest {
            page_size: size,
            page_token: token,
            region: region.into(),
        });
        async move {
            let r = api.list_installers(request).await.unwrap().into_inner();
            let ids: Vec<String> = r.installers.into_iter().map(|i| i.installer_id).collect();
            (ids, r.next_page_token)
        }
    };
    mediamesh_mesh::testkit::every_page(list).await
}

#[tokio::test]
async fn a_regions_installers_and_all_page_in_id_order() {
    let d = desk(Answers::Withdraws).await;
    for (id, region) in [("s3", "seoul"), ("b2", "busan"), ("s2", "seoul")] {
        let request = pb::CreateInstallerRequest {
            installer_id: id.into(),
            name: id.into(),
            region: region.into(),
        };
        let created = d.installers.create_installer(Request::new(request)).await;
        created.unwrap();
    }
    assert_eq!(paged(&d.installers, "seoul", 2).await, ["s1", "s2", "s3"]);
    assert_eq!(paged(&d.installers, "busan", 1).await, ["b1", "b2"]);
    let all = paged(&d.installers, "", 2).await;
    assert_eq!(all, ["b1", "b2", "s1", "s2", "s3"]);
}

/// A region's installers are sought in their index, in list order: not a walk of every
/// installer (which `($n = '' OR region = $n)` made of the listing) nor a sort.
#[tokio::test]
async fn a_regions_installers_are_sought_in_their_index() {
    let d = desk(Answers::Withdraws).await;
    let (sql, _) = crate::store::installers_statement("seoul");
    d.test
        .assert_seeks(&sql, &["INDEX installers_by_region (region=?"])
        .await;
}
