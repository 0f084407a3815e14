//! `my-weir`: weir with every built-in component plus `redact`, and the whole
//! CLI (`run`, `validate`, `components`, `top`, ...).

// The allocator the stock `weir` binary uses.
#[global_allocator]
static GLOBAL: weir::Allocator = weir::Allocator;

fn main() {
    weir::Distribution::builtin()
        .processor(custom_processor::RedactFactory)
        .main()
}
