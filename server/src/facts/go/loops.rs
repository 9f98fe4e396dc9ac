//! Loop facts of a Go file: `for ... range` loops with their range expression and, when the
//! declarations in scope say, the element type; and names bound to a call's result
//! (`c, err := client.New(..)`, `reader := mgr.GetAPIReader()`), so a rule can tell what a
//! receiver inside a loop is. Calls inside a loop are the file's [`Call`](super::Call)s whose
//! span lies in the loop's body.

use crate::facts::go::GoNode;
use tree_sitter::Node;

use super::Span;
use super::{chain_of, cut, span, GoFacts, TypeRef};
use crate::syntax::node_text;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoopFacts {
    pub range_loops: Vec<RangeLoop>,
    pub bound_calls: Vec<BoundCall>,
}

/// `for k, v := range <expr> { .. }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeLoop {
    /// From `for` to the end of the range expression: where findings about the loop point.
    pub header: Span,
    pub body: Span,
    /// The range expression as written (cut to a few hundred bytes, as other texts of the facts).
    pub range_text: String,
    /// The element type: the range expression is a name declared in scope as `[]T`/`[]*T`, or
    /// `x.Items` of a name declared as a `TList` (then the element is `T`).
    pub element: Option<TypeRef>,
    /// The innermost enclosing function.
    pub function: Option<u32>,
}

/// A name bound to the result of a call: `x := f(..)`, `x, err := pkg.F(..)`, `x = r.F(..)`,
/// `var x = f(..)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundCall {
    pub name: String,
    /// The callee as a chain (`["client", "New"]`, `["mgr", "GetAPIReader"]`).
    pub callee: Vec<String>,
    /// For `alias.Func(..)` with a known import: the import path.
    pub import: Option<String>,
    pub span: Span,
    pub function: Option<u32>,
}

/// A type as written; its qualifier stays as written in `import` (see [`LoopWalk`]).
fn type_ref(node: Node<'_>, text: &str) -> Option<TypeRef> {
    let mut node = node;
    while matches!(node.go_kind(), "pointer_type" | "parenthesized_type") {
        node = node.named_child(0)?;
    }
    match node.go_kind() {
        "qualified_type" => {
            let alias = node_text(node.go_field("package")?, text);
            Some(TypeRef {
                import: Some(alias.to_string()),
                name: node_text(node.go_field("name")?, text).to_string(),
            })
        }
        "type_identifier" => Some(TypeRef {
            import: None,
            name: node_text(node, text).to_string(),
        }),
        _ => None,
    }
}

/// What a declaration says about a name: a slice of `T`, or a `T`.
enum Declared {
    Slice(TypeRef),
    Named(TypeRef),
}

fn declared_from_type(ty: Node<'_>, text: &str) -> Option<Declared> {
    let mut ty = ty;
    while matches!(ty.go_kind(), "pointer_type" | "parenthesized_type") {
        ty = ty.named_child(0)?;
    }
    if ty.go_kind() == "slice_type" {
        return type_ref(ty.go_field("element")?, text).map(Declared::Slice);
    }
    type_ref(ty, text).map(Declared::Named)
}

/// The type a value builds: `&T{}`, `T{}`, `[]T{}`, `make([]T, n)`.
fn declared_from_value(value: Node<'_>, text: &str) -> Option<Declared> {
    let value = if value.go_kind() == "unary_expression" {
        value.go_field("operand")?
    } else {
        value
    };
    match value.go_kind() {
        "composite_literal" => declared_from_type(value.go_field("type")?, text),
        "call_expression" => {
            let function = value.go_field("function")?;
            if node_text(function, text) != "make" {
                return None;
            }
            let args = value.go_field("arguments")?;
            declared_from_type(args.named_child(0)?, text)
        }
        _ => None,
    }
}

/// The names each block declares, by name: the statements (in order) that declare it. Built
/// once per block on first use, so finding a loop's range variable is not a scan of every
/// earlier statement per loop (quadratic in a block of thousands of loops).
#[derive(Default)]
struct BlockIndex<'t> {
    by_block: std::collections::HashMap<usize, std::collections::HashMap<&'t str, Vec<Node<'t>>>>,
}

impl<'t> BlockIndex<'t> {
    fn declarations(&mut self, block: Node<'t>, text: &'t str) -> &std::collections::HashMap<&'t str, Vec<Node<'t>>> {
        self.by_block.entry(block.id()).or_insert_with(|| {
            let mut names: std::collections::HashMap<&'t str, Vec<Node<'t>>> = std::collections::HashMap::new();
            let mut cursor = block.walk();
            for statement in block.named_children(&mut cursor) {
                for name in declared_names(statement, text) {
                    names.entry(name).or_default().push(statement);
                }
            }
            names
        })
    }
}

/// The names a `var` or `:=` statement declares.
fn declared_names<'t>(statement: Node<'t>, text: &'t str) -> Vec<&'t str> {
    let mut out = Vec::new();
    match statement.go_kind() {
        "var_declaration" => {
            let mut specs = statement.walk();
            for spec in statement.named_children(&mut specs) {
                let mut cursor = spec.walk();
                out.extend(
                    spec.children_by_field_name("name", &mut cursor)
                        .map(|n| node_text(n, text)),
                );
            }
        }
        "short_var_declaration" => {
            if let Some(left) = statement.go_field("left") {
                let mut cursor = left.walk();
                out.extend(left.named_children(&mut cursor).map(|n| node_text(n, text)));
            }
        }
        _ => {}
    }
    out
}

/// Declarations of `name` visible at `at` (whose enclosing nodes, innermost last, are
/// `ancestors`): enclosing functions' parameters and earlier statements of enclosing blocks
/// (`var x T`, `x := &T{}`, `x := make([]T, 0)`).
fn declaration_of<'t>(
    at: Node<'t>,
    ancestors: &[Node<'t>],
    index: &mut BlockIndex<'t>,
    name: &str,
    text: &'t str,
) -> Option<Declared> {
    let mut node = at;
    for &parent in ancestors.iter().rev() {
        match parent.go_kind() {
            "function_declaration" | "method_declaration" | "func_literal" => {
                for field in ["receiver", "parameters"] {
                    let Some(list) = parent.go_field(field) else {
                        continue;
                    };
                    for decl in list.named_children(&mut list.walk()) {
                        let Some(ty) = decl.go_field("type") else {
                            continue;
                        };
                        let mut cursor = decl.walk();
                        if decl
                            .children_by_field_name("name", &mut cursor)
                            .any(|n| node_text(n, text) == name)
                        {
                            return declared_from_type(ty, text);
                        }
                    }
                }
            }
            "block" | "statement_list" => {
                let before = node.start_byte();
                let found = index.declarations(parent, text).get(name).and_then(|statements| {
                    statements
                        .iter()
                        .rev()
                        .filter(|s| s.start_byte() < before)
                        .find_map(|s| declares(*s, name, text))
                });
                if found.is_some() {
                    return found;
                }
            }
            _ => {}
        }
        node = parent;
    }
    None
}

/// What `statement` declares `name` as, if it declares it with a type we can read.
fn declares(statement: Node<'_>, name: &str, text: &str) -> Option<Declared> {
    match statement.go_kind() {
        "var_declaration" => {
            for spec in statement.named_children(&mut statement.walk()) {
                let mut cursor = spec.walk();
                let names: Vec<Node<'_>> = spec.children_by_field_name("name", &mut cursor).collect();
                let Some(position) = names.iter().position(|n| node_text(*n, text) == name) else {
                    continue;
                };
                if let Some(ty) = spec.go_field("type") {
                    return declared_from_type(ty, text);
                }
                let value = spec.go_field("value")?.named_child(position as u32)?;
                return declared_from_value(value, text);
            }
            None
        }
        "short_var_declaration" => {
            let left = statement.go_field("left")?;
            let names: Vec<Node<'_>> = left.named_children(&mut left.walk()).collect();
            let position = names.iter().position(|n| node_text(*n, text) == name)?;
            let right = statement.go_field("right")?;
            declared_from_value(right.named_child(position as u32)?, text)
        }
        _ => None,
    }
}

/// The element type of a range expression, from the declarations in scope.
fn element_of<'t>(
    for_statement: Node<'t>,
    ancestors: &[Node<'t>],
    index: &mut BlockIndex<'t>,
    right: Node<'t>,
    text: &'t str,
) -> Option<TypeRef> {
    match right.go_kind() {
        "identifier" => match declaration_of(for_statement, ancestors, index, node_text(right, text), text)? {
            Declared::Slice(t) => Some(t),
            Declared::Named(_) => None,
        },
        "selector_expression" => {
            let field = right.go_field("field")?;
            let operand = right.go_field("operand")?;
            if node_text(field, text) != "Items" || operand.go_kind() != "identifier" {
                return None;
            }
            match declaration_of(for_statement, ancestors, index, node_text(operand, text), text)? {
                Declared::Named(t) => t.name.strip_suffix("List").map(|elem| TypeRef {
                    import: t.import.clone(),
                    name: elem.to_string(),
                }),
                Declared::Slice(_) => None,
            }
        }
        _ => None,
    }
}

/// A name bound to a call, before the declaration's functions and locals are all known.
struct BoundDraft {
    name: String,
    callee: Vec<String>,
    span: Span,
}

fn bound_call(name: Node<'_>, value: Node<'_>, text: &str) -> Option<BoundDraft> {
    if value.go_kind() != "call_expression" || name.go_kind() != "identifier" {
        return None;
    }
    let function = value.go_field("function")?;
    Some(BoundDraft {
        name: node_text(name, text).to_string(),
        callee: chain_of(function, text),
        span: span(value),
    })
}

/// The loop facts of one top-level declaration, built node by node during the declaration's
/// walk (preorder, with the path from the declaration down). Function indices are the
/// declaration's own, and every import (element types, bound calls' `import`) holds the package
/// alias *as written* until [`LoopFacts::resolve_imports`] turns it into the import path, once
/// the file's imports are known.
#[derive(Default)]
pub(crate) struct LoopWalk<'t> {
    index: BlockIndex<'t>,
    range_loops: Vec<RangeLoop>,
    bound: Vec<BoundDraft>,
}

impl<'t> LoopWalk<'t> {
    /// Looks at `node`, whose enclosing nodes (innermost last, up to the declaration) are
    /// `ancestors`; `facts` are the declaration's facts so far (every function starting at or
    /// before `node`).
    pub(crate) fn visit(&mut self, node: Node<'t>, ancestors: &[Node<'t>], text: &'t str, facts: &GoFacts) {
        match node.go_kind() {
            "for_statement" => {
                let mut cursor = node.walk();
                let clause = node.named_children(&mut cursor).find(|c| c.go_kind() == "range_clause");
                let body = node.go_field("body");
                if let (Some(clause), Some(body)) = (clause, body) {
                    if let Some(right) = clause.go_field("right") {
                        self.range_loops.push(RangeLoop {
                            header: Span::new(node.start_byte(), right.end_byte()),
                            body: span(body),
                            range_text: cut(node_text(right, text)),
                            element: element_of(node, ancestors, &mut self.index, right, text),
                            function: facts.function_at(node.start_byte() as u32),
                        });
                    }
                }
            }
            "short_var_declaration" | "assignment_statement" => {
                if let (Some(left), Some(right)) = (node.go_field("left"), node.go_field("right")) {
                    let mut cursor = node.walk();
                    let names: Vec<Node<'_>> = left.named_children(&mut cursor).collect();
                    let values: Vec<Node<'_>> = right.named_children(&mut cursor).collect();
                    // `a, err := f()`: the first name takes the call; `a, b := f(), g()` pairs up.
                    for (i, name) in names.iter().enumerate() {
                        let value = if values.len() == names.len() {
                            values.get(i)
                        } else if i == 0 {
                            values.first()
                        } else {
                            None
                        };
                        if let Some(b) = value.and_then(|v| bound_call(*name, *v, text)) {
                            self.bound.push(b);
                        }
                    }
                }
            }
            "var_spec" => {
                let mut cursor = node.walk();
                let names: Vec<Node<'_>> = node.children_by_field_name("name", &mut cursor).collect();
                if let Some(values) = node.go_field("value") {
                    let values: Vec<Node<'_>> = values.named_children(&mut cursor).collect();
                    for (name, value) in names.iter().zip(values.iter()) {
                        if let Some(b) = bound_call(*name, *value, text) {
                            self.bound.push(b);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The facts, once `facts` (the declaration's) hold all its functions and their locals.
    pub(crate) fn finish(self, facts: &GoFacts) -> LoopFacts {
        let bound_calls = self
            .bound
            .into_iter()
            .map(|draft| {
                // Looked up now: the call may be a function literal's (`x := func() T {..}()`),
                // which the walk reaches after the assignment.
                let function = facts.function_at(draft.span.start);
                let import = match draft.callee.as_slice() {
                    [alias, _] if !facts.is_local(function, alias) => Some(alias.clone()),
                    _ => None,
                };
                BoundCall {
                    name: draft.name,
                    callee: draft.callee,
                    import,
                    span: draft.span,
                    function,
                }
            })
            .collect();
        LoopFacts {
            range_loops: self.range_loops,
            bound_calls,
        }
    }
}

impl LoopFacts {
    /// Turns every package alias as written into its import path (`None` when no import of the
    /// file has that name), by `path_of`.
    pub(crate) fn resolve_imports(&mut self, path_of: &impl Fn(&str) -> Option<String>) {
        for element in self.range_loops.iter_mut().filter_map(|l| l.element.as_mut()) {
            element.import = element.import.as_deref().and_then(path_of);
        }
        for bound in &mut self.bound_calls {
            bound.import = bound.import.as_deref().and_then(path_of);
        }
    }

    /// Appends `other` (already placed and resolved).
    pub(crate) fn append(&mut self, other: LoopFacts) {
        let LoopFacts {
            range_loops,
            bound_calls,
        } = other;
        self.range_loops.extend(range_loops);
        self.bound_calls.extend(bound_calls);
    }
}

#[cfg(test)]
mod tests {
    fn facts(src: &str) -> crate::facts::go::GoFacts {
        let parsed = crate::syntax::parse(crate::syntax::Lang::Go, src, None);
        crate::facts::go::extract(parsed.tree.as_ref().unwrap(), src)
    }

    #[test]
    fn range_loops_know_their_element_type() {
        let src = r#"package p
import capiv1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
func f(ms []*capiv1.Machine) {
	list := &capiv1.MachineList{}
	for _, m := range list.Items { _ = m }
	for i := range ms { _ = i }
	var sets []capiv1.MachineSet
	for _, s := range sets { _ = s }
	other := g()
	for _, o := range other { _ = o }
}
"#;
        let f = facts(src);
        let loops = &f.loops.range_loops;
        assert_eq!(loops.len(), 4);
        let names: Vec<Option<(Option<&str>, &str)>> = loops
            .iter()
            .map(|l| l.element.as_ref().map(|t| (t.import.as_deref(), t.name.as_str())))
            .collect();
        let capi = Some("sigs.k8s.io/cluster-api/api/core/v1beta1");
        assert_eq!(
            names,
            vec![
                Some((capi, "Machine")),
                Some((capi, "Machine")),
                Some((capi, "MachineSet")),
                None
            ]
        );
        assert_eq!(loops[0].range_text, "list.Items");
        assert!(&src[loops[0].header.range()].starts_with("for _, m := range list.Items"));
    }

    #[test]
    fn a_name_bound_to_a_called_literal_is_in_the_literal() {
        // The call starts where the literal does: the innermost function at its start is the
        // literal, which the declaration's walk reaches after the assignment (looked up at the end).
        let src = "package p\nfunc f() {\n\tx := func() int { return 1 }()\n\t_ = x\n}\n";
        let f = facts(src);
        let functions: Vec<Option<u32>> = f.loops.bound_calls.iter().map(|b| b.function).collect();
        assert_eq!(functions, [Some(1)]);
        assert_eq!(f.functions[1].parent, Some(0));
    }

    #[test]
    fn names_bound_to_calls() {
        let src = r#"package p
import "sigs.k8s.io/controller-runtime/pkg/client"
func f() {
	c, err := client.New(cfg, client.Options{})
	reader := mgr.GetAPIReader()
	var x = h()
}
"#;
        let f = facts(src);
        let bound: Vec<(&str, String, Option<&str>)> = f
            .loops
            .bound_calls
            .iter()
            .map(|b| (b.name.as_str(), b.callee.join("."), b.import.as_deref()))
            .collect();
        assert_eq!(
            bound,
            vec![
                (
                    "c",
                    "client.New".to_string(),
                    Some("sigs.k8s.io/controller-runtime/pkg/client")
                ),
                ("reader", "mgr.GetAPIReader".to_string(), None),
                ("x", "h".to_string(), None),
            ]
        );
    }
}
