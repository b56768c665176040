//! Notification's webhook sink against a local HTTP receiver that fails its first calls:
//! the video app served alone (real nats-server, SQLite) with
//! `MEDIAMESH_NOTIFICATION_WEBHOOK` set; every notification reaches the receiver exactly
//! once in the end, and the list shows the same ones.
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use mediamesh_proto::video::v1 as pb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Channel;

use crate::harness::rest::WAIT;
use crate::harness::{Sandbox, eventually, free_port};

/// Answers 500 to its first `failures` calls, then 200; keeps the bodies it took.
#[derive(Clone, Default)]
struct Receiver {
    calls: Arc<Mutex<usize>>,
    taken: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Receiver {
    async fn start(failures: usize) -> (Receiver, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let receiver = Receiver::default();
        let r = receiver.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let body = read_body(&mut socket).await;
                let call = {
                    let mut calls = r.calls.lock().unwrap();
                    *calls += 1;
                    *calls
                };
                let status = if call <= failures {
                    "500 Internal Server Error"
                } else {
                    let json = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
                    r.taken.lock().unwrap().push(json);
                    "200 OK"
                };
                let answer =
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        (receiver, url)
    }

    fn taken_ids(&self) -> Vec<String> {
        self.taken
            .lock()
            .unwrap()
            .iter()
            .map(|b| b["notificationId"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

/// One HTTP/1.1 request's body (read up to its content-length).
async fn read_body(socket: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = socket.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return String::new();
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        let Some(end) = text.find("\r\n\r\n") else {
            continue;
        };
        let length = text[..end]
            .lines()
            .find_map(|l| {
                let l = l.to_ascii_lowercase();
                l.strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
            })
            .unwrap_or(0);
        if buf.len() >= end + 4 + length {
            return text[end + 4..].to_string();
        }
    }
}

async fn listed(channel: &Channel, client: &str) -> Vec<String> {
    let mut notifications =
        pb::notification_service_client::NotificationServiceClient::new(channel.clone());
    let request = pb::ListNotificationsRequest {
        client_id: client.into(),
        page_size: 100,
        ..Default::default()
    };
    match notifications.list_notifications(request).await {
        Ok(list) => list
            .into_inner()
            .notifications
            .into_iter()
            .map(|n| n.notification_id)
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_gets_every_notification_once_after_failing_calls() {
    let (receiver, url) = Receiver::start(2).await;
    let sandbox = Sandbox::sqlite("video-webhook");
    let env = [(video_notification::WEBHOOK_ENV, url.as_str())];
    let mesh = sandbox.serve_with(free_port(), "video", &[], &env).await;
    let channel = mesh.channel().await;
    let mut clients = pb::client_service_client::ClientServiceClient::new(channel.clone());
    let mut channels = pb::channel_service_client::ChannelServiceClient::new(channel.clone());
    let mut videos = pb::video_service_client::VideoServiceClient::new(channel.clone());
    clients
        .create_client(pb::CreateClientRequest {
            client_id: "w-c".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    channels
        .create_channel(pb::CreateChannelRequest {
            channel_id: "w-ch".into(),
            channel_name: "w".into(),
            client_id: "w-c".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    for id in ["w-1", "w-2"] {
        let upload = pb::CreateVideoRequest {
            video_id: id.into(),
            client_id: "w-c".into(),
            channel_id: "w-ch".into(),
            title: "cooking".into(),
            ..Default::default()
        };
        videos.create_video(upload).await.unwrap();
    }
    videos
        .delete_video(pb::DeleteVideoRequest {
            video_id: "w-2".into(),
        })
        .await
        .unwrap();

    // Uploaded twice and deleted once: three notifications, each delivered once.
    let ids = eventually("three notifications listed", WAIT, || async {
        let ids = listed(&channel, "w-c").await;
        (ids.len() == 3).then_some(ids)
    })
    .await;
    let want: BTreeSet<String> = ids.into_iter().collect();
    eventually("every notification taken by the webhook", WAIT, || async {
        let taken: BTreeSet<String> = receiver.taken_ids().into_iter().collect();
        (taken == want).then_some(())
    })
    .await;
    let taken = receiver.taken_ids();
    assert_eq!(taken.len(), 3, "each exactly once: {taken:?}");
    assert_eq!(
        *receiver.calls.lock().unwrap(),
        5,
        "two refused calls retried, then one call each"
    );
    let first = receiver.taken.lock().unwrap()[0].clone();
    assert_eq!(first["clientId"], "w-c", "{first}");
}
