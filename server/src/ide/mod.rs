//! IDE features over the engine, independent of the protocol: hover text and code actions,
//! definitions and symbols in the model, fingerprints, and the analysis API (`analysis`), the
//! one door `lsp` and `cli` use. The LSP layer only converts positions and types.

pub mod actions;
pub mod analysis;
pub mod definition;
pub mod fingerprint;
pub mod host;
pub mod hover;
pub mod symbols;
