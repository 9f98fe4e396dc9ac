//! The workspace: where its root is, which files belong to it, and an `Engine` that holds the
//! database with those files loaded. The CLI and the language server both drive an `Engine`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use rayon::prelude::*;
use salsa::Setter;

use crate::config::{load_workspace_with, Config, CONFIG_FILE};
use crate::db::{Database, FileNote, PriorTree, SourceFile, Workspace};
use crate::model::{CompiledModel, ModelError};
use crate::rules::Finding;
use crate::syntax::Lang;
use crate::text::{decode, Decoded};

/// Directories skipped unless a path given on the command line names them.
pub const SKIPPED_DIRS: &[&str] = &["vendor", "testdata", "node_modules"];

/// The workspace root for `start`: the nearest ancestor with `.invariant.yaml`, else the
/// nearest with `.git`, else the outermost with `go.mod`, else `start` itself.
pub fn find_root(start: &Path) -> PathBuf {
    let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    let dir = if start.is_file() {
        start.parent().map(Path::to_path_buf).unwrap_or(start.clone())
    } else {
        start.clone()
    };
    if let Some(found) = dir.ancestors().find(|d| d.join(CONFIG_FILE).is_file()) {
        return found.to_path_buf();
    }
    if let Some(found) = dir.ancestors().find(|d| d.join(".git").exists()) {
        return found.to_path_buf();
    }
    if let Some(found) = dir.ancestors().filter(|d| d.join("go.mod").is_file()).last() {
        return found.to_path_buf();
    }
    dir
}

/// `path` relative to `root` with `/` separators, if it lies inside.
pub fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    Some(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

fn glob_set(patterns: &[String]) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for p in patterns {
        if let Ok(g) = compile_glob(p) {
            builder.add(g);
        }
    }
    builder.build().unwrap_or_else(|_| GlobSet::empty())
}

/// An `include`/`exclude` glob as discovery compiles it (the configuration is validated with
/// the same function, so a glob that does not compile is a located error, never dropped).
pub fn compile_glob(pattern: &str) -> Result<globset::Glob, globset::Error> {
    GlobBuilder::new(pattern).literal_separator(true).build()
}

/// The path an `ignore` walk error is about, if it says.
fn walk_error_path(error: &ignore::Error) -> Option<PathBuf> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => walk_error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

/// Finds the Go and YAML files under `paths` (files or directories), honouring `.gitignore`,
/// skipping `vendor/`, `testdata/` and `node_modules/` unless a path names them, and the
/// configuration's include/exclude globs. Returns workspace-relative paths, sorted.
/// Problems (logged here) are dropped: the server indexes what it can.
pub fn discover(root: &Path, paths: &[PathBuf], config: &Config) -> Vec<String> {
    let (found, problems) = discover_checked(root, paths, config);
    for p in problems {
        tracing::warn!(problem = %p, "discovery");
    }
    found
}

/// [`discover`], also returning every input it could not take (as `internal/unreadable`
/// problems, located by path): a path outside the root, a named file that is not a regular
/// file, a directory that cannot be listed, a file name that is not UTF-8. `check` exits 2 on
/// any of them rather than report a clean run over less than it was given.
pub fn discover_checked(root: &Path, paths: &[PathBuf], config: &Config) -> (Vec<String>, Vec<ModelError>) {
    let include = glob_set(&config.include);
    let exclude = glob_set(&config.exclude);
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let problem = |path: &Path, message: String| {
        let shown = relative(root, path).unwrap_or_else(|| path.display().to_string());
        let shown = if shown.is_empty() { ".".to_string() } else { shown };
        ModelError::new(&shown, "internal/unreadable", message)
    };
    for path in paths {
        let path = path.canonicalize().unwrap_or_else(|_| path.clone());
        if !path.starts_with(root) {
            problems.push(problem(
                &path,
                format!("outside the workspace root {}: not checked", root.display()),
            ));
            continue;
        }
        match std::fs::metadata(&path) {
            Ok(meta) if !meta.is_dir() && !meta.is_file() => {
                problems.push(problem(&path, "not a regular file or directory: not checked".into()));
                continue;
            }
            Err(e) => {
                problems.push(problem(&path, format!("{e}: not checked")));
                continue;
            }
            Ok(_) => {}
        }
        let named_skip = path
            .components()
            .any(|c| SKIPPED_DIRS.contains(&c.as_os_str().to_string_lossy().as_ref()));
        let walker = ignore::WalkBuilder::new(&path)
            .require_git(false)
            .follow_links(false)
            .filter_entry(move |entry| {
                named_skip
                    || entry.depth() == 0
                    || !(entry.file_type().is_some_and(|t| t.is_dir())
                        && SKIPPED_DIRS.contains(&entry.file_name().to_string_lossy().as_ref()))
            })
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let at = walk_error_path(&e).unwrap_or_else(|| path.clone());
                    problems.push(problem(&at, format!("cannot be read: {e}; not checked")));
                    continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let Some(rel) = relative(root, entry.path()) else {
                continue;
            };
            if Lang::from_path(&rel).is_none() {
                continue;
            }
            if entry.path().to_str().is_none() {
                problems.push(problem(
                    entry.path(),
                    "the file name is not valid UTF-8: not checked".into(),
                ));
                continue;
            }
            if (!config.include.is_empty() && !include.is_match(&rel)) || exclude.is_match(&rel) {
                continue;
            }
            out.push(rel);
        }
    }
    out.sort();
    out.dedup();
    (out, problems)
}

/// A file's text for the database, with the note that explains anything unusual.
pub type SourceText = (Arc<str>, Option<FileNote>);

/// Why a file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Over the caller's byte limit (the size seen by `fstat` or while reading).
    TooLarge(u64),
    Io(std::io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::TooLarge(bytes) => write!(f, "file is {bytes} bytes, over the limit"),
            ReadError::Io(e) => e.fmt(f),
        }
    }
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

fn refused(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::PermissionDenied, message)
}

/// Where a read must stay.
#[derive(Clone, Copy)]
enum Within<'a> {
    /// Anywhere: a file the user named.
    Anywhere,
    /// Inside `root`: the root and the path are resolved (symlinks, `..`) before the open.
    Root(&'a Path),
    /// Inside `canonical_root`, for a path a walk found under it following no link (see
    /// [`discover`]): there is nothing to resolve, so nothing is resolved before the open. A
    /// symlink swapped in since is refused as for [`Within::Root`]: in the last component by
    /// the open (`O_NOFOLLOW`), higher up by the handle's real path.
    Walked(&'a Path),
}

/// The one way the tool reads a file from disk (sources, `.invariant.yaml`, models, in `check`
/// and in the server). It opens the file once, without blocking (`O_NONBLOCK`: a FIFO or device
/// cannot stall the open), checks the opened handle (`fstat`: a regular file; with `root`, the
/// handle's real path lies inside the canonical root, so a symlink swapped in at any component
/// after discovery is refused), and reads at most `limit` bytes from that handle.
pub fn read_file(root: Option<&Path>, path: &Path, limit: usize) -> Result<Vec<u8>, ReadError> {
    read_within(root.map_or(Within::Anywhere, Within::Root), path, limit)
}

fn read_within(within: Within<'_>, path: &Path, limit: usize) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let outside = || refused(format!("{} resolves outside the workspace root", path.display()));
    let (target, canonical_root) = match within {
        Within::Root(root) => {
            let canonical_root = root.canonicalize()?;
            let canonical = path.canonicalize()?;
            if !canonical.starts_with(&canonical_root) {
                tracing::warn!(path = %path.display(), root = %root.display(), "path resolves outside the workspace root; not read");
                return Err(outside().into());
            }
            (canonical, Some(canonical_root))
        }
        Within::Walked(canonical_root) => {
            if !path.starts_with(canonical_root) {
                return Err(outside().into());
            }
            (path.to_path_buf(), Some(canonical_root.to_path_buf()))
        }
        Within::Anywhere => (path.to_path_buf(), None),
    };
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if canonical_root.is_some() {
        // The canonical path has no symlinks; one swapped in for the last component since is
        // refused here, one swapped in higher up is caught by the real-path check below.
        flags |= libc::O_NOFOLLOW;
    }
    let file = match std::fs::OpenOptions::new().read(true).custom_flags(flags).open(&target) {
        Ok(file) => file,
        // A walked path whose last component became a symlink since the walk: resolve it and
        // check where it leads, as for any path.
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => match within {
            Within::Walked(canonical_root) => return read_within(Within::Root(canonical_root), path, limit),
            _ => return Err(e.into()),
        },
        Err(e) => return Err(e.into()),
    };
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(refused(format!("{} is not a regular file", path.display())).into());
    }
    if let Some(canonical_root) = &canonical_root {
        use std::os::fd::AsRawFd;
        // Linux names the file a descriptor refers to; where /proc is missing, the check of the
        // resolved path stands alone.
        match std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())) {
            Ok(real) if !real.starts_with(canonical_root) => return Err(outside().into()),
            Ok(_) => {}
            // Without /proc, a walked path is resolved now (a resolved one was before the open).
            Err(_) if matches!(within, Within::Walked(_)) && !path.canonicalize()?.starts_with(canonical_root) => {
                return Err(outside().into())
            }
            Err(_) => {}
        }
    }
    if meta.len() > limit as u64 {
        return Err(ReadError::TooLarge(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Err(ReadError::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Reads a source file into text for the database, with the note that explains anything
/// unusual (too large, binary, not UTF-8). With `root`, confined to it (see [`read_file`]).
pub fn read_source_in(root: Option<&Path>, path: &Path) -> std::io::Result<(Arc<str>, Option<FileNote>)> {
    source_text(read_file(root, path, crate::text::MAX_FILE_BYTES))
}

fn source_text(read: Result<Vec<u8>, ReadError>) -> std::io::Result<(Arc<str>, Option<FileNote>)> {
    match read {
        // The read held the caller's limit (the default or `max_file_size`).
        Ok(bytes) => Ok(from_decoded(crate::text::decode_limited(bytes, usize::MAX))),
        Err(ReadError::TooLarge(bytes)) => Ok((Arc::from(""), Some(FileNote::TooLarge { bytes: bytes as usize }))),
        Err(ReadError::Io(e)) => Err(e),
    }
}

/// [`read_source_in`] with the workspace's size limit (`max_file_size`) instead of the default.
pub fn read_source_limited(root: Option<&Path>, path: &Path, limit: usize) -> std::io::Result<SourceText> {
    source_text(read_file(root, path, limit))
}

/// [`read_source_in`] without a root (for a file the user named, such as a benchmark input).
pub fn read_source(path: &Path) -> std::io::Result<(Arc<str>, Option<FileNote>)> {
    read_source_in(None, path)
}

/// Like [`read_source`], for a path that must stay inside `root`: a path that resolves outside
/// it (through `..` or a symlink, also one swapped in while running) is refused, never read; so
/// is anything but a regular file (a FIFO never blocks).
pub fn read_confined(root: &Path, path: &Path) -> std::io::Result<(Arc<str>, Option<FileNote>)> {
    read_source_in(Some(root), path)
}

/// Like [`read_confined`], for a path found under the canonical root by a walk that follows no
/// link (see [`Within::Walked`]).
fn read_walked(canonical_root: &Path, path: &Path, limit: usize) -> std::io::Result<(Arc<str>, Option<FileNote>)> {
    source_text(read_within(Within::Walked(canonical_root), path, limit))
}

pub fn from_bytes(bytes: Vec<u8>) -> (Arc<str>, Option<FileNote>) {
    from_decoded(decode(bytes))
}

fn from_decoded(decoded: Decoded) -> (Arc<str>, Option<FileNote>) {
    match decoded {
        Decoded::Text(text) => (Arc::from(text), None),
        Decoded::Lossy { text, first_invalid } => (Arc::from(text), Some(FileNote::Lossy { first_invalid })),
        Decoded::Binary => (Arc::from(""), Some(FileNote::Binary)),
        Decoded::TooLarge { bytes } => (Arc::from(""), Some(FileNote::TooLarge { bytes })),
    }
}

/// Text from the editor (`didOpen`, `didChange`) under the same limits as text from disk: a
/// document over [`crate::text::MAX_FILE_BYTES`] or with a NUL byte near its start is not parsed.
pub fn from_editor(text: String) -> (Arc<str>, Option<FileNote>) {
    if text.len() > crate::text::MAX_FILE_BYTES {
        return (Arc::from(""), Some(FileNote::TooLarge { bytes: text.len() }));
    }
    if text.as_bytes()[..text.len().min(8192)].contains(&0) {
        return (Arc::from(""), Some(FileNote::Binary));
    }
    (Arc::from(text), None)
}

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
