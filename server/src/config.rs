//! Workspace configuration (`.invariant.yaml`) and the model it selects.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::load::parse_yaml;
use crate::model::{load_default_model, load_model_text, CompiledModel, ModelError, Severity, DEFAULT_MODEL_PATH};

pub const CONFIG_FILE: &str = ".invariant.yaml";
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
    /// URLs naming this repository (any form: https, ssh, with or without `.git`). ArgoCD
    /// sources whose `repoURL` is one of them are checked against the workspace; the git
    /// remotes of the root (when it is a repository's top level) are added to them.
    pub repository: Vec<String>,
    /// The root's git remote URLs, found when the workspace is loaded (not a config key).
    #[serde(skip)]
    #[schemars(skip)]
    pub git_remotes: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct TeamFile {
    #[serde(default)]
    domain_models: Vec<String>,
}

impl Config {
    /// The normalised URLs naming this repository (configured ones and git remotes).
    pub fn repository_urls(&self) -> Vec<String> {
        let mut urls: Vec<String> = self
            .repository
            .iter()
            .chain(self.git_remotes.iter())
            .map(|u| crate::vcs::normalize_repo_url(u))
            .collect();
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

fn read_small(path: &Path, display: &str) -> Result<String, ModelError> {
    let meta = std::fs::metadata(path).map_err(|e| ModelError::new(display, "model/unreadable", e.to_string()))?;
    if meta.len() as usize > crate::model::load::MAX_MODEL_BYTES {
        return Err(ModelError::new(
            display,
            "model/too-large",
            format!(
                "file is {} bytes; limit is {}",
                meta.len(),
                crate::model::load::MAX_MODEL_BYTES
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| ModelError::new(display, "model/unreadable", e.to_string()))?;
    String::from_utf8(bytes).map_err(|_| ModelError::new(display, "model/invalid", "not valid UTF-8"))
}

/// Loads `.invariant.yaml` (and the team file), then the model files they name, then `extra`
/// (from `--model`, relative to the current directory). Any error leaves the default model
/// in force and is returned for reporting.
pub fn load_workspace(root: &Path, extra: &[PathBuf]) -> Loaded {
    let mut errors = Vec::new();
    let mut config = Config::default();
    let config_path = root.join(CONFIG_FILE);
    if config_path.is_file() {
        match read_small(&config_path, CONFIG_FILE).and_then(|text| parse_yaml::<Config>(CONFIG_FILE, &text)) {
            Ok(c) => config = c,
            Err(e) => errors.push(e),
        }
    }
    // Only a repository's own top level: the remotes of an enclosing repository are not read.
    if root.join(".git").exists() {
        config.git_remotes = crate::vcs::remote_urls(root);
    }
    let team_path = root.join(TEAM_FILE);
    if team_path.is_file() {
        // The team file belongs to another tool: only the list we share is read, loosely.
        if let Ok(text) = read_small(&team_path, TEAM_FILE) {
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
    let mut files: Vec<(String, Result<PathBuf, String>)> =
        config.models.iter().map(|m| (m.clone(), confined(root, m))).collect();
    files.extend(extra.iter().map(|p| (p.display().to_string(), Ok(p.clone()))));
    for (display, path) in files {
        let path = match path {
            Ok(p) => p,
            Err(e) => {
                errors.push(ModelError::new(&display, "model/outside-workspace", e));
                continue;
            }
        };
        match read_small(&path, &display).and_then(|text| load_model_text(&display, &text)) {
            Ok(m) => {
                model = model.merge(m);
                sources.push(display);
            }
            Err(e) => errors.push(e),
        }
    }
    let compiled = match CompiledModel::compile(model, sources) {
        Ok(c) => c,
        Err(message) => {
            errors.push(ModelError::new(
                errors.first().map(|e| e.path.as_str()).unwrap_or(CONFIG_FILE),
                "model/invalid",
                message,
            ));
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
