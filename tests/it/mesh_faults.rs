//! Faults an outsider found: clients that hold their request body back, a broker that hangs,
//! a gateway or broker that dies under `up`, shutdown while the broker is away. None of them
//! may stop the mesh answering everyone else, or keep health from telling the truth.
use std::process::Command;
use std::time::{Duration, Instant};

use http::uri::PathAndQuery;
use mediamesh_proto::vod::v1 as pb;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::harness::{Mesh, Sandbox, buy, eventually, free_port, mileage_of};

async fn health(mesh: &Mesh) -> i32 {
    let channel = match tonic::transport::Endpoint::from_shared(mesh.grpc_url())
        .unwrap()
        .connect_timeout(Duration::from_millis(500))
        .connect()
        .await
    {
        Ok(channel) => channel,
        Err(_) => return -1,
    };
    let mut client = HealthClient::new(channel);
    let check = client.check(HealthCheckRequest::default());
    match tokio::time::timeout(Duration::from_secs(2), check).await {
        Ok(Ok(response)) => response.into_inner().status,
        _ => -1,
    }
}

/// Forty calls whose bodies never come, against a server that takes twenty at once: they
/// hold no permit, so a purchase (which calls `Pay` on the same server) still goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_that_hold_their_body_back_hold_no_permit() {
    let sandbox = Sandbox::sqlite("slow-body");
    let mesh = sandbox
        .serve_with(free_port(), "vod", &["--max-in-flight", "20"], &[])
        .await;
    let mut held = Vec::new();
    for _ in 0..40 {
        let channel = mesh.channel().await;
        held.push(tokio::spawn(async move {
            let mut grpc = tonic::client::Grpc::new(channel);
            grpc.ready().await.unwrap();
            let never = futures::stream::pending::<pb::CreatePurchaseRequest>();
            let path =
                PathAndQuery::from_static("/mediamesh.vod.v1.PurchaseService/CreatePurchase");
            let codec =
                tonic_prost::ProstCodec::<pb::CreatePurchaseRequest, pb::Purchase>::default();
            let _ = grpc
                .client_streaming(tonic::Request::new(never), path, codec)
                .await;
        }));
    }
    // Give the forty streams time to open (they are waiting on their bodies, not on us).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let purchase = buy(&mesh, "1", "patient")
        .await
        .expect("served despite 40 stalled calls");
    assert_eq!(purchase.order_status, "PAID");
    for call in held {
        call.abort();
    }
}

/// A broker that hangs (SIGSTOP: the connection stays open, nothing answers) turns health
/// NOT_SERVING within seconds, and SERVING again once it answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_sees_a_hung_broker_within_seconds() {
    let sandbox = Sandbox::sqlite("hung-broker");
    let mesh = sandbox.serve("vod").await;
    sandbox.nats.signal(libc::SIGSTOP);
    let stopped = Instant::now();
    eventually(
        "NOT_SERVING with the broker hung",
        Duration::from_secs(10),
        || async { (health(&mesh).await == 2).then_some(()) },
    )
    .await;
    assert!(
        stopped.elapsed() < Duration::from_secs(8),
        "{:?}",
        stopped.elapsed()
    );
    sandbox.nats.signal(libc::SIGCONT);
    eventually("SERVING again", Duration::from_secs(20), || async {
        (health(&mesh).await == 1).then_some(())
    })
    .await;
}

/// SIGTERM while the broker hangs: every shutdown step is bounded, the process exits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_bounded_while_the_broker_hangs() {
    let sandbox = Sandbox::sqlite("term-hung-broker");
    let mut mesh = sandbox.serve("vod").await;
    buy(&mesh, "1", "before").await.unwrap();
    sandbox.nats.signal(libc::SIGSTOP);
    let status = mesh.proc.terminate(Duration::from_secs(40));
    assert!(status.code().is_some(), "exited by itself: {status:?}");
    sandbox.nats.signal(libc::SIGCONT);
}

/// `up`: its NATS takes only the mesh (a token made for the run), and a gateway or broker
/// that dies is started again while the mesh keeps its data and goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_restarts_its_children_and_its_broker_takes_only_the_mesh() {
    let sandbox = Sandbox::sqlite("up-children");
    let nats_port = free_port();
    let mesh = Mesh::up_with(
        None,
        &sandbox.db,
        free_port(),
        free_port(),
        Some(nats_port),
        sandbox.logs.path(),
    )
    .await;
    let anonymous = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .connect(format!("nats://127.0.0.1:{nats_port}"))
        .await;
    assert!(anonymous.is_err(), "the broker takes no anonymous client");

    for child in ["envoy", "nats-server"] {
        let pid = Command::new("pgrep")
            .args(["-P", &mesh.proc.pid().to_string(), "-f", child])
            .output()
            .unwrap();
        let pid = String::from_utf8_lossy(&pid.stdout).trim().to_owned();
        assert!(!pid.is_empty(), "{child} is a child of up");
        Command::new("kill").args(["-9", &pid]).status().unwrap();
    }
    let rest = mesh.rest();
    eventually("REST answers again", Duration::from_secs(20), || {
        let rest = rest.clone();
        async move {
            let response = reqwest::get(format!("{rest}/vodLists")).await.ok()?;
            (response.status() == 200).then_some(())
        }
    })
    .await;
    eventually(
        "a purchase earns mileage again",
        Duration::from_secs(30),
        || async {
            let _ = buy(&mesh, "1", "after-restart").await;
            mileage_of(&mesh, "after-restart")
                .await
                .filter(|m| m.points > 0)
        },
    )
    .await;
}
