//! `mediamesh bench <scenario>`: drives load over gRPC and reports throughput, p50/p99
//! latency, errors, event lag and the mesh's resident memory, beside a baseline measured in
//! the same run (the raw rate of an empty unary call, gRPC health Check, on the same server).
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use futures::StreamExt;
use mediamesh_proto::vod::v1 as pb;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::children::{Supervised, find_tool};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Scenario {
    /// The VOD purchase saga: CreatePurchase (sync Pay) plus mileage by events.
    VodPurchase,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    pub scenario: Scenario,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 100)]
    pub concurrency: usize,
    /// How long to drive the scenario (e.g. 30s, 500ms, 2m).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub duration: Duration,
    /// How long to drive the baseline.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub baseline: Duration,
    /// Drive an already running mesh at this gRPC address instead of starting one.
    #[arg(long)]
    pub grpc_addr: Option<SocketAddr>,
    /// With --grpc-addr: its NATS URL, to measure event lag.
    #[arg(long)]
    pub nats_url: Option<String>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (number, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: u64 = number.parse().map_err(|_| format!("bad duration {s:?}"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("bad duration unit in {s:?} (ms, s, m)")),
    }
}

/// One load phase's outcome.
struct Phase {
    ok: u64,
    errors: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let Scenario::VodPurchase = args.scenario;
    let mut own = None;
    let (grpc, nats_url, pid) = match args.grpc_addr {
        Some(addr) => (addr, args.nats_url.clone(), None),
        None => {
            let mesh = OwnMesh::start()?;
            let info = (mesh.grpc, Some(mesh.nats_url.clone()), Some(mesh.pid()));
            own = Some(mesh);
            info
        }
    };
    let channel = Channel::from_shared(format!("http://{grpc}"))?
        .tcp_nodelay(true)
        .connect()
        .await?;
    wait_ready(&channel).await?;

    eprintln!(
        "baseline: empty unary call (grpc.health.v1.Health/Check) for {:?}",
        args.baseline
    );
    let baseline = drive(args.concurrency, args.baseline, {
        let channel = channel.clone();
        move |_, _| {
            let mut client = HealthClient::new(channel.clone());
            async move {
                client
                    .check(HealthCheckRequest::default())
                    .await
                    .map(|_| ())
            }
        }
    })
    .await;

    let book: Arc<Mutex<LagBook>> = Arc::default();
    let lag_task = match &nats_url {
        Some(url) => Some(spawn_lag_watch(url, book.clone()).await?),
        None => None,
    };
    eprintln!(
        "vod-purchase: CreatePurchase at concurrency {} for {:?}",
        args.concurrency, args.duration
    );
    let purchases = drive(args.concurrency, args.duration, {
        let (channel, book) = (channel.clone(), book.clone());
        move |worker, n| {
            let mut client =
                pb::purchase_service_client::PurchaseServiceClient::new(channel.clone());
            let book = book.clone();
            async move {
                let request = pb::CreatePurchaseRequest {
                    vod_id: "2".into(),
                    customer_id: format!("bench-{worker}-{}", n / 10),
                    ..Default::default()
                };
                let purchase = client.create_purchase(request).await?.into_inner();
                book.lock()
                    .expect("lock")
                    .answered(purchase.purchase_id, Instant::now());
                Ok(())
            }
        }
    })
    .await;
    // Let the last events arrive before reading lag.
    let deadline = Instant::now() + Duration::from_secs(10);
    while lag_task.is_some()
        && Instant::now() < deadline
        && book.lock().expect("lock").lags.len() < purchases.ok as usize
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rss = pid.and_then(rss_kib);
    report(
        &args,
        &baseline,
        &purchases,
        &mut book.lock().expect("lock").lags,
        rss,
    );
    drop(own);
    Ok(())
}

/// Runs `call` from `concurrency` workers for `duration`.
async fn drive<F, Fut>(concurrency: usize, duration: Duration, call: F) -> Phase
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), tonic::Status>> + Send,
{
    let start = Instant::now();
    let end = start + duration;
    let workers = (0..concurrency).map(|worker| {
        let call = call.clone();
        tokio::spawn(async move {
            let (mut ok, mut errors, mut latencies, mut n) = (0u64, 0u64, Vec::new(), 0u64);
            while Instant::now() < end {
                let t = Instant::now();
                match call(worker, n).await {
                    Ok(()) => {
                        ok += 1;
                        latencies.push(t.elapsed());
                    }
                    Err(_) => errors += 1,
                }
                n += 1;
            }
            (ok, errors, latencies)
        })
    });
    let mut phase = Phase {
        ok: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for result in futures::future::join_all(workers).await {
        let (ok, errors, latencies) = result.expect("worker");
        phase.ok += ok;
        phase.errors += errors;
        phase.latencies.extend(latencies);
    }
    phase.elapsed = start.elapsed();
    phase
}

/// Pairs each answered purchase with its `MileageCredited` event. Mileage can be credited
/// before the purchase's answer reaches the client (the payment event races the answer);
/// such a purchase counts as zero lag.
#[derive(Default)]
struct LagBook {
    answered: HashMap<String, Instant>,
    credited: HashMap<String, Instant>,
    lags: Vec<Duration>,
}

impl LagBook {
    fn answered(&mut self, id: String, at: Instant) {
        match self.credited.remove(&id) {
            Some(_) => self.lags.push(Duration::ZERO),
            None => {
                self.answered.insert(id, at);
            }
        }
    }

    fn credited(&mut self, id: String, at: Instant) {
        match self.answered.remove(&id) {
            Some(answered) => self.lags.push(at.saturating_duration_since(answered)),
            None => {
                self.credited.insert(id, at);
            }
        }
    }
}

async fn spawn_lag_watch(
    url: &str,
    book: Arc<Mutex<LagBook>>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let client = async_nats::connect(url).await?;
    let mut events = client.subscribe("vod.mileage.MileageCredited").await?;
    client.flush().await?;
    Ok(tokio::spawn(async move {
        while let Some(message) = events.next().await {
            let Ok(event) = <pb::MileageCredited as prost::Message>::decode(message.payload) else {
                continue;
            };
            book.lock()
                .expect("lock")
                .credited(event.purchase_id, Instant::now());
        }
    }))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(
    args: &BenchArgs,
    baseline: &Phase,
    purchases: &Phase,
    lags: &mut [Duration],
    rss: Option<u64>,
) {
    let mut latencies = purchases.latencies.clone();
    latencies.sort();
    let mut base = baseline.latencies.clone();
    base.sort();
    lags.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let total = purchases.ok + purchases.errors;
    println!(
        "scenario            vod-purchase (concurrency {}, {:?})",
        args.concurrency, args.duration
    );
    println!(
        "baseline            {:.0} empty calls/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
        baseline.rate(),
        ms(percentile(&base, 0.5)),
        ms(percentile(&base, 0.99)),
        baseline.errors
    );
    println!(
        "purchases           {:.0} purchases/s ({} completed), ratio to baseline {:.3}",
        purchases.rate(),
        purchases.ok,
        purchases.rate() / baseline.rate().max(1.0)
    );
    println!(
        "latency             p50 {:.2} ms, p99 {:.2} ms",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99))
    );
    println!(
        "errors              {} of {} ({:.2}%)",
        purchases.errors,
        total,
        100.0 * purchases.errors as f64 / total.max(1) as f64
    );
    if lags.is_empty() {
        println!("event lag           not measured (no NATS URL)");
    } else {
        println!(
            "purchase->mileage   p50 {:.2} ms, p99 {:.2} ms ({} events)",
            ms(percentile(lags, 0.5)),
            ms(percentile(lags, 0.99)),
            lags.len()
        );
    }
    match rss {
        Some(kib) => println!(
            "mesh memory         {:.1} MB resident (peak)",
            kib as f64 / 1024.0
        ),
        None => println!("mesh memory         not measured (external mesh)"),
    }
}

/// Peak resident set of a process, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn wait_ready(channel: &Channel) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut client = HealthClient::new(channel.clone());
        if let Ok(r) = client.check(HealthCheckRequest::default()).await
            && r.into_inner().status == 1
        {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "mesh not SERVING within 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A throwaway mesh for the benchmark: nats-server and `mediamesh serve --target vod` as
/// children, on free ports, data in a temporary folder.
struct OwnMesh {
    grpc: SocketAddr,
    nats_url: String,
    mesh: Supervised,
    _nats: Supervised,
    dir: PathBuf,
}

impl OwnMesh {
    fn start() -> anyhow::Result<OwnMesh> {
        let dir = std::env::temp_dir().join(format!("mediamesh-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let nats_port = free_port()?;
        let mut nats = Supervised::spawn(
            "nats-server",
            Command::new(find_tool("nats-server")?)
                .args(["-js", "-a", "127.0.0.1", "-p", &nats_port.to_string()])
                .arg("-sd")
                .arg(dir.join("nats")),
            &dir.join("nats.log"),
        )?;
        nats.wait_for_port(
            SocketAddr::from(([127, 0, 0, 1], nats_port)),
            Duration::from_secs(10),
        )?;
        let nats_url = format!("nats://127.0.0.1:{nats_port}");
        let grpc = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let mut mesh = Supervised::spawn(
            "mediamesh",
            Command::new(std::env::current_exe()?)
                .args([
                    "serve",
                    "--target",
                    "vod",
                    "--grpc-addr",
                    &grpc.to_string(),
                    "--nats-url",
                    &nats_url,
                ])
                .args(["--admin-addr", &format!("127.0.0.1:{}", free_port()?)])
                .arg("--data-dir")
                .arg(dir.join("data"))
                .env("MEDIAMESH_LOG", "warn"),
            &dir.join("mesh.log"),
        )?;
        mesh.wait_for_port(grpc, Duration::from_secs(30))?;
        Ok(OwnMesh {
            grpc,
            nats_url,
            mesh,
            _nats: nats,
            dir,
        })
    }

    fn pid(&self) -> u32 {
        self.mesh.pid()
    }
}

impl Drop for OwnMesh {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
