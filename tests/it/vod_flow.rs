//! The seed's VOD flow over REST through Envoy, on SQLite and on PostgreSQL, as named
//! scenarios on one mesh per backend: list and register, purchase (sync payment) and
//! mileage, the free VOD, the cancel saga, paging, HTTP/1.0, and the rejects.

use futures::future::BoxFuture;
use serde_json::{Value, json};

use crate::harness::rest::{WAIT, get, get_until, patch, post};
use crate::harness::{Sandbox, eventually};

/// A raw HTTP/1.0 POST, as siege sends it.
fn http10_post(port: u16, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let request = format!(
        "POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// Waits until the customer's mileage accounts for every paid purchase exactly once (1000
/// points each; 5000 points per free-VOD credit, unused or spent); returns the mileage.
async fn balanced(rest: &str, customer: &str) -> Value {
    let rest = rest.to_owned();
    eventually(&format!("{customer}'s mileage balanced"), WAIT, || {
        let rest = rest.clone();
        async move {
            let (_, list) = get(format!(
                "{rest}/vodPurchases?pageSize=100&customerId={customer}"
            ))
            .await;
            let (status, mileage) = get(format!("{rest}/mileages/{customer}")).await;
            let paid: Vec<&Value> = list["purchases"]
                .as_array()?
                .iter()
                .filter(|p| p["orderStatus"] == "PAID")
                .collect();
            let earned = 1000 * paid.iter().filter(|p| p["freeVod"] == false).count() as i64;
            let spent = paid.iter().filter(|p| p["freeVod"] == true).count() as i64;
            let points = mileage["points"].as_i64()?;
            let unused = mileage["freeVodCredits"].as_i64()?;
            (status == 200 && earned == points + 5000 * (unused + spent)).then_some(mileage)
        }
    })
    .await
}

/// What every scenario is given: the REST base URL and port of one mesh. Scenarios share
/// the mesh (one start per backend keeps the suite fast) and nothing else: each has its own
/// customers and purchases, so they run at once and one failing hides none of the others.
#[derive(Clone)]
struct World {
    rest: String,
    rest_port: u16,
}

type Scenario = fn(World) -> BoxFuture<'static, ()>;

/// The seed's flow as named scenarios.
const SCENARIOS: &[(&str, Scenario)] = &[
    ("catalog lists and registers titles", |w| {
        Box::pin(catalog_lists_and_registers(w))
    }),
    ("a purchase is paid and earns mileage", |w| {
        Box::pin(a_purchase_is_paid_and_earns_mileage(w))
    }),
    ("five purchases make a free vod", |w| {
        Box::pin(five_purchases_make_a_free_vod(w))
    }),
    ("cancelling compensates payment and mileage", |w| {
        Box::pin(cancelling_compensates_payment_and_mileage(w))
    }),
    ("purchases are paged", |w| Box::pin(purchases_are_paged(w))),
    ("siege speaks http 1.0", |w| {
        Box::pin(siege_speaks_http10(w))
    }),
    ("rejects are 4xx and record nothing", |w| {
        Box::pin(rejects_are_4xx_and_record_nothing(w))
    }),
];

/// Runs every scenario on one mesh, at once; fails naming each scenario that failed (its
/// panic is printed above).
async fn seed_flow(sandbox: Sandbox) {
    let mesh = sandbox.up().await;
    let world = World {
        rest: mesh.rest(),
        rest_port: mesh.rest_port.unwrap(),
    };
    let running: Vec<_> = SCENARIOS
        .iter()
        .map(|(name, scenario)| (*name, tokio::spawn(scenario(world.clone()))))
        .collect();
    let mut failed = Vec::new();
    for (name, task) in running {
        if task.await.is_err() {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "scenarios failed: {failed:?}");
}

/// The VOD list has the seed's two titles; registering one (the seed's `http
/// :8081/vodLists vodId=3 vodName="GoGo"`) raises an event that makes it purchasable.
async fn catalog_lists_and_registers(World { rest, .. }: World) {
    let (status, list) = get(format!("{rest}/vodLists")).await;
    assert_eq!(status, 200, "{list}");
    let names: Vec<&str> = list["vods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["vodName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alive!", "ToBusan"]);
    let gogo = json!({"vodId": "3", "vodName": "GoGo"});
    let (status, vod) = post(format!("{rest}/vodLists"), gogo.clone()).await;
    assert_eq!(
        (status, vod["vodId"].as_str(), vod["price"].as_i64()),
        (200, Some("3"), Some(1000)),
        "{vod}"
    );
    let (status, dup) = post(format!("{rest}/vodLists"), gogo).await;
    assert_eq!(status, 409, "{dup}");
    let bought = eventually("GoGo purchasable", WAIT, || {
        let url = format!("{rest}/vodPurchases");
        async move {
            let (status, p) = post(url, json!({"vodId": "3", "customerId": "park"})).await;
            (status == 200).then_some(p)
        }
    })
    .await;
    assert_eq!(
        (bought["vodName"].as_str(), bought["amount"].as_i64()),
        (Some("GoGo"), Some(1000))
    );
}

/// Purchase: synchronous payment, PAID, the VOD's price charged, 1000 points.
async fn a_purchase_is_paid_and_earns_mileage(World { rest, .. }: World) {
    let buy = json!({"vodId": "2", "vodName": "ToBusan", "customerId": "kim"});
    let (status, purchase) = post(format!("{rest}/vodPurchases"), buy).await;
    assert_eq!(status, 200, "{purchase}");
    assert_eq!(
        (
            purchase["orderStatus"].as_str(),
            purchase["amount"].as_i64()
        ),
        (Some("PAID"), Some(1500))
    );
    let id = purchase["purchaseId"].as_str().unwrap();
    let (status, payment) = get(format!("{rest}/payments/{id}")).await;
    assert_eq!(
        (status, payment["payStatus"].as_str()),
        (200, Some("APPROVED")),
        "{payment}"
    );
    get_until(format!("{rest}/mileages/kim"), "1000 points for kim", |m| {
        m["points"] == 1000
    })
    .await;
}

/// Five paid purchases make 5000 points: deducted, one free-VOD credit issued; the credit
/// reaches purchase by event and pays for the next purchase, and only that one.
async fn five_purchases_make_a_free_vod(World { rest, .. }: World) {
    let buy = json!({"vodId": "2", "vodName": "ToBusan", "customerId": "lee"});
    for _ in 0..5 {
        let (status, body) = post(format!("{rest}/vodPurchases"), buy.clone()).await;
        assert_eq!(status, 200, "{body}");
    }
    get_until(format!("{rest}/mileages/lee"), "a free VOD for lee", |m| {
        m["points"] == 0 && m["freeVodCredits"] == 1
    })
    .await;
    let free = eventually("a free purchase", WAIT, || {
        let url = format!("{rest}/vodPurchases");
        let buy = buy.clone();
        async move {
            let (status, p) = post(url, buy).await;
            assert_eq!(status, 200, "{p}");
            (p["amount"] == 0).then_some(p)
        }
    })
    .await;
    assert_eq!(free["freeVod"], true);
    let (_, after) = post(format!("{rest}/vodPurchases"), buy).await;
    assert_eq!(
        after["amount"], 1500,
        "the credit is consumed once: {after}"
    );
    let balance = balanced(&rest, "lee").await;
    assert_eq!(balance["freeVodCredits"], 0, "{balance}");
}

/// Cancel (the seed's `http PATCH :8082/vodPurchases/6 orderStatus=cancel`): the saga
/// cancels the payment and takes the purchase's 1000 points back. Repeating it is not an
/// error.
async fn cancelling_compensates_payment_and_mileage(World { rest, .. }: World) {
    let buy = json!({"vodId": "1", "customerId": "choi"});
    let (status, purchase) = post(format!("{rest}/vodPurchases"), buy).await;
    assert_eq!(status, 200, "{purchase}");
    let id = purchase["purchaseId"].as_str().unwrap();
    get_until(
        format!("{rest}/mileages/choi"),
        "1000 points for choi",
        |m| m["points"] == 1000,
    )
    .await;
    let cancel = json!({"orderStatus": "cancel"});
    let (status, cancelled) = patch(format!("{rest}/vodPurchases/{id}"), cancel.clone()).await;
    assert_eq!(
        (status, cancelled["orderStatus"].as_str()),
        (200, Some("CANCELLED")),
        "{cancelled}"
    );
    get_until(format!("{rest}/payments/{id}"), "payment cancelled", |p| {
        p["payStatus"] == "CANCELLED"
    })
    .await;
    get_until(format!("{rest}/mileages/choi"), "mileage reversed", |m| {
        m["points"] == 0
    })
    .await;
    balanced(&rest, "choi").await;
    let (status, again) = patch(format!("{rest}/vodPurchases/{id}"), cancel).await;
    assert_eq!(
        (status, again["orderStatus"].as_str()),
        (200, Some("CANCELLED")),
        "{again}"
    );
}

/// Pages of purchases, with the customer on every item.
async fn purchases_are_paged(World { rest, .. }: World) {
    for vod in ["1", "2", "1"] {
        let (status, body) = post(
            format!("{rest}/vodPurchases"),
            json!({"vodId": vod, "customerId": "han"}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, page) = get(format!("{rest}/vodPurchases?pageSize=2&customerId=han")).await;
    assert_eq!(status, 200);
    let items = page["purchases"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|p| p["customerId"] == "han"));
    let token = page["nextPageToken"].as_str().unwrap();
    assert!(!token.is_empty());
    let (status, next) = get(format!(
        "{rest}/vodPurchases?pageSize=2&customerId=han&pageToken={token}"
    ))
    .await;
    assert_eq!(status, 200);
    let rest_of = next["purchases"].as_array().unwrap();
    assert_eq!(rest_of.len(), 1);
    assert_ne!(rest_of[0]["purchaseId"], items[0]["purchaseId"]);
    assert_ne!(rest_of[0]["purchaseId"], items[1]["purchaseId"]);
    assert_eq!(next["nextPageToken"].as_str().unwrap_or_default(), "");
    // Unfiltered pages carry a customer field on every item too.
    let (status, all) = get(format!("{rest}/vodPurchases?pageSize=2")).await;
    assert_eq!(status, 200);
    assert!(
        all["purchases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["customerId"].is_string())
    );
}

/// The seed's load test speaks HTTP/1.0 (siege): Envoy accepts it.
async fn siege_speaks_http10(World { rest_port, .. }: World) {
    let http10 = tokio::task::spawn_blocking(move || {
        http10_post(
            rest_port,
            "/vodPurchases",
            r#"{"vodId":"2","vodName":"ToBusan"}"#,
        )
    })
    .await
    .unwrap();
    assert!(
        http10.starts_with("HTTP/1.0 200") || http10.starts_with("HTTP/1.1 200"),
        "{http10}"
    );
    assert!(http10.contains("\"orderStatus\":\"PAID\""), "{http10}");
}

/// Rejects: 4xx with the field named, never a 5xx, nothing recorded.
async fn rejects_are_4xx_and_record_nothing(World { rest, .. }: World) {
    let (status, target) = post(
        format!("{rest}/vodPurchases"),
        json!({"vodId": "1", "customerId": "jung"}),
    )
    .await;
    assert_eq!(status, 200, "{target}");
    let id = target["purchaseId"].as_str().unwrap();
    let rejected = "rejected";
    let (status, body) = post(
        format!("{rest}/vodPurchases"),
        json!({"vodId": "99", "customerId": rejected}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = post(
        format!("{rest}/vodPurchases"),
        json!({"vodName": "no id", "customerId": rejected}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["details"][0]["fieldViolations"][0]["field"], "vod_id",
        "{body}"
    );
    let (status, body) = post(
        format!("{rest}/vodPurchases"),
        json!({"vodId": "1", "customerId": "a/b"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["details"][0]["fieldViolations"][0]["field"], "customer_id",
        "{body}"
    );
    let malformed = reqwest::Client::new()
        .post(format!("{rest}/vodPurchases"))
        .header("content-type", "application/json")
        .body("{\"vodId\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status().as_u16(), 400);
    let (status, body) = patch(
        format!("{rest}/vodPurchases/{id}"),
        json!({"orderStatus": "paid"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["details"][0]["fieldViolations"][0]["field"], "order_status",
        "{body}"
    );
    let (status, _) = patch(
        format!("{rest}/vodPurchases/nope"),
        json!({"orderStatus": "cancel"}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = get(format!("{rest}/payments/nope")).await;
    assert_eq!(status, 404);
    let (status, _) = get(format!("{rest}/mileages/nobody")).await;
    assert_eq!(status, 404);
    let (status, body) = post(format!("{rest}/vodLists"), json!({"vodName": " "})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post(
        format!("{rest}/vodLists"),
        json!({"vodName": "x", "price": -1}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["details"][0]["fieldViolations"][0]["field"], "price",
        "{body}"
    );
    let (status, _) = get(format!("{rest}/vodPurchases?pageSize=-1")).await;
    assert_eq!(status, 400);
    let (status, _) = get(format!("{rest}/noSuchResource")).await;
    assert_eq!(status, 404);
    let (_, recorded) = get(format!("{rest}/vodPurchases?customerId={rejected}")).await;
    assert_eq!(
        recorded["purchases"].as_array().map_or(0, Vec::len),
        0,
        "rejected requests recorded nothing: {recorded}"
    );
    let (_, target) = get(format!("{rest}/vodPurchases/{id}")).await;
    assert_eq!(
        target["orderStatus"], "PAID",
        "a refused patch changed nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_flow_over_rest_on_sqlite() {
    seed_flow(Sandbox::sqlite("flow-sqlite")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_flow_over_rest_on_postgres() {
    seed_flow(Sandbox::postgres("flow-pg")).await;
}

/// Generic gRPC clients work: grpcurl lists every service by reflection and each reports
/// SERVING over grpc.health.v1; gRPC also passes through Envoy's REST port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_and_health_for_generic_clients() {
    let sandbox = Sandbox::sqlite("reflection");
    let mesh = sandbox.up().await;
    let grpcurl = crate::harness::tool("grpcurl");
    let addr = format!("127.0.0.1:{}", mesh.grpc_port);
    let out = std::process::Command::new(&grpcurl)
        .args(["-plaintext", &addr, "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    let services = [
        "mediamesh.vod.v1.CatalogService",
        "mediamesh.vod.v1.PurchaseService",
        "mediamesh.vod.v1.PaymentService",
        "mediamesh.vod.v1.MileageService",
    ];
    for service in services {
        assert!(
            listed.lines().any(|l| l == service),
            "{service} not listed by reflection: {listed}"
        );
        let out = std::process::Command::new(&grpcurl)
            .args([
                "-plaintext",
                "-d",
                &format!("{{\"service\":\"{service}\"}}"),
                &addr,
                "grpc.health.v1.Health/Check",
            ])
            .output()
            .unwrap();
        let health = String::from_utf8_lossy(&out.stdout);
        assert!(health.contains("SERVING"), "{service}: {health}");
    }
    let out = std::process::Command::new(&grpcurl)
        .args([
            "-plaintext",
            "-d",
            "{}",
            &addr,
            "describe",
            "mediamesh.vod.v1.PurchaseService.CreatePurchase",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("rpc CreatePurchase"));
    // gRPC through the REST port (Envoy passes gRPC through).
    let rest_addr = format!("127.0.0.1:{}", mesh.rest_port.unwrap());
    let out = std::process::Command::new(&grpcurl)
        .args([
            "-plaintext",
            "-import-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/proto"),
        ])
        .args([
            "-proto",
            "mediamesh/vod/v1/catalog.proto",
            "-d",
            "{}",
            &rest_addr,
        ])
        .arg("mediamesh.vod.v1.CatalogService/ListVods")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ToBusan"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
