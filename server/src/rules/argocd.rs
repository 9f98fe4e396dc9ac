//! `kustomize/argocd-path`: ArgoCD `Application` source paths and `ApplicationSet` git
//! directory generator paths (kinds and field paths from `kustomize.argocd` in the model) that
//! point to nothing in the repository, or to a directory with nothing deployable in it (no
//! kustomization, no chart, no manifests). Paths are relative to the workspace root (the
//! repository); ones that leave it are `kustomize/outside-workspace` and never read.
//!
//! Only sources that point into this repository are judged: their `repoURL` (the nearest one
//! above the path) must be one of the workspace's repository URLs (`repository:` in
//! `.invariant.yaml`, and the root's git remotes), compared in a normalised form. A templated
//! or unknown `repoURL` is unknown, not missing. Templated `ApplicationSet` template paths
//! (`envs/{{env}}`) are expanded with the parameter sets of list, git directory, matrix and
//! merge generators when all their inputs are in the repository; any other generator makes the
//! set unknown. YAML under a Helm chart's `templates/` is not a manifest and is skipped.

use std::collections::BTreeMap;
use std::path::Path;

use super::kustomize::{join_relative, probe, OUTSIDE_WORKSPACE};
use super::Finding;
use crate::db::FileIndex;
use crate::facts::yaml::{api_group_matches, YKind, YamlFacts};
use crate::model::CompiledModel;
use crate::vcs::normalize_repo_url;

pub const ARGOCD_PATH: &str = "kustomize/argocd-path";

pub static RULE: super::registry::Rule = super::registry::Rule {
    name: "argocd",
    doc: "ArgoCD Application and ApplicationSet paths into this repository point to something deployable. \
          Needs the file's YAML facts, the workspace's file index and repository identity (configuration), \
          and the model's kustomize.argocd section.",
    codes: super::registry::Codes::Fixed(&[ARGOCD_PATH, OUTSIDE_WORKSPACE]),
    concerns: |file| {
        let kinds: Vec<&str> = file
            .model
            .model
            .kustomize
            .argocd
            .path_fields
            .keys()
            .map(String::as_str)
            .collect();
        !kinds.is_empty() && super::root_kind_in(file.text, &kinds)
    },
    check: super::registry::Check::Yaml(|cx| {
        let ours = cx.ws.config(cx.db).repository_urls();
        check(
            crate::db::file_index(cx.db, cx.ws),
            cx.ws.root(cx.db),
            cx.model,
            &ours,
            cx.path,
            cx.facts,
        )
    }),
};

/// How many entries a recursive directory probe looks at before it gives up (and says yes).
const MAX_WALK: usize = 20_000;
/// Parameter sets an ApplicationSet expansion may produce before it is called unknown.
const MAX_PARAM_SETS: usize = 2_000;

fn has_manifest_ext(model: &CompiledModel, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    model
        .model
        .kustomize
        .argocd
        .manifest_extensions
        .iter()
        .any(|ext| name.ends_with(&format!(".{}", ext.trim_start_matches('.'))))
}

/// Is there a manifest file in `dir` (and below it when `recurse`)? Symlinks are not followed.
fn has_manifests(model: &CompiledModel, dir: &Path, recurse: bool) -> bool {
    let mut pending = vec![dir.to_path_buf()];
    let mut seen = 0usize;
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            seen += 1;
            if seen > MAX_WALK {
                return true;
            }
            let Ok(t) = e.file_type() else { continue };
            if t.is_file() && has_manifest_ext(model, &e.file_name().to_string_lossy()) {
                return true;
            }
            if recurse && t.is_dir() && !e.file_name().to_string_lossy().starts_with('.') {
                pending.push(e.path());
            }
        }
    }
    false
}

/// Is the directory `rel` deployable: a kustomization or chart file, or manifests (Jsonnet
/// counts when the model lists its extensions)?
fn deployable(index: &FileIndex, root: &Path, model: &CompiledModel, rel: &str, recurse: bool) -> bool {
    let argocd = &model.model.kustomize.argocd;
    let in_dir = |name: &str| {
        if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        }
    };
    if argocd
        .deployable_files
        .iter()
        .any(|n| index.paths.contains_key(&in_dir(n)) || matches!(probe(root, &in_dir(n)), Ok(Some(false))))
    {
        return true;
    }
    // A plain directory of manifests (ArgoCD's directory source). The directory is confined by
    // the caller; entries are only listed, never followed or read.
    has_manifests(model, &root.join(rel), recurse)
}

fn glob_matcher(pattern: &str) -> Option<globset::GlobMatcher> {
    globset::GlobBuilder::new(pattern.trim_matches('/'))
        .literal_separator(true)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

fn glob_matches_dir(index: &FileIndex, pattern: &str) -> bool {
    let Some(matcher) = glob_matcher(pattern) else {
        return true;
    };
    index.dirs.iter().any(|d| matcher.is_match(d))
}

fn templated(value: &str) -> bool {
    value.contains("{{") || value.contains("${")
}

/// Is the YAML file part of a Helm chart's templates (`<chart>/templates/...` beside a
/// `Chart.yaml`)? Such files are Go templates, not manifests.
pub fn in_chart_templates(index: &FileIndex, root: &Path, path: &str) -> bool {
    let mut dir = crate::db::dir_of(path);
    loop {
        let (parent, name) = match dir.rsplit_once('/') {
            Some((p, n)) => (p, n),
            None => ("", dir),
        };
        if name == "templates" {
            let chart = if parent.is_empty() {
                "Chart.yaml".to_string()
            } else {
                format!("{parent}/Chart.yaml")
            };
            if index.paths.contains_key(&chart) || matches!(probe(root, &chart), Ok(Some(false))) {
                return true;
            }
        }
        if parent.is_empty() || dir.is_empty() {
            return false;
        }
        dir = parent;
    }
}

/// Whose repository a source (the map holding the path, or any ancestor) points into.
pub enum Repo {
    This,
    Other,
    Unknown,
}

/// The `repoURL` nearest above `node`, judged against the workspace's repository URLs.
pub fn repo_of(facts: &YamlFacts, node: u32, ours: &[String], params: Option<&Params>) -> Repo {
    let mut cur = facts.node(node).parent;
    while let Some(id) = cur {
        if facts.node(id).kind == YKind::Map {
            if let Some(url) = facts.get(id, "repoURL").and_then(|v| facts.scalar(v)) {
                // A templated repoURL declared in `repository:` is compared as written.
                if templated(url) && ours.iter().any(|o| o == url.trim()) {
                    return Repo::This;
                }
                let url = match params {
                    Some(p) => substitute(url, p),
                    None => Some(url.to_string()),
                };
                return match url {
                    Some(url) if !templated(&url) && !ours.is_empty() => {
                        if ours.contains(&normalize_repo_url(&url)) {
                            Repo::This
                        } else {
                            Repo::Other
                        }
                    }
                    _ => Repo::Unknown,
                };
            }
        }
        cur = facts.node(id).parent;
    }
    Repo::Unknown
}

/// One generated application's parameters (ArgoCD's flat names: `env`, `path.basename`).
pub type Params = BTreeMap<String, String>;

/// Replaces `{{name}}`, `{{ name }}`, `{{.name}}` and `{{ .name }}`; `None` when a
/// placeholder names no parameter (or uses a function: the result is unknown).
pub fn substitute(text: &str, params: &Params) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}")?;
        let name = after[..end].trim().trim_start_matches('-').trim_end_matches('-').trim();
        let name = name.strip_prefix('.').unwrap_or(name);
        out.push_str(params.get(name)?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Some(out)
}

/// Flattens a list element into parameters (`a: {b: c}` gives `a.b`).
fn flatten(facts: &YamlFacts, id: u32, prefix: &str, out: &mut Params) {
    let id = facts.resolve(id);
    match facts.node(id).kind {
        YKind::Map => {
            for &c in &facts.node(id).children {
                if let Some(key) = facts.node(c).key.clone() {
                    let name = if prefix.is_empty() {
                        key
                    } else {
                        format!("{prefix}.{key}")
                    };
                    flatten(facts, c, &name, out);
                }
            }
        }
        _ => {
            if let Some(v) = facts.scalar(id) {
                out.insert(prefix.to_string(), v.to_string());
            }
        }
    }
}

/// Everything needed to expand generators over the repository.
struct Expand<'a> {
    facts: &'a YamlFacts,
    dirs: &'a std::collections::HashSet<String>,
    ours: &'a [String],
}

/// The parameter sets of an ApplicationSet's generators (`None`: unknown), over the
/// repository's directories `dirs`.
pub fn appset_params(
    facts: &YamlFacts,
    root_node: u32,
    dirs: &std::collections::HashSet<String>,
    ours: &[String],
) -> Option<Vec<Params>> {
    let expand = Expand { facts, dirs, ours };
    let mut all = Vec::new();
    for gen in facts.at_path(root_node, "spec.generators[]") {
        all.extend(expand.generator(gen, 0)?);
    }
    Some(all)
}

impl Expand<'_> {
    /// The parameter sets a generator produces, or `None` when they cannot be known.
    fn generator(&self, gen: u32, depth: u32) -> Option<Vec<Params>> {
        let facts = self.facts;
        if depth > 4 {
            return None;
        }
        let mut kinds = facts.children(gen).into_iter().filter(|&c| {
            facts
                .node(c)
                .key
                .as_deref()
                .is_some_and(|k| k != "selector" && k != "values")
        });
        let body = kinds.next()?;
        if kinds.next().is_some() {
            return None;
        }
        let sets = match facts.node(body).key.as_deref()? {
            "list" => {
                if facts.get(body, "elementsYaml").is_some() {
                    return None;
                }
                let elements = facts.get(body, "elements")?;
                let mut sets = Vec::new();
                for item in facts.items(elements) {
                    let mut p = Params::new();
                    flatten(facts, item, "", &mut p);
                    sets.push(p);
                }
                sets
            }
            "git" => {
                let dirs = facts.get(body, "directories")?;
                if !matches!(repo_of(facts, dirs, self.ours, None), Repo::This) {
                    return None;
                }
                let mut include = Vec::new();
                let mut exclude = Vec::new();
                for item in facts.items(dirs) {
                    let path = facts.scalar_at(item, "path")?;
                    if templated(path) {
                        return None;
                    }
                    let matcher = glob_matcher(path)?;
                    let excluded = facts.scalar_at(item, "exclude") == Some("true");
                    if excluded { &mut exclude } else { &mut include }.push(matcher);
                }
                let mut dirs: Vec<&String> = self
                    .dirs
                    .iter()
                    .filter(|d| !d.is_empty())
                    .filter(|d| include.iter().any(|m| m.is_match(d)) && !exclude.iter().any(|m| m.is_match(d)))
                    .collect();
                dirs.sort();
                dirs.into_iter().map(|d| dir_params(d)).collect()
            }
            "matrix" => {
                let gens = facts.items(facts.get(body, "generators")?);
                if gens.len() != 2 {
                    return None;
                }
                let a = self.generator(gens[0], depth + 1)?;
                let b = self.generator(gens[1], depth + 1)?;
                let mut sets = Vec::new();
                for x in &a {
                    for y in &b {
                        if sets.len() >= MAX_PARAM_SETS {
                            return None;
                        }
                        let mut p = x.clone();
                        p.extend(y.clone());
                        sets.push(p);
                    }
                }
                sets
            }
            "merge" => {
                let keys: Vec<String> = facts
                    .items(facts.get(body, "mergeKeys")?)
                    .into_iter()
                    .filter_map(|k| facts.scalar(k).map(str::to_string))
                    .collect();
                let gens = facts.items(facts.get(body, "generators")?);
                let mut iter = gens.into_iter();
                let mut sets = self.generator(iter.next()?, depth + 1)?;
                for g in iter {
                    for other in self.generator(g, depth + 1)? {
                        for base in sets.iter_mut() {
                            if keys
                                .iter()
                                .all(|k| base.get(k).is_some() && base.get(k) == other.get(k))
                            {
                                base.extend(other.clone());
                            }
                        }
                    }
                }
                sets
            }
            _ => return None,
        };
        (sets.len() <= MAX_PARAM_SETS).then_some(sets)
    }
}

/// The parameters of a git directory generator's directory.
fn dir_params(dir: &str) -> Params {
    let mut p = Params::new();
    let base = dir.rsplit('/').next().unwrap_or(dir);
    p.insert("path".into(), dir.to_string());
    p.insert("path.path".into(), dir.to_string());
    p.insert("path.basename".into(), base.to_string());
    let normalized: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .to_ascii_lowercase();
    p.insert("path.basenameNormalized".into(), normalized);
    for (i, seg) in dir.split('/').enumerate() {
        p.insert(format!("path[{i}]"), seg.to_string());
    }
    p
}

/// A short description of a parameter set for a message: `env=qa, cluster=a`.
fn describe(params: &Params) -> String {
    let shown: Vec<String> = params
        .iter()
        .filter(|(k, _)| !k.starts_with("path.") && !k.starts_with("path["))
        .take(4)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    shown.join(", ")
}

/// What is wrong with the repository path `value` (None: fine).
enum Verdict {
    Fine,
    Outside(String),
    Problem(String),
}

fn judge(index: &FileIndex, root: &Path, model: &CompiledModel, value: &str, recurse: bool) -> Verdict {
    if value.starts_with('/') {
        return Verdict::Outside("is an absolute path".into());
    }
    let Some(rel) = join_relative("", value) else {
        return Verdict::Outside("climbs above the workspace root".into());
    };
    if rel.contains(['*', '?', '[']) {
        return if glob_matches_dir(index, &rel) {
            Verdict::Fine
        } else {
            Verdict::Problem("matches no directory in the repository".into())
        };
    }
    match probe(root, &rel) {
        Err(why) => Verdict::Outside(why),
        Ok(None) => Verdict::Problem("points to nothing in the repository".into()),
        Ok(Some(false)) => Verdict::Problem("is a file; ArgoCD deploys a directory".into()),
        Ok(Some(true)) => {
            if deployable(index, root, model, &rel, recurse) {
                Verdict::Fine
            } else {
                Verdict::Problem("is a directory with no kustomization, chart or manifests".into())
            }
        }
    }
}

pub fn check(
    index: &FileIndex,
    root: &Path,
    model: &CompiledModel,
    ours: &[String],
    path: &str,
    facts: &YamlFacts,
) -> Vec<Finding> {
    let argocd = &model.model.kustomize.argocd;
    let mut out = Vec::new();
    if in_chart_templates(index, root, path) {
        return out;
    }
    for doc in &facts.docs {
        let (Some(root_node), Some(id)) = (doc.root, facts.object_id(doc)) else {
            continue;
        };
        let Some(fields) = argocd.path_fields.get(&id.kind) else {
            continue;
        };
        if !api_group_matches(id.api_version.as_deref(), &argocd.api_groups) {
            continue;
        }
        // The ApplicationSet's parameter sets, computed once when a template path needs them.
        let mut param_sets: Option<Option<Vec<Params>>> = None;
        for field in fields {
            for node in facts.at_path(root_node, field) {
                let Some(value) = facts.scalar(node) else { continue };
                let value = value.trim();
                let parent = facts.node(node).parent;
                let skipped = parent.is_some_and(|p| {
                    argocd
                        .skip_when_sibling
                        .iter()
                        .any(|s| facts.get(p, s).is_some_and(|v| facts.scalar(v) != Some("false")))
                });
                if skipped {
                    continue;
                }
                let recurse = parent.is_some_and(|p| facts.scalar_at(p, "directory.recurse") == Some("true"));
                let span = facts.node(node).span;
                let report = |out: &mut Vec<Finding>, shown: &str, verdict: Verdict, note: &str| match verdict {
                    Verdict::Fine => {}
                    Verdict::Outside(why) => {
                        let message = model.message(
                            OUTSIDE_WORKSPACE,
                            &[("field", field), ("value", shown), ("why", &format!("{why}{note}"))],
                        );
                        out.push(Finding::new(OUTSIDE_WORKSPACE, span, message));
                    }
                    Verdict::Problem(problem) => {
                        let message = model.message(
                            ARGOCD_PATH,
                            &[
                                ("kind", &id.kind),
                                ("name", id.name.as_deref().unwrap_or("")),
                                ("field", field),
                                ("value", shown),
                                ("problem", &format!("{problem}{note}")),
                            ],
                        );
                        out.push(Finding::new(ARGOCD_PATH, span, message));
                    }
                };
                if !templated(value) {
                    if matches!(repo_of(facts, node, ours, None), Repo::This) {
                        let verdict = judge(index, root, model, value, recurse);
                        report(&mut out, value, verdict, "");
                    }
                    continue;
                }
                // A template path: expand it with the generators' parameter sets.
                if id.kind != "ApplicationSet" || !field.starts_with("spec.template.") {
                    continue;
                }
                let sets = param_sets.get_or_insert_with(|| appset_params(facts, root_node, &index.dirs, ours));
                let Some(sets) = sets else { continue };
                let mut seen = std::collections::HashSet::new();
                for params in sets.iter() {
                    let Some(rendered) = substitute(value, params) else {
                        continue;
                    };
                    if templated(&rendered) || !seen.insert(rendered.clone()) {
                        continue;
                    }
                    if !matches!(repo_of(facts, node, ours, Some(params)), Repo::This) {
                        continue;
                    }
                    let verdict = judge(index, root, model, &rendered, recurse);
                    let note = format!(" (generated from `{value}` with {})", describe(params));
                    report(&mut out, &rendered, verdict, &note);
                }
            }
        }
    }
    out
}
