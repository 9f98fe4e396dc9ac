//! Workspace symbols from the domain model: lifecycle states, invariants, providers (and their
//! Machine kinds), platforms, components, flows and rules, each pointing at its model entry.

use crate::ide::definition::ModelEntry;
use crate::model::CompiledModel;

/// What a model symbol is (mapped to an LSP `SymbolKind` by the protocol layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelSymbolKind {
    State,
    Invariant,
    Provider,
    Platform,
    Component,
    Flow,
    Rule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSymbol {
    pub name: String,
    /// Shown beside the name (`lifecycle state`, `provider azure`).
    pub container: String,
    pub kind: ModelSymbolKind,
    pub entry: ModelEntry,
}

/// Every model symbol whose name contains `query` (case-insensitive; all for an empty query).
pub fn symbols(model: &CompiledModel, query: &str) -> Vec<ModelSymbol> {
    let m = &model.model;
    let mut out = Vec::new();
    let mut add = |name: &str, container: String, kind: ModelSymbolKind, entry: ModelEntry| {
        out.push(ModelSymbol {
            name: name.to_string(),
            container,
            kind,
            entry,
        })
    };
    for s in &m.lifecycle.states {
        add(
            &s.name,
            "lifecycle state".into(),
            ModelSymbolKind::State,
            ModelEntry::State(s.name.clone()),
        );
    }
    for i in &m.lifecycle.invariants {
        add(
            &i.id,
            "lifecycle invariant".into(),
            ModelSymbolKind::Invariant,
            ModelEntry::Invariant(i.id.clone()),
        );
    }
    for p in &m.providers {
        add(
            &p.name,
            format!("provider {}", p.id),
            ModelSymbolKind::Provider,
            ModelEntry::Provider(p.id.clone()),
        );
        for kind in &p.machine_kinds {
            add(
                kind,
                format!("provider {} Machine kind", p.id),
                ModelSymbolKind::Provider,
                ModelEntry::Provider(p.id.clone()),
            );
        }
    }
    for p in &m.platforms.platforms {
        add(
            p,
            "platform".into(),
            ModelSymbolKind::Platform,
            ModelEntry::Platform(p.clone()),
        );
    }
    for c in &m.components {
        add(
            &c.id,
            "component".into(),
            ModelSymbolKind::Component,
            ModelEntry::Component(c.id.clone()),
        );
    }
    for f in &m.flows {
        add(
            &f.title,
            "flow".into(),
            ModelSymbolKind::Flow,
            ModelEntry::Flow(f.id.clone()),
        );
    }
    for r in &m.rules {
        add(
            &r.code,
            r.title.clone(),
            ModelSymbolKind::Rule,
            ModelEntry::Rule(r.code.clone()),
        );
    }
    let query = query.to_lowercase();
    out.retain(|s| s.name.to_lowercase().contains(&query));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_providers_and_components_are_symbols() {
        let model = CompiledModel::compile(
            crate::model::load_default_model(),
            vec![crate::model::DEFAULT_MODEL_PATH.into()],
        )
        .unwrap();
        let scaling = symbols(&model, "scal");
        assert!(scaling
            .iter()
            .any(|s| s.kind == ModelSymbolKind::State && s.entry == ModelEntry::State("Scaling".into())));
        assert!(symbols(&model, "AzureMachine")
            .iter()
            .any(|s| s.entry == ModelEntry::Provider("azure".into())));
        assert!(symbols(&model, "nodepool-generic")
            .iter()
            .any(|s| s.kind == ModelSymbolKind::Component));
        assert!(symbols(&model, "").len() > 40);
        assert!(symbols(&model, "no such thing").is_empty());
    }
}
