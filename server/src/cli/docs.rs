//! Rule documentation as markdown files (`docs/rules/<family>/<name>.md`), generated from the
//! model so that SARIF `helpUri` and the editor's `codeDescription` have a stable page to link
//! to (through the model's `rule_docs_url`). `invariant-lsp explain --write-docs DIR` writes
//! them. They are derived data and not committed (`/docs/rules` is git-ignored): whoever
//! publishes them generates them from the model in force, and a new rule needs no page edit.

use std::path::Path;

use crate::model::RuleDoc;

/// The page for one rule.
pub fn rule_markdown(rule: &RuleDoc, model_name: Option<&str>) -> String {
    let mut out = format!("# `{}`\n\n{}\n\n", rule.code, rule.title.trim());
    out.push_str(&format!("- Default severity: **{}**\n", rule.severity.as_str()));
    let family = rule.code.split('/').next().unwrap_or(&rule.code);
    let mut tags = vec![family.to_string()];
    tags.extend(rule.tags.iter().cloned());
    out.push_str(&format!("- Tags: {}\n", tags.join(", ")));
    if !rule.exclude.is_empty() {
        out.push_str(&format!("- Not applied to: `{}`\n", rule.exclude.join("`, `")));
    }
    out.push('\n');
    out.push_str(rule.explanation.trim());
    out.push_str("\n\n");
    if let Some(message) = &rule.message {
        out.push_str("## Message\n\n```text\n");
        out.push_str(message.trim());
        out.push_str("\n```\n\n");
    }
    out.push_str(&format!(
        "Silence one finding with `//invariant:ignore {} -- <reason>` (Go) or `# invariant:ignore {} -- <reason>` (YAML) on the line above; `invariant-lsp explain {}` prints this page.\n\n",
        rule.code, rule.code, rule.code
    ));
    out.push_str(&format!(
        "<!-- Generated from the domain model{} by `invariant-lsp explain --write-docs`; do not edit. -->\n",
        model_name.map(|n| format!(" ({n})")).unwrap_or_default()
    ));
    out
}

/// The relative path of a rule's page: `<family>/<name>.md`.
pub fn rule_page(code: &str) -> String {
    let safe: String = code
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '/' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}.md", safe.trim_matches('/'))
}

/// Writes every rule's page under `dir`; returns how many.
pub fn write_all(rules: &[RuleDoc], model_name: Option<&str>, dir: &Path) -> Result<usize, String> {
    for rule in rules {
        let path = dir.join(rule_page(&rule.code));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, rule_markdown(rule, model_name)).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(rules.len())
}
