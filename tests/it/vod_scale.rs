//! Pub/sub with eventual consistency: mileage down never stops purchases and catches up on
//! restart; two mileage replicas share one durable consumer and apply no event twice.
use std::time::Duration;

use mediamesh_proto::vod::v1 as pb;

use crate::harness::{
    Db, Mesh, Nats, TempDir, eventually, mileage_balances, mileage_of, purchases_of,
};

async fn buy(shop: &Mesh, customer: &str, n: usize) {
    let mut client = shop.purchases().await;
    for _ in 0..n {
        let request = pb::CreatePurchaseRequest {
            vod_id: "2".into(),
            customer_id: customer.into(),
            ..Default::default()
        };
        let purchase = client
            .create_purchase(request)
            .await
            .expect("purchase while mileage is down")
            .into_inner();
        assert_eq!(purchase.order_status, "PAID");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mileage_catches_up_after_downtime() {
    let logs = TempDir::new("catchup");
    let nats = Nats::start();
    let db = Db::Sqlite(logs.path().join("data"));
    let shop = Mesh::serve(
        "vod.catalog,vod.purchase,vod.payment",
        &nats.url,
        &db,
        &[],
        logs.path(),
    )
    .await;
    let mut mileage = Mesh::serve("vod.mileage", &nats.url, &db, &[], logs.path()).await;
    buy(&shop, "kim", 1).await;
    eventually("first credit", Duration::from_secs(20), || async {
        mileage_of(&mileage, "kim")
            .await
            .filter(|m| m.points == 1000)
    })
    .await;

    mileage.proc.kill9();
    buy(&shop, "kim", 6).await; // mileage down: purchases go on

    let mileage = Mesh::serve_on(
        mileage.grpc_port,
        "vod.mileage",
        &nats.url,
        &db,
        &[],
        logs.path(),
    )
    .await;
    // 7 paid purchases: 7000 points = one free-VOD credit (5000) + 2000.
    let m = eventually("mileage caught up", Duration::from_secs(30), || async {
        mileage_of(&mileage, "kim")
            .await
            .filter(|m| m.free_vod_credits == 1 && m.points == 2000)
    })
    .await;
    assert!(mileage_balances(
        &purchases_of(&shop, "kim").await,
        Some(&m)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_mileage_replicas_share_one_durable_consumer() {
    let logs = TempDir::new("replicas");
    let nats = Nats::start();
    let db = Db::Sqlite(logs.path().join("data"));
    let shop = Mesh::serve(
        "vod.catalog,vod.purchase,vod.payment",
        &nats.url,
        &db,
        &[],
        logs.path(),
    )
    .await;
    let first = Mesh::serve("vod.mileage", &nats.url, &db, &[], logs.path()).await;
    let second = Mesh::serve("vod.mileage", &nats.url, &db, &[], logs.path()).await;
    let customers = ["c1", "c2", "c3", "c4"];
    for customer in customers {
        buy(&shop, customer, 12).await;
    }
    // Every paid purchase credited exactly once (a durable per replica would apply every
    // event twice and never balance).
    for customer in customers {
        let purchases = purchases_of(&shop, customer).await;
        let m = eventually(
            &format!("{customer} balanced"),
            Duration::from_secs(30),
            || async {
                mileage_of(&first, customer)
                    .await
                    .filter(|m| mileage_balances(&purchases, Some(m)))
            },
        )
        .await;
        assert!(m.free_vod_credits + (purchases.iter().filter(|p| p.free_vod).count() as i32) >= 2);
        assert_eq!(
            mileage_of(&second, customer).await,
            Some(m),
            "both replicas read one store"
        );
    }
}
