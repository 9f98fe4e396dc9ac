//! How findings reach the editor: pushed for the whole workspace, or pulled (LSP 3.17).
//!
//! **Mode, per client.** A client that announces both `textDocument.diagnostic` and
//! `workspace.diagnostics` (VS Code) is served by pull: `textDocument/diagnostic` and
//! `workspace/diagnostic` with result ids, and `workspace/diagnostic/refresh` when files change
//! on disk (if it announced `refreshSupport`). Every other client (Neovim 0.11 announces
//! document pulls but never asks for workspace ones) gets `publishDiagnostics` for every file
//! of the workspace once indexed, kept current as files change. `initializationOptions`
//! `diagnosticMode: "auto" | "push" | "pull"` overrides the choice.
//!
//! **When.** `diagnosticsOn: "type"` (default) updates findings on every edit; `"save"` keeps
//! the last ones while a document has unsaved edits and updates them on save.
//!
//! **Only what changed.** Push remembers a result id (a hash of the diagnostics) per URI and
//! republishes a document only when its diagnostics changed, or when it is the edited one (its
//! version moved). Pull answers `unchanged` when the client's previous result id still holds.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use serde::Deserialize;
use tower_lsp_server::ls_types::*;

use crate::ide::analysis::{cancellable, Analysis, FileId};
use crate::text::Encoding;

/// `initializationOptions.diagnosticMode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModeOption {
    #[default]
    Auto,
    Push,
    Pull,
}

/// `initializationOptions.diagnosticsOn`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateOn {
    #[default]
    Type,
    Save,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Push,
    Pull,
}

/// What the client can do, read once at `initialize`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientSupport {
    pub mode: Mode,
    pub update_on: UpdateOn,
    /// `workspace.diagnostics.refreshSupport`.
    pub refresh: bool,
    /// `window.workDoneProgress`.
    pub work_done_progress: bool,
    /// `workspace.didChangeWatchedFiles.dynamicRegistration`.
    pub watch_registration: bool,
}

impl ClientSupport {
    pub fn new(caps: &ClientCapabilities, mode: ModeOption, update_on: UpdateOn) -> ClientSupport {
        let document_pull = caps.text_document.as_ref().is_some_and(|t| t.diagnostic.is_some());
        let workspace = caps.workspace.as_ref();
        let workspace_pull = workspace.is_some_and(|w| w.diagnostics.is_some());
        let refresh = workspace
            .and_then(|w| w.diagnostics.as_ref())
            .and_then(|d| d.refresh_support)
            .unwrap_or(false);
        let mode = match mode {
            ModeOption::Push => Mode::Push,
            ModeOption::Pull => Mode::Pull,
            ModeOption::Auto if document_pull && workspace_pull => Mode::Pull,
            ModeOption::Auto => Mode::Push,
        };
        ClientSupport {
            mode,
            update_on,
            refresh,
            work_done_progress: caps.window.as_ref().and_then(|w| w.work_done_progress).unwrap_or(false),
            watch_registration: workspace
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|d| d.dynamic_registration)
                .unwrap_or(false),
        }
    }

    /// The `diagnosticProvider` capability (pull mode only).
    pub fn provider(&self) -> Option<DiagnosticServerCapabilities> {
        (self.mode == Mode::Pull).then(|| {
            DiagnosticServerCapabilities::Options(DiagnosticOptions {
                identifier: Some("invariant".into()),
                // Purity is per package and kustomize references cross files.
                inter_file_dependencies: true,
                workspace_diagnostics: true,
                ..Default::default()
            })
        })
    }
}

/// A stable id for a set of diagnostics: equal ids, equal diagnostics.
pub fn result_id(diagnostics: &[Diagnostic]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(diagnostics).unwrap_or_default().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// One file's diagnostics, computed off the lock.
pub struct FileDiagnostics {
    pub uri: Uri,
    /// The open document's version; `None` for a file read from disk.
    pub version: Option<i32>,
    pub diagnostics: Vec<Diagnostic>,
    pub result_id: String,
}

/// Computes diagnostics for `targets` on a database snapshot (cancellable by salsa).
pub fn compute(
    analysis: &Analysis,
    targets: &[(FileId, Uri, Option<i32>)],
    encoding: Encoding,
) -> Vec<FileDiagnostics> {
    let root = analysis.root();
    targets
        .iter()
        .map(|(file, uri, version)| {
            let findings = analysis.findings(*file);
            let diagnostics = if findings.is_empty() {
                Vec::new()
            } else {
                super::convert::diagnostics(analysis, root, *file, &findings, encoding)
            };
            FileDiagnostics {
                uri: uri.clone(),
                version: *version,
                result_id: result_id(&diagnostics),
                diagnostics,
            }
        })
        .collect()
}

/// What the server last told the client, per URI.
#[derive(Default)]
pub struct Memory {
    /// Push: the result id last published per URI (absent: nothing, or an empty list).
    pub published: HashMap<Uri, String>,
    /// Pull in save mode: the last report per URI, answered again while the document is dirty.
    pub reported: HashMap<Uri, (String, Vec<Diagnostic>)>,
    /// Open documents with edits not yet saved (save mode).
    pub dirty: HashSet<Uri>,
}

impl Memory {
    /// Push: whether `result` must be sent. `version_moved`: the document's version is newer
    /// than the one last published for it (the edited document is always republished).
    pub fn should_publish(&self, result: &FileDiagnostics, version_moved: bool) -> bool {
        if version_moved {
            return true;
        }
        match self.published.get(&result.uri) {
            Some(id) => *id != result.result_id,
            None => !result.diagnostics.is_empty(),
        }
    }

    /// A document closed: the client was sent an empty list for it.
    pub fn forget(&mut self, uri: &Uri) {
        self.published.remove(uri);
        self.reported.remove(uri);
        self.dirty.remove(uri);
    }

    pub fn record(&mut self, result: &FileDiagnostics) {
        if result.diagnostics.is_empty() {
            self.published.remove(&result.uri);
        } else {
            self.published.insert(result.uri.clone(), result.result_id.clone());
        }
    }
}

/// The `textDocument/diagnostic` answer for one file.
pub fn document_report(result: FileDiagnostics, previous: Option<&str>) -> DocumentDiagnosticReportResult {
    let report = if previous == Some(result.result_id.as_str()) {
        DocumentDiagnosticReport::Unchanged(RelatedUnchangedDocumentDiagnosticReport {
            related_documents: None,
            unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport {
                result_id: result.result_id,
            },
        })
    } else {
        DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
            related_documents: None,
            full_document_diagnostic_report: FullDocumentDiagnosticReport {
                result_id: Some(result.result_id),
                items: result.diagnostics,
            },
        })
    };
    DocumentDiagnosticReportResult::Report(report)
}

/// The `workspace/diagnostic` items: full reports for files whose diagnostics changed (or that
/// have some and were never reported), unchanged for the rest the client asked about, and an
/// empty full report for a previously reported file that is gone.
pub fn workspace_items(
    results: Vec<FileDiagnostics>,
    previous: &HashMap<Uri, String>,
) -> Vec<WorkspaceDocumentDiagnosticReport> {
    let mut seen = HashSet::new();
    let mut items = Vec::new();
    for result in results {
        seen.insert(result.uri.clone());
        let version = result.version.map(i64::from);
        match previous.get(&result.uri) {
            Some(id) if *id == result.result_id => items.push(WorkspaceDocumentDiagnosticReport::Unchanged(
                WorkspaceUnchangedDocumentDiagnosticReport {
                    uri: result.uri,
                    version,
                    unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport {
                        result_id: result.result_id,
                    },
                },
            )),
            None if result.diagnostics.is_empty() => {}
            _ => items.push(WorkspaceDocumentDiagnosticReport::Full(
                WorkspaceFullDocumentDiagnosticReport {
                    uri: result.uri,
                    version,
                    full_document_diagnostic_report: FullDocumentDiagnosticReport {
                        result_id: Some(result.result_id),
                        items: result.diagnostics,
                    },
                },
            )),
        }
    }
    for uri in previous.keys().filter(|u| !seen.contains(*u)) {
        items.push(WorkspaceDocumentDiagnosticReport::Full(
            WorkspaceFullDocumentDiagnosticReport {
                uri: uri.clone(),
                version: None,
                full_document_diagnostic_report: FullDocumentDiagnosticReport {
                    result_id: Some(result_id(&[])),
                    items: Vec::new(),
                },
            },
        ));
    }
    items
}

use super::{lock, uri_to_path, Backend, Root};
use crate::workspace::relative;

impl Backend {
    /// Open documents (`open`), or every other file of the root with its on-disk URI.
    pub(super) fn targets(root: &Root, open: bool) -> Vec<(FileId, Uri, Option<i32>)> {
        if open {
            return root
                .docs
                .iter()
                .filter_map(|(rel, d)| root.host.file(rel).map(|f| (f, d.uri.clone(), Some(d.doc.version))))
                .collect();
        }
        let mut rest: Vec<(&String, FileId)> = root
            .host
            .files()
            .filter(|(rel, _)| !root.docs.contains_key(*rel))
            .collect();
        rest.sort_by(|a, b| a.0.cmp(b.0));
        rest.into_iter()
            .filter_map(|(rel, f)| Some((f, Uri::from_file_path(root.path.join(rel))?, None)))
            .collect()
    }

    /// Push: open documents first (the edited one is waited for), then the rest of the
    /// workspace; only changed diagnostics are sent. Pull: nothing to send (the client asks).
    pub(super) async fn refresh_diagnostics(&self, root_index: usize) {
        if lock(&self.state).support.mode == Mode::Pull {
            return;
        }
        if self.refresh_batch(root_index, true).await {
            self.refresh_batch(root_index, false).await;
        }
    }

    /// After a keystroke: the open documents at once; the rest of the workspace (whose findings
    /// an edit can change through package summaries or kustomize graphs) only when no other
    /// edit arrived for a short pause. Recomputing every file on every keystroke would hold a
    /// database snapshot that the next keystroke's write must wait for.
    pub(super) async fn refresh_after_edit(&self, root_index: usize) {
        const PAUSE: std::time::Duration = std::time::Duration::from_millis(300);
        let push = lock(&self.state).support.mode != Mode::Pull;
        if push && !self.refresh_batch(root_index, true).await {
            return; // superseded by a newer edit, which schedules its own run
        }
        // In a task of its own: a handler that waited here would hold one of the framework's
        // few concurrent handler slots, and the next keystrokes would queue behind it.
        let edits = lock(&self.state).edits;
        let this = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(PAUSE).await;
            if lock(&this.state).edits != edits {
                return; // still typing: the newest edit's task does the rest
            }
            if push {
                this.refresh_batch(root_index, false).await;
            }
            this.publish_model_problems(root_index).await;
        });
    }

    /// Sends the results that are still current and changed (see `Memory::should_publish`).
    pub(super) async fn publish_changed(&self, root_index: usize, results: Vec<FileDiagnostics>) {
        for result in results {
            {
                let mut state = lock(&self.state);
                let open_version = state
                    .roots
                    .get(root_index)
                    .and_then(|r| r.docs.values().find(|d| d.uri == result.uri))
                    .map(|d| d.doc.version);
                if open_version != result.version {
                    continue; // edited, opened or closed since: a newer run publishes it
                }
                let last = result.version.and_then(|_| state.published.get(&result.uri).copied());
                if let (Some(v), Some(p)) = (result.version, last) {
                    if p > v {
                        continue;
                    }
                }
                if state.support.update_on == UpdateOn::Save && state.memory.dirty.contains(&result.uri) {
                    continue; // findings wait for the save
                }
                let moved = result.version.is_some() && last != result.version;
                if !state.memory.should_publish(&result, moved) {
                    continue;
                }
                state.memory.record(&result);
                if let Some(v) = result.version {
                    state.published.insert(result.uri.clone(), v);
                }
            }
            self.client
                .publish_diagnostics(result.uri, result.diagnostics, result.version)
                .await;
        }
    }

    /// `didSave`: in save mode, the saved document's findings (and the workspace's) update now.
    pub(super) async fn saved(&self, uri: Uri) {
        let root_index = {
            let mut state = lock(&self.state);
            if state.support.update_on != UpdateOn::Save {
                return;
            }
            state.memory.dirty.remove(&uri);
            state.memory.reported.remove(&uri);
            let Some(path) = uri_to_path(&uri) else { return };
            let Some(i) = state.root_index(&path) else { return };
            i
        };
        self.refresh(root_index).await;
        self.pull_refresh().await;
    }

    /// Pull: asks the client to pull again (files changed on disk, indexing finished).
    pub(super) async fn pull_refresh(&self) {
        let support = lock(&self.state).support;
        if support.mode == Mode::Pull && support.refresh {
            if let Err(e) = self.client.workspace_diagnostic_refresh().await {
                tracing::info!(error = %e, "workspace/diagnostic/refresh not accepted");
            }
        }
    }

    /// Waits until the folders known at `initialized` are indexed.
    async fn wait_ready(&self) {
        let mut ready = self.ready.subscribe();
        let _ = ready.wait_for(|r| *r).await;
    }

    /// Runs `compute` for `targets` of a root on a snapshot, again if an edit cancels it.
    async fn compute_root(
        &self,
        root_index: usize,
        pick: impl Fn(&Root) -> Vec<(FileId, Uri, Option<i32>)>,
    ) -> Vec<FileDiagnostics> {
        for _ in 0..20 {
            let job = {
                let state = lock(&self.state);
                let Some(root) = state.roots.get(root_index) else {
                    return Vec::new();
                };
                (root.host.analysis(), pick(root), state.encoding)
            };
            let computed = tokio::task::spawn_blocking(move || {
                let (analysis, targets, encoding) = job;
                let result = cancellable(|| compute(&analysis, &targets, encoding));
                drop(analysis);
                result
            })
            .await;
            match computed {
                Ok(Ok(results)) => return results,
                Ok(Err(_cancelled)) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "diagnostics task failed");
                    return Vec::new();
                }
            }
        }
        Vec::new()
    }

    /// `textDocument/diagnostic`.
    pub(super) async fn pull_document(&self, params: DocumentDiagnosticParams) -> DocumentDiagnosticReportResult {
        self.wait_ready().await;
        let uri = params.text_document.uri;
        let (root_index, rel) = {
            let state = lock(&self.state);
            let found = uri_to_path(&uri).and_then(|path| {
                let i = state.root_index(&path)?;
                Some((i, relative(&state.roots[i].path, &path)?))
            });
            match found {
                Some(f) => f,
                None => return document_report(empty(uri), params.previous_result_id.as_deref()),
            }
        };
        let (save_mode, dirty, last) = {
            let state = lock(&self.state);
            (
                state.support.update_on == UpdateOn::Save,
                state.memory.dirty.contains(&uri),
                state.memory.reported.get(&uri).cloned(),
            )
        };
        if save_mode && dirty {
            if let Some((id, diagnostics)) = last {
                let kept = FileDiagnostics {
                    uri,
                    version: None,
                    diagnostics,
                    result_id: id,
                };
                return document_report(kept, params.previous_result_id.as_deref());
            }
        }
        let target_uri = uri.clone();
        let mut results = self
            .compute_root(root_index, move |root| {
                let Some(file) = root.host.file(&rel) else {
                    return Vec::new();
                };
                let version = root.docs.get(&rel).map(|d| d.doc.version);
                vec![(file, target_uri.clone(), version)]
            })
            .await;
        let result = results.pop().unwrap_or_else(|| empty(uri.clone()));
        if save_mode {
            lock(&self.state)
                .memory
                .reported
                .insert(uri, (result.result_id.clone(), result.diagnostics.clone()));
        }
        document_report(result, params.previous_result_id.as_deref())
    }

    /// `workspace/diagnostic`: every file of every root.
    pub(super) async fn pull_workspace(&self, params: WorkspaceDiagnosticParams) -> WorkspaceDiagnosticReportResult {
        self.wait_ready().await;
        let previous: HashMap<Uri, String> = params
            .previous_result_ids
            .into_iter()
            .map(|p| (p.uri, p.value))
            .collect();
        let roots = lock(&self.state).roots.len();
        let mut results = Vec::new();
        for i in 0..roots {
            results.extend(
                self.compute_root(i, |root| {
                    let mut all = Self::targets(root, true);
                    all.extend(Self::targets(root, false));
                    all
                })
                .await,
            );
        }
        WorkspaceDiagnosticReportResult::Report(WorkspaceDiagnosticReport {
            items: workspace_items(results, &previous),
        })
    }
}

fn empty(uri: Uri) -> FileDiagnostics {
    FileDiagnostics {
        uri,
        version: None,
        diagnostics: Vec::new(),
        result_id: result_id(&[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(message: &str) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            ..Default::default()
        }
    }

    fn result(uri: &str, diagnostics: Vec<Diagnostic>) -> FileDiagnostics {
        FileDiagnostics {
            uri: uri.parse().unwrap(),
            version: None,
            result_id: result_id(&diagnostics),
            diagnostics,
        }
    }

    #[test]
    fn push_sends_only_changes() {
        let mut memory = Memory::default();
        let empty = result("file:///a.go", vec![]);
        assert!(!memory.should_publish(&empty, false), "nothing to clear");
        assert!(memory.should_publish(&empty, true), "the edited document always");
        let one = result("file:///a.go", vec![diag("x")]);
        assert!(memory.should_publish(&one, false));
        memory.record(&one);
        assert!(!memory.should_publish(&result("file:///a.go", vec![diag("x")]), false));
        assert!(memory.should_publish(&result("file:///a.go", vec![diag("y")]), false));
        assert!(memory.should_publish(&empty, false), "cleared findings are sent");
    }

    #[test]
    fn capability_decides_the_mode() {
        let mut caps: ClientCapabilities = serde_json::from_value(serde_json::json!({
            "textDocument": {"diagnostic": {}}
        }))
        .unwrap();
        assert_eq!(
            ClientSupport::new(&caps, ModeOption::Auto, UpdateOn::Type).mode,
            Mode::Push
        );
        caps = serde_json::from_value(serde_json::json!({
            "textDocument": {"diagnostic": {}}, "workspace": {"diagnostics": {"refreshSupport": true}}
        }))
        .unwrap();
        let support = ClientSupport::new(&caps, ModeOption::Auto, UpdateOn::Type);
        assert_eq!(support.mode, Mode::Pull);
        assert!(support.refresh && !support.work_done_progress);
        assert_eq!(
            ClientSupport::new(&caps, ModeOption::Push, UpdateOn::Type).mode,
            Mode::Push
        );
    }

    #[test]
    fn workspace_items_unchanged_and_gone() {
        let a = result("file:///a.go", vec![diag("x")]);
        let previous: HashMap<Uri, String> = [
            (a.uri.clone(), a.result_id.clone()),
            ("file:///gone.go".parse().unwrap(), "1".into()),
        ]
        .into();
        let items = workspace_items(vec![a, result("file:///b.go", vec![])], &previous);
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(matches!(items[0], WorkspaceDocumentDiagnosticReport::Unchanged(_)));
        match &items[1] {
            WorkspaceDocumentDiagnosticReport::Full(f) => {
                assert_eq!(f.uri.as_str(), "file:///gone.go");
                assert!(f.full_document_diagnostic_report.items.is_empty());
            }
            other => panic!("{other:?}"),
        }
    }
}
