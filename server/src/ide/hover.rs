//! Hover: what the domain model says about the symbol under the cursor. Every sentence comes
//! from the model; this module only chooses the entries and lays them out as markdown.

use crate::db::{dir_of, go_facts, SourceFile, Workspace};
use crate::model::{CompiledModel, LifecycleSymbol, Provider};
use crate::rules::purity::{file_purity, package_purity};
use crate::syntax::Lang;

/// The identifier-ish word at `offset` (letters, digits, `_`, `.` not included).
pub fn word_at(text: &str, offset: usize) -> Option<(usize, &str)> {
    let offset = crate::text::clamp_to_char_boundary(text, offset.min(text.len()));
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map(|(i, _)| i)
        .unwrap_or(offset);
    let end = text[offset..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map(|(i, _)| offset + i)
        .unwrap_or(text.len());
    (start < end).then(|| (start, &text[start..end]))
}

fn provider_section(model: &CompiledModel, provider: &Provider, kind: &str) -> String {
    let mut out = String::new();
    if let Some(hover) = &provider.hover {
        out.push_str(hover.trim_end());
        out.push_str("\n\n");
    }
    if provider.machine_kinds.iter().any(|k| k == kind) {
        if let Some(rule) = model
            .model
            .capi
            .machine_kind_rule
            .as_deref()
            .and_then(|code| model.rule(code))
        {
            out.push_str(&format!(
                "**{}** — {}\n\n",
                rule.title,
                first_paragraph(&rule.explanation)
            ));
        }
    }
    if let Some(platform) = &provider.platform {
        out.push_str(&platform_row(model, platform));
    }
    out.push_str(&flows_for(model, kind));
    out
}

/// The model's flows shown on `name` (a provider Machine kind, a condition type constant), each
/// as its numbered steps with the function that performs them.
pub fn flows_for(model: &CompiledModel, name: &str) -> String {
    let machine_kind = model
        .model
        .providers
        .iter()
        .any(|p| p.machine_kinds.iter().any(|k| k == name));
    let mut out = String::new();
    for flow in &model.model.flows {
        let shown = flow
            .shown_on
            .iter()
            .any(|s| s == name || (s == "<provider-machine-kinds>" && machine_kind));
        if !shown {
            continue;
        }
        out.push_str(&format!("**{}**\n\n", flow.title));
        for (i, step) in flow.steps.iter().enumerate() {
            out.push_str(&format!("{}. **{}** — {}", i + 1, step.object, step.does));
            match (&step.function, &step.file) {
                (Some(function), Some(file)) => out.push_str(&format!(" (`{function}`, `{file}`)")),
                (Some(function), None) => out.push_str(&format!(" (`{function}`)")),
                _ => {}
            }
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

fn first_paragraph(text: &str) -> String {
    text.split("\n\n").next().unwrap_or(text).replace('\n', " ")
}

/// The platform matrix column of one platform, as a table.
fn platform_row(model: &CompiledModel, platform: &str) -> String {
    let matrix = &model.model.platforms;
    let rows: Vec<String> = matrix
        .rows
        .iter()
        .filter_map(|(row, values)| values.get(platform).map(|v| format!("| {row} | {v} |")))
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    format!("| {platform} | |\n|---|---|\n{}\n\n", rows.join("\n"))
}

fn lifecycle_section(model: &CompiledModel, symbol: &LifecycleSymbol) -> String {
    let mut out = format!("{}\n\n", symbol.summary);
    for state_name in &symbol.states {
        let Some(state) = model.model.lifecycle.states.iter().find(|s| &s.name == state_name) else {
            continue;
        };
        out.push_str(&format!("**{}**", state.name));
        if !state.sub_states.is_empty() {
            out.push_str(&format!(": {}", state.sub_states.join(" → ")));
        }
        out.push('\n');
        for line in state.invariants.iter().chain(&state.constraints).chain(&state.ordering) {
            out.push_str(&format!("- {line}\n"));
        }
        if !state.platform_variations.is_empty() {
            let variations: Vec<String> = state
                .platform_variations
                .iter()
                .map(|(p, v)| format!("{p}: {v}"))
                .collect();
            out.push_str(&format!("- platforms — {}\n", variations.join("; ")));
        }
        out.push('\n');
    }
    let invariants: Vec<&str> = model
        .model
        .lifecycle
        .invariants
        .iter()
        .filter(|i| i.states.iter().any(|s| symbol.states.contains(s)))
        .map(|i| i.text.as_str())
        .collect();
    if !invariants.is_empty() {
        out.push_str("**Invariants checked in manifests**\n");
        for text in invariants {
            out.push_str(&format!("- {text}\n"));
        }
    }
    out
}

/// Markdown from the model's generic entries for a word (lifecycle symbols and hover entries).
fn by_name(model: &CompiledModel, name: &str, lang: Lang) -> Option<String> {
    let mut parts = Vec::new();
    for symbol in &model.model.lifecycle.symbols {
        if symbol.names.iter().any(|n| n == name) {
            parts.push(lifecycle_section(model, symbol));
        }
    }
    for entry in &model.model.hover {
        let language_ok = entry.language.as_deref().is_none_or(|l| l == lang.id());
        if language_ok && entry.names.iter().any(|n| n == name) {
            parts.push(entry.markdown.trim_end().to_string());
        }
    }
    let flows = flows_for(model, name);
    if !flows.is_empty() {
        parts.push(flows.trim_end().to_string());
    }
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

/// Hover markdown for the symbol at byte `offset` of `file`.
pub fn hover(db: &dyn salsa::Database, ws: Workspace, file: SourceFile, offset: usize) -> Option<String> {
    let model = ws.model(db);
    let text = file.text(db);
    let lang = file.lang(db);
    if lang == Lang::Go {
        if let Some(markdown) = go_hover(db, ws, file, offset as u32) {
            return Some(markdown);
        }
    }
    if lang == Lang::Yaml {
        if let Some(markdown) = yaml_hover(db, model, file, offset as u32) {
            return Some(markdown);
        }
    }
    if let Some(markdown) = finding_hover(db, ws, file, offset as u32) {
        return Some(markdown);
    }
    let (_, word) = word_at(text, offset)?;
    by_name(model, word, lang)
}

/// At a finding's site (an impure call inside an adapt function, a provider read): the rule's
/// title, the finding and the rule's explanation.
fn finding_hover(db: &dyn salsa::Database, ws: Workspace, file: SourceFile, offset: u32) -> Option<String> {
    let model = ws.model(db);
    let findings = crate::rules::findings(db, ws, file);
    let parts: Vec<String> = findings
        .iter()
        .filter(|f| f.span.contains(offset) || f.span.end == offset)
        .filter_map(|f| {
            let rule = model.rule(&f.code)?;
            Some(format!(
                "**{}** (`{}`)\n\n{}\n\n{}",
                rule.title,
                f.code,
                f.message,
                rule.explanation.trim_end()
            ))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n---\n\n"))
}

/// YAML: the key under the cursor, by its dotted path (`spec.platform.type`) so that entries
/// can name a path suffix (`platform.type`) or a bare key (`maxUnavailable`).
fn yaml_hover(db: &dyn salsa::Database, model: &CompiledModel, file: SourceFile, offset: u32) -> Option<String> {
    let facts = crate::db::yaml_facts(db, file);
    let id = facts
        .nodes
        .iter()
        .position(|n| n.key_span.is_some_and(|k| k.contains(offset) || k.end == offset))?;
    let mut keys = Vec::new();
    let mut at = Some(id as u32);
    while let Some(i) = at {
        let node = facts.node(i);
        if let Some(key) = &node.key {
            keys.push(key.clone());
        }
        at = node.parent;
    }
    keys.reverse();
    let path = keys.join(".");
    let key = keys.last()?;
    let mut candidates: Vec<&str> = Vec::new();
    for (i, _) in path.match_indices('.') {
        candidates.push(&path[i + 1..]);
    }
    candidates.insert(0, &path);
    candidates.retain(|c| c.contains('.'));
    candidates.push(key);
    candidates.into_iter().find_map(|name| by_name(model, name, Lang::Yaml))
}

fn go_hover(db: &dyn salsa::Database, ws: Workspace, file: SourceFile, offset: u32) -> Option<String> {
    let model = ws.model(db);
    let facts = go_facts(db, file);
    for r in facts
        .pkg_refs
        .iter()
        .filter(|r| r.span.contains(offset) || r.span.end == offset)
    {
        let provider = match &r.import {
            Some(path) => model.provider_for_import(path),
            None => model.provider_for_kind(&r.name),
        };
        if let Some(provider) = provider {
            return Some(provider_section(model, provider, &r.name));
        }
        if r.import.as_deref().is_some_and(|p| model.is_capi_import(p)) {
            if let Some(markdown) = by_name(model, &r.name, Lang::Go) {
                return Some(markdown);
            }
        }
        // A condition type from another package (`hyperv1.NodePoolAllMachinesReadyConditionType`).
        let flows = flows_for(model, &r.name);
        if !flows.is_empty() {
            let mut out = model.model.conditions.hover.clone().unwrap_or_default();
            out.push_str(&format!("\n\n{flows}"));
            return Some(out);
        }
    }
    let package = package_purity(db, ws, dir_of(file.path(db)).to_string());
    let purity = file_purity(db, ws, file);
    if let Some(function) = purity.functions.iter().find(|f| f.name_span.contains(offset)) {
        if package.is_adapt(&function.key) {
            let mut out = model.model.adapt.hover.clone().unwrap_or_default();
            let categories = package.impure.get(&function.key);
            let sanctioned = crate::rules::purity::sanctioned_lines(model, categories);
            let chain: Option<Vec<String>> = categories
                .map(|categories| {
                    categories
                        .values()
                        .filter(|c| !c.is_sanctioned())
                        .flat_map(|c| c.steps.iter().map(|s| s.related(model).message))
                        .collect::<Vec<String>>()
                })
                .filter(|steps| !steps.is_empty());
            match chain {
                Some(steps) => {
                    match &model.model.adapt.hover_impure {
                        Some(heading) => out.push_str(&format!("\n\n**{heading}**\n")),
                        None => out.push_str("\n\n"),
                    }
                    for step in steps {
                        out.push_str(&format!("- {step}\n"));
                    }
                }
                None => {
                    if let Some(pure) = &model.model.adapt.hover_pure {
                        out.push_str(&format!("\n\n{pure}"));
                    }
                }
            }
            if !sanctioned.is_empty() {
                if let Some(heading) = &model.model.adapt.sanctioned_heading {
                    out.push_str(&format!("\n\n**{heading}**\n"));
                }
                for line in sanctioned {
                    out.push_str(&format!("- {line}\n"));
                }
            }
            return Some(out);
        }
    }
    let condition_const = facts
        .consts
        .iter()
        .find(|c| c.name_span.contains(offset) || c.value_span.is_some_and(|v| v.contains(offset)));
    if let (Some(constant), Some(hover)) = (condition_const, &model.model.conditions.hover) {
        let is_condition = model
            .condition_type_const
            .as_ref()
            .is_some_and(|r| r.is_match(&constant.name))
            || model
                .condition_reason_const
                .as_ref()
                .is_some_and(|r| r.is_match(&constant.name))
            || model.is_condition_const_file(file.path(db));
        if is_condition {
            let flows = flows_for(model, &constant.name);
            if flows.is_empty() {
                return Some(hover.clone());
            }
            return Some(format!("{}\n\n{flows}", hover.trim_end()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::db::Database;
    use crate::ide::host::Engine;

    fn hover_at(rel: &str, text: &str, needle: &str) -> Option<String> {
        let dir = tempfile::tempdir().unwrap();
        let mut engine = Engine::new(Database::default(), dir.path().to_path_buf(), &[]);
        let file = engine.set_text(rel, Arc::from(text), None).unwrap();
        engine.sync_file_set();
        super::hover(&engine.db, engine.ws, file, text.find(needle).unwrap() + 1)
    }

    #[test]
    fn yaml_fields_explain_their_invariants() {
        let nodepool = "apiVersion: hypershift.openshift.io/v1beta1\nkind: NodePool\nspec:\n  platform:\n    type: AWS\n  management:\n    upgradeType: Replace\n    replace:\n      rollingUpdate:\n        maxUnavailable: 0\n";
        let max = hover_at("np.yaml", nodepool, "maxUnavailable").unwrap();
        assert!(max.contains("Never drain more nodes than MaxUnavailable"), "{max}");
        let platform = hover_at("np.yaml", nodepool, "type: AWS").unwrap();
        assert!(platform.contains("CAPI provider"), "{platform}");
        let upgrade = hover_at("np.yaml", nodepool, "upgradeType").unwrap();
        assert!(upgrade.contains("InPlace"), "{upgrade}");
        // `type` elsewhere is not the platform type.
        let condition = "status:\n  conditions:\n  - type: Ready\n";
        assert!(hover_at("c.yaml", condition, "type").is_none());
    }

    #[test]
    fn go_symbols_explain_provider_machine_and_adapt() {
        let go = "package nodepool\n\nimport capz \"sigs.k8s.io/cluster-api-provider-azure/api/v1beta1\"\n\nvar m = &capz.AzureMachine{}\n";
        let text = hover_at("hypershift-operator/controllers/nodepool/x.go", go, "AzureMachine{").unwrap();
        assert!(
            text.contains("single VM") && text.contains("AzureMachineTemplate"),
            "{text}"
        );
        let adapt = "package w\n\nimport (\n\t\"time\"\n\n\tcomponent \"github.com/openshift/hypershift/support/controlplane-component\"\n)\n\nfunc adaptThing(cpContext component.WorkloadContext, s *S) error {\n\t_ = time.Now()\n\treturn nil\n}\n";
        let text = hover_at(
            "control-plane-operator/controllers/hostedcontrolplane/v2/w/x.go",
            adapt,
            "adaptThing",
        )
        .unwrap();
        assert!(text.contains("pure") && text.contains("time.Now"), "{text}");
    }

    #[test]
    fn a_rules_call_site_explains_the_rule() {
        let adapt = "package w\n\nimport (\n\t\"time\"\n\n\tcomponent \"github.com/openshift/hypershift/support/controlplane-component\"\n)\n\nfunc adaptThing(cpContext component.WorkloadContext, s *S) error {\n\t_ = time.Now()\n\treturn nil\n}\n";
        let text = hover_at(
            "control-plane-operator/controllers/hostedcontrolplane/v2/w/x.go",
            adapt,
            "Now()",
        )
        .unwrap();
        assert!(text.contains("adapt-purity/clock"), "{text}");
    }

    #[test]
    fn adapt_hover_lists_every_impure_call() {
        let adapt = "package w\n\nimport (\n\t\"os\"\n\t\"time\"\n\n\tcomponent \"github.com/openshift/hypershift/support/controlplane-component\"\n)\n\nfunc adaptThing(cpContext component.WorkloadContext, s *S) error {\n\t_ = time.Now()\n\t_ = stamp()\n\treturn nil\n}\n\nfunc stamp() string {\n\treturn os.Getenv(\"X\")\n}\n";
        let text = hover_at(
            "control-plane-operator/controllers/hostedcontrolplane/v2/w/x.go",
            adapt,
            "adaptThing",
        )
        .unwrap();
        assert!(text.contains("time.Now") && text.contains("os.Getenv"), "{text}");
    }

    #[test]
    fn provider_machine_and_condition_type_show_the_flow() {
        let go = "package nodepool\n\nimport capz \"sigs.k8s.io/cluster-api-provider-azure/api/v1beta1\"\n\nvar m = &capz.AzureMachine{}\n";
        let text = hover_at("hypershift-operator/controllers/nodepool/x.go", go, "AzureMachine{").unwrap();
        for step in [
            "SetMirrorCondition",
            "SetAggregateCondition",
            "reconcileMachineDeploymentStatus",
        ] {
            assert!(text.contains(step), "{step} missing: {text}");
        }
        let go = "package nodepool\n\nimport hyperv1 \"github.com/openshift/hypershift/api/hypershift/v1beta1\"\n\nvar t = hyperv1.NodePoolAllMachinesReadyConditionType\n";
        let text = hover_at(
            "hypershift-operator/controllers/nodepool/y.go",
            go,
            "NodePoolAllMachinesReady",
        )
        .unwrap();
        assert!(text.contains("setAllMachinesReadyCondition"), "{text}");
        let text = hover_at("hypershift-operator/controllers/nodepool/y.go", go, "hyperv1").unwrap_or_default();
        assert!(!text.contains("setAllMachinesReadyCondition"), "{text}");
    }
}
