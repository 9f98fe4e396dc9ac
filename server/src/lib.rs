//! invariant-lsp: guards the architecture of Kubernetes operator code while a person types.
//!
//! Layers, lowest first; each imports only those before it (`docs/architecture.md`, checked by
//! `tests/contract.rs`): `text` (bytes → text, positions) → `syntax` (tree-sitter parses, the
//! embedded queries) → `model` (the domain model) → `vfs` (the only disk reader: root,
//! discovery, confined reads) → `vcs` (git, run so the repository's configuration executes
//! nothing) → `config` (`.invariant.yaml`) → `facts` (plain values per file) → `db` (the salsa
//! inputs and per-file data) → `rules` (findings from facts and the model) → `ide` (the analysis
//! API and its host) → `lsp` | `cli` (the protocol and the commands, through `ide::analysis`).

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
pub mod vfs;

/// The message of a caught panic (`&str` or `String` payloads), for logs and findings.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}
