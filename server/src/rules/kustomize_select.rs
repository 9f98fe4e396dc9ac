//! What a kustomize patch selects, judged as kustomize judges it, over a shared graph of what
//! each kustomization outputs.
//!
//! - A `target`'s `kind`, `name` and `namespace` are regular expressions kustomize anchors
//!   (`^…$`); `group` and `version` must equal the object's; `labelSelector` and
//!   `annotationSelector` are Kubernetes label selectors over its labels and annotations.
//!   A target selects by the object's original or current name (not an intermediate one); a
//!   strategic-merge patch without a target finds its object by any name it had.
//! - A `$patch: delete` patch removes its object for the patches after it and for every
//!   kustomization above.
//! - Each kustomization's output is one [`ReachNode`] shared by everything above it, and every
//!   node remembers the answers it gave ([`Query`] → [`Match`]): a chain of N overlays that each
//!   patch the same base object costs O(N), not O(N²) (issue 29 item 4).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// One object a kustomization outputs (before its own renames).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obj {
    pub kind: String,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// `apiVersion` split: group (`""` for the core group) and version.
    pub group: String,
    pub version: String,
    /// `None` when they cannot be known here (a generator's options).
    pub labels: Option<Vec<(String, String)>>,
    pub annotations: Option<Vec<(String, String)>>,
}

impl Obj {
    pub fn new(api_version: Option<&str>, kind: &str, name: Option<&str>, namespace: Option<&str>) -> Obj {
        let (group, version) = split_api_version(api_version.unwrap_or(""));
        Obj {
            kind: kind.to_string(),
            name: name.map(str::to_string),
            namespace: namespace.map(str::to_string),
            group,
            version,
            labels: Some(Vec::new()),
            annotations: Some(Vec::new()),
        }
    }
}

pub fn split_api_version(api_version: &str) -> (String, String) {
    match api_version.rsplit_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), api_version.to_string()),
    }
}

/// What one kustomization contributes to its output, and how it transforms what it includes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Level {
    /// Objects of its own resource files, generators and `List` items.
    pub objects: Vec<Obj>,
    /// Something it includes cannot be known here (remote, Helm, a file not loaded, a missing
    /// or outside base: that one is reported where it is written).
    pub opaque: bool,
    pub transform: Transform,
    /// Objects its `$patch: delete` patches remove: (kind, name, namespace).
    pub deleted: Vec<(String, String, Option<String>)>,
}

/// What a kustomization's own transformers do to everything it outputs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Transform {
    pub prefix: String,
    pub suffix: String,
    pub namespace: Option<String>,
    /// Labels and annotations its transformers add.
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
}

impl Transform {
    fn is_identity(&self) -> bool {
        *self == Transform::default()
    }
}

/// A kustomization's output: its level and the outputs it includes.
pub struct ReachNode {
    pub level: Arc<Level>,
    pub children: Vec<Arc<ReachNode>>,
    /// Answers this node gave.
    memo: Mutex<HashMap<Query, Match>>,
}

impl ReachNode {
    pub fn new(level: Arc<Level>, children: Vec<Arc<ReachNode>>) -> ReachNode {
        ReachNode {
            level,
            children,
            memo: Mutex::new(HashMap::new()),
        }
    }
}

impl Drop for ReachNode {
    /// Iteratively: a 10,000-deep chain must not overflow the stack when it is dropped.
    fn drop(&mut self) {
        let mut pending = std::mem::take(&mut self.children);
        while let Some(child) = pending.pop() {
            if let Some(mut node) = Arc::into_inner(child) {
                pending.append(&mut node.children);
            }
        }
    }
}

/// A patch's selector. `kind`, `name`, `namespace` are anchored regexps (a strategic-merge
/// patch's own identity is escaped into one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub annotation_selector: Option<String>,
}

/// A question to a node: does an object it outputs, renamed by the levels above it (`ctx`,
/// outermost first) and not deleted by them (`excluded`), satisfy the selector?
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Query {
    pub selector: Selector,
    /// A strategic-merge patch: any name the object had selects it.
    pub any_name: bool,
    pub ctx: Vec<Transform>,
    pub excluded: Vec<(String, String, Option<String>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Found,
    NotFound,
    /// Nothing found, but something reachable cannot be known.
    Unknown,
}

impl Match {
    fn or(self, other: Match) -> Match {
        match (self, other) {
            (Match::Found, _) | (_, Match::Found) => Match::Found,
            (Match::Unknown, _) | (_, Match::Unknown) => Match::Unknown,
            _ => Match::NotFound,
        }
    }
}

/// Counts of work done, for the tests that check it is linear.
#[derive(Debug, Default, Clone, Copy)]
pub struct Work {
    /// Nodes whose objects were examined (memo misses).
    pub nodes_examined: usize,
}

/// `^(?:pattern)$`, as kustomize compiles selector fields; `None` when it is no regexp.
fn anchored(pattern: &str) -> Option<regex::Regex> {
    regex::Regex::new(&format!("^(?:{pattern})$")).ok()
}

/// Compiled once per query.
struct Compiled {
    kind: Option<Option<regex::Regex>>,
    name: Option<Option<regex::Regex>>,
    namespace: Option<Option<regex::Regex>>,
    labels: Option<Option<LabelSelector>>,
    annotations: Option<Option<LabelSelector>>,
}

impl Compiled {
    fn new(s: &Selector) -> Compiled {
        Compiled {
            kind: s.kind.as_deref().map(anchored),
            name: s.name.as_deref().map(anchored),
            namespace: s.namespace.as_deref().map(anchored),
            labels: s.label_selector.as_deref().map(LabelSelector::parse),
            annotations: s.annotation_selector.as_deref().map(LabelSelector::parse),
        }
    }
}

/// Whether `re` (None: field not given; Some(None): no regexp kustomize accepts, unknown)
/// matches one of `values`.
fn field(re: &Option<Option<regex::Regex>>, values: &[&str]) -> Match {
    match re {
        None => Match::Found,
        Some(None) => Match::Unknown,
        Some(Some(re)) => {
            if values.iter().any(|v| re.is_match(v)) {
                Match::Found
            } else {
                Match::NotFound
            }
        }
    }
}

fn and(a: Match, b: Match) -> Match {
    match (a, b) {
        (Match::NotFound, _) | (_, Match::NotFound) => Match::NotFound,
        (Match::Unknown, _) | (_, Match::Unknown) => Match::Unknown,
        _ => Match::Found,
    }
}

/// Does `obj` of node `level`, under the levels `ctx` above it, satisfy the query?
fn object_matches(obj: &Obj, level: &Transform, q: &Query, c: &Compiled) -> Match {
    let s = &q.selector;
    if s.group.as_ref().is_some_and(|g| *g != obj.group) || s.version.as_ref().is_some_and(|v| *v != obj.version) {
        return Match::NotFound;
    }
    let mut m = field(&c.kind, &[obj.kind.as_str()]);
    if m == Match::NotFound {
        return m;
    }
    // Names: the original, each one the levels gave it on the way up (innermost first).
    let levels: Vec<&Transform> = std::iter::once(level).chain(q.ctx.iter().rev()).collect();
    let names: Vec<String> = match &obj.name {
        None => Vec::new(),
        Some(n) => {
            let mut names = vec![n.clone()];
            let mut cur = n.clone();
            for l in &levels {
                if !l.prefix.is_empty() || !l.suffix.is_empty() {
                    cur = format!("{}{cur}{}", l.prefix, l.suffix);
                    names.push(cur.clone());
                }
            }
            if !q.any_name && names.len() > 2 {
                // A target selects by the original or the current name only.
                let current = names.pop().expect("non-empty");
                names.truncate(1);
                names.push(current);
            }
            names
        }
    };
    if q.excluded.iter().any(|(kind, name, ns)| {
        *kind == obj.kind
            && names.contains(name)
            && ns.as_ref().is_none_or(|ns| {
                obj.namespace.as_ref() == Some(ns) || levels.iter().any(|l| l.namespace.as_ref() == Some(ns))
            })
    }) {
        return Match::NotFound;
    }
    if c.name.is_some() {
        if names.is_empty() {
            return Match::NotFound;
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        m = and(m, field(&c.name, &refs));
    }
    if c.namespace.is_some() {
        let mut namespaces = vec![obj.namespace.clone().unwrap_or_else(|| "default".into())];
        namespaces.extend(levels.iter().filter_map(|l| l.namespace.clone()));
        let refs: Vec<&str> = namespaces.iter().map(String::as_str).collect();
        m = and(m, field(&c.namespace, &refs));
    }
    for (selector, own, added) in [
        (
            &c.labels,
            &obj.labels,
            levels.iter().flat_map(|l| l.labels.iter()).collect::<Vec<_>>(),
        ),
        (
            &c.annotations,
            &obj.annotations,
            levels.iter().flat_map(|l| l.annotations.iter()).collect::<Vec<_>>(),
        ),
    ] {
        let Some(selector) = selector else { continue };
        let (Some(selector), Some(own)) = (selector, own) else {
            m = and(m, Match::Unknown);
            continue;
        };
        let mut all: Vec<(&str, &str)> = own.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        all.extend(added.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        m = and(
            m,
            if selector.matches(&all) {
                Match::Found
            } else {
                Match::NotFound
            },
        );
    }
    m
}

/// The answer of `start`'s output *before its own transformers* (the view its patches have):
/// its own objects, then what each node it includes outputs. `excluded` are the objects its
/// earlier `$patch: delete` patches removed.
pub fn select_in(
    start: &ReachNode,
    selector: &Selector,
    any_name: bool,
    excluded: &[(String, String, Option<String>)],
    work: &mut Work,
) -> Match {
    let q = Query {
        selector: selector.clone(),
        any_name,
        ctx: Vec::new(),
        excluded: excluded.to_vec(),
    };
    let c = Compiled::new(selector);
    let start_level = Transform::default();
    let mut m = if start.level.opaque {
        Match::Unknown
    } else {
        Match::NotFound
    };
    for obj in &start.level.objects {
        m = m.or(object_matches(obj, &start_level, &q, &c));
        if m == Match::Found {
            return m;
        }
    }
    for child in &start.children {
        m = m.or(eval(child, &q, &c, work));
        if m == Match::Found {
            return m;
        }
    }
    m
}

/// `node`'s answer to `q`, from its memo or computed (iteratively: chains are deep).
fn eval(root: &Arc<ReachNode>, q: &Query, c: &Compiled, work: &mut Work) -> Match {
    struct Frame {
        node: Arc<ReachNode>,
        q: Query,
        child_q: Option<Query>,
        next: usize,
        acc: Match,
    }
    let memo_of = |node: &ReachNode, q: &Query| node.memo.lock().ok().and_then(|m| m.get(q).copied());
    if let Some(m) = memo_of(root, q) {
        return m;
    }
    let start_frame = |node: &Arc<ReachNode>, q: Query, work: &mut Work| -> Frame {
        work.nodes_examined += 1;
        let level = &node.level;
        let mut acc = if level.opaque { Match::Unknown } else { Match::NotFound };
        for obj in &level.objects {
            acc = acc.or(object_matches(obj, &level.transform, &q, c));
            if acc == Match::Found {
                break;
            }
        }
        Frame {
            node: node.clone(),
            q,
            child_q: None,
            next: 0,
            acc,
        }
    };
    let mut stack = vec![start_frame(root, q.clone(), work)];
    loop {
        let top = stack.last_mut().expect("non-empty until the root is done");
        let done = top.acc == Match::Found || top.next >= top.node.children.len();
        if done {
            let frame = stack.pop().expect("top");
            if let Ok(mut memo) = frame.node.memo.lock() {
                memo.insert(frame.q, frame.acc);
            }
            match stack.last_mut() {
                Some(parent) => parent.acc = parent.acc.or(frame.acc),
                None => return frame.acc,
            }
            continue;
        }
        let child = top.node.children[top.next].clone();
        top.next += 1;
        let child_q = top
            .child_q
            .get_or_insert_with(|| {
                let level = &top.node.level;
                let mut cq = top.q.clone();
                if !level.transform.is_identity() {
                    // Outermost first: this level is inside those already there.
                    cq.ctx.push(level.transform.clone());
                }
                cq.excluded.extend(level.deleted.iter().cloned());
                cq
            })
            .clone();
        match memo_of(&child, &child_q) {
            Some(m) => top.acc = top.acc.or(m),
            None => {
                let frame = start_frame(&child, child_q, work);
                stack.push(frame);
            }
        }
    }
}

/// Up to `limit` current names of objects of `kind` in `start`'s view (for messages).
pub fn names_of_kind(start: &ReachNode, kind: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen: HashSet<*const ReachNode> = HashSet::new();
    let mut pending: Vec<(&ReachNode, Vec<&Transform>)> = vec![(start, Vec::new())];
    while let Some((node, above)) = pending.pop() {
        if !seen.insert(node as *const ReachNode) || out.len() >= limit {
            continue;
        }
        let own: Vec<&Transform> = if std::ptr::eq(node, start) {
            Vec::new()
        } else {
            vec![&node.level.transform]
        };
        for obj in node.level.objects.iter().filter(|o| o.kind == kind) {
            if let Some(n) = &obj.name {
                let mut name = n.clone();
                for l in own.iter().chain(above.iter().rev()) {
                    name = format!("{}{name}{}", l.prefix, l.suffix);
                }
                out.push(name);
            }
        }
        let mut next = above.clone();
        next.extend(own);
        for child in &node.children {
            pending.push((child, next.clone()));
        }
    }
    out.sort();
    out.dedup();
    out.truncate(limit);
    out
}

/// A Kubernetes label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelSelector(Vec<Requirement>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl LabelSelector {
    /// `None` when it is not a selector (kustomize fails on it; not judged here).
    pub fn parse(text: &str) -> Option<LabelSelector> {
        let mut parts = Vec::new();
        let (mut depth, mut start) = (0, 0);
        for (i, ch) in text.char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&text[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&text[start..]);
        let mut reqs = Vec::new();
        for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
            let set = |rest: &str| -> Option<Vec<String>> {
                let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
                Some(inner.split(',').map(|v| v.trim().to_string()).collect())
            };
            let req = if let Some((k, v)) = part.split_once("!=") {
                Requirement::NotIn(k.trim().into(), vec![v.trim().into()])
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Requirement::In(k.trim().into(), vec![v.trim().into()])
            } else if let Some((k, rest)) = part.split_once(" notin ") {
                Requirement::NotIn(k.trim().into(), set(rest)?)
            } else if let Some((k, rest)) = part.split_once(" in ") {
                Requirement::In(k.trim().into(), set(rest)?)
            } else if let Some(k) = part.strip_prefix('!') {
                Requirement::NotExists(k.trim().into())
            } else if part.chars().all(|c| c.is_alphanumeric() || "-_./".contains(c)) {
                Requirement::Exists(part.into())
            } else {
                return None;
            };
            reqs.push(req);
        }
        Some(LabelSelector(reqs))
    }

    pub fn matches(&self, labels: &[(&str, &str)]) -> bool {
        let get = |k: &str| labels.iter().rev().find(|(key, _)| *key == k).map(|(_, v)| *v);
        self.0.iter().all(|r| match r {
            Requirement::In(k, vs) => get(k).is_some_and(|v| vs.iter().any(|x| x == v)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|v| !vs.iter().any(|x| x == v)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(kind: &str, name: &str) -> Obj {
        Obj::new(Some("apps/v1"), kind, Some(name), None)
    }

    #[test]
    fn label_selectors() {
        let s = LabelSelector::parse("app=web, tier in (a,b),!legacy,env!=prod").unwrap();
        assert!(s.matches(&[("app", "web"), ("tier", "b")]));
        assert!(!s.matches(&[("app", "web"), ("tier", "c")]));
        assert!(!s.matches(&[("app", "web"), ("tier", "a"), ("legacy", "")]));
        assert!(!s.matches(&[("app", "web"), ("tier", "a"), ("env", "prod")]));
        assert!(LabelSelector::parse("a in b").is_none());
    }

    /// A chain of N overlays over one base, each overlay asking for the base's object: the
    /// nodes examined grow linearly (each node answers once, then from its memo).
    #[test]
    fn a_chain_of_overlays_is_examined_once_per_node() {
        for n in [100usize, 1000, 4000] {
            let base = Arc::new(ReachNode::new(
                Arc::new(Level {
                    objects: vec![obj("Deployment", "web")],
                    ..Level::default()
                }),
                vec![],
            ));
            let mut nodes = vec![base];
            for _ in 0..n {
                let below = nodes.last().unwrap().clone();
                nodes.push(Arc::new(ReachNode::new(Arc::new(Level::default()), vec![below])));
            }
            let selector = Selector {
                kind: Some("Deploy.*".into()),
                name: Some("web".into()),
                ..Selector::default()
            };
            let mut work = Work::default();
            for node in &nodes[1..] {
                assert_eq!(select_in(node, &selector, false, &[], &mut work), Match::Found);
            }
            assert!(work.nodes_examined <= 2 * n, "{n}: {work:?}");
            let missing = Selector {
                name: Some("nope".into()),
                ..selector.clone()
            };
            let mut work = Work::default();
            for node in &nodes[1..] {
                assert_eq!(select_in(node, &missing, false, &[], &mut work), Match::NotFound);
            }
            assert!(work.nodes_examined <= 2 * n, "{n}: {work:?}");
        }
    }

    #[test]
    fn targets_select_by_original_or_current_name_and_group_version() {
        let base = Arc::new(ReachNode::new(
            Arc::new(Level {
                objects: vec![obj("Deployment", "web")],
                transform: Transform {
                    prefix: "b-".into(),
                    ..Transform::default()
                },
                ..Level::default()
            }),
            vec![],
        ));
        let mid = Arc::new(ReachNode::new(
            Arc::new(Level {
                transform: Transform {
                    prefix: "o-".into(),
                    ..Transform::default()
                },
                ..Level::default()
            }),
            vec![base],
        ));
        let top = ReachNode::new(Arc::new(Level::default()), vec![mid]);
        let sel = |name: &str| Selector {
            name: Some(name.into()),
            ..Selector::default()
        };
        let mut w = Work::default();
        assert_eq!(select_in(&top, &sel("web"), false, &[], &mut w), Match::Found);
        assert_eq!(select_in(&top, &sel("o-b-web"), false, &[], &mut w), Match::Found);
        assert_eq!(select_in(&top, &sel("b-web"), false, &[], &mut w), Match::NotFound);
        assert_eq!(select_in(&top, &sel("b-web"), true, &[], &mut w), Match::Found);
        let v1beta1 = Selector {
            group: Some("apps".into()),
            version: Some("v1beta1".into()),
            ..Selector::default()
        };
        assert_eq!(select_in(&top, &v1beta1, false, &[], &mut w), Match::NotFound);
        let deleted = [("Deployment".to_string(), "web".to_string(), None)];
        assert_eq!(select_in(&top, &sel(".*"), false, &deleted, &mut w), Match::NotFound);
    }
}
