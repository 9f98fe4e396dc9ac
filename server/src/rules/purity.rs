//! `adapt-purity/*`: control-plane-operator adapt functions take their inputs from the
//! framework (the `WorkloadContext`, its reader client and providers) and must otherwise be pure
//! transformations: no writes or foreign clients, network, files or environment, clocks,
//! randomness or writes to package state — directly or through helpers at any depth, in this
//! package or in other packages of the workspace.
//!
//! Three layers: a per-file summary (the tracked query [`file_purity`] over `summarize_file`:
//! each function's direct impure operations, its same-package calls and its calls into other
//! packages), a per-package fold (the tracked query [`package_purity`] over `fold_package`: which functions are impure in which categories
//! and through which chain, following other packages' summaries; cycles terminate), and the
//! per-file findings (`check`): one per adapt function and category, every call site and its
//! chain as related information.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::{Finding, GoContext, Related};
use crate::db::{
    dir_of, go_facts, module_index, package_files, package_globals, package_import_path, SourceFile, Workspace,
};
use crate::facts::go::{Arg, GoFacts};
use crate::facts::Span;
use crate::model::CompiledModel;

pub static RULE: super::registry::Rule = super::registry::Rule {
    name: "adapt-purity",
    doc: "Control-plane-operator adapt functions are pure transformations of their input, directly and \
          through helpers in any workspace package. Needs the Go facts of the file and of every package it \
          calls into (the tracked purity summaries), go.mod, and the model's adapt section (one code per \
          impure category).",
    codes: super::registry::Codes::FromModel(|model| {
        model
            .model
            .adapt
            .impure
            .iter()
            .map(|c| format!("adapt-purity/{}", c.id))
            .collect()
    }),
    concerns: |file| file.component.is_some_and(|c| c.adapt_functions),
    check: super::registry::Check::Go(|cx| check(cx.db, cx.ws, cx.file, cx)),
};

/// One impure operation: its category (the rule name) and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImpureOp {
    pub category: String,
    /// As written, e.g. `time.Now` or `cpContext.Client.Get`.
    pub what: String,
    pub description: String,
    pub span: Span,
    /// The parameter the operation depends on (see `needs_first_argument` in the model).
    pub needs: Option<Need>,
}

/// An operation that runs only when the caller sets a parameter (or one field of it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Need {
    pub param: usize,
    pub field: Option<String>,
}

/// What a call passes, as far as conditions care.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ArgForm {
    /// The caller's parameter, or one field of it.
    Param {
        index: usize,
        field: Option<String>,
    },
    /// A keyed composite literal (or a variable initialised with one and not written after):
    /// the keys set.
    Fields(Vec<String>),
    /// `""` or `nil`.
    Empty,
    Other,
}

/// A call into another package: `alias.Func(..)` with a non-standard import.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtCall {
    pub import: String,
    /// The alias as written, for messages (`certs`).
    pub alias: String,
    pub function: String,
    pub span: Span,
}

impl ExtCall {
    /// As written: `certs.ReconcileSignedCert`, or `x.Method` for a method (`function` is
    /// `Type.Method` then).
    pub fn shown(&self) -> String {
        let method = self.function.rsplit('.').next().unwrap_or(&self.function);
        format!("{}.{method}", self.alias)
    }
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
    /// Calls into other packages.
    pub ext_calls: Vec<ExtCall>,
    /// The arguments of calls (same-package and other packages), by call-site start, when
    /// one of them is a parameter, a keyed literal or empty.
    pub call_args: BTreeMap<u32, Vec<ArgForm>>,
    /// Calls to helpers the model knows (sanctioned, or per-cluster decisions), by call-site start.
    pub marks: BTreeMap<u32, Mark>,
    /// A method that writes through its receiver (`c.items[k] = v`).
    pub writes_receiver: bool,
    /// Methods called on a package-level variable (`cache.get(..)`, callee key `*.get`): the
    /// write to package state they make when the method writes its receiver.
    pub global_method_ops: Vec<(String, ImpureOp)>,
}

impl FnSummary {
    /// A function literal (its key is its offset).
    pub fn display_is_literal(&self) -> bool {
        self.key.starts_with("func@")
    }

    /// The name a finding uses: a function literal that only delegates to one same-package
    /// function (`func(ctx, obj) error { return adaptX(ctx, obj, extra) }`) is named after it.
    pub fn shown_name(&self) -> String {
        match (
            self.display_is_literal(),
            self.ops.as_slice(),
            self.calls.as_slice(),
            self.ext_calls.as_slice(),
        ) {
            (true, [], [(callee, _)], []) => match callee.split_once('.') {
                Some((ty, method)) => format!("({ty}).{method}"),
                None => callee.clone(),
            },
            _ => self.display.clone(),
        }
    }
}

/// What the model says of a call's callee (`adapt.sanctioned`, `adapt.per_cluster`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub kind: MarkKind,
    /// The categories the entry covers.
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarkKind {
    /// Index into `adapt.sanctioned`.
    Sanctioned(usize),
    /// Index into `adapt.per_cluster`.
    PerCluster(usize),
}

/// The model's entry for a call to `function` of the package `import`, if any.
fn mark_for(model: &CompiledModel, import: &str, function: &str) -> Option<Mark> {
    let adapt = &model.model.adapt;
    let listed = |package: &str, functions: &[String]| package == import && functions.iter().any(|f| f == function);
    adapt
        .per_cluster
        .iter()
        .position(|e| listed(&e.package, &e.functions))
        .map(|i| Mark {
            kind: MarkKind::PerCluster(i),
            categories: adapt.per_cluster[i].categories.clone(),
        })
        .or_else(|| {
            adapt
                .sanctioned
                .iter()
                .position(|e| listed(&e.package, &e.functions))
                .map(|i| Mark {
                    kind: MarkKind::Sanctioned(i),
                    categories: adapt.sanctioned[i].categories.clone(),
                })
        })
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilePurity {
    pub functions: Vec<FnSummary>,
    /// Function keys passed to a registration call (`WithAdaptFunction(adaptX)`) in this file.
    pub registered: Vec<String>,
    /// Method names passed as method values whose receiver type is unknown (`x.adapt`).
    pub registered_methods: Vec<String>,
    /// Function keys registered with an option that keeps the existing object
    /// (`adapt.keep_existing_options`, e.g. `component.ReconcileExisting()`).
    pub kept: Vec<String>,
}

/// Why a function is impure in one category: the steps from its call site down to the operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub op: ImpureOp,
    /// Where the operation is.
    pub op_path: String,
    /// Steps, outermost first: each helper called on the way, then the operation.
    pub steps: Vec<Step>,
    /// The callees on the way, as shown (`getServiceServingCA`, `certs.ReconcileSignedCert`).
    pub via: Vec<String>,
    /// The operation runs only when one of these parameters of the chain's function is set;
    /// empty: it runs whatever the arguments.
    pub needs: Vec<Need>,
    /// The innermost helper on the way that the model knows (sanctioned or per-cluster).
    pub mark: Option<MarkKind>,
}

impl Chain {
    /// Which chain speaks for a category: a per-cluster decision (actionable, with its remedy)
    /// before a plain one, before a sanctioned one.
    fn rank(&self) -> u8 {
        match self.mark {
            Some(MarkKind::PerCluster(_)) => 0,
            None => 1,
            Some(MarkKind::Sanctioned(_)) => 2,
        }
    }

    pub fn is_sanctioned(&self) -> bool {
        matches!(self.mark, Some(MarkKind::Sanctioned(_)))
    }
}

/// One step of a chain: where it is, the function it is in, and what happens there. Worded by
/// the model when shown ([`Step::related`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub path: String,
    pub span: Span,
    /// The function the step is in, as shown.
    pub function: String,
    pub kind: StepKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// The function calls the next one (`callee`, as shown).
    Calls { callee: String },
    /// The impure operation: the category's description and the call.
    Operation { description: String, what: String },
}

impl Step {
    /// The step as a related location, worded by the model's `adapt.chain_call_step` and
    /// `adapt.chain_operation_step` (without them, the callee or the call alone).
    pub fn related(&self, model: &CompiledModel) -> Related {
        let adapt = &model.model.adapt;
        let message = match &self.kind {
            StepKind::Calls { callee } => match &adapt.chain_call_step {
                Some(t) => crate::model::render(t, &[("function", &self.function), ("callee", callee)]),
                None => callee.clone(),
            },
            StepKind::Operation { description, what } => match &adapt.chain_operation_step {
                Some(t) => crate::model::render(
                    t,
                    &[
                        ("function", &self.function),
                        ("description", description),
                        ("what", what),
                    ],
                ),
                None => what.clone(),
            },
        };
        Related {
            path: self.path.clone(),
            span: self.span,
            message,
        }
    }
}

/// One place where an adapt function reaches a category: the site in the adapt function, the
/// first helper (if any), and the chain from there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub span: Span,
    /// Identity of the first callee (same-package key or `import::Func`); `None` for a direct
    /// operation.
    pub helper: Option<String>,
    pub chain: Chain,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackagePurity {
    /// Impure functions by key: per category, the first chain found.
    pub impure: HashMap<String, BTreeMap<String, Chain>>,
    /// Keys of functions registered as adapt functions anywhere in the package.
    pub registered: HashSet<String>,
    /// The package's adapt functions (by signature or registration, minus helpers that only
    /// happen to match the name pattern), per category with every site.
    pub adapt: HashMap<String, BTreeMap<String, Vec<Site>>>,
    /// (helper, category) → how many adapt functions of the package reach the category
    /// through that helper.
    pub helper_reach: HashMap<(String, String), usize>,
    /// Adapt functions registered with an option that keeps the existing object.
    pub kept: HashSet<String>,
}

impl PackagePurity {
    /// Is `key` one of the package's adapt functions?
    pub fn is_adapt(&self, key: &str) -> bool {
        self.adapt.contains_key(key)
    }
}

fn type_matches(ty: &crate::facts::go::TypeRef, wanted: &str) -> bool {
    match (&ty.import, wanted.rsplit_once('.')) {
        (Some(import), Some((path, name))) => import == path && ty.name == name,
        (None, None) => ty.name == wanted,
        _ => false,
    }
}

/// The declared type of a parameter `name` visible in function `scope`.
fn param_type(facts: &GoFacts, scope: Option<u32>, name: &str) -> Option<Option<crate::facts::go::TypeRef>> {
    let mut scope = scope;
    while let Some(i) = scope {
        let f = &facts.functions[i as usize];
        if let Some(p) = f.params.iter().find(|p| p.name.as_deref() == Some(name)) {
            return Some(p.ty.clone());
        }
        scope = f.parent;
    }
    None
}

/// Is the key of this read the object being adapted: `client.ObjectKeyFromObject(obj)` inside
/// the call, `obj` being the second parameter of the enclosing adapt function (by signature; a
/// helper's second parameter may be any object, e.g. `GenerateKubeConfig(cpContext, cert, ..)`)?
fn keys_adapted_object(
    facts: &GoFacts,
    model: &CompiledModel,
    call: &crate::facts::go::Call,
    into_adapted: Option<bool>,
) -> bool {
    let Some(f) = call.function else { return false };
    let named_index = facts.named_function(f) as usize;
    if !is_adapt_by_signature(facts, model, named_index) {
        return false;
    }
    let named = &facts.functions[named_index];
    let Some(object) = named.params.get(1).and_then(|p| p.name.as_deref()) else {
        return false;
    };
    let keyed = facts.calls.iter().any(|inner| {
        inner.span.start >= call.span.start
            && inner.span.end <= call.span.end
            && inner.callee.last().is_some_and(|n| n == "ObjectKeyFromObject")
            && matches!(inner.args.first(), Some(Arg::Ident(o)) if o == object)
    });
    // `Get(ctx, key, target)`: into the adapted object itself, or into another variable.
    let into_object = matches!(call.args.get(2), Some(Arg::Ident(t)) if t == object);
    keyed && into_adapted.is_none_or(|wanted| wanted == into_object)
}

/// An impure category of the adapt contract that a call falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallCategory<'m> {
    /// The category's id (the rule name: `api-call`, `clock`, ...).
    pub category: &'m str,
    /// What the category means, for messages (`writes through a client`).
    pub description: &'m str,
}

/// The API-call (and other impure-operation) recogniser: which of the model's impure categories
/// a call falls in (several may apply), by the called package's import path, the method name, or
/// a client method on a known client field, receiver name or typed client parameter.
/// `own_import` is the file's package import path (for same-package calls).
pub fn classify_call<'m>(
    facts: &GoFacts,
    model: &'m CompiledModel,
    call: &crate::facts::go::Call,
    own_import: Option<&str>,
) -> Vec<CallCategory<'m>> {
    let mut out = Vec::new();
    let Some(function) = call.callee.last() else {
        return out;
    };
    for category in &model.model.adapt.impure {
        let import = match (&call.import, call.callee.len()) {
            (Some(import), _) => Some(import.as_str()),
            // A same-package function: its package is this file's.
            (None, 1) if !facts.is_local(call.function, function) => own_import,
            _ => None,
        };
        let by_package = import.is_some_and(|import| {
            category
                .calls
                .iter()
                .any(|p| CompiledModel::call_pattern_matches(p, import, function))
        });
        let by_method = call.import.is_none() && call.callee.len() >= 2 && category.methods.contains(function);
        let by_client =
            call.import.is_none() && call.callee.len() >= 2 && category.client_methods.contains(function) && {
                let receiver = &call.callee[call.callee.len() - 2];
                let through_field = call.callee.len() >= 3 && category.client_fields.contains(receiver);
                let named_receiver = call.callee.len() == 2 && category.receiver_names.contains(receiver);
                let typed_client = call.callee.len() == 2
                    && param_type(facts, call.function, receiver)
                        .flatten()
                        .is_some_and(|t| category.client_types.iter().any(|w| type_matches(&t, w)));
                (through_field || named_receiver || typed_client)
                    && (!category.adapted_object_only
                        || keys_adapted_object(facts, model, call, category.into_adapted_object))
            };
        if by_package || by_method || by_client {
            out.push(CallCategory {
                category: &category.id,
                description: &category.description,
            });
        }
    }
    out
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

/// Standard-library imports have no dot in their first element; they are never workspace
/// packages, so calls into them need no summary.
fn is_std(import: &str) -> bool {
    !import.split('/').next().unwrap_or("").contains('.')
}

/// What an argument is, for conditions: a parameter of the enclosing named function (or one of
/// its fields), a keyed literal held in a variable never written after, or empty.
fn arg_form(facts: &GoFacts, written: &HashSet<(u32, &str)>, function: u32, arg: &Arg) -> ArgForm {
    let named = facts.named_function(function);
    let param = |name: &str| {
        facts.functions[named as usize]
            .params
            .iter()
            .position(|p| p.name.as_deref() == Some(name))
    };
    match arg {
        Arg::Str(s) if s.is_empty() => ArgForm::Empty,
        Arg::Ident(name) if name == "nil" => ArgForm::Empty,
        Arg::Ident(name) => {
            if let Some(index) = param(name) {
                return ArgForm::Param { index, field: None };
            }
            match facts.flow.var_fields_of(function, name) {
                Some(keys) if !written.contains(&(function, name.as_str())) => ArgForm::Fields(keys.to_vec()),
                _ => ArgForm::Other,
            }
        }
        Arg::Selector(chain) => match chain.as_slice() {
            [var, field] => match param(var) {
                Some(index) => ArgForm::Param {
                    index,
                    field: Some(field.clone()),
                },
                None => ArgForm::Other,
            },
            _ => ArgForm::Other,
        },
        _ => ArgForm::Other,
    }
}

/// A callee's needs seen from its caller through the call's arguments: `None` when the
/// operation never runs (every needed parameter is left unset), else the caller's needs (empty:
/// it runs whatever the caller's arguments).
fn map_needs(needs: &[Need], args: Option<&Vec<ArgForm>>) -> Option<Vec<Need>> {
    if needs.is_empty() {
        return Some(Vec::new());
    }
    let mut out = Vec::new();
    for need in needs {
        match (args.and_then(|a| a.get(need.param)), &need.field) {
            (Some(ArgForm::Empty), _) => {}
            (Some(ArgForm::Fields(keys)), Some(field)) => {
                if keys.contains(field) {
                    return Some(Vec::new());
                }
            }
            (Some(ArgForm::Param { index, field: None }), field) => out.push(Need {
                param: *index,
                field: field.clone(),
            }),
            (Some(ArgForm::Param { index, field: Some(f) }), None) => out.push(Need {
                param: *index,
                field: Some(f.clone()),
            }),
            _ => return Some(Vec::new()),
        }
    }
    out.sort();
    out.dedup();
    (!out.is_empty()).then_some(out)
}

/// Adds a chain for a category: an unconditional chain wins over conditional ones, whose needs
/// add up.
fn merge(found: &mut BTreeMap<String, Chain>, category: String, chain: Chain) {
    match found.get_mut(&category) {
        None => {
            found.insert(category, chain);
        }
        Some(existing) if chain.rank() < existing.rank() => *existing = chain,
        Some(existing) if chain.rank() > existing.rank() => {}
        Some(existing) if existing.needs.is_empty() => {}
        Some(existing) if chain.needs.is_empty() => *existing = chain,
        Some(existing) => {
            existing.needs.extend(chain.needs);
            existing.needs.sort();
            existing.needs.dedup();
        }
    }
}

/// Summarizes one file. `globals` are the package's package-level variables; `own_import` is
/// the package's import path when a `go.mod` says.
pub fn summarize_file(
    facts: &GoFacts,
    model: &CompiledModel,
    globals: &[String],
    own_import: Option<&str>,
) -> FilePurity {
    let adapt = &model.model.adapt;
    let mut registered = Vec::new();
    let mut registered_methods = Vec::new();
    let mut registered_literals: HashSet<u32> = HashSet::new();
    let mut kept = Vec::new();
    for call in &facts.calls {
        if !call.callee.last().is_some_and(|n| adapt.registration_calls.contains(n)) {
            continue;
        }
        let first_registered = registered.len();
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
        if registered_with_keep_option(facts, model, call) {
            kept.extend(registered[first_registered..].iter().cloned());
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
    let make = |i: u32| FnSummary {
        key: function_key(facts, i as usize),
        display: function_display(facts, i as usize),
        name_span: facts.functions[i as usize].name_span,
        is_adapt: registered_literals.contains(&i) || is_adapt_by_signature(facts, model, i as usize),
        ops: Vec::new(),
        calls: Vec::new(),
        ext_calls: Vec::new(),
        call_args: BTreeMap::new(),
        marks: BTreeMap::new(),
        writes_receiver: false,
        global_method_ops: Vec::new(),
    };
    macro_rules! summary_for {
        ($summaries:expr, $i:expr) => {{
            let i: u32 = $i;
            $summaries.entry(i).or_insert_with(|| make(i))
        }};
    }
    for i in 0..facts.functions.len() as u32 {
        if owner(i) == i {
            summary_for!(summaries, i);
        }
    }
    let global_write = adapt.global_write_category.as_ref().map(|id| {
        let description = adapt
            .impure
            .iter()
            .find(|c| &c.id == id)
            .map(|c| c.description.clone())
            .unwrap_or_else(|| "writes package-level state".into());
        (id.clone(), description)
    });
    // Variables written in each function (`opts.CAFile = ..`): their literal keys do not hold.
    let written: HashSet<(u32, &str)> = facts
        .assignments
        .iter()
        .filter_map(|a| Some((a.function?, a)))
        .flat_map(|(f, a)| a.targets.iter().map(move |t| (f, t.root.as_str())))
        .collect();
    for call in &facts.calls {
        let Some(f) = call.function else { continue };
        let owner_index = owner(f);
        // An impure package function passed as a value (`setEnvVars(env, os.Getenv)`): the
        // callee will call it.
        for arg in &call.args {
            let Arg::Selector(chain) = arg else { continue };
            let [alias, name] = chain.as_slice() else { continue };
            let Some(import) = facts.import_by_name(alias).filter(|_| !facts.is_local(Some(f), alias)) else {
                continue;
            };
            for category in &adapt.impure {
                if category
                    .calls
                    .iter()
                    .any(|p| CompiledModel::call_pattern_matches(p, &import.path, name))
                {
                    summary_for!(summaries, owner_index).ops.push(ImpureOp {
                        category: category.id.clone(),
                        what: format!("{alias}.{name}"),
                        description: category.description.clone(),
                        span: call.callee_span,
                        needs: None,
                    });
                }
            }
        }
        let forms: Vec<ArgForm> = call.args.iter().map(|a| arg_form(facts, &written, f, a)).collect();
        if forms.iter().any(|a| *a != ArgForm::Other) {
            summary_for!(summaries, owner_index)
                .call_args
                .insert(call.callee_span.start, forms.clone());
        }
        let categories = classify_call(facts, model, call, own_import);
        if !categories.is_empty() {
            let what = call.callee.join(".");
            let summary = summary_for!(summaries, owner_index);
            for class in categories {
                let needs_first = adapt
                    .impure
                    .iter()
                    .any(|c| c.id == class.category && c.needs_first_argument);
                if passed_through(facts, model, call, class.category) {
                    continue;
                }
                let needs = match forms.first() {
                    Some(ArgForm::Empty) if needs_first => continue,
                    Some(ArgForm::Param { index, field }) if needs_first => Some(Need {
                        param: *index,
                        field: field.clone(),
                    }),
                    _ => None,
                };
                summary.ops.push(ImpureOp {
                    category: class.category.to_string(),
                    what: what.clone(),
                    description: class.description.to_string(),
                    span: call.callee_span,
                    needs,
                });
            }
            continue;
        }
        // A method that mutates a package-level variable (`cache.Set(..)`).
        if let (Some((id, description)), [var, method]) = (&global_write, call.callee.as_slice()) {
            if adapt.global_write_methods.contains(method) && globals.contains(var) && !facts.is_local(Some(f), var) {
                summary_for!(summaries, owner_index).ops.push(ImpureOp {
                    category: id.clone(),
                    what: call.callee.join("."),
                    description: description.clone(),
                    span: call.callee_span,
                    needs: None,
                });
                continue;
            }
        }
        // Another package's function: `alias.Func(..)`.
        if let (Some(import), [alias, function]) = (&call.import, call.callee.as_slice()) {
            if !is_std(import) {
                let summary = summary_for!(summaries, owner_index);
                summary.ext_calls.push(ExtCall {
                    import: import.clone(),
                    alias: alias.clone(),
                    function: function.clone(),
                    span: call.callee_span,
                });
                if let Some(mark) = mark_for(model, import, function) {
                    summary.marks.insert(call.callee_span.start, mark);
                }
            }
            continue;
        }
        // Same-package candidates: `helper(..)` and `recv.method(..)` on the method's receiver;
        // `x.Method(..)` on a variable of an imported type is a call into its package.
        let callee = match call.callee.as_slice() {
            [name] if !facts.is_local(Some(f), name) => Some(name.clone()),
            [var, method] => {
                let named = &facts.functions[facts.named_function(f) as usize];
                let on_receiver = named
                    .receiver
                    .as_ref()
                    .filter(|(v, _)| v.as_deref() == Some(var.as_str()))
                    .map(|(_, ty)| format!("{ty}.{method}"));
                match (on_receiver, facts.flow.var_type(facts, Some(f), var)) {
                    (Some(key), _) => Some(key),
                    (None, Some(ty)) => match &ty.import {
                        Some(import) if !is_std(import) => {
                            let function = format!("{}.{method}", ty.name);
                            let summary = summary_for!(summaries, owner_index);
                            if let Some(mark) = mark_for(model, import, &function) {
                                summary.marks.insert(call.callee_span.start, mark);
                            }
                            summary.ext_calls.push(ExtCall {
                                import: import.clone(),
                                alias: var.clone(),
                                function,
                                span: call.callee_span,
                            });
                            None
                        }
                        Some(_) => None,
                        None => Some(format!("{}.{method}", ty.name)),
                    },
                    // A method on a package-level variable (`var cache = &imagesCache{}`;
                    // `cache.get(..)`): the package's method of that name, and a write to
                    // package state when it writes its receiver.
                    (None, None) if globals.contains(var) && !facts.is_local(Some(f), var) => {
                        let key = format!("*.{method}");
                        if let Some((id, description)) = &global_write {
                            summary_for!(summaries, owner_index).global_method_ops.push((
                                key.clone(),
                                ImpureOp {
                                    category: id.clone(),
                                    what: call.callee.join("."),
                                    description: description.clone(),
                                    span: call.callee_span,
                                    needs: None,
                                },
                            ));
                        }
                        Some(key)
                    }
                    (None, None) => None,
                }
            }
            _ => None,
        };
        if let Some(callee) = callee {
            let summary = summary_for!(summaries, owner_index);
            if let Some(mark) = own_import.and_then(|import| mark_for(model, import, &callee)) {
                summary.marks.insert(call.callee_span.start, mark);
            }
            summary.calls.push((callee, call.callee_span));
        }
    }
    if let Some((category_id, description)) = &global_write {
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
                        needs: None,
                    };
                    summary_for!(summaries, owner(f)).ops.push(op);
                }
            }
        }
    }
    // Methods that write through their receiver (`c.items[k] = v` in `func (c *T) m()`).
    for assignment in &facts.assignments {
        let Some(f) = assignment.function else { continue };
        let named = facts.named_function(f);
        let Some((Some(receiver), _)) = &facts.functions[named as usize].receiver else {
            continue;
        };
        if assignment
            .targets
            .iter()
            .any(|t| &t.root == receiver && t.qualified_import.is_none())
        {
            summary_for!(summaries, named).writes_receiver = true;
        }
    }
    let mut functions: Vec<FnSummary> = summaries.into_values().collect();
    functions.sort_by_key(|s| s.name_span.start);
    FilePurity {
        functions,
        registered,
        registered_methods,
        kept,
    }
}

/// The model's sanctioned helpers that `categories` (a function's chains) went through, worded
/// by `adapt.sanctioned_line`, for hover.
pub fn sanctioned_lines(model: &CompiledModel, categories: Option<&BTreeMap<String, Chain>>) -> Vec<String> {
    let adapt = &model.model.adapt;
    let mut seen = Vec::new();
    for chain in categories.into_iter().flat_map(|c| c.values()) {
        if let Some(MarkKind::Sanctioned(i)) = chain.mark {
            if !seen.contains(&i) {
                seen.push(i);
            }
        }
    }
    seen.iter()
        .filter_map(|&i| adapt.sanctioned.get(i))
        .map(|entry| sanctioned_line(model, entry))
        .collect()
}

fn short_package(package: &str) -> &str {
    package.rsplit('/').next().unwrap_or(package)
}

fn sanctioned_line(model: &CompiledModel, entry: &crate::model::types::SanctionedHelper) -> String {
    let helper = entry
        .functions
        .iter()
        .map(|f| format!("{}.{f}", short_package(&entry.package)))
        .collect::<Vec<_>>()
        .join("`, `");
    match &model.model.adapt.sanctioned_line {
        Some(t) => crate::model::render(
            t,
            &[
                ("helper", &helper),
                ("categories", &entry.categories.join(", ")),
                ("why", &entry.why),
            ],
        ),
        None => format!("{helper}: {}", entry.why),
    }
}

/// What the model sanctions, and the per-cluster decisions it reports, for `explain` of an
/// adapt-purity `category`: empty when the model lists none for it.
pub fn explain_known_helpers(model: &CompiledModel, category: &str) -> String {
    let adapt = &model.model.adapt;
    let mut out = String::new();
    if let Some(rule) = adapt
        .pass_through
        .as_ref()
        .filter(|r| r.categories.iter().any(|c| c == category))
    {
        out.push_str(&format!("\n\n{}", rule.why.trim_end()));
    }
    let sanctioned: Vec<String> = adapt
        .sanctioned
        .iter()
        .filter(|e| e.categories.iter().any(|c| c == category))
        .map(|e| sanctioned_line(model, e))
        .collect();
    if !sanctioned.is_empty() {
        out.push_str(&format!(
            "\n\n**{}**\n",
            adapt.sanctioned_heading.as_deref().unwrap_or("")
        ));
        for line in sanctioned {
            out.push_str(&format!("\n- {line}"));
        }
    }
    let per_cluster: Vec<String> = adapt
        .per_cluster
        .iter()
        .filter(|e| e.categories.iter().any(|c| c == category))
        .map(|e| {
            let helper = e
                .functions
                .iter()
                .map(|f| format!("{}.{f}", short_package(&e.package)))
                .collect::<Vec<_>>()
                .join("`, `");
            match &adapt.per_cluster_line {
                Some(t) => crate::model::render(t, &[("helper", &helper), ("instead", &e.instead), ("why", &e.why)]),
                None => format!("{helper}: {}", e.why),
            }
        })
        .collect();
    if !per_cluster.is_empty() {
        out.push_str(&format!(
            "\n\n**{}**\n",
            adapt.per_cluster_heading.as_deref().unwrap_or("")
        ));
        for line in per_cluster {
            out.push_str(&format!("\n- {line}"));
        }
    }
    out
}

/// Is this operation's first argument (`os.Getenv(X)`) the name of an operand's setting built a
/// few lines on in the same function, or around it (`corev1.EnvVar{Name: X, ..}`): a pass-through of the
/// operator's configuration (`adapt.pass_through`)?
fn passed_through(facts: &GoFacts, model: &CompiledModel, call: &crate::facts::go::Call, category: &str) -> bool {
    let Some(rule) = &model.model.adapt.pass_through else {
        return false;
    };
    if !rule.categories.iter().any(|c| c == category) {
        return false;
    }
    let named = |f: Option<u32>| f.map(|f| facts.named_function(f));
    let same_value = |field: &crate::facts::go::KeyedField| match call.args.first() {
        Some(Arg::Str(v)) => field.string_value.as_deref() == Some(v.as_str()),
        Some(Arg::Ident(name)) => field.value_text.trim() == name,
        Some(Arg::Selector(chain)) => field.value_text.trim() == chain.join("."),
        _ => false,
    };
    facts.literals.iter().any(|literal| {
        // The literal follows the read closely, or holds it (`EnvVar{Name: X, Value: os.Getenv(X)}`).
        literal.span.end > call.span.start
            && literal.span.start <= call.span.start.saturating_add(rule.within_bytes)
            && named(literal.function) == named(call.function)
            && literal
                .ty
                .as_ref()
                .is_some_and(|t| rule.literal_types.iter().any(|w| type_matches(t, w)))
            && literal.fields.iter().any(|f| f.key == rule.name_field && same_value(f))
    })
}

/// Is this registration call (`WithAdaptFunction(adaptX)`) an argument of a call that also
/// passes one of the model's keep-existing options (`WithManifestAdapter("x.yaml",
/// component.WithAdaptFunction(adaptX), component.ReconcileExisting())`)? The enclosing call
/// is the innermost one with the registration among its arguments (after its callee, so a
/// builder chain's earlier adapters do not count).
fn registered_with_keep_option(facts: &GoFacts, model: &CompiledModel, registration: &crate::facts::go::Call) -> bool {
    let options = &model.model.adapt.keep_existing_options;
    if options.is_empty() {
        return false;
    }
    let within_args = |outer: &crate::facts::go::Call, inner: Span| {
        outer.callee_span.end <= inner.start && inner.end <= outer.span.end && outer.span != inner
    };
    let Some(enclosing) = facts
        .calls
        .iter()
        .filter(|c| within_args(c, registration.span))
        .min_by_key(|c| c.span.end - c.span.start)
    else {
        return false;
    };
    facts
        .calls
        .iter()
        .any(|c| within_args(enclosing, c.span) && c.callee.last().is_some_and(|n| options.contains(n)))
}

/// What the fold needs from another package: its summary, by import path (`None` when the
/// import is not a package of the workspace).
pub type DepLookup<'a> = dyn FnMut(&str) -> Option<std::sync::Arc<PackagePurity>> + 'a;

struct Fold<'a, 'b, 'c> {
    by_key: HashMap<&'a str, (&'a str, &'a FnSummary)>,
    deps: &'b mut DepLookup<'c>,
    memo: HashMap<String, BTreeMap<String, Chain>>,
    on_stack: HashSet<String>,
}

/// Folds a package's file summaries into which functions are impure, and why; calls into other
/// packages are looked up in their summaries through `deps`.
pub fn fold_package(files: &[(String, std::sync::Arc<FilePurity>)], deps: &mut DepLookup<'_>) -> PackagePurity {
    let mut by_key: HashMap<&str, (&str, &FnSummary)> = HashMap::new();
    let mut registered: HashSet<String> = HashSet::new();
    let mut registered_methods: HashSet<&str> = HashSet::new();
    let mut called: HashSet<&str> = HashSet::new();
    let mut kept: HashSet<String> = HashSet::new();
    for (path, file) in files {
        kept.extend(file.kept.iter().cloned());
        for summary in &file.functions {
            by_key.entry(summary.key.as_str()).or_insert((path.as_str(), summary));
            called.extend(summary.calls.iter().map(|(c, _)| c.as_str()));
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
    let mut fold = Fold {
        by_key,
        deps,
        memo: HashMap::new(),
        on_stack: HashSet::new(),
    };
    let mut keys: Vec<&str> = fold.by_key.keys().copied().collect();
    keys.sort_unstable();
    for key in &keys {
        fold.resolve(key, 0);
    }
    // Adapt functions: registered ones, and those matching the signature unless another
    // function of the package calls them (then they are helpers that happen to match the name).
    let mut adapt: HashMap<String, BTreeMap<String, Vec<Site>>> = HashMap::new();
    let mut helper_reach: HashMap<(String, String), usize> = HashMap::new();
    for key in &keys {
        let (path, summary) = fold.by_key[key];
        let is_adapt = registered.contains(*key) || (summary.is_adapt && !called.contains(key));
        if !is_adapt {
            continue;
        }
        let mut sites = fold.sites(path, summary);
        // A registered function literal that calls another registered adapt function
        // (`WithAdaptFunction(func(ctx, obj) error { return adaptX(ctx, obj) })` where `adaptX`
        // is registered elsewhere too): that function's own finding covers the call.
        if summary.display_is_literal() {
            for list in sites.values_mut() {
                list.retain(|site| !site.helper.as_ref().is_some_and(|h| registered.contains(h)));
            }
            sites.retain(|_, list| !list.is_empty());
        }
        let mut helpers_seen: HashSet<(String, String)> = HashSet::new();
        for (category, list) in &sites {
            for site in list.iter().filter(|s| !s.chain.is_sanctioned()) {
                if let Some(helper) = &site.helper {
                    if helpers_seen.insert((helper.clone(), category.clone())) {
                        *helper_reach.entry((helper.clone(), category.clone())).or_default() += 1;
                    }
                }
            }
        }
        adapt.insert(key.to_string(), sites);
    }
    PackagePurity {
        impure: fold.memo.into_iter().filter(|(_, v)| !v.is_empty()).collect(),
        registered,
        adapt,
        helper_reach,
        kept,
    }
}

fn direct_chain(path: &str, summary: &FnSummary, op: &ImpureOp) -> Chain {
    Chain {
        op: op.clone(),
        op_path: path.to_string(),
        steps: vec![Step {
            path: path.to_string(),
            span: op.span,
            function: summary.display.clone(),
            kind: StepKind::Operation {
                description: op.description.clone(),
                what: op.what.clone(),
            },
        }],
        via: Vec::new(),
        needs: op.needs.iter().cloned().collect(),
        mark: None,
    }
}

/// The chain through a call, unless the arguments make the operation unreachable.
fn call_chain_if(path: &str, summary: &FnSummary, site: Span, callee: &str, inner: &Chain) -> Option<Chain> {
    let needs = map_needs(&inner.needs, summary.call_args.get(&site.start))?;
    let mut chain = call_chain(path, summary, site, callee, inner);
    chain.needs = needs;
    if chain.mark.is_none() {
        if let Some(mark) = summary.marks.get(&site.start) {
            if mark.categories.contains(&chain.op.category) {
                chain.mark = Some(mark.kind);
            }
        }
    }
    Some(chain)
}

fn call_chain(path: &str, summary: &FnSummary, site: Span, callee: &str, inner: &Chain) -> Chain {
    let mut steps = vec![Step {
        path: path.to_string(),
        span: site,
        function: summary.display.clone(),
        kind: StepKind::Calls {
            callee: callee.to_string(),
        },
    }];
    steps.extend(inner.steps.iter().cloned());
    let mut via = vec![callee.to_string()];
    via.extend(inner.via.iter().cloned());
    Chain {
        op: inner.op.clone(),
        op_path: inner.op_path.clone(),
        steps,
        via,
        needs: inner.needs.clone(),
        mark: inner.mark,
    }
}

impl Fold<'_, '_, '_> {
    /// A callee key as the package knows it: `*.method` (a method on a package-level variable
    /// of unknown type) is the package's one method of that name, if there is exactly one.
    fn resolve_key(&self, callee: &str) -> Option<String> {
        let Some(method) = callee.strip_prefix("*.") else {
            return Some(callee.to_string());
        };
        let mut found = self
            .by_key
            .keys()
            .filter(|k| k.rsplit_once('.').is_some_and(|(_, m)| m == method));
        match (found.next(), found.next()) {
            (Some(key), None) => Some(key.to_string()),
            _ => None,
        }
    }

    /// The writes to package state made by calling receiver-writing methods on package-level
    /// variables.
    fn global_method_writes(&self, summary: &FnSummary) -> Vec<ImpureOp> {
        summary
            .global_method_ops
            .iter()
            .filter(|(key, _)| {
                self.resolve_key(key)
                    .and_then(|k| self.by_key.get(k.as_str()))
                    .is_some_and(|(_, s)| s.writes_receiver)
            })
            .map(|(_, op)| op.clone())
            .collect()
    }

    /// The categories a same-package function reaches, with the first chain for each.
    /// Depth-first with memo; a function already on the stack counts as pure for the caller in
    /// progress, so recursion terminates; results that relied on that are not memoized.
    fn resolve(&mut self, key: &str, depth: usize) -> (BTreeMap<String, Chain>, bool) {
        if let Some(done) = self.memo.get(key) {
            return (done.clone(), false);
        }
        let Some(&(path, summary)) = self.by_key.get(key) else {
            return (BTreeMap::new(), false);
        };
        if self.on_stack.contains(key) || depth > 256 {
            return (BTreeMap::new(), true);
        }
        let mut found: BTreeMap<String, Chain> = BTreeMap::new();
        for op in summary.ops.iter().chain(&self.global_method_writes(summary)) {
            merge(&mut found, op.category.clone(), direct_chain(path, summary, op));
        }
        self.on_stack.insert(key.to_string());
        let mut provisional = false;
        for (callee, site) in &summary.calls {
            let Some(callee) = self.resolve_key(callee) else {
                continue;
            };
            let callee = &callee;
            let (inner, touched) = self.resolve(callee, depth + 1);
            provisional |= touched;
            let display = self
                .by_key
                .get(callee.as_str())
                .map(|(_, s)| s.display.clone())
                .unwrap_or_else(|| callee.clone());
            for (category, chain) in inner {
                if let Some(chain) = call_chain_if(path, summary, *site, &display, &chain) {
                    merge(&mut found, category, chain);
                }
            }
        }
        for ext in &summary.ext_calls {
            for (category, chain) in self.external(ext) {
                let display = ext.shown();
                if let Some(chain) = call_chain_if(path, summary, ext.span, &display, &chain) {
                    merge(&mut found, category, chain);
                }
            }
        }
        self.on_stack.remove(key);
        if !provisional || self.on_stack.is_empty() {
            self.memo.insert(key.to_string(), found.clone());
        }
        (found, provisional)
    }

    fn external(&mut self, ext: &ExtCall) -> BTreeMap<String, Chain> {
        (self.deps)(&ext.import)
            .and_then(|package| package.impure.get(&ext.function).cloned())
            .unwrap_or_default()
    }

    /// Every site where `summary` reaches each category: its own operations and its calls.
    fn sites(&mut self, path: &str, summary: &FnSummary) -> BTreeMap<String, Vec<Site>> {
        let mut out: BTreeMap<String, Vec<Site>> = BTreeMap::new();
        for op in summary.ops.iter().chain(&self.global_method_writes(summary)) {
            out.entry(op.category.clone()).or_default().push(Site {
                span: op.span,
                helper: None,
                chain: direct_chain(path, summary, op),
            });
        }
        for (callee, site) in &summary.calls {
            let Some(callee) = self.resolve_key(callee) else {
                continue;
            };
            let callee = &callee;
            let (inner, _) = self.resolve(callee, 1);
            let display = self
                .by_key
                .get(callee.as_str())
                .map(|(_, s)| s.display.clone())
                .unwrap_or_else(|| callee.clone());
            for (category, chain) in inner {
                let Some(chain) = call_chain_if(path, summary, *site, &display, &chain) else {
                    continue;
                };
                out.entry(category).or_default().push(Site {
                    span: *site,
                    helper: Some(callee.clone()),
                    chain,
                });
            }
        }
        for ext in &summary.ext_calls {
            let display = ext.shown();
            for (category, chain) in self.external(ext) {
                let Some(chain) = call_chain_if(path, summary, ext.span, &display, &chain) else {
                    continue;
                };
                out.entry(category).or_default().push(Site {
                    span: ext.span,
                    helper: Some(format!("{}::{}", ext.import, ext.function)),
                    chain,
                });
            }
        }
        for list in out.values_mut() {
            list.sort_by_key(|s| s.span.start);
        }
        out
    }
}

/// A file's purity summary: per function, its direct impure operations, its same-package calls
/// and its calls into other packages.
#[salsa::tracked(returns(ref))]
pub fn file_purity(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Arc<FilePurity> {
    let dir = dir_of(file.path(db)).to_string();
    let globals = package_globals(db, ws, dir.clone());
    let own_import = package_import_path(db, ws, dir);
    Arc::new(summarize_file(
        go_facts(db, file),
        ws.model(db),
        globals,
        own_import.as_deref(),
    ))
}

/// Test files are not part of a package's summary: they are no adapt functions' helpers, and an
/// external test package (`package x_test`) may import packages that import `x`.
fn is_test_file(path: &str) -> bool {
    path.ends_with("_test.go")
}

/// The package's call graph folded into "which functions are impure, in which categories, and
/// through which chain", following calls into other packages of the workspace (each summarised
/// once by this same query; Go forbids import cycles, so the summaries form a DAG; a cycle in
/// broken code falls back to an empty summary).
#[salsa::tracked(returns(ref), cycle_result = package_purity_cycle)]
pub fn package_purity(db: &dyn salsa::Database, ws: Workspace, dir: String) -> Arc<PackagePurity> {
    let files: Vec<(String, Arc<FilePurity>)> = package_files(db, ws, &dir)
        .into_iter()
        .filter(|f| !is_test_file(f.path(db)))
        .map(|f| (f.path(db).clone(), file_purity(db, ws, f).clone()))
        .collect();
    let index = module_index(db, ws);
    let mut deps: HashMap<String, Option<Arc<PackagePurity>>> = HashMap::new();
    let mut lookup = |import: &str| -> Option<Arc<PackagePurity>> {
        deps.entry(import.to_string())
            .or_insert_with(|| {
                index
                    .resolve(&dir, import)
                    .map(|dep| package_purity(db, ws, dep).clone())
            })
            .clone()
    };
    Arc::new(fold_package(&files, &mut lookup))
}

fn package_purity_cycle(_db: &dyn salsa::Database, _id: salsa::Id, _ws: Workspace, _dir: String) -> Arc<PackagePurity> {
    Arc::default()
}

/// The adapt-purity findings of one file: one per adapt function and category, at its first
/// site, with every site's chain as related information.
pub fn check(db: &dyn salsa::Database, ws: Workspace, file: SourceFile, cx: &GoContext<'_>) -> Vec<Finding> {
    if !cx.component.is_some_and(|c| c.adapt_functions) {
        return Vec::new();
    }
    let path = file.path(db);
    let summary = file_purity(db, ws, file);
    let package = package_purity(db, ws, dir_of(path).to_string());
    let adapt = &cx.model.model.adapt;
    let mut out = Vec::new();
    for function in &summary.functions {
        let Some(categories) = package.adapt.get(&function.key) else {
            continue;
        };
        // The existing value is kept: registered with a keep-existing option, or the function
        // reads the existing object back itself (to keep what it generated before).
        let kept = package.kept.contains(&function.key)
            || adapt.impure.iter().any(|c| {
                c.adapted_object_only && c.into_adapted_object != Some(false) && categories.contains_key(&c.id)
            });
        for (category, sites) in categories {
            let silent_when_kept = adapt.impure.iter().any(|c| &c.id == category && c.silent_when_kept);
            if kept && silent_when_kept {
                continue;
            }
            // Sanctioned routes are no finding; a per-cluster decision (actionable) leads.
            let mut sites: Vec<&Site> = sites.iter().filter(|s| !s.chain.is_sanctioned()).collect();
            sites.sort_by_key(|s| (s.chain.rank(), s.span.start));
            let Some(first) = sites.first().copied() else { continue };
            let code = format!("adapt-purity/{category}");
            let what = if first.chain.via.is_empty() {
                first.chain.op.what.clone()
            } else {
                format!("{} → {}", first.chain.via.join(" → "), first.chain.op.what)
            };
            let mut notes = Vec::new();
            if sites.len() > 1 {
                if let Some(template) = &adapt.more_sites {
                    notes.push(crate::model::render(template, &[("n", &(sites.len() - 1).to_string())]));
                }
            }
            if let (Some(helper), Some(template)) = (&first.helper, &adapt.shared_helper) {
                let others = package
                    .helper_reach
                    .get(&(helper.clone(), category.clone()))
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(1);
                if others > 0 {
                    let shown = first.chain.via.first().cloned().unwrap_or_else(|| helper.clone());
                    notes.push(crate::model::render(
                        template,
                        &[("helper", &shown), ("n", &others.to_string())],
                    ));
                }
            }
            let more = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join("; "))
            };
            let per_cluster = match first.chain.mark {
                Some(MarkKind::PerCluster(i)) => adapt.per_cluster.get(i).zip(adapt.per_cluster_message.as_ref()),
                _ => None,
            };
            let message = match per_cluster {
                Some((entry, template)) => crate::model::render(
                    template,
                    &[
                        ("function", &function.shown_name()),
                        ("what", &what),
                        ("instead", &entry.instead),
                        ("why", &entry.why),
                        ("more", &more),
                    ],
                ),
                None => cx.model.message(
                    &code,
                    &[
                        ("function", &function.shown_name()),
                        ("what", &what),
                        ("description", &first.chain.op.description),
                        ("more", &more),
                    ],
                ),
            };
            let mut finding = Finding::new(&code, first.span, message);
            // The first site is the finding itself: its chain from the next step on.
            for (i, site) in sites.iter().enumerate() {
                let skip = usize::from(i == 0);
                finding
                    .related
                    .extend(site.chain.steps.iter().skip(skip).map(|s| s.related(cx.model)));
            }
            out.push(finding);
        }
    }
    out
}
