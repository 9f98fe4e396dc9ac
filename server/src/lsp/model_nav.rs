//! The model one jump away: go-to-definition onto model entries, workspace symbols from the
//! model, and the built-in model served read-only under the `invariant-model:` scheme
//! (`invariant/modelSource` returns its text; nothing is written to disk).

use std::path::Path;

use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::{Error as RpcError, Result as RpcResult};
use tower_lsp_server::ls_types::*;

use super::{lock, Backend};
use crate::ide::analysis::{cancellable, model_symbols, ModelLocation, ModelSymbolKind};
use crate::model::{CompiledModel, DEFAULT_MODEL_PATH, DEFAULT_MODEL_YAML};
use crate::text::Encoding;

/// The built-in model's URI: read-only, its text from `invariant/modelSource`.
pub const BUILTIN_MODEL_URI: &str = "invariant-model://builtin/hypershift-data-plane.yaml";
pub const MODEL_SOURCE_METHOD: &str = "invariant/modelSource";

fn column(line: &str, byte: u32, encoding: Encoding) -> u32 {
    let prefix = &line[..(byte as usize).min(line.len())];
    match encoding {
        Encoding::Utf8 => prefix.len() as u32,
        _ => prefix.encode_utf16().count() as u32,
    }
}

fn to_location(root: &Path, at: &ModelLocation, encoding: Encoding) -> Option<Location> {
    let uri: Uri = if at.source == DEFAULT_MODEL_PATH {
        BUILTIN_MODEL_URI.parse().ok()?
    } else if Path::new(&at.source).is_absolute() {
        Uri::from_file_path(&at.source)?
    } else {
        Uri::from_file_path(root.join(&at.source))?
    };
    let position = |byte| Position {
        line: at.line,
        character: column(&at.line_text, byte, encoding),
    };
    Some(Location {
        uri,
        range: Range {
            start: position(at.start),
            end: position(at.end),
        },
    })
}

fn symbol_kind(kind: ModelSymbolKind) -> SymbolKind {
    match kind {
        ModelSymbolKind::State => SymbolKind::ENUM_MEMBER,
        ModelSymbolKind::Invariant => SymbolKind::CONSTANT,
        ModelSymbolKind::Provider => SymbolKind::CLASS,
        ModelSymbolKind::Platform => SymbolKind::ENUM,
        ModelSymbolKind::Component => SymbolKind::MODULE,
        ModelSymbolKind::Flow => SymbolKind::EVENT,
        ModelSymbolKind::Rule => SymbolKind::KEY,
    }
}

impl Backend {
    /// `textDocument/definition`: the model entry behind the symbol at the cursor.
    pub(super) async fn model_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> RpcResult<Option<GotoDefinitionResponse>> {
        let position = params.text_document_position_params.position;
        let uri = params.text_document_position_params.text_document.uri;
        let Some((analysis, file, offset)) = self.locate(&uri, position)? else {
            return Ok(None);
        };
        let (root, encoding) = {
            let state = lock(&self.state);
            let path = super::uri_to_path(&uri).unwrap_or_default();
            let root = state.root_index(&path).map(|i| state.roots[i].path.clone());
            (root.unwrap_or_default(), state.encoding)
        };
        let location = tokio::task::spawn_blocking(move || {
            cancellable(|| {
                let at = analysis.definition(file, offset)?;
                to_location(&root, &at, encoding)
            })
            .ok()
            .flatten()
        })
        .await
        .map_err(super::internal)?;
        Ok(location.map(GotoDefinitionResponse::Scalar))
    }

    /// `workspace/symbol`: model symbols of every root (the built-in model once).
    pub(super) async fn model_symbols(
        &self,
        params: WorkspaceSymbolParams,
    ) -> RpcResult<Option<WorkspaceSymbolResponse>> {
        let (models, encoding) = {
            let state = lock(&self.state);
            let models: Vec<(std::path::PathBuf, std::sync::Arc<CompiledModel>)> =
                state.roots.iter().map(|r| (r.path.clone(), r.host.model())).collect();
            (models, state.encoding)
        };
        let query = params.query;
        let found = tokio::task::spawn_blocking(move || {
            let mut out: Vec<WorkspaceSymbol> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for (root, model) in models {
                for (symbol, at) in model_symbols(&root, &model, &query) {
                    let Some(location) = to_location(&root, &at, encoding) else {
                        continue;
                    };
                    let key = (symbol.name.clone(), location.uri.to_string(), location.range.start.line);
                    if !seen.insert(key) {
                        continue;
                    }
                    out.push(WorkspaceSymbol {
                        name: symbol.name,
                        kind: symbol_kind(symbol.kind),
                        tags: None,
                        container_name: Some(symbol.container),
                        location: OneOf::Left(location),
                        data: None,
                    });
                }
            }
            out
        })
        .await
        .map_err(super::internal)?;
        Ok(Some(WorkspaceSymbolResponse::Nested(found)))
    }

    /// `invariant/modelSource` `{uri}` → `{text}`: the built-in model's text, read-only.
    pub(super) async fn model_source(&self, params: Value) -> RpcResult<Value> {
        let uri = params.get("uri").and_then(|u| u.as_str()).unwrap_or_default();
        if uri != BUILTIN_MODEL_URI {
            return Err(RpcError::invalid_params(format!("unknown model source `{uri}`")));
        }
        Ok(json!({"text": DEFAULT_MODEL_YAML, "readOnly": true}))
    }
}
