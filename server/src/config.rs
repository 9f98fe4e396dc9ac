//! Workspace configuration (`.invariant.yaml`) and the model it selects.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::load::{layer_value, line_of_entry, parse_yaml};
use crate::model::{load_default_model, load_model_text, CompiledModel, ModelError, Severity, DEFAULT_MODEL_PATH};

pub use crate::vfs::CONFIG_FILE;
/// The seed's team file; only its `domain_models:` list is read.
pub const TEAM_FILE: &str = ".rh-agentic/team.yaml";

/// `.invariant.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Domain-model files, relative to the workspace root, merged over the default model.
    pub models: Vec<String>,
    /// Use only `models`, without the built-in HyperShift model.
    pub replace_default_model: bool,
    /// Rule code or family → severity (`off` disables).
    pub severity: BTreeMap<String, Severity>,
    /// Only paths matching these globs are checked (all when empty).
    pub include: Vec<String>,
    /// Paths matching these globs are not checked.
    pub exclude: Vec<String>,
    /// A baseline file (relative to the workspace root, written by `check --write-baseline`):
    /// the findings it holds are accepted and not reported by `check`.
    pub baseline: Option<String>,
    /// URLs naming this repository (any form: https, ssh, with or without `.git`). ArgoCD
    /// sources whose `repoURL` is one of them are checked against the workspace; the git
    /// remotes of the root (when it is a repository's top level) are added to them.
    pub repository: Vec<String>,
    /// Source files (Go, YAML) larger than this many bytes are not checked, and `check` fails
    /// (exit 2) naming each one unless `exclude` leaves it out. Default 2097152 (2 MiB); at most
    /// 67108864 (64 MiB).
    pub max_file_size: Option<usize>,
    /// The root's git remote URLs, found when the workspace is loaded (not a config key).
    #[serde(skip)]
    #[schemars(skip)]
    pub git_remotes: Vec<String>,
    /// The fingerprints in the `baseline` file, read when the workspace is loaded (not a config
    /// key): the editor shows these findings as hints.
    #[serde(skip)]
    #[schemars(skip)]
    pub baseline_fingerprints: std::collections::BTreeSet<String>,
}

#[derive(Debug, Default, Deserialize)]
struct TeamFile {
    #[serde(default)]
    domain_models: Vec<String>,
}

/// The most `max_file_size` may be set to: a file is read whole into memory.
pub const MAX_FILE_SIZE_CEILING: usize = 64 * 1024 * 1024;

impl Config {
    /// The include/exclude globs, as discovery takes them.
    pub fn filter(&self) -> crate::vfs::Filter<'_> {
        crate::vfs::Filter {
            include: &self.include,
            exclude: &self.exclude,
        }
    }

    /// The size limit for source files in force: `max_file_size`, else
    /// [`crate::text::MAX_FILE_BYTES`].
    pub fn max_file_bytes(&self) -> usize {
        self.max_file_size
            .unwrap_or(crate::text::MAX_FILE_BYTES)
            .min(MAX_FILE_SIZE_CEILING)
    }

    /// The normalised URLs naming this repository (configured ones and git remotes).
    pub fn repository_urls(&self) -> Vec<String> {
        let mut urls: Vec<String> = self
            .repository
            .iter()
            .chain(self.git_remotes.iter())
            .map(|u| crate::vcs::normalize_repo_url(u))
            .collect();
        // Templated entries (`${GIT_BASEURL}/${GIT_ORG}/x`, `{{ .Values.repoURL }}`) are also
        // kept as written: a source's repoURL written the same way is this repository.
        urls.extend(
            self.repository
                .iter()
                .map(|u| u.trim())
                .filter(|u| u.contains("${") || u.contains("{{"))
                .map(str::to_string),
        );
        urls.sort();
        urls.dedup();
        urls
    }

    /// The severity for `code`: a configured code beats a configured family beats the model.
    pub fn severity_for(&self, code: &str, model_default: Severity) -> Severity {
        if let Some(&s) = self.severity.get(code) {
            return s;
        }
        let family = code.split('/').next().unwrap_or(code);
        self.severity.get(family).copied().unwrap_or(model_default)
    }
}

/// The model and configuration in force for a workspace, with the problems met on the way.
pub struct Loaded {
    pub config: Arc<Config>,
    pub model: Arc<CompiledModel>,
    pub errors: Vec<ModelError>,
}

/// Resolves `rel` against `root` and refuses paths that leave the root (through `..` or a
/// symlink): the tool never reads outside the workspace.
pub fn confined(root: &Path, rel: &str) -> Result<PathBuf, String> {
    let joined = root.join(rel);
    let canonical_root = root.canonicalize().map_err(|e| format!("{}: {e}", root.display()))?;
    let canonical = joined.canonicalize().map_err(|e| format!("{rel}: {e}"))?;
    if canonical.starts_with(&canonical_root) {
        Ok(canonical)
    } else {
        Err(format!(
            "{rel} resolves outside the workspace root ({})",
            canonical.display()
        ))
    }
}

/// Reads a configuration or model file through the one confined reader (no FIFO can block it,
/// nothing but a regular file is read, at most the model size limit). `root` confines it to
/// the workspace; `None` for a `--model` file the user named on the command line.
fn read_small(root: Option<&Path>, path: &Path, display: &str) -> Result<String, ModelError> {
    use crate::vfs::{read_file, ReadError};
    let bytes = match read_file(root, path, crate::model::load::MAX_MODEL_BYTES) {
        Ok(bytes) => bytes,
        Err(ReadError::TooLarge(bytes)) => {
            return Err(ModelError::new(
                display,
                "model/too-large",
                format!(
                    "file is {bytes} bytes; limit is {}",
                    crate::model::load::MAX_MODEL_BYTES
                ),
            ))
        }
        Err(ReadError::Io(e)) => return Err(ModelError::new(display, "model/unreadable", e.to_string())),
    };
    String::from_utf8(bytes).map_err(|_| ModelError::new(display, "model/invalid", "not valid UTF-8"))
}

/// The 0-based line of the first occurrence of `needle` in `text`, for locating a value.
fn line_of(text: &str, needle: &str) -> Option<usize> {
    let at = text.find(needle)?;
    Some(text[..at].matches('\n').count())
}

/// `include`/`exclude` globs that do not compile, as located errors (a dropped glob would
/// silently check nothing).
fn check_globs(config: &Config, text: &str) -> Vec<ModelError> {
    let mut errors = Vec::new();
    for (key, globs) in [("include", &config.include), ("exclude", &config.exclude)] {
        for glob in globs {
            if let Err(e) = crate::vfs::compile_glob(glob) {
                let mut error = ModelError::new(CONFIG_FILE, "model/invalid", format!("{key} glob `{glob}`: {e}"));
                error.line = line_of(text, glob);
                errors.push(error);
            }
        }
    }
    if let Some(size) = config.max_file_size {
        if size == 0 || size > MAX_FILE_SIZE_CEILING {
            let mut error = ModelError::new(
                CONFIG_FILE,
                "model/invalid",
                format!("max_file_size {size}: must be between 1 and {MAX_FILE_SIZE_CEILING} bytes"),
            );
            error.line = line_of(text, "max_file_size");
            errors.push(error);
        }
    }
    errors
}

/// A path a model names for the tool to edit (a provider's `platform_controller`) must be a
/// plain relative path inside the workspace: no absolute path, no `..`. Quick fixes write
/// there, so a workspace model cannot aim them at `~/.ssh/authorized_keys`.
fn check_model_paths(display: &str, text: &str, model: &crate::model::DomainModel) -> Vec<ModelError> {
    let mut errors = Vec::new();
    for provider in &model.providers {
        let Some(path) = &provider.platform_controller else {
            continue;
        };
        let p = Path::new(path);
        let escapes =
            path.is_empty() || p.is_absolute() || p.components().any(|c| !matches!(c, std::path::Component::Normal(_)));
        if escapes {
            let mut error = ModelError::new(
                display,
                "model/outside-workspace",
                format!(
                    "provider `{}`: platform_controller `{path}` must be a relative path inside the workspace (no `..`, not absolute)",
                    provider.id
                ),
            );
            error.line = line_of(text, path);
            errors.push(error);
        }
    }
    errors
}

/// Baseline files larger than this are refused, by `check` and by the server alike (one
/// limit: a baseline `check` honours is never silently ignored in the editor). A baseline
/// entry is ~300 bytes: this holds ~100,000 accepted findings.
pub const MAX_BASELINE_BYTES: usize = 32 * 1024 * 1024;

/// A baseline file's text, through the one confined reader (opened without blocking, so a FIFO
/// or device named as the baseline never hangs; only a regular file; at most
/// [`MAX_BASELINE_BYTES`]). `root` confines it to the workspace (the configured `baseline`);
/// `None` for a file the user named (`--baseline`).
pub fn read_baseline_text(root: Option<&Path>, path: &Path) -> Result<String, String> {
    use crate::vfs::{read_file, ReadError};
    let bytes = read_file(root, path, MAX_BASELINE_BYTES).map_err(|e| match e {
        ReadError::TooLarge(bytes) => format!(
            "{}: the baseline is {bytes} bytes; baselines are limited to {MAX_BASELINE_BYTES} bytes",
            path.display()
        ),
        ReadError::Io(e) => format!("{}: {e}", path.display()),
    })?;
    String::from_utf8(bytes).map_err(|_| format!("{}: the baseline is not valid UTF-8", path.display()))
}

/// The fingerprints of a baseline file (`check --write-baseline`): its `entries[].fingerprint`,
/// read through the confined reader like every workspace file, under the same limit as `check`.
fn read_baseline_fingerprints(root: &Path, rel: &str) -> Result<std::collections::BTreeSet<String>, ModelError> {
    let path = confined(root, rel).map_err(|e| ModelError::new(rel, "model/unreadable", format!("baseline: {e}")))?;
    let text = read_baseline_text(Some(root), &path).map_err(|e| ModelError::new(rel, "model/unreadable", e))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ModelError::new(rel, "model/invalid", format!("not a baseline file: {e}")))?;
    let entries = value
        .get("entries")
        .and_then(|e| e.as_array())
        .ok_or_else(|| ModelError::new(rel, "model/invalid", "not a baseline file: no `entries` list"))?;
    Ok(entries
        .iter()
        .filter_map(|e| e.get("fingerprint")?.as_str().map(str::to_string))
        .collect())
}

/// A model that does not compile (a glob or regular expression that does not parse), located
/// in the model file that wrote the pattern, at its line: the last layer whose text holds it,
/// else the last layer that does not compile on its own, else the last layer merged.
fn locate_compile_error(layers: &[(String, String)], message: String) -> ModelError {
    let pattern = crate::model::offending_pattern(&message);
    let by_text = pattern.and_then(|p| {
        layers
            .iter()
            .rev()
            .find_map(|(display, text)| line_of(text, p).map(|line| (display.clone(), Some(line))))
    });
    let by_layer = || {
        layers
            .iter()
            .rev()
            .find(|(display, text)| {
                load_model_text(display, text).is_ok_and(|m| CompiledModel::compile(m, Vec::new()).is_err())
            })
            .or(layers.last())
            .map(|(display, _)| (display.clone(), None))
    };
    let (path, line) = by_text
        .or_else(by_layer)
        .unwrap_or_else(|| (DEFAULT_MODEL_PATH.to_string(), None));
    ModelError {
        path,
        line,
        column: line.map(|_| 0),
        code: "model/invalid",
        message,
    }
}

/// Which configuration file a run reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ConfigChoice {
    /// The workspace's `.invariant.yaml` and team file, when present.
    #[default]
    Workspace,
    /// This file instead (`--config FILE`); model paths in it are relative to the workspace root.
    File(PathBuf),
    /// No configuration file at all (`--no-config`): the built-in model and `--model` files.
    None,
}

/// Loads `.invariant.yaml` (and the team file), then the model files they name, then `extra`
/// (from `--model`, relative to the current directory). Any error leaves the default model
/// in force and is returned for reporting.
pub fn load_workspace(root: &Path, extra: &[PathBuf]) -> Loaded {
    load_workspace_with(root, extra, &[], &ConfigChoice::Workspace)
}

/// [`load_workspace`] with `extra_in_root` (more model files relative to the root and confined
/// to it like `models:`: the editor's `initializationOptions.models`, which workspace settings
/// can set) and the configuration file chosen on the command line.
pub fn load_workspace_with(root: &Path, extra: &[PathBuf], extra_in_root: &[String], choice: &ConfigChoice) -> Loaded {
    let mut errors = Vec::new();
    let mut config = Config::default();
    let (config_path, config_display, confine) = match choice {
        ConfigChoice::Workspace => (Some(root.join(CONFIG_FILE)), CONFIG_FILE.to_string(), Some(root)),
        // A file the user named on the command line, like `--model`: not confined.
        ConfigChoice::File(path) => (Some(path.clone()), path.display().to_string(), None),
        ConfigChoice::None => (None, String::new(), None),
    };
    if let Some(config_path) = config_path {
        if config_path.is_file() {
            match read_small(confine, &config_path, &config_display)
                .and_then(|text| parse_yaml::<Config>(&config_display, &text).map(|c| (c, text)))
            {
                Ok((c, text)) => {
                    let bad = check_globs(&c, &text);
                    if bad.is_empty() {
                        config = c;
                    } else {
                        errors.extend(bad);
                    }
                }
                Err(e) => errors.push(e),
            }
        } else if matches!(choice, ConfigChoice::File(_)) {
            errors.push(ModelError::new(&config_display, "model/unreadable", "no such file"));
        }
    }
    // Only a repository's own top level: the remotes of an enclosing repository are not read.
    if root.join(".git").exists() {
        config.git_remotes = crate::vcs::remote_urls(root);
    }
    if let Some(rel) = config.baseline.clone() {
        // `check` reads and validates the baseline itself (and may be about to write it), so a
        // missing or broken one only means no hints in the editor.
        match read_baseline_fingerprints(root, &rel) {
            Ok(fingerprints) => config.baseline_fingerprints = fingerprints,
            Err(e) => tracing::warn!(baseline = %rel, error = %e.message, "baseline not read; no hints for it"),
        }
    }
    let team_path = root.join(TEAM_FILE);
    if *choice == ConfigChoice::Workspace && team_path.is_file() {
        // The team file belongs to another tool: only the list we share is read, loosely.
        if let Ok(text) = read_small(Some(root), &team_path, TEAM_FILE) {
            if let Ok(team) = parse_yaml::<TeamFile>(TEAM_FILE, &text) {
                let base = Path::new(TEAM_FILE).parent().unwrap_or(Path::new(""));
                for m in team.domain_models {
                    let rel = base.join(&m).to_string_lossy().replace('\\', "/");
                    if root.join(&rel).is_file() {
                        config.models.push(rel);
                    }
                }
            }
        }
    }
    let mut sources = Vec::new();
    let mut model = if config.replace_default_model {
        Default::default()
    } else {
        sources.push(DEFAULT_MODEL_PATH.to_string());
        load_default_model()
    };
    let mut layers: Vec<(String, String)> = Vec::new();
    // (as shown, real path, confined to the root): workspace files first, then `--model` ones.
    let mut files: Vec<(String, Result<PathBuf, String>, bool)> = config
        .models
        .iter()
        .chain(extra_in_root)
        .map(|m| (m.clone(), confined(root, m), true))
        .collect();
    files.extend(extra.iter().map(|p| {
        let real = p.canonicalize().unwrap_or_else(|_| p.clone());
        (p.display().to_string(), Ok(real), false)
    }));
    // A model listed more than once (by any spelling of its path) is loaded and merged once, at
    // its first place: 800 listings of one file cost one load, not 800.
    let mut seen = std::collections::HashSet::new();
    files.retain(|(_, path, _)| path.as_ref().map_or(true, |p| seen.insert(p.clone())));
    for (display, path, confine) in files {
        let path = match path {
            Ok(p) => p,
            Err(e) => {
                errors.push(ModelError::new(&display, "model/outside-workspace", e));
                continue;
            }
        };
        // Parsed as types first (unknown keys, wrong types and paths leaving the workspace are
        // located errors), then merged by the keys the file sets.
        let confine = confine.then_some(root);
        let layer = read_small(confine, &path, &display).and_then(|text| {
            let m = load_model_text(&display, &text)?;
            if let Some(e) = check_model_paths(&display, &text, &m).into_iter().next() {
                return Err(e);
            }
            Ok((layer_value(&display, &text)?, text))
        });
        match layer {
            Ok((value, text)) => match model.merge_layer(value) {
                Ok(merged) => {
                    model = merged;
                    sources.push(display.clone());
                    layers.push((display, text));
                }
                Err(message) => errors.push(ModelError::new(&display, "model/invalid", message)),
            },
            Err(e) => errors.push(e),
        }
    }
    // Every rule needs its words from the model: say which file leaves one without.
    for (key, message) in model.incomplete_rules() {
        let located = layers
            .iter()
            .rev()
            .find_map(|(display, text)| line_of_entry(text, &key).map(|line| (display.clone(), Some(line))));
        let (path, line) = located.unwrap_or_else(|| {
            (
                sources
                    .last()
                    .cloned()
                    .unwrap_or_else(|| DEFAULT_MODEL_PATH.to_string()),
                None,
            )
        });
        errors.push(ModelError {
            path,
            line,
            column: line.map(|_| 0),
            code: "model/incomplete-rule",
            message,
        });
    }
    let compiled = match CompiledModel::compile(model, sources) {
        Ok(c) => c,
        Err(message) => {
            errors.push(locate_compile_error(&layers, message));
            CompiledModel::compile(load_default_model(), vec![DEFAULT_MODEL_PATH.to_string()])
                .expect("the default model compiles")
        }
    };
    Loaded {
        config: Arc::new(config),
        model: Arc::new(compiled),
        errors,
    }
}
