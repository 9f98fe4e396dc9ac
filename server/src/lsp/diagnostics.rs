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

use crate::ide::analysis::{Analysis, FileId};
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
