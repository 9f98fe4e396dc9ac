//! `kustomize/*`: kustomizations that kustomize would reject or silently mis-build.
//!
//! - `deprecated-field`: a field the model lists as deprecated, with its replacement (and a
//!   rename quick fix when the value keeps its shape).
//! - `missing-reference`: a `resources`/`bases`/`components` entry, patch `path` or generator
//!   file that does not exist relative to the kustomization (remote URLs are not resolved).
//! - `outside-workspace`: a reference that leaves the workspace root (through `..`, an absolute
//!   path or a symlink); it is never read.
//! - `duplicate-entry`: the same entry twice in a list.
//! - `patch-target-missing`: a strategic-merge patch (or a patch `target`) whose kind/name
//!   matches no resource reachable from the kustomization's resources, bases and components.
//! - `cycle`: a kustomization that reaches itself.
//!
//! The per-file part (which references a kustomization makes) comes from its YAML facts; the
//! cross-file part (what a reference resolves to, which objects a kustomization reaches) is
//! a set of tracked queries in `db`, so editing a base re-derives only the overlays reading it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use super::{Finding, Fix, FixKind, Related};
use crate::db::{file_index, yaml_facts, yaml_objects, FileIndex, SourceFile, Workspace};
use crate::facts::yaml::{ObjectId, YKind, YamlFacts};
use crate::facts::Span;
use crate::model::CompiledModel;

pub const DEPRECATED_FIELD: &str = "kustomize/deprecated-field";
pub const MISSING_REFERENCE: &str = "kustomize/missing-reference";
pub const OUTSIDE_WORKSPACE: &str = "kustomize/outside-workspace";
pub const DUPLICATE_ENTRY: &str = "kustomize/duplicate-entry";
pub const PATCH_TARGET_MISSING: &str = "kustomize/patch-target-missing";
pub const CYCLE: &str = "kustomize/cycle";
pub const INVALID_ENTRY: &str = "kustomize/invalid-entry";

pub static RULE: super::registry::Rule = super::registry::Rule {
    name: "kustomize",
    doc: "Kustomizations: deprecated fields, references that resolve to nothing or leave the workspace, \
          duplicates, invalid entries, dead patches, cycles. Needs the YAML facts of the kustomization and \
          of what it reaches (the tracked kustomize graph) and the model's kustomize section.",
    codes: super::registry::Codes::Fixed(&[
        DEPRECATED_FIELD,
        MISSING_REFERENCE,
        OUTSIDE_WORKSPACE,
        DUPLICATE_ENTRY,
        PATCH_TARGET_MISSING,
        CYCLE,
        INVALID_ENTRY,
    ]),
    concerns: |file| is_kustomization_path(file.model, file.path),
    check: super::registry::Check::Yaml(|cx| check(cx.db, cx.ws, cx.file)),
};

/// Default kustomization file names when the model names none.
const DEFAULT_FILES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefKind {
    /// `resources` / `bases`: a manifest file or a directory with a kustomization.
    Resource,
    /// `components`: a directory with a kustomization of kind `Component`.
    Component,
    /// A patch file; `strategic` when its own kind/name select what it patches.
    Patch { strategic: bool },
    /// A generator's `files`/`envs`/`env` entry.
    GeneratorFile,
    /// A file kustomize reads as configuration (`openapi.path`, `crds`, `configurations`,
    /// `replacements[].path`); `dir_ok` for `transformers`/`generators`, which may also name
    /// a directory with a kustomization.
    Config { dir_ok: bool },
}

/// A patch's `target` selector. `name` and `namespace` are regexps kustomize anchors (`^…$`);
/// `kind` is compared exactly. `selectors` when a label or annotation selector narrows it
/// further (not judged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PatchTarget {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub selectors: bool,
}

/// An inline `patch:` (or `patchesStrategicMerge` block): where it is, its target, and the
/// identities (kind, name, namespace) of its documents when it is a strategic-merge patch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InlinePatch {
    pub span: Span,
    pub target: Option<PatchTarget>,
    pub objects: Vec<(String, String, Option<String>)>,
}

/// What a kustomization adds or renames, beyond its references.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Produces {
    /// `kind: Component`.
    pub component: bool,
    /// (kind, name, namespace) of `configMapGenerator` / `secretGenerator` outputs.
    pub generated: Vec<(String, String, Option<String>)>,
    /// `helmCharts`, `helmChartInflationGenerator` or `generators`: objects nobody can list here.
    pub opaque: bool,
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
    pub namespace: Option<String>,
}

/// One reference a kustomization makes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KRef {
    /// Where it is written: `resources`, `patches[].path`, `configMapGenerator[].files`, ...
    pub field: String,
    pub value: String,
    pub span: Span,
    pub kind: RefKind,
    /// A patch's explicit `target`.
    pub target: Option<PatchTarget>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kustomization {
    pub refs: Vec<KRef>,
    /// Top-level keys with their spans (for deprecated fields).
    pub keys: Vec<(String, Span)>,
    /// (list, value, span of the repeat, span of the first).
    pub duplicates: Vec<(String, String, Span, Span)>,
    pub inline_patches: Vec<InlinePatch>,
    /// Entries kustomize rejects outright: (field, span, what is wrong).
    pub invalid: Vec<(String, Span, String)>,
    pub produces: Produces,
}

/// What a reference resolves to.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    Remote,
    /// A file; the loaded YAML file when the workspace has it.
    File(Option<SourceFile>),
    /// A directory; its loaded kustomization, and whether it has one at all.
    Dir(Option<SourceFile>, bool),
    Missing,
    Outside(String),
}

/// An object reachable from a kustomization.
#[derive(Clone, PartialEq, Eq)]
pub struct ReachObject {
    pub file: SourceFile,
    pub doc: u32,
    pub id: ObjectId,
}

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Reach {
    pub objects: Vec<ReachObject>,
    /// Reached resources whose objects cannot be known (remote, unloaded): patch targets
    /// are not judged then.
    pub opaque: bool,
}

pub fn kustomization_names(model: &CompiledModel) -> Vec<&str> {
    let names = &model.model.kustomize.kustomization_files;
    if names.is_empty() {
        DEFAULT_FILES.to_vec()
    } else {
        names.iter().map(String::as_str).collect()
    }
}

pub fn is_kustomization_path(model: &CompiledModel, path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    kustomization_names(model).contains(&name)
}

fn plain_key(value: &str) -> &str {
    // `key=path` in generator `files`.
    value.split_once('=').map(|(_, p)| p).unwrap_or(value)
}

/// The references, keys and duplicate entries of a kustomization's first document.
pub fn extract(facts: &YamlFacts) -> Kustomization {
    let mut out = Kustomization::default();
    let Some(root) = facts.docs.first().and_then(|d| d.root) else {
        return out;
    };
    if facts.node(root).kind != YKind::Map {
        return out;
    }
    for &entry in &facts.node(root).children {
        let node = facts.node(entry);
        if let (Some(key), Some(span)) = (&node.key, node.key_span) {
            out.keys.push((key.clone(), span));
        }
    }
    let push = |out: &mut Kustomization, field: &str, id: u32, kind: RefKind, target: Option<PatchTarget>| {
        if let Some(value) = facts.scalar(id) {
            let value = if kind == RefKind::GeneratorFile {
                plain_key(value)
            } else {
                value
            };
            out.refs.push(KRef {
                field: field.to_string(),
                value: value.trim().to_string(),
                span: facts.node(id).span,
                kind,
                target,
            });
        }
    };
    for field in ["resources", "bases"] {
        for id in facts.at_path(root, &format!("{field}[]")) {
            push(&mut out, field, id, RefKind::Resource, None);
        }
    }
    for id in facts.at_path(root, "components[]") {
        push(&mut out, "components", id, RefKind::Component, None);
    }
    for id in facts.at_path(root, "patchesStrategicMerge[]") {
        match facts.scalar(id) {
            // An inline patch (a block of YAML) is not a path.
            Some(v) if v.contains('\n') || v.contains(": ") => {
                out.inline_patches.push(inline_patch(facts, id, v, None));
            }
            Some(_) => push(
                &mut out,
                "patchesStrategicMerge",
                id,
                RefKind::Patch { strategic: true },
                None,
            ),
            None => {}
        }
    }
    for (field, list) in [("patches", "patches[]"), ("patchesJson6902", "patchesJson6902[]")] {
        for item in facts.at_path(root, list) {
            if facts.node(facts.resolve(item)).kind == YKind::Scalar {
                out.invalid.push((
                    field.to_string(),
                    facts.node(item).span,
                    "is a bare string; each entry is a map with `path:` or `patch:` (and an optional `target:`)".into(),
                ));
                continue;
            }
            let target = facts.get(item, "target").map(|t| patch_target(facts, t));
            let strategic = field == "patches" && target.is_none();
            if let Some(path) = facts.get(item, "path") {
                push(
                    &mut out,
                    &format!("{field}[].path"),
                    path,
                    RefKind::Patch { strategic },
                    target,
                );
            } else if let Some(inline) = facts.get(item, "patch") {
                if let Some(text) = facts.scalar(inline) {
                    out.inline_patches.push(inline_patch(facts, inline, text, target));
                }
            }
        }
    }
    for generator in ["configMapGenerator", "secretGenerator"] {
        for item in facts.at_path(root, &format!("{generator}[]")) {
            for (sub, each) in [("files", true), ("envs", true), ("env", false)] {
                let path = if each { format!("{sub}[]") } else { sub.to_string() };
                for id in facts.at_path(item, &path) {
                    push(
                        &mut out,
                        &format!("{generator}[].{sub}"),
                        id,
                        RefKind::GeneratorFile,
                        None,
                    );
                }
            }
            if let Some(name) = facts.scalar_at(item, "name") {
                let kind = if generator == "configMapGenerator" {
                    "ConfigMap"
                } else {
                    "Secret"
                };
                let namespace = facts.scalar_at(item, "namespace").map(str::to_string);
                out.produces
                    .generated
                    .push((kind.to_string(), name.to_string(), namespace));
            }
        }
    }
    for (field, path, dir_ok) in [
        ("openapi.path", "openapi.path", false),
        ("crds", "crds[]", false),
        ("configurations", "configurations[]", false),
        ("replacements[].path", "replacements[].path", false),
        ("transformers", "transformers[]", true),
        ("generators", "generators[]", true),
    ] {
        for id in facts.at_path(root, path) {
            // `transformers`/`generators` may hold inline configuration instead of a path.
            if facts.scalar(id).is_some_and(|v| !v.contains('\n') && !v.contains(": ")) {
                push(&mut out, field, id, RefKind::Config { dir_ok }, None);
            }
        }
    }
    let produces = &mut out.produces;
    produces.component = facts.scalar_at(root, "kind") == Some("Component");
    produces.opaque = ["helmCharts", "helmChartInflationGenerator", "generators"]
        .iter()
        .any(|k| facts.get(root, k).is_some_and(|v| !facts.items(v).is_empty()));
    produces.name_prefix = facts.scalar_at(root, "namePrefix").map(str::to_string);
    produces.name_suffix = facts.scalar_at(root, "nameSuffix").map(str::to_string);
    produces.namespace = facts.scalar_at(root, "namespace").map(str::to_string);
    out.refs.sort_by_key(|r| r.span.start);
    // Duplicates: resources and bases together (both add resources), components, patches.
    let group = |r: &KRef| match r.kind {
        RefKind::Resource => "resources",
        RefKind::Component => "components",
        RefKind::Patch { .. } => "patches",
        RefKind::GeneratorFile | RefKind::Config { .. } => "",
    };
    // A patch file applied to two different targets is two patches: the key is (path, target).
    let mut seen: HashMap<(&str, String, Option<PatchTarget>), Span> = HashMap::new();
    for r in &out.refs {
        let g = group(r);
        if g.is_empty() {
            continue;
        }
        let normal = r.value.trim_start_matches("./").trim_end_matches('/').to_string();
        let key = (g, normal, r.target.clone());
        match seen.get(&key) {
            Some(first) => out.duplicates.push((r.field.clone(), r.value.clone(), r.span, *first)),
            None => {
                seen.insert(key, r.span);
            }
        }
    }
    out
}

/// A patch `target` map.
fn patch_target(facts: &YamlFacts, t: u32) -> PatchTarget {
    let get = |k: &str| facts.scalar_at(t, k).map(str::to_string);
    PatchTarget {
        kind: get("kind"),
        name: get("name"),
        namespace: get("namespace"),
        selectors: facts.get(t, "labelSelector").is_some() || facts.get(t, "annotationSelector").is_some(),
    }
}

/// An inline patch: its documents' identities when it is a strategic-merge patch (a map with
/// `kind` and `metadata.name`; a JSON6902 list of operations has none).
fn inline_patch(facts: &YamlFacts, node: u32, text: &str, target: Option<PatchTarget>) -> InlinePatch {
    let inner = crate::facts::yaml::facts_of(text);
    let objects = inner
        .docs
        .iter()
        .filter_map(|d| inner.object_id(d))
        .filter_map(|id| Some((id.kind, id.name?, id.namespace)))
        .collect();
    InlinePatch {
        span: facts.node(node).span,
        target,
        objects,
    }
}

/// `dir/value` normalised lexically; `None` when it climbs above the root.
pub fn join_relative(dir: &str, value: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in value.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

pub fn is_remote(model: &CompiledModel, value: &str) -> bool {
    value.contains("://")
        || value.contains("?ref=")
        || value.starts_with("git@")
        || model
            .model
            .kustomize
            .remote_prefixes
            .iter()
            .any(|p| value.starts_with(p.as_str()))
}

/// Probes `rel` under `root` on disk, refusing anything that resolves outside (symlinks
/// included): `Ok(None)` missing, `Ok(Some(is_dir))` present.
pub fn probe(root: &Path, rel: &str) -> Result<Option<bool>, String> {
    let canonical_root = root.canonicalize().map_err(|e| e.to_string())?;
    match root.join(rel).canonicalize() {
        Ok(path) if path.starts_with(&canonical_root) => Ok(Some(path.is_dir())),
        Ok(path) => Err(format!("resolves to {}", path.display())),
        Err(_) => Ok(None),
    }
}

/// Resolves a workspace-relative path (already confined lexically) to a target.
pub fn resolve_rel(index: &FileIndex, root: &Path, model: &CompiledModel, rel: &str) -> Target {
    if let Some(&file) = index.paths.get(rel) {
        return Target::File(Some(file));
    }
    let names = kustomization_names(model);
    let in_dir = |name: &str| {
        if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        }
    };
    let loaded_kustomization = names.iter().find_map(|n| index.paths.get(&in_dir(n)).copied());
    if index.dirs.contains(rel) {
        let has =
            loaded_kustomization.is_some() || names.iter().any(|n| matches!(probe(root, &in_dir(n)), Ok(Some(false))));
        return Target::Dir(loaded_kustomization, has);
    }
    match probe(root, rel) {
        Err(why) => Target::Outside(why),
        Ok(None) => Target::Missing,
        Ok(Some(false)) => Target::File(None),
        Ok(Some(true)) => {
            let has = names.iter().any(|n| matches!(probe(root, &in_dir(n)), Ok(Some(false))));
            Target::Dir(loaded_kustomization, has)
        }
    }
}

/// Resolves every reference of the kustomization at `path`.
pub fn resolve_all(
    index: &FileIndex,
    root: &Path,
    model: &CompiledModel,
    path: &str,
    k: &Kustomization,
) -> Vec<Target> {
    let dir = crate::db::dir_of(path);
    k.refs
        .iter()
        .map(|r| {
            if is_remote(model, &r.value) {
                Target::Remote
            } else if r.value.starts_with('/') {
                Target::Outside("is an absolute path".into())
            } else {
                match join_relative(dir, &r.value) {
                    Some(rel) => resolve_rel(index, root, model, &rel),
                    None => Target::Outside("climbs above the workspace root".into()),
                }
            }
        })
        .collect()
}

/// Everything reachable from the kustomization `start` through resources, bases and
/// components. Each kustomization and file is visited once (cycles are found separately, once
/// for the whole graph, by [`cycles`]).
pub fn reach(db: &dyn salsa::Database, ws: Workspace, start: SourceFile) -> Reach {
    let mut out = Reach::default();
    let mut visited: HashSet<SourceFile> = HashSet::new();
    let mut seen_files: HashSet<SourceFile> = HashSet::new();
    visited.insert(start);
    let mut stack: Vec<Target> = Vec::new();
    let push_refs = |k: SourceFile, stack: &mut Vec<Target>| {
        let refs = kustomization(db, ws, k);
        let targets = kustomize_resolved(db, ws, k);
        for (r, t) in refs.refs.iter().zip(targets.iter()) {
            if matches!(r.kind, RefKind::Resource | RefKind::Component) {
                stack.push(t.clone());
            }
        }
    };
    push_refs(start, &mut stack);
    while let Some(target) = stack.pop() {
        match target {
            Target::Remote | Target::Dir(None, _) => out.opaque = true,
            Target::File(None) => out.opaque = true,
            Target::Missing | Target::Outside(_) => {}
            Target::File(Some(file)) => {
                if seen_files.insert(file) {
                    for (doc, id) in yaml_objects(db, file).iter() {
                        out.objects.push(ReachObject {
                            file,
                            doc: *doc,
                            id: id.clone(),
                        });
                    }
                }
            }
            Target::Dir(Some(k), _) => {
                if visited.insert(k) {
                    push_refs(k, &mut stack);
                }
            }
        }
    }
    out
}

/// At most this many paths of a cycle are spelled out in its message.
const CYCLE_CHAIN_SHOWN: usize = 10;

/// Every cycle among the workspace's kustomizations, found once for the whole graph in time
/// linear in kustomizations and references (Tarjan's strongly connected components, without
/// recursion). Each cycle is reported once, at its member with the smallest path: that
/// kustomization's path → (index of the reference that starts the cycle, the chain of paths,
/// shortened when long).
pub fn cycles(db: &dyn salsa::Database, ws: Workspace) -> BTreeMap<String, Vec<(usize, String)>> {
    let model = ws.model(db);
    let nodes: Vec<SourceFile> = file_index(db, ws)
        .paths
        .iter()
        .filter(|(path, _)| is_kustomization_path(model, path))
        .map(|(_, &f)| f)
        .collect();
    let index: HashMap<SourceFile, usize> = nodes.iter().enumerate().map(|(i, &f)| (f, i)).collect();
    // Edges: (reference index, target node).
    let edges: Vec<Vec<(usize, usize)>> = nodes
        .iter()
        .map(|&k| {
            let refs = kustomization(db, ws, k);
            let targets = kustomize_resolved(db, ws, k);
            refs.refs
                .iter()
                .zip(targets.iter())
                .enumerate()
                .filter(|(_, (r, _))| matches!(r.kind, RefKind::Resource | RefKind::Component))
                .filter_map(|(i, (_, t))| match t {
                    Target::Dir(Some(other), _) => index.get(other).map(|&j| (i, j)),
                    _ => None,
                })
                .collect()
        })
        .collect();
    // Tarjan, iteratively.
    let n = nodes.len();
    let mut order = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut component = vec![usize::MAX; n];
    let mut stack = Vec::new();
    let mut components: Vec<Vec<usize>> = Vec::new();
    let mut counter = 0;
    for start in 0..n {
        if order[start] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(start, 0)];
        order[start] = counter;
        low[start] = counter;
        counter += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (v, ref mut next)) = work.last_mut() {
            if let Some(&(_, w)) = edges[v].get(*next) {
                *next += 1;
                if order[w] == usize::MAX {
                    order[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(order[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == order[v] {
                let mut members = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = components.len();
                    members.push(w);
                    if w == v {
                        break;
                    }
                }
                components.push(members);
            }
        }
    }
    let mut out: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    for (c, members) in components.iter().enumerate() {
        let self_loop = members.len() == 1 && edges[members[0]].iter().any(|&(_, w)| w == members[0]);
        if members.len() < 2 && !self_loop {
            continue;
        }
        let path = |i: usize| nodes[i].path(db).clone();
        let rep = *members.iter().min_by_key(|&&i| nodes[i].path(db)).expect("non-empty");
        // Breadth-first inside the component from `rep` back to it: the shortest cycle
        // through `rep`, with the reference of `rep` it leaves by.
        let mut parent: HashMap<usize, usize> = HashMap::new();
        let mut origin: HashMap<usize, usize> = HashMap::new();
        let mut queue = std::collections::VecDeque::new();
        let mut closing: Option<(usize, usize)> = None;
        for &(i, w) in &edges[rep] {
            if w == rep {
                closing = Some((rep, i));
                break;
            }
            if component[w] == c && !origin.contains_key(&w) {
                origin.insert(w, i);
                queue.push_back(w);
            }
        }
        while closing.is_none() {
            let Some(v) = queue.pop_front() else { break };
            for &(_, w) in &edges[v] {
                if w == rep {
                    closing = Some((v, origin[&v]));
                    break;
                }
                if component[w] == c && !origin.contains_key(&w) {
                    origin.insert(w, origin[&v]);
                    parent.insert(w, v);
                    queue.push_back(w);
                }
            }
        }
        let Some((last, ref_index)) = closing else { continue };
        let mut chain = vec![path(rep)];
        let mut back = Vec::new();
        let mut at = last;
        while at != rep {
            back.push(path(at));
            match parent.get(&at) {
                Some(&p) => at = p,
                None => break,
            }
        }
        chain.extend(back.into_iter().rev());
        chain.push(path(rep));
        let shown = if chain.len() > CYCLE_CHAIN_SHOWN {
            let head = &chain[..CYCLE_CHAIN_SHOWN / 2];
            let tail = &chain[chain.len() - CYCLE_CHAIN_SHOWN / 2..];
            format!(
                "{} → … {} more … → {}",
                head.join(" → "),
                chain.len() - CYCLE_CHAIN_SHOWN,
                tail.join(" → ")
            )
        } else {
            chain.join(" → ")
        };
        out.entry(path(rep)).or_default().push((ref_index, shown));
    }
    out
}

fn deprecated(model: &CompiledModel, k: &Kustomization) -> Vec<Finding> {
    let mut out = Vec::new();
    for (key, span) in &k.keys {
        let Some(field) = model.model.kustomize.deprecated_fields.iter().find(|f| &f.field == key) else {
            continue;
        };
        let note = field.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
        let message = model.message(
            DEPRECATED_FIELD,
            &[("field", key), ("replacement", &field.replacement), ("note", &note)],
        );
        let mut finding = Finding::new(DEPRECATED_FIELD, *span, message);
        if field.rename_fix {
            // With the replacement key already there, the entries move into it (a rename would
            // make a duplicate key kustomize rejects).
            let merge = k.keys.iter().any(|(other, _)| other == &field.replacement);
            let title = if merge {
                format!("Move the `{key}` entries into `{}`", field.replacement)
            } else {
                format!("Rename `{key}` to `{}`", field.replacement)
            };
            finding.fixes.push(Fix {
                title,
                kind: FixKind::ReplaceKey {
                    from: key.clone(),
                    to: field.replacement.clone(),
                },
            });
        }
        out.push(finding);
    }
    out
}

/// An object a patch may select: its kind, and the names and namespaces kustomize may select
/// it by (its original identity, and the ones the bases' `namePrefix`/`nameSuffix`/`namespace`
/// give it: kustomize matches either).
#[derive(Debug, Clone)]
struct Candidate {
    kind: String,
    names: Vec<String>,
    namespaces: Vec<String>,
}

/// The objects a kustomization's patches see; `opaque` when some cannot be known.
struct PatchContext {
    candidates: Vec<Candidate>,
    opaque: bool,
}

/// The kustomizations reachable from `start` (itself first) through resources and components.
fn reached_kustomizations(db: &dyn salsa::Database, ws: Workspace, start: SourceFile) -> Vec<SourceFile> {
    let mut seen: HashSet<SourceFile> = HashSet::from([start]);
    let mut order = vec![start];
    let mut i = 0;
    while i < order.len() {
        let k = order[i];
        i += 1;
        let refs = kustomization(db, ws, k);
        for (r, t) in refs.refs.iter().zip(kustomize_resolved(db, ws, k).iter()) {
            if let (RefKind::Resource | RefKind::Component, Target::Dir(Some(next), _)) = (r.kind, t) {
                if seen.insert(*next) {
                    order.push(*next);
                }
            }
        }
    }
    order
}

/// Prefix/suffix combinations (up to three, in any order) the bases may apply.
fn combos(parts: &[String]) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut frontier = vec![String::new()];
    for _ in 0..3 {
        let mut next = Vec::new();
        for f in &frontier {
            for p in parts {
                if out.len() + next.len() > 64 {
                    break;
                }
                next.push(format!("{f}{p}"));
                next.push(format!("{p}{f}"));
            }
        }
        next.sort();
        next.dedup();
        out.extend(next.iter().cloned());
        frontier = next;
    }
    out.sort();
    out.dedup();
    out
}

/// The patch context of `start`: what its resources, bases and components reach, the
/// generators' outputs, `kind: List` items, and the renames the bases apply.
fn patch_context(db: &dyn salsa::Database, ws: Workspace, start: SourceFile) -> PatchContext {
    let reached = kustomize_reach(db, ws, start);
    let mut opaque = reached.opaque;
    let mut ids: Vec<ObjectId> = Vec::new();
    for o in &reached.objects {
        if o.id.kind == "List" || (o.id.kind.ends_with("List") && o.id.name.is_none()) {
            let facts = yaml_facts(db, o.file);
            if let Some(root) = facts.docs.get(o.doc as usize).and_then(|d| d.root) {
                for item in facts.at_path(root, "items[]") {
                    if let Some(kind) = facts.scalar_at(item, "kind") {
                        ids.push(ObjectId {
                            api_version: facts.scalar_at(item, "apiVersion").map(str::to_string),
                            kind: kind.to_string(),
                            name: facts.scalar_at(item, "metadata.name").map(str::to_string),
                            namespace: facts.scalar_at(item, "metadata.namespace").map(str::to_string),
                        });
                    }
                }
            }
        } else {
            ids.push(o.id.clone());
        }
    }
    let (mut prefixes, mut suffixes, mut namespaces) = (Vec::new(), Vec::new(), Vec::new());
    for k in reached_kustomizations(db, ws, start) {
        let produces = &kustomization(db, ws, k).produces;
        opaque |= produces.opaque;
        for (kind, name, namespace) in &produces.generated {
            ids.push(ObjectId {
                api_version: None,
                kind: kind.clone(),
                name: Some(name.clone()),
                namespace: namespace.clone(),
            });
        }
        // The kustomization's own transformers run after its patches: only the bases' count.
        if k != start {
            prefixes.extend(produces.name_prefix.clone());
            suffixes.extend(produces.name_suffix.clone());
            namespaces.extend(produces.namespace.clone());
        }
    }
    let (prefixes, suffixes) = (combos(&prefixes), combos(&suffixes));
    let candidates = ids
        .into_iter()
        .filter_map(|id| {
            let name = id.name?;
            let mut names = Vec::new();
            for p in &prefixes {
                for s in &suffixes {
                    names.push(format!("{p}{name}{s}"));
                }
            }
            let mut ns = vec![id.namespace.unwrap_or_else(|| "default".to_string())];
            ns.extend(namespaces.iter().cloned());
            Some(Candidate {
                kind: id.kind,
                names,
                namespaces: ns,
            })
        })
        .collect();
    PatchContext { candidates, opaque }
}

/// `^(?:pattern)$`, as kustomize compiles selector names; `None` when it is no regexp.
fn anchored(pattern: &str) -> Option<regex::Regex> {
    regex::Regex::new(&format!("^(?:{pattern})$")).ok()
}

fn selects(target: &PatchTarget, c: &Candidate) -> bool {
    if target.kind.as_ref().is_some_and(|k| *k != c.kind) {
        return false;
    }
    let any = |pattern: &Option<String>, values: &[String]| match pattern.as_deref().map(anchored) {
        None => true,
        Some(None) => true, // not a regexp kustomize would accept either: not judged
        Some(Some(re)) => values.iter().any(|v| re.is_match(v)),
    };
    any(&target.name, &c.names) && any(&target.namespace, &c.namespaces)
}

fn describe_target(t: &PatchTarget) -> String {
    let mut s = match (&t.kind, &t.name) {
        (Some(k), Some(n)) => format!("{k} `{n}`"),
        (Some(k), None) => format!("every {k}"),
        (None, Some(n)) => format!("objects named `{n}`"),
        (None, None) => "objects".to_string(),
    };
    if let Some(ns) = &t.namespace {
        s.push_str(&format!(" in namespace `{ns}`"));
    }
    s
}

/// One patch to judge: what it targets, and whether kustomize fails (a strategic-merge patch
/// selecting by its own identity) or drops it silently (a `target` selector) when nothing matches.
struct Wanted {
    target: PatchTarget,
    selector: bool,
}

fn wanted_of(target: Option<&PatchTarget>, objects: &[(String, String, Option<String>)]) -> Vec<Wanted> {
    match target {
        Some(t) if t.selectors || (t.kind.is_none() && t.name.is_none() && t.namespace.is_none()) => vec![],
        Some(t) => vec![Wanted {
            target: t.clone(),
            selector: true,
        }],
        None => objects
            .iter()
            .map(|(kind, name, namespace)| Wanted {
                target: PatchTarget {
                    kind: Some(kind.clone()),
                    name: Some(regex::escape(name)),
                    namespace: namespace.as_deref().map(regex::escape),
                    selectors: false,
                },
                selector: false,
            })
            .collect(),
    }
}

/// The contexts a kustomization's patches apply in: its own, or for a `kind: Component`, each
/// kustomization that includes it (through other components too). Each with a label.
fn contexts(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Vec<(PatchContext, String)> {
    if !kustomization(db, ws, file).produces.component {
        return vec![(
            patch_context(db, ws, file),
            "this kustomization's resources, bases and components".to_string(),
        )];
    }
    let includers = kustomize_includers(db, ws);
    let mut out = Vec::new();
    let mut seen: HashSet<SourceFile> = HashSet::from([file]);
    let mut pending = vec![file];
    while let Some(k) = pending.pop() {
        for &inc in includers.get(k.path(db)).map(Vec::as_slice).unwrap_or_default() {
            if !seen.insert(inc) {
                continue;
            }
            if kustomization(db, ws, inc).produces.component {
                pending.push(inc);
            } else {
                out.push((
                    patch_context(db, ws, inc),
                    format!("`{}`, which includes this component", inc.path(db)),
                ));
            }
        }
    }
    out
}

/// The `patch-target-missing` findings of one patch (file or inline) over the contexts.
fn judge_patch(
    model: &CompiledModel,
    contexts: &[(PatchContext, String)],
    patch: &str,
    span: Span,
    wanted: &[Wanted],
) -> Vec<Finding> {
    let mut out = Vec::new();
    for w in wanted {
        for (cx, label) in contexts {
            if cx.opaque || cx.candidates.iter().any(|c| selects(&w.target, c)) {
                continue;
            }
            let kind = w.target.kind.clone().unwrap_or_default();
            let mut same_kind: Vec<String> = cx
                .candidates
                .iter()
                .filter(|c| c.kind == kind)
                .filter_map(|c| c.names.iter().min_by_key(|n| n.len()).cloned())
                .collect();
            same_kind.sort();
            same_kind.dedup();
            let candidates = if kind.is_empty() {
                "nothing matches".to_string()
            } else if same_kind.is_empty() {
                format!("no {kind} is reachable at all")
            } else {
                format!(
                    "the reachable {kind} objects are {}",
                    same_kind
                        .iter()
                        .take(8)
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let effect = if w.selector {
                "kustomize silently drops a patch whose target selects nothing"
            } else {
                "`kustomize build` fails"
            };
            let message = model.message(
                PATCH_TARGET_MISSING,
                &[
                    ("patch", patch),
                    ("target", &describe_target(&w.target)),
                    ("candidates", &candidates),
                    ("context", label),
                    ("effect", effect),
                ],
            );
            out.push(Finding::new(PATCH_TARGET_MISSING, span, message));
            break;
        }
    }
    out
}

/// The findings of a kustomization file.
pub fn check(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Vec<Finding> {
    let model = ws.model(db);
    let path = file.path(db);
    let k = kustomization(db, ws, file);
    let targets = kustomize_resolved(db, ws, file);
    let mut out = deprecated(model, k);
    for (field, value, span, first) in &k.duplicates {
        let message = model.message(DUPLICATE_ENTRY, &[("field", field), ("value", value)]);
        let mut finding = Finding::new(DUPLICATE_ENTRY, *span, message);
        finding.related.push(Related {
            path: path.clone(),
            span: *first,
            message: "first listed here".into(),
        });
        out.push(finding);
    }
    for (field, span, problem) in &k.invalid {
        let message = model.message(INVALID_ENTRY, &[("field", field), ("problem", problem)]);
        out.push(Finding::new(INVALID_ENTRY, *span, message));
    }
    let mut cx: Option<Vec<(PatchContext, String)>> = None;
    for (r, target) in k.refs.iter().zip(targets.iter()) {
        let problem = match (target, r.kind) {
            (Target::Missing, _) => Some("does not exist".to_string()),
            (Target::Dir(_, false), RefKind::Resource | RefKind::Component | RefKind::Config { dir_ok: true }) => {
                Some("is a directory without a kustomization".to_string())
            }
            (Target::Dir(..), RefKind::Patch { .. } | RefKind::GeneratorFile | RefKind::Config { dir_ok: false }) => {
                Some("is a directory, not a file".into())
            }
            (Target::File(_), RefKind::Component) => Some("is a file; a component is a directory".into()),
            _ => None,
        };
        if let Some(problem) = problem {
            let message = model.message(
                MISSING_REFERENCE,
                &[("field", &r.field), ("value", &r.value), ("problem", &problem)],
            );
            out.push(Finding::new(MISSING_REFERENCE, r.span, message));
        }
        if let Target::Outside(why) = target {
            let message = model.message(
                OUTSIDE_WORKSPACE,
                &[("field", &r.field), ("value", &r.value), ("why", why)],
            );
            out.push(Finding::new(OUTSIDE_WORKSPACE, r.span, message));
        }
        if let (RefKind::Patch { strategic }, Target::File(Some(patch))) = (r.kind, target) {
            let objects: Vec<(String, String, Option<String>)> = if strategic {
                yaml_objects(db, *patch)
                    .iter()
                    .filter_map(|(_, id)| Some((id.kind.clone(), id.name.clone()?, id.namespace.clone())))
                    .collect()
            } else {
                Vec::new()
            };
            let wanted = wanted_of(r.target.as_ref(), &objects);
            if !wanted.is_empty() {
                let cx = cx.get_or_insert_with(|| contexts(db, ws, file));
                out.extend(judge_patch(model, cx, &r.value, r.span, &wanted));
            }
        }
    }
    for inline in &k.inline_patches {
        let wanted = wanted_of(inline.target.as_ref(), &inline.objects);
        if !wanted.is_empty() {
            let cx = cx.get_or_insert_with(|| contexts(db, ws, file));
            out.extend(judge_patch(model, cx, "(inline)", inline.span, &wanted));
        }
    }
    for (i, chain) in kustomize_cycles(db, ws).get(path).into_iter().flatten() {
        if let Some(r) = k.refs.get(*i) {
            let message = model.message(CYCLE, &[("field", &r.field), ("value", &r.value), ("chain", chain)]);
            out.push(Finding::new(CYCLE, r.span, message));
        }
    }
    out
}

/// Component kustomization path → the kustomizations whose `components` include it.
pub fn component_includers(db: &dyn salsa::Database, ws: Workspace) -> BTreeMap<String, Vec<SourceFile>> {
    let model = ws.model(db);
    let mut out: BTreeMap<String, Vec<SourceFile>> = BTreeMap::new();
    for (path, &file) in file_index(db, ws).paths.iter() {
        if !is_kustomization_path(model, path) {
            continue;
        }
        let k = kustomization(db, ws, file);
        let targets = kustomize_resolved(db, ws, file);
        for (r, t) in k.refs.iter().zip(targets.iter()) {
            if let (RefKind::Component | RefKind::Resource, Target::Dir(Some(c), _)) = (r.kind, t) {
                out.entry(c.path(db).clone()).or_default().push(file);
            }
        }
    }
    for list in out.values_mut() {
        list.sort_by_key(|f| f.path(db).clone());
        list.dedup();
    }
    out
}

/// Kustomizations that reference each patch file (by workspace-relative path).
pub fn patch_owners(db: &dyn salsa::Database, ws: Workspace) -> BTreeMap<String, Vec<SourceFile>> {
    let model = ws.model(db);
    let mut owners: BTreeMap<String, Vec<SourceFile>> = BTreeMap::new();
    for (path, &file) in file_index(db, ws).paths.iter() {
        if !is_kustomization_path(model, path) {
            continue;
        }
        let k = kustomization(db, ws, file);
        let targets = kustomize_resolved(db, ws, file);
        for (r, t) in k.refs.iter().zip(targets.iter()) {
            if let (RefKind::Patch { .. }, Target::File(Some(patch))) = (r.kind, t) {
                owners.entry(patch.path(db).clone()).or_default().push(file);
            }
        }
    }
    for list in owners.values_mut() {
        list.sort_by_key(|f| f.path(db).clone());
        list.dedup();
    }
    owners
}

// ---------------------------------------------------------------------------------------------
// Tracked queries: the per-file references and the cross-file graph (separate queries, so editing
// one base re-derives only what reads it).
// ---------------------------------------------------------------------------------------------

/// A kustomization's references (resources, components, patches, generator files).
#[salsa::tracked(returns(ref))]
pub fn kustomization(db: &dyn salsa::Database, _ws: Workspace, file: SourceFile) -> Arc<Kustomization> {
    Arc::new(extract(yaml_facts(db, file)))
}

/// What each reference of a kustomization resolves to (in the order of its `refs`).
#[salsa::tracked(returns(ref))]
pub fn kustomize_resolved(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Arc<Vec<Target>> {
    Arc::new(resolve_all(
        file_index(db, ws),
        ws.root(db),
        ws.model(db),
        file.path(db),
        kustomization(db, ws, file),
    ))
}

/// Cycles among the workspace's kustomizations, each once: kustomization path → (reference
/// index, chain).
#[salsa::tracked(returns(ref))]
pub fn kustomize_cycles(db: &dyn salsa::Database, ws: Workspace) -> Arc<BTreeMap<String, Vec<(usize, String)>>> {
    Arc::new(cycles(db, ws))
}

/// The objects a kustomization reaches.
#[salsa::tracked(returns(ref))]
pub fn kustomize_reach(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Arc<Reach> {
    Arc::new(reach(db, ws, file))
}

/// Patch file path → the kustomizations that apply it.
#[salsa::tracked(returns(ref))]
pub fn kustomize_patch_owners(db: &dyn salsa::Database, ws: Workspace) -> Arc<BTreeMap<String, Vec<SourceFile>>> {
    Arc::new(patch_owners(db, ws))
}

/// Component kustomization path → the kustomizations that include it.
#[salsa::tracked(returns(ref))]
pub fn kustomize_includers(db: &dyn salsa::Database, ws: Workspace) -> Arc<BTreeMap<String, Vec<SourceFile>>> {
    Arc::new(component_includers(db, ws))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::yaml::facts_of;

    #[test]
    fn editing_a_base_updates_its_overlays_only() {
        use crate::db::Database;
        use crate::ide::host::Engine;
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let mut engine = Engine::new(Database::with_execution_log(), dir.path().to_path_buf(), &[]);
        let np = "apiVersion: hypershift.openshift.io/v1beta1\nkind: NodePool\nmetadata:\n  name: workers\n";
        for (rel, text) in [
            ("base/kustomization.yaml", "resources:\n  - np.yaml\n"),
            ("base/np.yaml", np),
            (
                "overlay/kustomization.yaml",
                "resources:\n  - ../base\npatches:\n  - path: p.yaml\n",
            ),
            ("overlay/p.yaml", np),
            ("other/kustomization.yaml", "resources:\n  - cm.yaml\n"),
            (
                "other/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            ),
        ] {
            engine.set_text(rel, Arc::from(text), None);
        }
        engine.sync_file_set();
        let codes = |engine: &Engine| -> Vec<(String, String)> {
            let mut out = Vec::new();
            for (file, findings) in engine.check_files(&engine.all_files()) {
                for f in findings.iter() {
                    out.push((file.path(&engine.db).clone(), f.code.clone()));
                }
            }
            out
        };
        assert_eq!(codes(&engine), vec![]);
        engine.db.take_executions();

        engine.set_text("base/np.yaml", Arc::from(np.replace("workers", "workerz")), None);
        assert_eq!(
            codes(&engine),
            vec![(
                "overlay/kustomization.yaml".to_string(),
                PATCH_TARGET_MISSING.to_string()
            )]
        );
        let log = engine.db.take_executions();
        let ran = |prefix: &str| log.iter().filter(|e| e.starts_with(prefix)).count();
        assert_eq!(ran("yaml_facts"), 1, "{log:?}");
        // Only the overlay's reach re-ran (it reads np.yaml and has a patch to judge; reach is
        // computed for patches only); the cycle graph did not (no reference changed).
        assert_eq!(ran("kustomize_reach"), 1, "{log:?}");
        assert_eq!(ran("kustomize_cycles"), 0, "{log:?}");
        assert_eq!(ran("kustomize_resolved"), 0, "{log:?}");
    }

    #[test]
    fn long_chains_and_cycles_are_linear_and_a_cycle_is_reported_once() {
        use crate::db::Database;
        use crate::ide::host::Engine;
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let mut engine = Engine::new(Database::with_execution_log(), dir.path().to_path_buf(), &[]);
        // A 3,000-deep chain ending in a 2,000-long cycle, every kustomization with its own
        // resource; the chain's head also patches the last ConfigMap (so its reach is needed).
        let (chain, ring) = (3000, 2000);
        for i in 0..chain + ring {
            let next = if i + 1 == chain + ring { chain } else { i + 1 };
            let patch = if i == 0 { "patches:\n  - path: p.yaml\n" } else { "" };
            engine.set_text(
                &format!("k{i:05}/kustomization.yaml"),
                Arc::from(format!("resources:\n  - ../k{next:05}\n  - cm.yaml\n{patch}")),
                None,
            );
            engine.set_text(
                &format!("k{i:05}/cm.yaml"),
                Arc::from(format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\n")),
                None,
            );
        }
        let last = chain + ring - 1;
        engine.set_text(
            "k00000/p.yaml",
            Arc::from(format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{last}\n"
            )),
            None,
        );
        engine.sync_file_set();
        engine.db.take_executions();
        let mut cycles = Vec::new();
        let mut others = Vec::new();
        for (file, findings) in engine.check_files(&engine.all_files()) {
            for f in findings.iter() {
                if f.code == CYCLE {
                    cycles.push((file.path(&engine.db).clone(), f.message.clone()));
                } else {
                    others.push((file.path(&engine.db).clone(), f.code.clone()));
                }
            }
        }
        assert_eq!(others, vec![], "the patch finds its target at the end of the chain");
        // One finding for the one cycle, at its smallest path, with a shortened chain.
        assert_eq!(cycles.len(), 1, "{cycles:?}");
        assert_eq!(cycles[0].0, format!("k{chain:05}/kustomization.yaml"));
        assert!(cycles[0].1.contains("more"), "{}", cycles[0].1);
        assert!(cycles[0].1.len() < 1000, "{}", cycles[0].1);
        let log = engine.db.take_executions();
        let ran = |prefix: &str| log.iter().filter(|e| e.starts_with(prefix)).count();
        // The graph is walked once for cycles, and one reach is computed (for the patch).
        assert_eq!(ran("kustomize_cycles"), 1);
        assert_eq!(ran("kustomize_reach"), 1);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.yaml"), "kind: Secret\n").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("link")).unwrap();
        std::fs::create_dir(root.path().join("inside")).unwrap();
        assert!(probe(root.path(), "link/secret.yaml").is_err());
        assert!(probe(root.path(), "link").is_err());
        assert_eq!(probe(root.path(), "inside"), Ok(Some(true)));
        assert_eq!(probe(root.path(), "nothing"), Ok(None));
    }

    #[test]
    fn joins_stay_inside() {
        assert_eq!(join_relative("overlays/dev", "../../base").as_deref(), Some("base"));
        assert_eq!(
            join_relative("overlays/dev", "./np.yaml").as_deref(),
            Some("overlays/dev/np.yaml")
        );
        assert_eq!(join_relative("a", "../../x"), None);
    }

    #[test]
    fn extracts_references_and_duplicates() {
        let k = extract(&facts_of(
            "resources:\n- a.yaml\n- ./a.yaml\n- ../base\nbases: [../base]\ncomponents: [../c]\npatchesStrategicMerge:\n- p.yaml\n- |\n  kind: X\npatches:\n- path: q.yaml\n  target: {kind: NodePool, name: np}\nconfigMapGenerator:\n- name: x\n  files: [k=cfg.txt]\n  envs: [a.env]\n",
        ));
        let values: Vec<&str> = k.refs.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(
            values,
            vec!["a.yaml", "./a.yaml", "../base", "../base", "../c", "p.yaml", "q.yaml", "cfg.txt", "a.env"]
        );
        assert_eq!(k.refs[3].field, "bases");
        assert_eq!(k.duplicates.len(), 2);
        assert_eq!(
            k.refs[6].target,
            Some(PatchTarget {
                kind: Some("NodePool".into()),
                name: Some("np".into()),
                namespace: None,
                selectors: false
            })
        );
        assert_eq!(k.inline_patches.len(), 1);
        assert_eq!(k.inline_patches[0].objects, vec![]);
        assert_eq!(k.refs[6].kind, RefKind::Patch { strategic: false });
        assert!(k.keys.iter().any(|(key, _)| key == "bases"));
    }
}
