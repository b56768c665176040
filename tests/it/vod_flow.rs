//! The seed's VOD flow over REST through Envoy, on SQLite and on PostgreSQL: list, register,
//! purchase (sync payment), mileage, the free VOD, the cancel saga, and the rejects.

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
                "{rest}/vodPurchases?pageSize=1000&customerId={customer}"
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

async fn seed_flow(sandbox: Sandbox) {
    let mesh = sandbox.up().await;
    let rest = mesh.rest();

    // 1. The VOD list has the seed's two titles.
    let (status, list) = get(format!("{rest}/vodLists")).await;
    assert_eq!(status, 200, "{list}");
    let names: Vec<&str> = list["vods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["vodName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alive!", "ToBusan"]);

    // 2. Registering a VOD (the seed's `http :8081/vodLists vodId=3 vodName="GoGo"`).
    let (status, gogo) = post(
        format!("{rest}/vodLists"),
        json!({"vodId": "3", "vodName": "GoGo"}),
    )
    .await;
    assert_eq!(
        (status, gogo["vodId"].as_str(), gogo["price"].as_i64()),
        (200, Some("3"), Some(1000)),
        "{gogo}"
    );
    let (status, dup) = post(
        format!("{rest}/vodLists"),
        json!({"vodId": "3", "vodName": "GoGo"}),
    )
    .await;
    assert_eq!(status, 409, "{dup}");

    // 3. Purchase: synchronous payment, PAID, the VOD's price charged.
    let buy = json!({"vodId": "2", "vodName": "ToBusan", "customerId": "kim"});
    let (status, purchase) = post(format!("{rest}/vodPurchases"), buy.clone()).await;
    assert_eq!(status, 200, "{purchase}");
    assert_eq!(
        (
            purchase["orderStatus"].as_str(),
            purchase["amount"].as_i64()
        ),
        (Some("PAID"), Some(1500))
    );
    let id = purchase["purchaseId"].as_str().unwrap().to_owned();
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

    // The registered VOD reaches purchase's replica by event, then is purchasable.
    eventually("GoGo purchasable", WAIT, || {
        let url = format!("{rest}/vodPurchases");
        async move {
            (post(url, json!({"vodId": "3", "customerId": "park"}))
                .await
                .0
                == 200)
                .then_some(())
        }
    })
    .await;

    // 4. Five paid purchases make 5000 points: deducted, one free-VOD credit issued.
    for _ in 0..4 {
        let (status, body) = post(format!("{rest}/vodPurchases"), buy.clone()).await;
        assert_eq!(status, 200, "{body}");
    }
    get_until(format!("{rest}/mileages/kim"), "a free VOD for kim", |m| {
        m["points"] == 0 && m["freeVodCredits"] == 1
    })
    .await;
    // The credit reaches purchase by event; the next purchase is free, and only that one.
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
    let (_, after) = post(format!("{rest}/vodPurchases"), buy.clone()).await;
    assert_eq!(
        after["amount"], 1500,
        "the credit is consumed once: {after}"
    );
    let before = balanced(&rest, "kim").await;
    assert_eq!(before["freeVodCredits"], 0, "{before}");

    // 5. Cancel (the seed's `http PATCH :8082/vodPurchases/6 orderStatus=cancel`): the saga
    //    cancels the payment and takes the purchase's 1000 points back. Repeating it is not
    //    an error.
    let (status, cancelled) = patch(
        format!("{rest}/vodPurchases/{id}"),
        json!({"orderStatus": "cancel"}),
    )
    .await;
    assert_eq!(
        (status, cancelled["orderStatus"].as_str()),
        (200, Some("CANCELLED")),
        "{cancelled}"
    );
    get_until(format!("{rest}/payments/{id}"), "payment cancelled", |p| {
        p["payStatus"] == "CANCELLED"
    })
    .await;
    let points = before["points"].as_i64().unwrap();
    get_until(format!("{rest}/mileages/kim"), "mileage reversed", |m| {
        m["points"] == points - 1000
    })
    .await;
    balanced(&rest, "kim").await;
    let (status, again) = patch(
        format!("{rest}/vodPurchases/{id}"),
        json!({"orderStatus": "cancel"}),
    )
    .await;
    assert_eq!(
        (status, again["orderStatus"].as_str()),
        (200, Some("CANCELLED")),
        "{again}"
    );

    // Paging and the customer on every item.
    let (status, page) = get(format!("{rest}/vodPurchases?pageSize=2")).await;
    assert_eq!(status, 200);
    assert_eq!(page["purchases"].as_array().unwrap().len(), 2);
    assert!(
        page["purchases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["customerId"].is_string())
    );
    let token = page["nextPageToken"].as_str().unwrap();
    assert!(!token.is_empty());
    let (status, next) = get(format!("{rest}/vodPurchases?pageSize=2&pageToken={token}")).await;
    assert_eq!(status, 200);
    assert_ne!(
        next["purchases"][0]["purchaseId"],
        page["purchases"][0]["purchaseId"]
    );

    // The seed's load test speaks HTTP/1.0 (siege): Envoy accepts it.
    let http10 = http10_post(
        mesh.rest_port.unwrap(),
        "/vodPurchases",
        r#"{"vodId":"2","vodName":"ToBusan"}"#,
    );
    assert!(
        http10.starts_with("HTTP/1.0 200") || http10.starts_with("HTTP/1.1 200"),
        "{http10}"
    );
    assert!(http10.contains("\"orderStatus\":\"PAID\""), "{http10}");

    // 6. Rejects: 4xx with the field named, never a 5xx, nothing recorded.
    let before = get(format!("{rest}/vodPurchases?pageSize=1000")).await.1["purchases"]
        .as_array()
        .unwrap()
        .len();
    let (status, body) = post(format!("{rest}/vodPurchases"), json!({"vodId": "99"})).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = post(format!("{rest}/vodPurchases"), json!({"vodName": "no id"})).await;
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
    let after = get(format!("{rest}/vodPurchases?pageSize=1000")).await.1["purchases"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "rejected requests recorded nothing");
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
