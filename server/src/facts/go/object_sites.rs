//! Object sites: `v := &alias.T{}` (or `var v alias.T`) filled by a call and read field by field,
//! with the typed variables in scope. The annotation bridge is offered only where this pattern
//! holds, and edits exactly these places.

use tree_sitter::Node;

use super::syntax::{span, written_object_type, WrittenType};
use super::TypeRef;
use crate::facts::Span;
use crate::syntax::{descendants, node_text};

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
    (node.kind() == "slice_type")
        .then(|| node.child_by_field_name("element"))
        .flatten()
        .and_then(|e| written_object_type(e, text))
}

/// The object a composite literal or `&literal` builds, or the type of `var x T`.
fn declared_object_type(value: Node<'_>) -> Option<Node<'_>> {
    let value = if value.kind() == "unary_expression" {
        value.child_by_field_name("operand")?
    } else {
        value
    };
    (value.kind() == "composite_literal")
        .then(|| value.child_by_field_name("type"))
        .flatten()
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
                        for name in decl.children_by_field_name("name", &mut cursor) {
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
                    }
                }
            }
            "block" | "statement_list" => {
                for statement in parent.named_children(&mut parent.walk()) {
                    if statement.start_byte() >= node.start_byte() {
                        break;
                    }
                    let spec = match statement.kind() {
                        "var_declaration" => statement.named_child(0),
                        "short_var_declaration" => Some(statement),
                        _ => None,
                    };
                    let Some(spec) = spec else { continue };
                    let (names, ty) = if spec.kind() == "short_var_declaration" {
                        let left = spec.child_by_field_name("left");
                        let right = spec.child_by_field_name("right").and_then(|r| r.named_child(0));
                        (left, right.and_then(declared_object_type))
                    } else {
                        (Some(spec), spec.child_by_field_name("type"))
                    };
                    let (Some(names), Some(ty)) = (names, ty) else { continue };
                    let name_nodes: Vec<Node<'_>> = if names.kind() == "var_spec" {
                        let mut cursor = names.walk();
                        names.children_by_field_name("name", &mut cursor).collect()
                    } else {
                        names.named_children(&mut names.walk()).collect()
                    };
                    for name in name_nodes {
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
            .find(|c| c.kind() == "range_clause")
        else {
            continue;
        };
        let (Some(left), Some(right)) = (clause.child_by_field_name("left"), clause.child_by_field_name("right"))
        else {
            continue;
        };
        let Some(value_var) = left.named_child(1) else { continue };
        let elem = match right.kind() {
            "identifier" => {
                let name = node_text(right, text);
                slices.iter().find(|v| v.name == name).map(|v| v.ty.clone())
            }
            // `list.Items` where `list` is a `TList`: the element is `T`.
            "selector_expression"
                if right
                    .child_by_field_name("field")
                    .is_some_and(|f| node_text(f, text) == "Items") =>
            {
                right.child_by_field_name("operand").and_then(|o| {
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
            parent.kind(),
            "block" | "statement_list" | "expression_case" | "default_case" | "type_case" | "communication_case"
        ) {
            return Some(node);
        }
        node = parent;
    }
}

/// The object site whose type is `type_node` (a `qualified_type`), if the pattern holds.
pub(super) fn object_site(type_node: Node<'_>, text: &str) -> Option<ObjectSiteDraft> {
    // `v := &T{}` / `v := T{}` / `var v T`.
    let mut up = type_node.parent()?;
    let (var_node, declaration) = if up.kind() == "var_spec" {
        if up.child_by_field_name("value").is_some() {
            return None;
        }
        (up.child_by_field_name("name")?, statement_around(up)?)
    } else {
        if up.kind() != "composite_literal" {
            return None;
        }
        if up.parent()?.kind() == "unary_expression" {
            up = up.parent()?;
        }
        let list = up.parent()?;
        let decl = list.parent()?;
        if list.kind() != "expression_list" || decl.kind() != "short_var_declaration" || list.named_child_count() != 1 {
            return None;
        }
        let left = decl.child_by_field_name("left")?;
        if left.named_child_count() != 1 {
            return None;
        }
        (left.named_child(0)?, statement_around(decl)?)
    };
    if var_node.kind() != "identifier" {
        return None;
    }
    let var = node_text(var_node, text).to_string();
    let scope = declaration.parent()?;
    let mut fills = Some(Vec::new());
    let mut reads = Vec::new();
    let mut other_uses = false;
    for node in descendants(scope) {
        if node.kind() != "identifier" || node_text(node, text) != var || node.start_byte() < declaration.end_byte() {
            continue;
        }
        let parent = node.parent();
        // A field read: the outermost selector chain rooted at the variable.
        if parent.is_some_and(|p| p.kind() == "selector_expression" && p.child_by_field_name("operand") == Some(node)) {
            let mut outer = parent.unwrap();
            while let Some(p) = outer
                .parent()
                .filter(|p| p.kind() == "selector_expression" && p.child_by_field_name("operand") == Some(outer))
            {
                outer = p;
            }
            let path = node_text(outer, text)[var.len()..].trim_start_matches('.').to_string();
            let mut used = outer;
            let mut deref = false;
            if let Some(p) = outer.parent().filter(|p| {
                p.kind() == "unary_expression"
                    && p.child_by_field_name("operator")
                        .is_some_and(|o| node_text(o, text) == "*")
            }) {
                used = p;
                deref = true;
            }
            let usage = match used.parent() {
                Some(p)
                    if !deref
                        && p.kind() == "binary_expression"
                        && [p.child_by_field_name("left"), p.child_by_field_name("right")]
                            .iter()
                            .flatten()
                            .any(|side| side.kind() == "nil")
                        && p.child_by_field_name("operator")
                            .is_some_and(|o| matches!(node_text(o, text), "!=" | "==")) =>
                {
                    ReadUse::NilCheck
                }
                Some(p)
                    if p.kind() == "argument_list"
                        && p.parent()
                            .and_then(|c| c.child_by_field_name("function"))
                            .is_some_and(|f| {
                                let callee = node_text(f, text);
                                FORMAT_CALLS.contains(&callee.rsplit('.').next().unwrap_or(callee))
                            }) =>
                {
                    ReadUse::Formatted { deref }
                }
                _ => ReadUse::Other,
            };
            reads.push(SiteRead {
                path,
                span: span(outer),
                usage,
            });
            continue;
        }
        // Passed to a call (`c.Get(ctx, key, v)`): the call fills it.
        let arg = match parent {
            Some(p) if p.kind() == "unary_expression" => p,
            _ => node,
        };
        let call = arg
            .parent()
            .filter(|p| p.kind() == "argument_list")
            .and_then(|p| p.parent())
            .filter(|c| c.kind() == "call_expression");
        match call {
            Some(call) => {
                let statement = statement_around(call);
                let removable = statement.filter(|s| match s.kind() {
                    "expression_statement" => s.named_child(0) == Some(call),
                    // `if err := c.Get(..); err != nil { .. }` with no else.
                    "if_statement" => {
                        s.child_by_field_name("alternative").is_none()
                            && s.child_by_field_name("initializer")
                                .is_some_and(|i| i.start_byte() <= call.start_byte() && call.end_byte() <= i.end_byte())
                    }
                    _ => false,
                });
                match (removable, fills.as_mut()) {
                    (Some(s), Some(list)) => list.push(span(s)),
                    _ => fills = None,
                }
            }
            None => other_uses = true,
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
