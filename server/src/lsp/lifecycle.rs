//! Server lifecycle: `initialize` (capabilities, roots), `initialized` (file watching,
//! indexing every root), `shutdown`, and the `invariant/status` notification.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::Result as RpcResult;
use tower_lsp_server::ls_types::*;

use super::*;
use crate::vfs::discover;

/// A new root with its configuration and model loaded. This reads files: call it without
/// holding the state lock, then add the result with `State::add_root`.
pub(super) fn new_root(path: PathBuf, options: &InitOptions) -> Root {
    let mut host = AnalysisHost::for_editor(path.clone(), &options.models);
    if !options.severity.is_empty() {
        let mut config = (*host.config()).clone();
        config.severity.extend(options.severity.clone());
        let model = host.model();
        host.set_model(model, Arc::new(config));
    }
    Root {
        path,
        host,
        docs: HashMap::new(),
        model_problem_uris: Vec::new(),
        indexing: false,
    }
}

pub(super) static SHUTDOWN_REQUESTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `invariant/status`: indexing state and the model in force, for status bars.
pub(super) enum StatusNotification {}

impl notification::Notification for StatusNotification {
    type Params = Value;
    const METHOD: &'static str = "invariant/status";
}

impl Backend {
    pub(super) async fn initialize_server(&self, params: InitializeParams) -> RpcResult<InitializeResult> {
        guarded("initialize", async {
            let options: InitOptions = params
                .initialization_options
                .clone()
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            let utf8 = params
                .capabilities
                .general
                .as_ref()
                .and_then(|g| g.position_encodings.as_ref())
                .is_some_and(|encodings| encodings.contains(&PositionEncodingKind::UTF8));
            let mut folders: Vec<PathBuf> = params
                .workspace_folders
                .iter()
                .flatten()
                .filter_map(|f| uri_to_path(&f.uri))
                .collect();
            #[allow(deprecated)]
            if folders.is_empty() {
                if let Some(root) = params.root_uri.as_ref().and_then(uri_to_path) {
                    folders.push(root);
                }
            }
            let can_create = params
                .capabilities
                .workspace
                .as_ref()
                .and_then(|w| w.workspace_edit.as_ref())
                .and_then(|e| e.resource_operations.as_ref())
                .is_some_and(|ops| ops.contains(&ResourceOperationKind::Create));
            // Models are read here, before the lock is taken.
            // Indexed at `initialized`.
            let roots: Vec<Root> = folders
                .into_iter()
                .map(|f| Root {
                    indexing: true,
                    ..new_root(f, &options)
                })
                .collect();
            let support =
                diagnostics::ClientSupport::new(&params.capabilities, options.diagnostic_mode, options.diagnostics_on);
            {
                let mut state = lock(&self.state);
                state.encoding = if utf8 { Encoding::Utf8 } else { Encoding::Utf16 };
                state.support = support;
                state.options = options;
                state.can_create = can_create;
                for root in roots {
                    state.add_root(root);
                }
            }
            let encoding = if utf8 {
                PositionEncodingKind::UTF8
            } else {
                PositionEncodingKind::UTF16
            };
            Ok(InitializeResult {
                capabilities: ServerCapabilities {
                    position_encoding: Some(encoding),
                    text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                        ..Default::default()
                    })),
                    hover_provider: Some(HoverProviderCapability::Simple(true)),
                    diagnostic_provider: support.provider(),
                    definition_provider: Some(OneOf::Left(true)),
                    workspace_symbol_provider: Some(OneOf::Left(true)),
                    code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX, CodeActionKind::from(fix_all::FIX_ALL)]),
                        ..Default::default()
                    })),
                    execute_command_provider: Some(ExecuteCommandOptions {
                        commands: vec!["invariant.explain".into()],
                        ..Default::default()
                    }),
                    workspace: Some(WorkspaceServerCapabilities {
                        workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                            supported: Some(true),
                            change_notifications: Some(OneOf::Left(true)),
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                server_info: Some(ServerInfo {
                    name: "invariant-lsp".into(),
                    version: Some(env!("CARGO_PKG_VERSION").into()),
                }),
                ..Default::default()
            })
        })
        .await
    }

    pub(super) async fn index_initial_roots(&self, _: InitializedParams) {
        // Watch configuration, models and sources so files not open stay current.
        // `*.json`: the baseline, whose findings are shown as hints.
        let watchers = ["**/*.go", "**/*.yaml", "**/*.yml", "**/*.json"]
            .iter()
            .map(|g| FileSystemWatcher {
                glob_pattern: GlobPattern::String(g.to_string()),
                kind: None,
            })
            .collect();
        let registration = Registration {
            id: "invariant-watch".into(),
            method: "workspace/didChangeWatchedFiles".into(),
            register_options: serde_json::to_value(DidChangeWatchedFilesRegistrationOptions { watchers }).ok(),
        };
        // Registered only with a client that can take it, and never waited on before indexing.
        if lock(&self.state).support.watch_registration {
            let client = self.client.clone();
            tokio::spawn(async move {
                if let Err(e) = client.register_capability(vec![registration]).await {
                    tracing::info!(error = %e, "client did not accept file watching");
                }
            });
        }
        let roots = lock(&self.state).roots.len();
        for i in 0..roots {
            self.index(i).await;
        }
        self.ready.send_replace(true);
        self.pull_refresh().await;
    }

    pub(super) async fn status(&self, state: &str, root_index: usize) {
        let (model, files) = {
            let s = lock(&self.state);
            match s.roots.get(root_index) {
                Some(r) => (
                    r.host.model().model.name.clone().unwrap_or_default(),
                    r.host.file_count(),
                ),
                None => (String::new(), 0),
            }
        };
        self.client
            .send_notification::<StatusNotification>(json!({"state": state, "model": model, "files": files}))
            .await;
    }

    /// Loads every checkable file of a root from disk (open documents keep their editor text).
    pub(super) async fn index(&self, root_index: usize) {
        // Progress only for a client that announced `window.workDoneProgress`, and created
        // while the workspace is read (never waited on before indexing starts).
        let token = NumberOrString::String(format!("invariant-index-{root_index}"));
        let with_progress = lock(&self.state).support.work_done_progress;
        let progress = async {
            if !with_progress {
                return None;
            }
            self.client.create_work_done_progress(token.clone()).await.ok()?;
            Some(
                self.client
                    .progress(token, "Indexing")
                    .with_message("reading the workspace")
                    .begin()
                    .await,
            )
        };
        self.status("indexing", root_index).await;
        let (root_path, config) = {
            let state = lock(&self.state);
            let Some(root) = state.roots.get(root_index) else {
                return;
            };
            (root.path.clone(), root.host.config())
        };
        let read = tokio::task::spawn_blocking(move || {
            let rels = discover(&root_path, std::slice::from_ref(&root_path), &config.filter());
            use rayon::prelude::*;
            let modules = crate::ide::host::find_go_modules(&root_path, rels.iter().map(String::as_str));
            let files = rels
                .into_par_iter()
                .filter_map(|rel| {
                    crate::vfs::read_confined(&root_path, &root_path.join(&rel))
                        .ok()
                        .map(|(t, n)| (rel, t, n))
                })
                .collect::<Vec<_>>();
            (files, modules)
        });
        let (progress, read) = tokio::join!(progress, read);
        let (read, modules) = read.unwrap_or_default();
        {
            let mut state = lock(&self.state);
            if let Some(root) = state.roots.get_mut(root_index) {
                for (rel, text, note) in read {
                    if !root.docs.contains_key(&rel) {
                        root.host.set_text(&rel, (text, note));
                    }
                }
                root.host.sync_file_set();
                root.host.set_go_modules(modules);
                root.indexing = false;
            }
        }
        if let Some(progress) = progress {
            progress.finish_with_message("done").await;
        }
        self.status("ready", root_index).await;
        self.refresh(root_index).await;
    }
}
