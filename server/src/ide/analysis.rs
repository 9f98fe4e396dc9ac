//! The one door into the engine for the protocol layer (`lsp`) and the command line (`cli`),
//! after rust-analyzer's `AnalysisHost`/`Analysis`.
//!
//! [`AnalysisHost`] owns the salsa database of one workspace and applies changes to it: file
//! texts (from disk or the editor, with the edited tree for an incremental reparse), the file
//! set, the Go modules, the model and the configuration. [`AnalysisHost::analysis`] hands out
//! an [`Analysis`]: a snapshot (a clone of the database) that answers every question `lsp` and
//! `cli` ask — findings of a file or of many, hover, code actions and the fixes that need no
//! choice, definitions and symbols in the model, fingerprints and baseline hints, rule
//! explanations, texts and positions. A change through the host cancels every snapshot's
//! running queries (salsa unwinds them; see [`cancellable`]).
//!
//! This is the only module `lsp` and `cli` use to reach `db`, `rules` and `facts`; a test
//! (`tests/contract.rs`) keeps it so. The value types they need are re-exported here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{Config, ConfigChoice};
use crate::db::{Database, Workspace};
use crate::ide::host::Engine;
use crate::model::{CompiledModel, ModelError};
use crate::syntax::Lang;
use crate::text::{Encoding, LineIndex, Position, Range};
use crate::vfs::SourceText;

pub use crate::db::SourceFile as FileId;
pub use crate::facts::go::GoFacts;
pub use crate::facts::gomod::GoModule;
pub use crate::facts::Span;
pub use crate::ide::actions::{apply, Action, FileEdit, TextEdit};
pub use crate::ide::definition::ModelLocation;
pub use crate::ide::fingerprint::Fingerprinted;
pub use crate::ide::symbols::{ModelSymbol, ModelSymbolKind};
pub use crate::rules::{Finding, Fix, FixKind, Related};

/// What `render-diff` reads from YAML outside the database (trees exported at a revision):
/// the YAML facts of a text and ArgoCD's source and generator expansion.
pub mod argocd {
    pub use crate::facts::yaml::{api_group_matches, facts_of, YamlFacts};
    pub use crate::rules::argocd::{appset_params, repo_of, substitute, Params, Repo};
    pub use crate::rules::kustomize::join_relative;
}

/// A query interrupted by a change through the host.
pub type Cancelled = salsa::Cancelled;

/// Runs `f` over a snapshot, turning the unwinding of a cancelled query into `Err`.
pub fn cancellable<T>(f: impl FnOnce() -> T) -> Result<T, Cancelled> {
    salsa::Cancelled::catch(std::panic::AssertUnwindSafe(f))
}

/// Owns the database of one workspace and applies changes to it.
pub struct AnalysisHost {
    engine: Engine,
}

impl AnalysisHost {
    /// The workspace at `root` with its configuration (as chosen) and model, plus the `--model`
    /// files; no source files yet (see [`AnalysisHost::load`]).
    pub fn new(root: PathBuf, extra_models: &[PathBuf], choice: &ConfigChoice) -> AnalysisHost {
        AnalysisHost {
            engine: Engine::with_config(Database::default(), root, extra_models, choice),
        }
    }

    /// The editor's workspace: extra model files relative to the root and confined to it.
    pub fn for_editor(root: PathBuf, models_in_root: &[String]) -> AnalysisHost {
        AnalysisHost {
            engine: Engine::with_models(Database::default(), root, models_in_root),
        }
    }

    pub fn root(&self) -> &Path {
        &self.engine.root
    }

    pub fn config(&self) -> Arc<Config> {
        self.engine.config()
    }

    pub fn model(&self) -> Arc<CompiledModel> {
        self.engine.model()
    }

    /// Problems in `.invariant.yaml`, model files or inputs met while loading.
    pub fn model_errors(&self) -> &[ModelError] {
        &self.engine.model_errors
    }

    pub fn set_model_errors(&mut self, errors: Vec<ModelError>) {
        self.engine.model_errors = errors;
    }

    pub fn add_model_errors(&mut self, errors: Vec<ModelError>) {
        self.engine.model_errors.extend(errors);
    }

    /// Reads `rels` from disk in parallel and adds them, with the workspace's Go modules;
    /// returns the files that could not be read (`internal/unreadable` problems).
    pub fn load(&mut self, rels: &[String]) -> Vec<ModelError> {
        self.engine.load(rels)
    }

    /// The loaded file at a workspace-relative path.
    pub fn file(&self, rel: &str) -> Option<FileId> {
        self.engine.files.get(rel).copied()
    }

    /// Every loaded file's path and handle (unordered).
    pub fn files(&self) -> impl Iterator<Item = (&String, FileId)> {
        self.engine.files.iter().map(|(rel, &f)| (rel, f))
    }

    pub fn file_count(&self) -> usize {
        self.engine.files.len()
    }

    /// Sets a file's text (from disk or a just-opened document), creating it when new; `None`
    /// for a file of no language the engine reads. Call [`AnalysisHost::sync_file_set`] after
    /// adding files.
    pub fn set_text(&mut self, rel: &str, text: SourceText) -> Option<FileId> {
        self.engine.set_text(rel, text.0, text.1)
    }

    /// The document's current syntax tree, to be edited along with its text for an incremental
    /// reparse (see [`AnalysisHost::set_edited_text`]).
    pub fn tree_for_edit(&self, rel: &str) -> Option<tree_sitter::Tree> {
        crate::rules::injected_fault("edit", rel);
        let file = self.file(rel)?;
        crate::db::parse_file(&self.engine.db, file).tree.clone()
    }

    /// An edited document's new text, with its previous tree already edited to match.
    pub fn set_edited_text(&mut self, rel: &str, text: SourceText, tree: Option<tree_sitter::Tree>) -> Option<FileId> {
        self.engine.set_text_with_tree(rel, text.0, text.1, tree)
    }

    /// An opened document's tree, parsed off the lock (see [`crate::ide::host::Engine::hold_tree`]).
    pub fn hold_tree(&mut self, rel: &str, tree: tree_sitter::Tree) {
        self.engine.hold_tree(rel, tree)
    }

    /// A closed document's tree is dropped.
    pub fn release_tree(&mut self, rel: &str) {
        self.engine.release_tree(rel)
    }

    pub fn remove(&mut self, rel: &str) {
        self.engine.remove(rel)
    }

    /// Publishes the file set after files were added.
    pub fn sync_file_set(&mut self) {
        self.engine.sync_file_set()
    }

    pub fn set_go_modules(&mut self, modules: Vec<GoModule>) {
        self.engine.set_go_modules(modules)
    }

    pub fn set_model(&mut self, model: Arc<CompiledModel>, config: Arc<Config>) {
        self.engine.set_model(model, config)
    }

    /// A snapshot for answering questions, on this thread or another.
    pub fn analysis(&self) -> Analysis {
        Analysis {
            db: self.engine.db.clone(),
            ws: self.engine.ws,
        }
    }
}

/// A snapshot of the workspace. Cheap to make; a change through the host cancels its queries.
#[derive(Clone)]
pub struct Analysis {
    db: Database,
    ws: Workspace,
}

impl Analysis {
    pub fn root(&self) -> &Path {
        self.ws.root(&self.db)
    }

    pub fn model(&self) -> &Arc<CompiledModel> {
        self.ws.model(&self.db)
    }

    pub fn config(&self) -> &Arc<Config> {
        self.ws.config(&self.db)
    }

    /// The loaded file at a workspace-relative path.
    pub fn file(&self, rel: &str) -> Option<FileId> {
        crate::db::file_index(&self.db, self.ws).paths.get(rel).copied()
    }

    /// Every loaded file, sorted by path.
    pub fn files(&self) -> Vec<FileId> {
        self.ws.files(&self.db).as_ref().clone()
    }

    /// The workspace-relative path of a file.
    pub fn path(&self, file: FileId) -> &str {
        file.path(&self.db)
    }

    pub fn lang(&self, file: FileId) -> Lang {
        file.lang(&self.db)
    }

    pub fn text(&self, file: FileId) -> &Arc<str> {
        file.text(&self.db)
    }

    pub fn line_index(&self, file: FileId) -> &LineIndex {
        crate::db::line_index(&self.db, file)
    }

    /// The byte offset of a position (the end of the text when it lies beyond).
    pub fn offset(&self, file: FileId, position: Position, encoding: Encoding) -> usize {
        let text = self.text(file);
        self.line_index(file)
            .offset(text, position, encoding)
            .unwrap_or(text.len())
    }

    /// The positions of a byte span.
    pub fn range(&self, file: FileId, span: Span, encoding: Encoding) -> Range {
        self.line_index(file)
            .range(self.text(file), span.start as usize, span.end as usize, encoding)
    }

    /// A file's findings: suppressions applied, severities resolved (memoized).
    pub fn findings(&self, file: FileId) -> Arc<Vec<Finding>> {
        crate::rules::file_findings(&self.db, self.ws, file).clone()
    }

    /// Findings for `files`, computed in parallel; output order follows the input order.
    pub fn check_files(&self, files: &[FileId]) -> Vec<(FileId, Arc<Vec<Finding>>)> {
        crate::ide::host::check_parallel(&self.db, self.ws, files)
    }

    /// The fingerprint (and enclosing declaration) of each of `findings` of `file`, in order.
    pub fn fingerprints(&self, file: FileId, findings: &[Finding]) -> Vec<Fingerprinted> {
        let refs: Vec<&Finding> = findings.iter().collect();
        crate::ide::fingerprint::fingerprint_file(self.path(file), self.text(file), &refs)
    }

    /// For each of `findings` of `file`, whether the baseline in force accepts it (the editor
    /// shows those as hints).
    pub fn baselined(&self, file: FileId, findings: &[Finding]) -> Vec<bool> {
        let accepted = &self.config().baseline_fingerprints;
        if accepted.is_empty() {
            return vec![false; findings.len()];
        }
        self.fingerprints(file, findings)
            .into_iter()
            .map(|fp| accepted.contains(&fp.fingerprint))
            .collect()
    }

    /// Hover markdown at a byte offset.
    pub fn hover(&self, file: FileId, offset: usize) -> Option<String> {
        crate::ide::hover::hover(&self.db, self.ws, file, offset)
    }

    /// The quick fixes for the findings of `file` that overlap `range` (bytes).
    pub fn actions(&self, file: FileId, range: Span) -> Vec<Action> {
        let findings = self.findings(file);
        crate::ide::actions::actions(&self.db, self.ws, file, &findings, range)
    }

    /// The fixes of `file` that need no choice and keep the file's meaning, each as its own
    /// action editing `file` only: today, renaming a deprecated key whose value keeps its
    /// shape, when the replacement key does not exist beside it (renaming would then duplicate
    /// the key; merging the two lists is a choice). The annotation bridge (new code in two
    /// files), a reason constant (it changes the reason's value, which other code may match),
    /// a symbol replacement and a suppression need a person. The one selection behind both
    /// `check --fix` and the editor's fix-all (see [`Analysis::fix_all`]).
    pub fn safe_fixes(&self, file: FileId) -> Vec<Action> {
        let findings = self.findings(file);
        let text = self.text(file);
        let mut out = Vec::new();
        for finding in findings.iter() {
            for fix in &finding.fixes {
                let FixKind::ReplaceKey { to, .. } = &fix.kind else {
                    continue;
                };
                if sibling_key_exists(text, finding.span.start as usize, to) {
                    continue;
                }
                let found =
                    crate::ide::actions::actions(&self.db, self.ws, file, std::slice::from_ref(finding), finding.span);
                if let Some(action) = found.into_iter().find(|a| a.title == fix.title) {
                    if action.files.iter().all(|f| !f.create && f.path == *self.path(file)) {
                        out.push(action);
                    }
                }
            }
        }
        out
    }

    /// Every safe fix of `file` (see [`Analysis::safe_fixes`]) as one action, titled by the
    /// model's `code_actions.fix_all_title`; overlapping edits are taken once, the first wins.
    pub fn fix_all(&self, file: FileId) -> Option<Action> {
        let title = self
            .model()
            .model
            .code_actions
            .fix_all_title
            .clone()
            .unwrap_or_default();
        merge(self.safe_fixes(file), self.path(file), &title)
    }

    /// The model entry behind the symbol at a byte offset, located in the model's sources.
    pub fn definition(&self, file: FileId, offset: usize) -> Option<ModelLocation> {
        let entry = crate::ide::definition::entry_at(&self.db, self.ws, file, offset)?;
        crate::ide::definition::locate(self.root(), self.model(), &entry)
    }

    /// The model's symbols whose name contains `query` (see [`model_symbols`]).
    pub fn symbols(&self, query: &str) -> Vec<(ModelSymbol, ModelLocation)> {
        model_symbols(self.root(), self.model(), query)
    }

    /// A rule's explanation as markdown (see [`explain`]).
    pub fn explain(&self, code: &str) -> Option<String> {
        explain(self.model(), code)
    }

    /// The facts of a Go file (imports, functions, constants, ...; empty for other files).
    pub fn go_facts(&self, file: FileId) -> Arc<GoFacts> {
        crate::db::go_facts(&self.db, file).clone()
    }
}

/// The symbols of the model in force at `root` whose name contains `query` (case-insensitive),
/// each with where its entry is (the workspace's model file, else the built-in model). Reads
/// the model and its files only, never the database.
pub fn model_symbols(root: &Path, model: &CompiledModel, query: &str) -> Vec<(ModelSymbol, ModelLocation)> {
    crate::ide::symbols::symbols(model, query)
        .into_iter()
        .filter_map(|symbol| {
            let at = crate::ide::definition::locate(root, model, &symbol.entry)?;
            Some((symbol, at))
        })
        .collect()
}

/// What the model sanctions (and the per-cluster decisions it reports) for an adapt-purity
/// `code`, worded for `explain`; empty for other codes.
pub fn known_helpers(model: &CompiledModel, code: &str) -> String {
    code.strip_prefix("adapt-purity/")
        .map(|category| crate::rules::purity::explain_known_helpers(model, category))
        .unwrap_or_default()
}

/// A rule's explanation as markdown (for a family: every rule in it); `None` for no such code.
pub fn explain(model: &CompiledModel, code: &str) -> Option<String> {
    let rules: Vec<_> = model
        .model
        .rules
        .iter()
        .filter(|r| r.code == code || r.code.strip_prefix(code).is_some_and(|rest| rest.starts_with('/')))
        .collect();
    if rules.is_empty() {
        return None;
    }
    Some(
        rules
            .iter()
            .map(|r| {
                let known = known_helpers(model, &r.code);
                format!(
                    "# {}\n\n*{}* — {}\n\n{}{known}",
                    r.code,
                    r.severity.as_str(),
                    r.title,
                    r.explanation.trim_end()
                )
            })
            .collect::<Vec<_>>()
            .join("\n\n"),
    )
}

/// Merges actions that edit `path` only into one: an edit overlapping one already taken is
/// dropped (two findings on one key fix it once).
fn merge(actions: Vec<Action>, path: &str, title: &str) -> Option<Action> {
    let mut files: Vec<FileEdit> = Vec::new();
    for action in actions {
        if action.files.iter().any(|f| f.create || f.path != path) {
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
        span: Span::default(),
        files,
    })
}

/// Whether a key `key` already exists at the indentation of the line holding `offset`.
fn sibling_key_exists(text: &str, offset: usize, key: &str) -> bool {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let indent: String = text[line_start..].chars().take_while(|c| *c == ' ').collect();
    text.split('\n').any(|line| {
        line.strip_prefix(indent.as_str())
            .and_then(|rest| rest.strip_prefix(key))
            .is_some_and(|rest| rest.trim_start().starts_with(':') && !line[indent.len()..].starts_with(' '))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renaming_onto_an_existing_key_is_not_safe() {
        let text = "kind: Kustomization\nbases:\n  - ../a\nresources:\n  - b.yaml\n";
        assert!(sibling_key_exists(text, text.find("bases").unwrap(), "resources"));
        let text = "kind: Kustomization\nbases:\n  - ../a\nx:\n  resources: []\n";
        assert!(!sibling_key_exists(text, text.find("bases").unwrap(), "resources"));
    }

    fn edit(path: &str, start: usize, end: usize) -> Action {
        Action {
            title: "t".into(),
            code: "c".into(),
            span: Span::default(),
            files: vec![FileEdit {
                path: path.into(),
                create: false,
                edits: vec![TextEdit {
                    span: Span::new(start, end),
                    new_text: "x".into(),
                }],
            }],
        }
    }

    #[test]
    fn merge_takes_each_edit_once_and_only_in_the_file() {
        let merged = merge(
            vec![
                edit("a.yaml", 0, 5),
                edit("a.yaml", 3, 8),
                edit("b.yaml", 0, 1),
                edit("a.yaml", 10, 12),
            ],
            "a.yaml",
            "Fix all",
        )
        .unwrap();
        assert_eq!(merged.title, "Fix all");
        assert_eq!(merged.files.len(), 1);
        let spans: Vec<Span> = merged.files[0].edits.iter().map(|e| e.span).collect();
        assert_eq!(spans, vec![Span::new(0, 5), Span::new(10, 12)]);
        assert!(merge(vec![edit("b.yaml", 0, 1)], "a.yaml", "Fix all").is_none());
    }
}
