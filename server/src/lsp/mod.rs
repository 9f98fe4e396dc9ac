//! The language server: a thin layer converting the protocol to engine calls.
//!
//! Framework: `tower-lsp-server` (the maintained fork of tower-lsp). It may run up to four
//! handlers at once, so every handler that changes state does it synchronously under one
//! `std::sync::Mutex` on its first poll (no `.await` between reading and writing), which keeps
//! `didChange` in arrival order; changes with a version not newer than the stored one are
//! dropped. Diagnostics are computed on a clone of the salsa database in a blocking task; an
//! edit cancels the clone (salsa unwinds it), and a result is published only if its document
//! still has the version it was computed for and nothing newer was published.

mod convert;
pub mod diagnostics;
pub mod document;
pub mod fix_all;
pub mod framing;
pub mod model_nav;

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use serde::Deserialize;
use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::{Error as RpcError, Result as RpcResult};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

use crate::config::{load_workspace_with, CONFIG_FILE, TEAM_FILE};
use crate::ide::analysis::{cancellable, Analysis, AnalysisHost, FileId, Span};
use crate::text::Encoding;
use crate::workspace::{discover, relative};
use document::{Change, Document};

/// The code-action kind of "apply every fix that needs no choice" (`check --fix` in the editor).
/// Options an editor may pass in `initializationOptions`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct InitOptions {
    /// Extra model files, relative to each workspace root.
    pub models: Vec<String>,
    /// Rule code or family → severity.
    pub severity: std::collections::BTreeMap<String, crate::model::Severity>,
    /// `auto` (by client capability), `push` or `pull`: see `diagnostics`.
    #[serde(rename = "diagnosticMode")]
    pub diagnostic_mode: diagnostics::ModeOption,
    /// `type` (every edit) or `save`.
    #[serde(rename = "diagnosticsOn")]
    pub diagnostics_on: diagnostics::UpdateOn,
}

struct Root {
    path: PathBuf,
    host: AnalysisHost,
    docs: HashMap<String, OpenDoc>,
    /// Config and model files with problems, for `model/...` diagnostics on them.
    model_problem_uris: Vec<Uri>,
}

struct OpenDoc {
    uri: Uri,
    doc: Document,
}

#[derive(Default)]
struct State {
    roots: Vec<Root>,
    encoding: Encoding,
    options: InitOptions,
    /// Last version published per document, so a late result never overwrites a newer one.
    published: HashMap<Uri, i32>,
    /// The client announced the `create` resource operation in workspace edits.
    can_create: bool,
    /// Push or pull, and what the client announced.
    support: diagnostics::ClientSupport,
    /// What the client was last told, per URI.
    memory: diagnostics::Memory,
    /// Counts document edits, so that the rest of the workspace is recomputed only once typing
    /// pauses (see `refresh_after_edit`).
    edits: u64,
}

#[derive(Clone)]
pub struct Backend {
    client: Client,
    state: Arc<Mutex<State>>,
    /// Serialises publication so that version checks and sends happen in order.
    publish: Arc<tokio::sync::Mutex<()>>,
    /// True once the workspace folders known at `initialized` are indexed (pull requests wait).
    ready: Arc<tokio::sync::watch::Sender<bool>>,
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // A panic while holding the lock leaves consistent data (edits are applied whole), so a
    // poisoned lock is recovered rather than taking the server down.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn internal(message: impl std::fmt::Display) -> RpcError {
    let mut e = RpcError::internal_error();
    e.message = message.to_string().into();
    e
}

/// Runs a handler body, turning a panic into an error response and a log line.
async fn guarded<T>(name: &str, fut: impl std::future::Future<Output = RpcResult<T>>) -> RpcResult<T> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(result) => result,
        Err(payload) => {
            let what = crate::panic_message(payload.as_ref());
            tracing::error!(handler = name, panic = %what, "handler panicked");
            Err(internal(format!("{name} failed: {what}")))
        }
    }
}

/// Runs a notification handler, turning a panic into a log line: no reply is owed, and the
/// server goes on with the next message.
async fn notification_guard(name: &str, fut: impl std::future::Future<Output = ()>) {
    if let Err(payload) = AssertUnwindSafe(fut).catch_unwind().await {
        let what = crate::panic_message(payload.as_ref());
        tracing::error!(handler = name, panic = %what, "notification handler panicked");
    }
}

/// The path of a document or folder URI as the server keys it: `..` resolved lexically, then
/// symlinks resolved (the longest existing prefix), so a workspace opened through a symlinked
/// path (`~/src -> /data/src`) and its documents meet on the same canonical root. Only `stat`
/// and `readlink` calls: nothing is opened.
fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let lexical = uri_to_lexical_path(uri)?;
    let mut existing = lexical.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            out.extend(rest.iter().rev());
            return Some(out);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return Some(lexical),
        }
    }
}

fn uri_to_lexical_path(uri: &Uri) -> Option<PathBuf> {
    let path = uri.to_file_path()?.into_owned();
    // `..` is resolved here, so `file:///root/../elsewhere` never counts as inside `/root`.
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

impl State {
    /// The root containing `path` (the longest matching one).
    fn root_index(&self, path: &Path) -> Option<usize> {
        self.roots
            .iter()
            .enumerate()
            .filter(|(_, r)| path.starts_with(&r.path))
            .max_by_key(|(_, r)| r.path.as_os_str().len())
            .map(|(i, _)| i)
    }

    fn add_root(&mut self, root: Root) -> usize {
        self.roots.push(root);
        self.roots.len() - 1
    }
}

/// A new root with its configuration and model loaded. This reads files: call it without
/// holding the state lock, then add the result with `State::add_root`.
fn new_root(path: PathBuf, options: &InitOptions) -> Root {
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
    }
}

/// A snapshot for computing diagnostics off the lock.
struct DiagnosticJob {
    analysis: Analysis,
    targets: Vec<(FileId, Uri, Option<i32>)>,
    encoding: Encoding,
}

impl Backend {
    fn new(client: Client) -> Self {
        Backend {
            client,
            state: Arc::default(),
            publish: Arc::default(),
            ready: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }

    fn job(state: &State, root_index: usize, open: bool) -> DiagnosticJob {
        let root = &state.roots[root_index];
        let targets = Self::targets(root, open);
        DiagnosticJob {
            analysis: root.host.analysis(),
            targets,
            encoding: state.encoding,
        }
    }

    /// Computes and publishes diagnostics for every open document of a root.
    async fn refresh(&self, root_index: usize) {
        self.refresh_diagnostics(root_index).await;
        self.publish_model_problems(root_index).await;
    }

    /// Computes one batch (open documents, or every other file) and publishes what changed;
    /// false when superseded.
    async fn refresh_batch(&self, root_index: usize, open: bool) -> bool {
        let job = {
            let state = lock(&self.state);
            if root_index >= state.roots.len() {
                return false;
            }
            Self::job(&state, root_index, open)
        };
        let computed = tokio::task::spawn_blocking(move || {
            let DiagnosticJob {
                analysis,
                targets,
                encoding,
            } = job;
            let result = cancellable(|| diagnostics::compute(&analysis, &targets, encoding));
            // The snapshot is dropped here, before anything waits on the state lock: a writer
            // holding that lock may be waiting for every snapshot to go.
            drop(analysis);
            result
        })
        .await;
        let results = match computed {
            Ok(Ok(results)) => results,
            Ok(Err(_cancelled)) => return false, // superseded by an edit; the edit schedules its own run
            Err(join_error) => {
                tracing::error!(error = %join_error, "diagnostics task failed");
                return false;
            }
        };
        let _order = self.publish.lock().await;
        self.publish_changed(root_index, results).await;
        true
    }

    async fn publish_model_problems(&self, root_index: usize) {
        let (errors, root_path, previous) = {
            let mut state = lock(&self.state);
            let Some(root) = state.roots.get_mut(root_index) else {
                return;
            };
            (
                root.host.model_errors().to_vec(),
                root.path.clone(),
                std::mem::take(&mut root.model_problem_uris),
            )
        };
        let mut by_uri: HashMap<Uri, Vec<Diagnostic>> = HashMap::new();
        for uri in previous {
            by_uri.entry(uri).or_default();
        }
        for error in &errors {
            let path = if Path::new(&error.path).is_absolute() {
                PathBuf::from(&error.path)
            } else {
                root_path.join(&error.path)
            };
            let Some(uri) = Uri::from_file_path(&path) else {
                continue;
            };
            by_uri.entry(uri).or_default().push(convert::model_error(error));
        }
        let uris: Vec<Uri> = by_uri
            .iter()
            .filter(|(_, d)| !d.is_empty())
            .map(|(u, _)| u.clone())
            .collect();
        if let Some(root) = lock(&self.state).roots.get_mut(root_index) {
            root.model_problem_uris = uris;
        }
        for (uri, diagnostics) in by_uri {
            self.client.publish_diagnostics(uri, diagnostics, None).await;
        }
    }

    async fn status(&self, state: &str, root_index: usize) {
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
    async fn index(&self, root_index: usize) {
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
            let rels = discover(&root_path, std::slice::from_ref(&root_path), &config);
            use rayon::prelude::*;
            let modules = crate::workspace::find_go_modules(&root_path, rels.iter().map(String::as_str));
            let files = rels
                .into_par_iter()
                .filter_map(|rel| {
                    crate::workspace::read_confined(&root_path, &root_path.join(&rel))
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
            }
        }
        if let Some(progress) = progress {
            progress.finish_with_message("done").await;
        }
        self.status("ready", root_index).await;
        self.refresh(root_index).await;
    }

    /// Applies re-read configuration and models (read off the lock by `load_workspace`); on
    /// error the last good model stays in force.
    fn reload_model(state: &mut State, root_index: usize, loaded: crate::config::Loaded) {
        let options = state.options.clone();
        let Some(root) = state.roots.get_mut(root_index) else {
            return;
        };
        if loaded.errors.is_empty() {
            let mut config = (*loaded.config).clone();
            config.severity.extend(options.severity.clone());
            root.host.set_model(loaded.model, Arc::new(config));
        }
        root.host.set_model_errors(loaded.errors);
    }

    fn is_model_file(root: &Root, rel: &str) -> bool {
        rel == CONFIG_FILE || rel == TEAM_FILE || root.host.config().models.iter().any(|m| m == rel)
    }
}

static SHUTDOWN_REQUESTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `invariant/status`: indexing state and the model in force, for status bars.
enum StatusNotification {}

impl notification::Notification for StatusNotification {
    type Params = Value;
    const METHOD: &'static str = "invariant/status";
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> RpcResult<InitializeResult> {
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
            let roots: Vec<Root> = folders.into_iter().map(|f| new_root(f, &options)).collect();
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

    async fn initialized(&self, _: InitializedParams) {
        // Watch configuration, models and sources so files not open stay current.
        let watchers = ["**/*.go", "**/*.yaml", "**/*.yml"]
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

    async fn shutdown(&self) -> RpcResult<()> {
        SHUTDOWN_REQUESTED.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        notification_guard("didOpen", async {
            let item = params.text_document;
            let Some(path) = uri_to_path(&item.uri) else { return };
            // A file outside every workspace folder gets its own root (found like `check` does),
            // loaded off the lock.
            let (known, options) = {
                let state = lock(&self.state);
                (state.root_index(&path).is_some(), state.options.clone())
            };
            let fresh = (!known).then(|| new_root(crate::workspace::find_root(&path), &options));
            let root_index = {
                let mut state = lock(&self.state);
                let i = match (state.root_index(&path), fresh) {
                    (Some(i), _) => i,
                    (None, Some(root)) => state.add_root(root),
                    (None, None) => return,
                };
                // A reopened document starts a new version history: an older published version
                // must not block its diagnostics.
                state.published.remove(&item.uri);
                let root = &mut state.roots[i];
                let Some(rel) = relative(&root.path, &path) else { return };
                if root
                    .host
                    .set_text(&rel, crate::workspace::from_editor(item.text.clone()))
                    .is_none()
                {
                    return; // not a language we check
                }
                root.host.sync_file_set();
                root.docs.insert(
                    rel,
                    OpenDoc {
                        uri: item.uri.clone(),
                        doc: Document::new(item.version, &item.text),
                    },
                );
                i
            };
            self.refresh(root_index).await;
        })
        .await
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        notification_guard("didChange", async {
            let Some(path) = uri_to_path(&params.text_document.uri) else {
                return;
            };
            let version = params.text_document.version;
            // Everything up to `refresh` happens synchronously on the first poll, under the lock.
            let root_index = {
                let mut state = lock(&self.state);
                let encoding = state.encoding;
                let Some(i) = state.root_index(&path) else { return };
                let root = &mut state.roots[i];
                let Some(rel) = relative(&root.path, &path) else { return };
                let Some(open) = root.docs.get_mut(&rel) else {
                    tracing::warn!(path = %rel, "change for a document that is not open; ignored");
                    return;
                };
                if version <= open.doc.version {
                    tracing::warn!(path = %rel, version, stored = open.doc.version, "stale change dropped");
                    return;
                }
                let tree = root.host.tree_for_edit(&rel);
                let changes: Vec<Change> = params
                    .content_changes
                    .iter()
                    .map(|change| Change {
                        range: change
                            .range
                            .map(|r| ((r.start.line, r.start.character), (r.end.line, r.end.character))),
                        text: change.text.clone(),
                    })
                    .collect();
                let tree = open.doc.apply_all(&changes, tree, encoding);
                open.doc.version = version;
                // Editor text meets the same limits as text from disk (size, binary).
                let (text, note) = crate::workspace::from_editor(open.doc.text());
                let tree = if note.is_some() { None } else { tree };
                root.host.set_edited_text(&rel, (text, note), tree);
                if state.support.update_on == diagnostics::UpdateOn::Save {
                    state.memory.dirty.insert(params.text_document.uri.clone());
                    return; // findings update on save
                }
                state.edits += 1;
                i
            };
            self.refresh_after_edit(root_index).await;
        })
        .await
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        notification_guard("didSave", self.saved(params.text_document.uri)).await
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        notification_guard("didClose", async {
            let Some(path) = uri_to_path(&params.text_document.uri) else {
                return;
            };
            let (root_index, root_path, rel) = {
                let mut state = lock(&self.state);
                let Some(i) = state.root_index(&path) else { return };
                let root = &mut state.roots[i];
                let Some(rel) = relative(&root.path, &path) else { return };
                root.docs.remove(&rel);
                let root_path = root.path.clone();
                state.published.remove(&params.text_document.uri);
                state.memory.forget(&params.text_document.uri);
                (i, root_path, rel)
            };
            // The file on disk is the truth again for a closed document; read off the lock.
            let read = crate::workspace::read_confined(&root_path, &path);
            {
                let mut state = lock(&self.state);
                if let Some(root) = state.roots.get_mut(root_index).filter(|r| r.path == root_path) {
                    if !root.docs.contains_key(&rel) {
                        match read {
                            Ok(text) => {
                                root.host.set_text(&rel, text);
                                root.host.sync_file_set();
                            }
                            Err(_) => root.host.remove(&rel),
                        }
                    }
                }
            }
            self.client
                .publish_diagnostics(params.text_document.uri, Vec::new(), None)
                .await;
            self.refresh(root_index).await;
        })
        .await
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        notification_guard("didChangeWatchedFiles", async {
            // Decide under the lock, read files and models off it, apply under it again.
            enum Work {
                Model(PathBuf),
                Delete(String),
                Read(String, PathBuf),
            }
            let (plan, options) = {
                let state = lock(&self.state);
                let mut plan: Vec<(usize, PathBuf, Work)> = Vec::new();
                for event in &params.changes {
                    let Some(path) = uri_to_path(&event.uri) else { continue };
                    let Some(i) = state.root_index(&path) else { continue };
                    let root = &state.roots[i];
                    let Some(rel) = relative(&root.path, &path) else {
                        continue;
                    };
                    let work = if Self::is_model_file(root, &rel) {
                        Work::Model(root.path.clone())
                    } else if root.docs.contains_key(&rel) {
                        continue;
                    } else if event.typ == FileChangeType::DELETED {
                        Work::Delete(rel)
                    } else {
                        Work::Read(rel, path)
                    };
                    plan.push((i, root.path.clone(), work));
                }
                (plan, state.options.clone())
            };
            let mut touched = Vec::new();
            for (i, root_path, work) in plan {
                enum Done {
                    Model(crate::config::Loaded),
                    Delete(String),
                    Read(String, std::io::Result<crate::workspace::SourceText>),
                }
                let done = match work {
                    Work::Model(root) => Done::Model(load_workspace_with(
                        &root,
                        &[],
                        &options.models,
                        &crate::config::ConfigChoice::Workspace,
                    )),
                    Work::Delete(rel) => Done::Delete(rel),
                    Work::Read(rel, path) => Done::Read(rel, crate::workspace::read_confined(&root_path, &path)),
                };
                let mut state = lock(&self.state);
                if state.roots.get(i).is_none_or(|r| r.path != root_path) {
                    continue;
                }
                match done {
                    Done::Model(loaded) => Self::reload_model(&mut state, i, loaded),
                    Done::Delete(rel) => state.roots[i].host.remove(&rel),
                    Done::Read(rel, read) => {
                        let root = &mut state.roots[i];
                        if root.docs.contains_key(&rel) {
                            continue;
                        }
                        match read {
                            Ok(text) => {
                                root.host.set_text(&rel, text);
                                root.host.sync_file_set();
                            }
                            // Not readable (gone, a FIFO, outside the root): not checked.
                            Err(_) => root.host.remove(&rel),
                        }
                    }
                }
                if !touched.contains(&i) {
                    touched.push(i);
                }
            }
            for i in touched {
                self.refresh(i).await;
            }
            self.pull_refresh().await;
        })
        .await
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        notification_guard("didChangeWorkspaceFolders", async {
            let options = lock(&self.state).options.clone();
            let fresh: Vec<Root> = params
                .event
                .added
                .iter()
                .filter_map(|f| uri_to_path(&f.uri))
                .map(|p| new_root(p, &options))
                .collect();
            let removed_paths: Vec<PathBuf> = params
                .event
                .removed
                .iter()
                .filter_map(|f| uri_to_path(&f.uri))
                .collect();
            let (added, cleared): (Vec<usize>, Vec<Uri>) = {
                let mut state = lock(&self.state);
                let mut cleared = Vec::new();
                for path in &removed_paths {
                    for root in state.roots.iter().filter(|r| &r.path == path) {
                        cleared.extend(root.docs.values().map(|d| d.uri.clone()));
                        cleared.extend(root.model_problem_uris.iter().cloned());
                    }
                    state.roots.retain(|r| &r.path != path);
                }
                for uri in &cleared {
                    state.published.remove(uri);
                }
                (fresh.into_iter().map(|r| state.add_root(r)).collect(), cleared)
            };
            // A removed folder's documents and model files keep no diagnostics.
            for uri in cleared {
                self.client.publish_diagnostics(uri, Vec::new(), None).await;
            }
            for i in added {
                self.index(i).await;
            }
        })
        .await
    }

    async fn diagnostic(&self, params: DocumentDiagnosticParams) -> RpcResult<DocumentDiagnosticReportResult> {
        guarded("textDocument/diagnostic", async {
            Ok(self.pull_document(params).await)
        })
        .await
    }

    async fn workspace_diagnostic(
        &self,
        params: WorkspaceDiagnosticParams,
    ) -> RpcResult<WorkspaceDiagnosticReportResult> {
        guarded("workspace/diagnostic", async { Ok(self.pull_workspace(params).await) }).await
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> RpcResult<Option<GotoDefinitionResponse>> {
        guarded("definition", self.model_definition(params)).await
    }

    async fn symbol(&self, params: WorkspaceSymbolParams) -> RpcResult<Option<WorkspaceSymbolResponse>> {
        guarded("workspace/symbol", self.model_symbols(params)).await
    }

    async fn hover(&self, params: HoverParams) -> RpcResult<Option<Hover>> {
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

    async fn code_action(&self, params: CodeActionParams) -> RpcResult<Option<CodeActionResponse>> {
        guarded("codeAction", async {
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
                            convert::code_action(&analysis, &root, a, &diagnostics, &versions, encoding, can_create)
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

    async fn execute_command(&self, params: ExecuteCommandParams) -> RpcResult<Option<LSPAny>> {
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
}

impl Backend {
    /// A message that was not valid JSON: answered with a parse error (when it had an id).
    async fn malformed(&self, params: Value) -> RpcResult<Value> {
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
    fn locate(&self, uri: &Uri, position: Position) -> RpcResult<Option<(Analysis, FileId, usize)>> {
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

    fn offset_of(&self, uri: &Uri, position: Position) -> Option<usize> {
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

/// Serves LSP on stdin/stdout until `exit`.
pub fn serve() -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 2;
        }
    };
    runtime.block_on(async {
        let (service, socket) = LspService::build(Backend::new)
            .custom_method(framing::MALFORMED_METHOD, Backend::malformed)
            .custom_method(model_nav::MODEL_SOURCE_METHOD, Backend::model_source)
            .finish();
        // Frames pass through the guard first, so one malformed message cannot end the reader.
        let (guarded_in, guard_out) = tokio::io::duplex(1 << 20);
        let reader = tokio::spawn(async move {
            if let Err(e) = framing::sanitize(tokio::io::stdin(), guard_out).await {
                tracing::error!(error = %e, "reading stdin failed");
            }
        });
        let server = Server::new(guarded_in, tokio::io::stdout(), socket).serve(service);
        tokio::pin!(server);
        // After `exit` (or the end of input) the reader returns; give the framework a moment to
        // flush, then stop whatever it still waits on: the spec says exit means exit.
        tokio::select! {
            _ = &mut server => {}
            _ = reader => {
                let _ = tokio::time::timeout(std::time::Duration::from_millis(200), &mut server).await;
            }
        }
    });
    // Blocking tasks (a stdin read, a diagnostics run) must not hold the process open.
    runtime.shutdown_background();
    // LSP: exit code 0 after a `shutdown` request, 1 otherwise.
    if SHUTDOWN_REQUESTED.load(std::sync::atomic::Ordering::SeqCst) {
        0
    } else {
        1
    }
}
