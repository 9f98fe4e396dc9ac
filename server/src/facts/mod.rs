//! Facts: plain values extracted from one file's syntax tree. Rules read facts, never text or
//! trees, so a rule can be tested on facts and a file's facts can be compared across edits.

pub mod go;
pub mod go_loops;
pub mod gomod;
pub mod yaml;

use serde::{Deserialize, Serialize};

/// A byte range in a file's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    pub fn contains(&self, offset: u32) -> bool {
        self.start <= offset && offset < self.end
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// An `invariant:ignore <codes> -- <reason>` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub span: Span,
    /// Rule codes (`capi-boundary/provider-read`) or families (`capi-boundary`).
    pub codes: Vec<String>,
    pub reason: Option<String>,
}

/// A comment's span without the `\r` of a CRLF line ending (tree-sitter ends a line comment
/// at the `\n`), so a suppression's range is the comment the user sees.
pub fn trim_cr(span: Span, comment: &str) -> Span {
    let cr = (comment.len() - comment.trim_end_matches('\r').len()) as u32;
    Span {
        start: span.start,
        end: span.end.saturating_sub(cr).max(span.start),
    }
}
