//! `capi-boundary/*`: platform-agnostic management-side code must read generic Cluster API
//! `Machine`s, never provider-specific Machines, and must not reach into the hosted cluster.
//!
//! - `provider-read`: a reference to a provider Machine kind (`capz.AzureMachine`,
//!   `AWSMachineList`, through any alias or a dot import) in a generic component. Template
//!   kinds and GVK symbols are how the NodePool controller owns templates: not findings.
//! - `provider-import`: a provider package imported by a generic file for something the model
//!   does not allow there (neither a template kind nor a GVK/scheme symbol).
//! - `hosted-cluster-reach`: a management-side component calls a constructor the model lists as
//!   building a client or REST config for another cluster's API server.

use std::collections::BTreeMap;

use super::{Finding, Fix, FixKind, GoContext};
use crate::facts::go::{Call, GoFacts, ImportKind, ObjectSite, PkgRef, ReadUse};
use crate::facts::Span;
use crate::model::{CallPattern, CompiledModel, Provider, Side};

pub const PROVIDER_READ: &str = "capi-boundary/provider-read";
pub const PROVIDER_IMPORT: &str = "capi-boundary/provider-import";
pub const HOSTED_CLUSTER_REACH: &str = "capi-boundary/hosted-cluster-reach";

pub static RULE: super::registry::Rule = super::registry::Rule {
    name: "capi-boundary",
    doc: "Generic management-side code reads generic Cluster API Machines, never provider Machines, and \
          builds no client for the hosted cluster. Needs the file's Go facts (imports, package references, \
          calls) and the model's components, providers, capi and hosted_cluster_reach sections.",
    codes: super::registry::Codes::Fixed(&[PROVIDER_READ, PROVIDER_IMPORT, HOSTED_CLUSTER_REACH]),
    concerns: |file| {
        file.component
            .is_some_and(|c| c.generic || (c.side == Some(Side::Management) && !c.may_reach_hosted_cluster))
    },
    check: super::registry::Check::Go(check),
};

/// The provider a package reference belongs to: by its import path, or for a dot-import
/// candidate by any dot-imported provider package that declares the kind.
fn provider_of<'m>(cx: &GoContext<'m>, r: &PkgRef) -> Option<(&'m Provider, String)> {
    match &r.import {
        Some(path) => cx.model.provider_for_import(path).map(|p| (p, path.clone())),
        None => cx.facts.dot_imports().find_map(|i| {
            let p = cx.model.provider_for_import(&i.path)?;
            p.machine_kinds
                .iter()
                .chain(&p.template_kinds)
                .chain(&p.allowed_symbols)
                .any(|k| *k == r.name)
                .then(|| (p, i.path.clone()))
        }),
    }
}

fn may_read(cx: &GoContext<'_>, provider: &Provider) -> bool {
    cx.component
        .is_some_and(|c| c.may_read_providers.iter().any(|p| p == "*" || *p == provider.id))
}

pub fn check(cx: &GoContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(component) = cx.component else {
        return out;
    };
    if component.generic {
        check_provider_reads(cx, &mut out);
        check_provider_kind_strings(cx, &mut out);
    }
    if component.side == Some(Side::Management) && !component.may_reach_hosted_cluster {
        check_hosted_cluster_reach(cx, &mut out);
    }
    out
}

/// A provider Machine kind named as a string, the way unstructured and metadata-only reads do it:
/// `GroupVersion.WithKind("AzureMachineList")`, `list.SetKind("AWSMachineList")`, or a literal
/// `schema.GroupVersionKind{Kind: "AzureMachine", ..}` handed to `SetGroupVersionKind` on an
/// `unstructured.UnstructuredList` or a `PartialObjectMetadataList`.
fn check_provider_kind_strings(cx: &GoContext<'_>, out: &mut Vec<Finding>) {
    let provider_for_kind = |kind: &str| {
        cx.model
            .model
            .providers
            .iter()
            .find(|p| p.machine_kinds.iter().any(|k| k == kind))
            .filter(|p| !may_read(cx, p))
    };
    let mut report = |kind: &str, span: crate::facts::Span, provider: &Provider| {
        let component = cx.component.map(|c| c.id.as_str()).unwrap_or("?");
        let controller = provider.platform_controller.as_deref().unwrap_or("its platform file");
        let written = format!("\"{kind}\"");
        let message = cx.model.message(
            PROVIDER_READ,
            &[
                ("symbol", &written),
                ("provider", &provider.name),
                ("component", component),
                ("machine", &cx.model.model.capi.machine_kind),
                ("platform_controller", controller),
            ],
        );
        out.push(Finding::new(PROVIDER_READ, span, message));
    };
    for call in &cx.facts.calls {
        if !call.callee.last().is_some_and(|n| n == "WithKind" || n == "SetKind") {
            continue;
        }
        for arg in &call.args {
            if let crate::facts::go::Arg::Str(kind) = arg {
                if let Some(provider) = provider_for_kind(kind) {
                    report(kind, call.span, provider);
                }
            }
        }
    }
    for literal in &cx.facts.literals {
        if literal.ty.as_ref().is_none_or(|t| t.name != "GroupVersionKind") {
            continue;
        }
        for field in &literal.fields {
            if field.key != "Kind" {
                continue;
            }
            if let Some(kind) = field.string_value.as_deref() {
                if let Some(provider) = provider_for_kind(kind) {
                    report(kind, field.value_span, provider);
                }
            }
        }
    }
}

fn check_provider_reads(cx: &GoContext<'_>, out: &mut Vec<Finding>) {
    let machine = &cx.model.model.capi.machine_kind;
    // Per provider import: the symbols used that the model does not explain.
    let mut unexplained: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &cx.facts.pkg_refs {
        let Some((provider, import)) = provider_of(cx, r) else {
            continue;
        };
        if may_read(cx, provider) {
            continue;
        }
        if provider.machine_kinds.contains(&r.name) {
            let alias = cx
                .facts
                .imports
                .iter()
                .find(|i| i.path == import)
                .map(|i| i.local_name.as_str())
                .unwrap_or(".");
            let written = if alias == "." {
                r.name.clone()
            } else {
                format!("{alias}.{}", r.name)
            };
            let component = cx.component.map(|c| c.id.as_str()).unwrap_or("?");
            let controller = provider.platform_controller.as_deref().unwrap_or("its platform file");
            let message = cx.model.message(
                PROVIDER_READ,
                &[
                    ("symbol", &written),
                    ("provider", &provider.name),
                    ("component", component),
                    ("machine", machine),
                    ("platform_controller", controller),
                ],
            );
            let mut finding = Finding::new(PROVIDER_READ, r.span, message);
            if let Some((template, sibling)) = template_slip(cx, provider, r) {
                let title = cx
                    .model
                    .model
                    .code_actions
                    .template_kind_title
                    .as_deref()
                    .unwrap_or("Did you mean `{Template}`?");
                finding.fixes.push(Fix {
                    title: crate::model::render(title, &[("Template", &template)]),
                    kind: FixKind::ReplaceSymbol {
                        from: r.name.clone(),
                        to: template,
                    },
                });
                finding.related.push(super::Related {
                    path: cx.path.to_string(),
                    span: sibling.span,
                    message: format!("the sibling code here uses a template kind, `{}`", sibling.name),
                });
            } else if let Some(bridge) = &cx.model.model.code_actions.annotation_bridge {
                if bridge_site(cx.model, cx.facts, r.span).is_some() {
                    let kind = r.name.trim_end_matches("List").to_string();
                    finding.fixes.push(Fix {
                        title: bridge.title.clone(),
                        kind: FixKind::AnnotationBridge {
                            provider: provider.id.clone(),
                            kind,
                        },
                    });
                }
            }
            out.push(finding);
        } else if !provider.template_kinds.contains(&r.name)
            && !provider.allowed_symbols.contains(&r.name)
            && !cx.model.model.capi.gvk_symbols.contains(&r.name)
        {
            let names = unexplained.entry(import).or_default();
            if !names.contains(&r.name) {
                names.push(r.name.clone());
            }
        }
    }
    for (import_path, names) in unexplained {
        let Some(import) = cx
            .facts
            .imports
            .iter()
            .find(|i| i.path == import_path && i.kind != ImportKind::Blank)
        else {
            continue;
        };
        let provider = cx
            .model
            .provider_for_import(&import_path)
            .map(|p| p.name.as_str())
            .unwrap_or("a provider");
        let symbols = names.join("`, `");
        let message = cx.model.message(
            PROVIDER_IMPORT,
            &[("provider", provider), ("import", &import_path), ("symbols", &symbols)],
        );
        out.push(Finding::new(PROVIDER_IMPORT, import.span, message));
    }
}

/// A Machine kind used where the sibling code of the same function uses template kinds
/// (`GVKForObject(&agentv1.AgentMachine{})` among `&capiaws.AWSMachineTemplate{}` cases): the
/// template kind it almost certainly meant, and one sibling.
fn template_slip<'f>(cx: &GoContext<'f>, provider: &Provider, r: &'f PkgRef) -> Option<(String, &'f PkgRef)> {
    let template = format!("{}Template", r.name);
    if !provider.template_kinds.contains(&template) {
        return None;
    }
    let function = cx.facts.named_function(r.function?);
    let mut siblings = cx
        .facts
        .pkg_refs
        .iter()
        .filter(|o| o.span != r.span && o.function.is_some_and(|f| cx.facts.named_function(f) == function));
    let mut templates = Vec::new();
    for o in siblings.by_ref() {
        let Some((p, _)) = provider_of(cx, o) else { continue };
        if p.machine_kinds.contains(&o.name) && !may_read(cx, p) {
            // Other provider Machines in the same function: this is a Machine reader, not a slip.
            return None;
        }
        if p.template_kinds.contains(&o.name) && o.name.ends_with("Template") {
            templates.push(o);
        }
    }
    templates.first().map(|sibling| (template, *sibling))
}

/// Where the annotation bridge applies: a provider object declared as a local variable, filled
/// by calls in statements that can go, read for one field only in ways a string annotation can
/// stand in for (nil checks, formatting), with a generic Machine in scope to carry the
/// annotation. Returns the site and the Machine variable.
pub fn bridge_site<'f>(model: &CompiledModel, facts: &'f GoFacts, span: Span) -> Option<(&'f ObjectSite, String)> {
    let site = facts.object_sites.iter().find(|s| s.type_span == span)?;
    let fills = site.fills.as_ref()?;
    let first = site.reads.first()?;
    let bridgeable = !fills.is_empty()
        && !site.other_uses
        && site
            .reads
            .iter()
            .all(|r| r.path == first.path && r.usage != ReadUse::Other);
    if !bridgeable {
        return None;
    }
    let machine = &model.model.capi.machine_kind;
    let var = site
        .typed_vars
        .iter()
        .rev()
        .find(|(_, t)| &t.name == machine && t.import.as_deref().is_some_and(|i| model.is_capi_import(i)))?;
    Some((site, var.0.clone()))
}

fn matching<'a>(patterns: &'a [CallPattern], call: &Call) -> Option<&'a CallPattern> {
    let import = call.import.as_ref()?;
    let function = call.callee.last()?;
    patterns
        .iter()
        .find(|p| CompiledModel::call_pattern_matches(p, import, function))
}

fn check_hosted_cluster_reach(cx: &GoContext<'_>, out: &mut Vec<Finding>) {
    let reach = &cx.model.model.hosted_cluster_reach;
    let component = cx.component.map(|c| c.id.as_str()).unwrap_or("?");
    for call in &cx.facts.calls {
        let direct = matching(&reach.constructors, call);
        let loader = matching(&reach.config_loaders, call);
        // A loaded REST config counts when the same function builds a client from it.
        let client = loader.and_then(|_| {
            let named = call.function.map(|f| cx.facts.named_function(f));
            cx.facts.calls.iter().find(|other| {
                other.function.map(|f| cx.facts.named_function(f)) == named
                    && matching(&reach.client_constructors, other).is_some()
            })
        });
        let pattern = match (direct, loader, client) {
            (Some(p), _, _) => p,
            (None, Some(p), Some(_)) => p,
            _ => continue,
        };
        let callee = call.callee.join(".");
        let note = pattern.note.as_deref().unwrap_or("");
        let message = cx.model.message(
            HOSTED_CLUSTER_REACH,
            &[("call", &callee), ("component", component), ("note", note)],
        );
        let mut finding = Finding::new(HOSTED_CLUSTER_REACH, call.callee_span, message);
        if let Some(client) = client {
            finding.related.push(super::Related {
                path: cx.path.to_string(),
                span: client.callee_span,
                message: format!("`{}` builds a client from it", client.callee.join(".")),
            });
        }
        out.push(finding);
    }
}
