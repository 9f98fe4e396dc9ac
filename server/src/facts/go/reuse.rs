//! Facts of a file being edited, reusing the facts of the declarations an edit left as they
//! were. A declaration's facts depend on its text and on one bit of its file, whether the file
//! mentions a reason (see [`super::extract`]), so they are kept by both: an edit inside one
//! function walks that function again, and every other declaration's facts are moved to their
//! new offsets (all are walked again when the first mention of a reason comes or the last one
//! goes).

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use tree_sitter::{Node, Tree};

use super::extract::{assemble, DeclFacts};
use super::GoFacts;
use crate::syntax::node_text;

/// Declarations kept, per generation: when the current generation is full it becomes the
/// previous one and the one before is dropped, so the cache holds the declarations of the
/// files edited lately and never more than twice this many.
const GENERATION: usize = 16_384;

/// The facts of one top-level node, by its kind and text (a node with a syntax error is never
/// kept: how an error is recovered may depend on what surrounds it).
#[derive(Default)]
struct DeclCache {
    current: HashMap<DeclKey, Entry>,
    previous: HashMap<DeclKey, Entry>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct DeclKey {
    kind: u16,
    mentions_reason: bool,
    hash: u64,
}

struct Entry {
    text: Box<str>,
    facts: Arc<DeclFacts>,
}

impl DeclCache {
    fn get(&mut self, key: DeclKey, text: &str) -> Option<Arc<DeclFacts>> {
        if let Some(entry) = self.current.get(&key) {
            return (&*entry.text == text).then(|| entry.facts.clone());
        }
        let entry = self.previous.remove(&key).filter(|e| &*e.text == text)?;
        let facts = entry.facts.clone();
        self.insert(key, entry);
        Some(facts)
    }

    fn insert(&mut self, key: DeclKey, entry: Entry) {
        if self.current.len() >= GENERATION {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(key, entry);
    }
}

static WALKED: AtomicU64 = AtomicU64::new(0);

/// How many top-level nodes [`extract_reusing`] has walked for their facts, in this process
/// (for incrementality tests).
pub fn declarations_walked() -> u64 {
    WALKED.load(Ordering::Relaxed)
}

static DECLS: LazyLock<Mutex<DeclCache>> = LazyLock::new(Mutex::default);

fn key_of(node: Node<'_>, text: &str, mentions_reason: bool) -> DeclKey {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    DeclKey {
        kind: node.kind_id(),
        mentions_reason,
        hash: hasher.finish(),
    }
}

/// Extracts the facts of a Go file as [`super::extract`] does (the same facts), reusing the
/// facts of declarations seen before with the same text.
pub fn extract_reusing(tree: &Tree, text: &str) -> GoFacts {
    let root = tree.root_node();
    let mentions_reason = crate::facts::go::reasons::mentions_reason(text);
    let nodes: Vec<Node<'_>> = root.children(&mut root.walk()).collect();
    let keys: Vec<Option<DeclKey>> = nodes
        .iter()
        .map(|&node| {
            (node.is_named() && !node.has_error()).then(|| key_of(node, node_text(node, text), mentions_reason))
        })
        .collect();
    let mut parts: Vec<Option<Arc<DeclFacts>>> = {
        let mut cache = DECLS.lock().unwrap_or_else(|e| e.into_inner());
        nodes
            .iter()
            .zip(&keys)
            .map(|(&node, key)| key.and_then(|key| cache.get(key, node_text(node, text))))
            .collect()
    };
    let mut walked = Vec::new();
    for ((&node, key), part) in nodes.iter().zip(&keys).zip(&mut parts) {
        if part.is_none() {
            let facts = Arc::new(DeclFacts::of(node, Some(root), text, mentions_reason));
            WALKED.fetch_add(1, Ordering::Relaxed);
            if let Some(key) = key {
                walked.push((*key, node_text(node, text), facts.clone()));
            }
            *part = Some(facts);
        }
    }
    if !walked.is_empty() {
        let mut cache = DECLS.lock().unwrap_or_else(|e| e.into_inner());
        for (key, decl_text, facts) in walked {
            cache.insert(
                key,
                Entry {
                    text: decl_text.into(),
                    facts,
                },
            );
        }
    }
    let placed: Vec<(u32, Arc<DeclFacts>)> = nodes
        .iter()
        .zip(parts)
        .filter_map(|(node, part)| Some((node.start_byte() as u32, part?)))
        .collect();
    assemble(
        root.has_error(),
        placed.iter().map(|(at, part)| (*at, Cow::Borrowed(&**part))).collect(),
    )
}
