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

use super::kustomize_select::{names_of_kind, select_in, Level, Match, Obj, ReachNode, Selector, Transform, Work};
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
pub const UNREADABLE: &str = "kustomize/unreadable";
pub const LOAD_RESTRICTED: &str = "kustomize/load-restricted";
pub const MISSING_UNVERIFIED: &str = "kustomize/missing-generated";

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
        UNREADABLE,
        LOAD_RESTRICTED,
        MISSING_UNVERIFIED,
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

/// A patch's `target` selector, as written: `kind`, `name` and `namespace` are regexps
/// kustomize anchors (`^…$`), `group`/`version` are compared exactly, the label and annotation
/// selectors are Kubernetes label selectors (see [`super::kustomize_select`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PatchTarget {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub annotation_selector: Option<String>,
}

/// An inline `patch:` (or `patchesStrategicMerge` block): where it is, its target, and the
/// identities (kind, name, namespace) of its documents when it is a strategic-merge patch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InlinePatch {
    pub span: Span,
    pub target: Option<PatchTarget>,
    pub objects: Vec<(String, String, Option<String>)>,
    /// The documents that are `$patch: delete` patches: (kind, name, namespace).
    pub deletes: Vec<(String, String, Option<String>)>,
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
    /// Labels (`commonLabels`, `labels[].pairs`) and annotations (`commonAnnotations`) its
    /// transformers add to everything it outputs.
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
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
    for path in ["commonLabels", "labels[].pairs"] {
        for map in facts.at_path(root, path) {
            produces.labels.extend(pairs_of(facts, map));
        }
    }
    if let Some(map) = facts.get(root, "commonAnnotations") {
        produces.annotations.extend(pairs_of(facts, map));
    }
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

/// The (key, scalar value) entries of a map.
pub fn pairs_of(facts: &YamlFacts, map: u32) -> Vec<(String, String)> {
    let map = facts.resolve(map);
    if facts.node(map).kind != YKind::Map {
        return Vec::new();
    }
    facts
        .children(map)
        .into_iter()
        .filter_map(|c| Some((facts.node(c).key.clone()?, facts.scalar(c).unwrap_or("").to_string())))
        .collect()
}

/// A patch `target` map.
fn patch_target(facts: &YamlFacts, t: u32) -> PatchTarget {
    let get = |k: &str| facts.scalar_at(t, k).map(str::to_string);
    PatchTarget {
        group: get("group"),
        version: get("version"),
        kind: get("kind"),
        name: get("name"),
        namespace: get("namespace"),
        label_selector: get("labelSelector"),
        annotation_selector: get("annotationSelector"),
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
        deletes: delete_patches(&inner),
    }
}

/// The documents of a patch that delete their object (`$patch: delete` at the top).
pub fn delete_patches(facts: &YamlFacts) -> Vec<(String, String, Option<String>)> {
    facts
        .docs
        .iter()
        .filter(|d| d.root.is_some_and(|r| facts.scalar_at(r, "$patch") == Some("delete")))
        .filter_map(|d| facts.object_id(d))
        .filter_map(|id| Some((id.kind, id.name?, id.namespace)))
        .collect()
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

/// The real (symlink-free) workspace-relative path of `rel`, when it exists inside the root.
fn real_relative(root: &Path, rel: &str) -> Option<String> {
    let canonical_root = root.canonicalize().ok()?;
    let real = root.join(rel).canonicalize().ok()?;
    let inside = real.strip_prefix(&canonical_root).ok()?;
    let parts: Vec<String> = inside
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
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
    // Through a symlink inside the workspace: resolve as its real path (the index holds files
    // by real path), so bases, patches and cycles through linked directories are seen.
    if let Some(real) = real_relative(root, rel).filter(|real| real != rel) {
        return resolve_rel(index, root, model, &real);
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

/// The objects of one YAML file as patch candidates (`List` items unpacked), with their labels
/// and annotations.
fn objects_of(facts: &YamlFacts) -> Vec<Obj> {
    let obj = |node: u32| -> Option<Obj> {
        let kind = facts.scalar_at(node, "kind")?;
        let mut o = Obj::new(
            facts.scalar_at(node, "apiVersion"),
            kind,
            facts.scalar_at(node, "metadata.name"),
            facts.scalar_at(node, "metadata.namespace"),
        );
        o.labels = Some(
            facts
                .get(node, "metadata")
                .and_then(|m| facts.get(m, "labels"))
                .map(|l| pairs_of(facts, l))
                .unwrap_or_default(),
        );
        o.annotations = Some(
            facts
                .get(node, "metadata")
                .and_then(|m| facts.get(m, "annotations"))
                .map(|l| pairs_of(facts, l))
                .unwrap_or_default(),
        );
        Some(o)
    };
    let mut out = Vec::new();
    for doc in &facts.docs {
        let Some(root) = doc.root else { continue };
        let Some(o) = obj(root) else { continue };
        if o.kind == "List" || (o.kind.ends_with("List") && o.name.is_none()) {
            out.extend(facts.at_path(root, "items[]").into_iter().filter_map(obj));
        } else {
            out.push(o);
        }
    }
    out
}

/// One kustomization's own contribution to what it outputs, and the kustomizations it
/// includes (resources and components that are directories with a kustomization).
#[derive(Clone, PartialEq, Eq)]
pub struct OwnLevel {
    pub level: Arc<Level>,
    pub children: Vec<SourceFile>,
}

fn own_level(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> OwnLevel {
    let k = kustomization(db, ws, file);
    let targets = kustomize_resolved(db, ws, file);
    let mut level = Level::default();
    let mut children = Vec::new();
    for (r, t) in k.refs.iter().zip(targets.iter()) {
        match (r.kind, t) {
            (RefKind::Resource | RefKind::Component, Target::Dir(Some(c), _)) => children.push(*c),
            (RefKind::Resource, Target::File(Some(f))) => level.objects.extend(objects_of(yaml_facts(db, *f))),
            // Unknowable here; a missing or outside one is reported where it is written (once),
            // not as every patch over it.
            (RefKind::Resource | RefKind::Component, _) => level.opaque = true,
            (RefKind::Patch { .. }, Target::File(Some(f))) if !k.produces.component => {
                level.deleted.extend(delete_patches(yaml_facts(db, *f)));
            }
            _ => {}
        }
    }
    if !k.produces.component {
        for inline in &k.inline_patches {
            level.deleted.extend(inline.deletes.iter().cloned());
        }
    }
    let produces = &k.produces;
    level.opaque |= produces.opaque;
    for (kind, name, namespace) in &produces.generated {
        let mut o = Obj::new(Some("v1"), kind, Some(name), namespace.as_deref());
        // A generator's `options` may add labels and annotations: not judged.
        o.labels = None;
        o.annotations = None;
        level.objects.push(o);
    }
    level.transform = Transform {
        prefix: produces.name_prefix.clone().unwrap_or_default(),
        suffix: produces.name_suffix.clone().unwrap_or_default(),
        namespace: produces.namespace.clone(),
        labels: produces.labels.clone(),
        annotations: produces.annotations.clone(),
    };
    OwnLevel {
        level: Arc::new(level),
        children,
    }
}

/// Every kustomization's output as a shared graph ([`ReachNode`]s), built bottom-up once.
/// A kustomization in a cycle sees its cycle as unknown (the cycle is reported).
pub struct ReachGraph {
    pub levels: BTreeMap<String, OwnLevel>,
    pub nodes: HashMap<SourceFile, Arc<ReachNode>>,
}

impl PartialEq for ReachGraph {
    fn eq(&self, other: &Self) -> bool {
        self.levels == other.levels
    }
}
impl Eq for ReachGraph {}

fn reach_graph(db: &dyn salsa::Database, ws: Workspace) -> ReachGraph {
    let model = ws.model(db);
    let files: Vec<(String, SourceFile)> = file_index(db, ws)
        .paths
        .iter()
        .filter(|(path, _)| is_kustomization_path(model, path))
        .map(|(p, &f)| (p.clone(), f))
        .collect();
    let mut own: HashMap<SourceFile, OwnLevel> = HashMap::new();
    for (_, f) in &files {
        own.insert(*f, kustomize_level(db, ws, *f).clone());
    }
    let mut nodes: HashMap<SourceFile, Arc<ReachNode>> = HashMap::new();
    let mut on_stack: HashSet<SourceFile> = HashSet::new();
    let mut sorted: Vec<&(String, SourceFile)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, start) in sorted {
        if nodes.contains_key(start) {
            continue;
        }
        // Iterative depth-first, post-order: (kustomization, next child, saw a cycle).
        let mut stack: Vec<(SourceFile, usize, bool)> = vec![(*start, 0, false)];
        on_stack.insert(*start);
        while let Some(top) = stack.last_mut() {
            let (k, next) = (top.0, top.1);
            let children = &own[&k].children;
            if let Some(&c) = children.get(next) {
                top.1 += 1;
                if on_stack.contains(&c) {
                    top.2 = true;
                } else if !nodes.contains_key(&c) && own.contains_key(&c) {
                    on_stack.insert(c);
                    stack.push((c, 0, false));
                }
                continue;
            }
            let (k, _, cyclic) = stack.pop().expect("top");
            on_stack.remove(&k);
            let o = &own[&k];
            let level = if cyclic {
                let mut l = (*o.level).clone();
                l.opaque = true;
                Arc::new(l)
            } else {
                o.level.clone()
            };
            let kids = o.children.iter().filter_map(|c| nodes.get(c).cloned()).collect();
            nodes.insert(k, Arc::new(ReachNode::new(level, kids)));
        }
    }
    let levels = files
        .into_iter()
        .map(|(p, f)| (p, own.remove(&f).expect("every file has its level")))
        .collect();
    ReachGraph { levels, nodes }
}

fn describe_target(t: &PatchTarget) -> String {
    let mut s = match (&t.kind, &t.name) {
        (Some(k), Some(n)) => format!("{k} `{n}`"),
        (Some(k), None) => format!("every {k}"),
        (None, Some(n)) => format!("objects named `{n}`"),
        (None, None) => "objects".to_string(),
    };
    if let Some(v) = t.version.as_ref() {
        let gv = match &t.group {
            Some(g) if !g.is_empty() => format!("{g}/{v}"),
            _ => v.clone(),
        };
        s.push_str(&format!(" of `{gv}`"));
    } else if let Some(g) = &t.group {
        s.push_str(&format!(" of group `{g}`"));
    }
    if let Some(ns) = &t.namespace {
        s.push_str(&format!(" in namespace `{ns}`"));
    }
    for (what, sel) in [("labels", &t.label_selector), ("annotations", &t.annotation_selector)] {
        if let Some(sel) = sel {
            s.push_str(&format!(" with {what} `{sel}`"));
        }
    }
    s
}

/// One patch to judge: what it targets, and whether kustomize fails (a strategic-merge patch
/// selecting by its own identity) or drops it silently (a `target` selector) when nothing matches.
struct Wanted {
    target: PatchTarget,
    selector: bool,
}

impl Wanted {
    fn as_selector(&self) -> Selector {
        let t = &self.target;
        Selector {
            group: t.group.clone(),
            version: t.version.clone(),
            kind: t.kind.clone(),
            name: t.name.clone(),
            namespace: t.namespace.clone(),
            label_selector: t.label_selector.clone(),
            annotation_selector: t.annotation_selector.clone(),
        }
    }
}

fn wanted_of(target: Option<&PatchTarget>, objects: &[(String, String, Option<String>)]) -> Vec<Wanted> {
    match target {
        Some(t) if *t == PatchTarget::default() => vec![],
        Some(t) => vec![Wanted {
            target: t.clone(),
            selector: true,
        }],
        None => objects
            .iter()
            .map(|(kind, name, namespace)| Wanted {
                target: PatchTarget {
                    kind: Some(regex::escape(kind)),
                    name: Some(regex::escape(name)),
                    namespace: namespace.as_deref().map(regex::escape),
                    ..PatchTarget::default()
                },
                selector: false,
            })
            .collect(),
    }
}

/// The nodes a kustomization's patches apply in: its own, or for a `kind: Component`, each
/// kustomization that includes it (through other components too). Each with a label.
fn contexts(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Vec<(Arc<ReachNode>, String)> {
    let graph = kustomize_reach_graph(db, ws);
    if !kustomization(db, ws, file).produces.component {
        return graph
            .nodes
            .get(&file)
            .map(|n| {
                (
                    n.clone(),
                    "this kustomization's resources, bases and components".to_string(),
                )
            })
            .into_iter()
            .collect();
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
            } else if let Some(n) = graph.nodes.get(&inc) {
                out.push((n.clone(), format!("`{}`, which includes this component", inc.path(db))));
            }
        }
    }
    out
}

/// The `patch-target-missing` findings of one patch (file or inline): a target selector when
/// in every context (for a component: every kustomization including it) nothing is selected
/// and nothing is unknown; a strategic-merge patch when that is so in some context (its build
/// fails there).
fn judge_patch(
    model: &CompiledModel,
    contexts: &[(Arc<ReachNode>, String)],
    excluded: &[(String, String, Option<String>)],
    patch: &str,
    span: Span,
    wanted: &[Wanted],
) -> Vec<Finding> {
    let mut out = Vec::new();
    if contexts.is_empty() {
        return out;
    }
    for w in wanted {
        let selector = w.as_selector();
        let mut work = Work::default();
        let dead: Vec<&(Arc<ReachNode>, String)> = contexts
            .iter()
            .filter(|(node, _)| select_in(node, &selector, !w.selector, excluded, &mut work) == Match::NotFound)
            .collect();
        // A strategic-merge patch that finds nothing fails the build of that kustomization; a
        // target selector is dead only where no context (no including kustomization) has it.
        let reported = if w.selector {
            dead.len() == contexts.len()
        } else {
            !dead.is_empty()
        };
        if !reported {
            continue;
        }
        let (node, label) = dead[0];
        let label = if dead.len() > 1 {
            format!("{label} (and {} more)", dead.len() - 1)
        } else {
            label.clone()
        };
        let kind = w.target.kind.clone().unwrap_or_default();
        let plain_kind = regex::escape(&kind) == kind;
        let same_kind = if plain_kind && !kind.is_empty() {
            names_of_kind(node, &kind, 8)
        } else {
            Vec::new()
        };
        let candidates = if kind.is_empty() || !plain_kind {
            "nothing matches".to_string()
        } else if same_kind.is_empty() {
            format!("no {kind} is reachable at all")
        } else {
            format!(
                "the reachable {kind} objects are {}",
                same_kind
                    .iter()
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
                ("context", &label),
                ("effect", effect),
            ],
        );
        out.push(Finding::new(PATCH_TARGET_MISSING, span, message));
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
    if let Some(problem) = unreadable(yaml_facts(db, file)) {
        let message = model.message(UNREADABLE, &[("problem", problem)]);
        out.push(Finding::new(UNREADABLE, Span::new(0, 0), message));
    }
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
    let template = is_template(file.text(db));
    // Patches in the order they are written: a `$patch: delete` one removes its object for
    // the patches after it.
    let mut patches: Vec<PatchEntry> = Vec::new();
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
            // A missing file that is git-ignored, or any entry of a template (Jinja or Go
            // template markers), is made by a step before the build: information only.
            let why = if matches!(target, Target::Missing) && template {
                model.rule_say(MISSING_UNVERIFIED, "say_template", &[])
            } else if matches!(target, Target::Missing) && git_ignored(ws.root(db), path, &r.value) {
                model.rule_say(MISSING_UNVERIFIED, "say_ignored", &[])
            } else {
                None
            };
            match why {
                Some(why) => {
                    let message = model.message(
                        MISSING_UNVERIFIED,
                        &[("field", &r.field), ("value", &r.value), ("why", &why)],
                    );
                    out.push(Finding::new(MISSING_UNVERIFIED, r.span, message));
                }
                None => {
                    let message = model.message(
                        MISSING_REFERENCE,
                        &[("field", &r.field), ("value", &r.value), ("problem", &problem)],
                    );
                    out.push(Finding::new(MISSING_REFERENCE, r.span, message));
                }
            }
        }
        if let Target::Outside(why) = target {
            let message = model.message(
                OUTSIDE_WORKSPACE,
                &[("field", &r.field), ("value", &r.value), ("why", why)],
            );
            out.push(Finding::new(OUTSIDE_WORKSPACE, r.span, message));
        }
        if matches!(target, Target::File(_)) && r.kind != RefKind::Component && !below_dir(path, &r.value) {
            let message = model.message(LOAD_RESTRICTED, &[("field", &r.field), ("value", &r.value)]);
            out.push(Finding::new(LOAD_RESTRICTED, r.span, message));
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
            let deletes = delete_patches(yaml_facts(db, *patch));
            patches.push((
                r.span.start,
                r.value.clone(),
                r.span,
                wanted_of(r.target.as_ref(), &objects),
                deletes,
            ));
        }
    }
    for inline in &k.inline_patches {
        let wanted = wanted_of(inline.target.as_ref(), &inline.objects);
        patches.push((
            inline.span.start,
            "(inline)".into(),
            inline.span,
            wanted,
            inline.deletes.clone(),
        ));
    }
    patches.sort_by_key(|p| p.0);
    let mut cx: Option<Vec<(Arc<ReachNode>, String)>> = None;
    let mut excluded: Vec<(String, String, Option<String>)> = Vec::new();
    for (_, name, span, wanted, deletes) in patches {
        if !wanted.is_empty() {
            let cx = cx.get_or_insert_with(|| contexts(db, ws, file));
            out.extend(judge_patch(model, cx, &excluded, &name, span, &wanted));
        }
        excluded.extend(deletes);
    }
    for (i, chain) in kustomize_cycles(db, ws).get(path).into_iter().flatten() {
        if let Some(r) = k.refs.get(*i) {
            let message = model.message(CYCLE, &[("field", &r.field), ("value", &r.value), ("chain", chain)]);
            out.push(Finding::new(CYCLE, r.span, message));
        }
    }
    out
}

/// Jinja (`{{`, `{%`) or Go template (`{{`) markers: the file is a template, rendered before
/// kustomize sees it.
fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// Is the file `value` (relative to the kustomization at `path`) ignored by a `.gitignore` of
/// the workspace (from the root down to its directory)? Such a file is generated before the
/// build. Reads the `.gitignore` files (a file-system fact the rule needs).
/// A patch as written: its order, field value, span, the targets it wants, and the objects a
/// strategic-merge patch names (kind, name, namespace).
type PatchEntry = (u32, String, Span, Vec<Wanted>, Vec<(String, String, Option<String>)>);

fn git_ignored(root: &Path, path: &str, value: &str) -> bool {
    let Some(rel) = join_relative(crate::db::dir_of(path), value) else {
        return false;
    };
    let mut builder = ignore::gitignore::GitignoreBuilder::new(root);
    let mut dir = String::new();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let file = root.join(&dir).join(".gitignore");
        if let Ok(meta) = std::fs::symlink_metadata(&file) {
            if meta.is_file() && meta.len() <= 1 << 20 {
                let _ = builder.add(&file);
            }
        }
        if i + 1 < parts.len() {
            if !dir.is_empty() {
                dir.push('/');
            }
            dir.push_str(part);
        }
    }
    match builder.build() {
        Ok(gi) => gi.matched_path_or_any_parents(&rel, false).is_ignore(),
        Err(_) => false,
    }
}

/// Why kustomize cannot read the kustomization at all: empty (or only comments), not YAML,
/// or not a map of fields.
fn unreadable(facts: &YamlFacts) -> Option<&'static str> {
    if facts.has_syntax_errors {
        return Some("is not valid YAML");
    }
    let root = facts.docs.iter().find_map(|d| d.root);
    match root {
        None => Some("is empty"),
        Some(r) if facts.node(facts.resolve(r)).kind != YKind::Map => Some("is not a map of fields"),
        Some(_) => None,
    }
}

/// Is the file `value` (relative to the kustomization at `path`) in or below the
/// kustomization's directory, as kustomize's default load restrictor (`LoadRestrictionsRootOnly`)
/// requires of files (directories, i.e. bases, may be anywhere)?
fn below_dir(path: &str, value: &str) -> bool {
    let dir = crate::db::dir_of(path);
    match join_relative(dir, value) {
        Some(rel) => dir.is_empty() || rel.starts_with(&format!("{dir}/")),
        None => true, // climbs out of the workspace: reported as outside-workspace
    }
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

/// A kustomization's own part of what it outputs.
#[salsa::tracked(returns(ref))]
pub fn kustomize_level(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> OwnLevel {
    own_level(db, ws, file)
}

/// Every kustomization's output, shared bottom-up (what patches are judged over).
#[salsa::tracked(returns(ref))]
pub fn kustomize_reach_graph(db: &dyn salsa::Database, ws: Workspace) -> Arc<ReachGraph> {
    Arc::new(reach_graph(db, ws))
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
        // Only the base's own level re-ran (it reads np.yaml), and the shared graph was
        // re-assembled from the levels once; the cycle graph did not (no reference changed).
        assert_eq!(ran("kustomize_level"), 1, "{log:?}");
        assert_eq!(ran("kustomize_reach_graph"), 1, "{log:?}");
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
        // The graph is walked once for cycles, and the outputs are assembled once.
        assert_eq!(ran("kustomize_cycles"), 1);
        assert_eq!(ran("kustomize_reach_graph"), 1);
        assert_eq!(ran("kustomize_level"), chain + ring);
    }

    /// Issue 29 item 4: a chain of overlays, each patching the base's Deployment (one live
    /// patch by a kind regexp, one dead by version): each kustomization's output is assembled
    /// once, and every overlay's verdicts are right (the work per patch is bounded by the
    /// nodes' memos: `kustomize_select` tests count it).
    #[test]
    fn an_overlay_chain_with_a_patch_per_overlay_is_assembled_once() {
        use crate::db::Database;
        use crate::ide::host::Engine;
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let mut engine = Engine::new(Database::with_execution_log(), dir.path().to_path_buf(), &[]);
        let depth = 2000;
        engine.set_text(
            "o0000/kustomization.yaml",
            Arc::from("resources:\n  - web.yaml\n"),
            None,
        );
        engine.set_text(
            "o0000/web.yaml",
            Arc::from("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"),
            None,
        );
        for i in 1..=depth {
            let dead = if i == depth {
                "  - target: {kind: Deployment, version: v1beta1}\n    patch: '[{\"op\": \"add\", \"path\": \"/metadata/labels/x\", \"value\": \"y\"}]'\n"
            } else {
                ""
            };
            engine.set_text(
                &format!("o{i:04}/kustomization.yaml"),
                Arc::from(format!(
                    "resources:\n  - ../o{:04}\npatches:\n  - target: {{kind: Deploy.*, name: web}}\n    patch: '[{{\"op\": \"add\", \"path\": \"/metadata/labels/l{i}\", \"value\": \"y\"}}]'\n{dead}",
                    i - 1
                )),
                None,
            );
        }
        engine.sync_file_set();
        engine.db.take_executions();
        let mut found = Vec::new();
        for (file, findings) in engine.check_files(&engine.all_files()) {
            for f in findings.iter() {
                found.push((file.path(&engine.db).clone(), f.code.clone()));
            }
        }
        assert_eq!(
            found,
            vec![(
                format!("o{depth:04}/kustomization.yaml"),
                PATCH_TARGET_MISSING.to_string()
            )]
        );
        let log = engine.db.take_executions();
        let ran = |prefix: &str| log.iter().filter(|e| e.starts_with(prefix)).count();
        assert_eq!(ran("kustomize_reach_graph"), 1);
        assert_eq!(ran("kustomize_level"), depth + 1);
        assert_eq!(
            ran("kustomize_reach("),
            0,
            "the per-kustomization flat reach is not built"
        );
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
                ..PatchTarget::default()
            })
        );
        assert_eq!(k.inline_patches.len(), 1);
        assert_eq!(k.inline_patches[0].objects, vec![]);
        assert_eq!(k.refs[6].kind, RefKind::Patch { strategic: false });
        assert!(k.keys.iter().any(|(key, _)| key == "bases"));
    }
}
