//! The language server: a thin layer converting the protocol to engine calls.
//!
//! Framework: `tower-lsp-server` (the maintained fork of tower-lsp). It may run up to four
//! handlers at once, so every handler that changes state does it synchronously under one
//! `std::sync::Mutex` on its first poll (no `.await` between reading and writing), which keeps
//! `didChange` in arrival order; changes with a version not newer than the stored one are
//! dropped. Diagnostics are computed on a clone of the salsa database in a blocking task; an
//! edit cancels the clone (salsa unwinds it), and a result is published only if its document
//! still has the version it was computed for and nothing newer was published.

//!
//! One module per job: `lifecycle` (initialize, indexing, shutdown), `sync` (document
//! synchronisation), `watch` (files and folders changing on disk), `publish` (diagnostics to the
//! client) over `diagnostics` (modes, what was told), `requests` (hover, code actions,
//! commands), `model_nav` (definition, symbols, the built-in model), `fix_all`, `convert`
//! (engine values → protocol values), `document` (the open text), `framing` (the frame guard)
//! and `uri`. This file holds the state and routes each protocol method to its job.

mod convert;
pub mod diagnostics;
pub mod document;
pub mod fix_all;
pub mod framing;
mod lifecycle;
pub mod model_nav;
mod publish;
mod requests;
mod sync;
mod uri;
mod watch;

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use serde::Deserialize;
use tower_lsp_server::jsonrpc::{Error as RpcError, Result as RpcResult};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

use crate::ide::analysis::AnalysisHost;
use crate::text::Encoding;
use document::Document;
use lifecycle::SHUTDOWN_REQUESTED;
use uri::uri_to_path;

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
    /// A workspace folder whose files are not read yet: its findings would be computed from
    /// the open documents alone (a reason returned in one file reaches a condition in another),
    /// so none are published until indexing has loaded it and refreshes.
    indexing: bool,
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
    /// Open documents whose workspace folder was removed, by path: their edits keep the text
    /// current, and a folder added again that holds them takes them back (issue 24.11).
    detached: HashMap<PathBuf, OpenDoc>,
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
        let i = self.roots.len() - 1;
        self.adopt_detached(i);
        i
    }

    /// Documents left open when their folder was removed, and that root `i` now holds, are
    /// open documents of it again: the editor's text wins over the file on disk.
    fn adopt_detached(&mut self, i: usize) {
        let mine: Vec<PathBuf> = self
            .detached
            .keys()
            .filter(|p| self.root_index(p) == Some(i))
            .cloned()
            .collect();
        for path in mine {
            let Some(open) = self.detached.remove(&path) else {
                continue;
            };
            let root = &mut self.roots[i];
            let Some(rel) = crate::vfs::relative(&root.path, &path) else {
                continue;
            };
            let source = crate::vfs::from_editor(open.doc.text());
            if root.host.set_text(&rel, source).is_some() {
                root.docs.insert(rel, open);
            }
        }
        self.roots[i].host.sync_file_set();
    }
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
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> RpcResult<InitializeResult> {
        self.initialize_server(params).await
    }

    async fn initialized(&self, params: InitializedParams) {
        self.index_initial_roots(params).await
    }

    async fn shutdown(&self) -> RpcResult<()> {
        SHUTDOWN_REQUESTED.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        self.open_document(params).await
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        self.change_document(params).await
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        self.save_document(params).await
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        self.close_document(params).await
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        self.watched_files_changed(params).await
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        self.folders_changed(params).await
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
        self.hover_at(params).await
    }

    async fn code_action(&self, params: CodeActionParams) -> RpcResult<Option<CodeActionResponse>> {
        self.code_actions(params).await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> RpcResult<Option<LSPAny>> {
        self.run_command(params).await
    }
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
