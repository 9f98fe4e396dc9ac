//! Field literals: a string literal reaching a named field by assignment (`cond.Reason = ".."`),
//! by a builder (`.WithReason("..")`), or through a same-file helper's parameter named like the
//! field (`handleError(ctx, obj, "SomeReason", err)` where the helper writes `Reason: reason`);
//! and non-literal field assignments (how condition messages are built).

use tree_sitter::Tree;

use super::syntax::{collect_idents, cut, span, string_node_value};
use super::{Arg, GoFacts};
use crate::facts::Span;
use crate::syntax::node_text;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldWrite {
    /// `receiver.Field = "..."`; the receiver's text.
    Assignment { receiver: String },
    /// `.WithField("...")`; the method name.
    Builder { method: String },
    /// A literal argument of a helper whose parameter (named like the field, lower-case)
    /// flows into the field.
    Parameter { function: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldLiteral {
    pub field: String,
    pub value: String,
    pub value_span: Span,
    pub how: FieldWrite,
    pub function: Option<u32>,
}

/// `receiver.Field = expr` with a non-literal value: how a condition message is set by
/// assignment (`condition.Message = fmt.Sprintf(.., strings.Join(notReady, ", "))`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldExpr {
    pub field: String,
    pub receiver: String,
    pub value_text: String,
    pub value_span: Span,
    /// Identifiers the value mentions (up to 32).
    pub idents: Vec<String>,
    pub function: Option<u32>,
}

pub(super) fn collect_field_literals(tree: &Tree, text: &str, facts: &GoFacts) -> (Vec<FieldLiteral>, Vec<FieldExpr>) {
    let root = tree.root_node();
    let mut out = Vec::new();
    let mut exprs = Vec::new();
    for assignment in &facts.assignments {
        let Some(node) = root.descendant_for_byte_range(assignment.span.start as usize, assignment.span.end as usize)
        else {
            continue;
        };
        let Some(statement) = std::iter::successors(Some(node), |n| n.parent())
            .take(3)
            .find(|n| n.kind() == "assignment_statement")
        else {
            continue;
        };
        let (Some(left), Some(right)) = (
            statement.child_by_field_name("left"),
            statement.child_by_field_name("right"),
        ) else {
            continue;
        };
        if left.named_child_count() != 1 || right.named_child_count() != 1 {
            continue;
        }
        let (Some(target), Some(value)) = (left.named_child(0), right.named_child(0)) else {
            continue;
        };
        if target.kind() != "selector_expression" {
            continue;
        }
        let (Some(operand), Some(field)) = (
            target.child_by_field_name("operand"),
            target.child_by_field_name("field"),
        ) else {
            continue;
        };
        if let Some(v) = string_node_value(value, text) {
            out.push(FieldLiteral {
                field: node_text(field, text).to_string(),
                value: v,
                value_span: span(value),
                how: FieldWrite::Assignment {
                    receiver: node_text(operand, text).to_string(),
                },
                function: assignment.function,
            });
        } else {
            let mut idents = Vec::new();
            collect_idents(value, text, &mut idents);
            exprs.push(FieldExpr {
                field: node_text(field, text).to_string(),
                receiver: node_text(operand, text).to_string(),
                value_text: cut(node_text(value, text)),
                value_span: span(value),
                idents,
                function: assignment.function,
            });
        }
    }
    // Helpers of this file with a parameter named like a field (`reason`) that they write into
    // that field (`Reason: reason` in a literal, `.WithReason(reason)`, `x.Reason = reason`).
    let mut helpers: Vec<(String, usize, String)> = Vec::new();
    for (index, function) in facts.functions.iter().enumerate() {
        let Some(name) = &function.name else { continue };
        for (position, param) in function.params.iter().enumerate() {
            let Some(param_name) = &param.name else { continue };
            let mut chars = param_name.chars();
            let Some(first) = chars.next() else { continue };
            let field: String = first.to_uppercase().chain(chars).collect();
            let inside = |f: Option<u32>| f.is_some_and(|f| facts.named_function(f) == index as u32);
            let flows = facts.literals.iter().any(|l| {
                inside(l.function)
                    && l.fields
                        .iter()
                        .any(|k| k.key == field && k.idents.len() == 1 && &k.idents[0] == param_name)
            }) || facts.calls.iter().any(|c| {
                inside(c.function)
                    && c.callee.last().is_some_and(|m| *m == format!("With{field}"))
                    && matches!(c.args.first(), Some(Arg::Ident(a)) if a == param_name)
            });
            if flows && field == "Reason" {
                helpers.push((name.clone(), position, field));
            }
        }
    }
    for call in &facts.calls {
        let Some(method) = call.callee.last() else { continue };
        let builder = method
            .strip_prefix("With")
            .filter(|f| f.starts_with(char::is_uppercase));
        let helper = helpers.iter().find(|(name, _, _)| name == method);
        if builder.is_none() && helper.is_none() {
            continue;
        }
        let Some(node) = root.descendant_for_byte_range(call.span.start as usize, call.span.end as usize) else {
            continue;
        };
        let Some(call_node) = std::iter::successors(Some(node), |n| n.parent())
            .take(2)
            .find(|n| n.kind() == "call_expression")
        else {
            continue;
        };
        let Some(args) = call_node.child_by_field_name("arguments") else {
            continue;
        };
        let (field, position, how) = match (builder, helper) {
            (_, Some((name, position, field))) => (
                field.clone(),
                *position,
                FieldWrite::Parameter { function: name.clone() },
            ),
            (Some(field), None) => (field.to_string(), 0, FieldWrite::Builder { method: method.clone() }),
            (None, None) => continue,
        };
        if matches!(how, FieldWrite::Builder { .. }) && args.named_child_count() != 1 {
            continue;
        }
        let Some(arg) = args.named_child(position as u32) else {
            continue;
        };
        if let Some(v) = string_node_value(arg, text) {
            out.push(FieldLiteral {
                field,
                value: v,
                value_span: span(arg),
                how,
                function: call.function,
            });
        }
    }
    (out, exprs)
}
