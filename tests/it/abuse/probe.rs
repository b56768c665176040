//! After each batch: the five flows (a purchase, a reservation, a music upload, a video
//! upload and view, a join order) still complete end to end through the gateway (their
//! events still flow), every list still answers, and health tells the truth. A probe that
//! fails becomes a violation, so one run reports everything it found.
use std::time::Duration;

use serde_json::json;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use mediamesh_mesh::storage::page::MAX_PAGE_SIZE;

use super::base::{CLIENT, VIDEO};
use super::contracts::Rpc;
use crate::harness::rest::patch;
use crate::harness::rest::{get, get_until, post};
use crate::harness::{Mesh, eventually};

/// Longest a probe's flow may take.
const FLOW: Duration = Duration::from_secs(30);

/// Runs every probe at once; the violations they found, each prefixed with `when`.
pub async fn all(mesh: &Mesh, rpcs: &[Rpc], when: &str, n: usize) -> Vec<String> {
    let (vod, cinema, music) = (mesh.rest(), mesh.cinema(), mesh.music());
    let (video, iptv) = (mesh.video(), mesh.iptv());
    let lists: Vec<(String, String)> = rpcs
        .iter()
        .filter_map(|r| {
            let http = r.http.as_ref()?;
            let port = super::gateway(mesh, &r.app);
            // A full page: the largest rows of the batch must fit it.
            (http.verb == reqwest::Method::GET && !http.template.contains('{')).then(|| {
                let query = match r.method.as_str() {
                    // Lists scoped to what they list for, and a view that is not a page.
                    "ListComments" => format!("pageSize={MAX_PAGE_SIZE}&videoId={VIDEO}"),
                    "ListNotifications" => format!("pageSize={MAX_PAGE_SIZE}&clientId={CLIENT}"),
                    "GetChannelView" => format!("clientId={CLIENT}"),
                    _ => format!("pageSize={MAX_PAGE_SIZE}"),
                };
                (r.app.clone(), format!("{port}{}?{query}", http.template))
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
        ("video", tokio::spawn(video_upload(video, n))),
        ("iptv", tokio::spawn(join(iptv, n))),
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

/// A video uploaded into a new channel of the run's client, then viewed: the channel's
/// totalView and videoCount follow (video -> channel events).
async fn video_upload(video: String, n: usize) {
    let (channel, id) = (format!("probe-ch{n}"), format!("probe-v{n}"));
    let (status, body) = post(
        format!("{video}/channelSystems"),
        json!({"channelId": channel, "channelName": "probe", "clientId": CLIENT}),
    )
    .await;
    assert_eq!(status, 200, "channel: {body}");
    // The channel may still be on its way to the video context's copy of channels.
    let uploaded = eventually("video uploaded", FLOW, || {
        let url = format!("{video}/videoServices");
        let body = json!({"videoId": id, "clientId": CLIENT, "channelId": channel,
            "title": "probe", "viewCount": 5});
        async move {
            let (status, v) = post(url, body).await;
            (status == 200).then_some(v)
        }
    })
    .await;
    assert_eq!(uploaded["status"], "ACTIVE", "upload: {uploaded}");
    get_until(
        format!("{video}/channelSystems/{channel}"),
        "channel's totalView follows the upload",
        |c| c["totalView"] == 5 && c["videoCount"] == 1,
    )
    .await;
    let (status, viewed) = post(format!("{video}/videoServices/{id}:view"), json!({})).await;
    assert_eq!(
        (status, viewed["viewCount"].as_i64()),
        (200, Some(6)),
        "view: {viewed}"
    );
    get_until(
        format!("{video}/channelSystems/{channel}"),
        "channel's totalView follows the view",
        |c| c["totalView"] == 6,
    )
    .await;
}

/// A join order is REQUESTED, reaches the desk, is assigned an installer of its region,
/// installed (accept, complete) and completed by the desk: JOINED, on the order and in its
/// order status (order -> assignment -> installation -> order, orderstatus events).
async fn join(iptv: String, n: usize) {
    let (installer, order, region) = (
        format!("probe-i{n}"),
        format!("probe-o{n}"),
        format!("probe-{n}"),
    );
    let (status, body) = post(
        format!("{iptv}/installers"),
        json!({"installerId": installer, "name": "probe", "region": region}),
    )
    .await;
    assert_eq!(status, 200, "installer: {body}");
    let (status, body) = post(
        format!("{iptv}/joinOrders"),
        json!({"joinOrderId": order, "customerId": "prober", "customerName": "probe",
            "address": "probe", "region": region, "product": "INTERNET_TV"}),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("REQUESTED")),
        "join order: {body}"
    );
    get_until(
        format!("{iptv}/assignments/{order}"),
        "the desk sees the order",
        |b| b["status"] == "WAITING",
    )
    .await;
    let (status, body) = patch(
        format!("{iptv}/assignments/{order}"),
        json!({"installerId": installer}),
    )
    .await;
    assert_eq!(status, 200, "assign: {body}");
    get_until(
        format!("{iptv}/installations/{order}"),
        "the installer sees the installation",
        |b| b["joinOrderId"] == order.as_str(),
    )
    .await;
    for step in ["accept", "complete"] {
        let (status, body) = patch(
            format!("{iptv}/installations/{order}"),
            json!({"status": step}),
        )
        .await;
        assert_eq!(status, 200, "installation {step}: {body}");
    }
    // The desk learns of the installation by event.
    eventually("desk completes", FLOW, || {
        let url = format!("{iptv}/assignments/{order}");
        async move {
            let (status, _) = patch(url, json!({"status": "complete"})).await;
            (status == 200).then_some(())
        }
    })
    .await;
    get_until(format!("{iptv}/joinOrders/{order}"), "order JOINED", |b| {
        b["status"] == "JOINED"
    })
    .await;
    get_until(
        format!("{iptv}/orderStatuses/{order}"),
        "order status JOINED",
        |b| b["status"] == "JOINED",
    )
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
