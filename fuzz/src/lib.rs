//! The fuzz harness. The checks live in `harness.rs`, which `tests/robustness.rs` includes too,
//! so every crash input committed under `tests/fixtures-hostile/fuzz/` replays in `cargo test`.

pub mod harness;
