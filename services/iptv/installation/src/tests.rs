//! Installation in process: the installer's moves, the desk's withdrawal (before and after
//! the assignment, asked twice), and the assignment delivered twice or after a withdrawal.
use mediamesh_mesh::testkit::{TestStore, delivered};
use mediamesh_proto::iptv::v1 as pb;
use pb::installation_service_server::InstallationService;
use tonic::{Code, Request};

use crate::grpc::InstallationApi;

async fn installation() -> (TestStore, InstallationApi) {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let api = InstallationApi::new(test.store.clone());
    (test, api)
}

fn assigned(order: &str) -> mediamesh_mesh::Delivered {
    assigned_to(order, "i1")
}

fn assigned_to(order: &str, installer: &str) -> mediamesh_mesh::Delivered {
    let e = pb::InstallerAssigned {
        join_order_id: order.into(),
        customer_id: "kim".into(),
        installer_id: installer.into(),
        address: "Seoul 1".into(),
        product: "INTERNET".into(),
    };
    delivered("iptv.assignment", &e, order, 2)
}

async fn step(
    api: &InstallationApi,
    order: &str,
    status: &str,
) -> Result<pb::Installation, tonic::Status> {
    let request = pb::UpdateInstallationRequest {
        join_order_id: order.into(),
        status: status.into(),
    };
    api.update_installation(Request::new(request))
        .await
        .map(|r| r.into_inner())
}

async fn withdraw(api: &InstallationApi, order: &str) -> bool {
    let request = pb::WithdrawInstallationRequest {
        join_order_id: order.into(),
        customer_id: "kim".into(),
    };
    api.withdraw_installation(Request::new(request))
        .await
        .unwrap()
        .into_inner()
        .withdrawn
}

async fn list(api: &InstallationApi, installer: &str) -> Vec<pb::Installation> {
    let request = pb::ListInstallationsRequest {
        installer_id: installer.into(),
        ..Default::default()
    };
    api.list_installations(Request::new(request))
        .await
        .unwrap()
        .into_inner()
        .installations
}

#[tokio::test]
async fn an_assignment_opens_one_installation_the_installer_moves() {
    let (test, api) = installation().await;
    let policies = crate::policies();
    let event = assigned("o1");
    test.deliver(&policies, &event).await.unwrap();
    test.deliver(&policies, &event).await.unwrap();
    let mine = list(&api, "i1").await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].status, "ASSIGNED");
    assert!(list(&api, "i2").await.is_empty());

    let early = step(&api, "o1", "complete").await.unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition);
    assert_eq!(step(&api, "o1", "accept").await.unwrap().status, "ACCEPTED");
    assert_eq!(
        step(&api, "o1", "complete").await.unwrap().status,
        "COMPLETED"
    );
    assert_eq!(
        step(&api, "o1", "complete").await.unwrap().status,
        "COMPLETED"
    );
    let completed: Vec<pb::InstallationCompleted> = test.raised_of().await;
    assert_eq!(completed.len(), 1, "completed once");
    assert_eq!(
        step(&api, "o1", "install").await.unwrap_err().code(),
        Code::InvalidArgument
    );
    assert_eq!(
        step(&api, "nope", "accept").await.unwrap_err().code(),
        Code::NotFound
    );
}

#[tokio::test]
async fn a_withdrawal_is_refused_once_installed_and_answers_the_same_twice() {
    let (test, api) = installation().await;
    let policies = crate::policies();
    test.deliver(&policies, &assigned("o1")).await.unwrap();
    step(&api, "o1", "accept").await.unwrap();
    step(&api, "o1", "complete").await.unwrap();
    assert!(!withdraw(&api, "o1").await);
    assert!(!withdraw(&api, "o1").await);

    test.deliver(&policies, &assigned("o2")).await.unwrap();
    step(&api, "o2", "accept").await.unwrap();
    assert!(withdraw(&api, "o2").await);
    assert!(withdraw(&api, "o2").await);
    let withdrawn: Vec<pb::InstallationWithdrawn> = test.raised_of().await;
    assert_eq!(withdrawn.len(), 1, "withdrawn once");
    let late = step(&api, "o2", "complete").await.unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn withdrawn_before_the_assignment_stays_withdrawn() {
    let (test, api) = installation().await;
    assert!(withdraw(&api, "o1").await);
    test.deliver(&crate::policies(), &assigned("o1"))
        .await
        .unwrap();
    let request = pb::GetInstallationRequest {
        join_order_id: "o1".into(),
    };
    let i = api
        .get_installation(Request::new(request))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(i.status, "WITHDRAWN");
    assert!(
        list(&api, "i1").await.is_empty(),
        "nothing for the installer to do"
    );
    let bad = pb::WithdrawInstallationRequest {
        join_order_id: "a b".into(),
        customer_id: "kim".into(),
    };
    let status = api
        .withdraw_installation(Request::new(bad))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::InvalidArgument,
        "internal RPCs check input too"
    );
}

/// Every installation's order id from the first page to the last, `size` a page, of
/// `installer` ("": all).
async fn paged(api: &InstallationApi, installer: &str, size: i32) -> Vec<String> {
    let list = move |token: String| {
        let request = Request::new(pb::ListInstallationsRequest {
            page_size: size,
            page_token: token,
            installer_id: installer.into(),
        });
        async move {
            let r = api.list_installations(request).await.unwrap().into_inner();
            let ids: Vec<String> = r
                .installations
                .into_iter()
                .map(|i| i.join_order_id)
                .collect();
            (ids, r.next_page_token)
        }
    };
    mediamesh_mesh::testkit::every_page(list).await
}

#[tokio::test]
async fn an_installers_installations_and_all_page_in_order_id_order() {
    let (test, api) = installation().await;
    let policies = crate::policies();
    for (order, installer) in [("o3", "i1"), ("o1", "i2"), ("o2", "i1"), ("o4", "i1")] {
        test.deliver(&policies, &assigned_to(order, installer))
            .await
            .unwrap();
    }
    assert_eq!(paged(&api, "i1", 2).await, ["o2", "o3", "o4"]);
    assert_eq!(paged(&api, "i2", 1).await, ["o1"]);
    assert_eq!(paged(&api, "", 3).await, ["o1", "o2", "o3", "o4"]);
}

/// An installer's installations are sought in their index, in list order: not a walk of
/// every installation (which `($n = '' OR installer_id = $n)` made of the listing).
#[tokio::test]
async fn an_installers_installations_are_sought_in_their_index() {
    let (test, _) = installation().await;
    let (sql, _) = crate::store::list_statement("i1");
    test.assert_seeks(&sql, &["INDEX installations_by_installer (installer_id=?"])
        .await;
}
