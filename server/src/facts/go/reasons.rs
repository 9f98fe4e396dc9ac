//! Reason flows: where the value of a condition's `Reason` comes from, beyond a literal written
//! in place. A reason reaches its field through a local variable (`reason := ..; Reason:
//! reason`), as the result of a same-package function (`cond.Reason = reasonFor(x)`, `reason,
//! message = aggregate(..)`), through a helper's parameter, as a constant, or built by joining
//! per-item reasons (`strings.Join(reasons, ",")`). The facts here are per file and per
//! function; the rule links them across the package's files.
//!
//! They are read per top-level declaration ([`DeclReasons`], beside the declaration's other
//! facts and cached with them), with offsets relative to the declaration's start. What needs
//! the rest of the file is left open and decided when the file's facts are assembled
//! ([`DeclReasons::place`]): whether `q.F(..)` calls the package's own `F` or a function of
//! an import named `q`. [`Gather`] picks the nodes it needs during the declaration's one walk.

use crate::facts::go::{GoNode, FIELD_IDS};
use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use tree_sitter::{Node, Tree, TreeCursor};

use super::string_literal;
use super::Span;
use crate::syntax::{descendants, node_text};

/// Does a file's text mention a reason? A file that does not has no sink, reason parameter or
/// reason constant, so the package's flows never read it (`rules::condition_naming::flows`), and its
/// declarations do not record the arguments of their calls (the one fact only the flows read).
pub fn mentions_reason(text: &str) -> bool {
    text.contains("Reason") || text.contains("reason")
}

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

/// The reason facts of one top-level declaration, offsets relative to its start. Calls on a
/// name that is no local variable (`q.F(..)`) are kept both ways until [`DeclReasons::place`]
/// knows the file's imports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclReasons {
    sinks: Vec<SinkDraft>,
    /// The named function's returns, per `return` statement (outside function literals).
    returns: Option<ReturnsDraft>,
    calls: Vec<CallDraft>,
    /// By body start.
    loops: Vec<RangeLoop>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SinkDraft {
    kind: ReasonSinkKind,
    value_span: Span,
    direct_literal: bool,
    origins: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ReturnsDraft {
    function: String,
    /// Per `return` statement with values, in the order read: each value's origins.
    statements: Vec<Vec<Vec<Step>>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CallDraft {
    function: String,
    /// For `q.F(..)` where `q` is no local name: `q` (the call is the package's own unless
    /// `q` names an import).
    qualifier: Option<String>,
    /// Per argument: its origins, and whether it is a string literal (whose literal origin
    /// belongs to the in-place rule).
    args: Vec<(Vec<Step>, bool)>,
}

/// How the origins of a value are found, replayed against the file's imports by
/// [`DeclReasons::place`] (the replay gives what a walk knowing the imports would have
/// found, in the same order and with the same caps).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Adds an origin (once only, when `unique`).
    Push { origin: Origin, unique: bool },
    /// The steps of one more expression, taken while fewer than [`MAX_ORIGINS`] are found.
    Guard(Vec<Step>),
    /// A call `qualifier.F(..)`: the origin `call` unless `qualifier` names an import, else
    /// the steps `otherwise`.
    CallOr {
        qualifier: String,
        call: Origin,
        otherwise: Vec<Step>,
    },
}

thread_local! {
    static READ: Cell<u64> = const { Cell::new(0) };
}

/// How many top-level declarations this thread has read for their reason facts (for
/// incrementality tests).
pub fn declarations_read() -> u64 {
    READ.with(Cell::get)
}

/// The kinds of node [`Gather`] notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Other,
    /// `for_statement`.
    For,
    /// `short_var_declaration`, `var_spec`, `range_clause`.
    Declare,
    /// `assignment_statement`.
    Assign,
    /// `keyed_element`, `call_expression`.
    Visit,
    /// `return_statement`.
    Return,
    /// `func_literal`.
    FuncLiteral,
}

/// Per kind id of the grammar (every id whose name is one of the kinds).
static KINDS: LazyLock<Vec<Kind>> = LazyLock::new(|| {
    let language = crate::syntax::Lang::Go.language();
    (0..language.node_kind_count() as u16)
        .map(|id| {
            if !language.node_kind_is_named(id) {
                return Kind::Other;
            }
            match language.node_kind_for_id(id).unwrap_or("") {
                "for_statement" => Kind::For,
                "short_var_declaration" | "var_spec" | "range_clause" => Kind::Declare,
                "assignment_statement" => Kind::Assign,
                "keyed_element" | "call_expression" => Kind::Visit,
                "return_statement" => Kind::Return,
                "func_literal" => Kind::FuncLiteral,
                _ => Kind::Other,
            }
        })
        .collect()
});

/// The nodes of one top-level declaration that hold reason facts, noted during a walk of it
/// in document order ([`Gather::note`]), then read by [`Gather::finish`].
pub struct Gather<'t> {
    origin: usize,
    /// Whether the file mentions a reason ([`mentions_reason`]): the arguments of calls are
    /// recorded only then.
    file_mentions_reason: bool,
    /// A named function: its declaration, name and body.
    function: Option<(Node<'t>, Node<'t>, Node<'t>)>,
    /// `for` statements anywhere in the declaration.
    loops: Vec<Node<'t>>,
    /// In the body: declarations and assignments of local variables.
    assigns: Vec<Node<'t>>,
    /// In the body: keyed elements, assignments, calls, and `return`s outside function
    /// literals.
    visits: Vec<Node<'t>>,
    /// Where the function literals around the node being noted end.
    func_literals: Vec<usize>,
}

impl<'t> Gather<'t> {
    pub fn new(decl: Node<'t>, file_mentions_reason: bool) -> Gather<'t> {
        let f = &*FIELD_IDS;
        let function = matches!(decl.go_kind(), "function_declaration" | "method_declaration")
            .then(|| decl.child_by_field_id(f.name).zip(decl.child_by_field_id(f.body)))
            .flatten()
            .map(|(name, body)| (decl, name, body));
        Gather {
            origin: decl.start_byte(),
            file_mentions_reason,
            function,
            loops: Vec::new(),
            assigns: Vec::new(),
            visits: Vec::new(),
            func_literals: Vec::new(),
        }
    }

    /// Notes one node of the declaration (every node, in document order).
    pub fn note(&mut self, node: Node<'t>) {
        // By kind id: `Node::kind` looks the name up and checks it is UTF-8, for every node.
        let kind = KINDS.get(node.kind_id() as usize).copied().unwrap_or(Kind::Other);
        if kind == Kind::Other {
            return;
        }
        if kind == Kind::For {
            self.loops.push(node);
            return;
        }
        let Some((_, _, body)) = self.function else {
            return;
        };
        let (start, end) = (node.start_byte(), node.end_byte());
        if start < body.start_byte() || end > body.end_byte() {
            return;
        }
        match kind {
            Kind::Declare => self.assigns.push(node),
            Kind::Assign => {
                self.assigns.push(node);
                self.visits.push(node);
            }
            Kind::Visit => self.visits.push(node),
            Kind::Return | Kind::FuncLiteral => {
                // Literals that ended before this node are left (nodes come by start).
                while self.func_literals.last().is_some_and(|&e| start >= e) {
                    self.func_literals.pop();
                }
                if kind == Kind::FuncLiteral {
                    self.func_literals.push(end);
                } else if self.func_literals.is_empty() {
                    self.visits.push(node);
                }
            }
            Kind::Other | Kind::For => {}
        }
    }

    /// The declaration's reason facts.
    pub fn finish(self, text: &str) -> DeclReasons {
        READ.with(|r| r.set(r.get() + 1));
        let f = &*FIELD_IDS;
        let mut cursor = match self.function {
            Some((decl, _, _)) => decl.walk(),
            None => match self.loops.first() {
                Some(n) => n.walk(),
                None => return DeclReasons::default(),
            },
        };
        let origin = self.origin;
        let rel = |node: Node<'_>| Span::new(node.start_byte() - origin, node.end_byte() - origin);
        let mut facts = DeclReasons::default();
        for n in &self.loops {
            let range = n
                .named_children(&mut cursor)
                .find(|c| c.go_kind() == "range_clause")
                .and_then(|c| c.child_by_field_id(f.right));
            if let (Some(range), Some(body)) = (range, n.child_by_field_id(f.body)) {
                let range = node_text(range, text);
                let end = crate::text::clamp_to_char_boundary(range, 120);
                facts.loops.push(RangeLoop {
                    body: rel(body),
                    range: range[..end].to_string(),
                });
            }
        }
        facts.loops.sort_by_key(|l| l.body.start);
        let Some((decl, name, _)) = self.function else {
            return facts;
        };
        let mut scope = Scope {
            name: node_text(name, text).to_string(),
            params: Vec::new(),
            assigns: HashMap::new(),
            locals: HashSet::new(),
            origin,
        };
        if let Some(params) = decl.child_by_field_id(f.parameters) {
            let children: Vec<Node<'_>> = params.named_children(&mut cursor).collect();
            for p in children {
                let before = scope.params.len();
                scope.params.extend(
                    p.children_by_field_id(field_id(f.name), &mut cursor)
                        .map(|n| node_text(n, text)),
                );
                if scope.params.len() == before {
                    scope.params.push("_");
                }
            }
        }
        // The walk this replaces took nodes from a stack: last child first. Sorted by end,
        // latest first (document order among equal ends: the outer node first), the nodes come
        // in that order, so variables' assignments and the facts keep their order.
        let mut assigns = self.assigns;
        assigns.sort_by_key(|n| Reverse(n.end_byte()));
        for n in assigns {
            collect_assign(n, text, &mut scope, &mut cursor);
        }
        let mut visits = self.visits;
        visits.sort_by_key(|n| Reverse(n.end_byte()));
        let mut statements = Vec::new();
        for n in visits {
            match n.go_kind() {
                "keyed_element" => {
                    if let (Some(key), Some(value)) = (n.child_by_field_id(f.key), n.child_by_field_id(f.value)) {
                        if node_text(key, text).trim() == "Reason" {
                            let value = value.named_child(0).unwrap_or(value);
                            push_sink(ReasonSinkKind::LiteralField, value, text, &scope, &mut facts);
                        }
                    }
                }
                "assignment_statement" => {
                    if let (Some(l), Some(r)) = (n.child_by_field_id(f.left), n.child_by_field_id(f.right)) {
                        if let (1, 1, Some(target), Some(value)) = (
                            l.named_child_count(),
                            r.named_child_count(),
                            l.named_child(0),
                            r.named_child(0),
                        ) {
                            if target.go_kind() == "selector_expression" {
                                let field = target.child_by_field_id(f.field).map(|x| node_text(x, text));
                                let operand = target.child_by_field_id(f.operand).map(|o| node_text(o, text));
                                if let (Some("Reason"), Some(receiver)) = (field, operand) {
                                    let kind = ReasonSinkKind::Assignment {
                                        receiver: receiver.to_string(),
                                    };
                                    push_sink(kind, value, text, &scope, &mut facts);
                                }
                            }
                        }
                    }
                }
                "call_expression" if self.file_mentions_reason => call(n, text, &scope, &mut facts, &mut cursor),
                "return_statement" => {
                    if let Some(list) = n.named_child(0) {
                        let values: Vec<Node<'_>> = if list.go_kind() == "expression_list" {
                            list.named_children(&mut cursor).collect()
                        } else {
                            vec![list]
                        };
                        statements.push(
                            values
                                .into_iter()
                                .map(|v| {
                                    let mut steps = Vec::new();
                                    origins_of(v, text, &scope, 0, &mut steps);
                                    steps
                                })
                                .collect(),
                        );
                    }
                }
                _ => {}
            }
        }
        if !statements.is_empty() {
            facts.returns = Some(ReturnsDraft {
                function: scope.name.clone(),
                statements,
            });
        }
        facts
    }
}

fn field_id(id: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(id).expect("field ids are non-zero")
}

impl DeclReasons {
    /// The reason facts of the top-level node `decl`, by a walk of its own.
    pub fn of(decl: Node<'_>, text: &str) -> DeclReasons {
        let mut gather = Gather::new(decl, mentions_reason(text));
        for node in descendants(decl) {
            gather.note(node);
        }
        gather.finish(text)
    }

    /// Adds these facts, for the declaration starting at `at` in a file whose imports are
    /// named as `is_import` says, to the file's facts.
    pub fn place(&self, at: u32, is_import: &dyn Fn(&str) -> bool, into: &mut ReasonFacts) {
        let shift = |span: Span| Span {
            start: span.start + at,
            end: span.end + at,
        };
        let resolve = |steps: &[Step]| {
            let mut out = Vec::new();
            replay(steps, at, is_import, &mut out);
            out
        };
        for sink in &self.sinks {
            let origins = resolve(&sink.origins);
            if !origins.is_empty() {
                into.sinks.push(ReasonSink {
                    kind: sink.kind.clone(),
                    value_span: shift(sink.value_span),
                    direct_literal: sink.direct_literal,
                    origins,
                });
            }
        }
        if let Some(draft) = &self.returns {
            let mut returns: Vec<Vec<Origin>> = Vec::new();
            for values in &draft.statements {
                if returns.len() < values.len() {
                    returns.resize(values.len(), Vec::new());
                }
                for (slot, steps) in returns.iter_mut().zip(values) {
                    for o in resolve(steps) {
                        if slot.len() < MAX_ORIGINS && !slot.contains(&o) {
                            slot.push(o);
                        }
                    }
                }
            }
            if returns.iter().any(|r| !r.is_empty()) {
                into.returns.push(FunctionReturns {
                    function: draft.function.clone(),
                    results: returns,
                });
            }
        }
        for call in &self.calls {
            if call.qualifier.as_deref().is_some_and(is_import) {
                continue;
            }
            let args: Vec<Vec<Origin>> = call
                .args
                .iter()
                .map(|(steps, literal)| {
                    let mut origins = resolve(steps);
                    // Literal arguments are the in-place rule's (helper reason parameters).
                    if *literal {
                        origins.retain(|o| !matches!(o, Origin::Literal { .. }));
                    }
                    origins
                })
                .collect();
            if args.iter().any(|a| !a.is_empty()) {
                into.calls.push(CallArgs {
                    function: call.function.clone(),
                    args,
                });
            }
        }
        into.loops.extend(self.loops.iter().map(|l| RangeLoop {
            body: shift(l.body),
            range: l.range.clone(),
        }));
    }
}

/// Replays `steps` into `out`, with spans moved by `at`.
fn replay(steps: &[Step], at: u32, is_import: &dyn Fn(&str) -> bool, out: &mut Vec<Origin>) {
    for step in steps {
        match step {
            Step::Push { origin, unique } => {
                let origin = match origin {
                    Origin::Literal { value, span } => Origin::Literal {
                        value: value.clone(),
                        span: Span {
                            start: span.start + at,
                            end: span.end + at,
                        },
                    },
                    Origin::Joined { span } => Origin::Joined {
                        span: Span {
                            start: span.start + at,
                            end: span.end + at,
                        },
                    },
                    other => other.clone(),
                };
                if *unique {
                    push_unique(out, origin);
                } else {
                    out.push(origin);
                }
            }
            Step::Guard(inner) => {
                if out.len() < MAX_ORIGINS {
                    replay(inner, at, is_import, out);
                }
            }
            Step::CallOr {
                qualifier,
                call,
                otherwise,
            } => {
                if is_import(qualifier) {
                    replay(otherwise, at, is_import, out);
                } else {
                    push_unique(out, call.clone());
                }
            }
        }
    }
}

/// Extracts the reason facts of a file. `imports` are the file's import local names (a call
/// `pkg.F(..)` on an import is not a same-package call).
pub fn extract(tree: &Tree, text: &str, imports: &[String]) -> ReasonFacts {
    let mut facts = ReasonFacts::default();
    let root = tree.root_node();
    let is_import = |name: &str| imports.iter().any(|i| i == name);
    for decl in root.children(&mut root.walk()) {
        DeclReasons::of(decl, text).place(decl.start_byte() as u32, &is_import, &mut facts);
    }
    facts
}

/// One named function being read: its name, parameters and local assignments.
struct Scope<'t, 's> {
    name: String,
    params: Vec<&'s str>,
    /// `var` → (value expression, result position when the value is a multi-result call), in
    /// the order read per name (by name: looking a variable up is not a scan of the function).
    assigns: HashMap<&'s str, Vec<(Node<'t>, usize)>>,
    locals: HashSet<&'s str>,
    /// Where the declaration starts (spans are relative to it).
    origin: usize,
}

impl Scope<'_, '_> {
    fn span(&self, node: Node<'_>) -> Span {
        Span::new(node.start_byte() - self.origin, node.end_byte() - self.origin)
    }
}

/// One assignment or declaration of local variables (or a range clause's variables).
fn collect_assign<'t, 's>(n: Node<'t>, text: &'s str, scope: &mut Scope<'t, 's>, cursor: &mut TreeCursor<'t>) {
    let f = &*FIELD_IDS;
    match n.go_kind() {
        "short_var_declaration" | "assignment_statement" | "var_spec" => {
            let (left, right) = if n.go_kind() == "var_spec" {
                (None, n.child_by_field_id(f.value))
            } else {
                (n.child_by_field_id(f.left), n.child_by_field_id(f.right))
            };
            let names: Vec<Node<'t>> = match left {
                Some(l) => l.named_children(cursor).collect(),
                None => n.children_by_field_id(field_id(f.name), cursor).collect(),
            };
            let values: Vec<Node<'t>> = right.map(|r| r.named_children(cursor).collect()).unwrap_or_default();
            for (i, target) in names.iter().enumerate() {
                if target.go_kind() != "identifier" {
                    continue;
                }
                let var = node_text(*target, text);
                if n.go_kind() != "assignment_statement" {
                    scope.locals.insert(var);
                }
                if values.len() == names.len() {
                    scope.assigns.entry(var).or_default().push((values[i], 0));
                } else if values.len() == 1 {
                    scope.assigns.entry(var).or_default().push((values[0], i));
                }
            }
        }
        "range_clause" => {
            if let Some(l) = n.child_by_field_id(f.left) {
                let names: Vec<Node<'t>> = l.named_children(cursor).collect();
                for t in names {
                    scope.locals.insert(node_text(t, text));
                }
            }
        }
        _ => {}
    }
}

fn push_sink(kind: ReasonSinkKind, value: Node<'_>, text: &str, scope: &Scope<'_, '_>, facts: &mut DeclReasons) {
    let mut origins = Vec::new();
    origins_of(value, text, scope, 0, &mut origins);
    let direct_literal = string_literal(value, text).is_some();
    if !origins.is_empty() {
        facts.sinks.push(SinkDraft {
            kind,
            value_span: scope.span(value),
            direct_literal,
            origins,
        });
    }
}

/// `.WithReason(x)` sinks, and calls with arguments of known origin that may go to the
/// package's own functions.
fn call<'t>(n: Node<'t>, text: &str, scope: &Scope<'_, '_>, facts: &mut DeclReasons, cursor: &mut TreeCursor<'t>) {
    let f = &*FIELD_IDS;
    let (Some(function), Some(args)) = (n.child_by_field_id(f.function), n.child_by_field_id(f.arguments)) else {
        return;
    };
    if let Some((method, qualifier)) = callee(function, text, scope) {
        // On the package's own builder or on an import's (`metav1apply.Condition().WithReason(x)`).
        if method == "WithReason" && args.named_child_count() == 1 {
            if let Some(arg) = args.named_child(0) {
                push_sink(ReasonSinkKind::Builder { method }, arg, text, scope, facts);
            }
            return;
        }
        let arg_nodes: Vec<Node<'t>> = args.named_children(cursor).collect();
        let all: Vec<(Vec<Step>, bool)> = arg_nodes
            .into_iter()
            .map(|arg| {
                let mut steps = Vec::new();
                origins_of(arg, text, scope, 0, &mut steps);
                (steps, string_literal(arg, text).is_some())
            })
            .collect();
        if all.iter().any(|(steps, _)| !steps.is_empty()) {
            facts.calls.push(CallDraft {
                function: method,
                qualifier,
                args: all,
            });
        }
    } else if function.go_kind() == "selector_expression" {
        let field = function
            .child_by_field_id(f.field)
            .map(|x| node_text(x, text).to_string());
        if let (Some(method), 1) = (field, args.named_child_count()) {
            if method == "WithReason" {
                if let Some(arg) = args.named_child(0) {
                    push_sink(ReasonSinkKind::Builder { method }, arg, text, scope, facts);
                }
            }
        }
    }
}

/// The name of the function or method a call may go to in this package: `f(..)`, `r.f(..)` on
/// a variable or a chained call; and for `q.f(..)` where `q` is no local name, `q` (the call
/// is `pkg.F(..)` on an import when `q` names one).
fn callee(function: Node<'_>, text: &str, scope: &Scope<'_, '_>) -> Option<(String, Option<String>)> {
    let f = &*FIELD_IDS;
    match function.go_kind() {
        "identifier" => Some((node_text(function, text).to_string(), None)),
        "selector_expression" => {
            let operand = function.child_by_field_id(f.operand)?;
            let field = function.child_by_field_id(f.field)?;
            let qualifier = (operand.go_kind() == "identifier")
                .then(|| node_text(operand, text))
                .filter(|name| !is_local(scope, name))
                .map(str::to_string);
            Some((node_text(field, text).to_string(), qualifier))
        }
        _ => None,
    }
}

fn is_local(scope: &Scope<'_, '_>, name: &str) -> bool {
    scope.params.contains(&name) || scope.locals.contains(name)
}

/// The steps finding the origins of an expression, following local variables `depth`
/// assignments deep.
fn origins_of(node: Node<'_>, text: &str, scope: &Scope<'_, '_>, depth: usize, out: &mut Vec<Step>) {
    if depth > MAX_DEPTH {
        return;
    }
    let mut steps = Vec::new();
    match node.go_kind() {
        "interpreted_string_literal" | "raw_string_literal" => {
            if let Some(value) = string_literal(node, text).filter(|v| !v.is_empty()) {
                steps.push(Step::Push {
                    origin: Origin::Literal {
                        value,
                        span: scope.span(node),
                    },
                    unique: false,
                });
            }
        }
        "parenthesized_expression" => {
            if let Some(inner) = node.named_child(0) {
                origins_of(inner, text, scope, depth, &mut steps);
            }
        }
        "identifier" => {
            let name = node_text(node, text);
            if let Some(index) = scope.params.iter().position(|p| *p == name) {
                steps.push(Step::Push {
                    origin: Origin::Param {
                        function: scope.name.clone(),
                        index,
                    },
                    unique: false,
                });
            } else if is_local(scope, name) {
                for (value, position) in scope.assigns.get(name).into_iter().flatten() {
                    if value.id() == node.id() {
                        continue;
                    }
                    if *position > 0 || value.go_kind() == "call_expression" && *position == 0 {
                        match call_origin(*value, *position, text, scope) {
                            Some(CallOrigin::Known(origin)) => {
                                steps.push(Step::Push { origin, unique: true });
                                continue;
                            }
                            Some(CallOrigin::Unless { qualifier, call }) => {
                                let mut otherwise = Vec::new();
                                if *position == 0 {
                                    origins_of(*value, text, scope, depth + 1, &mut otherwise);
                                }
                                steps.push(Step::CallOr {
                                    qualifier,
                                    call,
                                    otherwise,
                                });
                                continue;
                            }
                            None => {}
                        }
                    }
                    if *position == 0 {
                        origins_of(*value, text, scope, depth + 1, &mut steps);
                    }
                }
            } else if name != "nil" && name != "true" && name != "false" {
                steps.push(Step::Push {
                    origin: Origin::Const { name: name.to_string() },
                    unique: true,
                });
            }
        }
        "call_expression" => match call_origin(node, 0, text, scope) {
            Some(CallOrigin::Known(origin)) => steps.push(Step::Push { origin, unique: true }),
            Some(CallOrigin::Unless { qualifier, call }) => {
                let mut otherwise = Vec::new();
                conversion(node, text, scope, depth, &mut otherwise);
                steps.push(Step::CallOr {
                    qualifier,
                    call,
                    otherwise,
                });
            }
            None => conversion(node, text, scope, depth, &mut steps),
        },
        _ => {}
    }
    if !steps.is_empty() {
        out.push(Step::Guard(steps));
    }
}

/// A conversion (`string(x)`, `hyperv1.ConditionReason(x)`) keeps the origin.
fn conversion(node: Node<'_>, text: &str, scope: &Scope<'_, '_>, depth: usize, out: &mut Vec<Step>) {
    let f = &*FIELD_IDS;
    if let (Some(function), Some(args)) = (node.child_by_field_id(f.function), node.child_by_field_id(f.arguments)) {
        let conversion = args.named_child_count() == 1
            && (node_text(function, text) == "string" || node_text(function, text).ends_with("Reason"));
        if conversion {
            if let Some(arg) = args.named_child(0) {
                origins_of(arg, text, scope, depth, out);
            }
        }
    }
}

fn push_unique(out: &mut Vec<Origin>, origin: Origin) {
    if !out.contains(&origin) {
        out.push(origin);
    }
}

/// What a call is as an origin: known, or a same-package call unless its qualifier names an
/// import (then no origin).
enum CallOrigin {
    Known(Origin),
    Unless { qualifier: String, call: Origin },
}

/// `strings.Join(..)` → joined; a call that may go to the package's own function → its result
/// `index`.
fn call_origin(node: Node<'_>, index: usize, text: &str, scope: &Scope<'_, '_>) -> Option<CallOrigin> {
    if node.go_kind() != "call_expression" {
        return None;
    }
    let function = node.child_by_field_id(FIELD_IDS.function)?;
    if node_text(function, text) == "strings.Join" && !is_local(scope, "strings") {
        return Some(CallOrigin::Known(Origin::Joined { span: scope.span(node) }));
    }
    let (name, qualifier) = callee(function, text, scope)?;
    // Builders and conversions of the standard library are not functions of this package.
    if matches!(
        name.as_str(),
        "string" | "String" | "Error" | "Sprintf" | "len" | "append"
    ) {
        return None;
    }
    let call = Origin::Call { function: name, index };
    Some(match qualifier {
        Some(qualifier) => CallOrigin::Unless { qualifier, call },
        None => CallOrigin::Known(call),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::go::{extract as go_extract, extract_reusing, GoFacts};
    use crate::syntax::{parse, Lang};

    const SRC: &str = r#"package flows

import (
	"strings"

	cond "example.com/conditions"
)

func reasonFor(ok bool) string {
	if ok {
		return "AsExpected"
	}
	return cond.DefaultReason
}

func set(c *metav1.Condition, items []string) {
	reason := reasonFor(true)
	for _, item := range items {
		c.Message += item
	}
	c.Reason = reason
	other := util.Pick(c)
	setReason(c, other, "literal")
	msgs := strings.Join(items, ",")
	_ = metav1.Condition{Reason: msgs}
	b.WithReason(hyperv1.ConditionReason(other))
}
"#;

    fn tree_of(text: &str) -> tree_sitter::Tree {
        parse(Lang::Go, text, None).tree.expect("a tree")
    }

    /// Replaces the first `old` in `text` by `new`, editing `tree` as an editor's change does.
    fn edit(text: &str, tree: &mut tree_sitter::Tree, old: &str, new: &str) -> String {
        let start = text.find(old).expect("the text to edit");
        let point = |s: &str, offset: usize| {
            let before = &s[..offset];
            tree_sitter::Point {
                row: before.matches('\n').count(),
                column: offset - before.rfind('\n').map_or(0, |i| i + 1),
            }
        };
        let edited = format!("{}{new}{}", &text[..start], &text[start + old.len()..]);
        tree.edit(&tree_sitter::InputEdit {
            start_byte: start,
            old_end_byte: start + old.len(),
            new_end_byte: start + new.len(),
            start_position: point(text, start),
            old_end_position: point(text, start + old.len()),
            new_end_position: point(&edited, start + new.len()),
        });
        edited
    }

    /// Extracts `text`'s facts reusing the cache, after `text` was edited from the text of
    /// `tree` (which holds the edit): the facts, and how many declarations were read again.
    fn reusing(tree: &tree_sitter::Tree, text: &str) -> (GoFacts, u64) {
        let new_tree = parse(Lang::Go, text, Some(tree)).tree.expect("a tree");
        let read = declarations_read();
        let facts = extract_reusing(&new_tree, text);
        (facts, declarations_read() - read)
    }

    fn sink_texts<'a>(facts: &GoFacts, text: &'a str) -> Vec<&'a str> {
        facts
            .reasons
            .sinks
            .iter()
            .map(|s| &text[s.value_span.range()])
            .collect()
    }

    #[test]
    fn reason_facts_by_declaration_equal_the_whole_file_facts() {
        let tree = tree_of(SRC);
        let facts = go_extract(&tree, SRC);
        let mut texts = sink_texts(&facts, SRC);
        texts.sort();
        assert_eq!(texts, vec!["hyperv1.ConditionReason(other)", "msgs", "reason"]);
        assert!(facts.reasons.sinks.iter().any(|s| s.origins
            == vec![Origin::Call {
                function: "reasonFor".into(),
                index: 0
            }]));
        let returns = &facts.reasons.returns[0];
        assert_eq!(returns.function, "reasonFor");
        assert!(matches!(&returns.results[0][..], [Origin::Literal { value, span }]
            if value == "AsExpected" && &SRC[span.range()] == "\"AsExpected\""));
        // `util` is no import: `util.Pick` may be the package's own.
        let set_reason = facts.reasons.calls.iter().find(|c| c.function == "setReason").unwrap();
        assert_eq!(
            set_reason.args[0],
            vec![Origin::Param {
                function: "set".into(),
                index: 0
            }]
        );
        assert_eq!(
            set_reason.args[1],
            vec![Origin::Call {
                function: "Pick".into(),
                index: 0
            }]
        );
        assert_eq!(set_reason.args[2], vec![], "a literal argument is the in-place rule's");
        assert_eq!(
            facts.reasons.range_at(SRC.find("c.Message").unwrap() as u32),
            Some("items")
        );
        let imports: Vec<String> = facts.imports.iter().map(|i| i.local_name.clone()).collect();
        assert_eq!(extract(&tree, SRC, &imports), facts.reasons);
    }

    /// A file that mentions no reason records no call arguments (the flows never read it);
    /// the first mention reads every declaration again, with them.
    #[test]
    fn call_arguments_are_recorded_only_in_a_file_that_mentions_a_reason() {
        let text = "package quiet\n\nfunc caller(x string) {\n\tsetCondition(x, \"Ready\")\n}\n\nfunc other() {}\n";
        let mut tree = tree_of(text);
        assert!(!mentions_reason(text));
        assert!(go_extract(&tree, text).reasons.calls.is_empty());
        assert!(extract_reusing(&tree, text).reasons.calls.is_empty());
        let edited = edit(text, &mut tree, "func other() {}", "func other() { _ = \"a reason\" }");
        let (facts, read) = reusing(&tree, &edited);
        assert_eq!(read, 3, "every top-level node (the package clause too) is read again");
        let call = facts
            .reasons
            .calls
            .iter()
            .find(|c| c.function == "setCondition")
            .unwrap();
        assert_eq!(
            call.args[0],
            vec![Origin::Param {
                function: "caller".into(),
                index: 0
            }]
        );
        assert_eq!(facts, go_extract(&tree_of(&edited), &edited));
    }

    #[test]
    fn an_edit_in_one_function_reads_only_its_reasons_and_moves_the_others() {
        let text = SRC.replace("flows", "flows_edit");
        let mut tree = tree_of(&text);
        let before = go_extract(&tree, &text);
        extract_reusing(&tree, &text);
        let edited = edit(&text, &mut tree, "\"AsExpected\"", "\"AsExpectedToo\"");
        let (facts, read) = reusing(&tree, &edited);
        assert_eq!(read, 1, "only `reasonFor` is read again");
        assert_eq!(facts, go_extract(&tree_of(&edited), &edited));
        // `set`'s sinks moved with it.
        assert_eq!(sink_texts(&facts, &edited), sink_texts(&before, &text));
        assert_eq!(
            facts.reasons.sinks[0].value_span.start,
            before.reasons.sinks[0].value_span.start + 3
        );
        assert!(
            matches!(&facts.reasons.returns[0].results[0][..], [Origin::Literal { value, .. }] if value == "AsExpectedToo")
        );
    }

    #[test]
    fn new_imports_turn_calls_into_the_imports_without_reading_the_function_again() {
        let text = SRC.replace("flows", "flows_import");
        let mut tree = tree_of(&text);
        extract_reusing(&tree, &text);
        let edited = edit(
            &text,
            &mut tree,
            "\"strings\"",
            "\"strings\"\n\t\"example.com/util\"\n\thyperv1 \"example.com/hyperv1\"",
        );
        let (facts, read) = reusing(&tree, &edited);
        assert_eq!(read, 1, "only the import block is read again");
        assert_eq!(facts, go_extract(&tree_of(&edited), &edited));
        let set_reason = facts.reasons.calls.iter().find(|c| c.function == "setReason").unwrap();
        assert_eq!(set_reason.args[1], vec![], "`util.Pick` is the import's");
        assert!(facts.reasons.calls.iter().all(|c| c.function != "Pick"));
        // A conversion on an import keeps its argument's origins (none known here: `other`
        // comes from the import's function), so the builder's sink is gone.
        assert_eq!(sink_texts(&facts, &edited).len(), 2);
    }
}
