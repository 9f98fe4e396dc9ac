//! Moving facts: a declaration's facts are built with spans relative to its start and function
//! indices local to it, then placed in the file by a [`Shift`].

use super::*;
use crate::facts::go::flow::{FlowFacts, RefField, TypeAlias, TypeUse};
use crate::facts::go::loops::{BoundCall, LoopFacts, RangeLoop};
use crate::facts::Span;

/// Where a declaration's facts go: `bytes` is added to every offset (wrapping, so a shift can
/// also move facts back to relative offsets), `functions` to every function index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shift {
    pub(super) bytes: u32,
    pub(super) functions: u32,
}

impl Shift {
    /// Makes offsets relative to `origin` (function indices unchanged).
    pub(super) fn to_origin(origin: u32) -> Shift {
        Shift {
            bytes: 0u32.wrapping_sub(origin),
            functions: 0,
        }
    }
}

/// A fact that holds offsets or function indices. Every type in [`GoFacts`] implements it, so
/// the compiler asks for it when a fact is added.
pub(super) trait Rebase {
    fn rebase(&mut self, by: Shift);
}

impl Rebase for Span {
    fn rebase(&mut self, by: Shift) {
        self.start = self.start.wrapping_add(by.bytes);
        self.end = self.end.wrapping_add(by.bytes);
    }
}

/// A function index.
impl Rebase for u32 {
    fn rebase(&mut self, by: Shift) {
        *self += by.functions;
    }
}

impl<T: Rebase> Rebase for Option<T> {
    fn rebase(&mut self, by: Shift) {
        if let Some(x) = self {
            x.rebase(by);
        }
    }
}

impl<T: Rebase> Rebase for Vec<T> {
    fn rebase(&mut self, by: Shift) {
        for x in self {
            x.rebase(by);
        }
    }
}

/// Names hold no offsets.
impl Rebase for String {
    fn rebase(&mut self, _: Shift) {}
}

impl Rebase for Import {
    fn rebase(&mut self, by: Shift) {
        self.span.rebase(by);
    }
}

impl Rebase for Function {
    fn rebase(&mut self, by: Shift) {
        self.span.rebase(by);
        self.name_span.rebase(by);
        self.parent.rebase(by);
    }
}

impl Rebase for Arg {
    fn rebase(&mut self, by: Shift) {
        if let Arg::FuncLit(index) = self {
            index.rebase(by);
        }
    }
}

impl Rebase for Call {
    fn rebase(&mut self, by: Shift) {
        self.args.rebase(by);
        self.span.rebase(by);
        self.callee_span.rebase(by);
        self.function.rebase(by);
    }
}

impl Rebase for PkgRef {
    fn rebase(&mut self, by: Shift) {
        self.span.rebase(by);
        self.function.rebase(by);
    }
}

impl Rebase for KeyedField {
    fn rebase(&mut self, by: Shift) {
        self.key_span.rebase(by);
        self.value_span.rebase(by);
    }
}

impl Rebase for CompositeLiteral {
    fn rebase(&mut self, by: Shift) {
        self.fields.rebase(by);
        self.span.rebase(by);
        self.function.rebase(by);
    }
}

impl Rebase for Const {
    fn rebase(&mut self, by: Shift) {
        self.name_span.rebase(by);
        self.value_span.rebase(by);
    }
}

impl Rebase for AssignTarget {
    fn rebase(&mut self, by: Shift) {
        self.span.rebase(by);
    }
}

impl Rebase for Assignment {
    fn rebase(&mut self, by: Shift) {
        self.targets.rebase(by);
        self.span.rebase(by);
        self.function.rebase(by);
    }
}

impl Rebase for StringWrite {
    fn rebase(&mut self, by: Shift) {
        self.span.rebase(by);
        self.function.rebase(by);
    }
}

impl Rebase for Suppression {
    fn rebase(&mut self, by: Shift) {
        self.span.rebase(by);
    }
}

impl Rebase for SiteRead {
    fn rebase(&mut self, by: Shift) {
        self.span.rebase(by);
    }
}

impl Rebase for ObjectSite {
    fn rebase(&mut self, by: Shift) {
        self.type_span.rebase(by);
        self.declaration.rebase(by);
        self.fills.rebase(by);
        self.reads.rebase(by);
    }
}

impl Rebase for FieldLiteral {
    fn rebase(&mut self, by: Shift) {
        self.value_span.rebase(by);
        self.function.rebase(by);
    }
}

impl Rebase for FieldExpr {
    fn rebase(&mut self, by: Shift) {
        self.value_span.rebase(by);
        self.function.rebase(by);
    }
}

impl Rebase for FlowFacts {
    fn rebase(&mut self, by: Shift) {
        let FlowFacts {
            type_aliases,
            type_uses,
            results,
            var_types,
            ref_fields,
            var_fields,
        } = self;
        type_aliases.rebase(by);
        type_uses.rebase(by);
        for (function, _) in results {
            function.rebase(by);
        }
        for (function, _, _) in var_types {
            function.rebase(by);
        }
        ref_fields.rebase(by);
        for (function, _, _) in var_fields {
            function.rebase(by);
        }
    }
}

impl Rebase for TypeAlias {
    fn rebase(&mut self, by: Shift) {
        self.span.rebase(by);
    }
}

impl Rebase for TypeUse {
    fn rebase(&mut self, by: Shift) {
        self.span.rebase(by);
        self.function.rebase(by);
    }
}

impl Rebase for RefField {
    fn rebase(&mut self, by: Shift) {
        self.span.rebase(by);
    }
}

impl Rebase for LoopFacts {
    fn rebase(&mut self, by: Shift) {
        let LoopFacts {
            range_loops,
            bound_calls,
        } = self;
        range_loops.rebase(by);
        bound_calls.rebase(by);
    }
}

impl Rebase for RangeLoop {
    fn rebase(&mut self, by: Shift) {
        self.header.rebase(by);
        self.body.rebase(by);
        self.function.rebase(by);
    }
}

impl Rebase for BoundCall {
    fn rebase(&mut self, by: Shift) {
        self.span.rebase(by);
        self.function.rebase(by);
    }
}
