//! Compiles every contract under this folder with the pure-Rust `protox` (no system protoc),
//! generates tonic clients/servers, and writes the encoded descriptor set (with imports and
//! source info) that reflection and Envoy's gRPC-JSON transcoder load.
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

    // Type names give every event its subject suffix (`M::NAME`) and type header.
    let mut config = prost_build::Config::new();
    config.enable_type_names();
    tonic_prost_build::configure()
        .compile_fds_with_config(compiler.file_descriptor_set(), config)?;
    Ok(())
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
