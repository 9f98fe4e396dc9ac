//! What a `render-diff` render may read, and the confinement of those reads to the repository.
//!
//! Every directory handed to kustomize, helm or read as manifests, and every file or directory
//! a kustomization names (resources, bases, components, patches, generators' files…), is
//! checked on its real path: it must be inside the repository's real path, and no link beneath
//! a directory read whole may lead out. The same walk gives the files and directories a source
//! reads, to tell whether a change may affect it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::ide::analysis::argocd::join_relative;

/// A tree (the work tree, or a revision exported into a private directory) whose reads are
/// confined to its real path.
pub struct Confined {
    root: PathBuf,
}

/// The files and directories a source reads, relative to the tree's root.
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    /// Directories read whole (their subtrees).
    pub dirs: BTreeSet<String>,
    /// Single files.
    pub files: BTreeSet<String>,
    /// Remote references (not fetched offline), as written.
    pub remote: Vec<String>,
}

impl Inputs {
    /// Does reading these inputs read the repository-relative file `path`?
    pub fn reads(&self, path: &str) -> bool {
        self.files.contains(path)
            || self
                .dirs
                .iter()
                .any(|d| d.is_empty() || path == d || path.strip_prefix(d.as_str()).is_some_and(|r| r.starts_with('/')))
    }

    pub fn extend(&mut self, other: &Inputs) {
        self.dirs.extend(other.dirs.iter().cloned());
        self.files.extend(other.files.iter().cloned());
        self.remote.extend(other.remote.iter().cloned());
    }
}

const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// A kustomize reference that is fetched from elsewhere (a URL, a git or GitHub address).
pub fn is_remote(value: &str) -> bool {
    let v = value.trim();
    v.contains("://")
        || v.starts_with("git@")
        || v.starts_with("git::")
        || ["github.com/", "gitlab.com/", "bitbucket.org/"]
            .iter()
            .any(|h| v.starts_with(h))
        || v.contains("?ref=")
        || v.contains("?version=")
}

impl Confined {
    pub fn new(root: &Path) -> Result<Confined, String> {
        let root = root.canonicalize().map_err(|e| format!("{}: {e}", root.display()))?;
        Ok(Confined { root })
    }

    /// The real path of the tree-relative `rel`: `Ok(None)` when nothing is there, an error
    /// when it leads out of the repository (through a link, or an absolute path).
    pub fn real(&self, rel: &str) -> Result<Option<PathBuf>, String> {
        if rel.starts_with('/') {
            return Err(format!("`{rel}` is an absolute path, outside the repository"));
        }
        let Some(joined) = join_relative("", rel) else {
            return Err(format!("`{rel}` climbs above the repository root"));
        };
        let path = self.root.join(&joined);
        if std::fs::symlink_metadata(&path).is_err() {
            // A dangling link, or a path through one, is nothing to read; but a path whose
            // parent leads out is still out.
            return match path.parent().and_then(|p| p.canonicalize().ok()) {
                Some(parent) if !parent.starts_with(&self.root) => Err(out_of_repo(rel)),
                _ => Ok(None),
            };
        }
        match path.canonicalize() {
            Ok(real) if real.starts_with(&self.root) => Ok(Some(real)),
            Ok(_) => Err(out_of_repo(rel)),
            Err(_) => Ok(None),
        }
    }

    /// `real` (inside the root) relative to the root.
    pub fn rel_of(&self, real: &Path) -> String {
        real.strip_prefix(&self.root)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// No link beneath the real directory `dir` leads out of the repository (links to
    /// directories inside are scanned too, each once).
    pub fn no_link_out(&self, dir: &Path) -> Result<(), String> {
        let mut seen = BTreeSet::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(d) = pending.pop() {
            if !seen.insert(d.clone()) {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&d) else { continue };
            for e in entries.flatten() {
                if e.file_name() == ".git" {
                    continue;
                }
                let Ok(t) = e.file_type() else { continue };
                if t.is_dir() {
                    pending.push(e.path());
                } else if t.is_symlink() {
                    match e.path().canonicalize() {
                        Ok(real) if !real.starts_with(&self.root) => {
                            return Err(out_of_repo(&self.rel_of(&e.path())));
                        }
                        Ok(real) if real.is_dir() => pending.push(real),
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// What rendering the tree-relative directory `rel` reads: the directory itself and,
    /// when it is a kustomization, everything it names, transitively. An error when any of
    /// it leads out of the repository.
    pub fn inputs_of(&self, rel: &str) -> Result<Inputs, String> {
        let mut inputs = Inputs::default();
        let mut visited = BTreeSet::new();
        self.visit(rel, &mut inputs, &mut visited, 0)?;
        Ok(inputs)
    }

    fn visit(&self, rel: &str, inputs: &mut Inputs, visited: &mut BTreeSet<PathBuf>, depth: u32) -> Result<(), String> {
        let Some(real) = self.real(rel)? else {
            return Ok(());
        };
        if !real.is_dir() {
            inputs.files.insert(self.rel_of(&real));
            inputs.files.insert(rel.to_string());
            return Ok(());
        }
        if depth > 64 || !visited.insert(real.clone()) {
            return Ok(());
        }
        let dir = self.rel_of(&real);
        inputs.dirs.insert(dir.clone());
        inputs.dirs.insert(rel.to_string());
        self.no_link_out(&real)?;
        let Some(file) = KUSTOMIZATION_FILES.iter().map(|f| real.join(f)).find(|p| p.is_file()) else {
            return Ok(());
        };
        // Bounded like every YAML this tool reads; kustomize reports what it cannot parse.
        let Ok(text) = std::fs::read_to_string(&file) else {
            return Ok(());
        };
        if text.len() > 4 << 20 {
            return Ok(());
        }
        let Ok(value) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&text) else {
            return Ok(());
        };
        for reference in references(&value) {
            if is_remote(&reference) {
                inputs.remote.push(reference);
                continue;
            }
            let shown = format!("`{reference}` in {}", rel_shown(&dir));
            if reference.starts_with('/') {
                return Err(format!("{shown} is an absolute path, outside the repository"));
            }
            let Some(joined) = join_relative(&dir, &reference) else {
                return Err(format!("{shown} climbs above the repository root"));
            };
            self.visit(&joined, inputs, visited, depth + 1)
                .map_err(|e| format!("{shown}: {e}"))?;
        }
        Ok(())
    }
}

fn rel_shown(dir: &str) -> String {
    if dir.is_empty() {
        "the root kustomization".to_string()
    } else {
        format!("`{dir}`")
    }
}

fn out_of_repo(rel: &str) -> String {
    format!("`{rel}` is a link that leads out of the repository")
}

/// Every local path or remote address a kustomization names (inline patches are not paths).
fn references(k: &serde_yaml_ng::Value) -> Vec<String> {
    use serde_yaml_ng::Value;
    let mut out = Vec::new();
    let strings = |v: Option<&Value>, out: &mut Vec<String>| {
        if let Some(Value::Sequence(items)) = v {
            out.extend(items.iter().filter_map(|i| i.as_str().map(str::to_string)));
        } else if let Some(Value::String(s)) = v {
            out.push(s.clone());
        }
    };
    for field in [
        "resources",
        "bases",
        "components",
        "crds",
        "configurations",
        "transformers",
        "generators",
        "validators",
    ] {
        strings(k.get(field), &mut out);
    }
    // `patchesStrategicMerge` entries are paths or inline patches.
    let mut psm = Vec::new();
    strings(k.get("patchesStrategicMerge"), &mut psm);
    out.extend(psm.into_iter().filter(|p| !p.contains('\n') && !p.contains(':')));
    for field in ["patches", "patchesJson6902", "replacements"] {
        if let Some(Value::Sequence(items)) = k.get(field) {
            out.extend(
                items
                    .iter()
                    .filter_map(|i| i.get("path").and_then(Value::as_str).map(str::to_string)),
            );
        }
    }
    if let Some(p) = k.get("openapi").and_then(|o| o.get("path")).and_then(Value::as_str) {
        out.push(p.to_string());
    }
    for field in ["configMapGenerator", "secretGenerator"] {
        if let Some(Value::Sequence(items)) = k.get(field) {
            for item in items {
                let mut files = Vec::new();
                strings(item.get("files"), &mut files);
                strings(item.get("envs"), &mut files);
                strings(item.get("env"), &mut files);
                // `key=path` names the file after the `=`.
                out.extend(
                    files
                        .into_iter()
                        .map(|f| f.split_once('=').map(|(_, p)| p.to_string()).unwrap_or(f)),
                );
            }
        }
    }
    if let Some(Value::Sequence(items)) = k.get("helmCharts") {
        out.extend(
            items
                .iter()
                .filter_map(|i| i.get("valuesFile").and_then(Value::as_str).map(str::to_string)),
        );
    }
    if let Some(home) = k
        .get("helmGlobals")
        .and_then(|g| g.get("chartHome"))
        .and_then(Value::as_str)
    {
        out.push(home.to_string());
    }
    out
}
