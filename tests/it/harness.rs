//! Test infrastructure: real servers on free loopback ports, the `mediamesh` binary as child
//! processes, and polling with deadlines (never sleeps as synchronization).

pub mod postgres;
pub mod rest;

use std::future::Future;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mediamesh_proto::vod::v1 as pb;
use tonic::transport::Channel;

pub const BIN: &str = env!("CARGO_BIN_EXE_mediamesh");

/// A tool installed by `scripts/install-tools`.
pub fn tool(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".tools/venv/bin")
        .join(name);
    assert!(
        path.is_file(),
        "{} missing: run scripts/install-tools",
        path.display()
    );
    path
}

/// A port nobody listens on, never handed out twice in this run, and below the kernel's
/// ephemeral range (32768+) so outgoing connections and port-0 binds (Envoy's admin) cannot
/// take it between here and the child's bind.
pub fn free_port() -> u16 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let base = 20_000 + (std::process::id() as usize * 131) % 2_000;
    loop {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let port = (base + n % 10_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A fresh folder under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("mediamesh-it-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept for inspection: {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Polls `check` until it yields `Some`, or panics after `within` naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn wait_for_port(port: u16, within: Duration) {
    let deadline = Instant::now() + within;
    while TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listened on port {port} within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process killed (SIGKILL) on drop.
pub struct Proc {
    pub name: String,
    pub child: Child,
}

impl Proc {
    pub fn spawn(name: &str, command: &mut Command, log: &Path) -> Proc {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc {
            name: name.to_owned(),
            child,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends `signal`; SIGSTOP and SIGCONT return once every thread of the process has
    /// stopped or resumed. `kill` only queues the signal: on a loaded machine a thread woken
    /// by a request can still answer it before the stop is taken (seen in CI: a purchase
    /// paid by a payment process "hung" a moment earlier).
    pub fn signal(&self, signal: i32) {
        self.send(signal);
        let stopped = match signal {
            libc::SIGSTOP => true,
            libc::SIGCONT => false,
            _ => return,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        // A process already gone (reaped) has nothing left to stop or resume.
        while self.all_threads_stopped().is_some_and(|now| now != stopped) {
            assert!(
                Instant::now() < deadline,
                "{} did not {} within 10s",
                self.name,
                if stopped { "stop" } else { "resume" }
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Sends `signal` and returns at once.
    fn send(&self, signal: i32) {
        #[allow(unsafe_code)]
        // SAFETY: signalling our own child by pid.
        unsafe {
            libc::kill(self.pid(), signal);
        }
    }

    /// Whether every thread is stopped (state `T` in `/proc/PID/task/*/stat`); None when
    /// the process is gone.
    fn all_threads_stopped(&self) -> Option<bool> {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.pid())).ok()?;
        let mut all = true;
        for task in tasks.flatten() {
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            // The state follows the command name in parentheses, which may hold spaces.
            let state = stat
                .rsplit_once(") ")
                .and_then(|(_, rest)| rest.chars().next());
            all &= state == Some('T');
        }
        Some(all)
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit within {within:?} of SIGTERM",
                self.name
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.send(libc::SIGCONT); // a stopped process cannot die until continued
        self.kill9();
    }
}

/// A real nats-server with JetStream on a free port.
pub struct Nats {
    pub url: String,
    // Declared first so the server stops before its folder goes.
    _proc: Proc,
    _dir: TempDir,
}

impl Nats {
    pub fn start() -> Nats {
        Nats::start_on(free_port())
    }

    /// Sends `signal` to the server (SIGSTOP hangs it, SIGCONT resumes it).
    pub fn signal(&self, signal: i32) {
        self._proc.signal(signal);
    }

    pub fn start_on(port: u16) -> Nats {
        let dir = TempDir::new("nats");
        let proc = Proc::spawn(
            "nats-server",
            Command::new(tool("nats-server"))
                .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string()])
                .arg("-sd")
                .arg(dir.path().join("js")),
            &dir.path().join("nats.log"),
        );
        wait_for_port(port, Duration::from_secs(10));
        Nats {
            url: format!("nats://127.0.0.1:{port}"),
            _proc: proc,
            _dir: dir,
        }
    }
}

/// How a mesh process keeps its data.
#[derive(Clone)]
pub enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Db {
    fn args(&self) -> Vec<String> {
        match self {
            Db::Sqlite(dir) => vec!["--data-dir".into(), dir.display().to_string()],
            Db::Postgres(url) => vec!["--database-url".into(), url.clone()],
        }
    }
}

/// A `mediamesh` process: `serve` (gRPC only) or `up` (with Envoy, and nats-server unless a
/// NATS URL is given).
pub struct Mesh {
    pub grpc_port: u16,
    /// Prometheus `/metrics`.
    pub admin_port: u16,
    pub rest_port: Option<u16>,
    /// cinema's REST port (Envoy), for `up`.
    pub cinema_port: Option<u16>,
    /// music's REST port (Envoy), for `up`.
    pub music_port: Option<u16>,
    /// video's REST port (Envoy), for `up`.
    pub video_port: Option<u16>,
    /// iptv's REST port (Envoy), for `up`.
    pub iptv_port: Option<u16>,
    pub proc: Proc,
    pub log: PathBuf,
}

impl Mesh {
    /// `serve` with extra environment variables.
    pub async fn serve_env(
        port: u16,
        target: &str,
        nats: &str,
        db: &Db,
        extra: &[&str],
        env: &[(&str, &str)],
        logs: &Path,
    ) -> Mesh {
        let world = (nats, db, logs);
        Mesh::serve_admin(port, free_port(), target, world, extra, env).await
    }

    /// `serve` with its admin port chosen by the caller (to name it to another process
    /// before this one starts): `world` is the NATS URL, the database and the logs folder.
    pub async fn serve_admin(
        port: u16,
        admin_port: u16,
        target: &str,
        (nats, db, logs): (&str, &Db, &Path),
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Mesh {
        let log = logs.join(format!("serve-{}-{port}.log", target.replace(',', "+")));
        let proc = Proc::spawn(
            "mediamesh serve",
            Command::new(BIN)
                .args(["serve", "--target", target, "--nats-url", nats])
                .args(["--grpc-addr", &format!("127.0.0.1:{port}")])
                .args(["--admin-addr", &format!("127.0.0.1:{admin_port}")])
                .args(db.args())
                .args(extra)
                .envs(env.iter().copied()),
            &log,
        );
        let mesh = Mesh {
            grpc_port: port,
            admin_port,
            rest_port: None,
            cinema_port: None,
            music_port: None,
            video_port: None,
            iptv_port: None,
            proc,
            log,
        };
        mesh.wait_serving().await;
        mesh
    }

    /// `mediamesh up` with Envoy on a free REST port for vod.
    pub async fn up(
        nats: Option<&str>,
        db: &Db,
        grpc_port: u16,
        rest_port: u16,
        logs: &Path,
    ) -> Mesh {
        Mesh::up_with(nats, db, grpc_port, rest_port, None, logs).await
    }

    pub async fn up_with(
        nats: Option<&str>,
        db: &Db,
        grpc_port: u16,
        rest_port: u16,
        nats_port: Option<u16>,
        logs: &Path,
    ) -> Mesh {
        Mesh::up_flags(nats, db, grpc_port, rest_port, nats_port, logs, &[]).await
    }

    /// `up` with extra flags (`--auth`).
    pub async fn up_flags(
        nats: Option<&str>,
        db: &Db,
        grpc_port: u16,
        rest_port: u16,
        nats_port: Option<u16>,
        logs: &Path,
        extra: &[&str],
    ) -> Mesh {
        let log = logs.join(format!("up-{grpc_port}.log"));
        let admin_port = free_port();
        let cinema_port = free_port();
        let music_port = free_port();
        let video_port = free_port();
        let iptv_port = free_port();
        let mut command = Command::new(BIN);
        command
            .args(["up", "--grpc-addr", &format!("127.0.0.1:{grpc_port}")])
            .args(["--admin-addr", &format!("127.0.0.1:{admin_port}")])
            .args([
                "--rest-ports",
                &format!(
                    "vod={rest_port},cinema={cinema_port},music={music_port},video={video_port},\
                     iptv={iptv_port}"
                ),
            ])
            .args(db.args())
            .args(extra);
        if let Some(nats) = nats {
            command.args(["--nats-url", nats]);
        }
        if let Some(port) = nats_port {
            command.args(["--nats-port", &port.to_string()]);
        }
        if let Db::Postgres(_) = db {
            command.args([
                "--data-dir",
                &logs.join(format!("up-{grpc_port}")).display().to_string(),
            ]);
        }
        let proc = Proc::spawn("mediamesh up", &mut command, &log);
        let mesh = Mesh {
            grpc_port,
            admin_port,
            rest_port: Some(rest_port),
            cinema_port: Some(cinema_port),
            music_port: Some(music_port),
            video_port: Some(video_port),
            iptv_port: Some(iptv_port),
            proc,
            log,
        };
        mesh.wait_serving().await;
        wait_for_port(rest_port, Duration::from_secs(20));
        wait_for_port(cinema_port, Duration::from_secs(20));
        wait_for_port(music_port, Duration::from_secs(20));
        wait_for_port(video_port, Duration::from_secs(20));
        wait_for_port(iptv_port, Duration::from_secs(20));
        mesh
    }

    pub fn grpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    pub fn music(&self) -> String {
        format!(
            "http://127.0.0.1:{}",
            self.music_port.expect("up has music REST")
        )
    }

    pub fn video(&self) -> String {
        format!(
            "http://127.0.0.1:{}",
            self.video_port.expect("up has video REST")
        )
    }

    pub fn iptv(&self) -> String {
        format!(
            "http://127.0.0.1:{}",
            self.iptv_port.expect("up has iptv REST")
        )
    }

    pub fn cinema(&self) -> String {
        format!(
            "http://127.0.0.1:{}",
            self.cinema_port.expect("up has cinema REST")
        )
    }

    pub fn rest(&self) -> String {
        format!("http://127.0.0.1:{}", self.rest_port.expect("up has REST"))
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.grpc_url())
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    pub async fn wait_serving(&self) {
        let url = self.grpc_url();
        let log = self.log.clone();
        eventually(
            &format!("{url} SERVING (log: {})", log.display()),
            Duration::from_secs(60),
            || {
                let url = url.clone();
                async move {
                    let channel = Channel::from_shared(url).ok()?.connect().await.ok()?;
                    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
                    let status = health
                        .check(tonic_health::pb::HealthCheckRequest::default())
                        .await
                        .ok()?;
                    (status.into_inner().status == 1).then_some(())
                }
            },
        )
        .await
    }

    pub async fn purchases(&self) -> pb::purchase_service_client::PurchaseServiceClient<Channel> {
        pb::purchase_service_client::PurchaseServiceClient::new(self.channel().await)
    }

    pub async fn mileage(&self) -> pb::mileage_service_client::MileageServiceClient<Channel> {
        pb::mileage_service_client::MileageServiceClient::new(self.channel().await)
    }
}

/// A customer's mileage, or None while it has none.
pub async fn mileage_of(mesh: &Mesh, customer: &str) -> Option<pb::Mileage> {
    let request = pb::GetMileageRequest {
        customer_id: customer.into(),
    };
    mesh.mileage()
        .await
        .get_mileage(request)
        .await
        .ok()
        .map(|r| r.into_inner())
}

/// Every purchase of a customer.
pub async fn purchases_of(mesh: &Mesh, customer: &str) -> Vec<pb::Purchase> {
    let mut client = mesh.purchases().await;
    let (mut all, mut token) = (Vec::new(), String::new());
    loop {
        let request = pb::ListPurchasesRequest {
            page_size: 1000,
            page_token: token,
            customer_id: customer.into(),
        };
        let page = client.list_purchases(request).await.unwrap().into_inner();
        all.extend(page.purchases);
        if page.next_page_token.is_empty() {
            return all;
        }
        token = page.next_page_token;
    }
}

/// The mileage invariant: every paid purchase earned 1000 points exactly once, and every
/// 5000 points became one free-VOD credit (unused ones are counted by mileage, used ones
/// are the free purchases).
pub fn mileage_balances(purchases: &[pb::Purchase], mileage: Option<&pb::Mileage>) -> bool {
    let paid = |p: &&pb::Purchase| p.order_status == "PAID";
    let earned = purchases
        .iter()
        .filter(paid)
        .filter(|p| !p.free_vod)
        .count() as i64
        * 1000;
    let free_used = purchases.iter().filter(paid).filter(|p| p.free_vod).count() as i64;
    let (points, unused) = mileage
        .map(|m| (m.points as i64, m.free_vod_credits as i64))
        .unwrap_or((0, 0));
    earned == points + 5000 * (unused + free_used)
}

/// One test's world: a folder for logs and data, a nats-server, and a database.
pub struct Sandbox {
    pub nats: Nats,
    pub db: Db,
    pub logs: TempDir,
}

impl Sandbox {
    /// SQLite files under the test's folder.
    pub fn sqlite(name: &str) -> Sandbox {
        let logs = TempDir::new(name);
        let db = Db::Sqlite(logs.path().join("data"));
        Sandbox {
            nats: Nats::start(),
            db,
            logs,
        }
    }

    /// A fresh database on the shared PostgreSQL server.
    pub fn postgres(name: &str) -> Sandbox {
        let db = Db::Postgres(postgres::Postgres::shared().database());
        Sandbox {
            nats: Nats::start(),
            db,
            logs: TempDir::new(name),
        }
    }

    /// `mediamesh up` (with Envoy) on free ports, using this sandbox's NATS.
    pub async fn up(&self) -> Mesh {
        Mesh::up(
            Some(&self.nats.url),
            &self.db,
            free_port(),
            free_port(),
            self.logs.path(),
        )
        .await
    }

    /// `mediamesh serve --target TARGET` on a free port.
    pub async fn serve(&self, target: &str) -> Mesh {
        self.serve_with(free_port(), target, &[], &[]).await
    }

    /// vod.payment in a process of its own (to hang or kill alone) and the rest of vod in
    /// another with payment as its peer; a first purchase has gone through.
    pub async fn vod_payment_apart(&self) -> (Mesh, Mesh) {
        let payment_port = free_port();
        let payment = self.serve_with(payment_port, "vod.payment", &[], &[]).await;
        let peer = format!("vod.payment=http://127.0.0.1:{payment_port}");
        let shop = self
            .serve_with(
                free_port(),
                "vod.catalog,vod.purchase,vod.mileage",
                &["--peer", &peer],
                &[],
            )
            .await;
        assert_eq!(buy(&shop, "1", "lee").await.unwrap().order_status, "PAID");
        (payment, shop)
    }

    /// `serve` on `port` with extra flags and environment.
    pub async fn serve_with(
        &self,
        port: u16,
        target: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Mesh {
        Mesh::serve_env(
            port,
            target,
            &self.nats.url,
            &self.db,
            extra,
            env,
            self.logs.path(),
        )
        .await
    }
}

/// Buys a VOD over gRPC.
pub async fn buy(mesh: &Mesh, vod_id: &str, customer: &str) -> Result<pb::Purchase, tonic::Status> {
    let request = pb::CreatePurchaseRequest {
        vod_id: vod_id.into(),
        customer_id: customer.into(),
        ..Default::default()
    };
    mesh.purchases()
        .await
        .create_purchase(request)
        .await
        .map(|r| r.into_inner())
}

/// Calls `call` until a failure comes back at once (an open breaker); every failure must
/// be UNAVAILABLE with RetryInfo within 1.5 s. Returns the slowest failure.
pub async fn fails_then_fast<T, F, Fut>(call: F) -> Duration
where
    T: std::fmt::Debug,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, tonic::Status>>,
{
    use tonic_types::StatusExt;
    let mut slowest = Duration::ZERO;
    for attempt in 0..20 {
        let started = Instant::now();
        let status = call().await.expect_err("the callee is not answering");
        let took = started.elapsed();
        assert_eq!(
            status.code(),
            tonic::Code::Unavailable,
            "attempt {attempt}: {status:?}"
        );
        assert!(
            status.get_details_retry_info().is_some(),
            "RetryInfo missing: {status:?}"
        );
        assert!(
            took < Duration::from_millis(1500),
            "attempt {attempt} took {took:?}"
        );
        slowest = slowest.max(took);
        if took < Duration::from_millis(100) && attempt > 0 {
            return slowest; // the breaker is open: answered at once
        }
    }
    panic!("the breaker never opened");
}
