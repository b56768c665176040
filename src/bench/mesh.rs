//! The mesh under test: started as child processes, or an external one.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::children::{Supervised, find_tool};

/// Peak resident set of a process, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub async fn wait_ready(channel: &Channel) -> anyhow::Result<()> {
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

/// A throwaway mesh for the benchmark: nats-server and `mediamesh serve` as
/// children, on free ports, data in a temporary folder.
pub struct OwnMesh {
    pub grpc: SocketAddr,
    pub nats_url: String,
    mesh: Supervised,
    _nats: Supervised,
    dir: PathBuf,
}

impl OwnMesh {
    /// Starts nats-server and `mediamesh serve --target TARGET` (on PostgreSQL with a URL).
    pub fn start(target: &str, database_url: Option<&str>) -> anyhow::Result<OwnMesh> {
        let dir = std::env::temp_dir().join(format!("mediamesh-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let nats_port = free_port()?;
        let nats_args: Vec<std::ffi::OsString> = vec![
            "-js".into(),
            "-a".into(),
            "127.0.0.1".into(),
            "-p".into(),
            nats_port.to_string().into(),
            "-sd".into(),
            dir.join("nats").into_os_string(),
        ];
        let mut nats = Supervised::spawn(
            "nats-server",
            find_tool("nats-server")?,
            nats_args,
            &[],
            &dir.join("nats.log"),
        )?;
        nats.wait_for_port(
            SocketAddr::from(([127, 0, 0, 1], nats_port)),
            Duration::from_secs(10),
        )?;
        let nats_url = format!("nats://127.0.0.1:{nats_port}");
        let grpc = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let mut mesh_args: Vec<std::ffi::OsString> = vec![
            "serve".into(),
            "--target".into(),
            target.into(),
            "--grpc-addr".into(),
            grpc.to_string().into(),
            "--nats-url".into(),
            nats_url.clone().into(),
            "--admin-addr".into(),
            format!("127.0.0.1:{}", free_port()?).into(),
            "--data-dir".into(),
            dir.join("data").into_os_string(),
        ];
        if let Some(url) = database_url {
            mesh_args.extend(["--database-url".into(), url.into()]);
        }
        let mut mesh = Supervised::spawn(
            "mediamesh",
            std::env::current_exe()?,
            mesh_args,
            &[("MEDIAMESH_LOG", "warn")],
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

    /// Where the mesh keeps its SQLite files.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn pid(&self) -> u32 {
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
