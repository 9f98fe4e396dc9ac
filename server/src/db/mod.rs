//! The salsa database: its inputs and the per-file data every layer above derives from. Inputs
//! are few: each file's text ([`SourceFile`]) and the workspace ([`Workspace`]: its file set,
//! the compiled domain model, the configuration and the Go modules). Derived here: the parse,
//! line starts, a file's Go and YAML facts, and the grouping of files into packages and
//! directories. Analyses built on top (purity summaries, the kustomize graph, findings) are
//! tracked functions beside the code that computes them, in `rules/`: dependencies point one way
//! (rules → db → facts/syntax/model), and this module never names `rules`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::config::Config;
use crate::facts::go::GoFacts;
use crate::model::CompiledModel;
use crate::syntax::{Lang, Parsed};

pub use crate::vfs::FileNote;

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
    // A tree over the node budget gives no facts: what they would hold stays bounded per file.
    let bounded = |parsed: &crate::syntax::Parsed| {
        let mut outcome = parsed.outcome();
        let tree = parsed.tree.as_ref().filter(|tree| {
            let nodes = tree.root_node().descendant_count();
            tracing::trace!(path = %file.path(db), nodes, "syntax nodes");
            outcome.over_budget = nodes > crate::syntax::MAX_ANALYSED_NODES;
            !outcome.over_budget
        });
        (tree.map(|t| extract(t, text)), outcome)
    };
    let (facts, outcome) = if file.prior_tree(db).is_some() {
        bounded(parse_file(db, file))
    } else {
        bounded(&parse_text(db, file, None))
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
    tracing::trace!(path = %file.path(db), "go facts");
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
