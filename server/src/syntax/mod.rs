//! Syntax: tree-sitter parsers and the queries from `grammars-queries/`, embedded at build time.
//! A parse is a value (the tree plus whether it was complete); nothing here knows the domain.

use std::ops::ControlFlow;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tree_sitter::{Language, Parser, Query, Tree};

/// The languages the engine reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Lang {
    Go,
    Yaml,
}

impl Lang {
    /// The language of a path, by extension; `None` for files the engine does not read.
    pub fn from_path(path: &str) -> Option<Lang> {
        let lower = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
        if lower.ends_with(".go") {
            Some(Lang::Go)
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Some(Lang::Yaml)
        } else {
            None
        }
    }

    pub fn language(self) -> Language {
        match self {
            Lang::Go => tree_sitter_go::LANGUAGE.into(),
            Lang::Yaml => tree_sitter_yaml::LANGUAGE.into(),
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Lang::Go => "go",
            Lang::Yaml => "yaml",
        }
    }
}

/// The time one file's parse may take before it is abandoned (a pathological input must not
/// stall a `check` or a keystroke).
pub const PARSE_BUDGET: Duration = Duration::from_secs(2);

/// A parsed file: the tree (absent when the budget ran out) and whether it holds errors.
#[derive(Clone)]
pub struct Parsed {
    pub tree: Option<Tree>,
    pub timed_out: bool,
}

impl std::fmt::Debug for Parsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parsed")
            .field("has_tree", &self.tree.is_some())
            .field("timed_out", &self.timed_out)
            .finish()
    }
}

thread_local! {
    // A parser per thread and language: creating one costs more than a small file's parse.
    static PARSERS: std::cell::RefCell<[Option<Parser>; 2]> = const { std::cell::RefCell::new([None, None]) };
}

/// Parses `text`, reusing `old` (already edited with `Tree::edit`) for an incremental reparse.
pub fn parse(lang: Lang, text: &str, old: Option<&Tree>) -> Parsed {
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let slot = &mut parsers[lang as usize];
        let parser = slot.get_or_insert_with(|| {
            let mut parser = Parser::new();
            parser
                .set_language(&lang.language())
                .expect("grammar ABI matches the tree-sitter crate");
            parser
        });
        let started = Instant::now();
        let mut timed_out = false;
        let bytes = text.as_bytes();
        let mut progress = |_: &tree_sitter::ParseState| {
            if started.elapsed() > PARSE_BUDGET {
                timed_out = true;
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let options = tree_sitter::ParseOptions::new().progress_callback(&mut progress);
        let tree = parser.parse_with_options(
            &mut |offset, _| {
                if offset < bytes.len() {
                    &bytes[offset..]
                } else {
                    &[] as &[u8]
                }
            },
            old,
            Some(options),
        );
        if tree.is_none() {
            // A parser stopped by the callback must be reset before its next use.
            parser.reset();
        }
        Parsed { tree, timed_out }
    })
}

fn query(lang: Lang, source: &str, name: &str) -> Query {
    Query::new(&lang.language(), source).unwrap_or_else(|e| panic!("grammars-queries/{name} is invalid: {e}"))
}

pub static GO_FACTS: LazyLock<Query> = LazyLock::new(|| {
    query(
        Lang::Go,
        include_str!("../../../grammars-queries/go/facts.scm"),
        "go/facts.scm",
    )
});
pub static GO_DOT_IMPORT_TYPES: LazyLock<Query> = LazyLock::new(|| {
    query(
        Lang::Go,
        include_str!("../../../grammars-queries/go/dot-import-types.scm"),
        "go/dot-import-types.scm",
    )
});

/// The nodes below `root` (itself included) in document order, without recursion, so that
/// 20,000 levels of nesting cannot overflow the stack.
pub fn descendants(root: tree_sitter::Node<'_>) -> impl Iterator<Item = tree_sitter::Node<'_>> {
    let mut cursor = root.walk();
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let node = cursor.node();
        if !cursor.goto_first_child() {
            loop {
                if cursor.node() == root {
                    done = true;
                    break;
                }
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    done = true;
                    break;
                }
            }
        }
        Some(node)
    })
}

/// The text of a node, or "" if its range is not valid in `text` (never panics).
pub fn node_text<'a>(node: tree_sitter::Node<'_>, text: &'a str) -> &'a str {
    text.get(node.start_byte()..node.end_byte()).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_compile() {
        assert!(GO_FACTS.pattern_count() > 10);
        assert_eq!(GO_DOT_IMPORT_TYPES.pattern_count(), 1);
    }

    #[test]
    fn descendants_visit_every_node_once_in_order() {
        let text = "package x\nfunc f() { g(a, b) }\n";
        let tree = parse(Lang::Go, text, None).tree.unwrap();
        let ids: Vec<&str> = descendants(tree.root_node())
            .filter(|n| n.kind() == "identifier")
            .map(|n| node_text(n, text))
            .collect();
        assert_eq!(ids, vec!["f", "g", "a", "b"]);
        let call = descendants(tree.root_node())
            .find(|n| n.kind() == "call_expression")
            .unwrap();
        assert_eq!(
            descendants(call).filter(|n| n.kind() == "identifier").count(),
            3,
            "stays inside the subtree"
        );
    }

    #[test]
    fn half_typed_go_parses_with_errors() {
        let parsed = parse(Lang::Go, "package x\nfunc f( {", None);
        let tree = parsed.tree.expect("a tree even for broken input");
        assert!(tree.root_node().has_error());
    }
}
