//! `adapt-purity/*`: control-plane-operator adapt functions must be pure transformations: no
//! API calls, I/O, clocks, randomness or writes to package-level variables, directly or
//! through same-package helpers at any depth.
//!
//! Three layers, each a tracked query in `db`: a per-file summary (`summarize_file`: each
//! function's direct impure operations and its same-package calls), a per-package fold
//! (`fold_package`: which functions are impure and through which chain, cycles terminating),
//! and the per-file findings (`check`), reported at the operation or at the call site in the
//! adapt function with the chain as related information.

use std::collections::{HashMap, HashSet};

use super::{Finding, GoContext, Related};
use crate::db::{dir_of, package_purity, SourceFile, Workspace};
use crate::facts::go::{Arg, GoFacts};
use crate::facts::Span;
use crate::model::CompiledModel;

/// One impure operation: its category (the rule name) and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImpureOp {
    pub category: String,
    /// As written, e.g. `time.Now` or `cpContext.Client.Get`.
    pub what: String,
    pub description: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnSummary {
    /// `name`, `Type.method`, or `func@<offset>` for a function literal.
    pub key: String,
    /// Shown in messages: `adaptDeployment`, `(*Reconciler).adapt`, `function literal`.
    pub display: String,
    pub name_span: Span,
    /// An adapt function by its name and first parameter, or a literal registered in this file.
    pub is_adapt: bool,
    pub ops: Vec<ImpureOp>,
    /// Same-package calls: callee key and call site.
    pub calls: Vec<(String, Span)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilePurity {
    pub functions: Vec<FnSummary>,
    /// Function keys passed to a registration call (`WithAdaptFunction(adaptX)`) in this file.
    pub registered: Vec<String>,
    /// Method names passed as method values whose receiver type is unknown (`x.adapt`).
    pub registered_methods: Vec<String>,
}

/// Why a function is impure: the steps from its call site down to the operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub op: ImpureOp,
    /// Where the operation is.
    pub op_path: String,
    /// Steps, outermost first: each helper called on the way, then the operation.
    pub steps: Vec<Related>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackagePurity {
    /// Impure functions by key.
    pub impure: HashMap<String, Chain>,
    /// Keys of functions registered as adapt functions anywhere in the package.
    pub registered: HashSet<String>,
}

fn type_matches(ty: &crate::facts::go::TypeRef, wanted: &str) -> bool {
    match (&ty.import, wanted.rsplit_once('.')) {
        (Some(import), Some((path, name))) => import == path && ty.name == name,
        (None, None) => ty.name == wanted,
        _ => false,
    }
}

/// Which impure category a call falls in, if any.
fn classify_call(facts: &GoFacts, model: &CompiledModel, call: &crate::facts::go::Call) -> Option<(String, String)> {
    let function = call.callee.last()?;
    for category in &model.model.adapt.impure {
        if let Some(import) = &call.import {
            if category
                .calls
                .iter()
                .any(|p| CompiledModel::call_pattern_matches(p, import, function))
            {
                return Some((category.id.clone(), category.description.clone()));
            }
        }
        if call.callee.len() >= 2 && category.client_methods.contains(function) {
            let receiver = &call.callee[call.callee.len() - 2];
            let through_field = call.callee.len() >= 3 && category.client_fields.contains(receiver);
            let typed_client = call.callee.len() == 2 && {
                let mut scope = call.function;
                let mut found = false;
                while let Some(i) = scope {
                    let f = &facts.functions[i as usize];
                    if let Some(p) = f.params.iter().find(|p| p.name.as_deref() == Some(receiver.as_str())) {
                        found =
                            p.ty.as_ref()
                                .is_some_and(|t| category.client_types.iter().any(|w| type_matches(t, w)));
                        break;
                    }
                    scope = f.parent;
                }
                found
            };
            if through_field || typed_client {
                return Some((category.id.clone(), category.description.clone()));
            }
        }
    }
    None
}

fn is_adapt_by_signature(facts: &GoFacts, model: &CompiledModel, index: usize) -> bool {
    let f = &facts.functions[index];
    let (Some(name), Some(pattern)) = (&f.name, &model.adapt_name) else {
        return false;
    };
    if !pattern.is_match(name) {
        return false;
    }
    let contexts = &model.model.adapt.context_types;
    contexts.is_empty()
        || f.params
            .first()
            .and_then(|p| p.ty.as_ref())
            .is_some_and(|t| contexts.iter().any(|c| type_matches(t, c)))
}

fn function_key(facts: &GoFacts, index: usize) -> String {
    let f = &facts.functions[index];
    match (&f.name, &f.receiver) {
        (Some(name), Some((_, ty))) => format!("{ty}.{name}"),
        (Some(name), None) => name.clone(),
        (None, _) => format!("func@{}", f.span.start),
    }
}

fn function_display(facts: &GoFacts, index: usize) -> String {
    let f = &facts.functions[index];
    match (&f.name, &f.receiver) {
        (Some(name), Some((_, ty))) => format!("({ty}).{name}"),
        (Some(name), None) => name.clone(),
        (None, _) => "function literal".to_string(),
    }
}

/// Summarizes one file. `globals` are the package's package-level variables.
pub fn summarize_file(facts: &GoFacts, model: &CompiledModel, globals: &[String]) -> FilePurity {
    let adapt = &model.model.adapt;
    let mut registered = Vec::new();
    let mut registered_methods = Vec::new();
    let mut registered_literals: HashSet<u32> = HashSet::new();
    for call in &facts.calls {
        if !call.callee.last().is_some_and(|n| adapt.registration_calls.contains(n)) {
            continue;
        }
        for arg in &call.args {
            match arg {
                Arg::Ident(name) => registered.push(name.clone()),
                Arg::FuncLit(i) => {
                    registered_literals.insert(*i);
                    registered.push(function_key(facts, *i as usize));
                }
                Arg::Selector(chain) if chain.len() == 2 => {
                    let receiver_type = call.function.and_then(|f| {
                        let f = &facts.functions[facts.named_function(f) as usize];
                        f.receiver
                            .as_ref()
                            .filter(|(var, _)| var.as_deref() == Some(chain[0].as_str()))
                            .map(|(_, ty)| ty.clone())
                    });
                    match receiver_type {
                        Some(ty) => registered.push(format!("{ty}.{}", chain[1])),
                        None => registered_methods.push(chain[1].clone()),
                    }
                }
                _ => {}
            }
        }
    }

    // The summary each function's operations belong to: the function itself when named or
    // registered, else its nearest such ancestor (a helper's closures count as the helper).
    let owner = |mut i: u32| -> u32 {
        loop {
            let f = &facts.functions[i as usize];
            if f.name.is_some() || registered_literals.contains(&i) {
                return i;
            }
            match f.parent {
                Some(p) => i = p,
                None => return i,
            }
        }
    };
    let mut summaries: HashMap<u32, FnSummary> = HashMap::new();
    let summary_for = |summaries: &mut HashMap<u32, FnSummary>, i: u32| {
        summaries.entry(i).or_insert_with(|| FnSummary {
            key: function_key(facts, i as usize),
            display: function_display(facts, i as usize),
            name_span: facts.functions[i as usize].name_span,
            is_adapt: registered_literals.contains(&i) || is_adapt_by_signature(facts, model, i as usize),
            ops: Vec::new(),
            calls: Vec::new(),
        });
    };
    for i in 0..facts.functions.len() as u32 {
        if owner(i) == i {
            summary_for(&mut summaries, i);
        }
    }
    for call in &facts.calls {
        let Some(f) = call.function else { continue };
        let owner_index = owner(f);
        if let Some((category, description)) = classify_call(facts, model, call) {
            let what = call.callee.join(".");
            summary_for(&mut summaries, owner_index);
            summaries
                .get_mut(&owner_index)
                .expect("just inserted")
                .ops
                .push(ImpureOp {
                    category,
                    what,
                    description,
                    span: call.callee_span,
                });
            continue;
        }
        // Same-package candidates: `helper(..)` and `recv.method(..)` on the method's receiver.
        let callee = match call.callee.as_slice() {
            [name] if !facts.is_local(Some(f), name) => Some(name.clone()),
            [var, method] => {
                let named = &facts.functions[facts.named_function(f) as usize];
                named
                    .receiver
                    .as_ref()
                    .filter(|(v, _)| v.as_deref() == Some(var.as_str()))
                    .map(|(_, ty)| format!("{ty}.{method}"))
            }
            _ => None,
        };
        if let Some(callee) = callee {
            summary_for(&mut summaries, owner_index);
            summaries
                .get_mut(&owner_index)
                .expect("just inserted")
                .calls
                .push((callee, call.callee_span));
        }
    }
    if let Some(category_id) = &adapt.global_write_category {
        let description = adapt
            .impure
            .iter()
            .find(|c| &c.id == category_id)
            .map(|c| c.description.clone())
            .unwrap_or_else(|| "writes a package-level variable".into());
        for assignment in &facts.assignments {
            let Some(f) = assignment.function else {
                continue;
            };
            for target in &assignment.targets {
                let written = match &target.qualified_import {
                    Some(path) => Some(format!("{path}.{}", target.root)),
                    None if globals.contains(&target.root) && !facts.is_local(Some(f), &target.root) => {
                        Some(target.root.clone())
                    }
                    None => None,
                };
                if let Some(what) = written {
                    let op = ImpureOp {
                        category: category_id.clone(),
                        what,
                        description: description.clone(),
                        span: target.span,
                    };
                    let owner_index = owner(f);
                    summary_for(&mut summaries, owner_index);
                    summaries.get_mut(&owner_index).expect("just inserted").ops.push(op);
                }
            }
        }
    }
    let mut functions: Vec<FnSummary> = summaries.into_values().collect();
    functions.sort_by_key(|s| s.name_span.start);
    FilePurity {
        functions,
        registered,
        registered_methods,
    }
}

/// Folds a package's file summaries into which functions are impure, and why.
pub fn fold_package(files: &[(String, std::sync::Arc<FilePurity>)]) -> PackagePurity {
    let mut by_key: HashMap<&str, (&str, &FnSummary)> = HashMap::new();
    let mut registered: HashSet<String> = HashSet::new();
    let mut registered_methods: HashSet<&str> = HashSet::new();
    for (path, file) in files {
        for summary in &file.functions {
            by_key.entry(summary.key.as_str()).or_insert((path.as_str(), summary));
        }
        registered.extend(file.registered.iter().cloned());
        registered_methods.extend(file.registered_methods.iter().map(String::as_str));
    }
    for key in by_key.keys() {
        if let Some((_, method)) = key.rsplit_once('.') {
            if registered_methods.contains(method) {
                registered.insert(key.to_string());
            }
        }
    }
    let mut impure: HashMap<String, Option<Chain>> = HashMap::new();
    let keys: Vec<&str> = by_key.keys().copied().collect();
    for key in keys {
        resolve(key, &by_key, &mut impure, &mut HashSet::new(), 0);
    }
    PackagePurity {
        impure: impure.into_iter().filter_map(|(k, v)| v.map(|c| (k, c))).collect(),
        registered,
    }
}

/// Depth-first search with memo; a function already on the stack counts as pure for the
/// caller in progress, so recursion terminates and a cycle is impure only if some member
/// has an impure operation of its own or another impure callee.
fn resolve(
    key: &str,
    by_key: &HashMap<&str, (&str, &FnSummary)>,
    memo: &mut HashMap<String, Option<Chain>>,
    on_stack: &mut HashSet<String>,
    depth: usize,
) -> Option<Chain> {
    if let Some(done) = memo.get(key) {
        return done.clone();
    }
    let &(path, summary) = by_key.get(key)?;
    if on_stack.contains(key) || depth > 256 {
        return None;
    }
    if let Some(op) = summary.ops.first() {
        let chain = Chain {
            op: op.clone(),
            op_path: path.to_string(),
            steps: vec![Related {
                path: path.to_string(),
                span: op.span,
                message: format!("`{}` {}: `{}`", summary.display, op.description, op.what),
            }],
        };
        memo.insert(key.to_string(), Some(chain.clone()));
        return Some(chain);
    }
    on_stack.insert(key.to_string());
    let mut found = None;
    for (callee, site) in &summary.calls {
        if let Some(inner) = resolve(callee, by_key, memo, on_stack, depth + 1) {
            let callee_display = by_key
                .get(callee.as_str())
                .map(|(_, s)| s.display.clone())
                .unwrap_or_else(|| callee.clone());
            let mut steps = vec![Related {
                path: path.to_string(),
                span: *site,
                message: format!("`{}` calls `{callee_display}`", summary.display),
            }];
            steps.extend(inner.steps.iter().cloned());
            found = Some(Chain {
                op: inner.op.clone(),
                op_path: inner.op_path.clone(),
                steps,
            });
            break;
        }
    }
    on_stack.remove(key);
    // Inside a cycle a "pure" answer may be provisional; memoize only definite results or
    // results computed with nothing on the stack.
    if found.is_some() || on_stack.is_empty() {
        memo.insert(key.to_string(), found.clone());
    }
    found
}

/// The adapt-purity findings of one file.
pub fn check(db: &dyn salsa::Database, ws: Workspace, file: SourceFile, cx: &GoContext<'_>) -> Vec<Finding> {
    if !cx.component.is_some_and(|c| c.adapt_functions) {
        return Vec::new();
    }
    let path = file.path(db);
    let summary = crate::db::file_purity(db, ws, file);
    let package = package_purity(db, ws, dir_of(path).to_string());
    let mut out = Vec::new();
    for function in &summary.functions {
        if !(function.is_adapt || package.registered.contains(&function.key)) {
            continue;
        }
        for op in &function.ops {
            let code = format!("adapt-purity/{}", op.category);
            let message = cx.model.message(
                &code,
                &[
                    ("function", &function.display),
                    ("what", &op.what),
                    ("description", &op.description),
                ],
            );
            out.push(Finding::new(&code, op.span, message));
        }
        for (callee, site) in &function.calls {
            let Some(chain) = package.impure.get(callee) else {
                continue;
            };
            let code = format!("adapt-purity/{}", chain.op.category);
            let callee_display = callee.rsplit('.').next().unwrap_or(callee);
            let via = format!("{callee_display} → {}", chain.op.what);
            let message = cx.model.message(
                &code,
                &[
                    ("function", &function.display),
                    ("what", &via),
                    ("description", &chain.op.description),
                ],
            );
            let mut finding = Finding::new(&code, *site, message);
            finding.related = chain.steps.clone();
            out.push(finding);
        }
    }
    out
}
