//! Notification in process: a real SQLite store in a temporary folder, video and policy
//! events delivered as the consumer would (replayed, raised twice), and the webhook sent to
//! a local HTTP receiver that fails its first calls.
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mediamesh_mesh::Handler;
use mediamesh_mesh::testkit::{TestStore, delivered};
use mediamesh_proto::video::v1 as pb;
use pb::notification_service_server::NotificationService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::{Code, Request};

use crate::grpc::NotificationApi;
use crate::webhook::{self, Webhook};

fn uploaded(video: &str, version: i64) -> mediamesh_mesh::Delivered {
    let event = pb::VideoUploaded {
        video_id: video.into(),
        client_id: "c1".into(),
        channel_id: "ch1".into(),
        title: "cooking".into(),
        view_count: 0,
        upload_time: String::new(),
    };
    delivered("video.video", &event, video, version)
}

fn removed(video: &str, version: i64) -> mediamesh_mesh::Delivered {
    let event = pb::VideoRemovedByPolicy {
        video_id: video.into(),
        client_id: "c1".into(),
        channel_id: "ch1".into(),
        reason: "policy 1 deleted".into(),
    };
    delivered("video.video", &event, video, version)
}

fn decided(request: &str) -> mediamesh_mesh::Delivered {
    let event = pb::RefundDecided {
        refund_request_id: request.into(),
        client_id: "c1".into(),
        status: "APPROVED".into(),
        total_view: 10,
        refund_policy: 5,
    };
    delivered("video.policy", &event, request, 2)
}

async fn listed(api: &NotificationApi, client: &str) -> Vec<(String, String)> {
    let request = Request::new(pb::ListNotificationsRequest {
        client_id: client.into(),
        ..Default::default()
    });
    let list = api.list_notifications(request).await.unwrap().into_inner();
    list.notifications
        .into_iter()
        .map(|n| (n.kind, n.subject_id))
        .collect()
}

#[tokio::test]
async fn one_notification_per_change_however_often_it_is_delivered() {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let policies = crate::policies(false);
    let api = NotificationApi::new(test.store.clone());
    let upload = uploaded("v1", 1);
    // Redelivered, raised again under another event id, then the takedown and a refund.
    for event in [
        &upload,
        &upload,
        &uploaded("v1", 1),
        &removed("v1", 2),
        &decided("r1"),
        &decided("r1"),
    ] {
        test.deliver(&policies, event).await.unwrap();
    }
    assert_eq!(
        listed(&api, "c1").await,
        [
            ("VIDEO_UPLOADED".to_string(), "v1".to_string()),
            ("VIDEO_REMOVED_BY_POLICY".to_string(), "v1".to_string()),
            ("REFUND_DECIDED".to_string(), "r1".to_string()),
        ]
    );
    assert!(listed(&api, "c2").await.is_empty());
    let missing = Request::new(pb::ListNotificationsRequest::default());
    let status = api.list_notifications(missing).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().starts_with("client_id"));
    assert!(
        crate::store::due(&test.store, i64::MAX, 100)
            .await
            .unwrap()
            .is_empty(),
        "no webhook configured: nothing queued"
    );
}

/// A webhook receiver that answers 500 to its first `failures` calls, then 200, and keeps
/// the bodies it answered 200 to.
#[derive(Clone, Default)]
struct Receiver {
    calls: Arc<Mutex<usize>>,
    accepted: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    async fn start(failures: usize) -> (Receiver, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let receiver = Receiver::default();
        let r = receiver.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let body = read_request(&mut socket).await;
                let call = {
                    let mut calls = r.calls.lock().unwrap();
                    *calls += 1;
                    *calls
                };
                let status = if call <= failures {
                    "500 Internal Server Error"
                } else {
                    r.accepted.lock().unwrap().push(body);
                    "200 OK"
                };
                let answer =
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        (receiver, url)
    }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = socket.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return text[end + 4..].to_string();
            }
        }
    }
    String::new()
}

#[tokio::test]
async fn the_webhook_gets_each_notification_once_after_failing_calls() {
    let (receiver, url) = Receiver::start(2).await;
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let policies: Arc<dyn Handler> = crate::policies(true);
    for event in [&uploaded("v1", 1), &uploaded("v2", 1), &decided("r1")] {
        test.deliver(&policies, event).await.unwrap();
        test.deliver(&policies, event).await.unwrap();
    }
    let hook = Webhook::new(&url, Duration::from_millis(10), Duration::from_millis(40)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while receiver.accepted.lock().unwrap().len() < 3 {
        assert!(
            Instant::now() < deadline,
            "webhook deliveries never completed"
        );
        webhook::pass(&test.store, &hook).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Nothing left pending: another pass sends nothing more.
    assert!(
        crate::store::due(&test.store, i64::MAX, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(webhook::pass(&test.store, &hook).await.unwrap(), 0);
    let mut ids: Vec<String> = receiver
        .accepted
        .lock()
        .unwrap()
        .iter()
        .map(|body| {
            let json: serde_json::Value = serde_json::from_str(body).unwrap();
            json["notificationId"].as_str().unwrap().to_owned()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, ["r1.refund", "v1.1.uploaded", "v2.1.uploaded"]);
    assert_eq!(
        *receiver.calls.lock().unwrap(),
        5,
        "two failures, then one call each"
    );
}

#[tokio::test]
async fn a_webhook_must_be_plain_http() {
    assert!(Webhook::new("https://example.com/hook", Duration::ZERO, Duration::ZERO).is_err());
    assert!(Webhook::new("not a url", Duration::ZERO, Duration::ZERO).is_err());
}

#[test]
fn a_view_is_not_an_edit_so_it_is_not_consumed() {
    let events: Vec<String> = crate::policies(true)
        .events()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(events.iter().any(|e| e == "VideoEdited"), "{events:?}");
    assert!(!events.iter().any(|e| e == "VideoViewed"), "{events:?}");
}
