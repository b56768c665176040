//! `mediamesh bench <scenario>`: drives load over gRPC and reports throughput, p50/p99
//! latency, errors, event lag and the mesh's resident memory, beside a baseline measured in
//! the same run (the raw rate of an empty unary call, gRPC health Check, on the same server).
mod lag;
mod listing;
mod load;
mod mesh;
mod scenario;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::bench::lag::LagBook;
use crate::bench::load::{Phase, drive, percentile};
use crate::bench::mesh::{OwnMesh, rss_kib, wait_ready};
pub use crate::bench::scenario::Scenario;

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
    /// The mesh the bench starts keeps its contexts in this PostgreSQL database (a schema
    /// each) instead of SQLite files.
    #[arg(long)]
    pub database_url: Option<String>,
    /// vod-purchase: fill the purchase store with this many purchases first (one
    /// statement), then also time paged listing at its start, its middle and per customer.
    #[arg(long, default_value_t = 0)]
    pub seed_purchases: i64,
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

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let scenario = args.scenario;
    let mut own = None;
    let (grpc, nats_url, pid) = match args.grpc_addr {
        Some(addr) => (addr, args.nats_url.clone(), None),
        None => {
            let mesh = OwnMesh::start(scenario.target(), args.database_url.as_deref())?;
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
    scenario.prepare(&channel).await?;
    if args.seed_purchases > 0 {
        let started = Instant::now();
        let database = match (&args.database_url, &own) {
            (Some(url), _) => mediamesh_mesh::storage::store::Database::Postgres {
                url: url.clone(),
                pool_size: mediamesh_mesh::storage::store::DEFAULT_POOL_SIZE,
            },
            (None, Some(mesh)) => mediamesh_mesh::storage::store::Database::SqliteDir {
                dir: mesh.data_dir(),
                synchronous_full: false,
            },
            (None, None) => anyhow::bail!("--seed-purchases needs --database-url with --grpc-addr"),
        };
        let store = mediamesh_mesh::Store::open(&database, "vod.purchase").await?;
        vod_purchase::seed(&store, args.seed_purchases).await?;
        eprintln!(
            "seeded {} purchases in {:?}",
            args.seed_purchases,
            started.elapsed()
        );
    }

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
        Some(url) => {
            Some(lag::watch(url, scenario.lag_subject(), scenario.lag_id(), book.clone()).await?)
        }
        None => None,
    };
    eprintln!(
        "{}: at concurrency {} for {:?}",
        scenario.name(),
        args.concurrency,
        args.duration
    );
    let calls = drive(args.concurrency, args.duration, {
        let (channel, book) = (channel.clone(), book.clone());
        move |worker, n| {
            let (channel, book) = (channel.clone(), book.clone());
            async move {
                let id = scenario.call(channel, worker, n).await?;
                book.lock().expect("lock").answered(id, Instant::now());
                Ok(())
            }
        }
    })
    .await;
    // Let the last events arrive before reading lag.
    let deadline = Instant::now() + Duration::from_secs(10);
    while lag_task.is_some()
        && Instant::now() < deadline
        && book.lock().expect("lock").lags.len() < calls.ok as usize
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rss = pid.and_then(rss_kib);
    if args.seed_purchases > 0 {
        listing::report(&channel, args.seed_purchases).await?;
    }
    report(
        &args,
        &baseline,
        &calls,
        &mut book.lock().expect("lock").lags,
        rss,
    );
    drop(own);
    Ok(())
}

fn report(
    args: &BenchArgs,
    baseline: &Phase,
    calls: &Phase,
    lags: &mut [Duration],
    rss: Option<u64>,
) {
    let scenario = args.scenario;
    let mut latencies = calls.latencies.clone();
    latencies.sort();
    let mut base = baseline.latencies.clone();
    base.sort();
    lags.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let total = calls.ok + calls.errors;
    println!(
        "scenario            {} (concurrency {}, {:?})",
        scenario.name(),
        args.concurrency,
        args.duration
    );
    println!(
        "baseline            {:.0} empty calls/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
        baseline.rate(),
        ms(percentile(&base, 0.5)),
        ms(percentile(&base, 0.99)),
        baseline.errors
    );
    println!(
        "{:<20}{:.0} {}/s ({} completed), ratio to baseline {:.3}",
        scenario.unit(),
        calls.rate(),
        scenario.unit(),
        calls.ok,
        calls.rate() / baseline.rate().max(1.0)
    );
    println!(
        "latency             p50 {:.2} ms, p99 {:.2} ms",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99))
    );
    let codes: Vec<String> = calls
        .codes
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    println!(
        "errors              {} of {} ({:.2}%){}",
        calls.errors,
        total,
        100.0 * calls.errors as f64 / total.max(1) as f64,
        if codes.is_empty() {
            String::new()
        } else {
            format!(": {}", codes.join(", "))
        }
    );
    if lags.is_empty() {
        println!("event lag           not measured (no NATS URL)");
    } else {
        println!(
            "{:<20}p50 {:.2} ms, p99 {:.2} ms ({} events)",
            scenario.lag_label(),
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
