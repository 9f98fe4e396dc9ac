//! YAML facts: the documents of a YAML stream as a flat arena of nodes (maps, sequences,
//! scalars, aliases) with their keys, values and spans. Built by walking the tree iteratively
//! (an explicit stack, no recursion: 20,000 levels of nesting must not overflow), and bounded:
//! aliases point at their anchor's node and are never expanded (lookups follow at most
//! `MAX_ALIAS_HOPS` of them), and a stream of more than `MAX_NODES` nodes is cut short.

use std::collections::HashMap;
use std::sync::LazyLock;

use streaming_iterator::StreamingIterator;
use tree_sitter::{Node, Query, QueryCursor, Tree};

use super::suppression::suppression_in;
use super::{Span, Suppression};
use crate::syntax::{node_text, Lang};

/// Nodes kept per file; the rest of a huge stream is not looked at.
pub const MAX_NODES: usize = 200_000;
/// Aliases (and `<<` merge keys) followed in one lookup.
pub const MAX_ALIAS_HOPS: usize = 8;
/// Scalar values are cut to this many bytes.
const MAX_VALUE: usize = 8 * 1024;

pub static YAML_FACTS: LazyLock<Query> = LazyLock::new(|| {
    Query::new(
        &Lang::Yaml.language(),
        include_str!("../../../grammars-queries/yaml/facts.scm"),
    )
    .unwrap_or_else(|e| panic!("grammars-queries/yaml/facts.scm is invalid: {e}"))
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum YKind {
    Map,
    Seq,
    Scalar,
    /// An empty value, `~` or `null`.
    Null,
    /// `*name`: `alias_of` is the anchored node, when it was defined before.
    Alias,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YNode {
    pub kind: YKind,
    /// The value's span (the key's for an empty value).
    pub span: Span,
    pub parent: Option<u32>,
    /// The key under which this node sits in its parent map.
    pub key: Option<String>,
    pub key_span: Option<Span>,
    /// A scalar's value (unquoted; block scalars with their indentation removed).
    pub value: Option<String>,
    /// The scalar was written without quotes (so `0` is a number, `"0"` a string).
    pub plain: bool,
    pub anchor: Option<String>,
    pub alias_of: Option<u32>,
    pub children: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YDoc {
    pub span: Span,
    pub root: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YamlFacts {
    pub docs: Vec<YDoc>,
    pub nodes: Vec<YNode>,
    pub suppressions: Vec<Suppression>,
    pub has_syntax_errors: bool,
    /// More than `MAX_NODES` nodes: facts cover the beginning of the stream only.
    pub truncated: bool,
    /// How the parse went (set by the database, which does the parsing).
    pub parse: crate::syntax::ParseOutcome,
}

/// Identity of a Kubernetes object in a document.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    pub api_version: Option<String>,
    pub kind: String,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

impl YamlFacts {
    pub fn node(&self, id: u32) -> &YNode {
        &self.nodes[id as usize]
    }

    /// Follows aliases (at most `MAX_ALIAS_HOPS`).
    pub fn resolve(&self, mut id: u32) -> u32 {
        for _ in 0..MAX_ALIAS_HOPS {
            match self.nodes[id as usize].alias_of {
                Some(target) if self.nodes[id as usize].kind == YKind::Alias => id = target,
                _ => break,
            }
        }
        id
    }

    /// The value under `key` in the map `map` (aliases and `<<` merges followed, bounded).
    pub fn get(&self, map: u32, key: &str) -> Option<u32> {
        let mut pending = vec![self.resolve(map)];
        let mut hops = 0;
        while let Some(map) = pending.pop() {
            let node = self.node(map);
            if node.kind != YKind::Map {
                continue;
            }
            if let Some(&hit) = node
                .children
                .iter()
                .find(|&&c| self.node(c).key.as_deref() == Some(key))
            {
                return Some(hit);
            }
            for &c in &node.children {
                if self.node(c).key.as_deref() == Some("<<") && hops < MAX_ALIAS_HOPS {
                    hops += 1;
                    let target = self.resolve(c);
                    match self.node(target).kind {
                        YKind::Seq => pending.extend(self.node(target).children.iter().map(|&i| self.resolve(i))),
                        _ => pending.push(target),
                    }
                }
            }
        }
        None
    }

    /// Entries of a map, or items of a sequence (aliases resolved).
    pub fn children(&self, id: u32) -> Vec<u32> {
        let id = self.resolve(id);
        self.node(id).children.clone()
    }

    /// Items of the sequence `id` (empty for anything else).
    pub fn items(&self, id: u32) -> Vec<u32> {
        let id = self.resolve(id);
        if self.node(id).kind == YKind::Seq {
            self.node(id).children.iter().map(|&c| self.resolve(c)).collect()
        } else {
            Vec::new()
        }
    }

    /// A scalar's value (aliases resolved); `None` for maps, sequences and nulls.
    pub fn scalar(&self, id: u32) -> Option<&str> {
        let node = self.node(self.resolve(id));
        match node.kind {
            YKind::Scalar => node.value.as_deref(),
            _ => None,
        }
    }

    /// The nodes at a dotted path from `from`: `spec.sources[].path` (`[]` visits every item).
    pub fn at_path(&self, from: u32, path: &str) -> Vec<u32> {
        let mut current = vec![from];
        for segment in path.split('.').filter(|s| !s.is_empty()) {
            let (key, each) = match segment.strip_suffix("[]") {
                Some(key) => (key, true),
                None => (segment, false),
            };
            let mut next = Vec::new();
            for id in current {
                let Some(value) = self.get(id, key) else { continue };
                if each {
                    next.extend(self.items(value));
                } else {
                    next.push(value);
                }
            }
            current = next;
        }
        current
    }

    /// The first node at `path` that is not null.
    pub fn first(&self, from: u32, path: &str) -> Option<u32> {
        self.at_path(from, path)
            .into_iter()
            .find(|&id| self.node(self.resolve(id)).kind != YKind::Null)
    }

    pub fn scalar_at(&self, from: u32, path: &str) -> Option<&str> {
        self.first(from, path).and_then(|id| self.scalar(id))
    }

    /// `apiVersion`, `kind`, `metadata.name`, `metadata.namespace` of a document.
    pub fn object_id(&self, doc: &YDoc) -> Option<ObjectId> {
        let root = doc.root?;
        let kind = self.scalar_at(root, "kind")?.to_string();
        Some(ObjectId {
            api_version: self.scalar_at(root, "apiVersion").map(str::to_string),
            kind,
            name: self.scalar_at(root, "metadata.name").map(str::to_string),
            namespace: self.scalar_at(root, "metadata.namespace").map(str::to_string),
        })
    }

    /// Where a finding about the node should point: its key when it has one, else the value.
    pub fn anchor_span(&self, id: u32) -> Span {
        let node = self.node(id);
        node.key_span.unwrap_or(node.span)
    }
}

/// Is a document's `apiVersion` in one of `groups` (empty: any)?
pub fn api_group_matches(api_version: Option<&str>, groups: &[String]) -> bool {
    if groups.is_empty() {
        return true;
    }
    let group = api_version
        .and_then(|v| v.rsplit_once('/').map(|(g, _)| g))
        .unwrap_or("");
    groups.iter().any(|g| g == group)
}

fn cut(mut s: String) -> String {
    if s.len() > MAX_VALUE {
        let mut end = MAX_VALUE;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

fn unquote_double(raw: &str) -> String {
    let inner = raw.strip_prefix('"').unwrap_or(raw);
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

fn block_scalar(raw: &str) -> String {
    let mut lines = raw.lines();
    let header = lines.next().unwrap_or("");
    let body: Vec<&str> = lines.collect();
    let indent = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let stripped: Vec<&str> = body.iter().map(|l| l.get(indent..).unwrap_or("")).collect();
    if header.starts_with('>') {
        stripped.join(" ")
    } else {
        stripped.join("\n")
    }
}

/// The scalar held by a `flow_node`/`block_node`'s content node, or `None` if not a scalar.
fn scalar_of(content: Node<'_>, text: &str) -> Option<(String, bool)> {
    let raw = node_text(content, text);
    match content.kind() {
        "plain_scalar" => Some((raw.trim().to_string(), true)),
        "double_quote_scalar" => Some((unquote_double(raw), false)),
        "single_quote_scalar" => {
            let inner = raw.strip_prefix('\'').unwrap_or(raw);
            let inner = inner.strip_suffix('\'').unwrap_or(inner);
            Some((inner.replace("''", "'"), false))
        }
        "block_scalar" => Some((block_scalar(raw), false)),
        _ => None,
    }
}

/// A key's text: its scalar value, or the raw text for complex keys.
fn key_text(key: Node<'_>, text: &str) -> String {
    let mut cursor = key.walk();
    for child in key.children(&mut cursor) {
        if let Some((value, _)) = scalar_of(child, text) {
            return cut(value);
        }
    }
    cut(node_text(key, text).trim().to_string())
}

struct Work<'t> {
    /// A `block_node`/`flow_node` (or `None` for an empty value).
    value: Option<Node<'t>>,
    parent: Option<u32>,
    key: Option<(String, Span)>,
    /// Span used for an empty value.
    fallback: Span,
    doc: usize,
}

fn span(node: Node<'_>) -> Span {
    Span::new(node.start_byte(), node.end_byte())
}

/// Extracts the facts of a YAML stream.
pub fn extract(tree: &Tree, text: &str) -> YamlFacts {
    let mut facts = YamlFacts::default();
    let root = tree.root_node();
    facts.has_syntax_errors = root.has_error();

    // Comments (suppressions), through the query.
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(&YAML_FACTS, root, text.as_bytes());
    let comment_ix = YAML_FACTS.capture_index_for_name("comment");
    while let Some(m) = matches.next() {
        for capture in m.captures() {
            if Some(capture.index) == comment_ix {
                let comment = node_text(capture.node, text);
                facts.suppressions.extend(suppression_in(comment, span(capture.node)));
            }
        }
    }

    // Documents, then an explicit stack over values.
    let mut stack: Vec<Work<'_>> = Vec::new();
    let mut tc = root.walk();
    let documents: Vec<Node<'_>> = if root.kind() == "stream" {
        root.children(&mut tc).filter(|n| n.kind() == "document").collect()
    } else {
        Vec::new()
    };
    for (i, document) in documents.iter().enumerate() {
        facts.docs.push(YDoc {
            span: span(*document),
            root: None,
        });
        let mut dc = document.walk();
        let value = document
            .children(&mut dc)
            .find(|n| matches!(n.kind(), "block_node" | "flow_node"));
        if let Some(value) = value {
            stack.push(Work {
                value: Some(value),
                parent: None,
                key: None,
                fallback: span(value),
                doc: i,
            });
        }
        // Documents are processed one at a time so anchors stay per document.
        let mut anchors: HashMap<String, u32> = HashMap::new();
        while let Some(work) = stack.pop() {
            if facts.nodes.len() >= MAX_NODES {
                facts.truncated = true;
                stack.clear();
                break;
            }
            let id = facts.nodes.len() as u32;
            let mut node = YNode {
                kind: YKind::Null,
                span: work.fallback,
                parent: work.parent,
                key: work.key.as_ref().map(|(k, _)| k.clone()),
                key_span: work.key.as_ref().map(|(_, s)| *s),
                value: None,
                plain: true,
                anchor: None,
                alias_of: None,
                children: Vec::new(),
            };
            let mut pushed: Vec<Work<'_>> = Vec::new();
            if let Some(value) = work.value {
                node.span = span(value);
                let mut vc = value.walk();
                // A `block_sequence_item`'s value may itself be a flow_node/block_node.
                let content: Vec<Node<'_>> = value.children(&mut vc).collect();
                for child in content {
                    match child.kind() {
                        "anchor" => {
                            let name = node_text(child, text).trim_start_matches('&').to_string();
                            anchors.insert(name.clone(), id);
                            node.anchor = Some(name);
                        }
                        "tag" | "comment" => {}
                        "alias" => {
                            let name = node_text(child, text).trim_start_matches('*');
                            node.kind = YKind::Alias;
                            node.value = Some(name.to_string());
                            node.alias_of = anchors.get(name).copied();
                        }
                        "block_mapping" | "flow_mapping" => {
                            node.kind = YKind::Map;
                            let mut pc = child.walk();
                            for pair in child.children(&mut pc) {
                                if !matches!(pair.kind(), "block_mapping_pair" | "flow_pair") {
                                    continue;
                                }
                                let Some(key) = pair.child_by_field_name("key") else {
                                    continue;
                                };
                                let key_span = span(key);
                                pushed.push(Work {
                                    value: pair.child_by_field_name("value"),
                                    parent: Some(id),
                                    key: Some((key_text(key, text), key_span)),
                                    fallback: key_span,
                                    doc: work.doc,
                                });
                            }
                        }
                        "block_sequence" | "flow_sequence" => {
                            node.kind = YKind::Seq;
                            let mut ic = child.walk();
                            for item in child.children(&mut ic) {
                                let value = match item.kind() {
                                    "block_sequence_item" => {
                                        let mut c = item.walk();
                                        let inner = item
                                            .children(&mut c)
                                            .find(|n| matches!(n.kind(), "block_node" | "flow_node"));
                                        if inner.is_none() {
                                            // `- ` with nothing after it.
                                            pushed.push(Work {
                                                value: None,
                                                parent: Some(id),
                                                key: None,
                                                fallback: span(item),
                                                doc: work.doc,
                                            });
                                            continue;
                                        }
                                        inner
                                    }
                                    "flow_node" => Some(item),
                                    _ => None,
                                };
                                if let Some(value) = value {
                                    pushed.push(Work {
                                        value: Some(value),
                                        parent: Some(id),
                                        key: None,
                                        fallback: span(value),
                                        doc: work.doc,
                                    });
                                }
                            }
                        }
                        _ => {
                            if let Some((value, plain)) = scalar_of(child, text) {
                                let is_null = plain && matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL");
                                node.kind = if is_null { YKind::Null } else { YKind::Scalar };
                                node.value = Some(cut(value));
                                node.plain = plain;
                            }
                        }
                    }
                }
            }
            match work.parent {
                Some(parent) => facts.nodes[parent as usize].children.push(id),
                None => facts.docs[work.doc].root = Some(id),
            }
            facts.nodes.push(node);
            stack.extend(pushed.into_iter().rev());
        }
        if facts.truncated {
            break;
        }
    }
    facts
}

/// Parses and extracts in one go (tests and tools).
pub fn facts_of(text: &str) -> YamlFacts {
    match crate::syntax::parse(Lang::Yaml, text, None).tree {
        Some(tree) => extract(&tree, text),
        None => YamlFacts::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keys_values() {
        let f = facts_of(
            "apiVersion: v1\nkind: NodePool\nmetadata:\n  name: np\nspec:\n  replicas: 0\n  list: [a, \"b\"]\n---\nkind: X\n",
        );
        assert_eq!(f.docs.len(), 2);
        let root = f.docs[0].root.unwrap();
        assert_eq!(f.scalar_at(root, "kind"), Some("NodePool"));
        assert_eq!(f.scalar_at(root, "spec.replicas"), Some("0"));
        let list: Vec<_> = f
            .at_path(root, "spec.list[]")
            .into_iter()
            .filter_map(|i| f.scalar(i))
            .collect();
        assert_eq!(list, vec!["a", "b"]);
        let id = f.object_id(&f.docs[0]).unwrap();
        assert_eq!(id.name.as_deref(), Some("np"));
        assert_eq!(f.scalar_at(f.docs[1].root.unwrap(), "kind"), Some("X"));
    }

    #[test]
    fn block_scalars_and_sequences_of_maps() {
        let f = facts_of("items:\n  - name: a\n    msg: |\n      one\n      two\n  -\n  - b\n");
        let root = f.docs[0].root.unwrap();
        let items = f.at_path(root, "items[]");
        assert_eq!(items.len(), 3);
        assert_eq!(f.scalar_at(items[0], "msg"), Some("one\ntwo"));
        assert_eq!(f.node(items[1]).kind, YKind::Null);
        assert_eq!(f.scalar(items[2]), Some("b"));
    }

    #[test]
    fn aliases_point_at_anchors_and_merges_are_bounded() {
        let f = facts_of("base: &b\n  x: 1\nuse: *b\nmerged:\n  <<: *b\n  y: 2\n");
        let root = f.docs[0].root.unwrap();
        assert_eq!(f.scalar_at(root, "use.x"), Some("1"));
        assert_eq!(f.scalar_at(root, "merged.x"), Some("1"));
        assert_eq!(f.scalar_at(root, "merged.y"), Some("2"));
    }

    #[test]
    fn a_yaml_bomb_is_not_expanded() {
        let mut text =
            String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        let mut prev = 'a';
        for name in "bcdefghi".chars() {
            text.push_str(&format!(
                "{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
            prev = name;
        }
        let f = facts_of(&text);
        assert!(f.nodes.len() < 200, "{} nodes", f.nodes.len());
        let root = f.docs[0].root.unwrap();
        // Lookups through aliases still work, without expansion.
        assert_eq!(f.items(f.get(root, "i").unwrap()).len(), 9);
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let depth = 20_000;
        let text = "[".repeat(depth) + &"]".repeat(depth);
        let f = facts_of(&text);
        assert!(!f.nodes.is_empty());
        let mut text = String::new();
        for i in 0..depth {
            text.push_str(&" ".repeat(i.min(200)));
            text.push_str("k:\n");
        }
        let _ = facts_of(&text);
    }

    #[test]
    fn suppressions_are_read() {
        let f = facts_of("# invariant:ignore kustomize/deprecated-field -- migrating next sprint\nbases: []\n");
        assert_eq!(f.suppressions.len(), 1);
        assert_eq!(f.suppressions[0].codes, vec!["kustomize/deprecated-field"]);
    }

    #[test]
    fn groups() {
        assert!(api_group_matches(
            Some("hypershift.openshift.io/v1beta1"),
            &["hypershift.openshift.io".into()]
        ));
        assert!(!api_group_matches(Some("apps/v1"), &["hypershift.openshift.io".into()]));
        assert!(api_group_matches(None, &[]));
    }
}
