//! The analysis host's engine: a database with one workspace loaded. It reads the files the
//! [`crate::vfs`] layer discovers, sets them as inputs, and runs the rules over them in parallel.
//! The CLI and the language server both drive an [`Engine`] through the analysis API (`ide::analysis`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use salsa::Setter;

use crate::config::{load_workspace_with, Config};
use crate::db::{Database, FileNote, PriorTree, SourceFile, Workspace};
use crate::model::{CompiledModel, ModelError};
use crate::rules::Finding;
use crate::syntax::Lang;
use crate::vfs::{read_confined, read_source_limited, read_walked, SourceText};

/// The `go.mod` of every Go package among `rels` (in its directory or an ancestor inside the
/// root), parsed. Reads files: call it outside any lock.
pub fn find_go_modules<'a>(root: &Path, rels: impl Iterator<Item = &'a str>) -> Vec<crate::facts::gomod::GoModule> {
    let mut dirs: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for rel in rels.filter(|r| r.ends_with(".go")) {
        let mut dir = crate::db::dir_of(rel);
        while dirs.insert(dir.to_string()) && !dir.is_empty() {
            dir = crate::db::dir_of(dir);
        }
    }
    let mut modules = Vec::new();
    for dir in dirs {
        let path = if dir.is_empty() {
            root.join("go.mod")
        } else {
            root.join(&dir).join("go.mod")
        };
        if !path.is_file() {
            continue;
        }
        match read_confined(root, &path) {
            Ok((text, None)) => modules.extend(crate::facts::gomod::parse(&dir, &text)),
            Ok(_) => tracing::warn!(path = %path.display(), "go.mod is not text; ignored"),
            Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot read go.mod; ignored"),
        }
    }
    modules
}

/// A database with one workspace loaded.
pub struct Engine {
    pub db: Database,
    pub ws: Workspace,
    pub root: PathBuf,
    pub files: HashMap<String, SourceFile>,
    /// Problems in `.invariant.yaml` or model files met while loading.
    pub model_errors: Vec<ModelError>,
}

impl Engine {
    /// A workspace rooted at `root` with its configuration and model loaded, and no files yet.
    pub fn new(db: Database, root: PathBuf, extra_models: &[PathBuf]) -> Engine {
        Self::with_config(db, root, extra_models, &crate::config::ConfigChoice::Workspace)
    }

    /// [`Engine::new`] with the configuration file chosen on the command line.
    pub fn with_config(
        db: Database,
        root: PathBuf,
        extra_models: &[PathBuf],
        choice: &crate::config::ConfigChoice,
    ) -> Engine {
        let loaded = load_workspace_with(&root, extra_models, &[], choice);
        Engine::from_loaded(db, root, loaded)
    }

    /// Like [`Engine::new`], with extra model files relative to the root and confined to it
    /// (the editor's `initializationOptions.models`).
    pub fn with_models(db: Database, root: PathBuf, models_in_root: &[String]) -> Engine {
        let loaded = load_workspace_with(&root, &[], models_in_root, &crate::config::ConfigChoice::Workspace);
        Engine::from_loaded(db, root, loaded)
    }

    fn from_loaded(db: Database, root: PathBuf, loaded: crate::config::Loaded) -> Engine {
        let ws = Workspace::new(
            &db,
            root.clone(),
            Arc::new(Vec::new()),
            loaded.model,
            loaded.config,
            Arc::new(Vec::new()),
        );
        Engine {
            db,
            ws,
            root,
            files: HashMap::new(),
            model_errors: loaded.errors,
        }
    }

    pub fn config(&self) -> Arc<Config> {
        self.ws.config(&self.db).clone()
    }

    pub fn model(&self) -> Arc<CompiledModel> {
        self.ws.model(&self.db).clone()
    }

    /// Reads `rels` from disk in parallel and adds them (or updates their text). Returns the
    /// files that could not be read (not a regular file, gone, refused), each as an
    /// `internal/unreadable` problem: a file that was not checked must never look clean.
    ///
    /// `rels` come from [`discover`]: a walk that follows no link. Under a canonical root (the
    /// usual case) their paths are therefore read without resolving each one first (realpath
    /// cost ten syscalls a file: ~24,000 on the real tree).
    pub fn load(&mut self, rels: &[String]) -> Vec<ModelError> {
        let root = &self.root;
        let canonical = root.canonicalize().ok().filter(|c| c == root);
        let limit = self.config().max_file_bytes();
        let read: Vec<(String, std::io::Result<SourceText>)> = rels
            .par_iter()
            .map(|rel| {
                let path = root.join(rel);
                let text = match &canonical {
                    Some(canonical) => read_walked(canonical, &path, limit),
                    None => read_source_limited(Some(root), &path, limit),
                };
                (rel.clone(), text)
            })
            .collect();
        let mut problems = Vec::new();
        for (rel, result) in read {
            match result {
                Ok((text, note)) => {
                    self.set_text(&rel, text, note);
                }
                Err(e) => {
                    tracing::warn!(path = %rel, error = %e, "cannot read file");
                    problems.push(ModelError::new(
                        &rel,
                        "internal/unreadable",
                        format!("cannot read the file: {e}; not checked"),
                    ));
                }
            }
        }
        self.sync_file_set();
        let modules = find_go_modules(&self.root, self.files.keys().map(String::as_str));
        self.set_go_modules(modules);
        problems
    }

    /// Publishes the workspace's Go modules (see [`find_go_modules`]), for resolving imports.
    pub fn set_go_modules(&mut self, modules: Vec<crate::facts::gomod::GoModule>) {
        if self.ws.go_modules(&self.db).as_slice() != modules.as_slice() {
            self.ws.set_go_modules(&mut self.db).to(Arc::new(modules));
        }
    }

    /// Sets a file's text, creating the input when the file is new. Call `sync_file_set`
    /// after adding files.
    pub fn set_text(&mut self, rel: &str, text: Arc<str>, note: Option<FileNote>) -> Option<SourceFile> {
        self.set_text_with_tree(rel, text, note, None)
    }

    /// Like `set_text`, with the previous tree already edited to match, for an incremental parse.
    pub fn set_text_with_tree(
        &mut self,
        rel: &str,
        text: Arc<str>,
        note: Option<FileNote>,
        prior: Option<tree_sitter::Tree>,
    ) -> Option<SourceFile> {
        let lang = Lang::from_path(rel)?;
        // The workspace's `max_file_size` holds for text from any source (the editor's, or a
        // read made with the default limit).
        let (text, note) = match note {
            None if text.len() > self.config().max_file_bytes() => {
                let bytes = text.len();
                (Arc::from(""), Some(FileNote::TooLarge { bytes }))
            }
            note => (text, note),
        };
        match self.files.get(rel) {
            Some(&file) => {
                if file.text(&self.db).as_ref() != text.as_ref() {
                    if file.prior_tree(&self.db).is_some() || prior.is_some() {
                        file.set_prior_tree(&mut self.db).to(prior.map(PriorTree));
                    }
                    file.set_text(&mut self.db).to(text);
                }
                if file.note(&self.db) != note {
                    file.set_note(&mut self.db).to(note);
                }
                Some(file)
            }
            None => {
                let file = SourceFile::new(&self.db, rel.to_string(), lang, text, note, None);
                self.files.insert(rel.to_string(), file);
                Some(file)
            }
        }
    }

    /// Holds `tree` (the tree of the file's current text) for a document opened in the editor:
    /// its facts and the rules that need its tree then go through the memoized parse, and its
    /// first keystroke reparses incrementally instead of from scratch. No-op when the file
    /// already holds a tree or is not known.
    pub fn hold_tree(&mut self, rel: &str, tree: tree_sitter::Tree) {
        if let Some(&file) = self.files.get(rel) {
            if file.prior_tree(&self.db).is_none() {
                file.set_prior_tree(&mut self.db).to(Some(PriorTree(tree)));
            }
        }
    }

    /// A document closed: its tree is no longer held (the file is analysed like any other).
    pub fn release_tree(&mut self, rel: &str) {
        if let Some(&file) = self.files.get(rel) {
            if file.prior_tree(&self.db).is_some() {
                file.set_prior_tree(&mut self.db).to(None);
            }
        }
    }

    pub fn remove(&mut self, rel: &str) {
        if self.files.remove(rel).is_some() {
            self.sync_file_set();
        }
    }

    /// Publishes the current file set to the workspace input (sorted by path, so results are
    /// deterministic whatever the order files arrived in).
    pub fn sync_file_set(&mut self) {
        let mut files: Vec<(String, SourceFile)> = self.files.iter().map(|(k, &v)| (k.clone(), v)).collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let files: Vec<SourceFile> = files.into_iter().map(|(_, f)| f).collect();
        if self.ws.files(&self.db).as_slice() != files.as_slice() {
            self.ws.set_files(&mut self.db).to(Arc::new(files));
        }
    }

    pub fn set_model(&mut self, model: Arc<CompiledModel>, config: Arc<Config>) {
        self.ws.set_model(&mut self.db).to(model);
        self.ws.set_config(&mut self.db).to(config);
    }

    /// Findings for `files`, computed in parallel on database clones; output order follows
    /// the input order.
    pub fn check_files(&self, files: &[SourceFile]) -> Vec<(SourceFile, Arc<Vec<Finding>>)> {
        check_parallel(&self.db, self.ws, files)
    }

    /// Every loaded file, sorted by path.
    pub fn all_files(&self) -> Vec<SourceFile> {
        self.ws.files(&self.db).as_ref().clone()
    }
}

/// Findings for `files` of `ws`, computed in parallel on clones of `db`; output order follows
/// the input order.
pub fn check_parallel(db: &Database, ws: Workspace, files: &[SourceFile]) -> Vec<(SourceFile, Arc<Vec<Finding>>)> {
    // The database is Send but not Sync: each worker gets its own clone, made here.
    let chunk = files.len().div_ceil(rayon::current_num_threads() * 4).max(1);
    let work: Vec<(Database, &[SourceFile])> = files.chunks(chunk).map(|c| (db.clone(), c)).collect();
    let results: Vec<Vec<(SourceFile, Arc<Vec<Finding>>)>> = work
        .into_par_iter()
        .map(|(db, files)| {
            files
                .iter()
                .map(|&file| (file, crate::rules::findings(&db, ws, file)))
                .collect()
        })
        .collect();
    results.into_iter().flatten().collect()
}
