//! The `weir` binary: the built-in distribution.

// Measured faster on the decode path than glibc malloc (DESIGN.md §3).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc v3's `mi_option_purge_delay` (`mimalloc.h`, enum `mi_option_e`);
/// libmimalloc-sys only names the options of older versions.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    // mimalloc holds freed memory 10 ms before returning it. weir frees ~1 MB
    // batches continuously, so that delay alone kept several MB of garbage
    // resident: 1 ms measured stdin → file (1M lines of 1 KB) at 27 MB peak RSS
    // instead of 33 MB, at the same speed (BENCHMARKS.md). A user's own
    // MIMALLOC_PURGE_DELAY wins.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set takes two plain integers, touches only
        // mimalloc's option table, and may be called at any time.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1)
        };
    }
    weir::Distribution::builtin().main()
}
