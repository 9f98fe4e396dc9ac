//! The domain model: typed YAML (types.rs), loading with located errors and merging (load.rs),
//! and the compiled form the rules query (this file): globs and regular expressions built once.

pub mod load;
pub mod types;

use std::collections::HashMap;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use regex::Regex;

pub use load::{load_default_model, load_model_text, ModelError, DEFAULT_MODEL_PATH, DEFAULT_MODEL_YAML};
pub use types::*;

/// A domain model with its globs and patterns compiled. Built once per model change.
#[derive(Debug)]
pub struct CompiledModel {
    pub model: DomainModel,
    /// Where each part of the model came from, for messages (`domain-models/x.yaml`).
    pub sources: Vec<String>,
    components: Vec<(GlobSet, GlobSet)>,
    provider_packages: Vec<GlobSet>,
    capi_packages: GlobSet,
    pub adapt_name: Option<Regex>,
    pub condition_value: Regex,
    pub condition_type_const: Option<Regex>,
    pub condition_reason_const: Option<Regex>,
    pub count_summary: Regex,
    /// `conditions.yaml_count_summary_pattern` (a leading count, by default).
    pub yaml_count_summary: Regex,
    pub condition_exempt_const: Option<Regex>,
    condition_const_files: GlobSet,
    rule_excludes: HashMap<String, GlobSet>,
    rules: HashMap<String, usize>,
}

impl PartialEq for CompiledModel {
    fn eq(&self, other: &Self) -> bool {
        self.model == other.model && self.sources == other.sources
    }
}

fn glob(pattern: &str) -> Result<Glob, String> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("invalid glob `{pattern}`: {e}"))
}

fn glob_set<'a>(patterns: impl IntoIterator<Item = &'a String>) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(glob(pattern)?);
    }
    builder.build().map_err(|e| e.to_string())
}

fn regex(what: &str, pattern: &str) -> Result<Regex, String> {
    // A size limit keeps a hostile model from building a huge automaton.
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("invalid regular expression `{pattern}` in {what}: {e}"))
}

/// The glob or regular expression a [`CompiledModel::compile`] error is about, to locate it in
/// the model file that wrote it.
pub fn offending_pattern(message: &str) -> Option<&str> {
    let rest = ["invalid glob `", "invalid regular expression `"]
        .iter()
        .find_map(|lead| message.find(lead).map(|at| &message[at + lead.len()..]))?;
    let end = rest.rfind("`: ").or_else(|| rest.rfind("` in "))?;
    Some(&rest[..end]).filter(|p| !p.is_empty())
}

impl CompiledModel {
    /// Compiles globs and regular expressions; an error names the offending part.
    pub fn compile(model: DomainModel, sources: Vec<String>) -> Result<Self, String> {
        let mut components = Vec::new();
        for component in &model.components {
            let include = glob_set(&component.paths).map_err(|e| format!("component `{}`: {e}", component.id))?;
            let exclude = glob_set(&component.exclude).map_err(|e| format!("component `{}`: {e}", component.id))?;
            components.push((include, exclude));
        }
        let mut provider_packages = Vec::new();
        for provider in &model.providers {
            provider_packages
                .push(glob_set(&provider.packages).map_err(|e| format!("provider `{}`: {e}", provider.id))?);
        }
        let capi_packages = glob_set(&model.capi.packages).map_err(|e| format!("capi: {e}"))?;
        let adapt_name = model
            .adapt
            .name_pattern
            .as_deref()
            .map(|p| regex("adapt.name_pattern", p))
            .transpose()?;
        let value = if model.conditions.value_pattern.is_empty() {
            "^[A-Z][A-Za-z0-9]*$"
        } else {
            &model.conditions.value_pattern
        };
        let condition_value = regex("conditions.value_pattern", value)?;
        let condition_type_const = model
            .conditions
            .type_const_pattern
            .as_deref()
            .map(|p| regex("conditions.type_const_pattern", p))
            .transpose()?;
        let condition_reason_const = model
            .conditions
            .reason_const_pattern
            .as_deref()
            .map(|p| regex("conditions.reason_const_pattern", p))
            .transpose()?;
        let summary = if model.conditions.count_summary_pattern.is_empty() {
            "^%d"
        } else {
            &model.conditions.count_summary_pattern
        };
        let count_summary = regex("conditions.count_summary_pattern", summary)?;
        let yaml_count_summary = regex(
            "conditions.yaml_count_summary_pattern",
            model
                .conditions
                .yaml_count_summary_pattern
                .as_deref()
                .unwrap_or(r"^\s*\d+\b"),
        )?;
        let condition_exempt_const = model
            .conditions
            .exempt_const_pattern
            .as_deref()
            .map(|p| regex("conditions.exempt_const_pattern", p))
            .transpose()?;
        let condition_const_files =
            glob_set(&model.conditions.const_files).map_err(|e| format!("conditions.const_files: {e}"))?;
        let mut rule_excludes = HashMap::new();
        for rule in &model.rules {
            if !rule.exclude.is_empty() {
                rule_excludes.insert(
                    rule.code.clone(),
                    glob_set(&rule.exclude).map_err(|e| format!("rule `{}`: {e}", rule.code))?,
                );
            }
        }
        let rules = model
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.code.clone(), i))
            .collect();
        Ok(CompiledModel {
            model,
            sources,
            components,
            provider_packages,
            capi_packages,
            adapt_name,
            condition_value,
            condition_type_const,
            condition_reason_const,
            count_summary,
            yaml_count_summary,
            condition_exempt_const,
            condition_const_files,
            rule_excludes,
            rules,
        })
    }

    /// The component a workspace-relative path (with `/` separators) belongs to.
    pub fn component_for(&self, rel_path: &str) -> Option<&Component> {
        self.components
            .iter()
            .position(|(include, exclude)| include.is_match(rel_path) && !exclude.is_match(rel_path))
            .map(|i| &self.model.components[i])
    }

    /// The provider whose API packages include this import path.
    pub fn provider_for_import(&self, import_path: &str) -> Option<&Provider> {
        self.provider_packages
            .iter()
            .position(|set| set.is_match(import_path))
            .map(|i| &self.model.providers[i])
    }

    /// Is every string constant in this file a condition type or reason?
    pub fn is_condition_const_file(&self, rel_path: &str) -> bool {
        self.condition_const_files.is_match(rel_path)
    }

    pub fn is_capi_import(&self, import_path: &str) -> bool {
        self.capi_packages.is_match(import_path)
    }

    pub fn provider(&self, id: &str) -> Option<&Provider> {
        self.model.providers.iter().find(|p| p.id == id)
    }

    /// The provider that owns a kind (Machine or template), by kind name alone.
    pub fn provider_for_kind(&self, kind: &str) -> Option<&Provider> {
        self.model
            .providers
            .iter()
            .find(|p| p.machine_kinds.iter().chain(&p.template_kinds).any(|k| k == kind))
    }

    /// Does the rule's `exclude` list cover this path?
    pub fn rule_excluded(&self, code: &str, rel_path: &str) -> bool {
        self.rule_excludes.get(code).is_some_and(|set| set.is_match(rel_path))
    }

    pub fn rule(&self, code: &str) -> Option<&RuleDoc> {
        self.rules.get(code).map(|&i| &self.model.rules[i])
    }

    /// The message for a finding of `code`: the model's template with `{name}` placeholders
    /// replaced by `args`; without a template, the rule's title and the arguments.
    pub fn message(&self, code: &str, args: &[(&str, &str)]) -> String {
        match self.rule(code).and_then(|r| r.message.as_deref()) {
            Some(template) => render(template, args),
            None => {
                let title = self.rule(code).map(|r| r.title.as_str()).unwrap_or(code);
                let details: Vec<String> = args.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("{title} ({})", details.join("; "))
            }
        }
    }

    /// A rule's parameter list `key` from its model entry (empty when absent).
    pub fn rule_param(&self, code: &str, key: &str) -> &[String] {
        self.rule(code)
            .and_then(|r| r.params.get(key))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// A rule's wording parameter `key` (a template: the first entry of the list) rendered with
    /// `args`; `None` when the rule's entry has no such parameter.
    pub fn rule_say(&self, code: &str, key: &str, args: &[(&str, &str)]) -> Option<String> {
        self.rule_param(code, key).first().map(|t| render(t, args))
    }

    pub fn rule_docs_url(&self, code: &str) -> Option<String> {
        self.model.rule_docs_url.as_ref().map(|url| url.replace("{code}", code))
    }

    /// `true` when `pattern` (a glob over import paths) matches.
    pub fn call_pattern_matches(pattern: &CallPattern, import_path: &str, function: &str) -> bool {
        Self::pattern_package_matches(pattern, import_path)
            && pattern.functions.iter().any(|f| f == "*" || f == function)
    }

    /// Is `import_path` the package of `pattern` (a glob or a path)?
    pub fn pattern_package_matches(pattern: &CallPattern, import_path: &str) -> bool {
        if pattern.package.contains(['*', '?', '[']) {
            glob(&pattern.package)
                .map(|g| g.compile_matcher().is_match(import_path))
                .unwrap_or(false)
        } else {
            pattern.package == import_path
        }
    }
}

/// Replaces `{name}` placeholders; unknown placeholders stay as written.
pub fn render(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if args.iter().any(|(k, _)| *k == &after[..close]) => {
                let key = &after[..close];
                out.push_str(args.iter().find(|(k, _)| *k == key).map(|(_, v)| *v).unwrap_or(""));
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.trim_end().to_string()
}
