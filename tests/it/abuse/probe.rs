//! After each batch: the three flows still complete end to end through the gateway (their
//! events still flow), every list still answers, and health tells the truth. A probe that
//! fails becomes a violation, so one run reports everything it found.
use std::time::Duration;

use serde_json::json;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use mediamesh_mesh::storage::page::MAX_PAGE_SIZE;

use super::contracts::Rpc;
use crate::harness::rest::{get, get_until, post};
use crate::harness::{Mesh, eventually};

/// Longest a probe's flow may take.
const FLOW: Duration = Duration::from_secs(30);

/// Runs every probe at once; the violations they found, each prefixed with `when`.
pub async fn all(mesh: &Mesh, rpcs: &[Rpc], when: &str, n: usize) -> Vec<String> {
    let (vod, cinema, music) = (mesh.rest(), mesh.cinema(), mesh.music());
    let lists: Vec<(String, String)> = rpcs
        .iter()
        .filter_map(|r| {
            let http = r.http.as_ref()?;
            let port = match r.app.as_str() {
                "vod" => &vod,
                "cinema" => &cinema,
                _ => &music,
            };
            // A full page: the largest rows of the batch must fit it.
            (http.verb == reqwest::Method::GET && !http.template.contains('{')).then(|| {
                let url = format!("{port}{}?pageSize={MAX_PAGE_SIZE}", http.template);
                (r.app.clone(), url)
            })
        })
        .collect();
    let services: Vec<String> = rpcs
        .iter()
        .map(|r| r.path[1..].split('/').next().unwrap().to_owned())
        .collect();
    let probes = [
        ("vod", tokio::spawn(purchase(vod.clone(), n))),
        ("cinema", tokio::spawn(reservation(cinema.clone(), n))),
        ("music", tokio::spawn(upload(music.clone(), n))),
        ("lists", tokio::spawn(lists_answer(lists))),
        ("health", tokio::spawn(health(mesh.grpc_url(), services))),
    ];
    let mut violations = Vec::new();
    for (app, probe) in probes {
        if let Err(e) = probe.await {
            let why = match e.try_into_panic() {
                Ok(panic) => panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default(),
                Err(e) => e.to_string(),
            };
            violations.push(format!("[{app}] probe {when}: {why}"));
        }
    }
    violations
}

/// A purchase is PAID and its mileage credited (purchase -> payment -> mileage events).
async fn purchase(vod: String, n: usize) {
    let customer = format!("probe-{n}");
    let (status, bought) = post(
        format!("{vod}/vodPurchases"),
        json!({"vodId": "1", "customerId": customer}),
    )
    .await;
    assert_eq!(
        (status, bought["orderStatus"].as_str()),
        (200, Some("PAID")),
        "purchase: {bought}"
    );
    eventually("purchase's mileage credited", FLOW, || {
        let url = format!("{vod}/mileages/{customer}");
        async move {
            let (status, mileage) = get(url).await;
            (status == 200 && mileage["points"] == 1000).then_some(())
        }
    })
    .await;
}

/// A reservation is CONFIRMED (synchronous payment) and its confirmation message sent
/// (reservation -> message events).
async fn reservation(cinema: String, n: usize) {
    let (movie, rsv) = (format!("probe-m{n}"), format!("probe-r{n}"));
    let (status, created) = post(
        format!("{cinema}/movies"),
        json!({"movieId": movie, "title": "Probe", "seats": 10}),
    )
    .await;
    assert_eq!(status, 200, "movie: {created}");
    let reserved = eventually("reservation answered", FLOW, || {
        let url = format!("{cinema}/reservations");
        let body = json!({"rsvId": rsv, "movieId": movie, "customerId": "prober"});
        async move {
            let (status, r) = post(url, body).await;
            (status == 200).then_some(r)
        }
    })
    .await;
    assert_eq!(reserved["status"], "CONFIRMED", "reservation: {reserved}");
    get_until(
        format!("{cinema}/messages?rsvId={rsv}"),
        "confirmation message",
        |m| m["messages"][0]["kind"] == "CONFIRMED",
    )
    .await;
}

/// An upload is APPROVED (synchronous copyright) and then REGISTERED (content -> source
/// -> content events).
async fn upload(music: String, n: usize) {
    let id = format!("probe-c{n}");
    let (status, content) = post(
        format!("{music}/contents"),
        json!({"contentId": id, "creatorName": "prober", "title": "Probe", "type": "New Music",
            "description": "probe"}),
    )
    .await;
    assert_eq!(
        (status, content["status"].as_str()),
        (200, Some("APPROVED")),
        "upload: {content}"
    );
    eventually("upload REGISTERED", FLOW, || {
        let url = format!("{music}/contents/{id}");
        async move {
            let (status, content) = get(url).await;
            (status == 200 && content["status"] == "REGISTERED").then_some(())
        }
    })
    .await;
}

/// Every list route answers a full page with 200: no stored row breaks a page for everyone.
async fn lists_answer(lists: Vec<(String, String)>) {
    let mut broken = Vec::new();
    for (app, url) in lists {
        let (status, body) = get(url.clone()).await;
        if status != 200 {
            let body = super::values::clip(&body.to_string(), 160);
            broken.push(format!("{app} GET {url} -> {status} {body}"));
        }
    }
    assert!(broken.is_empty(), "lists broken: {}", broken.join("; "));
}

/// The flows work, so health must say SERVING for the server and every service.
async fn health(url: String, mut services: Vec<String>) {
    services.dedup();
    services.insert(0, String::new());
    let channel = tonic::transport::Channel::from_shared(url)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = HealthClient::new(channel);
    let mut wrong = Vec::new();
    for service in services {
        let request = HealthCheckRequest {
            service: service.clone(),
        };
        match client.check(request).await {
            Ok(r) if r.get_ref().status == 1 => {}
            Ok(r) => wrong.push(format!("{service:?}: {:?}", r.get_ref().status)),
            Err(s) => wrong.push(format!("{service:?}: {:?}", s.code())),
        }
    }
    assert!(wrong.is_empty(), "health not SERVING: {}", wrong.join(", "));
}
