//! `source.fixAll.invariant`: every fix of a document that needs no choice in one code action
//! (the selection `check --fix` applies: `Analysis::fix_all`), and `context.only` filtering.

use std::collections::HashMap;

use tower_lsp_server::jsonrpc::Result as RpcResult;
use tower_lsp_server::ls_types::*;

use super::{convert, lock, Backend};
use crate::ide::analysis::cancellable;

pub const FIX_ALL: &str = "source.fixAll.invariant";

/// Whether `kind` is asked for by `context.only` (kinds are hierarchical: `source.fixAll`
/// asks for `source.fixAll.invariant`). No `only`: every kind.
pub fn wanted(only: Option<&Vec<CodeActionKind>>, kind: &str) -> bool {
    only.is_none_or(|only| {
        only.iter()
            .any(|k| kind == k.as_str() || kind.starts_with(&format!("{}.", k.as_str())))
    })
}

impl Backend {
    /// The fix-all action for a document, when `context.only` asks for it (none when the model
    /// gives it no title).
    pub(super) async fn fix_all(&self, params: &CodeActionParams) -> RpcResult<Option<CodeAction>> {
        let uri = params.text_document.uri.clone();
        let Some((analysis, file, _)) = self.locate(&uri, Position::default())? else {
            return Ok(None);
        };
        let (root, encoding, versions, can_create) = {
            let state = lock(&self.state);
            let path = super::uri_to_path(&uri).unwrap_or_default();
            let Some(i) = state.root_index(&path) else {
                return Ok(None);
            };
            let root = &state.roots[i];
            let versions: HashMap<String, i32> = root.docs.iter().map(|(k, d)| (k.clone(), d.doc.version)).collect();
            (root.path.clone(), state.encoding, versions, state.can_create)
        };
        let action = tokio::task::spawn_blocking(move || {
            cancellable(|| {
                let merged = analysis.fix_all(file).filter(|a| !a.title.is_empty())?;
                let mut action = convert::code_action(&analysis, &root, merged, &[], &versions, encoding, can_create)?;
                action.kind = Some(CodeActionKind::from(FIX_ALL));
                Some(action)
            })
            .ok()
            .flatten()
        })
        .await
        .map_err(super::internal)?;
        Ok(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_is_hierarchical() {
        let only = vec![CodeActionKind::from("source.fixAll")];
        assert!(wanted(Some(&only), FIX_ALL));
        assert!(!wanted(Some(&only), "quickfix"));
        assert!(wanted(None, "quickfix"));
        assert!(!wanted(Some(&vec![CodeActionKind::QUICKFIX]), FIX_ALL));
    }
}
