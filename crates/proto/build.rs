//! Compiles every file under `proto/` into one module tree, writes the
//! descriptor set that gRPC reflection serves, and implements
//! `MessageLimits` for every generated server (so the host can set the
//! limits on a server it knows only as a generic type).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use prost::Message as _;

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
    let descriptor_path = out.join("civicgrid_descriptor.bin");
    tonic_prost_build::configure()
        .file_descriptor_set_path(&descriptor_path)
        .compile_with_config(config, &files, &[root, include])?;
    let descriptors = prost_types::FileDescriptorSet::decode(&*std::fs::read(&descriptor_path)?)?;
    std::fs::write(out.join("message_limits.rs"), message_limits(&descriptors))?;
    Ok(())
}

/// `impl MessageLimits` for the server tonic generates for each service:
/// package `a.b.v1`, service `FooService` → `a::b::v1::foo_service_server::FooServiceServer`.
fn message_limits(descriptors: &prost_types::FileDescriptorSet) -> String {
    let mut code = String::new();
    for file in &descriptors.file {
        let package = file.package().replace('.', "::");
        for service in &file.service {
            let name = service.name();
            let module = format!("crate::{package}::{}_server", snake_case(name));
            let _ = writeln!(
                code,
                "impl<T: {module}::{name}> crate::MessageLimits for {module}::{name}Server<T> {{\n\
                 \x20   fn with_message_limits(self, max_bytes: usize) -> Self {{\n\
                 \x20       self.max_decoding_message_size(max_bytes).max_encoding_message_size(max_bytes)\n\
                 \x20   }}\n}}"
            );
        }
    }
    code
}

/// `GridService` → `grid_service`, as tonic names the server module.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
