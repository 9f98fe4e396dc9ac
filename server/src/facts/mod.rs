//! Facts: plain values extracted from one file's syntax tree. Rules read facts, never text or
//! trees, so a rule can be tested on facts and a file's facts can be compared across edits.

pub mod go;
pub mod gomod;
pub mod suppression;
pub mod yaml;

use serde::{Deserialize, Serialize};

pub use suppression::{trim_cr, Suppression};

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
