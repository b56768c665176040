//! `mediamesh up` (everything, with nats-server and Envoy as children) and `mediamesh serve`
//! (some contexts, external NATS: what containers run).
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::time::{Duration, Instant};

use mediamesh_mesh::serving::runtime;
use tokio::net::TcpListener;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::children::{Supervised, find_tool};
use crate::cli::{ServeArgs, UpArgs};
use crate::targets;

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    crate::contracts::verify()?;
    let contexts = targets::select(&args.target)?;
    let nats_url = args
        .nats_url
        .clone()
        .ok_or_else(|| anyhow::anyhow!("serve needs --nats-url (or MEDIAMESH_NATS_URL)"))?;
    let listener = TcpListener::bind(args.grpc_addr).await?;
    let mut config = args.mesh_config(nats_url);
    config.auth = args.mesh_auth()?;
    runtime::run(config, contexts, listener, shutdown_signal()).await
}

/// `mediamesh views rebuild`: replays every targeted context that keeps views.
pub async fn rebuild_views(args: ServeArgs) -> anyhow::Result<()> {
    let nats_url = args
        .nats_url
        .clone()
        .ok_or_else(|| anyhow::anyhow!("views rebuild needs --nats-url (or MEDIAMESH_NATS_URL)"))?;
    let config = args.mesh_config(nats_url);
    let contexts: Vec<_> = targets::select(&args.target)?
        .into_iter()
        .filter(|c| !c.info().views.is_empty())
        .collect();
    anyhow::ensure!(!contexts.is_empty(), "{} keeps no views", args.target);
    for context in contexts {
        let id = context.info().id();
        let applied = mediamesh_mesh::serving::views::rebuild(&config, context).await?;
        println!("{id}: views rebuilt from {applied} events");
    }
    Ok(())
}

pub async fn up(args: UpArgs) -> anyhow::Result<()> {
    crate::contracts::verify()?;
    let serve = &args.serve;
    let contexts = targets::select(&serve.target)?;
    if !serve.data_dir.exists() {
        // The stores, the broker's files and the signing key are this user's only.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&serve.data_dir)?;
    }
    let data_dir = std::fs::canonicalize(&serve.data_dir)?;

    let mut nats = None;
    let nats_url = match &serve.nats_url {
        Some(url) => url.clone(),
        None => {
            // The local broker takes only this process: a token made for this run.
            let token = uuid::Uuid::new_v4().simple().to_string();
            let addr = SocketAddr::from(([127, 0, 0, 1], args.nats_port));
            // In a file only this user reads, never on the command line (`ps` shows that to
            // every user of the machine).
            let conf = data_dir.join("nats.conf");
            write_private(&conf, &format!("authorization {{ token: \"{token}\" }}\n"))?;
            let nats_args: Vec<std::ffi::OsString> = [
                "-c".into(),
                conf.into_os_string(),
                "-js".into(),
                "-a".into(),
                "127.0.0.1".into(),
                "-p".into(),
                args.nats_port.to_string().into(),
                "-sd".into(),
                data_dir.join("nats").into_os_string(),
            ]
            .to_vec();
            let mut child = Supervised::spawn(
                "nats-server",
                find_tool("nats-server")?,
                nats_args,
                &[],
                &data_dir.join("nats.log"),
            )?;
            child.wait_for_port(addr, Duration::from_secs(10))?;
            nats = Some(child);
            format!("nats://{token}@{addr}")
        }
    };

    let listener = TcpListener::bind(serve.grpc_addr).await?;
    let grpc = listener.local_addr()?;
    let gateway = crate::envoy::Gateway {
        rest_ip: args.rest_addr,
        rest_ports: &args.rest_ports,
        grpc,
        admin_port: args.envoy_admin_port,
    };
    let envoy_yaml = crate::envoy::write_config(&data_dir.join("envoy"), &contexts, &gateway)?;
    // --auth: the data dir's key (made on first use) signs the mesh's own token; its JWKS
    // checks tokens at the gateway and in the mesh.
    let auth = if args.auth {
        let key = crate::token::SigningKey::ensure(&data_dir)?;
        let yaml = std::fs::read_to_string(&envoy_yaml)?;
        std::fs::write(&envoy_yaml, crate::envoy::require_jwt(&yaml, &key.jwks))?;
        Some(mediamesh_mesh::serving::runtime::MeshAuth {
            jwks: std::fs::read_to_string(&key.jwks)?,
            service_token: Some(key.service_token()?),
        })
    } else {
        serve.mesh_auth()?
    };
    let envoy_args: Vec<std::ffi::OsString> = vec![
        "-c".into(),
        envoy_yaml.into_os_string(),
        "--use-dynamic-base-id".into(),
        "-l".into(),
        "warning".into(),
        "--disable-hot-restart".into(),
    ];
    let mut envoy = Supervised::spawn(
        "envoy",
        find_tool("envoy")?,
        envoy_args,
        &[],
        &data_dir.join("envoy.log"),
    )?;
    let served_apps: Vec<(String, u16)> = args
        .rest_ports
        .iter()
        .filter(|(app, _)| contexts.iter().any(|c| c.info().app == app))
        .cloned()
        .collect();
    // Where to reach the REST ports from here: loopback when they bind every interface.
    let rest_host = match args.rest_addr {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    for (_, port) in &served_apps {
        envoy.wait_for_port(SocketAddr::new(rest_host, *port), Duration::from_secs(20))?;
    }

    let mut config = serve.mesh_config(nats_url.clone());
    config.auth = auth;
    let config_admin = config.admin_addr;
    let mut mesh = tokio::spawn(runtime::run(config, contexts, listener, shutdown_signal()));
    tokio::select! {
        ready = wait_serving(grpc, Duration::from_secs(60)) => ready?,
        ended = &mut mesh => return ended?,
    }
    println!("mediamesh is up (Ctrl-C to stop)");
    println!("  gRPC       {grpc}  (every service, reflection, health)");
    for (app, port) in &served_apps {
        let url = format!("http://{}", SocketAddr::new(rest_host, *port));
        println!("  REST {app:<5} {url}  ({app}'s public RPCs, REST and gRPC)");
    }
    if let Some(admin) = config_admin {
        println!("  console    http://{admin}/  (live context map; /metrics for Prometheus)");
    }
    println!("  NATS       {}", redact(&nats_url));
    println!("  data       {}", data_dir.display());
    if args.auth {
        println!(
            "  auth       bearer JWT required: mediamesh token --data-dir {} --sub ID [--role ROLE]",
            data_dir.display()
        );
    }
    // Until the mesh stops: a child that exits (killed, crashed) is started again at once.
    let result = loop {
        tokio::select! {
            ended = &mut mesh => break ended?,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {
                envoy.restart_if_exited()?;
                if let Some(nats) = nats.as_mut() {
                    nats.restart_if_exited()?;
                }
            }
        }
    };
    // The mesh has flushed its outbox: now the gateway, and the broker last.
    drop(envoy);
    drop(nats);
    result
}

/// A NATS URL without its credentials, for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// Polls gRPC health until the whole server reports SERVING.
async fn wait_serving(grpc: SocketAddr, within: Duration) -> anyhow::Result<()> {
    let host = if grpc.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        grpc.ip().to_string()
    };
    let url = format!("http://{host}:{}", grpc.port());
    let deadline = Instant::now() + within;
    loop {
        if let Ok(channel) = tonic::transport::Endpoint::from_shared(url.clone())?
            .connect()
            .await
            && let Ok(response) = HealthClient::new(channel)
                .check(HealthCheckRequest::default())
                .await
            && response.into_inner().status == ServingStatus::Serving as i32
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!("mesh not SERVING within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Writes `text` to `path`, readable and writable by this user only.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // An older file keeps its mode on open: make sure of it.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())
}
