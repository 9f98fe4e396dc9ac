//! `condition-naming/*` in YAML: `status.conditions[]` in manifests and test fixtures.
//!
//! - `type-not-camelcase` / `reason-not-camelcase`: the same conventions as the Go constants.
//! - `message-enumerates`: a message that lists items (comma-, semicolon- or line-separated)
//!   instead of starting with a count summary.

use super::condition_naming::{camel_case, REASON_NOT_CAMELCASE, TYPE_NOT_CAMELCASE};
use super::Finding;
use crate::facts::yaml::{YKind, YamlFacts};
use crate::model::CompiledModel;

pub const MESSAGE_ENUMERATES: &str = "condition-naming/message-enumerates";

pub static RULE: super::registry::Rule = super::registry::Rule {
    name: "condition-naming-yaml",
    doc: "`status.conditions` in YAML: CamelCase types and reasons, messages that summarise. Needs the \
          file's YAML facts and the model's conditions section.",
    codes: super::registry::Codes::Fixed(&[TYPE_NOT_CAMELCASE, REASON_NOT_CAMELCASE, MESSAGE_ENUMERATES]),
    concerns: |file| {
        file.text.contains("conditions") && file.text.contains("status") && super::status_conditions(file.text)
    },
    check: super::registry::Check::Yaml(|cx| check(cx.model, cx.facts)),
};

/// The items a message lists, when it lists.
fn listed_items(message: &str) -> usize {
    let body = message.split_once(": ").map(|(_, rest)| rest).unwrap_or(message);
    body.split([',', ';', '\n']).filter(|p| !p.trim().is_empty()).count()
}

/// The path of a node for messages: `status.conditions[2].reason`.
fn path_of(facts: &YamlFacts, mut id: u32) -> String {
    let mut parts = Vec::new();
    // Bounded by the depth of the tree, walked iteratively.
    loop {
        let node = facts.node(id);
        let Some(parent) = node.parent else { break };
        match &node.key {
            Some(key) => parts.push(key.clone()),
            None => {
                let index = facts.node(parent).children.iter().position(|&c| c == id).unwrap_or(0);
                parts.push(format!("[{index}]"));
            }
        }
        id = parent;
    }
    parts.reverse();
    let mut out = String::new();
    for part in parts {
        if !out.is_empty() && !part.starts_with('[') {
            out.push('.');
        }
        out.push_str(&part);
    }
    out
}

pub fn check(model: &CompiledModel, facts: &YamlFacts) -> Vec<Finding> {
    let conventions = &model.model.conditions;
    let mut out = Vec::new();
    for (i, node) in facts.nodes.iter().enumerate() {
        if node.key.as_deref() != Some("conditions") || node.kind != YKind::Seq {
            continue;
        }
        let Some(parent) = node.parent else { continue };
        if facts.node(parent).key.as_deref() != Some("status") {
            continue;
        }
        for item in facts.items(i as u32) {
            for (key, code) in [("type", TYPE_NOT_CAMELCASE), ("reason", REASON_NOT_CAMELCASE)] {
                let Some(id) = facts.get(item, key) else { continue };
                let Some(value) = facts.scalar(id) else { continue };
                if model.condition_value.is_match(value) {
                    continue;
                }
                let name = path_of(facts, id);
                let suggestion = camel_case(value);
                let message = model.message(code, &[("name", &name), ("value", value), ("suggestion", &suggestion)]);
                out.push(Finding::new(code, facts.node(id).span, message));
            }
            if conventions.yaml_list_min_items == 0 {
                continue;
            }
            let Some(id) = facts.get(item, "message") else { continue };
            let Some(message) = facts.scalar(id) else { continue };
            let items = listed_items(message);
            if items >= conventions.yaml_list_min_items as usize && !model.yaml_count_summary.is_match(message) {
                let text = model.message(
                    MESSAGE_ENUMERATES,
                    &[
                        ("name", &path_of(facts, id)),
                        ("items", &items.to_string()),
                        ("example", &conventions.summary_example),
                    ],
                );
                out.push(Finding::new(MESSAGE_ENUMERATES, facts.node(id).span, text));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_items() {
        assert_eq!(listed_items("Machines not ready: a, b, c"), 3);
        assert_eq!(listed_items("All machines are ready"), 1);
        assert_eq!(listed_items("a is down; b is down"), 2);
    }

    #[test]
    fn paths() {
        let f = crate::facts::yaml::facts_of("status:\n  conditions:\n  - type: a\n");
        let id = f.first(f.docs[0].root.unwrap(), "status.conditions[].type").unwrap();
        assert_eq!(path_of(&f, id), "status.conditions[0].type");
    }
}
