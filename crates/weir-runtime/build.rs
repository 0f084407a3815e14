//! Compiles the project's own protobuf schemas (`proto/`) with pure-Rust `protox`
//! feeding `prost-build`, so a fresh machine needs nothing but cargo (no system
//! `protoc`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let spool = proto_dir.join("spool.proto");
    println!("cargo:rerun-if-changed={}", spool.display());

    let fds = protox::compile([&spool], [&proto_dir])?;
    prost_build::Config::new()
        // Payloads become `bytes::Bytes`, so replay slices them out of the segment
        // buffer instead of copying every batch.
        .bytes(["."])
        .compile_fds(fds)?;
    Ok(())
}
