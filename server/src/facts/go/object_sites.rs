//! Object sites: `v := &alias.T{}` (or `var v alias.T`) filled by a call and read field by field,
//! with the typed variables in scope. The annotation bridge is offered only where this pattern
//! holds, and edits exactly these places.

use std::collections::HashMap;

use tree_sitter::{Node, Tree};

use super::syntax::{span, written_object_type, GoNode, WrittenType};
use super::{GoFacts, TypeRef};
use crate::facts::Span;
use crate::syntax::node_text;

/// How a field read of an object site is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadUse {
    /// `v.F != nil` / `v.F == nil`.
    NilCheck,
    /// `*v.F` or `v.F` as an argument of a formatting call (`fmt.Sprintf`, `Errorf`, ...).
    Formatted { deref: bool },
    /// Anything else (its type matters: a string annotation cannot stand in for it).
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRead {
    /// The selector path after the variable: `Status.FailureReason`.
    pub path: String,
    pub span: Span,
    pub usage: ReadUse,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSite {
    /// The type reference (`alias.T`), as in [`PkgRef::span`].
    pub type_span: Span,
    pub var: String,
    /// The declaring statement.
    pub declaration: Span,
    /// Statements whose call fills the variable (`if err := c.Get(ctx, key, v); err != nil {..}`
    /// or a bare call statement); `None` when a filling call sits in a statement that cannot be
    /// removed on its own (`err := c.Get(..)`).
    pub fills: Option<Vec<Span>>,
    pub reads: Vec<SiteRead>,
    /// The variable is used otherwise (returned, assigned, passed on after filling...).
    pub other_uses: bool,
    /// Variables in scope at the declaration with a known type: parameters of the enclosing
    /// functions, range variables over typed slices or `.Items` of a typed list, `var x T`.
    pub typed_vars: Vec<(String, TypeRef)>,
}

/// An object site before its types are resolved against the file's imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ObjectSiteDraft {
    /// The site, with `typed_vars` left empty.
    pub(super) site: ObjectSite,
    pub(super) typed_vars: Vec<TypedVar>,
}

/// A variable in scope with its type as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TypedVar {
    pub(super) name: String,
    pub(super) ty: WrittenType,
}

const FORMAT_CALLS: &[&str] = &[
    "Sprintf", "Sprint", "Sprintln", "Errorf", "Printf", "Fprintf", "Infof", "Info", "Warnf", "Error",
];

/// The element type of a slice type node (`[]T`, `[]*T`).
fn slice_elem(node: Node<'_>, text: &str) -> Option<WrittenType> {
    (node.go_kind() == "slice_type")
        .then(|| node.go_field("element"))
        .flatten()
        .and_then(|e| written_object_type(e, text))
}

/// The object a composite literal or `&literal` builds, or the type of `var x T`.
fn declared_object_type(value: Node<'_>) -> Option<Node<'_>> {
    let value = if value.go_kind() == "unary_expression" {
        value.go_field("operand")?
    } else {
        value
    };
    (value.go_kind() == "composite_literal")
        .then(|| value.go_field("type"))
        .flatten()
}

/// Records variable `name` declared with type `ty`: among `slices` when it is a slice of objects
/// (to resolve range variables), among `out` when it is an object.
fn typed(name: Node<'_>, ty: Node<'_>, text: &str, slices: &mut Vec<TypedVar>, out: &mut Vec<TypedVar>) {
    let name = node_text(name, text).to_string();
    if let Some(elem) = slice_elem(ty, text) {
        slices.push(TypedVar {
            name: name.clone(),
            ty: elem,
        });
    }
    if let Some(t) = written_object_type(ty, text) {
        out.push(TypedVar { name, ty: t });
    }
}

/// Typed names visible at `at`: parameters of enclosing functions, `var x T` and
/// `x := &T{}` declarations before it in enclosing blocks, and range variables.
fn typed_vars_at(at: Node<'_>, text: &str) -> Vec<TypedVar> {
    // Slice-typed and list-typed names, to resolve range variables.
    let mut slices: Vec<TypedVar> = Vec::new();
    let mut out: Vec<TypedVar> = Vec::new();
    let mut ranges: Vec<Node<'_>> = Vec::new();
    let mut node = at;
    while let Some(parent) = node.parent() {
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
                        for name in decl.children_by_field_name("name", &mut cursor) {
                            typed(name, ty, text, &mut slices, &mut out);
                        }
                    }
                }
            }
            "block" | "statement_list" => {
                for statement in parent.named_children(&mut parent.walk()) {
                    if statement.start_byte() >= node.start_byte() {
                        break;
                    }
                    let spec = match statement.go_kind() {
                        "var_declaration" => statement.named_child(0),
                        "short_var_declaration" => Some(statement),
                        _ => None,
                    };
                    let Some(spec) = spec else { continue };
                    let (names, ty) = if spec.go_kind() == "short_var_declaration" {
                        let left = spec.go_field("left");
                        let right = spec.go_field("right").and_then(|r| r.named_child(0));
                        (left, right.and_then(declared_object_type))
                    } else {
                        (Some(spec), spec.go_field("type"))
                    };
                    let (Some(names), Some(ty)) = (names, ty) else { continue };
                    let name_nodes: Vec<Node<'_>> = if names.go_kind() == "var_spec" {
                        let mut cursor = names.walk();
                        names.children_by_field_name("name", &mut cursor).collect()
                    } else {
                        names.named_children(&mut names.walk()).collect()
                    };
                    for name in name_nodes {
                        typed(name, ty, text, &mut slices, &mut out);
                    }
                }
            }
            "for_statement" => ranges.push(parent),
            _ => {}
        }
        node = parent;
    }
    for statement in ranges {
        let Some(clause) = statement
            .named_children(&mut statement.walk())
            .find(|c| c.go_kind() == "range_clause")
        else {
            continue;
        };
        let (Some(left), Some(right)) = (clause.go_field("left"), clause.go_field("right")) else {
            continue;
        };
        let Some(value_var) = left.named_child(1) else { continue };
        let elem = match right.go_kind() {
            "identifier" => {
                let name = node_text(right, text);
                slices.iter().find(|v| v.name == name).map(|v| v.ty.clone())
            }
            // `list.Items` where `list` is a `TList`: the element is `T`.
            "selector_expression" if right.go_field("field").is_some_and(|f| node_text(f, text) == "Items") => {
                right.go_field("operand").and_then(|o| {
                    let name = node_text(o, text);
                    out.iter().find(|v| v.name == name).and_then(|v| {
                        v.ty.name.strip_suffix("List").map(|elem| WrittenType {
                            qualifier: v.ty.qualifier.clone(),
                            name: elem.to_string(),
                        })
                    })
                })
            }
            _ => None,
        };
        if let Some(elem) = elem {
            out.push(TypedVar {
                name: node_text(value_var, text).to_string(),
                ty: elem,
            });
        }
    }
    out
}

/// The statement (a direct child of a block) containing `node`.
fn statement_around(node: Node<'_>) -> Option<Node<'_>> {
    let mut node = node;
    loop {
        let parent = node.parent()?;
        if matches!(
            parent.go_kind(),
            "block" | "statement_list" | "expression_case" | "default_case" | "type_case" | "communication_case"
        ) {
            return Some(node);
        }
        node = parent;
    }
}

/// How one identifier of a scope is used, classified once per scope (see [`ScopeIdents`]).
#[derive(Debug, Clone)]
enum IdentUse {
    /// The root of a field read (`v.Status.X`): the outermost selector and how it is used.
    Read {
        outer: Span,
        usage: ReadUse,
    },
    /// An argument of a call (`c.Get(ctx, key, v)`): the statement that can be removed with
    /// the call, if any.
    Fill(Option<Span>),
    Other,
}

/// The identifiers of a scope (a block) by name, with their start offsets and uses in source
/// order. Built once per scope by one walk that keeps the ancestors at hand (tree-sitter's
/// `Node::parent` searches down from the root, so asking it per use was the cost of object
/// sites) and shared by every object site declared in the scope.
type ScopeIdents = HashMap<(u32, u32), HashMap<String, Vec<(u32, IdentUse)>>>;

const STATEMENT_PARENTS: &[&str] = &[
    "block",
    "statement_list",
    "expression_case",
    "default_case",
    "type_case",
    "communication_case",
];

fn identifiers_of<'a>(
    scope: Node<'_>,
    text: &str,
    scopes: &'a mut ScopeIdents,
) -> &'a HashMap<String, Vec<(u32, IdentUse)>> {
    scopes
        .entry((scope.start_byte() as u32, scope.end_byte() as u32))
        .or_insert_with(|| {
            let mut by_name: HashMap<String, Vec<(u32, IdentUse)>> = HashMap::new();
            // Depth-first with the path from the scope down to the current node.
            let mut path: Vec<Node<'_>> = Vec::new();
            let mut stack: Vec<(Node<'_>, usize)> = vec![(scope, 0)];
            let mut cursor = scope.walk();
            while let Some((node, depth)) = stack.pop() {
                path.truncate(depth);
                if node.go_kind() == "identifier" {
                    let name = node_text(node, text);
                    let usage = classify(node, &path, text);
                    by_name
                        .entry(name.to_string())
                        .or_default()
                        .push((node.start_byte() as u32, usage));
                    continue;
                }
                path.push(node);
                let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                stack.extend(children.into_iter().rev().map(|c| (c, depth + 1)));
            }
            by_name
        })
}

/// How identifier `node` is used, given its ancestors `path`
/// (the scope first, its parent last).
fn classify(node: Node<'_>, path: &[Node<'_>], text: &str) -> IdentUse {
    let parent_at = |i: usize| path.len().checked_sub(i + 1).map(|k| path[k]);
    let is_operand_of =
        |p: Node<'_>, child: Node<'_>| p.go_kind() == "selector_expression" && p.go_field("operand") == Some(child);
    // A field read: the outermost selector chain rooted at the variable.
    if parent_at(0).is_some_and(|p| is_operand_of(p, node)) {
        let mut level = 0;
        let mut outer = parent_at(0).unwrap_or(node);
        while let Some(p) = parent_at(level + 1).filter(|p| is_operand_of(*p, outer)) {
            outer = p;
            level += 1;
        }
        let mut used_level = level;
        let mut deref = false;
        if parent_at(level + 1).is_some_and(|p| {
            p.go_kind() == "unary_expression" && p.go_field("operator").is_some_and(|o| node_text(o, text) == "*")
        }) {
            used_level = level + 1;
            deref = true;
        }
        let usage = match parent_at(used_level + 1) {
            Some(p)
                if !deref
                    && p.go_kind() == "binary_expression"
                    && [p.go_field("left"), p.go_field("right")]
                        .iter()
                        .flatten()
                        .any(|side| side.go_kind() == "nil")
                    && p.go_field("operator")
                        .is_some_and(|o| matches!(node_text(o, text), "!=" | "==")) =>
            {
                ReadUse::NilCheck
            }
            Some(p)
                if p.go_kind() == "argument_list"
                    && parent_at(used_level + 2)
                        .and_then(|c| c.go_field("function"))
                        .is_some_and(|f| {
                            let callee = node_text(f, text);
                            FORMAT_CALLS.contains(&callee.rsplit('.').next().unwrap_or(callee))
                        }) =>
            {
                ReadUse::Formatted { deref }
            }
            _ => ReadUse::Other,
        };
        return IdentUse::Read {
            outer: span(outer),
            usage,
        };
    }
    // Passed to a call (`c.Get(ctx, key, v)`): the call fills it.
    let arg_level = usize::from(parent_at(0).is_some_and(|p| p.go_kind() == "unary_expression"));
    let call_level = arg_level + 1;
    let is_call = parent_at(arg_level).is_some_and(|p| p.go_kind() == "argument_list")
        && parent_at(call_level).is_some_and(|c| c.go_kind() == "call_expression");
    if !is_call {
        return IdentUse::Other;
    }
    let Some(call) = parent_at(call_level) else {
        return IdentUse::Other;
    };
    // The statement around the call: the ancestor whose parent is a block or a case.
    let statement = (call_level..path.len())
        .find(|&i| parent_at(i + 1).is_some_and(|p| STATEMENT_PARENTS.contains(&p.go_kind())))
        .and_then(parent_at);
    let removable = statement.filter(|s| match s.go_kind() {
        "expression_statement" => s.named_child(0) == Some(call),
        // `if err := c.Get(..); err != nil { .. }` with no else.
        "if_statement" => {
            s.go_field("alternative").is_none()
                && s.go_field("initializer")
                    .is_some_and(|i| i.start_byte() <= call.start_byte() && call.end_byte() <= i.end_byte())
        }
        _ => false,
    });
    IdentUse::Fill(removable.map(span))
}

/// The object site whose type is `type_node` (a `qualified_type`), if the pattern holds.
/// `scopes` caches the uses of identifiers in the blocks seen so far in this declaration.
fn object_site(type_node: Node<'_>, text: &str, scopes: &mut ScopeIdents) -> Option<ObjectSiteDraft> {
    // `v := &T{}` / `v := T{}` / `var v T`.
    let mut up = type_node.parent()?;
    let (var_node, declaration) = if up.go_kind() == "var_spec" {
        if up.go_field("value").is_some() {
            return None;
        }
        (up.go_field("name")?, statement_around(up)?)
    } else {
        if up.go_kind() != "composite_literal" {
            return None;
        }
        if up.parent()?.go_kind() == "unary_expression" {
            up = up.parent()?;
        }
        let list = up.parent()?;
        let decl = list.parent()?;
        if list.go_kind() != "expression_list"
            || decl.go_kind() != "short_var_declaration"
            || list.named_child_count() != 1
        {
            return None;
        }
        let left = decl.go_field("left")?;
        if left.named_child_count() != 1 {
            return None;
        }
        (left.named_child(0)?, statement_around(decl)?)
    };
    if var_node.go_kind() != "identifier" {
        return None;
    }
    let var = node_text(var_node, text).to_string();
    let scope = declaration.parent()?;
    let mut fills = Some(Vec::new());
    let mut reads = Vec::new();
    let mut other_uses = false;
    let after = declaration.end_byte() as u32;
    for (_, usage) in identifiers_of(scope, text, scopes)
        .get(&var)
        .into_iter()
        .flatten()
        .filter(|(at, _)| *at >= after)
    {
        match usage {
            IdentUse::Read { outer, usage } => reads.push(SiteRead {
                path: text[outer.start as usize + var.len()..outer.end as usize]
                    .trim_start_matches('.')
                    .to_string(),
                span: *outer,
                usage: *usage,
            }),
            IdentUse::Fill(statement) => match (statement, fills.as_mut()) {
                (Some(s), Some(list)) => list.push(*s),
                _ => fills = None,
            },
            IdentUse::Other => other_uses = true,
        }
    }
    Some(ObjectSiteDraft {
        site: ObjectSite {
            type_span: span(type_node),
            var,
            declaration: span(declaration),
            fills,
            reads,
            other_uses,
            typed_vars: Vec::new(),
        },
        typed_vars: typed_vars_at(declaration, text),
    })
}

/// The object site whose type reference spans `span` (a [`super::PkgRef::span`]) in a file with
/// these facts, if the pattern holds. Computed on demand: only a provider-read finding asks, so
/// no file pays for the scope walks of every literal it declares.
pub fn object_site_at(tree: &Tree, text: &str, facts: &GoFacts, span: Span) -> Option<ObjectSite> {
    // Objects are declared inside functions only.
    facts.function_at(span.start)?;
    let node = tree
        .root_node()
        .descendant_for_byte_range(span.start as usize, span.end as usize)
        .filter(|n| {
            n.go_kind() == "qualified_type"
                && n.start_byte() == span.start as usize
                && n.end_byte() == span.end as usize
        })?;
    let draft = object_site(node, text, &mut ScopeIdents::new())?;
    let mut site = draft.site;
    site.typed_vars = draft
        .typed_vars
        .into_iter()
        .map(|v| {
            let import =
                v.ty.qualifier
                    .as_deref()
                    .and_then(|q| facts.import_by_name(q))
                    .map(|i| i.path.clone());
            (
                v.name,
                TypeRef {
                    import,
                    name: v.ty.name,
                },
            )
        })
        .collect();
    Some(site)
}
