//! `condition-naming/*`: condition types and reasons are CamelCase constants, and messages
//! summarise ("3 of 10 machines are not healthy") rather than list every item.
//!
//! - `type-not-camelcase` / `reason-not-camelcase`: a condition type or reason constant (by the
//!   model's name patterns or declared types) whose value is not CamelCase; a `domain.io/`
//!   prefix before the CamelCase name is allowed by the default pattern.
//! - `reason-literal`: a string literal as the `Reason` of a condition literal.
//! - `message-list`: a condition `Message` built from a variable that grows per item in a loop,
//!   without a leading count.

use super::{Finding, Fix, FixKind, GoContext};
use crate::db::{go_facts, SourceFile};
use crate::facts::go::{first_string_literal, CompositeLiteral, FieldWrite, GoFacts, StringWrite, TypeRef};

pub const TYPE_NOT_CAMELCASE: &str = "condition-naming/type-not-camelcase";
pub const REASON_NOT_CAMELCASE: &str = "condition-naming/reason-not-camelcase";
pub const REASON_LITERAL: &str = "condition-naming/reason-literal";
pub const MESSAGE_LIST: &str = "condition-naming/message-list";

pub static RULE: super::registry::Rule = super::registry::Rule {
    name: "condition-naming",
    doc: "Condition types and reasons in Go are CamelCase constants and messages summarise. Needs the \
          file's Go facts (consts, composite literals, field and string writes) and the model's conditions \
          section; concerns files with one of its prefilter words, and the API conditions files.",
    codes: super::registry::Codes::Fixed(&[
        TYPE_NOT_CAMELCASE,
        REASON_NOT_CAMELCASE,
        REASON_LITERAL,
        super::condition_flows::REASON_JOINED,
        MESSAGE_LIST,
    ]),
    concerns: |file| {
        let words = &file.model.model.conditions.prefilter_words;
        words.is_empty()
            || file.model.is_condition_const_file(file.path)
            || words.iter().any(|w| file.text.contains(w.as_str()))
    },
    check: super::registry::Check::Go(check_file),
};

/// The file's findings, with the package's reason flows (reasons returned, passed or joined).
fn check_file(cx: &GoContext<'_>) -> Vec<Finding> {
    check_go(cx, &super::condition_flows::flows_of(cx.db, cx.ws, cx.file))
}

/// `capacity_error` → `CapacityError`, `not ready` → `NotReady`; keeps a `domain.io/` prefix.
pub fn camel_case(value: &str) -> String {
    let (prefix, name) = match value.rsplit_once('/') {
        Some((p, n)) if p.contains('.') => (format!("{p}/"), n),
        _ => (String::new(), value),
    };
    let mut out = prefix;
    let mut upper = true;
    for ch in name.chars() {
        if ch.is_alphanumeric() {
            if upper {
                out.extend(ch.to_uppercase());
            } else {
                out.push(ch);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    out
}

fn named_type_is(ty: &Option<TypeRef>, names: &[String]) -> bool {
    ty.as_ref().is_some_and(|t| {
        names
            .iter()
            .any(|n| n == &t.name || n.rsplit_once('.').is_some_and(|(_, short)| short == t.name))
    })
}

pub(super) fn is_condition_literal(model: &crate::model::CompiledModel, literal: &CompositeLiteral) -> bool {
    let conventions = &model.model.conditions;
    let by_type = literal.ty.as_ref().is_some_and(|t| {
        conventions
            .condition_types
            .iter()
            .any(|c| match (c.rsplit_once('.'), &t.import) {
                (Some((path, name)), Some(import)) => path == import && name == t.name,
                _ => false,
            })
    });
    let structural = !conventions.structural_keys.is_empty()
        && conventions
            .structural_keys
            .iter()
            .all(|k| literal.fields.iter().any(|f| &f.key == k));
    by_type || structural
}

/// Do `a` and `b` (function indexes) lie in the same named function?
fn same_named_function(facts: &GoFacts, a: Option<u32>, b: Option<u32>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => facts.named_function(a) == facts.named_function(b),
        _ => false,
    }
}

pub fn check_go(cx: &GoContext<'_>, flows: &super::condition_flows::ReasonFlows) -> Vec<Finding> {
    let mut out = Vec::new();
    let model = cx.model;
    let conventions = &model.model.conditions;
    let condition_file = model.is_condition_const_file(cx.path);
    for constant in &cx.facts.consts {
        let (Some(value), Some(value_span)) = (&constant.value, constant.value_span) else {
            continue;
        };
        if model.condition_value.is_match(value) {
            continue;
        }
        let is_type = model
            .condition_type_const
            .as_ref()
            .is_some_and(|r| r.is_match(&constant.name))
            || named_type_is(&constant.ty, &conventions.type_const_types);
        // A reason by its type, or because it reaches a condition's reason in this package
        // (not by its name: `...Reason` constants also tag errors and events).
        let is_reason =
            named_type_is(&constant.ty, &conventions.reason_const_types) || flows.consts.contains(&constant.name);
        let exempt = model
            .condition_exempt_const
            .as_ref()
            .is_some_and(|r| r.is_match(&constant.name));
        // In an API's conditions file every other string constant is a reason.
        let is_reason = is_reason || (condition_file && !is_type && !exempt);
        if !(is_type || is_reason) {
            continue;
        }
        let code = if is_type {
            TYPE_NOT_CAMELCASE
        } else {
            REASON_NOT_CAMELCASE
        };
        let suggestion = camel_case(value);
        let mut message = model.message(
            code,
            &[("name", &constant.name), ("value", value), ("suggestion", &suggestion)],
        );
        if let Some(note) = conventions.published_value_note.as_deref().filter(|_| condition_file) {
            message = format!("{message}. {note}");
        }
        out.push(Finding::new(code, value_span, message));
    }
    reason_field_literals(cx, &mut out);
    out.extend(super::condition_flows::check(cx, flows));
    // `condition.Message = ..` (not on an event): the same message check as in a literal.
    for write in &cx.facts.field_exprs {
        let receiver = write.receiver.to_lowercase();
        let event = conventions
            .non_condition_receivers
            .iter()
            .any(|w| receiver.contains(&w.to_lowercase()));
        if write.field == "Message" && !event {
            if let Some(finding) = message_list(cx, write.function, &write.idents, &write.value_text, write.value_span)
            {
                out.push(finding);
            }
        }
    }
    for literal in &cx.facts.literals {
        if !is_condition_literal(cx.model, literal) {
            continue;
        }
        let data = conventions.local_data_holders && held_by_local_data(cx, literal);
        for field in &literal.fields {
            if field.key == "Reason" && !data {
                if let Some(value) = &field.string_value {
                    out.push(reason_literal(cx, value, field.value_span));
                }
            }
            if field.key == "Message" {
                if let Some(finding) =
                    message_list(cx, literal.function, &field.idents, &field.value_text, field.value_span)
                {
                    out.push(finding);
                }
            }
        }
    }
    out
}

/// Is this condition literal the second argument of a call whose first is `&x.Conditions`, `x`
/// being a variable of a type declared in this package (not `x.Status.Conditions`): conditions
/// kept in the package's own data struct (serialised into a ConfigMap, say), not an API status?
fn held_by_local_data(cx: &GoContext<'_>, literal: &crate::facts::go::CompositeLiteral) -> bool {
    let text = cx.file.text(cx.db);
    let Some(call) = cx
        .facts
        .calls
        .iter()
        .filter(|c| c.callee_span.end <= literal.span.start && literal.span.end <= c.span.end)
        .min_by_key(|c| c.span.end - c.span.start)
    else {
        return false;
    };
    let Some(before) = text.get(call.callee_span.end as usize..literal.span.start as usize) else {
        return false;
    };
    let first = before
        .trim_start_matches(['(', ' ', '\t', '\n'])
        .split(',')
        .next()
        .unwrap_or("");
    let Some((root, "Conditions")) = first.trim().trim_start_matches('&').split_once('.') else {
        return false;
    };
    cx.facts
        .flow
        .var_type(cx.facts, call.function, root)
        .is_some_and(|t| t.import.is_none())
}

/// The `reason-literal` finding for a literal reason at `span`, with the constant fix.
pub(super) fn reason_literal(cx: &GoContext<'_>, value: &str, span: crate::facts::Span) -> Finding {
    let model = cx.model;
    let suggestion = camel_case(value);
    let plan = reason_constant_plan(cx.db, cx.ws, cx.file, &suggestion);
    // Where the constant belongs, as the fix would put it (the package that owns the condition,
    // not always the API), and CamelCase advice only for a value that is not CamelCase.
    let say = |key: &str, args: &[(&str, &str)]| model.rule_say(REASON_LITERAL, key, args).unwrap_or_default();
    let advice = match &plan {
        Some(ReasonConstantPlan::Reuse { name }) => say("say_reuse", &[("name", name)]),
        Some(ReasonConstantPlan::Beside { name, file, .. }) => {
            say("say_beside", &[("name", name), ("file", file.path(cx.db))])
        }
        Some(ReasonConstantPlan::Local { name }) => say("say_local", &[("name", name)]),
        None => say("say_declare", &[]),
    };
    let camel = if model.condition_value.is_match(value) {
        String::new()
    } else {
        say("say_not_camel", &[("suggestion", &suggestion)])
    };
    let spelling = misspelt_word(cx.file.text(cx.db), value)
        .map(|(word, intended)| say("say_misspelt", &[("word", &word), ("intended", &intended)]))
        .unwrap_or_default();
    let message = model.message(
        REASON_LITERAL,
        &[
            ("value", value),
            ("suggestion", &suggestion),
            ("advice", &advice),
            ("camel", &camel),
            ("spelling", &spelling),
        ],
    );
    let mut finding = Finding::new(REASON_LITERAL, span, message);
    // The fix is offered when the model titles it, under the name the editor's fix will use
    // (one naming rule: [`reason_constant_plan`]); not when that name is taken.
    if let Some(title) = &model.model.code_actions.reason_constant_title {
        if let Some(plan) = plan {
            finding.fixes.push(Fix {
                title: crate::model::render(title, &[("Name", plan.name())]),
                kind: FixKind::ReasonConstant { value: suggestion },
            });
        }
    }
    finding
}

/// A word of a CamelCase `value` that looks like a misspelling of a word the file uses elsewhere
/// (one letter missing, extra or swapped, words of six letters or more): `Reconciliaton` in
/// `"ReconciliatonSucceeded"` beside `ReconciliationError`. Returns (word, intended).
fn misspelt_word(text: &str, value: &str) -> Option<(String, String)> {
    fn words(s: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, c) in s.char_indices() {
            match (c.is_ascii_uppercase(), c.is_ascii_lowercase(), start) {
                (true, _, Some(st)) => {
                    out.push(&s[st..i]);
                    start = Some(i);
                }
                (true, _, None) => start = Some(i),
                (false, true, _) => {}
                (false, false, Some(st)) => {
                    out.push(&s[st..i]);
                    start = None;
                }
                (false, false, None) => {}
            }
        }
        if let Some(st) = start {
            out.push(&s[st..]);
        }
        out
    }
    fn one_edit(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a == b {
            return false;
        }
        let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let suffix = a.iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count();
        match a.len() as isize - b.len() as isize {
            // one letter missing or extra
            1 | -1 => prefix + suffix >= a.len().min(b.len()),
            // two neighbours swapped
            0 => {
                prefix + suffix + 2 == a.len()
                    && a.get(prefix) == b.get(prefix + 1)
                    && a.get(prefix + 1) == b.get(prefix)
            }
            _ => false,
        }
    }
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for w in words(text) {
        *counts.entry(w).or_default() += 1;
    }
    let in_value = words(value);
    for word in in_value.iter().filter(|w| w.len() >= 6) {
        let used = counts.get(word).copied().unwrap_or(0);
        // The word itself is rare here, and a near neighbour is used more often.
        let intended = counts
            .iter()
            .filter(|(w, n)| w.len() >= 6 && **n > used && one_edit(word, w))
            .max_by_key(|(w, n)| (**n, std::cmp::Reverse(**w)))
            .map(|(w, _)| w.to_string());
        if let Some(intended) = intended {
            return Some((word.to_string(), intended));
        }
    }
    None
}

/// Where the reason-constant fix puts a literal reason's value, and its name.
#[derive(Clone, PartialEq, Eq)]
pub enum ReasonConstantPlan {
    /// A reason constant of the package already holds the value.
    Reuse { name: String },
    /// A new constant declared beside an existing reason constant (`anchor`: its name's span in
    /// `file`), in that constant's case.
    Beside {
        name: String,
        file: SourceFile,
        anchor: crate::facts::Span,
    },
    /// The package has no reason constants: a new unexported constant above the function.
    Local { name: String },
}

impl ReasonConstantPlan {
    pub fn name(&self) -> &str {
        match self {
            ReasonConstantPlan::Reuse { name }
            | ReasonConstantPlan::Beside { name, .. }
            | ReasonConstantPlan::Local { name } => name,
        }
    }
}

/// The one naming rule of the reason-constant fix, for the title `check` lists and the edit the
/// editor applies. A reason constant is one whose name ends with the model's
/// `conditions.reason_const_suffix` (`Reason`).
/// 1. A reason constant of the package (any file) that holds `value` is reused.
/// 2. Else the new constant goes beside the package's reason constants (the current file's
///    last one, else the first in the package's other files) and takes their case: exported
///    beside exported ones (the published API's `*_conditions.go`, a package that exports its
///    reasons: `InvalidConfigReason`), unexported beside unexported ones (NodePool's
///    controller: `reconciliationActiveConditionReason`): `<Value><suffix>` or
///    `<value><suffix>`.
/// 3. Else, in a package with no reason constants, the reason is the package's own detail:
///    an unexported `<value><suffix>` above the function that uses it.
///
/// `None` (no fix) when the name is not a Go identifier (a `domain.io/` prefixed value) or is
/// taken by a constant with another value (reusing it would change what the condition says).
pub fn reason_constant_plan(
    db: &dyn salsa::Database,
    ws: crate::db::Workspace,
    file: SourceFile,
    value: &str,
) -> Option<ReasonConstantPlan> {
    let path = file.path(db).clone();
    let dir = crate::db::dir_of(&path).to_string();
    let package = go_facts(db, file).package.clone();
    let suffix = ws
        .model(db)
        .model
        .conditions
        .reason_const_suffix
        .clone()
        .unwrap_or_default();
    // Every constant that matters (a reason constant, or one holding the new name) ends with
    // the suffix: a file without it is not parsed (as the rules' prefilter).
    let mut siblings: Vec<SourceFile> = crate::db::package_files(db, ws, &dir)
        .into_iter()
        .filter(|f| f.lang(db) == crate::syntax::Lang::Go && f.text(db).contains(suffix.as_str()))
        .filter(|f| go_facts(db, *f).package == package)
        // A constant in a `_test.go` file is invisible to the package's other files.
        .filter(|f| *f == file || !f.path(db).ends_with("_test.go"))
        .collect();
    if !siblings.contains(&file) {
        siblings.push(file);
    }
    // The current file first, then the others by path.
    siblings.sort_by_key(|f| (*f != file, f.path(db).clone()));
    let consts: Vec<(SourceFile, &crate::facts::go::Const)> = siblings
        .iter()
        .flat_map(|f| go_facts(db, *f).consts.iter().map(move |c| (*f, c)))
        .collect();
    let is_reason = |name: &str| !suffix.is_empty() && name.ends_with(suffix.as_str());
    if let Some((_, c)) = consts
        .iter()
        .find(|(_, c)| c.value.as_deref() == Some(value) && is_reason(&c.name))
    {
        return Some(ReasonConstantPlan::Reuse { name: c.name.clone() });
    }
    let beside = consts
        .iter()
        .rfind(|(f, c)| *f == file && is_reason(&c.name))
        .or_else(|| consts.iter().find(|(_, c)| is_reason(&c.name)));
    let exported = beside.is_some_and(|(_, c)| c.name.starts_with(char::is_uppercase));
    let name = if exported {
        format!("{value}{suffix}")
    } else {
        format!("{}{suffix}", lower_first(value))
    };
    let identifier = name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !identifier || consts.iter().any(|(_, c)| c.name == name) {
        return None;
    }
    Some(match beside {
        Some((f, c)) => ReasonConstantPlan::Beside {
            name,
            file: *f,
            anchor: c.name_span,
        },
        None => ReasonConstantPlan::Local { name },
    })
}

/// Go's lower camel case for an identifier: `AWSMachine` → `awsMachine`, `JobActive` →
/// `jobActive` (a leading acronym is lowered whole).
pub fn lower_first(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let upper_run = chars.iter().take_while(|c| c.is_uppercase()).count();
    let lower_count = match upper_run {
        0 => 0,
        n if n == chars.len() => n,
        1 => 1,
        // `AWSMachine`: the last capital of the run starts the next word.
        n => n - 1,
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < lower_count {
                c.to_lowercase().next().unwrap_or(*c)
            } else {
                *c
            }
        })
        .collect()
}

/// Literal reasons set other than in a condition literal: `cond.Reason = ".."` (not on an
/// event), the model's reason builders (`.WithReason("..")`), and literal arguments of a helper
/// whose `reason` parameter flows into a `Reason`.
fn reason_field_literals(cx: &GoContext<'_>, out: &mut Vec<Finding>) {
    let conventions = &cx.model.model.conditions;
    for write in &cx.facts.field_literals {
        if write.field != "Reason" {
            continue;
        }
        let counts = match &write.how {
            FieldWrite::Assignment { receiver } => {
                let receiver = receiver.to_lowercase();
                !conventions
                    .non_condition_receivers
                    .iter()
                    .any(|w| receiver.contains(&w.to_lowercase()))
            }
            FieldWrite::Builder { method } => conventions.reason_builders.contains(method),
            FieldWrite::Parameter { .. } => true,
        };
        if counts {
            out.push(reason_literal(cx, &write.value, write.value_span));
        }
    }
}

/// Does `text` mention one of `words` (case-insensitive)? Returns the word.
fn mentions<'w>(text: &str, words: &'w [String]) -> Option<&'w str> {
    let text = text.to_lowercase();
    words
        .iter()
        .find(|w| !w.is_empty() && text.contains(&w.to_lowercase()))
        .map(String::as_str)
}

/// The first arguments of the `strings.Join(..)` calls in an expression's text.
fn joined_args(value_text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = value_text;
    while let Some(at) = rest.find("strings.Join(") {
        rest = &rest[at + "strings.Join(".len()..];
        let mut depth = 0usize;
        let end = rest.char_indices().find(|&(_, c)| match c {
            '(' | '[' | '{' => {
                depth += 1;
                false
            }
            ')' | ']' | '}' if depth > 0 => {
                depth -= 1;
                false
            }
            ',' | ')' => depth == 0,
            _ => false,
        });
        if let Some((end, _)) = end {
            out.push(rest[..end].trim());
        }
    }
    out
}

/// A `Message` that lists a collection without bound and without a leading count: a variable
/// grown per item in a loop (unless the collection, its loop or the function names a bounded
/// set: `message_bounded_words`), or a joined collection that names something that grows with
/// the cluster (`message_unbounded_words`: missing release images, dependencies).
fn message_list(
    cx: &GoContext<'_>,
    function: Option<u32>,
    idents: &[String],
    value_text: &str,
    value_span: crate::facts::Span,
) -> Option<Finding> {
    let model = cx.model;
    let conventions = &model.model.conditions;
    let summarises = |s: Option<&str>| s.is_some_and(|s| model.count_summary.is_match(s));
    if summarises(first_string_literal(value_text)) {
        return None;
    }
    let writes = &cx.facts.string_writes;
    let in_scope = |w: &&StringWrite| idents.contains(&w.var) && same_named_function(cx.facts, w.function, function);
    let function_name = function
        .map(|f| cx.facts.named_function(f))
        .and_then(|f| cx.facts.functions[f as usize].name.as_deref())
        .unwrap_or("");
    let bounded = |w: &StringWrite| {
        let range = cx.facts.reasons.range_at(w.span.start).unwrap_or("");
        let evidence = format!("{} {range} {function_name}", w.var);
        mentions(&evidence, &conventions.message_bounded_words).is_some()
    };
    let grown = writes.iter().filter(in_scope).find(|w| w.in_loop && !bounded(w));
    let (var, why, related) = match grown {
        Some(grown) => {
            // The first write that puts text in (a `b := &strings.Builder{}` puts none).
            let first_text = writes
                .iter()
                .filter(in_scope)
                .filter(|w| w.var == grown.var)
                .find_map(|w| w.first_literal.as_deref());
            if summarises(first_text) {
                return None;
            }
            let related = super::Related {
                path: cx.path.to_string(),
                span: grown.span,
                message: model
                    .rule_say(MESSAGE_LIST, "say_grown_here", &[("var", &grown.var)])
                    .unwrap_or_else(|| grown.var.clone()),
            };
            (
                grown.var.clone(),
                model.rule_say(MESSAGE_LIST, "say_grown", &[]).unwrap_or_default(),
                Some(related),
            )
        }
        None => {
            // A collection joined here that is not grown in this function's loops.
            let grown_here = |arg: &str| writes.iter().filter(in_scope).any(|w| w.in_loop && w.var == arg);
            let (arg, word) = joined_args(value_text).into_iter().find_map(|arg| {
                let unbounded = mentions(arg, &conventions.message_unbounded_words)?;
                let exempt = grown_here(arg) || mentions(arg, &conventions.message_bounded_words).is_some();
                (!exempt).then_some((arg, unbounded))
            })?;
            (
                arg.to_string(),
                model
                    .rule_say(MESSAGE_LIST, "say_unbounded", &[("word", word)])
                    .unwrap_or_default(),
                None,
            )
        }
    };
    let example = &conventions.summary_example;
    let message = model.message(MESSAGE_LIST, &[("var", &var), ("why", &why), ("example", example)]);
    let mut finding = Finding::new(MESSAGE_LIST, value_span, message);
    finding.related.extend(related);
    Some(finding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_cases() {
        assert_eq!(camel_case("capacity_error"), "CapacityError");
        assert_eq!(camel_case("not ready"), "NotReady");
        assert_eq!(camel_case("AsExpected"), "AsExpected");
        assert_eq!(
            camel_case("hypershift.openshift.io/foo-bar"),
            "hypershift.openshift.io/FooBar"
        );
    }

    #[test]
    fn joined() {
        assert_eq!(
            joined_args(r#"fmt.Sprintf("x: %s", strings.Join(sets.List(images), ", "))"#),
            vec!["sets.List(images)"]
        );
        assert_eq!(
            joined_args("strings.Join(a, \",\") + strings.Join(f(b, c), \";\")"),
            vec!["a", "f(b, c)"]
        );
    }

    #[test]
    fn first_literal() {
        assert_eq!(
            first_string_literal(r#"fmt.Sprintf("%d of %d", a, b)"#),
            Some("%d of %d")
        );
        assert_eq!(first_string_literal(r#"strings.Join(msgs, ", ")"#), Some(", "));
        assert_eq!(first_string_literal("msg"), None);
    }
}
