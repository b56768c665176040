//! Pub/sub with eventual consistency: mileage down never stops purchases and catches up on
//! restart; two mileage replicas share one durable consumer and apply no event twice.
use std::time::Duration;

use crate::harness::{Mesh, Sandbox, buy, eventually, mileage_balances, mileage_of, purchases_of};

const SHOP: &str = "vod.catalog,vod.purchase,vod.payment";

async fn buy_n(shop: &Mesh, customer: &str, n: usize) {
    for _ in 0..n {
        let purchase = buy(shop, "2", customer)
            .await
            .expect("purchase while mileage is down");
        assert_eq!(purchase.order_status, "PAID");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mileage_catches_up_after_downtime() {
    let sandbox = Sandbox::sqlite("catchup");
    let shop = sandbox.serve(SHOP).await;
    let mut mileage = sandbox.serve("vod.mileage").await;
    buy_n(&shop, "kim", 1).await;
    eventually("first credit", Duration::from_secs(20), || async {
        mileage_of(&mileage, "kim")
            .await
            .filter(|m| m.points == 1000)
    })
    .await;

    mileage.proc.kill9();
    buy_n(&shop, "kim", 6).await; // mileage down: purchases go on

    let mileage = sandbox
        .serve_with(mileage.grpc_port, "vod.mileage", &[], &[])
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
    let sandbox = Sandbox::sqlite("replicas");
    let shop = sandbox.serve(SHOP).await;
    let first = sandbox.serve("vod.mileage").await;
    let second = sandbox.serve("vod.mileage").await;
    let customers = ["c1", "c2", "c3", "c4"];
    for customer in customers {
        buy_n(&shop, customer, 12).await;
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
        let spent = purchases.iter().filter(|p| p.free_vod).count() as i32;
        assert!(
            m.free_vod_credits + spent >= 2,
            "12 purchases earn two free VODs: {m:?}"
        );
        assert_eq!(
            mileage_of(&second, customer).await,
            Some(m),
            "both replicas read one store"
        );
    }
}
