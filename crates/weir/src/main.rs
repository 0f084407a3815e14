//! The `weir` binary: the built-in distribution.

// Measured faster on the decode path than glibc malloc (DESIGN.md §3).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    weir::Distribution::builtin().main()
}
