//! Compiles the project's own protobuf schemas (`proto/`) with pure-Rust `protox`
//! feeding `prost-build`, so a fresh machine needs nothing but cargo (no system
//! `protoc`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read at run time: `env!` would bake in the checkout that first compiled
    // this script, and a second checkout sharing the target folder would then
    // look for the protos in the first one.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR")?;
    let proto_dir = std::path::Path::new(&manifest_dir).join("../../proto");
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
