//! Condition reasons across a package: which function results, helper parameters and constants
//! reach a condition's `Reason` (from [`crate::facts::go::reasons`] facts of every file of the
//! package), and which reasons are built by joining per-item reasons.
//!
//! - `reason-literal` for literals that reach a reason other than in place: returned by a
//!   function whose result becomes a reason (`cond.Reason = reasonFor(x)`), or through a local
//!   variable (`reason := "Foo"; .. Reason: reason`).
//! - `reason-joined`: a reason built by `strings.Join`, directly or through the functions that
//!   return it (NodePool's `AllMachinesReady`: `reason, message = aggregate(..)` → `truncate
//!   Reasons(reasons)` → `strings.Join(reasons, ",")`).
//! - [`ReasonFlows::consts`]: the constants that reach a reason, so that a `...Reason`
//!   constant is checked as a reason only when it is one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::db::{dir_of, go_facts, package_files, SourceFile, Workspace};
use crate::facts::go::reasons::{Origin, ReasonSink, ReasonSinkKind};
use crate::facts::go::GoFacts;
use crate::facts::Span;
use crate::model::CompiledModel;
use crate::rules::{Finding, GoContext, Related};

pub const REASON_JOINED: &str = "condition-naming/reason-joined";

/// A function's result position or parameter position.
type Slot = (String, usize);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReasonFlows {
    /// Function results that become a condition reason, with where (path, span) they do.
    pub results: BTreeMap<Slot, (String, Span)>,
    /// Function parameters that flow into a condition reason.
    pub params: BTreeSet<Slot>,
    /// Function results that are a joined list, with the join (path, span).
    pub joined: BTreeMap<Slot, (String, Span)>,
    /// Unqualified constant names that reach a condition reason in this package.
    pub consts: BTreeSet<String>,
}

/// Does this sink set a condition's reason (not an event's)?
pub fn sink_counts(model: &CompiledModel, facts: &GoFacts, sink: &ReasonSink) -> bool {
    let conventions = &model.model.conditions;
    match &sink.kind {
        ReasonSinkKind::LiteralField => facts
            .literals
            .iter()
            .any(|l| l.fields.iter().any(|f| f.value_span == sink.value_span) && super::is_condition_literal(model, l)),
        ReasonSinkKind::Assignment { receiver } => {
            let receiver = receiver.to_lowercase();
            !conventions
                .non_condition_receivers
                .iter()
                .any(|w| receiver.contains(&w.to_lowercase()))
        }
        ReasonSinkKind::Builder { method } => conventions.reason_builders.contains(method),
    }
}

/// The reason flows of the package in `dir`.
#[salsa::tracked(returns(ref))]
pub fn package_reason_flows(db: &dyn salsa::Database, ws: Workspace, dir: String) -> Arc<ReasonFlows> {
    let model = ws.model(db);
    // Only files that mention a reason are parsed for it (a cheap scan, like the rules'
    // prefilter: a file without the word has no sink, reason parameter or reason constant).
    let files: Vec<(String, Arc<GoFacts>)> = package_files(db, ws, &dir)
        .into_iter()
        .filter(|f| crate::facts::go::reasons::mentions_reason(f.text(db)))
        .map(|f| (f.path(db).to_string(), go_facts(db, f).clone()))
        .collect();
    let mut flows = ReasonFlows::default();
    // Seeds: what counting sinks receive.
    let mut pending: Vec<(Origin, (String, Span))> = Vec::new();
    for (path, facts) in &files {
        for sink in &facts.reasons.sinks {
            if sink_counts(model, facts, sink) {
                for origin in &sink.origins {
                    pending.push((origin.clone(), (path.clone(), sink.value_span)));
                }
            }
        }
    }
    while let Some((origin, at)) = pending.pop() {
        match origin {
            Origin::Const { name } => {
                flows.consts.insert(name);
            }
            Origin::Call { function, index } => {
                let slot = (function, index);
                if flows.results.contains_key(&slot) {
                    continue;
                }
                flows.results.insert(slot.clone(), at.clone());
                for (_, facts) in &files {
                    for r in facts.reasons.returns.iter().filter(|r| r.function == slot.0) {
                        for o in r.results.get(slot.1).into_iter().flatten() {
                            pending.push((o.clone(), at.clone()));
                        }
                    }
                }
            }
            Origin::Param { function, index } => {
                let slot = (function, index);
                if !flows.params.insert(slot.clone()) {
                    continue;
                }
                for (_, facts) in &files {
                    for c in facts.reasons.calls.iter().filter(|c| c.function == slot.0) {
                        for o in c.args.get(slot.1).into_iter().flatten() {
                            pending.push((o.clone(), at.clone()));
                        }
                    }
                }
            }
            Origin::Literal { .. } | Origin::Joined { .. } => {}
        }
    }
    // Joined results: a result that is a join, or the result of a call to one (to a fixpoint;
    // each round adds at least one slot or stops).
    loop {
        let mut added = false;
        for (path, facts) in &files {
            for r in &facts.reasons.returns {
                for (index, origins) in r.results.iter().enumerate() {
                    let slot = (r.function.clone(), index);
                    if flows.joined.contains_key(&slot) {
                        continue;
                    }
                    let join = origins.iter().find_map(|o| match o {
                        Origin::Joined { span } => Some((path.clone(), *span)),
                        Origin::Call { function, index } => flows.joined.get(&(function.clone(), *index)).cloned(),
                        _ => None,
                    });
                    if let Some(join) = join {
                        flows.joined.insert(slot, join);
                        added = true;
                    }
                }
            }
        }
        if !added {
            break;
        }
    }
    Arc::new(flows)
}

/// The flows of `file`'s package.
pub fn flows_of(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Arc<ReasonFlows> {
    package_reason_flows(db, ws, dir_of(file.path(db)).to_string()).clone()
}

/// `reason-literal` for literals reaching a reason other than in place, and `reason-joined`.
pub fn check(cx: &GoContext<'_>, flows: &ReasonFlows) -> Vec<Finding> {
    let model = cx.model;
    let mut out = Vec::new();
    let mut literals: Vec<(String, Span, Related)> = Vec::new();
    for sink in &cx.facts.reasons.sinks {
        if !sink_counts(model, cx.facts, sink) {
            continue;
        }
        let here = |message: String| Related {
            path: cx.path.to_string(),
            span: sink.value_span,
            message,
        };
        let join = sink.origins.iter().find_map(|o| match o {
            Origin::Joined { span } => Some((cx.path.to_string(), *span)),
            Origin::Call { function, index } => flows.joined.get(&(function.clone(), *index)).cloned(),
            _ => None,
        });
        if let Some((path, span)) = join {
            let mut finding = Finding::new(REASON_JOINED, sink.value_span, model.message(REASON_JOINED, &[]));
            finding.related.push(Related {
                path,
                span,
                message: "the reasons are joined here".to_string(),
            });
            out.push(finding);
        }
        if !sink.direct_literal {
            for o in &sink.origins {
                if let Origin::Literal { value, span } = o {
                    literals.push((value.clone(), *span, here("it becomes a condition reason here".into())));
                }
            }
        }
    }
    for r in &cx.facts.reasons.returns {
        for (index, origins) in r.results.iter().enumerate() {
            let Some((path, at)) = flows.results.get(&(r.function.clone(), index)) else {
                continue;
            };
            for o in origins {
                if let Origin::Literal { value, span } = o {
                    let related = Related {
                        path: path.clone(),
                        span: *at,
                        message: format!("`{}` returns it as a condition reason here", r.function),
                    };
                    literals.push((value.clone(), *span, related));
                }
            }
        }
    }
    literals.sort_by_key(|(_, span, _)| span.start);
    literals.dedup_by_key(|(_, span, _)| *span);
    for (value, span, related) in literals {
        let mut finding = super::reason_literal(cx, &value, span);
        finding.related.push(related);
        out.push(finding);
    }
    out
}
