//! `reconcile-cost/per-item-api-call`: a loop over Machines, NodePools or MachineSets (a list's
//! `.Items`, or a slice of those types) that calls the API per item where it costs. Reads
//! through controller-runtime's informer-cached client are free, so only these count: a `List`
//! inside the loop; reads through an uncached reader (`mgr.GetAPIReader()`, a client built in
//! the function with a listed constructor such as `client.New`, a guest-cluster client); method
//! calls on a cloud SDK client. The finding says which client it is, and the loop is related.
//!
//! Model params (of the rule entry): `item_kinds`, `list_methods`, `read_methods`,
//! `uncached_reader_calls`, `uncached_reader_names`, `guest_client_names`, `guest_uncached_on_sides`
//! (component sides where a guest client is not the manager's own), `client_constructors`
//! (`import/path.Func`), `sdk_packages` (globs), `sdk_receiver_names`; wording: `say_list`,
//! `say_uncached`, `say_constructed`, `say_guest`, `say_sdk`, `say_loop` (each one template).

use super::registry::{Check, Codes, Rule};
use super::{Finding, GoContext, Related};
use crate::facts::go::loops::RangeLoop;
use crate::facts::go::{Call, GoFacts};

pub const PER_ITEM_API_CALL: &str = "reconcile-cost/per-item-api-call";

pub static RULE: Rule = Rule {
    name: "reconcile-cost",
    doc: "A loop over Machines, NodePools or MachineSets that calls the API per item where it costs (a List, \
          an uncached or guest-cluster reader, a client built outside the manager, a cloud SDK client). Needs \
          the file's Go facts (range loops with element types, calls, names bound to calls, parameters) and \
          the rule entry's params.",
    codes: Codes::Fixed(&[PER_ITEM_API_CALL]),
    concerns: |file| {
        let kinds = file.model.rule_param(PER_ITEM_API_CALL, "item_kinds");
        file.text.contains("range") && kinds.iter().any(|k| file.text.contains(k.as_str()))
    },
    check: Check::Go(check),
};

fn matches_package(glob: &str, import: &str) -> bool {
    match glob.strip_suffix('*') {
        Some(prefix) => import.starts_with(prefix),
        None => glob == import,
    }
}

/// `mgr.GetAPIReader().Get` rather than `mgr.GetAPIReader.().Get`.
fn written(chain: &[String]) -> String {
    let mut out = String::new();
    for part in chain {
        if part != "()" && !out.is_empty() {
            out.push('.');
        }
        out.push_str(part);
    }
    out
}

/// The call a local name was last bound to before `call`, in the same named function.
fn bound_before<'f>(facts: &'f GoFacts, call: &Call, name: &str) -> Option<&'f crate::facts::go::loops::BoundCall> {
    let here = facts.named_function(call.function?);
    facts.loops.bound_calls.iter().rev().find(|b| {
        b.name == name && b.span.start < call.span.start && b.function.is_some_and(|f| facts.named_function(f) == here)
    })
}

/// The import path of the declared type of parameter `name` visible at the call.
fn param_import<'f>(facts: &'f GoFacts, call: &Call, name: &str) -> Option<&'f str> {
    let mut scope = call.function;
    while let Some(i) = scope {
        let f = &facts.functions[i as usize];
        if let Some(p) = f.params.iter().find(|p| p.name.as_deref() == Some(name)) {
            return p.ty.as_ref().and_then(|t| t.import.as_deref());
        }
        scope = f.parent;
    }
    None
}

pub fn check(cx: &GoContext<'_>) -> Vec<Finding> {
    let param = |key: &str| cx.model.rule_param(PER_ITEM_API_CALL, key);
    let say = |key: &str| param(key).first().cloned().unwrap_or_default();
    let kinds = param("item_kinds");
    let facts = cx.facts;
    let loops: Vec<&RangeLoop> = facts
        .loops
        .range_loops
        .iter()
        .filter(|l| l.element.as_ref().is_some_and(|t| kinds.contains(&t.name)))
        .collect();
    let mut out = Vec::new();
    if loops.is_empty() {
        return out;
    }
    let has = |key: &str, name: &str| param(key).iter().any(|n| n == name);
    // A guest-cluster client is uncached only where the manager runs against another cluster
    // (on the management side); in the hosted-cluster-config-operator it is the manager's own
    // cached client.
    let guest_uncached = cx
        .component
        .and_then(|c| c.side)
        .and_then(|side| serde_json::to_value(side).ok())
        .is_some_and(|side| {
            param("guest_uncached_on_sides")
                .iter()
                .any(|s| side.as_str() == Some(s))
        });
    for call in &facts.calls {
        let [receiver_chain @ .., method] = call.callee.as_slice() else {
            continue;
        };
        if receiver_chain.is_empty() || call.import.is_some() {
            continue; // a package function (`aws.String`), not a method on a client
        }
        // The innermost qualifying loop whose body holds the call.
        let Some(lp) = loops
            .iter()
            .filter(|l| l.body.start <= call.span.start && call.span.end <= l.body.end)
            .min_by_key(|l| l.body.end - l.body.start)
        else {
            continue;
        };
        let receiver = receiver_chain.last().map(String::as_str).unwrap_or("");
        let root = receiver_chain[0].as_str();
        let simple = receiver_chain.len() == 1;
        let bound = if simple { bound_before(facts, call, root) } else { None };
        let reads = has("read_methods", method);
        let receiver_text = written(receiver_chain);
        let client = if reads
            && (receiver_chain
                .windows(2)
                .any(|w| w[1] == "()" && has("uncached_reader_calls", &w[0]))
                || has("uncached_reader_names", receiver)
                || bound.is_some_and(|b| b.callee.last().is_some_and(|f| has("uncached_reader_calls", f))))
        {
            Some(crate::model::render(
                &say("say_uncached"),
                &[("receiver", &receiver_text)],
            ))
        } else if reads && guest_uncached && has("guest_client_names", receiver) {
            Some(crate::model::render(&say("say_guest"), &[("receiver", &receiver_text)]))
        } else if let Some(constructor) = bound.filter(|_| reads).and_then(|b| {
            let function = b.callee.last()?;
            let import = b.import.as_deref()?;
            param("client_constructors")
                .iter()
                .any(|c| c.rsplit_once('.') == Some((import, function.as_str())))
                .then(|| written(&b.callee))
        }) {
            Some(crate::model::render(
                &say("say_constructed"),
                &[("receiver", &receiver_text), ("constructor", &constructor)],
            ))
        } else if has("sdk_receiver_names", receiver)
            || (simple
                && param("sdk_packages").iter().any(|g| {
                    param_import(facts, call, root).is_some_and(|i| matches_package(g, i))
                        || bound
                            .and_then(|b| b.import.as_deref())
                            .is_some_and(|i| matches_package(g, i))
                }))
        {
            Some(crate::model::render(&say("say_sdk"), &[("receiver", &receiver_text)]))
        } else if has("list_methods", method) && call.args.len() >= 2 {
            Some(crate::model::render(&say("say_list"), &[("receiver", &receiver_text)]))
        } else {
            None
        };
        let Some(client) = client else { continue };
        let kind = lp.element.as_ref().map(|t| t.name.as_str()).unwrap_or("item");
        let message = cx.model.message(
            PER_ITEM_API_CALL,
            &[
                ("call", &written(&call.callee)),
                ("client", &client),
                ("kind", kind),
                ("items", &lp.range_text),
            ],
        );
        let mut finding = Finding::new(PER_ITEM_API_CALL, call.callee_span, message);
        finding.related.push(Related {
            path: cx.path.to_string(),
            span: lp.header,
            message: crate::model::render(&say("say_loop"), &[("kind", kind), ("items", &lp.range_text)]),
        });
        out.push(finding);
    }
    out
}
