//! `mediamesh gateway`: Envoy's config for contexts that run elsewhere (Kubernetes: one
//! Deployment per context). The same listeners, transcoder and exact-path public routes as
//! `mediamesh up` writes (`envoy.rs`), but each context is its own cluster of endpoints found
//! by DNS (`STRICT_DNS`: a headless Service answers with every ready pod), health-checked over
//! gRPC so a draining replica (NOT_SERVING on SIGTERM) leaves the rotation before it stops
//! accepting calls, and routes retry elsewhere only when a call surely never ran.
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use mediamesh_mesh::Context;

use crate::envoy::{Route, head, listener, public_paths, write_descriptor};

#[derive(Args, Clone, Debug)]
pub struct GatewayArgs {
    /// Folder to write `envoy.yaml` and `descriptor.pb` into (Envoy reads them there).
    #[arg(long, env = "MEDIAMESH_GATEWAY_OUT")]
    pub out: PathBuf,
    /// A context's endpoint: CONTEXT=HOST:PORT (HOST may be a DNS name: every address it
    /// resolves to is an endpoint). Repeatable, also for more endpoints of one context.
    #[arg(long = "upstream", env = "MEDIAMESH_UPSTREAMS", value_delimiter = ',',
          value_parser = parse_upstream, required = true)]
    pub upstreams: Vec<Upstream>,
    /// REST ports per app: APP=PORT, comma-separated.
    #[arg(long, env = "MEDIAMESH_REST_PORTS", value_delimiter = ',', value_parser = crate::cli::parse_port,
          default_value = "video=8081,vod=8082,cinema=8083,music=8084,iptv=8085")]
    pub rest_ports: Vec<(String, u16)>,
    /// Address the REST ports bind.
    #[arg(long, env = "MEDIAMESH_REST_ADDR", default_value = "0.0.0.0")]
    pub rest_addr: IpAddr,
    /// A JWKS file: every route then needs a bearer token (JWT) verified against it
    /// (Envoy `jwt_authn`, as `up --auth`). The file must be at this path for Envoy too.
    #[arg(long, env = "MEDIAMESH_GATEWAY_JWKS")]
    pub jwks: Option<PathBuf>,
    /// Envoy admin port on loopback (0: a socket file in the output folder instead).
    #[arg(long, env = "MEDIAMESH_ENVOY_ADMIN_PORT", default_value_t = 0)]
    pub admin_port: u16,
}

#[derive(Clone, Debug)]
pub struct Upstream {
    pub context: String,
    pub host: String,
    pub port: u16,
}

fn parse_upstream(s: &str) -> Result<Upstream, String> {
    let (context, addr) = s.split_once('=').ok_or("expected CONTEXT=HOST:PORT")?;
    let (host, port) = addr
        .trim()
        .rsplit_once(':')
        .ok_or("expected CONTEXT=HOST:PORT")?;
    Ok(Upstream {
        context: context.trim().to_owned(),
        host: host.to_owned(),
        port: port.parse().map_err(|e| format!("port: {e}"))?,
    })
}

/// `mediamesh gateway`: writes the config and says where.
pub fn run(args: &GatewayArgs) -> anyhow::Result<()> {
    let path = write(args, &crate::targets::all_contexts())?;
    println!("{}", path.display());
    Ok(())
}

/// Writes `envoy.yaml` and `descriptor.pb` into `args.out`; returns the config path.
pub fn write(args: &GatewayArgs, all: &[Arc<dyn Context>]) -> anyhow::Result<PathBuf> {
    for upstream in &args.upstreams {
        anyhow::ensure!(
            all.iter().any(|c| c.info().id() == upstream.context),
            "--upstream names no context: {:?} (a context id such as vod.purchase)",
            upstream.context
        );
    }
    let descriptor = write_descriptor(&args.out)?;
    let mut yaml = head(&args.out, args.admin_port);
    let mut routed: Vec<&Arc<dyn Context>> = Vec::new();
    for (app, port) in &args.rest_ports {
        let contexts: Vec<&Arc<dyn Context>> = all
            .iter()
            .filter(|c| c.info().app == app && endpoints(args, c).next().is_some())
            .collect();
        if contexts.is_empty() {
            continue;
        }
        let mut services = Vec::new();
        let mut routes = Vec::new();
        for context in &contexts {
            let own: Vec<&str> = context.info().services.iter().map(|(s, _)| *s).collect();
            routes.extend(public_paths(&own).into_iter().map(|path| Route {
                path,
                cluster: cluster_name(context),
            }));
            services.extend(own);
        }
        let listen = SocketAddr::new(args.rest_addr, *port);
        listener(&mut yaml, app, listen, &services, &routes, &descriptor);
        routed.extend(contexts);
    }
    anyhow::ensure!(
        !routed.is_empty(),
        "no --upstream belongs to an app with a REST port"
    );
    yaml.push_str("  clusters:\n");
    for context in routed {
        let hosts: Vec<&Upstream> = endpoints(args, context).collect();
        cluster(&mut yaml, &cluster_name(context), &hosts);
    }
    if let Some(jwks) = &args.jwks {
        yaml = crate::envoy::require_jwt(&yaml, jwks);
    }
    let path = args.out.join("envoy.yaml");
    std::fs::write(&path, yaml)?;
    Ok(path)
}

fn endpoints<'a>(
    args: &'a GatewayArgs,
    context: &Arc<dyn Context>,
) -> impl Iterator<Item = &'a Upstream> {
    let id = context.info().id();
    args.upstreams.iter().filter(move |u| u.context == id)
}

fn cluster_name(context: &Arc<dyn Context>) -> String {
    format!("mediamesh_{}", context.info().id().replace('.', "_"))
}

/// A context's cluster. Health: gRPC health of the whole server (`""`) each second (also
/// before the first call: Envoy's default then is a minute). One NOT_SERVING answer takes the
/// endpoint out at once (Envoy counts an explicit answer without a threshold), so a replica
/// that starts draining leaves within a second; a check that times out or cannot connect
/// counts only the third time in a row, so a slow second on a busy machine drops no one;
/// one SERVING answer brings it back. No panic routing: with every endpoint unhealthy Envoy
/// answers 503 rather than send calls to replicas that said they cannot take them.
/// Outlier detection ejects an endpoint at its first refused connection (a replica that
/// drained and stopped between two health checks) for a second or more, so calls go to the
/// others at once rather than each trying it first. Any number may be ejected: an endpoint
/// that refuses connections takes no calls anyway. Answers from the mesh (5xx included)
/// never eject: they are the service's, not the endpoint's. A process started again on the
/// same address while Envoy still counts it healthy answers UNAVAILABLE marked
/// `mediamesh-not-run` until it serves, and that is retried elsewhere (`envoy::Route`).
fn cluster(yaml: &mut String, name: &str, hosts: &[&Upstream]) {
    let endpoints: String = hosts
        .iter()
        .map(|u| {
            format!(
                "        - endpoint:\n            address:\n\
                 \x20             socket_address: {{ address: \"{}\", port_value: {} }}\n",
                u.host, u.port
            )
        })
        .collect();
    let _ = write!(
        yaml,
        "  - name: {name}\n    type: STRICT_DNS\n    connect_timeout: 1s\n\
         \x20   circuit_breakers:\n      thresholds:\n\
         \x20     - {{ max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 64 }}\n\
         \x20   common_lb_config:\n      healthy_panic_threshold: {{ value: 0 }}\n\
         \x20   outlier_detection:\n\
         \x20     split_external_local_origin_errors: true\n\
         \x20     consecutive_local_origin_failure: 1\n\
         \x20     enforcing_consecutive_local_origin_failure: 100\n\
         \x20     enforcing_consecutive_5xx: 0\n      enforcing_consecutive_gateway_failure: 0\n\
         \x20     enforcing_success_rate: 0\n      enforcing_local_origin_success_rate: 0\n\
         \x20     interval: 1s\n      base_ejection_time: 1s\n      max_ejection_time: 5s\n      max_ejection_percent: 100\n\
         \x20   health_checks:\n\
         \x20   - timeout: 1s\n      interval: 1s\n      no_traffic_interval: 1s\n      unhealthy_threshold: 3\n      healthy_threshold: 1\n\
         \x20     grpc_health_check: {{}}\n\
         \x20   typed_extension_protocol_options:\n\
         \x20     envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n\
         \x20       \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n\
         \x20       explicit_http_config: {{ http2_protocol_options: {{}} }}\n\
         \x20   load_assignment:\n      cluster_name: {name}\n      endpoints:\n\
         \x20     - lb_endpoints:\n{endpoints}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(out: PathBuf, upstreams: &[&str]) -> GatewayArgs {
        GatewayArgs {
            out,
            upstreams: upstreams
                .iter()
                .map(|u| parse_upstream(u).unwrap())
                .collect(),
            rest_ports: vec![("vod".into(), 8082), ("cinema".into(), 8083)],
            rest_addr: IpAddr::from([0, 0, 0, 0]),
            jwks: None,
            admin_port: 0,
        }
    }

    #[test]
    fn each_context_is_a_cluster_of_its_endpoints_and_routes_only_its_public_rpcs() {
        let dir = std::env::temp_dir().join(format!("mediamesh-gateway-{}", std::process::id()));
        let a = args(
            dir.clone(),
            &[
                "vod.purchase=purchase-a:50051",
                "vod.purchase=purchase-b:50052",
                "vod.payment=mediamesh-vod-payment:50051",
            ],
        );
        let yaml =
            std::fs::read_to_string(write(&a, &crate::targets::all_contexts()).unwrap()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(yaml.contains("name: mediamesh_vod_purchase\n    type: STRICT_DNS"));
        assert!(yaml.contains("{ address: \"purchase-a\", port_value: 50051 }"));
        assert!(yaml.contains("{ address: \"purchase-b\", port_value: 50052 }"));
        assert!(yaml.contains(
            "path: \"/mediamesh.vod.v1.PurchaseService/CreatePurchase\" }\n                route: { cluster: mediamesh_vod_purchase,"
        ));
        assert!(yaml.contains("/mediamesh.vod.v1.PaymentService/GetPayment\""));
        assert!(!yaml.contains("/Pay\""), "internal Pay routed: {yaml}");
        // Catalog has no upstream: neither routed nor a cluster; cinema has none: no listener.
        assert!(!yaml.contains("CatalogService"), "{yaml}");
        assert!(!yaml.contains("port_value: 8083"), "{yaml}");
        assert!(!yaml.contains("match: { prefix"), "{yaml}");
    }

    #[test]
    fn with_a_jwks_every_listener_verifies_tokens_first() {
        let dir =
            std::env::temp_dir().join(format!("mediamesh-gateway-jwt-{}", std::process::id()));
        let mut a = args(
            dir.clone(),
            &["vod.purchase=p:50051", "cinema.movie=m:50051"],
        );
        a.jwks = Some(PathBuf::from("/etc/mediamesh-auth/jwks.json"));
        let yaml =
            std::fs::read_to_string(write(&a, &crate::targets::all_contexts()).unwrap()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            yaml.matches("envoy.filters.http.jwt_authn").count(),
            2,
            "{yaml}"
        );
        assert!(
            yaml.contains("filename: \"/etc/mediamesh-auth/jwks.json\""),
            "{yaml}"
        );
    }

    #[test]
    fn an_unknown_context_is_refused() {
        let dir = std::env::temp_dir().join("mediamesh-gateway-unknown");
        let error = write(
            &args(dir, &["vod=mediamesh-vod:50051"]),
            &crate::targets::all_contexts(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("names no context"), "{error}");
    }
}
