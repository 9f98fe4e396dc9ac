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

use super::{Finding, Fix, FixKind, Related};
use crate::db::{
    file_index, kustomization, kustomize_reach, kustomize_resolved, yaml_objects, FileIndex, SourceFile, Workspace,
};
use crate::facts::yaml::{ObjectId, YKind, YamlFacts};
use crate::facts::Span;
use crate::model::CompiledModel;

pub const DEPRECATED_FIELD: &str = "kustomize/deprecated-field";
pub const MISSING_REFERENCE: &str = "kustomize/missing-reference";
pub const OUTSIDE_WORKSPACE: &str = "kustomize/outside-workspace";
pub const DUPLICATE_ENTRY: &str = "kustomize/duplicate-entry";
pub const PATCH_TARGET_MISSING: &str = "kustomize/patch-target-missing";
pub const CYCLE: &str = "kustomize/cycle";

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
}

/// One reference a kustomization makes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KRef {
    /// Where it is written: `resources`, `patches[].path`, `configMapGenerator[].files`, ...
    pub field: String,
    pub value: String,
    pub span: Span,
    pub kind: RefKind,
    /// A patch's explicit `target` (kind, name) when both are plain names.
    pub target: Option<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kustomization {
    pub refs: Vec<KRef>,
    /// Top-level keys with their spans (for deprecated fields).
    pub keys: Vec<(String, Span)>,
    /// (list, value, span of the repeat, span of the first).
    pub duplicates: Vec<(String, String, Span, Span)>,
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
    /// Reference indexes of this kustomization that lead back to it, with the chain of paths.
    pub cycles: Vec<(usize, Vec<String>)>,
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
    let push = |out: &mut Kustomization, field: &str, id: u32, kind: RefKind, target: Option<(String, String)>| {
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
        // An inline patch (a block of YAML) is not a path.
        if facts.scalar(id).is_some_and(|v| !v.contains('\n') && !v.contains(": ")) {
            push(
                &mut out,
                "patchesStrategicMerge",
                id,
                RefKind::Patch { strategic: true },
                None,
            );
        }
    }
    for (field, list) in [("patches", "patches[]"), ("patchesJson6902", "patchesJson6902[]")] {
        for item in facts.at_path(root, list) {
            let Some(path) = facts.get(item, "path") else { continue };
            let target = facts.get(item, "target");
            let plain = |k: &str| {
                target
                    .and_then(|t| facts.scalar_at(t, k))
                    .filter(|v| !v.contains(['*', '?', '[', '|', '(']))
                    .map(str::to_string)
            };
            let named = match (plain("kind"), plain("name")) {
                (Some(kind), Some(name)) => Some((kind, name)),
                _ => None,
            };
            let strategic = field == "patches" && target.is_none();
            push(
                &mut out,
                &format!("{field}[].path"),
                path,
                RefKind::Patch { strategic },
                named,
            );
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
        }
    }
    out.refs.sort_by_key(|r| r.span.start);
    // Duplicates: resources and bases together (both add resources), components, patches.
    let group = |r: &KRef| match r.kind {
        RefKind::Resource => "resources",
        RefKind::Component => "components",
        RefKind::Patch { .. } => "patches",
        RefKind::GeneratorFile => "",
    };
    let mut seen: HashMap<(&str, String), Span> = HashMap::new();
    for r in &out.refs {
        let g = group(r);
        if g.is_empty() {
            continue;
        }
        let normal = r.value.trim_start_matches("./").trim_end_matches('/').to_string();
        match seen.get(&(g, normal.clone())) {
            Some(first) => out.duplicates.push((r.field.clone(), r.value.clone(), r.span, *first)),
            None => {
                seen.insert((g, normal), r.span);
            }
        }
    }
    out
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
/// components, with cycles back to `start`.
pub fn reach(db: &dyn salsa::Database, ws: Workspace, start: SourceFile) -> Reach {
    let mut out = Reach::default();
    let start_refs = kustomization(db, ws, start).clone();
    let start_targets = kustomize_resolved(db, ws, start).clone();
    let mut visited: HashSet<SourceFile> = HashSet::new();
    let mut seen_files: HashSet<SourceFile> = HashSet::new();
    visited.insert(start);
    for (i, (r, target)) in start_refs.refs.iter().zip(start_targets.iter()).enumerate() {
        if !matches!(r.kind, RefKind::Resource | RefKind::Component) {
            continue;
        }
        // Depth-first with an explicit stack of (target, chain of kustomization paths).
        let mut stack: Vec<(Target, Vec<String>)> = vec![(target.clone(), vec![start.path(db).clone()])];
        while let Some((target, chain)) = stack.pop() {
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
                    if k == start {
                        let mut chain = chain;
                        chain.push(start.path(db).clone());
                        if !out.cycles.iter().any(|(j, _)| *j == i) {
                            out.cycles.push((i, chain));
                        }
                        continue;
                    }
                    if !visited.insert(k) {
                        continue;
                    }
                    let mut chain = chain;
                    chain.push(k.path(db).clone());
                    let refs = kustomization(db, ws, k);
                    let targets = kustomize_resolved(db, ws, k);
                    for (r, t) in refs.refs.iter().zip(targets.iter()) {
                        if matches!(r.kind, RefKind::Resource | RefKind::Component) {
                            stack.push((t.clone(), chain.clone()));
                        }
                    }
                }
            }
        }
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

fn matches_object(id: &ObjectId, kind: &str, name: &str, namespace: Option<&str>) -> bool {
    id.kind == kind
        && id.name.as_deref() == Some(name)
        && match (namespace, id.namespace.as_deref()) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
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
    let mut reach: Option<&Reach> = None;
    for (i, (r, target)) in k.refs.iter().zip(targets.iter()).enumerate() {
        let problem = match (target, r.kind) {
            (Target::Missing, _) => Some("does not exist".to_string()),
            (Target::Dir(_, false), RefKind::Resource | RefKind::Component) => {
                Some("is a directory without a kustomization".to_string())
            }
            (Target::Dir(..), RefKind::Patch { .. } | RefKind::GeneratorFile) => {
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
            let reached = *reach.get_or_insert_with(|| kustomize_reach(db, ws, file));
            if reached.opaque {
                continue;
            }
            let mut wanted: Vec<(String, String, Option<String>)> = Vec::new();
            if let Some((kind, name)) = &r.target {
                wanted.push((kind.clone(), name.clone(), None));
            } else if strategic {
                for (_, id) in yaml_objects(db, *patch).iter() {
                    if let Some(name) = &id.name {
                        wanted.push((id.kind.clone(), name.clone(), id.namespace.clone()));
                    }
                }
            }
            for (kind, name, namespace) in wanted {
                if reached
                    .objects
                    .iter()
                    .any(|o| matches_object(&o.id, &kind, &name, namespace.as_deref()))
                {
                    continue;
                }
                let mut same_kind: Vec<String> = reached
                    .objects
                    .iter()
                    .filter(|o| o.id.kind == kind)
                    .filter_map(|o| o.id.name.clone())
                    .collect();
                same_kind.sort();
                same_kind.dedup();
                let candidates = if same_kind.is_empty() {
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
                let message = model.message(
                    PATCH_TARGET_MISSING,
                    &[
                        ("patch", &r.value),
                        ("kind", &kind),
                        ("name", &name),
                        ("candidates", &candidates),
                    ],
                );
                out.push(Finding::new(PATCH_TARGET_MISSING, r.span, message));
            }
        }
        let _ = i;
    }
    let reached = kustomize_reach(db, ws, file);
    for (i, chain) in &reached.cycles {
        if let Some(r) = k.refs.get(*i) {
            let chain = chain.join(" → ");
            let message = model.message(CYCLE, &[("field", &r.field), ("value", &r.value), ("chain", &chain)]);
            out.push(Finding::new(CYCLE, r.span, message));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::yaml::facts_of;

    #[test]
    fn editing_a_base_updates_its_overlays_only() {
        use crate::db::Database;
        use crate::workspace::Engine;
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
        // The base's and the overlay's reach re-ran (both read np.yaml); `other`'s did not.
        assert_eq!(ran("kustomize_reach"), 2, "{log:?}");
        assert_eq!(ran("kustomize_resolved"), 0, "{log:?}");
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
        assert_eq!(k.refs[6].target, Some(("NodePool".into(), "np".into())));
        assert_eq!(k.refs[6].kind, RefKind::Patch { strategic: false });
        assert!(k.keys.iter().any(|(key, _)| key == "bases"));
    }
}
