//! Requests about a position or the workspace: hover, code actions (quick fixes and fix-all),
//! `invariant.explain`, malformed messages; and locating a document position in a snapshot.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error as RpcError, Result as RpcResult};
use tower_lsp_server::ls_types::*;

use super::*;
use crate::ide::analysis::{cancellable, Analysis, FileId, Span};
use crate::vfs::relative;

impl Backend {
    pub(super) async fn hover_at(&self, params: HoverParams) -> RpcResult<Option<Hover>> {
        guarded("hover", async {
            let position = params.text_document_position_params.position;
            let uri = params.text_document_position_params.text_document.uri;
            let Some((analysis, file, offset)) = self.locate(&uri, position)? else {
                return Ok(None);
            };
            let markdown =
                tokio::task::spawn_blocking(move || cancellable(|| analysis.hover(file, offset)).ok().flatten())
                    .await
                    .map_err(internal)?;
            Ok(markdown.map(|value| Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value,
                }),
                range: None,
            }))
        })
        .await
    }

    pub(super) async fn code_actions(&self, params: CodeActionParams) -> RpcResult<Option<CodeActionResponse>> {
        guarded("codeAction", async {
            // Actions computed before the workspace is read would miss the fixes of findings
            // that need the package's other files (a reason returned here, set there).
            self.wait_ready().await;
            let only = params.context.only.clone();
            let fix_all = if fix_all::wanted(only.as_ref(), fix_all::FIX_ALL) && only.is_some() {
                self.fix_all(&params).await?
            } else {
                None
            };
            if !fix_all::wanted(only.as_ref(), CodeActionKind::QUICKFIX.as_str()) {
                return Ok(Some(fix_all.into_iter().map(CodeActionOrCommand::CodeAction).collect()));
            }
            let uri = params.text_document.uri.clone();
            let Some((analysis, file, start)) = self.locate(&uri, params.range.start)? else {
                return Ok(None);
            };
            let end = self.offset_of(&uri, params.range.end).unwrap_or(start);
            let path = uri_to_path(&uri).unwrap_or_default();
            let (root, encoding, versions, can_create) = {
                let state = lock(&self.state);
                let Some(i) = state.root_index(&path) else {
                    return Ok(None);
                };
                let root = &state.roots[i];
                let versions: HashMap<String, i32> =
                    root.docs.iter().map(|(k, d)| (k.clone(), d.doc.version)).collect();
                (root.path.clone(), state.encoding, versions, state.can_create)
            };
            let actions = tokio::task::spawn_blocking(move || {
                cancellable(|| {
                    let findings = analysis.findings(file);
                    let diagnostics = convert::diagnostics(&analysis, &root, file, &findings, encoding);
                    let actions = analysis.actions(file, Span::new(start, end.max(start)));
                    actions
                        .into_iter()
                        .filter_map(|a| {
                            // The diagnostic of the finding this action fixes, not every one of its code.
                            let fixed: Vec<Diagnostic> = findings
                                .iter()
                                .zip(&diagnostics)
                                .filter(|(f, _)| f.span == a.span && f.code == a.code)
                                .map(|(_, d)| d.clone())
                                .collect();
                            convert::code_action(&analysis, &root, a, &fixed, &versions, encoding, can_create)
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
            })
            .await
            .map_err(internal)?;
            Ok(Some(
                fix_all
                    .into_iter()
                    .chain(actions)
                    .map(CodeActionOrCommand::CodeAction)
                    .collect(),
            ))
        })
        .await
    }

    pub(super) async fn run_command(&self, params: ExecuteCommandParams) -> RpcResult<Option<LSPAny>> {
        guarded("executeCommand", async {
            if params.command != "invariant.explain" {
                return Err(RpcError::method_not_found());
            }
            let code = params
                .arguments
                .first()
                .and_then(|a| a.as_str())
                .unwrap_or_default()
                .to_string();
            let model = {
                let state = lock(&self.state);
                state.roots.first().map(|r| r.host.model())
            };
            let model = match model {
                Some(m) => m,
                None => Arc::new(
                    crate::model::CompiledModel::compile(crate::model::load_default_model(), vec![])
                        .map_err(internal)?,
                ),
            };
            let text = crate::ide::analysis::explain(&model, &code);
            match text {
                Some(t) => Ok(Some(Value::String(t))),
                None => Err(RpcError::invalid_params(format!("no rule `{code}`"))),
            }
        })
        .await
    }
    /// A message that was not valid JSON: answered with a parse error (when it had an id).
    pub(super) async fn malformed(&self, params: Value) -> RpcResult<Value> {
        let error = params
            .get("error")
            .and_then(|e| e.as_str())
            .unwrap_or("malformed message")
            .to_string();
        self.client
            .log_message(
                MessageType::WARNING,
                format!("invariant-lsp: ignored a malformed message: {error}"),
            )
            .await;
        let mut e = RpcError::parse_error();
        e.message = error.into();
        Err(e)
    }

    /// A snapshot, the file and the byte offset for a document position; an error for an
    /// unknown document, `None` for a file the engine does not read.
    pub(super) fn locate(&self, uri: &Uri, position: Position) -> RpcResult<Option<(Analysis, FileId, usize)>> {
        let path = uri_to_path(uri).ok_or_else(|| RpcError::invalid_params("not a file URI"))?;
        let state = lock(&self.state);
        let i = state
            .root_index(&path)
            .ok_or_else(|| RpcError::invalid_params("document is not in a workspace"))?;
        let root = &state.roots[i];
        let rel =
            relative(&root.path, &path).ok_or_else(|| RpcError::invalid_params("document is outside its root"))?;
        let Some(file) = root.host.file(&rel) else {
            return Err(RpcError::invalid_params(format!("unknown document {rel}")));
        };
        let analysis = root.host.analysis();
        let offset = offset_in(&analysis, file, position, state.encoding);
        Ok(Some((analysis, file, offset)))
    }

    pub(super) fn offset_of(&self, uri: &Uri, position: Position) -> Option<usize> {
        let path = uri_to_path(uri)?;
        let state = lock(&self.state);
        let i = state.root_index(&path)?;
        let root = &state.roots[i];
        let rel = relative(&root.path, &path)?;
        let file = root.host.file(&rel)?;
        Some(offset_in(&root.host.analysis(), file, position, state.encoding))
    }
}

/// The byte offset of a protocol position in a file.
fn offset_in(analysis: &Analysis, file: FileId, position: Position, encoding: Encoding) -> usize {
    let at = crate::text::Position {
        line: position.line,
        character: position.character,
    };
    analysis.offset(file, at, encoding)
}
