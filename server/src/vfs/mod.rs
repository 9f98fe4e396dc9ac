//! The virtual file system: the one layer that reads the disk. Where a workspace's root is,
//! which files belong to it (discovery, include/exclude globs), and confined reads (a regular
//! file inside the root, opened without blocking, at most a size limit). The analysis host that
//! loads these files into the database is `ide::host`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::model::ModelError;
use crate::syntax::Lang;
use crate::text::{decode, Decoded};

/// Directories skipped unless a path given on the command line names them.
/// What happened when a file's bytes were read, if anything noteworthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileNote {
    Binary,
    TooLarge { bytes: usize },
    Lossy { first_invalid: usize },
}

/// The workspace configuration file, which also marks a workspace's root.
pub const CONFIG_FILE: &str = ".invariant.yaml";

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

/// Which discovered files to take: the configuration's `include` (empty: all) and `exclude` globs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter<'a> {
    pub include: &'a [String],
    pub exclude: &'a [String],
}

/// Finds the Go and YAML files under `paths` (files or directories), honouring `.gitignore`,
/// skipping `vendor/`, `testdata/` and `node_modules/` unless a path names them, and the
/// configuration's include/exclude globs. Returns workspace-relative paths, sorted.
/// Problems (logged here) are dropped: the server indexes what it can.
pub fn discover(root: &Path, paths: &[PathBuf], filter: &Filter) -> Vec<String> {
    let (found, problems) = discover_checked(root, paths, filter);
    for p in problems {
        tracing::warn!(problem = %p, "discovery");
    }
    found
}

/// [`discover`], also returning every input it could not take (as `internal/unreadable`
/// problems, located by path): a path outside the root, a named file that is not a regular
/// file, a directory that cannot be listed, a file name that is not UTF-8. `check` exits 2 on
/// any of them rather than report a clean run over less than it was given.
pub fn discover_checked(root: &Path, paths: &[PathBuf], filter: &Filter) -> (Vec<String>, Vec<ModelError>) {
    let include = glob_set(filter.include);
    let exclude = glob_set(filter.exclude);
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
            if (!filter.include.is_empty() && !include.is_match(&rel)) || exclude.is_match(&rel) {
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
pub fn read_walked(canonical_root: &Path, path: &Path, limit: usize) -> std::io::Result<(Arc<str>, Option<FileNote>)> {
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
