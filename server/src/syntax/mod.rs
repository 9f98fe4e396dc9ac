//! Syntax: tree-sitter parsers (the YAML facts query, `grammars-queries/yaml/facts.scm`, is compiled in `facts::yaml`).
//! A parse is a value (the tree plus whether it was complete); nothing here knows the domain.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tree_sitter::{Language, Parser, Tree};

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
    /// Not parsed: nested deeper than the grammar can take (see [`yaml_too_deep`]).
    pub too_deep: bool,
}

/// What a parse reported besides its tree, kept in the facts (the tree itself is not kept for
/// files nobody is editing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ParseOutcome {
    pub timed_out: bool,
    pub too_deep: bool,
    /// Parsed, but its syntax tree has more than [`MAX_ANALYSED_NODES`] nodes: no facts were
    /// taken from it (set by the database, which decides what to extract).
    pub over_budget: bool,
}

/// The most syntax nodes a file may have for its facts to be taken. Facts cost memory in
/// proportion to the nodes they come from and stay in the database for the whole run (32
/// one-megabyte Go files of calls took 2.0 GB): a file over it is not analysed, and is reported
/// like a file over the size limit.
pub const MAX_ANALYSED_NODES: usize = 400_000;

impl Parsed {
    pub fn outcome(&self) -> ParseOutcome {
        ParseOutcome {
            timed_out: self.timed_out,
            too_deep: self.too_deep,
            over_budget: false,
        }
    }
}

impl std::fmt::Debug for Parsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parsed")
            .field("has_tree", &self.tree.is_some())
            .field("timed_out", &self.timed_out)
            .field("too_deep", &self.too_deep)
            .finish()
    }
}

thread_local! {
    // A parser per thread and language: creating one costs more than a small file's parse.
    static PARSERS: std::cell::RefCell<[Option<Parser>; 2]> = const { std::cell::RefCell::new([None, None]) };
}

/// Block indentation (in columns) beyond which YAML is not parsed. tree-sitter-yaml 0.7's
/// scanner keeps a stack of indentation levels and serialises it, 4 bytes a level, into
/// tree-sitter's fixed 1024-byte buffer without a bound: about 250 levels abort the process
/// (a failed assertion) or write past the buffer. The stack holds at most two levels per
/// column of block structure, so 120 columns keep it under 1024 bytes.
pub const MAX_YAML_BLOCK_COLUMN: usize = 120;

/// Whether a YAML text nests block structure deeper than [`MAX_YAML_BLOCK_COLUMN`]: the column
/// a line's content starts at, after its indentation and any compact `- `, `? `, `: `
/// indicators (a block scalar's content lines count by their indentation).
pub fn yaml_too_deep(text: &str) -> bool {
    text.split('\n').any(|line| {
        let bytes = line.as_bytes();
        let mut column = 0;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b' ' | b'\t' => i += 1,
                b'-' | b'?' | b':' if bytes.get(i + 1).is_none_or(|c| matches!(c, b' ' | b'\t' | b'\r')) => i += 1,
                _ => break,
            }
            column += 1;
            if column > MAX_YAML_BLOCK_COLUMN {
                return true;
            }
        }
        false
    })
}

thread_local! {
    /// Parses from scratch (no prior tree) on this thread, by language: what a keystroke must
    /// not do for a document whose tree is held (see `tests/incremental.rs`).
    static SCRATCH_PARSES: std::cell::Cell<[u64; 2]> = const { std::cell::Cell::new([0, 0]) };
}

/// How many parses from scratch (no prior tree) of `lang` this thread ran.
pub fn scratch_parses(lang: Lang) -> u64 {
    SCRATCH_PARSES.with(|c| c.get()[lang as usize])
}

/// Parses `text`, reusing `old` (already edited with `Tree::edit`) for an incremental reparse.
pub fn parse(lang: Lang, text: &str, old: Option<&Tree>) -> Parsed {
    if old.is_none() {
        SCRATCH_PARSES.with(|c| {
            let mut n = c.get();
            n[lang as usize] += 1;
            c.set(n);
        });
    }
    if lang == Lang::Yaml && yaml_too_deep(text) {
        return Parsed {
            tree: None,
            timed_out: false,
            too_deep: true,
        };
    }
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
        Parsed {
            tree,
            timed_out,
            too_deep: false,
        }
    })
}

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
    fn yaml_nested_past_the_scanner_buffer_is_not_parsed() {
        // 300 levels of block sequences abort tree-sitter-yaml 0.7 (`length <= 1024`).
        let deep = "- ".repeat(300) + "x\n";
        let parsed = parse(Lang::Yaml, &deep, None);
        assert!(parsed.too_deep && parsed.tree.is_none());
        let indented: String = (0..300).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
        assert!(parse(Lang::Yaml, &indented, None).too_deep);
        // Right under the bound, in every shape, the parse runs (and does not abort).
        let shapes = [
            "- ".repeat(MAX_YAML_BLOCK_COLUMN / 2) + "x\n",
            (0..MAX_YAML_BLOCK_COLUMN)
                .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                .collect(),
            (0..MAX_YAML_BLOCK_COLUMN / 2)
                .map(|i| format!("{}- k{i}:\n", " ".repeat(2 * i)))
                .collect(),
            (0..MAX_YAML_BLOCK_COLUMN / 2 - 2)
                .map(|i| format!("{}? - k{i}:\n", " ".repeat(2 * i)))
                .collect(),
            (0..MAX_YAML_BLOCK_COLUMN - 1)
                .map(|i| format!("{}k{i}: |\n{}text\n", " ".repeat(i), " ".repeat(i + 1)))
                .collect(),
        ];
        for (i, text) in shapes.iter().enumerate() {
            let parsed = parse(Lang::Yaml, text, None);
            assert!(!parsed.too_deep && parsed.tree.is_some(), "shape {i}");
        }
        // Long lines and flow collections are not block nesting.
        let long = format!(
            "key: {}\nflow: {}{}\n",
            "v".repeat(5000),
            "[".repeat(5000),
            "]".repeat(5000)
        );
        assert!(!yaml_too_deep(&long));
    }

    #[test]
    fn half_typed_go_parses_with_errors() {
        let parsed = parse(Lang::Go, "package x\nfunc f( {", None);
        let tree = parsed.tree.expect("a tree even for broken input");
        assert!(tree.root_node().has_error());
    }
}
