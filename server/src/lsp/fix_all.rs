//! `source.fixAll.invariant`: every automatic fix of a document in one code action (the
//! suppression and file-creating fixes are left out), and `context.only` filtering.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;

use tower_lsp_server::jsonrpc::Result as RpcResult;
use tower_lsp_server::ls_types::*;

use super::{convert, lock, Backend};
use crate::facts::Span;
use crate::ide::actions::{Action, FileEdit};

pub const FIX_ALL: &str = "source.fixAll.invariant";

/// Whether `kind` is asked for by `context.only` (kinds are hierarchical: `source.fixAll`
/// asks for `source.fixAll.invariant`). No `only`: every kind.
pub fn wanted(only: Option<&Vec<CodeActionKind>>, kind: &str) -> bool {
    only.is_none_or(|only| {
        only.iter()
            .any(|k| kind == k.as_str() || kind.starts_with(&format!("{}.", k.as_str())))
    })
}

/// Merges actions into one: all the edits of each action that edits `path` only (fixing a
/// file never rewrites another, nor creates one), is not a suppression and does not overlap
/// an edit already taken.
pub fn merge(actions: Vec<Action>, path: &str, suppress_title: &str, title: &str) -> Option<Action> {
    let mut files: Vec<FileEdit> = Vec::new();
    for action in actions {
        // Suppressions are titled "<suppress_title>: <code>".
        let suppression = !suppress_title.is_empty() && action.title.starts_with(suppress_title);
        if suppression || action.files.iter().any(|f| f.create || f.path != path) {
            continue;
        }
        let overlaps = action.files.iter().any(|f| {
            files.iter().filter(|t| t.path == f.path).any(|t| {
                t.edits.iter().any(|a| {
                    f.edits
                        .iter()
                        .any(|b| a.span.start < b.span.end && b.span.start < a.span.end || a.span == b.span)
                })
            })
        });
        if overlaps {
            continue;
        }
        for f in action.files {
            match files.iter_mut().find(|t| t.path == f.path) {
                Some(t) => t.edits.extend(f.edits),
                None => files.push(f),
            }
        }
    }
    (!files.is_empty()).then(|| Action {
        title: title.to_string(),
        code: String::new(),
        files,
    })
}

impl Backend {
    /// The fix-all action for a document, when `context.only` asks for it.
    pub(super) async fn fix_all(&self, params: &CodeActionParams) -> RpcResult<Option<CodeAction>> {
        let uri = params.text_document.uri.clone();
        let Some((db, ws, file, _)) = self.locate(&uri, Position::default())? else {
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
            salsa::Cancelled::catch(AssertUnwindSafe(|| {
                let model = ws.model(&db);
                let findings = crate::rules::findings(&db, ws, file);
                let whole = Span::new(0, file.text(&db).len());
                let actions = crate::ide::actions::actions(&db, ws, file, &findings, whole);
                let suppress = model.model.code_actions.suppress_title.clone().unwrap_or_default();
                let title = model
                    .model
                    .code_actions
                    .fix_all_title
                    .clone()
                    .unwrap_or_else(|| "Fix all".to_string());
                let merged = merge(actions, file.path(&db), &suppress, &title)?;
                let mut action = convert::code_action(&db, ws, &root, merged, &[], &versions, encoding, can_create)?;
                action.kind = Some(CodeActionKind::from(FIX_ALL));
                Some(action)
            }))
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
