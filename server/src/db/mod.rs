//! The salsa database. Inputs are few: each file's text, the workspace (its file set, the
//! compiled domain model and the configuration). Everything else is a tracked function derived
//! from them, so editing one file re-derives that file's syntax and facts only, and cross-file
//! results recompute only when the facts they read change.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::config::Config;
use crate::facts::go::GoFacts;
use crate::model::CompiledModel;
use crate::rules::purity::{FilePurity, PackagePurity};
use crate::rules::Finding;
use crate::syntax::{Lang, Parsed};

/// What happened when a file's bytes were read, if anything noteworthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileNote {
    Binary,
    TooLarge { bytes: usize },
    Lossy { first_invalid: usize },
}

#[salsa::input]
pub struct SourceFile {
    /// Workspace-relative path with `/` separators.
    #[returns(ref)]
    pub path: String,
    #[returns(copy)]
    pub lang: Lang,
    #[returns(ref)]
    pub text: Arc<str>,
    #[returns(copy)]
    pub note: Option<FileNote>,
    /// The previous syntax tree, already adjusted with `Tree::edit` for the latest change, so
    /// the next parse is incremental (set by the language server; `None` from disk).
    #[returns(ref)]
    pub prior_tree: Option<PriorTree>,
}

/// A syntax tree handed from one revision to the next for incremental parsing. Never equal to
/// another: a new prior tree always means a new parse.
#[derive(Clone)]
pub struct PriorTree(pub tree_sitter::Tree);

impl std::fmt::Debug for PriorTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PriorTree")
    }
}

impl PartialEq for PriorTree {
    fn eq(&self, _: &Self) -> bool {
        false
    }
}

#[salsa::input]
pub struct Workspace {
    #[returns(ref)]
    pub root: PathBuf,
    #[returns(ref)]
    pub files: Arc<Vec<SourceFile>>,
    #[returns(ref)]
    pub model: Arc<CompiledModel>,
    #[returns(ref)]
    pub config: Arc<Config>,
    /// The Go modules (`go.mod` files) of the workspace, for resolving imports to packages.
    #[returns(ref)]
    pub go_modules: Arc<Vec<crate::facts::gomod::GoModule>>,
}

/// The database. Cloning it gives a handle for another thread or a request; a write through
/// `&mut` cancels every clone's running queries.
#[salsa::db]
#[derive(Clone)]
pub struct Database {
    storage: salsa::Storage<Self>,
    executions: Option<Arc<Mutex<Vec<String>>>>,
}

impl Default for Database {
    fn default() -> Self {
        Database {
            storage: salsa::Storage::new(None),
            executions: None,
        }
    }
}

#[salsa::db]
impl salsa::Database for Database {}

impl Database {
    /// A database that records which queries executed, for incrementality tests.
    pub fn with_execution_log() -> Self {
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = log.clone();
        let storage = salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
            if let salsa::EventKind::WillExecute { database_key } = event.kind {
                if let Ok(mut log) = sink.lock() {
                    log.push(format!("{database_key:?}"));
                }
            }
        })));
        Database {
            storage,
            executions: Some(log),
        }
    }

    /// The executions recorded since the last call (empty without an execution log).
    pub fn take_executions(&self) -> Vec<String> {
        self.executions
            .as_ref()
            .map(|log| std::mem::take(&mut *log.lock().unwrap_or_else(|e| e.into_inner())))
            .unwrap_or_default()
    }
}

/// The syntax tree of a file: a value, rebuilt when the text changes. Memoized, so it holds the
/// tree: the facts queries go through it only for documents being edited (those with a prior
/// tree), whose next parse is incremental; see [`with_tree`].
#[salsa::tracked(returns(ref), no_eq)]
pub fn parse_file(db: &dyn salsa::Database, file: SourceFile) -> Parsed {
    let prior = file.prior_tree(db).as_ref().map(|p| &p.0);
    parse_text(db, file, prior)
}

fn parse_text(db: &dyn salsa::Database, file: SourceFile, prior: Option<&tree_sitter::Tree>) -> Parsed {
    if file.note(db).is_some_and(|n| !matches!(n, FileNote::Lossy { .. })) {
        return Parsed {
            tree: None,
            timed_out: false,
            too_deep: false,
        };
    }
    crate::syntax::parse(file.lang(db), file.text(db), prior)
}

/// Extracts a file's facts and records how its parse went. A file being edited (it has a prior
/// tree) goes through the memoized [`parse_file`], so the editor's next change can reparse
/// incrementally; any other file is parsed here and its tree dropped as soon as its facts are
/// out, so a cold check never holds every tree of the workspace at once (memory, page faults
/// and a long single-threaded drop at exit).
fn facts_or_outcome<T: Default>(
    db: &dyn salsa::Database,
    file: SourceFile,
    extract: impl FnOnce(&tree_sitter::Tree, &str) -> T,
    set_outcome: impl FnOnce(&mut T, crate::syntax::ParseOutcome),
) -> T {
    let text = file.text(db);
    let (facts, outcome) = if file.prior_tree(db).is_some() {
        let parsed = parse_file(db, file);
        (parsed.tree.as_ref().map(|t| extract(t, text)), parsed.outcome())
    } else {
        let parsed = parse_text(db, file, None);
        (parsed.tree.as_ref().map(|t| extract(t, text)), parsed.outcome())
    };
    let mut facts = facts.unwrap_or_default();
    set_outcome(&mut facts, outcome);
    facts
}

/// The facts of a Go file (empty for other languages or unparsable input).
#[salsa::tracked(returns(ref))]
pub fn go_facts(db: &dyn salsa::Database, file: SourceFile) -> Arc<GoFacts> {
    if file.lang(db) != Lang::Go {
        return Arc::default();
    }
    // A file being edited (it has a prior tree) reuses the facts of the declarations the edit
    // left as they were.
    let extract = match file.prior_tree(db) {
        Some(_) => crate::facts::go::extract_reusing,
        None => crate::facts::go::extract,
    };
    Arc::new(facts_or_outcome(db, file, extract, |facts: &mut GoFacts, outcome| {
        facts.parse = outcome
    }))
}

/// Line starts of a file, for positions.
#[salsa::tracked(returns(ref))]
pub fn line_index(db: &dyn salsa::Database, file: SourceFile) -> crate::text::LineIndex {
    crate::text::LineIndex::new(file.text(db))
}

/// The directory of a workspace-relative path (`""` for the root).
pub fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map(|(dir, _)| dir).unwrap_or("")
}

/// Go files grouped by directory (a Go package). Reads only the file set and the paths, so
/// editing a file's text never re-runs it.
#[salsa::tracked(returns(ref))]
pub fn go_packages(db: &dyn salsa::Database, ws: Workspace) -> BTreeMap<String, Vec<SourceFile>> {
    let mut packages: BTreeMap<String, Vec<SourceFile>> = BTreeMap::new();
    for &file in ws.files(db).iter() {
        if file.lang(db) == Lang::Go {
            packages
                .entry(dir_of(file.path(db)).to_string())
                .or_default()
                .push(file);
        }
    }
    packages
}

/// The files of the package in `dir`.
pub fn package_files(db: &dyn salsa::Database, ws: Workspace, dir: &str) -> Vec<SourceFile> {
    go_packages(db, ws).get(dir).cloned().unwrap_or_default()
}

/// Package-level variable names of the package in `dir`, across its files.
#[salsa::tracked(returns(ref))]
pub fn package_globals(db: &dyn salsa::Database, ws: Workspace, dir: String) -> Vec<String> {
    let mut globals: Vec<String> = package_files(db, ws, &dir)
        .into_iter()
        .flat_map(|f| go_facts(db, f).globals.clone())
        .collect();
    globals.sort();
    globals.dedup();
    globals
}

/// The workspace's modules and package directories: resolves imports to packages. Reads the
/// modules and the file set only, so editing a file's text never re-runs it.
#[salsa::tracked(returns(ref))]
pub fn module_index(db: &dyn salsa::Database, ws: Workspace) -> Arc<crate::facts::gomod::ModuleIndex> {
    Arc::new(crate::facts::gomod::ModuleIndex::new(
        ws.go_modules(db),
        go_packages(db, ws).keys().cloned(),
    ))
}

/// The import path of the package in `dir`, when a `go.mod` says.
#[salsa::tracked(returns(ref))]
pub fn package_import_path(db: &dyn salsa::Database, ws: Workspace, dir: String) -> Option<String> {
    module_index(db, ws).import_path_of(&dir)
}

/// A file's purity summary: per function, its direct impure operations, its same-package calls
/// and its calls into other packages.
#[salsa::tracked(returns(ref))]
pub fn file_purity(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Arc<FilePurity> {
    let dir = dir_of(file.path(db)).to_string();
    let globals = package_globals(db, ws, dir.clone());
    let own_import = package_import_path(db, ws, dir);
    Arc::new(crate::rules::purity::summarize_file(
        go_facts(db, file),
        ws.model(db),
        globals,
        own_import.as_deref(),
    ))
}

/// Test files are not part of a package's summary: they are no adapt functions' helpers, and an
/// external test package (`package x_test`) may import packages that import `x`.
fn is_test_file(path: &str) -> bool {
    path.ends_with("_test.go")
}

/// The package's call graph folded into "which functions are impure, in which categories, and
/// through which chain", following calls into other packages of the workspace (each summarised
/// once by this same query; Go forbids import cycles, so the summaries form a DAG; a cycle in
/// broken code falls back to an empty summary).
#[salsa::tracked(returns(ref), cycle_result = package_purity_cycle)]
pub fn package_purity(db: &dyn salsa::Database, ws: Workspace, dir: String) -> Arc<PackagePurity> {
    let files: Vec<(String, Arc<FilePurity>)> = package_files(db, ws, &dir)
        .into_iter()
        .filter(|f| !is_test_file(f.path(db)))
        .map(|f| (f.path(db).clone(), file_purity(db, ws, f).clone()))
        .collect();
    let index = module_index(db, ws);
    let mut deps: HashMap<String, Option<Arc<PackagePurity>>> = HashMap::new();
    let mut lookup = |import: &str| -> Option<Arc<PackagePurity>> {
        deps.entry(import.to_string())
            .or_insert_with(|| {
                index
                    .resolve(&dir, import)
                    .map(|dep| package_purity(db, ws, dep).clone())
            })
            .clone()
    };
    Arc::new(crate::rules::purity::fold_package(&files, &mut lookup))
}

fn package_purity_cycle(_db: &dyn salsa::Database, _id: salsa::Id, _ws: Workspace, _dir: String) -> Arc<PackagePurity> {
    Arc::default()
}

/// All findings of one file, suppressions applied, severities resolved.
#[salsa::tracked(returns(ref))]
pub fn file_findings(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Arc<Vec<Finding>> {
    Arc::new(crate::rules::check_file(db, ws, file))
}

// ---------------------------------------------------------------------------------------------
// YAML: per-file facts, and the cross-file kustomize graph (separate queries, so editing one
// base re-derives only what reads it).
// ---------------------------------------------------------------------------------------------

/// The facts of a YAML file (empty for other languages or unparsable input).
#[salsa::tracked(returns(ref))]
pub fn yaml_facts(db: &dyn salsa::Database, file: SourceFile) -> Arc<crate::facts::yaml::YamlFacts> {
    if file.lang(db) != Lang::Yaml {
        return Arc::default();
    }
    Arc::new(facts_or_outcome(
        db,
        file,
        crate::facts::yaml::extract,
        |facts: &mut crate::facts::yaml::YamlFacts, outcome| facts.parse = outcome,
    ))
}

/// The Kubernetes objects of a YAML file: (document index, identity). Backdated when an
/// edit leaves them as they were, so readers of identities only (kustomize reach) do not re-run.
#[salsa::tracked(returns(ref))]
pub fn yaml_objects(db: &dyn salsa::Database, file: SourceFile) -> Arc<Vec<(u32, crate::facts::yaml::ObjectId)>> {
    let facts = yaml_facts(db, file);
    Arc::new(
        facts
            .docs
            .iter()
            .enumerate()
            .filter_map(|(i, d)| facts.object_id(d).map(|id| (i as u32, id)))
            .collect(),
    )
}

/// Loaded files by workspace-relative path, and every directory that holds one.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FileIndex {
    pub paths: HashMap<String, SourceFile>,
    pub dirs: std::collections::HashSet<String>,
}

/// The file index; reads only the file set and paths.
#[salsa::tracked(returns(ref))]
pub fn file_index(db: &dyn salsa::Database, ws: Workspace) -> Arc<FileIndex> {
    let mut index = FileIndex::default();
    for &file in ws.files(db).iter() {
        let path = file.path(db);
        let mut dir = dir_of(path);
        while index.dirs.insert(dir.to_string()) && !dir.is_empty() {
            dir = dir_of(dir);
        }
        index.dirs.insert(String::new());
        index.paths.insert(path.clone(), file);
    }
    Arc::new(index)
}

/// A kustomization's references (resources, components, patches, generator files).
#[salsa::tracked(returns(ref))]
pub fn kustomization(
    db: &dyn salsa::Database,
    _ws: Workspace,
    file: SourceFile,
) -> Arc<crate::rules::kustomize::Kustomization> {
    Arc::new(crate::rules::kustomize::extract(yaml_facts(db, file)))
}

/// What each reference of a kustomization resolves to (in the order of its `refs`).
#[salsa::tracked(returns(ref))]
pub fn kustomize_resolved(
    db: &dyn salsa::Database,
    ws: Workspace,
    file: SourceFile,
) -> Arc<Vec<crate::rules::kustomize::Target>> {
    Arc::new(crate::rules::kustomize::resolve_all(
        file_index(db, ws),
        ws.root(db),
        ws.model(db),
        file.path(db),
        kustomization(db, ws, file),
    ))
}

/// Cycles among the workspace's kustomizations, each once: kustomization path → (reference
/// index, chain).
#[salsa::tracked(returns(ref))]
pub fn kustomize_cycles(db: &dyn salsa::Database, ws: Workspace) -> Arc<BTreeMap<String, Vec<(usize, String)>>> {
    Arc::new(crate::rules::kustomize::cycles(db, ws))
}

/// The objects a kustomization reaches.
#[salsa::tracked(returns(ref))]
pub fn kustomize_reach(
    db: &dyn salsa::Database,
    ws: Workspace,
    file: SourceFile,
) -> Arc<crate::rules::kustomize::Reach> {
    Arc::new(crate::rules::kustomize::reach(db, ws, file))
}

/// Patch file path → the kustomizations that apply it.
#[salsa::tracked(returns(ref))]
pub fn kustomize_patch_owners(db: &dyn salsa::Database, ws: Workspace) -> Arc<BTreeMap<String, Vec<SourceFile>>> {
    Arc::new(crate::rules::kustomize::patch_owners(db, ws))
}

/// Component kustomization path → the kustomizations that include it.
#[salsa::tracked(returns(ref))]
pub fn kustomize_includers(db: &dyn salsa::Database, ws: Workspace) -> Arc<BTreeMap<String, Vec<SourceFile>>> {
    Arc::new(crate::rules::kustomize::component_includers(db, ws))
}

/// The control-plane objects (e.g. HostedClusters) one file declares, for version skew.
#[salsa::tracked(returns(ref))]
pub fn control_planes_in(
    db: &dyn salsa::Database,
    ws: Workspace,
    file: SourceFile,
) -> Arc<Vec<crate::rules::lifecycle::ControlPlane>> {
    Arc::new(crate::rules::lifecycle::control_planes_in(db, ws, file))
}

/// Every control-plane object of the workspace.
#[salsa::tracked(returns(ref))]
pub fn control_planes(db: &dyn salsa::Database, ws: Workspace) -> Arc<Vec<crate::rules::lifecycle::ControlPlane>> {
    let mut all = Vec::new();
    for &file in ws.files(db).iter() {
        if file.lang(db) == Lang::Yaml {
            all.extend(control_planes_in(db, ws, file).iter().cloned());
        }
    }
    Arc::new(all)
}
