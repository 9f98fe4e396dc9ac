//! invariant-lsp: guards the architecture of Kubernetes operator code while a person types.
//!
//! The pipeline, one module per layer: `text` (bytes → text, positions) → `syntax` (tree-sitter
//! parses and the embedded queries) → `facts` (plain values per file) → `rules` (pure functions
//! over facts and the domain `model`) → findings, served by `lsp` and `cli` over the same salsa
//! database (`db`). `workspace` finds the files and loads them into the database.

pub mod cli;
pub mod config;
pub mod db;
pub mod facts;
pub mod ide;
pub mod interrupt;
pub mod lsp;
pub mod model;
pub mod rules;
pub mod syntax;
pub mod text;
pub mod vcs;
pub mod workspace;

/// The message of a caught panic (`&str` or `String` payloads), for logs and findings.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}
