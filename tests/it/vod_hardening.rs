//! The VOD store under abuse: every field of every RPC passes the mesh's input rules (and a
//! refused request stores nothing and stops no flow), a reused payment key with another
//! request is refused, free-VOD credits never go negative, anonymous purchases share no
//! account, a reversal delivered before its credit still wins, and a VOD is purchasable the
//! moment it is registered.
use std::time::Duration;

use async_nats::jetstream;
use mediamesh_proto::vod::v1 as pb;
use reqwest::Method;
use serde_json::{Value, json};
use tonic::Code;
use tonic_types::StatusExt;

use crate::harness::rest::{WAIT, call, get, get_until, patch, post};
use crate::harness::{Mesh, Sandbox, buy, eventually, free_port};

/// Past NATS's 1 MiB payload limit and every field bound.
fn huge() -> String {
    "a".repeat(1_100_000)
}

/// How many items a paged REST list holds, following every page.
async fn count(rest: &str, path: &str, key: &str) -> usize {
    let (mut total, mut token) = (0, String::new());
    loop {
        let (status, page) = get(format!("{rest}{path}?pageSize=100&pageToken={token}")).await;
        assert_eq!(status, 200, "{path}: {page}");
        total += page[key].as_array().map_or(0, Vec::len);
        token = page["nextPageToken"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if token.is_empty() {
            return total;
        }
    }
}

/// Publishes a raw event to JetStream, as a relay would (or as a reordering broker could).
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

async fn jetstream_of(sandbox: &Sandbox) -> jetstream::Context {
    jetstream::new(async_nats::connect(&sandbox.nats.url).await.unwrap())
}

fn payments(
    channel: tonic::transport::Channel,
) -> pb::payment_service_client::PaymentServiceClient<tonic::transport::Channel> {
    pb::payment_service_client::PaymentServiceClient::new(channel)
}

/// The field a refused call names in its `google.rpc.BadRequest`.
fn violated_field(status: &tonic::Status) -> String {
    status
        .get_details_bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default()
}

/// Bad ids (CR/LF, NUL, non-ASCII, 1.1 MB) and unbounded texts and amounts, over REST and
/// over gRPC (the internal `Pay` too): each is a 400 / INVALID_ARGUMENT naming its field,
/// nothing is stored, and afterwards a normal purchase still earns its mileage. On
/// PostgreSQL, where a NUL reaching a query is a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_stores_nothing_and_stops_no_flow() {
    let sandbox = Sandbox::postgres("vod-input");
    let mesh = sandbox.up().await;
    let rest = mesh.rest();
    let vods_before = count(&rest, "/vodLists", "vods").await;
    let purchases_before = count(&rest, "/vodPurchases", "purchases").await;

    let big = huge();
    let cases: Vec<(Method, &str, Option<Value>, &str)> = vec![
        (
            Method::POST,
            "/vodLists",
            Some(json!({"vodId": "x\r\ny", "vodName": "a"})),
            "vod_id",
        ),
        (
            Method::POST,
            "/vodLists",
            Some(json!({"vodId": "é", "vodName": "a"})),
            "vod_id",
        ),
        (
            Method::POST,
            "/vodLists",
            Some(json!({"vodId": "a\u{0}", "vodName": "a"})),
            "vod_id",
        ),
        (
            Method::POST,
            "/vodLists",
            Some(json!({"vodId": big, "vodName": "a"})),
            "vod_id",
        ),
        (
            Method::POST,
            "/vodLists",
            Some(json!({"vodName": big})),
            "vod_name",
        ),
        (
            Method::POST,
            "/vodLists",
            Some(json!({"vodName": "a\u{0}b"})),
            "vod_name",
        ),
        (
            Method::POST,
            "/vodLists",
            Some(json!({"vodName": "a\r\nb"})),
            "vod_name",
        ),
        (
            Method::POST,
            "/vodLists",
            Some(json!({"vodName": "a", "price": 2_000_000})),
            "price",
        ),
        (Method::GET, "/vodLists/%00", None, "vod_id"),
        (Method::GET, "/vodLists/%C3%A9", None, "vod_id"),
        (Method::GET, "/vodLists/a%0D%0Ab", None, "vod_id"),
        (
            Method::POST,
            "/vodPurchases",
            Some(json!({"vodId": "x\r\ny"})),
            "vod_id",
        ),
        (
            Method::POST,
            "/vodPurchases",
            Some(json!({"vodId": "1\u{0}"})),
            "vod_id",
        ),
        (
            Method::POST,
            "/vodPurchases",
            Some(json!({"vodId": "é"})),
            "vod_id",
        ),
        (
            Method::POST,
            "/vodPurchases",
            Some(json!({"vodId": big})),
            "vod_id",
        ),
        (
            Method::POST,
            "/vodPurchases",
            Some(json!({"vodId": "1", "purchaseId": "é"})),
            "purchase_id",
        ),
        (
            Method::POST,
            "/vodPurchases",
            Some(json!({"vodId": "1", "purchaseId": "a\r\nb"})),
            "purchase_id",
        ),
        (
            Method::POST,
            "/vodPurchases",
            Some(json!({"vodId": "1", "customerId": "a\u{0}"})),
            "customer_id",
        ),
        (
            Method::POST,
            "/vodPurchases",
            Some(json!({"vodId": "1", "customerId": big})),
            "customer_id",
        ),
        (
            Method::POST,
            "/vodPurchases",
            Some(json!({"vodId": "1", "vodName": big})),
            "vod_name",
        ),
        (
            Method::POST,
            "/vodPurchases",
            Some(json!({"vodId": "1", "vodName": "a\u{0}"})),
            "vod_name",
        ),
        (Method::GET, "/vodPurchases/%00", None, "purchase_id"),
        (Method::GET, "/vodPurchases/%C3%A9", None, "purchase_id"),
        (
            Method::GET,
            "/vodPurchases?customerId=a%0D%0Ab",
            None,
            "customer_id",
        ),
        (
            Method::GET,
            "/vodPurchases?customerId=%00",
            None,
            "customer_id",
        ),
        (
            Method::PATCH,
            "/vodPurchases/%00",
            Some(json!({"orderStatus": "cancel"})),
            "purchase_id",
        ),
        (
            Method::PATCH,
            "/vodPurchases/%C3%A9",
            Some(json!({"orderStatus": "cancel"})),
            "purchase_id",
        ),
        (
            Method::PATCH,
            "/vodPurchases/x",
            Some(json!({"orderStatus": big})),
            "order_status",
        ),
        (
            Method::POST,
            "/vodPurchases/%00:cancel",
            Some(json!({})),
            "purchase_id",
        ),
        (Method::GET, "/mileages/%00", None, "customer_id"),
        (Method::GET, "/mileages/%C3%A9", None, "customer_id"),
        (Method::GET, "/mileages/a%0Ab", None, "customer_id"),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, field) in cases {
        let shown = format!(
            "{method} {path} {}",
            body.as_ref().map_or(String::new(), |b| {
                b.to_string().chars().take(80).collect()
            })
        );
        let (status, answer) = call(method, format!("{rest}{path}"), body).await;
        let named = &answer["details"][0]["fieldViolations"][0]["field"];
        if status != 400 || named != field {
            let answer: String = answer.to_string().chars().take(200).collect();
            wrong.push(format!(
                "{shown}: {status} {answer} (want 400 naming {field})"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // gRPC, the internal Pay included: an approved payment keyed "x\r\ny" once stopped the
    // payment relay for good.
    let mut pay = payments(mesh.channel().await);
    let request = |purchase: &str, customer: &str, vod: &str, amount: i32| pb::PayRequest {
        purchase_id: purchase.into(),
        customer_id: customer.into(),
        vod_id: vod.into(),
        amount,
        free_vod: false,
    };
    let bad_pays = [
        (request("x\r\ny", "c", "1", 1), "purchase_id"),
        (request("p\0", "c", "1", 1), "purchase_id"),
        (request("é", "c", "1", 1), "purchase_id"),
        (request(&big, "c", "1", 1), "purchase_id"),
        (request("", "c", "1", 1), "purchase_id"),
        (request("pay-1", "c\r\n", "1", 1), "customer_id"),
        (request("pay-1", &big, "1", 1), "customer_id"),
        (request("pay-1", "c", "1\0", 1), "vod_id"),
        (request("pay-1", "c", &big, 1), "vod_id"),
        (request("pay-1", "c", "", 1), "vod_id"),
        (request("pay-1", "c", "1", -1), "amount"),
        (request("pay-1", "c", "1", 2_000_000), "amount"),
    ];
    for (bad, field) in bad_pays {
        let shown: String = format!("{bad:?}").chars().take(120).collect();
        match pay.pay(bad).await {
            Err(status)
                if status.code() == Code::InvalidArgument && violated_field(&status) == field => {}
            other => {
                let other: String = format!("{other:?}").chars().take(200).collect();
                wrong.push(format!(
                    "Pay {shown}: {other} (want INVALID_ARGUMENT naming {field})"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    for bad in ["x\r\ny", "\0", "é"] {
        let status = pay
            .get_payment(pb::GetPaymentRequest {
                purchase_id: bad.into(),
            })
            .await
            .expect_err(bad);
        assert_eq!(status.code(), Code::InvalidArgument, "{bad:?}: {status:?}");
        assert_eq!(violated_field(&status), "purchase_id");
    }
    let mut catalog = pb::catalog_service_client::CatalogServiceClient::new(mesh.channel().await);
    let status = catalog
        .create_vod(pb::CreateVodRequest {
            vod_id: "ok".into(),
            vod_name: "x".into(),
            price: Some(-1),
        })
        .await
        .expect_err("negative price");
    assert_eq!(violated_field(&status), "price");

    // Nothing was stored.
    assert_eq!(count(&rest, "/vodLists", "vods").await, vods_before);
    assert_eq!(
        count(&rest, "/vodPurchases", "purchases").await,
        purchases_before
    );
    let status = pay
        .get_payment(pb::GetPaymentRequest {
            purchase_id: "pay-1".into(),
        })
        .await
        .expect_err("no payment recorded for refused Pay calls");
    assert_eq!(status.code(), Code::NotFound);

    // The flow did not stop: a normal purchase is paid and earns its mileage.
    let (status, purchase) = post(
        format!("{rest}/vodPurchases"),
        json!({"vodId": "2", "customerId": "after"}),
    )
    .await;
    assert_eq!(
        (status, &purchase["orderStatus"]),
        (200, &json!("PAID")),
        "{purchase}"
    );
    get_until(
        format!("{rest}/mileages/after"),
        "mileage still credited",
        |m| m["points"] == 1000,
    )
    .await;
}

/// `Pay`'s idempotency key (the purchase id) answers the recorded payment only for the
/// same request; another customer, VOD, amount or free flag is ALREADY_EXISTS naming the
/// key, and the recorded payment is unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_payment_key_with_another_request_is_refused() {
    let sandbox = Sandbox::sqlite("vod-pay-key");
    let mesh = sandbox.serve("vod.payment").await;
    let mut pay = payments(mesh.channel().await);
    let original = pb::PayRequest {
        purchase_id: "key-1".into(),
        customer_id: "victim".into(),
        vod_id: "2".into(),
        amount: 1500,
        free_vod: false,
    };
    let first = pay.pay(original.clone()).await.unwrap().into_inner();
    assert_eq!(first.pay_status, "APPROVED");
    let variants = [
        pb::PayRequest {
            customer_id: "attacker".into(),
            ..original.clone()
        },
        pb::PayRequest {
            vod_id: "1".into(),
            ..original.clone()
        },
        pb::PayRequest {
            amount: 1,
            ..original.clone()
        },
        pb::PayRequest {
            amount: 0,
            free_vod: true,
            ..original.clone()
        },
    ];
    for variant in variants {
        let status = pay.pay(variant.clone()).await.expect_err("another request");
        assert_eq!(
            status.code(),
            Code::AlreadyExists,
            "{variant:?}: {status:?}"
        );
        assert!(
            status.message().contains("purchase_id"),
            "names the key: {status:?}"
        );
    }
    let again = pay.pay(original.clone()).await.unwrap().into_inner();
    assert_eq!(
        again, first,
        "the same request answers the recorded payment"
    );
    let recorded = pay
        .get_payment(pb::GetPaymentRequest {
            purchase_id: "key-1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(recorded, first);
}

/// A free-VOD payment for a customer without a credit (only an internal caller could send
/// one) never drives the credit balance below zero.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_vod_credits_never_go_negative() {
    let sandbox = Sandbox::sqlite("vod-credits");
    let mesh = sandbox.serve("vod").await;
    let mut pay = payments(mesh.channel().await);
    let free = pb::PayRequest {
        purchase_id: "free-1".into(),
        customer_id: "broke".into(),
        vod_id: "2".into(),
        amount: 0,
        free_vod: true,
    };
    pay.pay(free).await.unwrap();
    // A later paid purchase marks the end: mileage applies payment's events in order.
    assert_eq!(buy(&mesh, "2", "broke").await.unwrap().order_status, "PAID");
    // The free VOD without a credit is owed as 5000 points (a debt), never a negative credit.
    let mileage = eventually("the paid purchase credited", WAIT, || async {
        crate::harness::mileage_of(&mesh, "broke")
            .await
            .filter(|m| m.points == -4000)
    })
    .await;
    assert_eq!(mileage.free_vod_credits, 0, "never negative: {mileage:?}");
}

/// A marker customer earns a free VOD and spends it: once it is spendable, every credit
/// event mileage raised before it has reached purchase (one relay, one ordered consumer).
async fn marker_free_vod(rest: &str) {
    let named = json!({"vodId": "2", "customerId": "marker"});
    for _ in 0..5 {
        post(format!("{rest}/vodPurchases"), named.clone()).await;
    }
    eventually("marker's free VOD", WAIT, || {
        let (url, named) = (format!("{rest}/vodPurchases"), named.clone());
        async move {
            let (status, p) = post(url, named).await;
            assert_eq!(status, 200, "{p}");
            (p["freeVod"] == true).then_some(())
        }
    })
    .await;
}

/// Free VODs cannot be minted: five 1-won purchases earn 5 points, not a credit; five
/// purchases cancelled take back the credit they earned, so the next purchase is paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credits_are_earned_by_money_paid_and_taken_back_by_cancellations() {
    let sandbox = Sandbox::sqlite("vod-minting");
    let mesh = sandbox.up().await;
    let rest = mesh.rest();
    let (status, vod) = post(
        format!("{rest}/vodLists"),
        json!({"vodId": "cheap1", "vodName": "Cheap", "price": 1}),
    )
    .await;
    assert_eq!(status, 200, "{vod}");
    let cheap = json!({"vodId": "cheap1", "customerId": "penny"});
    for _ in 0..5 {
        let (status, p) = post(format!("{rest}/vodPurchases"), cheap.clone()).await;
        assert_eq!((status, &p["amount"]), (200, &json!(1)), "{p}");
    }
    get_until(
        format!("{rest}/mileages/penny"),
        "5 points for 5 won",
        |m| m["points"] == 5,
    )
    .await;
    let (_, mileage) = get(format!("{rest}/mileages/penny")).await;
    assert_eq!(mileage["freeVodCredits"], 0, "{mileage}");

    let buy = json!({"vodId": "2", "customerId": "undo"});
    let mut ids = Vec::new();
    for _ in 0..5 {
        let (status, p) = post(format!("{rest}/vodPurchases"), buy.clone()).await;
        assert_eq!(status, 200, "{p}");
        ids.push(p["purchaseId"].as_str().unwrap().to_owned());
    }
    get_until(format!("{rest}/mileages/undo"), "a credit for undo", |m| {
        m["points"] == 0 && m["freeVodCredits"] == 1
    })
    .await;
    let cancel = json!({"orderStatus": "cancel"});
    for id in &ids {
        let (status, c) = patch(format!("{rest}/vodPurchases/{id}"), cancel.clone()).await;
        assert_eq!(
            (status, &c["orderStatus"]),
            (200, &json!("CANCELLED")),
            "{c}"
        );
    }
    get_until(format!("{rest}/mileages/undo"), "all taken back", |m| {
        m["points"] == 0 && m["freeVodCredits"] == 0
    })
    .await;
    // The revocation reached purchase before the marker's credit.
    marker_free_vod(&rest).await;
    let (status, next) = post(format!("{rest}/vodPurchases"), buy).await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(
        (&next["freeVod"], &next["amount"]),
        (&json!(false), &json!(1500)),
        "the cancelled purchases left no credit: {next}"
    );
}

/// A retry under a client-chosen id answers the purchase (AIP-155); another request under
/// it is a 409 naming `purchase_id`; buying an unknown VOD is a 404 naming `vod_id`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_answer_the_purchase_and_errors_name_their_field() {
    let sandbox = Sandbox::sqlite("vod-retry");
    let mesh = sandbox.up().await;
    let rest = mesh.rest();
    let buy = json!({"purchaseId": "k1", "vodId": "2", "customerId": "kim"});
    let (status, first) = post(format!("{rest}/vodPurchases"), buy.clone()).await;
    assert_eq!(
        (status, &first["orderStatus"]),
        (200, &json!("PAID")),
        "{first}"
    );
    let (status, again) = post(format!("{rest}/vodPurchases"), buy).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, first, "the retry answers the purchase as it is");
    let other = json!({"purchaseId": "k1", "vodId": "1", "customerId": "kim"});
    let (status, taken) = post(format!("{rest}/vodPurchases"), other).await;
    assert_eq!(status, 409, "{taken}");
    assert_eq!(
        taken["message"],
        "purchase_id: purchase \"k1\" already exists"
    );
    let unknown = json!({"vodId": "99", "customerId": "kim"});
    let (status, missing) = post(format!("{rest}/vodPurchases"), unknown).await;
    assert_eq!(status, 404, "{missing}");
    assert_eq!(missing["message"], "vod_id: vod \"99\" not found");
    let (status, absent) = get(format!("{rest}/vodPurchases/zz")).await;
    assert_eq!(
        (status, &absent["message"]),
        (404, &json!("purchase \"zz\" not found"))
    );
}

/// Purchases without a customer earn no mileage and spend no credit: five of them used to
/// make a free VOD for whoever bought anonymously next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_purchases_share_no_account() {
    let sandbox = Sandbox::sqlite("vod-anonymous");
    let mesh = sandbox.up().await;
    let rest = mesh.rest();
    let anonymous = json!({"vodId": "2"});
    for _ in 0..5 {
        let (status, p) = post(format!("{rest}/vodPurchases"), anonymous.clone()).await;
        assert_eq!(status, 200, "{p}");
    }
    marker_free_vod(&rest).await;
    let (status, sixth) = post(format!("{rest}/vodPurchases"), anonymous).await;
    assert_eq!(status, 200, "{sixth}");
    assert_eq!(
        (&sixth["freeVod"], &sixth["amount"]),
        (&json!(false), &json!(1500)),
        "no shared credit: {sixth}"
    );
    assert_eq!(sixth["customerId"], "", "no customer stands in: {sixth}");
    for shared in ["guest", "anonymous"] {
        let (status, body) = get(format!("{rest}/mileages/{shared}")).await;
        assert_eq!(status, 404, "no shared account {shared}: {body}");
    }
}

/// A reversal (PaymentCancelled) delivered before its credit (PaymentApproved) leaves a
/// marker: the late credit is skipped, for points and for a free-VOD credit alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reversal_before_its_credit_wins() {
    let sandbox = Sandbox::sqlite("vod-reorder");
    let mileage = sandbox.serve("vod.mileage").await;
    let js = jetstream_of(&sandbox).await;
    let approved = |purchase: &str, amount: i32, free_vod: bool| pb::PaymentApproved {
        purchase_id: purchase.into(),
        customer_id: "r".into(),
        amount,
        free_vod,
    };
    let cancelled = |purchase: &str, amount: i32, free_vod: bool| pb::PaymentCancelled {
        purchase_id: purchase.into(),
        customer_id: "r".into(),
        amount,
        free_vod,
    };
    const APPROVED: &str = "vod.payment.PaymentApproved";
    const CANCELLED: &str = "vod.payment.PaymentCancelled";
    // Five paid purchases: one free-VOD credit, 0 points.
    for n in 0..5 {
        let id = format!("paid-{n}");
        publish(
            &js,
            APPROVED,
            &format!("{id}-a"),
            &approved(&id, 1000, false),
        )
        .await;
    }
    // Reordered: each reversal arrives before its credit.
    publish(&js, CANCELLED, "x-c", &cancelled("x", 1000, false)).await;
    publish(&js, APPROVED, "x-a", &approved("x", 1000, false)).await;
    publish(&js, CANCELLED, "free-c", &cancelled("free", 0, true)).await;
    publish(&js, APPROVED, "free-a", &approved("free", 0, true)).await;
    // The same credit again under another event id: credited once.
    publish(
        &js,
        APPROVED,
        "paid-0-again",
        &approved("paid-0", 1000, false),
    )
    .await;
    // Another customer's purchase marks the end: one replica applies events in order.
    let end = pb::PaymentApproved {
        customer_id: "end".into(),
        ..approved("end", 1000, false)
    };
    publish(&js, APPROVED, "end-a", &end).await;
    eventually("the marker credited", WAIT, || async {
        crate::harness::mileage_of(&mileage, "end").await
    })
    .await;
    let m = crate::harness::mileage_of(&mileage, "r").await.unwrap();
    assert_eq!(
        (m.points, m.free_vod_credits),
        (0, 1),
        "reversed purchases earn nothing and spend nothing: {m:?}"
    );
}

/// A VOD registered and bought at once is purchasable: on a replica miss, purchase asks
/// the catalog.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vod_is_purchasable_the_moment_it_is_registered() {
    let sandbox = Sandbox::sqlite("vod-fresh");
    let mesh = sandbox.up().await;
    let rest = mesh.rest();
    for n in 0..40 {
        let vod = format!("fresh-{n}");
        let (status, body) = post(
            format!("{rest}/vodLists"),
            json!({"vodId": vod, "vodName": format!("Fresh {n}"), "price": 700}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, p) = post(
            format!("{rest}/vodPurchases"),
            json!({"vodId": vod, "customerId": format!("eager-{n}")}),
        )
        .await;
        assert_eq!(status, 200, "purchase {n} right after registration: {p}");
        assert_eq!(
            (&p["orderStatus"], &p["amount"]),
            (&json!("PAID"), &json!(700))
        );
    }
    let (status, _) = post(format!("{rest}/vodPurchases"), json!({"vodId": "never"})).await;
    assert_eq!(status, 404, "absent from the catalog too");
}

/// The catalog unreachable on a replica miss: UNAVAILABLE with RetryInfo (come back later),
/// never a wrong 404; titles in the replica still sell; the catalog back, absent is 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_down_on_a_replica_miss_is_unavailable() {
    let sandbox = Sandbox::sqlite("vod-catalog-down");
    let catalog_port = free_port();
    let mut catalog = sandbox
        .serve_with(catalog_port, "vod.catalog", &[], &[])
        .await;
    let peer = format!("vod.catalog=http://127.0.0.1:{catalog_port}");
    let shop = sandbox
        .serve_with(
            free_port(),
            "vod.purchase,vod.payment",
            &["--peer", &peer],
            &[],
        )
        .await;
    let status = buy(&shop, "unknown", "lee").await.expect_err("absent");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");

    catalog.proc.kill9();
    let status = buy(&shop, "unknown", "lee")
        .await
        .expect_err("catalog down");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.get_details_retry_info().is_some(), "{status:?}");
    assert_eq!(buy(&shop, "1", "lee").await.unwrap().order_status, "PAID");

    let catalog: Mesh = sandbox
        .serve_with(catalog_port, "vod.catalog", &[], &[])
        .await;
    let mut client = pb::catalog_service_client::CatalogServiceClient::new(catalog.channel().await);
    client
        .create_vod(pb::CreateVodRequest {
            vod_id: "back".into(),
            vod_name: "Back".into(),
            price: Some(900),
        })
        .await
        .unwrap();
    eventually("purchases heal", Duration::from_secs(15), || async {
        buy(&shop, "back", "lee").await.ok()
    })
    .await;
    let status = buy(&shop, "unknown", "lee").await.expect_err("absent");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}
