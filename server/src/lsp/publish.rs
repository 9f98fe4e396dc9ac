//! Diagnostics to the client: computed on snapshots off the lock, pushed for the whole
//! workspace (open documents first, the rest once typing pauses) or answered to pulls, and the
//! `model/...` problems on configuration and model files. What the client was told lives in
//! `diagnostics::Memory`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tower_lsp_server::ls_types::*;

use super::diagnostics::*;
use super::*;
use crate::ide::analysis::{cancellable, Analysis, FileId};
use crate::vfs::relative;

/// A snapshot for computing diagnostics off the lock.
pub(super) struct DiagnosticJob {
    analysis: Analysis,
    targets: Vec<(FileId, Uri, Option<i32>)>,
    encoding: Encoding,
}

impl Backend {
    pub(super) fn job(state: &State, root_index: usize, open: bool) -> DiagnosticJob {
        let root = &state.roots[root_index];
        let targets = Self::targets(root, open);
        DiagnosticJob {
            analysis: root.host.analysis(),
            targets,
            encoding: state.encoding,
        }
    }

    /// Computes and publishes diagnostics for every open document of a root.
    pub(super) async fn refresh(&self, root_index: usize) {
        self.refresh_diagnostics(root_index).await;
        self.publish_model_problems(root_index).await;
    }

    /// Computes one batch (open documents, or every other file) and publishes what changed;
    /// false when superseded.
    pub(super) async fn refresh_batch(&self, root_index: usize, open: bool) -> bool {
        let job = {
            let state = lock(&self.state);
            if root_index >= state.roots.len() || state.roots[root_index].indexing {
                // Still being indexed: the refresh at the end of indexing publishes.
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

    pub(super) async fn publish_model_problems(&self, root_index: usize) {
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
}

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
    pub(super) async fn wait_ready(&self) {
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
