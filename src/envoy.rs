//! Envoy's configuration: one listener per app's REST port, the gRPC-JSON transcoder with
//! the contracts' descriptor set, routing to the mesh's gRPC port.
//!
//! A gateway port is public surface, so it passes only its app's public RPCs (those with a
//! REST binding, `mediamesh_proto::RPCS`): one exact-path route per public method. The
//! transcoder rewrites a REST request to its method's gRPC path and clears the route cache
//! before routing, so REST and gRPC clients meet the same routes. Everything else (internal
//! RPCs such as `Pay`, other apps' services, reflection, health) has no route: REST answers
//! 404 and gRPC `UNIMPLEMENTED`. Internal RPCs are served on the mesh gRPC port only.
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mediamesh_mesh::Context;
use mediamesh_mesh::input::{ID_MAX, NAME_MAX, TEXT_MAX};

/// Largest message the transcoder buffers, either way: gRPC's own default message limit (the
/// mesh's tonic servers decode at most 4 MiB), so REST and gRPC clients meet one ceiling.
/// Envoy's default (the 1 MiB connection buffer) is too small: the transcoder buffers the
/// whole protobuf response before converting it, and the largest valid page (100 rows,
/// `mesh::page::MAX_PAGE_SIZE`, of the widest row: a music content with 3 ids, 3 names and a
/// free text, every character 4 bytes of UTF-8) is about 1.06 MB of protobuf (1.07 MB of
/// JSON; JSON escapes a character into at most 6 bytes, `\u003c`). Requests are one row.
/// Above the limit Envoy answers 413 (request) or 500 (response) rather than buffer more.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The widest row of any list, in characters of its bounded fields (plus status and time).
const WIDEST_ROW_CHARS: usize = 3 * ID_MAX + 3 * NAME_MAX + TEXT_MAX + 64;
// Twice the largest valid page in its worst encoding (6 bytes per character) still fits.
const _: () = assert!(2 * 100 * 6 * WIDEST_ROW_CHARS <= MAX_BODY_BYTES);

/// Where the gateway listens and what it forwards to.
pub struct Gateway<'a> {
    /// The address every REST listener binds (127.0.0.1 unless widened with `--rest-addr`).
    pub rest_ip: IpAddr,
    /// REST port per app.
    pub rest_ports: &'a [(String, u16)],
    /// The mesh's gRPC port.
    pub grpc: SocketAddr,
    pub admin_port: u16,
}

/// Writes `envoy.yaml` and `descriptor.pb` into `dir`; returns the config path.
pub fn write_config(
    dir: &Path,
    contexts: &[Arc<dyn Context>],
    gateway: &Gateway,
) -> anyhow::Result<PathBuf> {
    let descriptor = write_descriptor(dir)?;
    let mut yaml = head(dir, gateway.admin_port);
    let mut apps = Vec::new();
    for (app, port) in gateway.rest_ports {
        let services: Vec<&str> = contexts
            .iter()
            .filter(|c| c.info().app == app)
            .flat_map(|c| c.info().services.iter().map(|(name, _)| *name))
            .collect();
        if services.is_empty() {
            continue;
        }
        let listen = SocketAddr::new(gateway.rest_ip, *port);
        let cluster = format!("mediamesh_{app}");
        let routes: Vec<Route> = public_paths(&services)
            .into_iter()
            .map(|path| Route {
                path,
                cluster: cluster.clone(),
            })
            .collect();
        listener(&mut yaml, app, listen, &services, &routes, &descriptor);
        apps.push(app.as_str());
    }
    yaml.push_str("  clusters:\n");
    for app in apps {
        cluster(&mut yaml, app, gateway.grpc);
    }
    let path = dir.join("envoy.yaml");
    std::fs::write(&path, yaml)?;
    Ok(path)
}

/// Writes the contracts' descriptor set (the transcoder's input) into `dir`.
pub(crate) fn write_descriptor(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let descriptor = dir.join("descriptor.pb");
    std::fs::write(&descriptor, mediamesh_proto::FILE_DESCRIPTOR_SET)?;
    Ok(descriptor)
}

/// The config's start: the admin interface, then the listeners' heading.
pub(crate) fn head(dir: &Path, admin_port: u16) -> String {
    // The admin interface can stop Envoy (`/quitquitquit`): on a socket file only this user
    // can open, unless a port is asked for.
    let admin = if admin_port == 0 {
        format!(
            "pipe: {{ path: \"{}\", mode: 384 }}",
            dir.join("envoy-admin.sock").display()
        )
    } else {
        format!("socket_address: {{ address: 127.0.0.1, port_value: {admin_port} }}")
    };
    format!("admin:\n  address:\n    {admin}\nstatic_resources:\n  listeners:\n")
}

/// One exact-path route to a cluster. A call is retried only when it surely never ran: the
/// connection failed, the server refused the stream (HTTP/2 REFUSED_STREAM or a GOAWAY
/// below its id, as a draining server sends) or reset it before the request was sent, or a
/// process still starting answered it with `mediamesh-not-run` (set by nothing else, and
/// never taken from a request or a peer's answer). Never on a timeout, a reset after
/// sending, or any status a handler can answer (UNIMPLEMENTED included: a saga passes a
/// peer's status on after it recorded its own state): the call may have run.
pub(crate) struct Route {
    pub path: String,
    pub cluster: String,
}

/// The gRPC paths of the public RPCs of `services`, the only routes of their app's port.
pub(crate) fn public_paths(services: &[&str]) -> Vec<String> {
    mediamesh_proto::RPCS
        .iter()
        .filter(|rpc| rpc.public && services.contains(&rpc.service))
        .map(|rpc| rpc.path())
        .collect()
}

pub(crate) fn listener(
    yaml: &mut String,
    app: &str,
    listen: SocketAddr,
    services: &[&str],
    routes: &[Route],
    descriptor: &Path,
) {
    let routes: String = routes
        .iter()
        .map(|Route { path, cluster }| {
            format!(
                "              - match: {{ path: \"{path}\" }}\n\
                 \x20               route: {{ cluster: {cluster}, timeout: 30s{RETRY_POLICY} }}\n"
            )
        })
        .collect();
    let services = services
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ");
    // reject_unknown_method: a REST request no binding matches is a 404 here, never passed
    // through as a non-gRPC request. reject_unknown_query_parameters: `?pageSzie=5` is a 400
    // naming the parameter, not a pass-through the mesh cannot parse. The buffer filter bounds
    // the whole body (413 past 4 MiB): the transcoder drops unknown JSON fields, so a padded
    // body would otherwise pass every other limit while Envoy held all of it.
    let _ = write!(
        yaml,
        "  - name: {app}\n    address:\n      socket_address: {{ address: \"{ip}\", port_value: {port} }}\n\
         \x20   filter_chains:\n    - filters:\n      - name: envoy.filters.network.http_connection_manager\n\
         \x20       typed_config:\n\
         \x20         \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n\
         \x20         stat_prefix: {app}\n          codec_type: AUTO\n\
         \x20         http_protocol_options: {{ accept_http_10: true }}\n\
         \x20         request_headers_timeout: 10s\n\
         \x20         request_timeout: 40s\n\
         \x20         local_reply_config:\n\
         \x20           body_format:\n\
         \x20             json_format: {{ code: \"%RESPONSE_CODE%\", message: \"%LOCAL_REPLY_BODY%\" }}\n\
         \x20         route_config:\n            virtual_hosts:\n            - name: {app}\n              domains: [\"*\"]\n\
         \x20             routes:\n{routes}\
         \x20         http_filters:\n\
         \x20         - name: envoy.filters.http.buffer\n            typed_config:\n\
         \x20             \"@type\": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer\n\
         \x20             max_request_bytes: {MAX_BODY_BYTES}\n\
         \x20         - name: envoy.filters.http.grpc_json_transcoder\n            typed_config:\n\
         \x20             \"@type\": type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder\n\
         \x20             proto_descriptor: \"{descriptor}\"\n              services: [{services}]\n\
         \x20             convert_grpc_status: true\n\
         \x20             print_options: {{ always_print_primitive_fields: true }}\n\
         \x20             request_validation_options: {{ reject_unknown_method: true, reject_unknown_query_parameters: true }}\n\
         \x20             max_request_body_size: {MAX_BODY_BYTES}\n\
         \x20             max_response_body_size: {MAX_BODY_BYTES}\n\
         \x20         - name: envoy.filters.http.router\n            typed_config:\n\
         \x20             \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n",
        ip = listen.ip(),
        port = listen.port(),
        descriptor = descriptor.display(),
    );
}

/// When a call is retried, see `Route`: another endpoint where there is one (never the same
/// one twice in a row); with one endpoint, as under `up`, the same after a back-off (Envoy's
/// jittered back-off from 100 ms, at most 400 ms a wait: a start of a few hundred ms is
/// usually covered, not always). The cluster allows 64 retries in flight, not Envoy's 3.
const RETRY_POLICY: &str = ", retry_policy: { retry_on: \"connect-failure,refused-stream,reset-before-request,retriable-headers\", \
     retriable_headers: [{ name: mediamesh-not-run, present_match: true }], \
     num_retries: 3, retry_back_off: { base_interval: 0.1s, max_interval: 0.4s }, host_selection_retry_max_attempts: 5, retry_host_predicate: [{ name: envoy.retry_host_predicates.previous_hosts, \
     typed_config: { \"@type\": type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate } }] }";

/// One cluster per app, all to the mesh's gRPC port: each has its own circuit-breaker
/// budget, so a flood through one app's port cannot take the requests of another's.
fn cluster(yaml: &mut String, app: &str, grpc: SocketAddr) {
    let grpc_host = if grpc.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        grpc.ip().to_string()
    };
    let _ = write!(
        yaml,
        "  - name: mediamesh_{app}\n    type: STATIC\n    connect_timeout: 1s\n\
         \x20   circuit_breakers:\n      thresholds:\n\
         \x20     - {{ max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 64 }}\n\
         \x20   typed_extension_protocol_options:\n\
         \x20     envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n\
         \x20       \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n\
         \x20       explicit_http_config: {{ http2_protocol_options: {{}} }}\n\
         \x20   load_assignment:\n      cluster_name: mediamesh_{app}\n      endpoints:\n\
         \x20     - lb_endpoints:\n        - endpoint:\n            address:\n\
         \x20             socket_address: {{ address: \"{grpc_host}\", port_value: {} }}\n",
        grpc.port()
    );
}

/// Puts Envoy's `jwt_authn` first in every listener's filters: every request, REST or gRPC,
/// needs `authorization: Bearer <JWT>` verified against the JWKS file, else a local 401
/// (a JSON body like the other local replies; gRPC clients see `UNAUTHENTICATED`). The
/// token is forwarded, since the mesh checks it again and reads the caller from it.
pub fn require_jwt(yaml: &str, jwks: &Path) -> String {
    let mut out = String::with_capacity(yaml.len() * 2);
    for line in yaml.lines() {
        out.push_str(line);
        out.push('\n');
        // First of the filters, whichever follow: an anonymous request is refused before
        // its body is buffered or transcoded. The list's items sit at its key's indent.
        if line.trim_start() == "http_filters:" {
            let indent = &line[..line.len() - line.trim_start().len()];
            for filter_line in jwt_authn_filter(jwks).lines() {
                let _ = writeln!(out, "{indent}{filter_line}");
            }
        }
    }
    out
}

/// The `jwt_authn` http filter (indented from its list item).
fn jwt_authn_filter(jwks: &Path) -> String {
    format!(
        "- name: envoy.filters.http.jwt_authn\n\
         \x20 typed_config:\n\
         \x20   \"@type\": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication\n\
         \x20   providers:\n\
         \x20     mediamesh:\n\
         \x20       issuer: {issuer}\n\
         \x20       forward: true\n\
         \x20       local_jwks: {{ filename: \"{jwks}\" }}\n\
         \x20   rules:\n\
         \x20   - match: {{ prefix: \"/\" }}\n\
         \x20     requires: {{ provider_name: mediamesh }}\n",
        issuer = mediamesh_mesh::serving::auth::ISSUER,
        jwks = jwks.display(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_auth_every_listener_checks_jwt_before_anything_else() {
        let listener = "    http_filters:\n    - name: envoy.filters.http.buffer\n      x: 1\n\
                        \x20   - name: envoy.filters.http.grpc_json_transcoder\n";
        let yaml = listener.repeat(2);
        let yaml = yaml.as_str();
        let with = require_jwt(yaml, Path::new("/d/auth/jwks.json"));
        assert_eq!(
            with.matches("envoy.filters.http.jwt_authn").count(),
            2,
            "{with}"
        );
        let (jwt, buffer) = (
            with.find("jwt_authn").unwrap(),
            with.find("filters.http.buffer").unwrap(),
        );
        assert!(jwt < buffer, "refused before its body is held: {with}");
        assert!(with.contains("    - name: envoy.filters.http.jwt_authn\n      typed_config:"));
        assert!(with.contains("local_jwks: { filename: \"/d/auth/jwks.json\" }"));
        assert!(
            with.contains("forward: true"),
            "the mesh reads the token too"
        );
        assert!(with.contains("match: { prefix: \"/\" }"), "every route");
    }

    #[test]
    fn a_port_routes_only_its_apps_public_rpcs() {
        let paths = public_paths(&[
            "mediamesh.vod.v1.PaymentService",
            "mediamesh.vod.v1.CatalogService",
        ]);
        assert!(paths.contains(&"/mediamesh.vod.v1.PaymentService/GetPayment".to_owned()));
        assert!(paths.contains(&"/mediamesh.vod.v1.CatalogService/ListVods".to_owned()));
        assert!(!paths.contains(&"/mediamesh.vod.v1.PaymentService/Pay".to_owned()));
        assert!(paths.iter().all(|p| p.starts_with("/mediamesh.vod.v1.")));
    }

    #[test]
    fn the_written_config_binds_the_given_address_and_routes_no_internal_rpc() {
        let dir = std::env::temp_dir().join(format!("mediamesh-envoy-{}", std::process::id()));
        let ports = [("vod".to_owned(), 18082), ("cinema".to_owned(), 18083)];
        let gateway = Gateway {
            rest_ip: IpAddr::from([0, 0, 0, 0]),
            rest_ports: &ports,
            grpc: SocketAddr::from(([0, 0, 0, 0], 50051)),
            admin_port: 0,
        };
        let path = write_config(&dir, &crate::targets::all_contexts(), &gateway).unwrap();
        let yaml = std::fs::read_to_string(path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(yaml.contains("{ address: \"0.0.0.0\", port_value: 18082 }"));
        assert!(yaml.contains("{ address: \"0.0.0.0\", port_value: 18083 }"));
        assert!(yaml.contains("{ address: \"127.0.0.1\", port_value: 50051 }"));
        assert!(yaml.contains("path: \"/mediamesh.cinema.v1.PaymentService/GetPayment\""));
        assert!(!yaml.contains("/Pay\""), "{yaml}");
        assert!(!yaml.contains("ApproveCopyright"), "{yaml}");
        assert!(
            !yaml.contains("match: { prefix"),
            "no catch-all route: {yaml}"
        );
    }
}
