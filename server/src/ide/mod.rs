//! IDE features over the engine, independent of the protocol: hover text and code actions.
//! The LSP layer only converts positions and types.

pub mod actions;
pub mod definition;
pub mod fingerprint;
pub mod hover;
pub mod symbols;
