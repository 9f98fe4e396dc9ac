//! Field literals: a string literal reaching a named field by assignment (`cond.Reason = ".."`),
//! by a builder (`.WithReason("..")`), or through a same-file helper's parameter named like the
//! field (`handleError(ctx, obj, "SomeReason", err)` where the helper writes `Reason: reason`);
//! and non-literal field assignments (how condition messages are built).

use crate::facts::go::GoNode;
use tree_sitter::Node;

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

/// What an assignment statement `receiver.Field = value` writes into a field: a literal, or an
/// expression (`function` left `None`, set by the caller).
pub(super) enum FieldAssignment {
    Literal(FieldLiteral),
    Expr(FieldExpr),
}

/// The field an `assignment_statement` with one target and one value writes, if its target is a
/// selector.
pub(super) fn field_assignment(statement: Node<'_>, text: &str) -> Option<FieldAssignment> {
    let left = statement.go_field("left")?;
    let right = statement.go_field("right")?;
    if left.named_child_count() != 1 || right.named_child_count() != 1 {
        return None;
    }
    let (target, value) = (left.named_child(0)?, right.named_child(0)?);
    if target.go_kind() != "selector_expression" {
        return None;
    }
    let operand = target.go_field("operand")?;
    let field = target.go_field("field")?;
    Some(match string_node_value(value, text) {
        Some(v) => FieldAssignment::Literal(FieldLiteral {
            field: node_text(field, text).to_string(),
            value: v,
            value_span: span(value),
            how: FieldWrite::Assignment {
                receiver: node_text(operand, text).to_string(),
            },
            function: None,
        }),
        None => {
            let mut idents = Vec::new();
            collect_idents(value, text, &mut idents);
            FieldAssignment::Expr(FieldExpr {
                field: node_text(field, text).to_string(),
                receiver: node_text(operand, text).to_string(),
                value_text: cut(node_text(value, text)),
                value_span: span(value),
                idents,
                function: None,
            })
        }
    })
}

/// Literals passed to a builder (`.WithReason("..")`) or to a helper of this file whose parameter
/// named like a field flows into that field. `arg_spans[i][j]`: the span of `facts.calls[i]`'s
/// argument `j`.
pub(super) fn literals_through_calls(facts: &GoFacts, arg_spans: &[Vec<Span>]) -> Vec<FieldLiteral> {
    let mut out = Vec::new();
    // Helpers of this file with a parameter named like a field (`reason`) that they write into
    // that field (`Reason: reason` in a literal, `.WithReason(reason)`, `x.Reason = reason`).
    let mut helpers: Vec<Helper> = Vec::new();
    for (index, function) in facts.functions.iter().enumerate() {
        let Some(name) = &function.name else { continue };
        for (position, param) in function.params.iter().enumerate() {
            let Some(param_name) = &param.name else { continue };
            let mut chars = param_name.chars();
            let Some(first) = chars.next() else { continue };
            let field: String = first.to_uppercase().chain(chars).collect();
            // Only a reason parameter makes a helper (below); deciding that first keeps the
            // scans of the file's literals and calls to the few parameters that can be one.
            if field != "Reason" {
                continue;
            }
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
            if flows {
                helpers.push(Helper {
                    name: name.clone(),
                    position,
                    field,
                });
            }
        }
    }
    for (call, spans) in facts.calls.iter().zip(arg_spans) {
        let Some(method) = call.callee.last() else { continue };
        let builder = method
            .strip_prefix("With")
            .filter(|f| f.starts_with(char::is_uppercase));
        let helper = helpers.iter().find(|h| &h.name == method);
        let (field, position, how) = match (builder, helper) {
            (_, Some(h)) => (
                h.field.clone(),
                h.position,
                FieldWrite::Parameter {
                    function: h.name.clone(),
                },
            ),
            (Some(field), None) => (field.to_string(), 0, FieldWrite::Builder { method: method.clone() }),
            (None, None) => continue,
        };
        if matches!(how, FieldWrite::Builder { .. }) && call.args.len() != 1 {
            continue;
        }
        if let (Some(Arg::Str(v)), Some(&value_span)) = (call.args.get(position), spans.get(position)) {
            out.push(FieldLiteral {
                field,
                value: v.clone(),
                value_span,
                how,
                function: call.function,
            });
        }
    }
    out
}

/// A function of the file whose parameter at `position` flows into `field`.
struct Helper {
    name: String,
    position: usize,
    field: String,
}
