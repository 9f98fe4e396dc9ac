//! Loading model files: size and nesting limits, errors located by file and line, merging a
//! workspace model over the default one.

use std::fmt;

use super::types::DomainModel;

/// The default HyperShift data-plane model, embedded at build time.
pub const DEFAULT_MODEL_YAML: &str = include_str!("../../../domain-models/hypershift-data-plane.yaml");
/// How the default model is named in messages.
pub const DEFAULT_MODEL_PATH: &str = "<builtin>/domain-models/hypershift-data-plane.yaml";

/// Model files larger than this are refused before parsing: a domain model is a few hundred KiB
/// at most, and a 100 MB file must not cost 100 MB of parse.
pub const MAX_MODEL_BYTES: usize = 4 * 1024 * 1024;

/// A problem in a model or configuration file, with a location when one is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    pub path: String,
    /// 0-based line, when the parser could tell.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// `model/<name>` code.
    pub code: &'static str,
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(
                f,
                "{}:{}:{}: {} [{}]",
                self.path,
                line + 1,
                self.column.unwrap_or(0) + 1,
                self.message,
                self.code
            ),
            None => write!(f, "{}: {} [{}]", self.path, self.message, self.code),
        }
    }
}

impl std::error::Error for ModelError {}

impl ModelError {
    pub fn new(path: &str, code: &'static str, message: impl Into<String>) -> Self {
        ModelError {
            path: path.to_string(),
            line: None,
            column: None,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn from_yaml(path: &str, err: &serde_yaml_ng::Error) -> Self {
        let location = err.location();
        ModelError {
            path: path.to_string(),
            line: location.as_ref().map(|l| l.line().saturating_sub(1)),
            column: location.as_ref().map(|l| l.column().saturating_sub(1)),
            code: "model/invalid",
            message: err.to_string(),
        }
    }
}

/// Parses one YAML document as `T`, refusing oversized input first. serde_yaml_ng bounds
/// nesting depth and alias repetition itself, so alias bombs end in an error, not in memory.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(path: &str, text: &str) -> Result<T, ModelError> {
    if text.len() > MAX_MODEL_BYTES {
        return Err(ModelError::new(
            path,
            "model/too-large",
            format!(
                "file is {} bytes; model and configuration files are limited to {MAX_MODEL_BYTES} bytes",
                text.len()
            ),
        ));
    }
    if text.trim().is_empty() {
        return serde_yaml_ng::from_str("{}").map_err(|e| ModelError::from_yaml(path, &e));
    }
    serde_yaml_ng::from_str(text).map_err(|e| ModelError::from_yaml(path, &e))
}

pub fn load_model_text(path: &str, text: &str) -> Result<DomainModel, ModelError> {
    parse_yaml(path, text)
}

pub fn load_default_model() -> DomainModel {
    // The embedded model is tested to parse; failing here is a build defect, not user input.
    load_model_text(DEFAULT_MODEL_PATH, DEFAULT_MODEL_YAML).expect("the embedded default model parses")
}

impl DomainModel {
    /// Merges `other` over `self`: scalars that `other` sets win; lists are combined with
    /// `other`'s entries first, so a workspace's components and hovers take precedence, and
    /// entries with the same id (component, provider, rule code) replace the default's.
    pub fn merge(mut self, other: DomainModel) -> DomainModel {
        fn keyed<T: Clone>(base: Vec<T>, over: Vec<T>, key: impl Fn(&T) -> String) -> Vec<T> {
            let over_keys: std::collections::HashSet<String> = over.iter().map(&key).collect();
            let mut out = over;
            out.extend(base.into_iter().filter(|b| !over_keys.contains(&key(b))));
            out
        }
        macro_rules! scalar {
            ($($field:ident).+) => {
                if other.$($field).+ != Default::default() {
                    self.$($field).+ = other.$($field).+.clone();
                }
            };
        }
        scalar!(name);
        scalar!(description);
        scalar!(rule_docs_url);
        self.components = keyed(self.components, other.components, |c| c.id.clone());
        self.providers = keyed(self.providers, other.providers, |p| p.id.clone());
        self.rules = keyed(self.rules, other.rules, |r| r.code.clone());
        self.flows = keyed(self.flows, other.flows, |f| f.id.clone());
        if other.capi != Default::default() {
            self.capi = other.capi;
        }
        if other.hosted_cluster_reach != Default::default() {
            self.hosted_cluster_reach = other.hosted_cluster_reach;
        }
        if other.adapt != Default::default() {
            self.adapt = other.adapt;
        }
        if other.conditions != Default::default() {
            self.conditions = other.conditions;
        }
        if other.lifecycle != Default::default() {
            self.lifecycle = other.lifecycle;
        }
        if other.platforms != Default::default() {
            self.platforms = other.platforms;
        }
        if other.kustomize != Default::default() {
            self.kustomize = other.kustomize;
        }
        if other.code_actions != Default::default() {
            self.code_actions = other.code_actions;
        }
        let mut hover = other.hover;
        hover.extend(self.hover);
        self.hover = hover;
        self
    }
}
