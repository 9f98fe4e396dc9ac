//! Reason flows: where the value of a condition's `Reason` comes from, beyond a literal written
//! in place. A reason reaches its field through a local variable (`reason := ..; Reason:
//! reason`), as the result of a same-package function (`cond.Reason = reasonFor(x)`, `reason,
//! message = aggregate(..)`), through a helper's parameter, as a constant, or built by joining
//! per-item reasons (`strings.Join(reasons, ",")`). The facts here are per file and per
//! function; the rule links them across the package's files.

use tree_sitter::{Node, Tree};

use super::go::string_literal;
use super::Span;
use crate::syntax::node_text;

/// Resolving a local variable follows at most this many assignments deep.
const MAX_DEPTH: usize = 4;
/// A function's origins per result position are capped (generated code can be huge).
const MAX_ORIGINS: usize = 64;

/// Where a value may come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A string literal (not empty).
    Literal { value: String, span: Span },
    /// `strings.Join(..)`: a list joined into one string.
    Joined { span: Span },
    /// Result `index` of a call to the same-package function or method `function`.
    Call { function: String, index: usize },
    /// An unqualified identifier that is not a local variable: a package constant.
    Const { name: String },
    /// Parameter `index` of the enclosing named function `function`.
    Param { function: String, index: usize },
}

/// How a value reaches a `Reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReasonSinkKind {
    /// `Reason: <value>` in a composite literal (the rule decides whether it is a condition).
    LiteralField,
    /// `receiver.Reason = <value>`.
    Assignment { receiver: String },
    /// `.WithReason(<value>)` and the like: the method name.
    Builder { method: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonSink {
    pub kind: ReasonSinkKind,
    pub value_span: Span,
    /// The value is the literal itself (reported by the in-place rule, not again here).
    pub direct_literal: bool,
    pub origins: Vec<Origin>,
}

/// What a named function returns at each result position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionReturns {
    pub function: String,
    pub results: Vec<Vec<Origin>>,
}

/// A call to a same-package function with the origins of each argument (only calls with at
/// least one argument whose origin is known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallArgs {
    pub function: String,
    pub args: Vec<Vec<Origin>>,
}

/// A `for .. range <expr>` loop: what a message grown in its body lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeLoop {
    pub body: Span,
    /// The ranged expression's text (cut).
    pub range: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReasonFacts {
    pub sinks: Vec<ReasonSink>,
    pub returns: Vec<FunctionReturns>,
    pub calls: Vec<CallArgs>,
    /// Range loops, by body start.
    pub loops: Vec<RangeLoop>,
}

impl ReasonFacts {
    /// The ranged expression of the innermost range loop around `offset`.
    pub fn range_at(&self, offset: u32) -> Option<&str> {
        self.loops
            .iter()
            .filter(|l| l.body.contains(offset))
            .max_by_key(|l| l.body.start)
            .map(|l| l.range.as_str())
    }
}

fn range_loops(root: Node<'_>, text: &str, out: &mut Vec<RangeLoop>) {
    let mut stack = vec![root];
    // One cursor for the whole walk (a cursor per node is an allocation per node).
    let mut cursor = root.walk();
    while let Some(n) = stack.pop() {
        if n.kind() == "for_statement" {
            let range = n
                .named_children(&mut cursor)
                .find(|c| c.kind() == "range_clause")
                .and_then(|c| c.child_by_field_name("right"));
            if let (Some(range), Some(body)) = (range, n.child_by_field_name("body")) {
                let range = node_text(range, text);
                let end = crate::text::clamp_to_char_boundary(range, 120);
                out.push(RangeLoop {
                    body: span(body),
                    range: range[..end].to_string(),
                });
            }
        }
        stack.extend(n.named_children(&mut cursor));
    }
}

fn span(node: Node<'_>) -> Span {
    Span::new(node.start_byte(), node.end_byte())
}

/// One named function being read: its name, parameters and local assignments.
struct Scope<'t> {
    name: String,
    params: Vec<String>,
    /// `var` → (value expression, result position when the value is a multi-result call), in
    /// source order per name (by name: looking a variable up is not a scan of the function).
    assigns: std::collections::HashMap<String, Vec<(Node<'t>, usize)>>,
    locals: std::collections::HashSet<String>,
    imports: &'t [String],
}

/// Extracts the reason facts of a file. `imports` are the file's import local names (a call
/// `pkg.F(..)` on an import is not a same-package call).
pub fn extract(tree: &Tree, text: &str, imports: &[String]) -> ReasonFacts {
    let mut facts = ReasonFacts::default();
    let root = tree.root_node();
    range_loops(root, text, &mut facts.loops);
    facts.loops.sort_by_key(|l| l.body.start);
    let mut cursor = root.walk();
    for decl in root.named_children(&mut cursor) {
        if !matches!(decl.kind(), "function_declaration" | "method_declaration") {
            continue;
        }
        let (Some(name), Some(body)) = (decl.child_by_field_name("name"), decl.child_by_field_name("body")) else {
            continue;
        };
        let mut scope = Scope {
            name: node_text(name, text).to_string(),
            params: Vec::new(),
            assigns: Default::default(),
            locals: Default::default(),
            imports,
        };
        if let Some(params) = decl.child_by_field_name("parameters") {
            for p in params.named_children(&mut params.walk()) {
                let mut names: Vec<String> = p
                    .children_by_field_name("name", &mut p.walk())
                    .map(|n| node_text(n, text).to_string())
                    .collect();
                if names.is_empty() {
                    names.push("_".into());
                }
                scope.params.extend(names);
            }
        }
        collect_assigns(body, text, &mut scope);
        let mut returns: Vec<Vec<Origin>> = Vec::new();
        walk(body, text, &scope, &mut facts, &mut returns, true);
        if returns.iter().any(|r| !r.is_empty()) {
            facts.returns.push(FunctionReturns {
                function: scope.name.clone(),
                results: returns,
            });
        }
    }
    facts
}

/// Every assignment and declaration of a local variable in `node` (nested literals included).
fn collect_assigns<'t>(node: Node<'t>, text: &str, scope: &mut Scope<'t>) {
    let mut stack = vec![node];
    let mut cursor = node.walk();
    while let Some(n) = stack.pop() {
        match n.kind() {
            "short_var_declaration" | "assignment_statement" | "var_spec" => {
                let (left, right) = if n.kind() == "var_spec" {
                    (None, n.child_by_field_name("value"))
                } else {
                    (n.child_by_field_name("left"), n.child_by_field_name("right"))
                };
                let names: Vec<Node<'t>> = match left {
                    Some(l) => l.named_children(&mut l.walk()).collect(),
                    None => n.children_by_field_name("name", &mut n.walk()).collect(),
                };
                let values: Vec<Node<'t>> = right
                    .map(|r| r.named_children(&mut r.walk()).collect())
                    .unwrap_or_default();
                for (i, target) in names.iter().enumerate() {
                    if target.kind() != "identifier" {
                        continue;
                    }
                    let var = node_text(*target, text).to_string();
                    if n.kind() != "assignment_statement" {
                        scope.locals.insert(var.clone());
                    }
                    if values.len() == names.len() {
                        scope.assigns.entry(var).or_default().push((values[i], 0));
                    } else if values.len() == 1 {
                        scope.assigns.entry(var).or_default().push((values[0], i));
                    }
                }
            }
            "range_clause" => {
                if let Some(l) = n.child_by_field_name("left") {
                    for t in l.named_children(&mut l.walk()) {
                        scope.locals.insert(node_text(t, text).to_string());
                    }
                }
            }
            _ => {}
        }
        stack.extend(n.named_children(&mut cursor));
    }
}

/// Finds sinks, returns (outside nested function literals when `top`) and calls in `node`.
fn walk(
    node: Node<'_>,
    text: &str,
    scope: &Scope<'_>,
    facts: &mut ReasonFacts,
    returns: &mut Vec<Vec<Origin>>,
    top: bool,
) {
    let mut stack = vec![(node, top)];
    let mut cursor = node.walk();
    while let Some((n, top)) = stack.pop() {
        match n.kind() {
            "keyed_element" => {
                if let (Some(key), Some(value)) = (n.child_by_field_name("key"), n.child_by_field_name("value")) {
                    if node_text(key, text).trim() == "Reason" {
                        let value = value.named_child(0).unwrap_or(value);
                        push_sink(ReasonSinkKind::LiteralField, value, text, scope, facts);
                    }
                }
            }
            "assignment_statement" => {
                if let (Some(l), Some(r)) = (n.child_by_field_name("left"), n.child_by_field_name("right")) {
                    if let (1, 1, Some(target), Some(value)) = (
                        l.named_child_count(),
                        r.named_child_count(),
                        l.named_child(0),
                        r.named_child(0),
                    ) {
                        if target.kind() == "selector_expression" {
                            let field = target.child_by_field_name("field").map(|f| node_text(f, text));
                            let operand = target.child_by_field_name("operand").map(|o| node_text(o, text));
                            if let (Some("Reason"), Some(receiver)) = (field, operand) {
                                let kind = ReasonSinkKind::Assignment {
                                    receiver: receiver.to_string(),
                                };
                                push_sink(kind, value, text, scope, facts);
                            }
                        }
                    }
                }
            }
            "call_expression" => call(n, text, scope, facts),
            "return_statement" if top => {
                if let Some(list) = n.named_child(0) {
                    let values: Vec<Node<'_>> = if list.kind() == "expression_list" {
                        list.named_children(&mut list.walk()).collect()
                    } else {
                        vec![list]
                    };
                    if returns.len() < values.len() {
                        returns.resize(values.len(), Vec::new());
                    }
                    for (i, v) in values.iter().enumerate() {
                        let mut origins = Vec::new();
                        origins_of(*v, text, scope, 0, &mut origins);
                        let slot = &mut returns[i];
                        for o in origins {
                            if slot.len() < MAX_ORIGINS && !slot.contains(&o) {
                                slot.push(o);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        let top = top && n.kind() != "func_literal";
        stack.extend(n.named_children(&mut cursor).map(|c| (c, top)));
    }
}

fn push_sink(kind: ReasonSinkKind, value: Node<'_>, text: &str, scope: &Scope<'_>, facts: &mut ReasonFacts) {
    let mut origins = Vec::new();
    origins_of(value, text, scope, 0, &mut origins);
    let direct_literal = string_literal(value, text).is_some();
    if !origins.is_empty() {
        facts.sinks.push(ReasonSink {
            kind,
            value_span: span(value),
            direct_literal,
            origins,
        });
    }
}

/// `.WithReason(x)` sinks, and same-package calls with arguments of known origin.
fn call(n: Node<'_>, text: &str, scope: &Scope<'_>, facts: &mut ReasonFacts) {
    let (Some(function), Some(args)) = (n.child_by_field_name("function"), n.child_by_field_name("arguments")) else {
        return;
    };
    if let Some(method) = same_package_callee(function, text, scope) {
        if method == "WithReason" && args.named_child_count() == 1 {
            if let Some(arg) = args.named_child(0) {
                push_sink(ReasonSinkKind::Builder { method }, arg, text, scope, facts);
            }
            return;
        }
        let mut all = Vec::new();
        for arg in args.named_children(&mut args.walk()) {
            let mut origins = Vec::new();
            origins_of(arg, text, scope, 0, &mut origins);
            // Literal arguments are the in-place rule's (helper reason parameters).
            origins.retain(|o| !matches!(o, Origin::Literal { .. }) || string_literal(arg, text).is_none());
            all.push(origins);
        }
        if all.iter().any(|a| !a.is_empty()) {
            facts.calls.push(CallArgs {
                function: method,
                args: all,
            });
        }
    } else if function.kind() == "selector_expression" {
        // A builder on an imported package's value (`metav1apply.Condition().WithReason(x)`).
        let field = function
            .child_by_field_name("field")
            .map(|f| node_text(f, text).to_string());
        if let (Some(method), 1) = (field, args.named_child_count()) {
            if method == "WithReason" {
                if let Some(arg) = args.named_child(0) {
                    push_sink(ReasonSinkKind::Builder { method }, arg, text, scope, facts);
                }
            }
        }
    }
}

/// The name of a same-package function or method a call goes to: `f(..)`, `r.f(..)` on a
/// variable or a chained call (not `pkg.F(..)` on an import).
fn same_package_callee(function: Node<'_>, text: &str, scope: &Scope<'_>) -> Option<String> {
    match function.kind() {
        "identifier" => Some(node_text(function, text).to_string()),
        "selector_expression" => {
            let operand = function.child_by_field_name("operand")?;
            let field = function.child_by_field_name("field")?;
            let on_import = operand.kind() == "identifier" && {
                let name = node_text(operand, text);
                scope.imports.iter().any(|i| i == name) && !is_local(scope, name)
            };
            (!on_import).then(|| node_text(field, text).to_string())
        }
        _ => None,
    }
}

fn is_local(scope: &Scope<'_>, name: &str) -> bool {
    scope.params.iter().any(|p| p == name) || scope.locals.contains(name)
}

/// The origins of an expression, following local variables `depth` assignments deep.
fn origins_of(node: Node<'_>, text: &str, scope: &Scope<'_>, depth: usize, out: &mut Vec<Origin>) {
    if depth > MAX_DEPTH || out.len() >= MAX_ORIGINS {
        return;
    }
    match node.kind() {
        "interpreted_string_literal" | "raw_string_literal" => {
            if let Some(value) = string_literal(node, text).filter(|v| !v.is_empty()) {
                out.push(Origin::Literal {
                    value,
                    span: span(node),
                });
            }
        }
        "parenthesized_expression" => {
            if let Some(inner) = node.named_child(0) {
                origins_of(inner, text, scope, depth, out);
            }
        }
        "identifier" => {
            let name = node_text(node, text);
            if let Some(index) = scope.params.iter().position(|p| p == name) {
                out.push(Origin::Param {
                    function: scope.name.clone(),
                    index,
                });
            } else if is_local(scope, name) {
                for (value, position) in scope.assigns.get(name).into_iter().flatten() {
                    if value.id() != node.id() {
                        if *position > 0 || value.kind() == "call_expression" && *position == 0 {
                            if let Some(origin) = call_origin(*value, *position, text, scope) {
                                push_unique(out, origin);
                                continue;
                            }
                        }
                        if *position == 0 {
                            origins_of(*value, text, scope, depth + 1, out);
                        }
                    }
                }
            } else if name != "nil" && name != "true" && name != "false" {
                push_unique(out, Origin::Const { name: name.to_string() });
            }
        }
        "call_expression" => {
            if let Some(origin) = call_origin(node, 0, text, scope) {
                push_unique(out, origin);
            } else if let (Some(f), Some(args)) = (
                node.child_by_field_name("function"),
                node.child_by_field_name("arguments"),
            ) {
                // A conversion (`string(x)`, `hyperv1.ConditionReason(x)`) keeps the origin.
                let conversion = args.named_child_count() == 1
                    && (node_text(f, text) == "string" || node_text(f, text).ends_with("Reason"));
                if conversion {
                    if let Some(arg) = args.named_child(0) {
                        origins_of(arg, text, scope, depth, out);
                    }
                }
            }
        }
        _ => {}
    }
}

fn push_unique(out: &mut Vec<Origin>, origin: Origin) {
    if !out.contains(&origin) {
        out.push(origin);
    }
}

/// `strings.Join(..)` → joined; a same-package call → its result `index`.
fn call_origin(node: Node<'_>, index: usize, text: &str, scope: &Scope<'_>) -> Option<Origin> {
    if node.kind() != "call_expression" {
        return None;
    }
    let function = node.child_by_field_name("function")?;
    if node_text(function, text) == "strings.Join" && !is_local(scope, "strings") {
        return Some(Origin::Joined { span: span(node) });
    }
    let name = same_package_callee(function, text, scope)?;
    // Builders and conversions of the standard library are not functions of this package.
    if matches!(
        name.as_str(),
        "string" | "String" | "Error" | "Sprintf" | "len" | "append"
    ) {
        return None;
    }
    Some(Origin::Call { function: name, index })
}
