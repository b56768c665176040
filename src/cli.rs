//! Command-line interface. Precedence: flags, then `MEDIAMESH_*` environment variables, then
//! the optional config file (`--config FILE` or `MEDIAMESH_CONFIG`, lines `MEDIAMESH_X=value`),
//! then defaults.
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use mediamesh_mesh::calls::resilience::CallPolicy;
use mediamesh_mesh::serving::console::peers::AdminPeer;
use mediamesh_mesh::serving::runtime::{MeshAuth, MeshConfig};
use mediamesh_mesh::storage::store::Database;

#[derive(Parser)]
#[command(
    name = "mediamesh",
    version,
    about = "Five media-business systems as one gRPC service mesh"
)]
pub struct Cli {
    /// Log one JSON object per line.
    #[arg(long, global = true, env = "MEDIAMESH_LOG_JSON")]
    pub log_json: bool,
    /// A file of MEDIAMESH_X=value lines (below flags and environment in precedence).
    #[arg(long, global = true, env = "MEDIAMESH_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run every context with a local nats-server and Envoy until Ctrl-C.
    Up(UpArgs),
    /// Run some contexts in this process (what containers run).
    Serve(ServeArgs),
    /// Print the effective configuration.
    Config(ServeArgs),
    /// Print the context map as Mermaid.
    Map,
    /// Issue a development token (ES256) signed by the key under the data dir.
    Token(crate::token::TokenArgs),
    /// Write the Envoy gateway's config for contexts served elsewhere (the chart's init
    /// container): one cluster per context, public RPCs only.
    Gateway(crate::gateway::GatewayArgs),
    /// Drive a load scenario and report throughput, latency, errors and memory.
    Bench(crate::bench::BenchArgs),
    /// Operate read models (CQRS views).
    Views {
        #[command(subcommand)]
        command: ViewsCommand,
    },
    /// Events that could not be published or applied: list them, replay them once fixed.
    Deadletters {
        #[command(subcommand)]
        command: crate::deadletters::DeadlettersCommand,
    },
}

#[derive(Subcommand)]
pub enum ViewsCommand {
    /// Empty the views of the target contexts and replay their streams from the start.
    /// Stop those contexts first.
    Rebuild(ServeArgs),
}

#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    /// Contexts to run: `all`, an app (`vod`) or contexts (`vod.catalog,vod.purchase`).
    #[arg(long, env = "MEDIAMESH_TARGET", default_value = "all")]
    pub target: String,
    /// gRPC listen address (every service, internal RPCs too, reflection, health): loopback
    /// unless widened; containers set `0.0.0.0:50051` for their mesh peers.
    #[arg(long, env = "MEDIAMESH_GRPC_ADDR", default_value = "127.0.0.1:50051")]
    pub grpc_addr: SocketAddr,
    /// NATS server URL (JetStream enabled), or a cluster's nodes comma-separated.
    #[arg(long, env = "MEDIAMESH_NATS_URL")]
    pub nats_url: Option<String>,
    /// Folder for SQLite files (one per context).
    #[arg(long, env = "MEDIAMESH_DATA_DIR", default_value = ".mediamesh")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL (a schema per context) instead of SQLite files.
    #[arg(long, env = "MEDIAMESH_DATABASE_URL")]
    pub database_url: Option<String>,
    /// PostgreSQL connections per context in this process (the server's `max_connections`
    /// must hold contexts x replicas x this, plus headroom).
    #[arg(long, env = "MEDIAMESH_DB_POOL_SIZE", default_value_t = mediamesh_mesh::storage::store::DEFAULT_POOL_SIZE, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_pool_size: u32,
    /// SQLite `synchronous=FULL` (survives power loss) instead of NORMAL.
    #[arg(long, env = "MEDIAMESH_SQLITE_SYNC_FULL")]
    pub sqlite_sync_full: bool,
    /// Where to reach a context not run here: CONTEXT=URL, repeatable.
    #[arg(long = "peer", env = "MEDIAMESH_PEERS", value_delimiter = ',', value_parser = parse_peer)]
    pub peers: Vec<(String, String)>,
    /// Calls in flight per server before it sheds load with RESOURCE_EXHAUSTED.
    #[arg(long, env = "MEDIAMESH_MAX_IN_FLIGHT", default_value_t = 1024)]
    pub max_in_flight: usize,
    /// Per-call timeout of sync calls between contexts, in milliseconds.
    #[arg(long, env = "MEDIAMESH_CALL_TIMEOUT_MS", default_value_t = 610)]
    pub call_timeout_ms: u64,
    /// JetStream replicas of the app streams (3 on a 3-node cluster); existing streams are
    /// brought to it on start.
    #[arg(long, env = "MEDIAMESH_STREAM_REPLICAS", default_value_t = 1)]
    pub stream_replicas: usize,
    /// Seconds a context may be unable to work (store or JetStream lost) before the
    /// `liveness` health service turns NOT_SERVING.
    #[arg(long, env = "MEDIAMESH_LIVENESS_GRACE_SECS", default_value_t = 30)]
    pub liveness_grace_secs: u64,
    /// Admin address serving Prometheus `/metrics` and the live console (`/`); `off` for none.
    /// Loopback unless widened.
    #[arg(long, env = "MEDIAMESH_ADMIN_ADDR", default_value = "127.0.0.1:9464", value_parser = parse_admin)]
    pub admin_addr: AdminAddr,
    /// Another mesh process's admin port (`http://127.0.0.1:9465`), repeatable, at most 32:
    /// the console shows the contexts it runs, with their live figures, beside these.
    #[arg(long = "admin-peer", env = "MEDIAMESH_ADMIN_PEERS", value_delimiter = ',', value_parser = AdminPeer::parse)]
    pub admin_peers: Vec<AdminPeer>,
    /// Check a bearer token (JWT) on every call against this JWKS file; unset: auth off.
    #[arg(long, env = "MEDIAMESH_AUTH_JWKS")]
    pub auth_jwks: Option<PathBuf>,
    /// The mesh's own token (role `mesh`) for its calls between contexts, when auth is on.
    #[arg(long, env = "MEDIAMESH_AUTH_SERVICE_TOKEN", hide_env_values = true)]
    pub auth_service_token: Option<String>,
}

/// An admin address, or `off`.
#[derive(Clone, Copy, Debug)]
pub struct AdminAddr(pub Option<SocketAddr>);

fn parse_admin(s: &str) -> Result<AdminAddr, String> {
    if s == "off" {
        return Ok(AdminAddr(None));
    }
    s.parse()
        .map(|a| AdminAddr(Some(a)))
        .map_err(|e| format!("{e}"))
}

#[derive(Args, Clone, Debug)]
pub struct UpArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Port of the local nats-server started when no --nats-url is given.
    #[arg(long, env = "MEDIAMESH_NATS_PORT", default_value_t = 4222)]
    pub nats_port: u16,
    /// REST ports per app (Envoy): APP=PORT, comma-separated.
    #[arg(long, env = "MEDIAMESH_REST_PORTS", value_delimiter = ',', value_parser = parse_port,
          default_value = "video=8081,vod=8082,cinema=8083,music=8084,iptv=8085")]
    pub rest_ports: Vec<(String, u16)>,
    /// Address the REST ports bind: loopback unless widened (`0.0.0.0` for every interface).
    #[arg(long, env = "MEDIAMESH_REST_ADDR", default_value = "127.0.0.1")]
    pub rest_addr: IpAddr,
    /// Require a bearer token (JWT) at the gateway and in the mesh, signed by the data dir's
    /// key (`mediamesh token`); the JWKS and the mesh's own token are made here.
    #[arg(long, env = "MEDIAMESH_AUTH")]
    pub auth: bool,
    /// Envoy admin port (0: any free port).
    #[arg(long, env = "MEDIAMESH_ENVOY_ADMIN_PORT", default_value_t = 0)]
    pub envoy_admin_port: u16,
}

fn parse_peer(s: &str) -> Result<(String, String), String> {
    let (context, url) = s.split_once('=').ok_or("expected CONTEXT=URL")?;
    Ok((context.trim().to_owned(), url.trim().to_owned()))
}

pub(crate) fn parse_port(s: &str) -> Result<(String, u16), String> {
    let (app, port) = s.split_once('=').ok_or("expected APP=PORT")?;
    Ok((
        app.trim().to_owned(),
        port.trim().parse().map_err(|e| format!("port: {e}"))?,
    ))
}

impl ServeArgs {
    pub fn mesh_config(&self, nats_url: String) -> MeshConfig {
        let database = match &self.database_url {
            Some(url) => Database::Postgres {
                url: url.clone(),
                pool_size: self.db_pool_size,
            },
            None => Database::SqliteDir {
                dir: self.data_dir.clone(),
                synchronous_full: self.sqlite_sync_full,
            },
        };
        MeshConfig {
            nats_url,
            database,
            peers: self.peers.iter().cloned().collect::<BTreeMap<_, _>>(),
            max_in_flight: self.max_in_flight,
            call_policy: CallPolicy {
                timeout: Duration::from_millis(self.call_timeout_ms),
                ..CallPolicy::default()
            },
            stream_replicas: self.stream_replicas,
            admin_addr: self.admin_addr.0,
            admin_peers: self.admin_peers.clone(),
            liveness_grace: Duration::from_secs(self.liveness_grace_secs),
            auth: None,
        }
    }

    /// Auth settings from `--auth-jwks` and `--auth-service-token`; None when off.
    pub fn mesh_auth(&self) -> anyhow::Result<Option<MeshAuth>> {
        let Some(path) = &self.auth_jwks else {
            return Ok(None);
        };
        let jwks = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("JWKS {}: {e}", path.display()))?;
        Ok(Some(MeshAuth {
            jwks,
            service_token: self.auth_service_token.clone(),
        }))
    }
}

/// Loads `MEDIAMESH_X=value` lines from the config file into the environment, never over a
/// variable already set (environment beats file).
pub fn load_config_file() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let from_flag = args
        .iter()
        .position(|a| a == "--config")
        .and_then(|i| args.get(i + 1).cloned());
    let Some(path) = from_flag.or_else(|| std::env::var("MEDIAMESH_CONFIG").ok()) else {
        return Ok(());
    };
    let text =
        std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("config file {path}: {e}"))?;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .filter(|(k, _)| k.starts_with("MEDIAMESH_"))
            .ok_or_else(|| anyhow::anyhow!("{path}:{}: expected MEDIAMESH_X=value", n + 1))?;
        if std::env::var_os(key.trim()).is_none() {
            // SAFETY: called from main before the runtime or any other thread starts, so no
            // other thread can be reading the environment.
            #[allow(unsafe_code)]
            unsafe {
                std::env::set_var(key.trim(), value.trim())
            };
        }
    }
    Ok(())
}

/// `mediamesh config`: the effective configuration, secrets masked.
pub fn print_config(args: &ServeArgs) -> anyhow::Result<()> {
    let contexts = crate::targets::select(&args.target)?;
    let database = match &args.database_url {
        Some(url) => mask_password(url),
        None => format!("sqlite:{}", args.data_dir.display()),
    };
    let config = serde_json::json!({
        "target": args.target,
        "contexts": contexts.iter().map(|c| c.info().id()).collect::<Vec<_>>(),
        "grpc_addr": args.grpc_addr.to_string(),
        "nats_url": args.nats_url.clone().unwrap_or_else(|| "(local nats-server started by `up`)".into()),
        "database": database,
        "db_pool_size": args.db_pool_size,
        "sqlite_synchronous": if args.sqlite_sync_full { "FULL" } else { "NORMAL" },
        "peers": args.peers.iter().cloned().collect::<BTreeMap<_, _>>(),
        "max_in_flight": args.max_in_flight,
        "call_timeout_ms": args.call_timeout_ms,
        "stream_replicas": args.stream_replicas,
        "liveness_grace_secs": args.liveness_grace_secs,
        "auth_jwks": args.auth_jwks.as_ref().map(|p| p.display().to_string()),
        "auth_service_token": args.auth_service_token.as_ref().map(|_| "****"),
        "admin_addr": args.admin_addr.0.map(|a| a.to_string()).unwrap_or_else(|| "off".into()),
        "admin_peers": args.admin_peers.iter().map(AdminPeer::url).collect::<Vec<_>>(),
    });
    println!("{}", serde_json::to_string_pretty(&config)?);
    Ok(())
}

fn mask_password(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}://{user}:****{}", &url[..scheme], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
