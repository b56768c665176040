//! `mediamesh views rebuild --target video.channelview` empties the channel view and replays
//! the stream: the rebuilt screen equals the live one (real nats-server, SQLite).
use std::process::Command;
use std::time::Duration;

use mediamesh_proto::video::v1 as pb;

use crate::harness::rest::WAIT;
use crate::harness::{BIN, Mesh, Sandbox, eventually};

async fn screen(mesh: &Mesh, client: &str) -> Option<pb::ChannelView> {
    let channel = mesh.channel().await;
    let mut views = pb::channel_view_service_client::ChannelViewServiceClient::new(channel);
    let request = pb::GetChannelViewRequest {
        client_id: client.into(),
        ..Default::default()
    };
    views
        .get_channel_view(request)
        .await
        .ok()
        .map(|r| r.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_channel_view_rebuilds_by_replay_to_the_same_screen() {
    let sandbox = Sandbox::sqlite("video-rebuild");
    let mut mesh = sandbox.serve("video").await;
    let channel = mesh.channel().await;
    let mut clients = pb::client_service_client::ClientServiceClient::new(channel.clone());
    let mut channels = pb::channel_service_client::ChannelServiceClient::new(channel.clone());
    let mut videos = pb::video_service_client::VideoServiceClient::new(channel.clone());
    let mut policies = pb::policy_service_client::PolicyServiceClient::new(channel.clone());
    clients
        .create_client(pb::CreateClientRequest {
            client_id: "1".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    for (id, name) in [("1", "one"), ("2", "two")] {
        let create = pb::CreateChannelRequest {
            channel_id: id.into(),
            channel_name: name.into(),
            client_id: "1".into(),
            ..Default::default()
        };
        channels.create_channel(create).await.unwrap();
    }
    for (id, views) in [("1", 10), ("2", 20), ("3", 30)] {
        let upload = pb::CreateVideoRequest {
            video_id: id.into(),
            client_id: "1".into(),
            channel_id: "1".into(),
            title: format!("video {id}"),
            view_count: Some(views),
        };
        videos.create_video(upload).await.unwrap();
    }
    videos
        .delete_video(pb::DeleteVideoRequest {
            video_id: "2".into(),
        })
        .await
        .unwrap();
    let register = pb::CreatePolicyRequest {
        policy_id: "1".into(),
        refund_policy: 5,
        delete_video_id: "3".into(),
        ..Default::default()
    };
    policies.create_policy(register).await.unwrap();
    policies
        .delete_policy(pb::DeletePolicyRequest {
            policy_id: "1".into(),
        })
        .await
        .unwrap();

    let live = eventually("live screen settled", WAIT, || async {
        let view = screen(&mesh, "1").await?;
        let settled = view.total_view == 10
            && view.channels.len() == 2
            && view.videos.iter().any(|v| v.status == "REMOVED_BY_POLICY")
            && view.videos.len() == 2;
        settled.then_some(view)
    })
    .await;

    assert!(mesh.proc.terminate(Duration::from_secs(30)).success());
    let out = Command::new(BIN)
        .args(["views", "rebuild", "--target", "video.channelview"])
        .args(["--nats-url", &sandbox.nats.url])
        .arg("--data-dir")
        .arg(sandbox.logs.path().join("data"))
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let applied: u64 = printed
        .split("from ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {printed:?}"));
    // 1 client, 2 channels, 3 uploads, a deletion, a takedown, and the totals they moved.
    assert!(applied >= 10, "replayed every event of the view: {printed}");
    let mesh = sandbox.serve("video").await;
    let rebuilt = eventually("rebuilt screen served", WAIT, || screen(&mesh, "1")).await;
    assert_eq!(rebuilt, live, "the rebuilt screen equals the live one");
}
