//! Compiles every file under `proto/` into one module tree and writes the
//! descriptor set that gRPC reflection serves.

use std::path::{Path, PathBuf};

fn proto_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            proto_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    println!("cargo:rerun-if-changed={}", root.display());
    println!("cargo:rerun-if-env-changed=PROTOC");

    let mut files = Vec::new();
    proto_files(&root, &mut files)?;
    files.sort();

    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut config = tonic_prost_build::Config::new();
    // `prost::Name` gives every message its full name: the AMQP `type` of events.
    config.enable_type_names();
    // `std::env::set_var` is unsafe in edition 2024 (and this crate forbids
    // unsafe), so the vendored protoc is handed to prost directly instead.
    if std::env::var_os("PROTOC").is_none() {
        config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    }
    let include = protoc_bin_vendored::include_path()?;
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("civicgrid_descriptor.bin"))
        .compile_with_config(config, &files, &[root, include])?;
    Ok(())
}
