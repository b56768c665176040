//! Beyond one broker: a 3-node nats-server JetStream cluster on loopback (each node its own
//! store and cluster routes), the vod mesh pointed at all three with its stream at 3
//! replicas, purchases from several clients while the stream's leader is killed (SIGKILL)
//! and started again. No acknowledged purchase is lost, no mileage is lost or doubled, and
//! health stays SERVING throughout: an election restarts every consumer at once, within the
//! grace readiness gives a relay or consumer, so no replica leaves rotation for it.
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use mediamesh_proto::vod::v1 as pb;
use tonic::transport::Channel;

use crate::harness::{
    Db, Mesh, Proc, TempDir, eventually, free_port, mileage_balances, mileage_of, purchases_of,
    tool, wait_for_port,
};
use crate::liveness::health_at;

const STREAM: &str = "MEDIAMESH_VOD";
const CLIENTS: usize = 6;

/// One node of the cluster: its config (ports, store, routes) stays, so it restarts as
/// itself with its data.
struct Node {
    name: String,
    port: u16,
    config: std::path::PathBuf,
    log: std::path::PathBuf,
    proc: Option<Proc>,
}

impl Node {
    fn start(&mut self) {
        self.proc = Some(Proc::spawn(
            &self.name,
            Command::new(tool("nats-server"))
                .arg("-c")
                .arg(&self.config),
            &self.log,
        ));
        wait_for_port(self.port, Duration::from_secs(10));
    }

    fn kill9(&mut self) {
        if let Some(mut proc) = self.proc.take() {
            proc.kill9();
        }
    }
}

/// Three nodes routed to each other, JetStream on file storage.
struct Cluster {
    nodes: Vec<Node>,
    _dir: TempDir,
}

impl Cluster {
    fn start(dir: TempDir) -> Cluster {
        let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let route_list: Vec<String> = routes
            .iter()
            .map(|p| format!("nats-route://127.0.0.1:{p}"))
            .collect();
        let mut nodes: Vec<Node> = (0..3)
            .map(|i| {
                let name = format!("n{}", i + 1);
                let port = free_port();
                let store = dir.path().join(&name);
                let config = dir.path().join(format!("{name}.conf"));
                std::fs::write(
                    &config,
                    format!(
                        "server_name: {name}\nlisten: 127.0.0.1:{port}\n\
                         jetstream {{ store_dir: \"{}\" }}\n\
                         cluster {{ name: mediamesh, listen: 127.0.0.1:{}, routes: [{}] }}\n",
                        store.display(),
                        routes[i],
                        route_list.join(", ")
                    ),
                )
                .unwrap();
                Node {
                    log: dir.path().join(format!("{name}.log")),
                    name,
                    port,
                    config,
                    proc: None,
                }
            })
            .collect();
        for node in &mut nodes {
            node.start();
        }
        Cluster { nodes, _dir: dir }
    }

    /// Every node, comma-separated: what `--nats-url` takes.
    fn url(&self) -> String {
        let urls: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.port))
            .collect();
        urls.join(",")
    }

    async fn jetstream(&self) -> jetstream::Context {
        let urls: Vec<String> = self.url().split(',').map(str::to_owned).collect();
        // Short requests: a question put to the killed node is asked again of another soon.
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .request_timeout(Some(Duration::from_secs(1)))
            .connect(urls)
            .await
            .unwrap();
        jetstream::new(client)
    }

    fn node(&mut self, name: &str) -> &mut Node {
        self.nodes.iter_mut().find(|n| n.name == name).unwrap()
    }
}

/// The stream's leader and replicas as the cluster reports them (`$JS.API.STREAM.INFO`).
async fn placement(js: &jetstream::Context) -> Option<jetstream::stream::ClusterInfo> {
    let mut stream = js.get_stream(STREAM).await.ok()?;
    stream.info().await.ok()?.cluster.clone()
}

/// Until the cluster elected its meta leader, stream creation fails: wait for it.
async fn wait_for_meta_leader(js: &jetstream::Context) {
    eventually(
        "a JetStream meta leader",
        Duration::from_secs(30),
        || async {
            let config = jetstream::stream::Config {
                name: "PROBE".into(),
                subjects: vec!["probe".into()],
                num_replicas: 3,
                ..Default::default()
            };
            js.get_or_create_stream(config).await.ok()?;
            js.delete_stream("PROBE").await.ok()
        },
    )
    .await;
}

async fn serve(url: &str, db: &Db, logs: &Path, extra: &[&str]) -> Mesh {
    Mesh::serve_env(free_port(), "vod", url, db, extra, &[], logs).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchases_survive_a_killed_stream_leader_on_a_three_node_cluster() {
    let logs = TempDir::new("cluster");
    let mut cluster = Cluster::start(TempDir::new("cluster-nodes"));
    let js = cluster.jetstream().await;
    wait_for_meta_leader(&js).await;
    let db = Db::Sqlite(logs.path().join("data"));

    // A mesh that ran at one replica is moved to three: the stream follows on start.
    let mut first = serve(&cluster.url(), &db, logs.path(), &[]).await;
    let before = placement(&js).await.expect("stream placed");
    assert!(
        before.replicas.is_empty(),
        "R1 has no followers: {before:?}"
    );
    first.proc.terminate(Duration::from_secs(30));
    let mesh = serve(
        &cluster.url(),
        &db,
        logs.path(),
        &["--stream-replicas", "3"],
    )
    .await;
    let stream = js.get_stream(STREAM).await.unwrap();
    assert_eq!(stream.cached_info().config.num_replicas, 3);
    let placed = eventually(
        "three current replicas",
        Duration::from_secs(30),
        || async {
            placement(&js)
                .await
                .filter(|c| c.replicas.len() == 2 && c.replicas.iter().all(|r| r.current))
        },
    )
    .await;
    let leader = placed.leader.clone().expect("a stream leader");
    // The mileage durable, made at one replica, grew with its stream.
    let consumer = eventually(
        "mileage durable at 3 replicas",
        Duration::from_secs(30),
        || async {
            let info = js
                .get_stream(STREAM)
                .await
                .ok()?
                .consumer_info("vod_mileage")
                .await
                .ok()?
                .clone();
            info.cluster.filter(|c| c.replicas.len() == 2)
        },
    )
    .await;
    eprintln!(
        "stream leader {leader}; mileage durable leader {:?}",
        consumer.leader
    );

    // Health, polled all along: what it shows while the leader is away.
    let watching = Arc::new(AtomicBool::new(true));
    let seen = {
        let (watching, url) = (watching.clone(), mesh.grpc_url());
        tokio::spawn(async move {
            let started = Instant::now();
            let mut seen: Vec<(Duration, i32, i32)> = Vec::new();
            while watching.load(Ordering::SeqCst) {
                let ready = health_at(&url, "").await;
                let live = health_at(&url, "liveness").await;
                if seen.last().map(|(_, r, l)| (*r, *l)) != Some((ready, live)) {
                    seen.push((started.elapsed(), ready, live));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            seen
        })
    };

    // Load: several clients buying until told to stop; each keeps what was acknowledged.
    let loading = Arc::new(AtomicBool::new(true));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (loading, url) = (loading.clone(), mesh.grpc_url());
            let customer = format!("cluster-{i}");
            tokio::spawn(async move {
                // A connection of its own, as separate clients have.
                let channel = Channel::from_shared(url).unwrap().connect().await.unwrap();
                let mut purchases =
                    pb::purchase_service_client::PurchaseServiceClient::new(channel);
                let (mut acked, mut failed) = (Vec::new(), 0usize);
                while loading.load(Ordering::SeqCst) {
                    let request = pb::CreatePurchaseRequest {
                        vod_id: "2".into(),
                        customer_id: customer.clone(),
                        ..Default::default()
                    };
                    match purchases.create_purchase(request).await {
                        Ok(p) => acked.push(p.into_inner()),
                        Err(_) => failed += 1,
                    }
                }
                (customer, acked, failed)
            })
        })
        .collect();

    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await; // load before the fault
    cluster.node(&leader).kill9();
    let killed = started.elapsed();
    let new_leader = eventually("a new stream leader", Duration::from_secs(30), || async {
        placement(&js)
            .await
            .and_then(|c| c.leader)
            .filter(|l| *l != leader)
    })
    .await;
    let elected = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await; // load on two nodes
    cluster.node(&leader).start();
    let restarted = started.elapsed();
    eventually(
        "the restarted node current again",
        Duration::from_secs(60),
        || async {
            placement(&js).await.filter(|c| {
                c.replicas.len() == 2 && c.replicas.iter().all(|r| r.current && !r.offline)
            })
        },
    )
    .await;
    let caught_up = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await; // load on three nodes again
    loading.store(false, Ordering::SeqCst);

    let stopped = Instant::now();
    let mut total = (0usize, 0usize);
    for client in clients {
        let (customer, acked, failed) = client.await.unwrap();
        total.0 += acked.len();
        total.1 += failed;
        assert!(!acked.is_empty(), "{customer} bought nothing");
        // Every acknowledged purchase reads back PAID.
        let stored = purchases_of(&mesh, &customer).await;
        for purchase in &acked {
            assert_eq!(purchase.order_status, "PAID", "{purchase:?}");
            assert!(
                stored
                    .iter()
                    .any(|s| s.purchase_id == purchase.purchase_id && s.order_status == "PAID"),
                "acknowledged purchase {} lost",
                purchase.purchase_id
            );
        }
        // Mileage is the sum of the paid purchases' credits: none lost, none doubled.
        eventually(
            &format!("{customer}'s mileage balanced"),
            Duration::from_secs(60),
            || async {
                let m = mileage_of(&mesh, &customer).await?;
                mileage_balances(&stored, Some(&m)).then_some(())
            },
        )
        .await;
    }
    let balanced = stopped.elapsed();
    mesh.wait_serving().await;
    watching.store(false, Ordering::SeqCst);
    let seen = seen.await.unwrap();
    eprintln!(
        "cluster: {} purchases acknowledged, {} failed, from {CLIENTS} clients; leader {leader} \
         killed at {killed:?}, {new_leader} elected by {elected:?}, {leader} restarted at \
         {restarted:?} and current by {caught_up:?}; every mileage balanced {balanced:?} after the \
         load stopped; health (since watching, readiness, \
         liveness) {seen:?}",
        total.0, total.1
    );
    let log = std::fs::read_to_string(&mesh.log).unwrap_or_default();
    for line in log
        .lines()
        .filter(|l| l.contains("health changed") || l.contains("failed") || l.contains("liveness"))
    {
        eprintln!("mesh: {line}");
    }
    assert_eq!(seen.first().map(|(_, r, _)| *r), Some(1), "SERVING before");
    assert!(
        seen.iter().all(|(_, ready, _)| *ready == 1),
        "an election takes no replica out of rotation: {seen:?}"
    );
    assert!(
        seen.iter().all(|(_, _, live)| *live == 1),
        "a failover within the grace period never fails liveness: {seen:?}"
    );
}
