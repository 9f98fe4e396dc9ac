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
pub mod lsp;
pub mod model;
pub mod rules;
pub mod syntax;
pub mod text;
pub mod workspace;
