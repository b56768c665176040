//! Envoy's configuration: one listener per app's REST port, the gRPC-JSON transcoder with
//! the contracts' descriptor set, routing to the mesh's gRPC port. gRPC calls pass through
//! the same ports untouched.
use std::fmt::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use mediamesh_mesh::Context;

/// Writes `envoy.yaml` and `descriptor.pb` into `dir`; returns the config path.
pub fn write_config(
    dir: &Path,
    contexts: &[Arc<dyn Context>],
    rest_ports: &[(String, u16)],
    grpc: SocketAddr,
    admin_port: u16,
) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    let descriptor = dir.join("descriptor.pb");
    std::fs::write(&descriptor, mediamesh_proto::FILE_DESCRIPTOR_SET)?;
    let mut yaml = format!(
        "admin:\n  address:\n    socket_address: {{ address: 127.0.0.1, port_value: {admin_port} }}\n\
         static_resources:\n  listeners:\n"
    );
    for (app, port) in rest_ports {
        let services: Vec<&str> = contexts
            .iter()
            .filter(|c| c.info().app == app)
            .flat_map(|c| c.info().services.iter().map(|(name, _)| *name))
            .collect();
        if services.is_empty() {
            continue;
        }
        listener(&mut yaml, app, *port, &services, &descriptor);
    }
    let grpc_host = if grpc.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        grpc.ip().to_string()
    };
    let _ = write!(
        yaml,
        "  clusters:\n  - name: mediamesh\n    type: STATIC\n    connect_timeout: 1s\n\
         \x20   typed_extension_protocol_options:\n\
         \x20     envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n\
         \x20       \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n\
         \x20       explicit_http_config: {{ http2_protocol_options: {{}} }}\n\
         \x20   load_assignment:\n      cluster_name: mediamesh\n      endpoints:\n\
         \x20     - lb_endpoints:\n        - endpoint:\n            address:\n\
         \x20             socket_address: {{ address: {grpc_host}, port_value: {} }}\n",
        grpc.port()
    );
    let path = dir.join("envoy.yaml");
    std::fs::write(&path, yaml)?;
    Ok(path)
}

fn listener(yaml: &mut String, app: &str, port: u16, services: &[&str], descriptor: &Path) {
    let services = services
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = write!(
        yaml,
        "  - name: {app}\n    address:\n      socket_address: {{ address: 0.0.0.0, port_value: {port} }}\n\
         \x20   filter_chains:\n    - filters:\n      - name: envoy.filters.network.http_connection_manager\n\
         \x20       typed_config:\n\
         \x20         \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n\
         \x20         stat_prefix: {app}\n          codec_type: AUTO\n\
         \x20         http_protocol_options: {{ accept_http_10: true }}\n\
         \x20         route_config:\n            virtual_hosts:\n            - name: {app}\n              domains: [\"*\"]\n\
         \x20             routes:\n              - match: {{ prefix: \"/\" }}\n                route: {{ cluster: mediamesh, timeout: 30s }}\n\
         \x20         http_filters:\n\
         \x20         - name: envoy.filters.http.grpc_json_transcoder\n            typed_config:\n\
         \x20             \"@type\": type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder\n\
         \x20             proto_descriptor: \"{}\"\n              services: [{services}]\n\
         \x20             convert_grpc_status: true\n\
         \x20             print_options: {{ always_print_primitive_fields: true }}\n\
         \x20             request_validation_options: {{ reject_unknown_method: true }}\n\
         \x20         - name: envoy.filters.http.router\n            typed_config:\n\
         \x20             \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n",
        descriptor.display()
    );
}
