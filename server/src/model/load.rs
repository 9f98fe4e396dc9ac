//! Loading model files: size and nesting limits, errors located by file and line, merging a
//! workspace model over the default one.

use std::fmt;

use super::types::DomainModel;

/// The default HyperShift data-plane model, embedded at build time.
pub const DEFAULT_MODEL_YAML: &str = include_str!("../../../domain-models/hypershift-data-plane.yaml");
/// How the default model is named in messages.
pub const DEFAULT_MODEL_PATH: &str = "<builtin>/domain-models/hypershift-data-plane.yaml";

/// Model files larger than this are refused before parsing. The built-in model is 44 KB; a
/// compiled model costs about 200 bytes of memory per byte of YAML (every component's globs
/// become matchers), so 4 MB of components took 850 MB and 16 s, while 1 MiB stays near 210 MB.
pub const MAX_MODEL_BYTES: usize = 1024 * 1024;

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

/// The most a model or configuration file may expand to once its aliases are replayed (bytes of
/// scalars plus one per node). serde_yaml_ng bounds alias *repetition* (a billion laughs ends
/// in an error) but not the size an alias stands for: one 200 KB string named by 300 aliases
/// was 60 MB of strings and 2 GB once merged and compiled. Four times the file limit leaves
/// room for any honest use of anchors (the built-in model uses none).
pub const MAX_EXPANDED_BYTES: usize = 4 * MAX_MODEL_BYTES;

/// Walks a YAML document as serde_yaml_ng replays it (aliases expanded, nothing kept),
/// charging each node against a budget; over it, a located error (serde_yaml_ng places a
/// visitor's error at the node being read).
struct Expansion<'a>(&'a std::cell::Cell<usize>);

impl Expansion<'_> {
    fn charge<E: serde::de::Error>(&self, bytes: usize) -> Result<(), E> {
        let left = self.0.get();
        if bytes > left {
            return Err(E::custom(format!(
                "the document expands (its aliases replayed) to more than {MAX_EXPANDED_BYTES} bytes; model and configuration files are limited to that"
            )));
        }
        self.0.set(left - bytes);
        Ok(())
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Expansion<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Expansion<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        self.charge(1)
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        self.charge(8)
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        self.charge(8)
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        self.charge(8)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.charge(v.len() + 1)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.charge(1)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.charge(1)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.charge(1)?;
        while seq.next_element_seed(Expansion(self.0))?.is_some() {}
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.charge(1)?;
        while map.next_key_seed(Expansion(self.0))?.is_some() {
            map.next_value_seed(Expansion(self.0))?;
        }
        Ok(())
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // A tagged value (`!tag value`): the tag, then the value.
        use serde::de::VariantAccess;
        let (_, value) = data.variant_seed(Expansion(self.0))?;
        value.newtype_variant_seed(Expansion(self.0))
    }
}

/// Refuses a YAML document whose aliases expand it past [`MAX_EXPANDED_BYTES`], before it is
/// deserialised into anything that would hold the expansion.
pub fn check_expansion(path: &str, text: &str) -> Result<(), ModelError> {
    use serde::de::DeserializeSeed;
    let budget = std::cell::Cell::new(MAX_EXPANDED_BYTES);
    match Expansion(&budget).deserialize(serde_yaml_ng::Deserializer::from_str(text)) {
        Err(e) if budget.get() == 0 || e.to_string().contains("expands (its aliases replayed)") => {
            let mut error = ModelError::from_yaml(path, &e);
            error.code = "model/too-large";
            Err(error)
        }
        // Anything else (a syntax error) is reported by the parse proper, at its place.
        _ => Ok(()),
    }
}

/// Parses one YAML document as `T`, refusing oversized input first, and input whose aliases
/// expand it past [`MAX_EXPANDED_BYTES`]. serde_yaml_ng bounds nesting depth and alias
/// repetition itself, so alias bombs end in an error, not in memory.
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
    if text.contains('*') {
        // Only a document with an alias can expand past its own size.
        check_expansion(path, text)?;
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

/// Keys that identify the entries of a list of maps (components by `id`, rules by `code`,
/// lifecycle manifests by `kind`, deprecated fields by `field`, states by `name`).
const ENTRY_KEYS: &[&str] = &["id", "code", "kind", "field", "name"];

fn entry_key(value: &serde_json::Value) -> Option<(&'static str, String)> {
    let map = value.as_object()?;
    ENTRY_KEYS
        .iter()
        .find_map(|k| map.get(*k).and_then(|v| v.as_str()).map(|v| (*k, v.to_string())))
}

/// Merges `over` into `base`: maps key by key (recursively), keyed lists entry by entry (an
/// entry with the same id is merged field by field, new entries come first so that a team's
/// components match before the default ones), other lists extend, scalars `over` sets win.
fn merge_values(base: &mut serde_json::Value, over: serde_json::Value) {
    use serde_json::Value;
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(bv) => merge_values(bv, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(b), Value::Array(o)) => {
            let keyed = !o.is_empty() && o.iter().chain(b.iter()).all(|v| entry_key(v).is_some());
            if keyed {
                let mut rest: Vec<Option<Value>> = std::mem::take(b).into_iter().map(Some).collect();
                // The first base entry of each key, found by hashing (linear in the entries,
                // where a scan per new entry was quadratic).
                // Each key's base entries in reverse order, so `pop` yields the first one left.
                let mut index: std::collections::HashMap<(&'static str, String), Vec<usize>> =
                    std::collections::HashMap::with_capacity(rest.len());
                for (i, r) in rest.iter().enumerate().rev() {
                    if let Some(key) = r.as_ref().and_then(entry_key) {
                        index.entry(key).or_default().push(i);
                    }
                }
                let mut out = Vec::new();
                for item in o {
                    let slot = entry_key(&item)
                        .and_then(|key| index.get_mut(&key)?.pop())
                        .and_then(|i| rest.get_mut(i));
                    match slot {
                        Some(slot) => {
                            let mut merged = slot.take().unwrap_or(Value::Null);
                            merge_values(&mut merged, item);
                            out.push(merged);
                        }
                        None => out.push(item),
                    }
                }
                out.extend(rest.into_iter().flatten());
                *b = out;
            } else if o.iter().any(|v| v.is_object()) {
                // Unkeyed entries (hover texts): the new ones first, so they are found first.
                let old: Vec<Value> = std::mem::take(b).into_iter().filter(|v| !o.contains(v)).collect();
                *b = o;
                b.extend(old);
            } else {
                for v in o {
                    if !b.contains(&v) {
                        b.push(v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// Drops what a typed value holds only by default (null, false, empty strings, lists and
/// maps), so that merging a typed model sets only what its file set.
fn strip_defaults(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Null => true,
        Value::Bool(b) => !*b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(items) => {
            items.iter_mut().for_each(|v| {
                strip_defaults(v);
            });
            items.is_empty()
        }
        Value::Object(map) => {
            map.retain(|_, v| !strip_defaults(v));
            map.is_empty()
        }
    }
}

/// A model file as written: the keys it sets, for merging (see [`DomainModel::merge_layer`]).
pub fn layer_value(path: &str, text: &str) -> Result<serde_json::Value, ModelError> {
    let value: serde_json::Value = parse_yaml(path, text)?;
    Ok(if value.is_null() {
        serde_json::Value::Object(Default::default())
    } else {
        value
    })
}

impl DomainModel {
    /// Merges `other` over `self` section by section and field by field: scalars that `other`
    /// sets win, maps merge key by key, lists extend, and list entries with the same id
    /// (component, provider, impure category, rule code, manifest kind, ...) are merged field
    /// by field, `other`'s new entries first. A partial `conditions:` or `kustomize:` section
    /// changes only the fields it names. Fields `other` leaves at their defaults (false, empty)
    /// do not count as set: merge the file's own keys with [`DomainModel::merge_layer`].
    pub fn merge(self, other: DomainModel) -> DomainModel {
        let mut over = serde_json::to_value(&other).unwrap_or_default();
        strip_defaults(&mut over);
        self.merge_layer(over).unwrap_or(self)
    }

    /// Merges the keys a model file sets (its YAML as a value) over `self`; an error when the
    /// result does not fit the types.
    pub fn merge_layer(&self, over: serde_json::Value) -> Result<DomainModel, String> {
        let mut base = serde_json::to_value(self).map_err(|e| e.to_string())?;
        merge_values(&mut base, over);
        serde_json::from_value(base).map_err(|e| e.to_string())
    }

    /// What a model in force must hold for every finding to have a message from the model:
    /// each rule a title, an explanation and (except `suppression/*` and `internal/*`, whose
    /// messages the engine writes) a message template; each impure category a rule.
    /// Returns `(rule code, problem)` pairs.
    pub fn incomplete_rules(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for rule in &self.rules {
            let family = rule.code.split('/').next().unwrap_or("");
            let mut missing = Vec::new();
            if rule.title.trim().is_empty() {
                missing.push("title");
            }
            if rule.explanation.trim().is_empty() {
                missing.push("explanation");
            }
            // The engine writes the messages of suppression/*, internal/* and the model-loading
            // problems (model/* but the model/stale-* findings of `model verify`) itself.
            let engine_worded = matches!(family, "suppression" | "internal")
                || (family == "model" && !rule.code.starts_with("model/stale-"));
            if rule.message.as_deref().is_none_or(|m| m.trim().is_empty()) && !engine_worded {
                missing.push("message");
            }
            if !missing.is_empty() {
                out.push((
                    rule.code.clone(),
                    format!("rule `{}` has no {}", rule.code, missing.join(", no ")),
                ));
            }
        }
        for category in &self.adapt.impure {
            let code = format!("adapt-purity/{}", category.id);
            if !self.rules.iter().any(|r| r.code == code) {
                out.push((
                    category.id.clone(),
                    format!(
                        "impure category `{}` has no rule `{code}` (with a title, explanation and message)",
                        category.id
                    ),
                ));
            }
        }
        out
    }
}

/// The 0-based line of the first `code: CODE` or `id: CODE` in `text`, to locate an incomplete rule.
pub fn line_of_entry(text: &str, key: &str) -> Option<usize> {
    text.lines().position(|line| {
        let t = line.trim_start().trim_start_matches("- ").trim();
        ["code:", "id:"].iter().any(|k| {
            t.strip_prefix(k)
                .is_some_and(|v| v.trim().trim_matches(['"', '\'']) == key)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    const TEAM: &str = "conditions:\n  prefilter_words: [TeamCondition]\nkustomize:\n  remote_prefixes: ['oci://']\nrules:\n  - code: capi-boundary/provider-read\n    severity: warning\ncomponents:\n  - id: team-generic\n    paths: ['team/**']\n    generic: true\n  - id: nodepool-generic\n    exclude: ['hypershift-operator/controllers/nodepool/team_*.go']\n";

    #[test]
    fn a_partial_section_changes_only_the_fields_it_names() {
        let base = load_default_model();
        load_model_text("team.yaml", TEAM).expect("a partial model parses");
        let merged = base
            .clone()
            .merge_layer(layer_value("team.yaml", TEAM).unwrap())
            .unwrap();
        // conditions: one list extended, every other field as the default has it.
        assert_eq!(merged.conditions.value_pattern, base.conditions.value_pattern);
        assert_eq!(merged.conditions.condition_types, base.conditions.condition_types);
        assert!(merged.conditions.prefilter_words.iter().any(|w| w == "TeamCondition"));
        assert!(base
            .conditions
            .prefilter_words
            .iter()
            .all(|w| merged.conditions.prefilter_words.contains(w)));
        // kustomize: ArgoCD fields and deprecated fields kept.
        assert!(!base.kustomize.argocd.path_fields.is_empty());
        assert_eq!(merged.kustomize.argocd, base.kustomize.argocd);
        assert_eq!(merged.kustomize.deprecated_fields, base.kustomize.deprecated_fields);
        assert!(merged.kustomize.remote_prefixes.iter().any(|p| p == "oci://"));
        // A rule changed field by field: the severity only.
        let rule = merged
            .rules
            .iter()
            .find(|r| r.code == "capi-boundary/provider-read")
            .unwrap();
        let before = base
            .rules
            .iter()
            .find(|r| r.code == "capi-boundary/provider-read")
            .unwrap();
        assert_eq!(rule.severity, Severity::Warning);
        assert_eq!((&rule.title, &rule.message), (&before.title, &before.message));
        assert_eq!(merged.rules.len(), base.rules.len());
        // Components: the new one first (it matches first), the same id merged in place.
        assert_eq!(merged.components[0].id, "team-generic");
        assert_eq!(merged.components.len(), base.components.len() + 1);
        let generic = merged.components.iter().find(|c| c.id == "nodepool-generic").unwrap();
        let generic_before = base.components.iter().find(|c| c.id == "nodepool-generic").unwrap();
        assert_eq!(generic.paths, generic_before.paths);
        assert!(generic.generic);
        assert!(generic
            .exclude
            .iter()
            .any(|e| e == "hypershift-operator/controllers/nodepool/team_*.go"));
        assert!(merged.incomplete_rules().is_empty(), "{:?}", merged.incomplete_rules());
        // Merging the typed file agrees on everything it sets.
        let typed = base.merge(load_model_text("team.yaml", TEAM).unwrap());
        assert_eq!(typed.conditions, merged.conditions);
        assert_eq!(typed.kustomize, merged.kustomize);
    }

    #[test]
    fn an_explicit_false_or_empty_value_is_kept_from_the_file() {
        let base = load_default_model();
        let layer =
            "components:\n  - id: nodepool-generic\n    generic: false\nconditions:\n  yaml_list_min_items: 0\n";
        let merged = base.merge_layer(layer_value("t.yaml", layer).unwrap()).unwrap();
        let generic = merged.components.iter().find(|c| c.id == "nodepool-generic").unwrap();
        assert!(!generic.generic);
        assert_eq!(merged.conditions.yaml_list_min_items, 0);
    }

    #[test]
    fn rules_without_words_are_reported() {
        assert!(load_default_model().incomplete_rules().is_empty());
        let layer = "adapt:\n  impure:\n    - id: metrics\n      description: records metrics\nrules:\n  - code: team/thing\n    title: A team rule\n    explanation: Why.\n";
        let merged = load_default_model()
            .merge_layer(layer_value("t.yaml", layer).unwrap())
            .unwrap();
        let problems = merged.incomplete_rules();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].1.contains("`team/thing` has no message"), "{problems:?}");
        assert!(problems[1].1.contains("adapt-purity/metrics"), "{problems:?}");
        assert_eq!(line_of_entry(layer, "team/thing"), Some(5));
        assert_eq!(line_of_entry(layer, "metrics"), Some(2));
    }
}
