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

use std::collections::{BTreeMap, HashMap};

use super::{Finding, Fix, FixKind, GoContext, Related};
use crate::db::{SourceFile, Workspace};
use crate::facts::go::{object_site_at, Call, GoFacts, ImportKind, ObjectSite, PkgRef, ReadUse};
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
        file.component.is_some_and(|c| {
            c.generic
                || (matches!(c.side, Some(Side::Management) | Some(Side::Platform)) && !c.may_reach_hosted_cluster)
        })
    },
    check: super::registry::Check::Go(check_file),
};

/// The file's own findings, then those that need other functions and packages.
fn check_file(cx: &GoContext<'_>) -> Vec<Finding> {
    let mut out = check(cx);
    out.extend(check_across(cx.db, cx.ws, cx.file, cx));
    out
}

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

/// The `provider-read` message: the component's advice (or the model's default) rendered into
/// the rule's message.
fn provider_read_message(cx: &GoContext<'_>, symbol: &str, provider: &str, controller: &str) -> String {
    let component = cx.component.map(|c| c.id.as_str()).unwrap_or("?");
    let machine = cx.model.model.capi.machine_kind.as_str();
    let args = [
        ("symbol", symbol),
        ("provider", provider),
        ("component", component),
        ("machine", machine),
        ("platform_controller", controller),
    ];
    let advice = cx
        .component
        .and_then(|c| c.provider_read_advice.as_deref())
        .or(cx.model.model.capi.provider_read_advice.as_deref())
        .map(|a| crate::model::render(a, &args))
        .unwrap_or_default();
    let mut all = args.to_vec();
    all.push(("advice", &advice));
    cx.model.message(PROVIDER_READ, &all)
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
    if reach_checked(component) {
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
        let controller = provider.platform_controller.as_deref().unwrap_or("its platform file");
        let written = format!("\"{kind}\"");
        let message = provider_read_message(cx, &written, &provider.name, controller);
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
            let controller = provider.platform_controller.as_deref().unwrap_or("its platform file");
            let message = provider_read_message(cx, &written, &provider.name, controller);
            let mut finding = Finding::new(PROVIDER_READ, r.span, message);
            if let Some((template, sibling)) = template_slip(cx, provider, r) {
                // The fix is offered when the model titles it.
                if let Some(title) = &cx.model.model.code_actions.template_kind_title {
                    finding.fixes.push(Fix {
                        title: crate::model::render(title, &[("Template", &template)]),
                        kind: FixKind::ReplaceSymbol {
                            from: r.name.clone(),
                            to: template,
                        },
                    });
                }
                finding.related.push(super::Related {
                    path: cx.path.to_string(),
                    span: sibling.span,
                    message: format!("the sibling code here uses a template kind, `{}`", sibling.name),
                });
            } else if let Some(bridge) = &cx.model.model.code_actions.annotation_bridge {
                // A document open in the editor holds its tree (memoized, reparsed incrementally
                // on each keystroke): the site is found in that tree, never by a parse from
                // scratch per keystroke. Any other file (a cold check) is parsed again here, not
                // memoized: only a file with this finding needs its tree.
                let text = cx.file.text(cx.db);
                let fresh;
                let tree = if cx.file.prior_tree(cx.db).is_some() {
                    crate::db::parse_file(cx.db, cx.file).tree.as_ref()
                } else {
                    fresh = crate::syntax::parse(crate::syntax::Lang::Go, text, None);
                    fresh.tree.as_ref()
                };
                let site = tree.and_then(|tree| bridge_site(cx.model, tree, text, cx.facts, r.span));
                if site.is_some() {
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
/// The site is found on demand in the file's tree (see [`object_site_at`]).
pub fn bridge_site(
    model: &CompiledModel,
    tree: &tree_sitter::Tree,
    text: &str,
    facts: &GoFacts,
    span: Span,
) -> Option<(ObjectSite, String)> {
    let site = object_site_at(tree, text, facts, span)?;
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
    let machine_var = var.0.clone();
    Some((site, machine_var))
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
                message: client_from_config(cx.model, &client.callee.join(".")),
            });
        }
        out.push(finding);
    }
}

// ---------------------------------------------------------------------------------------------
// Across functions and packages: which functions read provider Machines, build a client for the
// hosted cluster, or hand their caller a REST config loaded from a kubeconfig. One summary per
// file and one fold per package (tracked queries below; Go forbids import cycles, so package
// summaries form a DAG).
// ---------------------------------------------------------------------------------------------

/// A call into another package: `alias.Func(..)`, or `x.Method(..)` on a variable whose type is
/// an imported named type (key `Type.Method`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ForeignCall {
    pub import: String,
    /// The callee's key in its package (`Func` or `Type.Method`).
    pub key: String,
    /// As written (`azureutil.ListMachines`, `lister.Machines`).
    pub shown: String,
    pub span: Span,
}

/// A direct operation: what it is, as written, and where.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Op {
    pub what: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FnBoundary {
    pub key: String,
    pub display: String,
    /// A provider Machine kind named in the body or the results: (provider id, op).
    pub provider: Option<(String, Op)>,
    /// A constructor that alone builds a client for another cluster.
    pub constructor: Option<(Op, Option<String>)>,
    /// A kubeconfig loaded from data into a REST config.
    pub loader: Option<(Op, Option<String>)>,
    /// A client built from a REST config.
    pub client: Option<Op>,
    /// The function's results include a REST config.
    pub returns_config: bool,
    pub calls: Vec<(String, Span)>,
    pub foreign: Vec<ForeignCall>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FileBoundary {
    pub functions: Vec<FnBoundary>,
}

/// Why a function reads provider Machines or reaches the hosted cluster: the steps from it down
/// to the operation, and the operation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Trace {
    pub what: String,
    /// The pattern's note (hosted-cluster reach), for messages.
    pub note: Option<String>,
    /// Provider id (provider reads).
    pub provider: Option<String>,
    pub via: Vec<String>,
    pub steps: Vec<Related>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageBoundary {
    /// Functions that read provider Machines (directly or through calls).
    pub provider: HashMap<String, Trace>,
    /// Functions that build a client for another cluster.
    pub reach: HashMap<String, Trace>,
    /// Functions that return a REST config loaded from a kubeconfig.
    pub config: HashMap<String, Trace>,
}

fn key_of(facts: &GoFacts, index: u32) -> (String, String) {
    let f = &facts.functions[index as usize];
    match (&f.name, &f.receiver) {
        (Some(name), Some((_, ty))) => (format!("{ty}.{name}"), format!("({ty}).{name}")),
        (Some(name), None) => (name.clone(), name.clone()),
        (None, _) => (format!("func@{}", f.span.start), "function literal".to_string()),
    }
}

fn is_std(import: &str) -> bool {
    !import.split('/').next().unwrap_or("").contains('.')
}

/// The provider whose Machine kind `ty` is (through a type alias of this package).
fn machine_provider<'m>(
    model: &'m CompiledModel,
    ty: &crate::facts::go::TypeRef,
    aliases: &[crate::facts::go::flow::TypeAlias],
) -> Option<(&'m Provider, String)> {
    let (resolved, shown) = match &ty.import {
        Some(_) => (ty.clone(), ty.name.clone()),
        None => {
            let alias = aliases.iter().find(|a| a.name == ty.name)?;
            (alias.target.clone(), alias.written.clone())
        }
    };
    let provider = model.provider_for_import(resolved.import.as_deref()?)?;
    provider
        .machine_kinds
        .contains(&resolved.name)
        .then_some((provider, shown))
}

/// Summarizes one file's functions for the boundary: what each does directly, and whom it calls.
pub fn summarize_file(
    facts: &GoFacts,
    model: &CompiledModel,
    aliases: &[crate::facts::go::flow::TypeAlias],
) -> FileBoundary {
    let reach = &model.model.hosted_cluster_reach;
    let mut by_index: BTreeMap<u32, FnBoundary> = BTreeMap::new();
    macro_rules! entry {
        ($i:expr) => {{
            let named = facts.named_function($i);
            by_index.entry(named).or_insert_with(|| {
                let (key, display) = key_of(facts, named);
                FnBoundary {
                    key,
                    display,
                    provider: None,
                    constructor: None,
                    loader: None,
                    client: None,
                    returns_config: false,
                    calls: Vec::new(),
                    foreign: Vec::new(),
                }
            })
        }};
    }
    for r in &facts.pkg_refs {
        let (Some(f), Some(import)) = (r.function, &r.import) else {
            continue;
        };
        let Some(provider) = model.provider_for_import(import) else {
            continue;
        };
        if provider.machine_kinds.contains(&r.name) {
            let alias = facts
                .imports
                .iter()
                .find(|i| &i.path == import)
                .map(|i| i.local_name.clone())
                .unwrap_or_default();
            let e = entry!(f);
            if e.provider.is_none() {
                e.provider = Some((
                    provider.id.clone(),
                    Op {
                        what: format!("{alias}.{}", r.name),
                        span: r.span,
                    },
                ));
            }
        }
    }
    for u in &facts.flow.type_uses {
        let Some(f) = u.function else { continue };
        let ty = crate::facts::go::TypeRef {
            import: None,
            name: u.name.clone(),
        };
        if let Some((provider, kind)) = machine_provider(model, &ty, aliases) {
            let e = entry!(f);
            if e.provider.is_none() {
                e.provider = Some((
                    provider.id.clone(),
                    Op {
                        what: format!("{} (= {kind})", u.name),
                        span: u.span,
                    },
                ));
            }
        }
    }
    for (f, results) in &facts.flow.results {
        let returns_config = results.iter().any(|t| {
            reach.config_types.iter().any(|c| {
                c.rsplit_once('.')
                    .is_some_and(|(p, n)| t.import.as_deref() == Some(p) && t.name == n)
            })
        });
        let provider = results.iter().find_map(|t| machine_provider(model, t, aliases));
        let span = facts.functions[*f as usize].name_span;
        let e = entry!(*f);
        e.returns_config |= returns_config;
        if let (None, Some((p, kind))) = (&e.provider, provider) {
            e.provider = Some((p.id.clone(), Op { what: kind, span }));
        }
    }
    for call in &facts.calls {
        let Some(f) = call.function else { continue };
        let shown = call.callee.join(".");
        let op = || Op {
            what: shown.clone(),
            span: call.callee_span,
        };
        if let Some(p) = matching(&reach.constructors, call) {
            let e = entry!(f);
            e.constructor.get_or_insert((op(), p.note.clone()));
            continue;
        }
        if let Some(p) = matching(&reach.config_loaders, call) {
            let e = entry!(f);
            e.loader.get_or_insert((op(), p.note.clone()));
            continue;
        }
        if matching(&reach.client_constructors, call).is_some() {
            entry!(f).client.get_or_insert(op());
            continue;
        }
        match (&call.import, call.callee.as_slice()) {
            (Some(import), [_, function]) if !is_std(import) => {
                entry!(f).foreign.push(ForeignCall {
                    import: import.clone(),
                    key: function.clone(),
                    shown,
                    span: call.callee_span,
                });
            }
            (Some(_), _) => {}
            (None, [name]) if !facts.is_local(Some(f), name) => {
                entry!(f).calls.push((name.clone(), call.callee_span));
            }
            (None, [var, method]) => {
                let named = &facts.functions[facts.named_function(f) as usize];
                if let Some((_, ty)) = named
                    .receiver
                    .as_ref()
                    .filter(|(v, _)| v.as_deref() == Some(var.as_str()))
                {
                    let key = format!("{ty}.{method}");
                    entry!(f).calls.push((key, call.callee_span));
                } else if let Some(ty) = facts.flow.var_type(facts, Some(f), var) {
                    match &ty.import {
                        Some(import) if !is_std(import) => {
                            let key = format!("{}.{method}", ty.name);
                            entry!(f).foreign.push(ForeignCall {
                                import: import.clone(),
                                key,
                                shown,
                                span: call.callee_span,
                            });
                        }
                        None => {
                            let key = format!("{}.{method}", ty.name);
                            entry!(f).calls.push((key, call.callee_span));
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    FileBoundary {
        functions: by_index.into_values().collect(),
    }
}

/// How the steps of a chain are worded, all from the model: a function calling the next
/// (`adapt.chain_call_step`: `{function}`, `{callee}`), and the operation that ends a chain
/// (`adapt.chain_operation_step`: `{function}`, `{description}`, `{what}`) with the rules'
/// descriptions (`step_provider` of `provider-read`; `step_loads_kubeconfig`,
/// `step_builds_client`, `step_builds_client_from_config` of `hosted-cluster-reach`). Without
/// a template or description, a step shows the callee or the call alone.
#[derive(Debug, Clone, Default)]
pub struct StepWords {
    call: Option<String>,
    operation: Option<String>,
    provider: Option<String>,
    loads: Option<String>,
    builds: Option<String>,
    builds_from: Option<String>,
}

impl StepWords {
    pub fn of(model: &CompiledModel) -> Self {
        let adapt = &model.model.adapt;
        let param = |code: &str, key: &str| model.rule_param(code, key).first().cloned();
        StepWords {
            call: adapt.chain_call_step.clone(),
            operation: adapt.chain_operation_step.clone(),
            provider: param(PROVIDER_READ, "step_provider"),
            loads: param(HOSTED_CLUSTER_REACH, "step_loads_kubeconfig"),
            builds: param(HOSTED_CLUSTER_REACH, "step_builds_client"),
            builds_from: param(HOSTED_CLUSTER_REACH, "step_builds_client_from_config"),
        }
    }

    fn operation(&self, description: &Option<String>, function: &str, what: &str) -> String {
        match (&self.operation, description) {
            (Some(t), Some(d)) => {
                crate::model::render(t, &[("function", function), ("description", d), ("what", what)])
            }
            _ => what.to_string(),
        }
    }
}

/// The related location at the call that builds a client from a config loaded elsewhere
/// (`say_client_from_config` of `hosted-cluster-reach`: `{call}`; without it, the call).
fn client_from_config(model: &CompiledModel, call: &str) -> String {
    model
        .rule_say(HOSTED_CLUSTER_REACH, "say_client_from_config", &[("call", call)])
        .unwrap_or_else(|| call.to_string())
}

fn step(path: &str, span: Span, message: String) -> Related {
    Related {
        path: path.to_string(),
        span,
        message,
    }
}

fn through(path: &str, caller: &FnBoundary, site: Span, callee: &str, inner: &Trace, words: &StepWords) -> Trace {
    let message = match &words.call {
        Some(t) => crate::model::render(t, &[("function", &caller.display), ("callee", callee)]),
        None => callee.to_string(),
    };
    let mut steps = vec![step(path, site, message)];
    steps.extend(inner.steps.iter().cloned());
    let mut via = vec![callee.to_string()];
    via.extend(inner.via.iter().cloned());
    Trace {
        what: inner.what.clone(),
        note: inner.note.clone(),
        provider: inner.provider.clone(),
        via,
        steps,
    }
}

/// What the fold needs from another package: its summary by import path.
pub type BoundaryLookup<'a> = dyn FnMut(&str) -> Option<std::sync::Arc<PackageBoundary>> + 'a;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum What {
    Provider,
    Reach,
    Config,
}

struct BoundaryFold<'a, 'b, 'c> {
    by_key: HashMap<&'a str, (&'a str, &'a FnBoundary)>,
    deps: &'b mut BoundaryLookup<'c>,
    words: &'a StepWords,
    memo: HashMap<(What, String), Option<Trace>>,
    on_stack: std::collections::HashSet<(What, String)>,
}

impl BoundaryFold<'_, '_, '_> {
    fn foreign(&mut self, what: What, call: &ForeignCall) -> Option<Trace> {
        let package = (self.deps)(&call.import)?;
        let map = match what {
            What::Provider => &package.provider,
            What::Reach => &package.reach,
            What::Config => &package.config,
        };
        map.get(&call.key).cloned()
    }

    /// The first callee (same package or foreign) of `f` for which `what` holds.
    fn via_callee(&mut self, what: What, path: &str, f: &FnBoundary) -> Option<Trace> {
        for (callee, site) in &f.calls {
            if let Some(inner) = self.resolve(what, callee) {
                let shown = self
                    .by_key
                    .get(callee.as_str())
                    .map(|(_, s)| s.display.clone())
                    .unwrap_or_else(|| callee.clone());
                return Some(through(path, f, *site, &shown, &inner, self.words));
            }
        }
        for call in &f.foreign {
            if let Some(inner) = self.foreign(what, call) {
                return Some(through(path, f, call.span, &call.shown, &inner, self.words));
            }
        }
        None
    }

    fn resolve(&mut self, what: What, key: &str) -> Option<Trace> {
        let memo_key = (what, key.to_string());
        if let Some(done) = self.memo.get(&memo_key) {
            return done.clone();
        }
        let &(path, f) = self.by_key.get(key)?;
        if !self.on_stack.insert(memo_key.clone()) {
            return None;
        }
        let direct = |op: &Op, message: String, note: Option<String>, provider: Option<String>| Trace {
            what: op.what.clone(),
            note,
            provider,
            via: Vec::new(),
            steps: vec![step(path, op.span, message)],
        };
        let found = match what {
            What::Provider => match &f.provider {
                Some((provider, op)) => Some(direct(
                    op,
                    self.words.operation(&self.words.provider, &f.display, &op.what),
                    None,
                    Some(provider.clone()),
                )),
                None => self.via_callee(What::Provider, path, f),
            },
            What::Config => {
                if !f.returns_config {
                    None
                } else if let Some((op, note)) = &f.loader {
                    Some(direct(
                        op,
                        self.words.operation(&self.words.loads, &f.display, &op.what),
                        note.clone(),
                        None,
                    ))
                } else {
                    self.via_callee(What::Config, path, f)
                }
            }
            What::Reach => if let Some((op, note)) = &f.constructor {
                Some(direct(
                    op,
                    self.words.operation(&self.words.builds, &f.display, &op.what),
                    note.clone(),
                    None,
                ))
            } else if let Some(client) = &f.client {
                let source = match &f.loader {
                    Some((op, note)) => Some(direct(
                        op,
                        self.words.operation(&self.words.loads, &f.display, &op.what),
                        note.clone(),
                        None,
                    )),
                    None => self.via_callee(What::Config, path, f),
                };
                source.map(|mut t| {
                    t.steps.push(step(
                        path,
                        client.span,
                        self.words.operation(&self.words.builds_from, &f.display, &client.what),
                    ));
                    t
                })
            } else {
                None
            }
            .or_else(|| self.via_callee(What::Reach, path, f)),
        };
        self.on_stack.remove(&memo_key);
        self.memo.insert(memo_key, found.clone());
        found
    }
}

/// Folds a package's file summaries; calls into other packages read their summaries.
/// `words` words the chain's steps (see [`StepWords`]).
pub fn fold_package(
    files: &[(String, std::sync::Arc<FileBoundary>)],
    deps: &mut BoundaryLookup<'_>,
    words: &StepWords,
) -> PackageBoundary {
    let mut by_key: HashMap<&str, (&str, &FnBoundary)> = HashMap::new();
    for (path, file) in files {
        for f in &file.functions {
            by_key.entry(f.key.as_str()).or_insert((path.as_str(), f));
        }
    }
    let mut keys: Vec<&str> = by_key.keys().copied().collect();
    keys.sort_unstable();
    let mut fold = BoundaryFold {
        by_key,
        deps,
        words,
        memo: HashMap::new(),
        on_stack: Default::default(),
    };
    let mut out = PackageBoundary::default();
    for key in keys {
        for (what, map) in [
            (What::Provider, &mut out.provider),
            (What::Reach, &mut out.reach),
            (What::Config, &mut out.config),
        ] {
            if let Some(trace) = fold.resolve(what, key) {
                map.insert(key.to_string(), trace);
            }
        }
    }
    out
}

/// Type aliases declared anywhere in the package in `dir` (test files left out), with the file
/// that declares each.
#[salsa::tracked(returns(ref))]
pub fn package_type_aliases(
    db: &dyn salsa::Database,
    ws: Workspace,
    dir: String,
) -> Vec<(String, crate::facts::go::flow::TypeAlias)> {
    let mut out = Vec::new();
    for file in crate::db::package_files(db, ws, &dir) {
        let path = file.path(db);
        if path.ends_with("_test.go") {
            continue;
        }
        for alias in &crate::db::go_facts(db, file).flow.type_aliases {
            out.push((path.clone(), alias.clone()));
        }
    }
    out.sort_by(|a, b| (&a.0, a.1.span.start).cmp(&(&b.0, b.1.span.start)));
    out
}

/// A file's boundary summary.
#[salsa::tracked(returns(ref))]
pub fn file_boundary(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> std::sync::Arc<FileBoundary> {
    let dir = crate::db::dir_of(file.path(db)).to_string();
    let aliases: Vec<_> = package_type_aliases(db, ws, dir)
        .iter()
        .map(|(_, a)| a.clone())
        .collect();
    std::sync::Arc::new(summarize_file(crate::db::go_facts(db, file), ws.model(db), &aliases))
}

/// Can this file, by its text alone, contribute to a boundary summary? A summary's facts come
/// from a provider Machine kind named through a provider's import (a type alias of the package
/// is declared in a file that does so), or from a reach constructor or loader, which are
/// matched only as calls qualified by their package's import. So the file must import such a
/// package and carry one of its words: a Machine kind, or one of the pattern's functions (any
/// word for `*`). Both are needed; a word alone (`RESTConfig` in `GetRESTConfig`, a kind in a
/// comment of the API types) is not enough.
fn file_relevant(model: &CompiledModel, text: &str, imports: &[&str]) -> bool {
    // The providers whose API this file imports, then their kinds in its text.
    let names_machine = imports
        .iter()
        .filter_map(|i| model.provider_for_import(i))
        .any(|p| p.machine_kinds.iter().any(|k| text.contains(k.as_str())));
    let reach = &model.model.hosted_cluster_reach;
    names_machine
        || reach.constructors.iter().chain(&reach.config_loaders).any(|pattern| {
            imports
                .iter()
                .any(|i| CompiledModel::pattern_package_matches(pattern, i))
                && pattern
                    .functions
                    .iter()
                    .any(|f| f == "*" || (!f.is_empty() && text.contains(f.as_str())))
        })
}

/// The import paths of a Go file, read from its text without parsing: the quoted strings before
/// the first top-level declaration (a string in a comment there resolves to nothing).
fn scan_imports(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in text.lines() {
        if ["func ", "type ", "var ", "const "].iter().any(|k| line.starts_with(k)) {
            break;
        }
        let Some(open) = line.find('"') else { continue };
        if let Some(len) = line[open + 1..].find('"') {
            out.push(&line[open + 1..open + 1 + len]);
        }
    }
    out
}

/// Can the package in `dir` contribute to a boundary summary: can one of its files (see
/// [`file_relevant`]), or does it import a workspace package that can? Reads texts only, so the
/// packages that cannot are never parsed for the boundary.
#[salsa::tracked(cycle_result = package_relevant_cycle)]
pub fn package_relevant(db: &dyn salsa::Database, ws: Workspace, dir: String) -> bool {
    let model = ws.model(db);
    // Each file's imports, read once: for its own relevance, then to follow them.
    let files: Vec<(&str, Vec<&str>)> = crate::db::package_files(db, ws, &dir)
        .into_iter()
        .filter(|f| !f.path(db).ends_with("_test.go"))
        .map(|f| {
            let text = f.text(db).as_ref();
            (text, scan_imports(text))
        })
        .collect();
    if files.iter().any(|(text, imports)| file_relevant(model, text, imports)) {
        return true;
    }
    let index = crate::db::module_index(db, ws);
    let mut seen = std::collections::HashSet::new();
    for (_, imports) in &files {
        for &import in imports {
            if !seen.insert(import.to_string()) {
                continue;
            }
            if let Some(dep) = index.resolve(&dir, import) {
                if dep != dir && *package_relevant(db, ws, dep) {
                    return true;
                }
            }
        }
    }
    false
}

fn package_relevant_cycle(_db: &dyn salsa::Database, _id: salsa::Id, _ws: Workspace, _dir: String) -> bool {
    false
}

/// The package's boundary summary, following calls into other packages of the workspace
/// (empty, without parsing, for a package that cannot contribute: see [`package_relevant`]).
#[salsa::tracked(returns(ref), cycle_result = package_boundary_cycle)]
pub fn package_boundary(db: &dyn salsa::Database, ws: Workspace, dir: String) -> std::sync::Arc<PackageBoundary> {
    if !*package_relevant(db, ws, dir.clone()) {
        return std::sync::Arc::default();
    }
    let files: Vec<(String, std::sync::Arc<FileBoundary>)> = crate::db::package_files(db, ws, &dir)
        .into_iter()
        .filter(|f| !f.path(db).ends_with("_test.go"))
        .map(|f| (f.path(db).clone(), file_boundary(db, ws, f).clone()))
        .collect();
    let index = crate::db::module_index(db, ws);
    let mut deps: HashMap<String, Option<std::sync::Arc<PackageBoundary>>> = HashMap::new();
    let mut lookup = |import: &str| -> Option<std::sync::Arc<PackageBoundary>> {
        deps.entry(import.to_string())
            .or_insert_with(|| {
                index
                    .resolve(&dir, import)
                    .map(|dep| package_boundary(db, ws, dep).clone())
            })
            .clone()
    };
    let words = StepWords::of(ws.model(db));
    std::sync::Arc::new(fold_package(&files, &mut lookup, &words))
}

fn package_boundary_cycle(
    _db: &dyn salsa::Database,
    _id: salsa::Id,
    _ws: Workspace,
    _dir: String,
) -> std::sync::Arc<PackageBoundary> {
    std::sync::Arc::default()
}

/// The findings that need other files: provider Machines through a type alias declared in
/// another file of the package, through CAPI's `external.Get` on a Machine's infrastructure
/// reference, or through a helper in another package; hosted-cluster clients built from a
/// config loaded in another function or package, or by a helper in another package.
pub fn check_across(db: &dyn salsa::Database, ws: Workspace, file: SourceFile, cx: &GoContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(component) = cx.component else {
        return out;
    };
    let generic = component.generic;
    let reach = reach_checked(component);
    if !generic && !reach {
        return out;
    }
    let path = file.path(db);
    let dir = crate::db::dir_of(path).to_string();
    if generic {
        check_alias_uses(db, ws, &dir, cx, &mut out);
        check_ref_readers(cx, &mut out);
    }
    let summary = file_boundary(db, ws, file);
    let index = crate::db::module_index(db, ws);
    let mut cache: HashMap<String, Option<(String, std::sync::Arc<PackageBoundary>)>> = HashMap::new();
    let mut dep = |import: &str| {
        cache
            .entry(import.to_string())
            .or_insert_with(|| {
                let d = index.resolve(&dir, import)?;
                Some((d.clone(), package_boundary(db, ws, d).clone()))
            })
            .clone()
    };
    let own = package_boundary(db, ws, dir.clone()).clone();
    for f in &summary.functions {
        if generic {
            for call in &f.foreign {
                let Some((_, package)) = dep(&call.import) else {
                    continue;
                };
                let Some(trace) = package.provider.get(&call.key) else {
                    continue;
                };
                let Some(provider) = trace.provider.as_deref().and_then(|id| cx.model.provider(id)) else {
                    continue;
                };
                if may_read(cx, provider) {
                    continue;
                }
                let symbol = format!("{} → {}", call.shown, chain_text(trace));
                let controller = provider.platform_controller.as_deref().unwrap_or("its platform file");
                let message = provider_read_message(cx, &symbol, &provider.name, controller);
                let mut finding = Finding::new(PROVIDER_READ, call.span, message);
                finding.related = trace.steps.clone();
                out.push(finding);
            }
        }
        if reach {
            // A config loaded elsewhere (this package or another), a client built here.
            if let (Some(client), None, None) = (&f.client, &f.loader, &f.constructor) {
                let same = f
                    .calls
                    .iter()
                    .find_map(|(callee, span)| own.config.get(callee).map(|t| (callee.clone(), *span, t.clone())));
                let foreign = || {
                    f.foreign.iter().find_map(|c| {
                        let (_, package) = dep(&c.import)?;
                        package.config.get(&c.key).map(|t| (c.shown.clone(), c.span, t.clone()))
                    })
                };
                if let Some((shown, span, trace)) = same.or_else(foreign) {
                    let mut finding = reach_finding(cx, span, &format!("{shown} → {}", chain_text(&trace)), &trace);
                    finding
                        .related
                        .push(step(path, client.span, client_from_config(cx.model, &client.what)));
                    out.push(finding);
                }
            }
            // A helper in another package that builds the client.
            for call in &f.foreign {
                let Some((callee_dir, package)) = dep(&call.import) else {
                    continue;
                };
                let Some(trace) = package.reach.get(&call.key) else {
                    continue;
                };
                // A management package of its own reports the helper there.
                let reported_there = cx
                    .model
                    .component_for(&format!("{callee_dir}/x.go"))
                    .is_some_and(reach_checked);
                if reported_there {
                    continue;
                }
                let shown = format!("{} → {}", call.shown, chain_text(trace));
                out.push(reach_finding(cx, call.span, &shown, trace));
            }
        }
    }
    out
}

/// Is this component checked for hosted-cluster reach (management side, platform files too)?
fn reach_checked(component: &crate::model::Component) -> bool {
    matches!(component.side, Some(Side::Management) | Some(Side::Platform)) && !component.may_reach_hosted_cluster
}

fn chain_text(trace: &Trace) -> String {
    let mut parts = trace.via.clone();
    parts.push(trace.what.clone());
    parts.join(" → ")
}

fn reach_finding(cx: &GoContext<'_>, span: Span, call: &str, trace: &Trace) -> Finding {
    let component = cx.component.map(|c| c.id.as_str()).unwrap_or("?");
    let note = trace.note.as_deref().unwrap_or("");
    let message = cx.model.message(
        HOSTED_CLUSTER_REACH,
        &[("call", call), ("component", component), ("note", note)],
    );
    let mut finding = Finding::new(HOSTED_CLUSTER_REACH, span, message);
    finding.related = trace.steps.clone();
    finding
}

/// Uses of a type alias that another file of the package declares for a provider Machine kind
/// (`type AgentMachine = agentv1.AgentMachine` in a platform file).
fn check_alias_uses(db: &dyn salsa::Database, ws: Workspace, dir: &str, cx: &GoContext<'_>, out: &mut Vec<Finding>) {
    let aliases = package_type_aliases(db, ws, dir.to_string());
    if aliases.is_empty() {
        return;
    }
    let own_declared: Vec<&str> = cx.facts.flow.type_aliases.iter().map(|a| a.name.as_str()).collect();
    for u in &cx.facts.flow.type_uses {
        if own_declared.contains(&u.name.as_str()) || cx.facts.declared_types.contains(&u.name) {
            continue;
        }
        let Some((declared_in, alias)) = aliases.iter().find(|(p, a)| a.name == u.name && p != cx.path) else {
            continue;
        };
        let Some((provider, _)) = machine_provider(cx.model, &alias.target, &[]) else {
            continue;
        };
        let kind = &alias.written;
        if may_read(cx, provider) {
            continue;
        }
        let symbol = format!("{} (= {kind})", u.name);
        let controller = provider.platform_controller.as_deref().unwrap_or("its platform file");
        let message = provider_read_message(cx, &symbol, &provider.name, controller);
        let mut finding = Finding::new(PROVIDER_READ, u.span, message);
        finding.related.push(step(
            declared_in,
            alias.span,
            format!("`{}` is declared here as an alias of `{kind}`", u.name),
        ));
        out.push(finding);
    }
}

/// CAPI's `external.Get(ctx, c, &m.Spec.InfrastructureRef)`: the provider Machine as unstructured.
fn check_ref_readers(cx: &GoContext<'_>, out: &mut Vec<Finding>) {
    let capi = &cx.model.model.capi;
    let Some(field_path) = capi.machine_infrastructure_ref.as_deref() else {
        return;
    };
    let wanted: Vec<&str> = field_path.split('.').collect();
    for call in &cx.facts.calls {
        if matching(&capi.object_ref_readers, call).is_none() {
            continue;
        }
        let machine_ref = cx.facts.flow.ref_fields.iter().find(|r| {
            call.span.start <= r.span.start
                && r.span.end <= call.span.end
                && r.chain
                    .ends_with(&wanted.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                && !capi
                    .template_ref_marker
                    .as_ref()
                    .is_some_and(|m| r.chain.iter().any(|part| part == m))
        });
        let Some(r) = machine_ref else { continue };
        let provider = capi.any_provider_name.as_deref().unwrap_or("infrastructure");
        let controller = capi.any_platform_controller.as_deref().unwrap_or("the platform's file");
        let symbol = format!("{}(.., {})", call.callee.join("."), r.chain.join("."));
        let message = provider_read_message(cx, &symbol, provider, controller);
        out.push(Finding::new(PROVIDER_READ, call.callee_span, message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file can feed a boundary summary only through an import that makes its word count: a
    /// kind in the API types' comments or `RESTConfig` in `GetRESTConfig` is not enough (those
    /// packages were parsed for nothing on the real tree: 249 files).
    #[test]
    fn a_file_is_relevant_by_an_import_and_its_word_together() {
        let model = CompiledModel::compile(crate::model::load_default_model(), vec![]).unwrap();
        let relevant = |text: &str| file_relevant(&model, text, &scan_imports(text));
        let capa = "import (\n\tcapiaws \"sigs.k8s.io/cluster-api-provider-aws/v2/api/v1beta2\"\n)\n";
        assert!(relevant(&format!("{capa}func f() {{ _ = &capiaws.AWSMachine{{}} }}\n")));
        assert!(!relevant("// AWSMachine is documented here\nfunc f() {}\n"));
        assert!(!relevant(&format!(
            "{capa}func f() {{ _ = &capiaws.AWSCluster{{}} }}\n"
        )));
        let remote = "import \"sigs.k8s.io/cluster-api/controllers/remote\"\n";
        assert!(relevant(&format!(
            "{remote}func f() {{ remote.NewClusterClient(ctx, \"\", c, key) }}\n"
        )));
        assert!(!relevant(
            "import \"example.com/util\"\nfunc f() { util.GetRESTConfig() }\n"
        ));
        let clientcmd = "import \"k8s.io/client-go/tools/clientcmd\"\n";
        assert!(relevant(&format!(
            "{clientcmd}func f(b []byte) {{ clientcmd.RESTConfigFromKubeConfig(b) }}\n"
        )));
        assert!(!relevant(&format!(
            "{clientcmd}func f() {{ clientcmd.BuildConfigFromFlags(\"\", p) }}\n"
        )));
    }

    /// Every chain step is worded by the model: with the default model each wording is there,
    /// and a model without them shows the bare call rather than an English phrase of ours.
    #[test]
    fn chain_steps_are_worded_by_the_model() {
        let model = CompiledModel::compile(crate::model::load_default_model(), vec![]).unwrap();
        let words = StepWords::of(&model);
        for (description, key) in [
            (&words.provider, "step_provider"),
            (&words.loads, "step_loads_kubeconfig"),
            (&words.builds, "step_builds_client"),
            (&words.builds_from, "step_builds_client_from_config"),
        ] {
            let d = description
                .as_deref()
                .unwrap_or_else(|| panic!("the default model has no {key}"));
            assert_eq!(words.operation(description, "f", "x.Y"), format!("`f` {d}: `x.Y`"));
        }
        assert!(client_from_config(&model, "kubernetes.NewForConfig").starts_with("`kubernetes.NewForConfig` "));

        let mut bare = crate::model::load_default_model();
        bare.adapt.chain_operation_step = None;
        bare.rules.iter_mut().for_each(|r| r.params.clear());
        let bare = CompiledModel::compile(bare, vec![]).unwrap();
        let words = StepWords::of(&bare);
        assert_eq!(words.operation(&words.builds, "f", "x.Y"), "x.Y");
        assert_eq!(
            client_from_config(&bare, "kubernetes.NewForConfig"),
            "kubernetes.NewForConfig"
        );
    }
}
