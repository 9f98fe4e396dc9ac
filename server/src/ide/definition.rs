//! Go to the model: from a provider kind, a component's file, a lifecycle field or a rule code
//! to the model entry that explains it. Entries are found in the model sources in force (the
//! built-in model text, then the workspace's model files; the last source defining an entry
//! wins, as in the merge), by the entry's key line (`- id: azure`, `- name: Scaling`).

use std::path::Path;

use crate::db::{go_facts, yaml_facts, SourceFile, Workspace};
use crate::model::{CompiledModel, DEFAULT_MODEL_PATH, DEFAULT_MODEL_YAML};
use crate::syntax::Lang;

/// A model entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelEntry {
    Provider(String),
    Component(String),
    State(String),
    Invariant(String),
    /// A lifecycle symbol, by one of its names.
    Symbol(String),
    Rule(String),
    Platform(String),
    Flow(String),
}

impl ModelEntry {
    /// Top-level section, entry key and value of the line that introduces the entry.
    fn key(&self) -> (&'static str, &'static str, &str) {
        match self {
            ModelEntry::Provider(v) => ("providers", "id", v),
            ModelEntry::Component(v) => ("components", "id", v),
            ModelEntry::State(v) => ("lifecycle", "name", v),
            ModelEntry::Invariant(v) => ("lifecycle", "id", v),
            ModelEntry::Symbol(v) => ("lifecycle", "names", v),
            ModelEntry::Rule(v) => ("rules", "code", v),
            ModelEntry::Platform(v) => ("platforms", "platforms", v),
            ModelEntry::Flow(v) => ("flows", "id", v),
        }
    }
}

/// Where an entry is: a model source (`DEFAULT_MODEL_PATH` for the built-in model, else a path
/// relative to the root or absolute), its 0-based line and the byte columns of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelLocation {
    pub source: String,
    pub line: u32,
    pub start: u32,
    pub end: u32,
    /// The line's text (for column conversions).
    pub line_text: String,
}

/// The text of a model source.
pub fn source_text(root: &Path, source: &str) -> Option<String> {
    if source == DEFAULT_MODEL_PATH {
        return Some(DEFAULT_MODEL_YAML.to_string());
    }
    let path = if Path::new(source).is_absolute() {
        Path::new(source).to_path_buf()
    } else {
        root.join(source)
    };
    crate::vfs::read_source(&path).ok().map(|(t, _)| t.to_string())
}

/// The line of `entry` in one model text: inside its top-level section, the first line whose
/// key is the entry's key and whose value is (or, for lists, contains) the entry's value.
pub fn find_entry(text: &str, entry: &ModelEntry) -> Option<(u32, u32, u32)> {
    let (section, key, value) = entry.key();
    let mut inside = false;
    for (n, line) in text.lines().enumerate() {
        let top_level = !line.is_empty() && !line.starts_with([' ', '#', '-', '\t']);
        if top_level {
            inside = line.strip_prefix(section).is_some_and(|rest| rest.starts_with(':'));
            continue;
        }
        if !inside {
            continue;
        }
        let trimmed = line.trim_start();
        let trimmed = trimmed.strip_prefix("- ").unwrap_or(trimmed).trim_start();
        let Some(rest) = trimmed.strip_prefix(key).and_then(|r| r.strip_prefix(':')) else {
            continue;
        };
        let rest_at = line.len() - rest.len();
        let found = if rest.trim_start().starts_with('[') {
            // A flow list: the value as one of its items.
            rest.match_indices(value).find(|(i, _)| {
                let before = rest[..*i].chars().next_back();
                let after = rest[i + value.len()..].chars().next();
                let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
                boundary(before) && boundary(after)
            })
        } else {
            let v = rest.trim().trim_matches(|c| c == '"' || c == '\'');
            (v == value).then(|| (rest.find(value).unwrap_or(0), value))
        };
        if let Some((i, _)) = found {
            let start = (rest_at + i) as u32;
            return Some((n as u32, start, start + value.len() as u32));
        }
    }
    None
}

/// Finds `entry` in the model sources, the last source first (the one whose entry is in force).
pub fn locate(root: &Path, model: &CompiledModel, entry: &ModelEntry) -> Option<ModelLocation> {
    let mut sources: Vec<&String> = model.sources.iter().collect();
    if sources.is_empty() {
        return None;
    }
    sources.reverse();
    for source in sources {
        let Some(text) = source_text(root, source) else {
            continue;
        };
        if let Some((line, start, end)) = find_entry(&text, entry) {
            return Some(ModelLocation {
                source: source.clone(),
                line,
                start,
                end,
                line_text: text.lines().nth(line as usize).unwrap_or_default().to_string(),
            });
        }
    }
    None
}

/// A rule code or family under the cursor (`capi-boundary/provider-read`, `adapt-purity`).
fn rule_at(model: &CompiledModel, text: &str, offset: usize) -> Option<ModelEntry> {
    let offset = crate::text::clamp_to_char_boundary(text, offset.min(text.len()));
    let is_code = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '/' || c == '_';
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_code(*c))
        .last()
        .map(|(i, _)| i)
        .unwrap_or(offset);
    let end = text[offset..]
        .char_indices()
        .find(|(_, c)| !is_code(*c))
        .map(|(i, _)| offset + i)
        .unwrap_or(text.len());
    let word = &text[start..end];
    if model.rule(word).is_some() {
        return Some(ModelEntry::Rule(word.to_string()));
    }
    // A family: its first rule.
    let family = format!("{word}/");
    model
        .model
        .rules
        .iter()
        .find(|r| r.code.starts_with(&family))
        .map(|r| ModelEntry::Rule(r.code.clone()))
}

fn symbol_named(model: &CompiledModel, name: &str) -> Option<ModelEntry> {
    model
        .model
        .lifecycle
        .symbols
        .iter()
        .any(|s| s.names.iter().any(|n| n == name))
        .then(|| ModelEntry::Symbol(name.to_string()))
}

/// The model entry explaining what is at `offset`.
pub fn entry_at(db: &dyn salsa::Database, ws: Workspace, file: SourceFile, offset: usize) -> Option<ModelEntry> {
    let model = ws.model(db);
    let text = file.text(db);
    let at = offset as u32;
    if let Some(rule) = rule_at(model, text, offset) {
        return Some(rule);
    }
    match file.lang(db) {
        Lang::Go => {
            let facts = go_facts(db, file);
            for r in facts
                .pkg_refs
                .iter()
                .filter(|r| r.span.contains(at) || r.span.end == at)
            {
                let provider = match &r.import {
                    Some(path) => model.provider_for_import(path),
                    None => model.provider_for_kind(&r.name),
                };
                if let Some(provider) = provider {
                    return Some(ModelEntry::Provider(provider.id.clone()));
                }
                if let Some(symbol) = symbol_named(model, &r.name) {
                    return Some(symbol);
                }
                if let Some(flow) = model.model.flows.iter().find(|f| f.shown_on.contains(&r.name)) {
                    return Some(ModelEntry::Flow(flow.id.clone()));
                }
            }
            // The package clause: the component this file belongs to.
            let line_start = text[..offset.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
            if text[line_start..].starts_with("package ") {
                return model
                    .component_for(file.path(db))
                    .map(|c| ModelEntry::Component(c.id.clone()));
            }
            let (_, word) = crate::ide::hover::word_at(text, offset)?;
            if let Some(symbol) = symbol_named(model, word) {
                return Some(symbol);
            }
            model
                .provider_for_kind(word)
                .map(|p| ModelEntry::Provider(p.id.clone()))
        }
        Lang::Yaml => {
            let facts = yaml_facts(db, file);
            let node = facts
                .nodes
                .iter()
                .find(|n| n.key_span.is_some_and(|k| k.contains(at) || k.end == at));
            if let Some(key) = node.and_then(|n| n.key.as_deref()) {
                if let Some(symbol) = symbol_named(model, key) {
                    return Some(symbol);
                }
            }
            let (_, word) = crate::ide::hover::word_at(text, offset)?;
            if let Some(provider) = model.provider_for_kind(word) {
                return Some(ModelEntry::Provider(provider.id.clone()));
            }
            if model.model.lifecycle.states.iter().any(|s| s.name == word) {
                return Some(ModelEntry::State(word.to_string()));
            }
            if model.model.platforms.platforms.iter().any(|p| p == word) {
                return Some(ModelEntry::Platform(word.to_string()));
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_on_their_key_line() {
        let text = DEFAULT_MODEL_YAML;
        let lines: Vec<&str> = text.lines().collect();
        let (line, start, end) = find_entry(text, &ModelEntry::Provider("azure".into())).unwrap();
        assert_eq!(lines[line as usize].trim(), "- id: azure");
        assert_eq!(&lines[line as usize][start as usize..end as usize], "azure");
        let (line, ..) = find_entry(text, &ModelEntry::State("Scaling".into())).unwrap();
        assert_eq!(lines[line as usize].trim(), "- name: Scaling");
        let (line, ..) = find_entry(text, &ModelEntry::Symbol("maxUnavailable".into())).unwrap();
        assert!(lines[line as usize].contains("names: [MaxUnavailable, maxUnavailable]"));
        let (line, ..) = find_entry(text, &ModelEntry::Rule("capi-boundary/provider-read".into())).unwrap();
        assert_eq!(lines[line as usize].trim(), "- code: capi-boundary/provider-read");
        let (line, ..) = find_entry(text, &ModelEntry::Platform("Azure".into())).unwrap();
        assert!(lines[line as usize].trim().starts_with("platforms: ["));
        assert!(find_entry(text, &ModelEntry::Provider("nope".into())).is_none());
        // `Machine` is a whole item, not a part of `MachineDeployment`.
        let (line, ..) = find_entry(text, &ModelEntry::Symbol("Machine".into())).unwrap();
        assert!(lines[line as usize].contains("names: [Machine,"));
    }
}
