//! Compiles every contract under this folder with the pure-Rust `protox` (no system protoc),
//! generates tonic clients/servers, writes the encoded descriptor set (with imports and
//! source info) that reflection and Envoy's gRPC-JSON transcoder load, and writes the table of
//! every RPC with whether it is public (has a REST binding), so the gateway routes and the
//! metrics' labels come from the contracts themselves, never from a hand-kept list.
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect(root, &root.join("mediamesh"), &mut files)?;
    // google.rpc error details ride along so Envoy can render them as JSON for REST clients.
    files.push(PathBuf::from("google/rpc/status.proto"));
    files.push(PathBuf::from("google/rpc/error_details.proto"));
    files.sort();
    println!("cargo:rerun-if-changed=mediamesh");
    println!("cargo:rerun-if-changed=google");

    let mut compiler = protox::Compiler::new([root])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(&files)?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;

    std::fs::write(out.join("rpcs.rs"), rpc_table(&compiler)?)?;
    std::fs::write(out.join("messages.rs"), message_table(&compiler))?;

    // Type names give every event its subject suffix (`M::NAME`) and type header.
    let mut config = prost_build::Config::new();
    config.enable_type_names();
    tonic_prost_build::configure()
        .compile_fds_with_config(compiler.file_descriptor_set(), config)?;
    Ok(())
}

/// `RPCS`: every method of every `mediamesh.*` service, sorted by gRPC path so `rpc()` can
/// binary-search it. Public means annotated with `google.api.http`: that binding is the only
/// way a REST client reaches a method, so it is also what the gateway lets through.
fn rpc_table(compiler: &protox::Compiler) -> Result<String, Box<dyn std::error::Error>> {
    let pool = compiler.descriptor_pool();
    let http = pool
        .get_extension_by_name("google.api.http")
        .ok_or("google.api.http is not in the descriptor pool")?;
    let mut rpcs = Vec::new();
    for service in pool.services() {
        if !service.full_name().starts_with("mediamesh.") {
            continue;
        }
        for method in service.methods() {
            let public = method.options().has_extension(&http);
            rpcs.push((
                service.full_name().to_owned(),
                method.name().to_owned(),
                public,
            ));
        }
    }
    rpcs.sort();
    let mut table = String::from("pub const RPCS: &[Rpc] = &[\n");
    for (service, method, public) in rpcs {
        table.push_str(&format!(
            "    Rpc {{ service: {service:?}, method: {method:?}, public: {public} }},\n"
        ));
    }
    table.push_str("];\n");
    Ok(table)
}

/// `MESSAGES`: the full name of every `mediamesh.*` message, sorted, so registrations (the
/// events a context raises or handles) can be checked against the contracts without IO.
fn message_table(compiler: &protox::Compiler) -> String {
    let mut names: Vec<String> = compiler
        .descriptor_pool()
        .all_messages()
        .map(|m| m.full_name().to_owned())
        .filter(|name| name.starts_with("mediamesh."))
        .collect();
    names.sort();
    let mut table = String::from("pub const MESSAGES: &[&str] = &[\n");
    for name in names {
        table.push_str(&format!("    {name:?},\n"));
    }
    table.push_str("];\n");
    table
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, files)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            files.push(path.strip_prefix(root).expect("under root").to_path_buf());
        }
    }
    Ok(())
}
