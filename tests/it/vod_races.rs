//! Check-then-insert races of the VOD store on PostgreSQL (READ COMMITTED), driven by
//! concurrent requests and two replicas: an approved payment never escapes its void, two
//! mileage replicas lose no update, and one purchase id created twice at once spends one
//! credit.
use std::time::Duration;

use async_nats::jetstream;
use futures::future::join_all;
use mediamesh_proto::vod::v1 as pb;

use crate::harness::{Sandbox, buy, eventually, mileage_balances, mileage_of, purchases_of};

const SHOP: &str = "vod.catalog,vod.purchase,vod.payment";

async fn publish(
    js: &jetstream::Context,
    subject: &str,
    msg_id: &str,
    event: &impl prost::Message,
) {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", msg_id);
    js.publish_with_headers(subject.to_owned(), headers, event.encode_to_vec().into())
        .await
        .unwrap()
        .await
        .unwrap();
}

/// A purchase abandoned (PurchaseFailed) while its late `Pay` is under way: whichever
/// commits first, the payment ends CANCELLED, never APPROVED for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_pay_never_escapes_its_void_on_postgres() {
    let sandbox = Sandbox::postgres("vod-void-race");
    let payment = sandbox.serve("vod.payment").await;
    let js = jetstream::new(async_nats::connect(&sandbox.nats.url).await.unwrap());
    let channel = payment.channel().await;
    let ids: Vec<String> = (0..300).map(|n| format!("void-{n}")).collect();
    for chunk in ids.chunks(30) {
        let races = chunk.iter().map(|id| {
            let (js, channel) = (js.clone(), channel.clone());
            async move {
                let failed = pb::PurchaseFailed {
                    purchase_id: id.clone(),
                    customer_id: "v".into(),
                    reason: "timed out".into(),
                };
                let void = publish(&js, "vod.purchase.PurchaseFailed", id, &failed);
                let request = pb::PayRequest {
                    purchase_id: id.clone(),
                    customer_id: "v".into(),
                    vod_id: "1".into(),
                    amount: 1000,
                    free_vod: false,
                };
                let mut client = pb::payment_service_client::PaymentServiceClient::new(channel);
                let (_, paid) = futures::future::join(void, client.pay(request)).await;
                paid.expect("Pay answers (approved or already voided)");
            }
        });
        join_all(races).await;
    }
    let client = pb::payment_service_client::PaymentServiceClient::new(channel);
    eventually("every payment voided", Duration::from_secs(30), || {
        let (ids, mut client) = (&ids, client.clone());
        async move {
            let mut approved = Vec::new();
            for id in ids {
                let request = pb::GetPaymentRequest {
                    purchase_id: id.clone(),
                };
                let payment = client.get_payment(request).await.ok()?.into_inner();
                if payment.pay_status != "CANCELLED" {
                    approved.push(id.clone());
                }
            }
            approved.is_empty().then_some(())
        }
    })
    .await;
}

/// Two mileage replicas on one PostgreSQL database apply one customer's credits at the
/// same time: no update is lost (every paid purchase earns its 1000 points once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_mileage_replicas_lose_no_update_on_postgres() {
    let sandbox = Sandbox::postgres("vod-mileage-race");
    let shop = sandbox.serve(SHOP).await;
    let first = sandbox.serve("vod.mileage").await;
    let _second = sandbox.serve("vod.mileage").await;
    let buyers = (0..8).map(|_| {
        let shop = &shop;
        async move {
            for _ in 0..15 {
                let p = buy(shop, "2", "racer").await.expect("purchase");
                assert_eq!(p.order_status, "PAID");
            }
        }
    });
    join_all(buyers).await;
    let purchases = purchases_of(&shop, "racer").await;
    assert_eq!(purchases.len(), 120);
    eventually(
        "racer's mileage balanced",
        Duration::from_secs(30),
        || async {
            let m = mileage_of(&first, "racer").await;
            if !mileage_balances(&purchases, m.as_ref()) {
                eprintln!("not balanced yet: {m:?}");
                return None;
            }
            Some(())
        },
    )
    .await;
}

/// One client-chosen purchase id sent several times at once by a customer holding free-VOD
/// credits: one purchase is recorded, every copy answers it (AIP-155), and it spends one
/// credit, not one per copy. Four rounds of eight copies against ten credits: four are
/// spent, six remain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_purchase_id_created_twice_at_once_spends_one_credit_on_postgres() {
    const CREDITS: usize = 10;
    const ROUNDS: usize = 4;
    let sandbox = Sandbox::postgres("vod-credit-race");
    let shop = sandbox.serve(SHOP).await;
    let js = jetstream::new(async_nats::connect(&sandbox.nats.url).await.unwrap());
    for n in 0..CREDITS {
        let issued = pb::FreeVodCreditIssued {
            customer_id: "dup".into(),
            purchase_id: format!("earned-{n}"),
            points: 0,
        };
        let id = format!("credit-{n}");
        publish(&js, "vod.mileage.FreeVodCreditIssued", &id, &issued).await;
    }
    // A VOD only the stream knows marks the end: once it sells, every credit arrived.
    let marker = pb::VodRegistered {
        vod_id: "marker".into(),
        vod_name: "Marker".into(),
        price: 100,
    };
    publish(&js, "vod.catalog.VodRegistered", "marker", &marker).await;
    eventually("the marker VOD sells", Duration::from_secs(20), || async {
        buy(&shop, "marker", "someone").await.ok()
    })
    .await;

    let channel = shop.channel().await;
    for round in 0..ROUNDS {
        let copies = (0..8).map(|_| {
            let mut client =
                pb::purchase_service_client::PurchaseServiceClient::new(channel.clone());
            async move {
                let request = pb::CreatePurchaseRequest {
                    purchase_id: format!("twice-{round}"),
                    vod_id: "2".into(),
                    customer_id: "dup".into(),
                    ..Default::default()
                };
                client
                    .create_purchase(request)
                    .await
                    .map(|r| r.into_inner())
            }
        });
        let outcomes = join_all(copies).await;
        // The same request: every copy answers the one purchase (AIP-155), as it is when
        // asked (PENDING while the first copy's payment is under way), paid by one credit.
        for outcome in &outcomes {
            let p = outcome
                .as_ref()
                .unwrap_or_else(|e| panic!("{e:?}: {outcomes:?}"));
            assert_eq!(p.purchase_id, format!("twice-{round}"), "{p:?}");
            assert!(p.free_vod, "{p:?}");
        }
        let settled = eventually("the purchase settles", Duration::from_secs(10), || {
            let shop = &shop;
            async move {
                let p = purchases_of(shop, "dup").await;
                p.iter()
                    .all(|p| p.order_status == "PAID")
                    .then_some(p.len())
            }
        })
        .await;
        assert_eq!(settled, round + 1, "one purchase recorded per round");
    }
    for n in ROUNDS..CREDITS {
        let p = buy(&shop, "2", "dup").await.unwrap();
        assert!(p.free_vod, "credit {n} is still there: {p:?}");
    }
    let paid = buy(&shop, "2", "dup").await.unwrap();
    assert!(!paid.free_vod, "only {CREDITS} credits: {paid:?}");
    assert_eq!(purchases_of(&shop, "dup").await.len(), CREDITS + 1);
}
