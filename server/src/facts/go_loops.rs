//! Loop facts of a Go file: `for ... range` loops with their range expression and, when the
//! declarations in scope say, the element type; and names bound to a call's result
//! (`c, err := client.New(..)`, `reader := mgr.GetAPIReader()`), so a rule can tell what a
//! receiver inside a loop is. Calls inside a loop are the file's [`Call`](super::go::Call)s whose
//! span lies in the loop's body.

use tree_sitter::{Node, Tree};

use super::go::{GoFacts, TypeRef};
use super::Span;
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
    /// The range expression as written (cut to a few hundred bytes).
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

fn span(node: Node<'_>) -> Span {
    Span::new(node.start_byte(), node.end_byte())
}

/// A selector/identifier chain (`r.Client.List` → `[r, Client, List]`); a call inside the
/// chain is `()`, anything else `?`.
fn chain(node: Node<'_>, text: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        out.push("?".into());
        return;
    }
    match node.kind() {
        "identifier" | "field_identifier" | "package_identifier" => out.push(node_text(node, text).to_string()),
        "selector_expression" => {
            if let Some(operand) = node.child_by_field_name("operand") {
                chain(operand, text, out, depth + 1);
            }
            if let Some(field) = node.child_by_field_name("field") {
                out.push(node_text(field, text).to_string());
            }
        }
        "call_expression" => {
            if let Some(function) = node.child_by_field_name("function") {
                chain(function, text, out, depth + 1);
            }
            out.push("()".into());
        }
        "parenthesized_expression" => match node.named_child(0) {
            Some(inner) => chain(inner, text, out, depth + 1),
            None => out.push("?".into()),
        },
        _ => out.push("?".into()),
    }
}

fn type_ref(node: Node<'_>, text: &str, facts: &GoFacts) -> Option<TypeRef> {
    let mut node = node;
    while matches!(node.kind(), "pointer_type" | "parenthesized_type") {
        node = node.named_child(0)?;
    }
    match node.kind() {
        "qualified_type" => {
            let alias = node_text(node.child_by_field_name("package")?, text);
            Some(TypeRef {
                import: facts.import_by_name(alias).map(|i| i.path.clone()),
                name: node_text(node.child_by_field_name("name")?, text).to_string(),
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

fn declared_from_type(ty: Node<'_>, text: &str, facts: &GoFacts) -> Option<Declared> {
    let mut ty = ty;
    while matches!(ty.kind(), "pointer_type" | "parenthesized_type") {
        ty = ty.named_child(0)?;
    }
    if ty.kind() == "slice_type" {
        return type_ref(ty.child_by_field_name("element")?, text, facts).map(Declared::Slice);
    }
    type_ref(ty, text, facts).map(Declared::Named)
}

/// The type a value builds: `&T{}`, `T{}`, `[]T{}`, `make([]T, n)`.
fn declared_from_value(value: Node<'_>, text: &str, facts: &GoFacts) -> Option<Declared> {
    let value = if value.kind() == "unary_expression" {
        value.child_by_field_name("operand")?
    } else {
        value
    };
    match value.kind() {
        "composite_literal" => declared_from_type(value.child_by_field_name("type")?, text, facts),
        "call_expression" => {
            let function = value.child_by_field_name("function")?;
            if node_text(function, text) != "make" {
                return None;
            }
            let args = value.child_by_field_name("arguments")?;
            declared_from_type(args.named_child(0)?, text, facts)
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
    match statement.kind() {
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
            if let Some(left) = statement.child_by_field_name("left") {
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
    facts: &GoFacts,
) -> Option<Declared> {
    let mut node = at;
    for &parent in ancestors.iter().rev() {
        match parent.kind() {
            "function_declaration" | "method_declaration" | "func_literal" => {
                for field in ["receiver", "parameters"] {
                    let Some(list) = parent.child_by_field_name(field) else {
                        continue;
                    };
                    for decl in list.named_children(&mut list.walk()) {
                        let Some(ty) = decl.child_by_field_name("type") else {
                            continue;
                        };
                        let mut cursor = decl.walk();
                        if decl
                            .children_by_field_name("name", &mut cursor)
                            .any(|n| node_text(n, text) == name)
                        {
                            return declared_from_type(ty, text, facts);
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
                        .find_map(|s| declares(*s, name, text, facts))
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
fn declares(statement: Node<'_>, name: &str, text: &str, facts: &GoFacts) -> Option<Declared> {
    match statement.kind() {
        "var_declaration" => {
            for spec in statement.named_children(&mut statement.walk()) {
                let mut cursor = spec.walk();
                let names: Vec<Node<'_>> = spec.children_by_field_name("name", &mut cursor).collect();
                let Some(position) = names.iter().position(|n| node_text(*n, text) == name) else {
                    continue;
                };
                if let Some(ty) = spec.child_by_field_name("type") {
                    return declared_from_type(ty, text, facts);
                }
                let value = spec.child_by_field_name("value")?.named_child(position as u32)?;
                return declared_from_value(value, text, facts);
            }
            None
        }
        "short_var_declaration" => {
            let left = statement.child_by_field_name("left")?;
            let names: Vec<Node<'_>> = left.named_children(&mut left.walk()).collect();
            let position = names.iter().position(|n| node_text(*n, text) == name)?;
            let right = statement.child_by_field_name("right")?;
            declared_from_value(right.named_child(position as u32)?, text, facts)
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
    facts: &GoFacts,
) -> Option<TypeRef> {
    match right.kind() {
        "identifier" => match declaration_of(for_statement, ancestors, index, node_text(right, text), text, facts)? {
            Declared::Slice(t) => Some(t),
            Declared::Named(_) => None,
        },
        "selector_expression" => {
            let field = right.child_by_field_name("field")?;
            let operand = right.child_by_field_name("operand")?;
            if node_text(field, text) != "Items" || operand.kind() != "identifier" {
                return None;
            }
            match declaration_of(for_statement, ancestors, index, node_text(operand, text), text, facts)? {
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

fn cut(s: &str) -> String {
    let mut end = s.len().min(300);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn bound_call(name: Node<'_>, value: Node<'_>, text: &str, facts: &GoFacts) -> Option<BoundCall> {
    if value.kind() != "call_expression" || name.kind() != "identifier" {
        return None;
    }
    let function = value.child_by_field_name("function")?;
    let mut callee = Vec::new();
    chain(function, text, &mut callee, 0);
    let at = value.start_byte() as u32;
    let enclosing = facts.function_at(at);
    let import = match callee.as_slice() {
        [alias, _] if !facts.is_local(enclosing, alias) => facts.import_by_name(alias).map(|i| i.path.clone()),
        _ => None,
    };
    Some(BoundCall {
        name: node_text(name, text).to_string(),
        callee,
        import,
        span: span(value),
        function: enclosing,
    })
}

/// Range loops and call-bound names of a file. `facts` must already hold the imports and
/// functions (for import resolution and the enclosing function).
pub fn extract(tree: &Tree, text: &str, facts: &GoFacts) -> LoopFacts {
    let mut out = LoopFacts::default();
    let mut index = BlockIndex::default();
    // Depth-first with the path from the root kept explicitly (`Node::parent` re-walks from
    // the root, and indexing children one by one is linear per index: both quadratic in a
    // block of thousands of statements).
    let mut ancestors: Vec<Node<'_>> = Vec::new();
    let mut cursor = tree.walk();
    loop {
        let node = cursor.node();
        if node.is_named() {
            visit(node, &ancestors, &mut index, text, facts, &mut out);
        }
        if cursor.goto_first_child() {
            ancestors.push(node);
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return out;
            }
            ancestors.pop();
        }
    }
}

fn visit<'t>(
    node: Node<'t>,
    ancestors: &[Node<'t>],
    index: &mut BlockIndex<'t>,
    text: &'t str,
    facts: &GoFacts,
    out: &mut LoopFacts,
) {
    let mut cursor = node.walk();
    match node.kind() {
        "for_statement" => {
            let clause = node.named_children(&mut cursor).find(|c| c.kind() == "range_clause");
            let body = node.child_by_field_name("body");
            if let (Some(clause), Some(body)) = (clause, body) {
                if let Some(right) = clause.child_by_field_name("right") {
                    out.range_loops.push(RangeLoop {
                        header: Span::new(node.start_byte(), right.end_byte()),
                        body: span(body),
                        range_text: cut(node_text(right, text)),
                        element: element_of(node, ancestors, index, right, text, facts),
                        function: facts.function_at(node.start_byte() as u32),
                    });
                }
            }
        }
        "short_var_declaration" | "assignment_statement" => {
            if let (Some(left), Some(right)) = (node.child_by_field_name("left"), node.child_by_field_name("right")) {
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
                    if let Some(b) = value.and_then(|v| bound_call(*name, *v, text, facts)) {
                        out.bound_calls.push(b);
                    }
                }
            }
        }
        "var_spec" => {
            let names: Vec<Node<'_>> = node.children_by_field_name("name", &mut cursor).collect();
            if let Some(values) = node.child_by_field_name("value") {
                let values: Vec<Node<'_>> = values.named_children(&mut cursor).collect();
                for (name, value) in names.iter().zip(values.iter()) {
                    if let Some(b) = bound_call(*name, *value, text, facts) {
                        out.bound_calls.push(b);
                    }
                }
            }
        }
        _ => {}
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
