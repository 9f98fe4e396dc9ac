//! `invariant-lsp render-diff [--since REV] [--format human|json|markdown] [PATH]`: renders
//! every source of every ArgoCD Application of the repository (and of every Application its
//! ApplicationSets' list, git directory, matrix and merge generators produce) at REV (exported
//! from git objects into a private temporary directory; the work tree is never touched) and in
//! the working tree, and compares them resource by resource.
//!
//! Identity is Argo CD's: namespace and name, and the source's index for multi-source
//! Applications (a generated Application also names its ApplicationSet and element); two
//! Applications still alike are told apart by the file or kustomization that defines them.
//! Applications defined through a kustomization (an overlay patching `spec.source.path`) are
//! read from its render, as Argo CD applies them.
//!
//! Every source ends in one state: `identical`, `changed` (with a diff), `added`, `removed`, or
//! `not-compared` with the reason; each also says whether the change may affect it (it reads a
//! changed file, or its definition changed). Every read is confined to the repository on real
//! paths (`render_inputs`): a link out is `not-compared`, never rendered.
//!
//! Rendering: a kustomization with `kustomize build` (else `kubectl kustomize`), a Helm chart
//! with `helm template`, a directory of manifests as is. Resources are compared after sorting
//! map keys (a key reorder is no change). Renders run in parallel, once per (tree, source).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use rayon::prelude::*;
use serde_json::json;

use super::render_inputs::{Confined, Inputs};
use crate::ide::analysis::argocd::{
    api_group_matches, appset_params, facts_of, join_relative, repo_of, substitute, Params, Repo, YamlFacts,
};
use crate::vcs;

#[derive(clap::Args, Debug)]
pub struct RenderDiffArgs {
    /// The revision to compare with (default: the merge base with the default branch).
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
    /// A directory inside the repository (default: the current directory).
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum, PartialEq, Eq, Default)]
pub enum DiffFormat {
    #[default]
    Human,
    Json,
    Markdown,
}

/// One application source to render.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Source {
    path: String,
    /// `chart`-less Helm options: value files, release name.
    helm_values: Vec<String>,
    release: String,
    recurse: bool,
}

/// What can be done with one source.
#[derive(Debug, Clone)]
enum Plan {
    Render(Source),
    /// Not compared: why, and the repository directory it would read from, if known.
    Not {
        reason: String,
        hint: Option<String>,
    },
}

/// What Argo CD keys an Application source by; `origin` only when two are otherwise alike.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    namespace: String,
    name: String,
    index: usize,
    origin: Option<String>,
}

/// One Application source found in a tree.
#[derive(Debug, Clone)]
struct Found {
    key: Key,
    /// The file, or the kustomization directory, that defines the Application.
    origin: String,
    /// For a generated Application: its ApplicationSet and element.
    set: Option<(String, String)>,
    plan: Plan,
    /// What defining it reads (its file, or the defining kustomization's inputs).
    defs: Inputs,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Identical,
    Changed(String),
    Added,
    Removed,
    NotCompared(String),
}

const STATES: [&str; 5] = ["identical", "changed", "added", "removed", "not-compared"];

impl Status {
    fn word(&self) -> &'static str {
        match self {
            Status::Identical => STATES[0],
            Status::Changed(_) => STATES[1],
            Status::Added => STATES[2],
            Status::Removed => STATES[3],
            Status::NotCompared(_) => STATES[4],
        }
    }
}

fn is_yaml(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with(".yaml") || n.ends_with(".yml")
}

/// Every directory (relative) and YAML file of a tree, skipping `.git` and hidden entries.
fn walk(root: &Path) -> (HashSet<String>, Vec<String>) {
    let mut dirs = HashSet::from([String::new()]);
    let mut files = Vec::new();
    let mut pending = vec![String::new()];
    while let Some(rel) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(root.join(&rel)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            match e.file_type() {
                Ok(t) if t.is_dir() => {
                    dirs.insert(child.clone());
                    pending.push(child);
                }
                Ok(t) if t.is_file() && is_yaml(&name) => files.push(child),
                _ => {}
            }
        }
    }
    files.sort();
    (dirs, files)
}

/// The directory part of a path before its first template placeholder (`apps/{{x}}/y` →
/// `apps`), the most a templated path can be known to read.
fn static_prefix(path: &str) -> String {
    let before = &path[..path.find("{{").unwrap_or(path.len())];
    let dir = match before.rfind('/') {
        Some(i) if path.contains("{{") => &before[..i],
        _ if path.contains("{{") => "",
        _ => before,
    };
    join_relative("", dir).unwrap_or_default()
}

/// Why an ApplicationSet's Applications cannot be listed offline: the generators whose
/// parameters come from a cluster or a service.
fn unknown_generators(facts: &YamlFacts, node: u32) -> String {
    let mut kinds = BTreeSet::new();
    let mut pending = facts.at_path(node, "spec.generators[]");
    while let Some(gen) = pending.pop() {
        for c in facts.children(gen) {
            let Some(kind) = facts.node(c).key.clone() else {
                continue;
            };
            match kind.as_str() {
                "selector" | "values" => {}
                "matrix" | "merge" => {
                    if let Some(g) = facts.get(c, "generators") {
                        pending.extend(facts.items(g));
                    }
                }
                "list" if facts.get(c, "elementsYaml").is_some() => {
                    kinds.insert("list (elementsYaml)".to_string());
                }
                "list" => {}
                "git" if facts.get(c, "files").is_some() => {
                    kinds.insert("git files".to_string());
                }
                "git" => {}
                other => {
                    kinds.insert(other.to_string());
                }
            }
        }
    }
    if kinds.is_empty() {
        "its generators' parameters cannot be worked out offline (templated, or too many)".to_string()
    } else {
        let shown: Vec<String> = kinds.iter().map(|k| format!("`{k}`")).collect();
        format!(
            "generated by the {} generator(s), whose parameters are not known offline",
            shown.join(", ")
        )
    }
}

/// The plan for one source map of an Application (None: not a source to list, e.g. a
/// `ref`-only values source).
fn plan_of(facts: &YamlFacts, src: u32, params: Option<&Params>, release: &str, ours: &[String]) -> Option<Plan> {
    let text = |k: &str| -> Option<String> {
        let v = facts.scalar_at(src, k)?;
        match params {
            Some(p) => substitute(v, p),
            None => Some(v.to_string()),
        }
    };
    let url = facts.scalar_at(src, "repoURL").unwrap_or("").to_string();
    if facts.get(src, "chart").is_some() {
        let chart = text("chart").unwrap_or_default();
        return Some(Plan::Not {
            reason: format!("the chart `{chart}` of the Helm repository `{url}`, not this repository"),
            hint: None,
        });
    }
    let path_node = facts.get(src, "path")?;
    let raw = facts.scalar(path_node).unwrap_or("").to_string();
    let path = text("path").unwrap_or_else(|| raw.clone());
    let hint = Some(static_prefix(&path));
    match repo_of(facts, path_node, ours, params) {
        Repo::This => {}
        Repo::Other => {
            return Some(Plan::Not {
                reason: format!("its source is another repository (`{url}`)"),
                hint: None,
            })
        }
        Repo::Unknown => {
            return Some(Plan::Not {
                reason: format!(
                    "repoURL `{url}` is templated or unknown: declare it under `repository:` in .invariant.yaml if it is this repository"
                ),
                hint,
            })
        }
    }
    if path.contains("{{") {
        return Some(Plan::Not {
            reason: format!("path `{path}` is templated with parameters not known offline"),
            hint,
        });
    }
    if let Some(p) = facts.get(src, "plugin") {
        let name = facts.scalar_at(p, "name").unwrap_or("plugin");
        return Some(Plan::Not {
            reason: format!("rendered by the config management plugin `{name}`"),
            hint,
        });
    }
    if path.starts_with('/') {
        return Some(Plan::Not {
            reason: format!("path `{path}` is absolute, outside the repository"),
            hint: None,
        });
    }
    let Some(rel) = join_relative("", &path) else {
        return Some(Plan::Not {
            reason: format!("path `{path}` climbs above the repository root"),
            hint: None,
        });
    };
    let helm_values = facts
        .at_path(src, "helm.valueFiles[]")
        .into_iter()
        .filter_map(|v| facts.scalar(v).map(str::to_string))
        .collect();
    Some(Plan::Render(Source {
        path: rel,
        helm_values,
        release: text("helm.releaseName").unwrap_or_else(|| release.to_string()),
        recurse: text("directory.recurse").as_deref() == Some("true"),
    }))
}

/// The Application sources defined in one text (a file, or a kustomization's render).
fn found_in(text: &str, origin: &str, defs: &Inputs, dirs: &HashSet<String>, ours: &[String], out: &mut Vec<Found>) {
    let facts = facts_of(text);
    let groups = ["argoproj.io".to_string()];
    for doc in &facts.docs {
        let (Some(node), Some(id)) = (doc.root, facts.object_id(doc)) else {
            continue;
        };
        if !api_group_matches(id.api_version.as_deref(), &groups) {
            continue;
        }
        let namespace = id.namespace.clone().unwrap_or_default();
        let mut add =
            |namespace: &str, name: &str, spec: u32, params: Option<&Params>, set: Option<(String, String)>| {
                let sources = facts
                    .at_path(spec, "source")
                    .into_iter()
                    .chain(facts.at_path(spec, "sources[]"));
                for (index, src) in sources.enumerate() {
                    let Some(plan) = plan_of(&facts, src, params, name, ours) else {
                        continue;
                    };
                    out.push(Found {
                        key: Key {
                            namespace: namespace.to_string(),
                            name: name.to_string(),
                            index,
                            origin: None,
                        },
                        origin: origin.to_string(),
                        set: set.clone(),
                        plan,
                        defs: defs.clone(),
                    });
                }
            };
        match id.kind.as_str() {
            "Application" => {
                if let (Some(name), Some(spec)) = (id.name.clone(), facts.get(node, "spec")) {
                    add(&namespace, &name, spec, None, None);
                }
            }
            "ApplicationSet" => {
                let Some(spec) = facts.first(node, "spec.template.spec") else {
                    continue;
                };
                let name_template = facts.scalar_at(node, "spec.template.metadata.name").unwrap_or("");
                let ns_template = facts.scalar_at(node, "spec.template.metadata.namespace");
                let set_name = id.name.clone().unwrap_or_default();
                let Some(all) = appset_params(&facts, node, dirs, ours) else {
                    // One entry per template source: not compared, with the reason.
                    let reason = unknown_generators(&facts, node);
                    let sources = facts
                        .at_path(spec, "source")
                        .into_iter()
                        .chain(facts.at_path(spec, "sources[]"));
                    for (index, src) in sources.enumerate() {
                        let hint = facts.scalar_at(src, "path").map(static_prefix);
                        let local = !matches!(
                            facts.get(src, "path").map(|p| repo_of(&facts, p, ours, None)),
                            Some(Repo::Other) | None
                        );
                        out.push(Found {
                            key: Key {
                                namespace: ns_template.unwrap_or(&namespace).to_string(),
                                name: name_template.to_string(),
                                index,
                                origin: None,
                            },
                            origin: origin.to_string(),
                            set: Some((set_name.clone(), "*".to_string())),
                            plan: Plan::Not {
                                reason: reason.clone(),
                                hint: hint.filter(|_| local),
                            },
                            defs: defs.clone(),
                        });
                    }
                    continue;
                };
                for params in all {
                    let element: Vec<String> = params
                        .iter()
                        .filter(|(k, _)| !k.starts_with("path.") && !k.starts_with("path["))
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                    let element = element.join(",");
                    // A name template with functions (`{{ .x | normalize }}`) cannot be
                    // evaluated here: name the Application by its set and parameters.
                    let name = substitute(name_template, &params).unwrap_or_else(|| format!("{set_name}[{element}]"));
                    let ns = ns_template
                        .and_then(|t| substitute(t, &params))
                        .unwrap_or_else(|| namespace.clone());
                    add(&ns, &name, spec, Some(&params), Some((set_name.clone(), element)));
                }
            }
            _ => {}
        }
    }
}

/// The Application sources of a tree. Applications that a kustomization includes are read
/// from the render of each kustomization no other one includes (as Argo CD applies them, with
/// their patches); the rest from their files.
fn applications(root: &Path, ours: &[String]) -> Vec<Found> {
    let (dirs, files) = walk(root);
    let argo: BTreeSet<String> = files
        .into_iter()
        .filter(|rel| !in_chart_templates(root, rel))
        .filter(|rel| std::fs::read_to_string(root.join(rel)).is_ok_and(|t| t.contains("argoproj.io")))
        .collect();
    let mut out = Vec::new();
    let mut covered = HashSet::new();
    if let Ok(confined) = Confined::new(root) {
        let kustomizations: BTreeMap<&String, Inputs> = dirs
            .iter()
            .filter(|d| {
                ["kustomization.yaml", "kustomization.yml", "Kustomization"]
                    .iter()
                    .any(|f| root.join(d.as_str()).join(f).is_file())
            })
            .filter_map(|d| Some((d, confined.inputs_of(d).ok()?)))
            .collect();
        let included: HashSet<&String> = kustomizations
            .iter()
            .flat_map(|(k, inputs)| inputs.dirs.iter().filter(move |d| d != k))
            .collect();
        let tops: Vec<(&String, &Inputs)> = kustomizations
            .iter()
            .filter(|(k, inputs)| {
                !included.contains(*k) && inputs.remote.is_empty() && inputs.files.iter().any(|f| argo.contains(f))
            })
            .map(|(k, i)| (*k, i))
            .collect();
        let renders: Vec<(String, Inputs, Result<String, String>)> = tops
            .into_par_iter()
            .map(|(k, inputs)| (k.clone(), inputs.clone(), kustomize(&root.join(k))))
            .collect();
        for (k, inputs, render) in renders {
            match render {
                Ok(text) => {
                    covered.extend(inputs.files.iter().filter(|f| argo.contains(*f)).cloned());
                    found_in(&text, &k, &inputs, &dirs, ours, &mut out);
                }
                Err(e) => tracing::debug!("render-diff: the kustomization {k} defining Applications: {e}"),
            }
        }
    }
    for rel in argo.iter().filter(|f| !covered.contains(*f)) {
        let Ok(text) = std::fs::read_to_string(root.join(rel)) else {
            continue;
        };
        let defs = Inputs {
            files: BTreeSet::from([rel.clone()]),
            ..Inputs::default()
        };
        found_in(&text, rel, &defs, &dirs, ours, &mut out);
    }
    // Two sources still alike are told apart by what defines them, then by their order.
    let mut count: BTreeMap<Key, usize> = BTreeMap::new();
    for f in &out {
        *count.entry(f.key.clone()).or_default() += 1;
    }
    for f in &mut out {
        if count[&f.key] > 1 {
            f.key.origin = Some(f.origin.clone());
        }
    }
    let mut count: BTreeMap<Key, usize> = BTreeMap::new();
    for f in &mut out {
        let n = count.entry(f.key.clone()).or_default();
        *n += 1;
        if *n > 1 {
            f.key.origin = Some(format!("{}#{n}", f.origin));
        }
    }
    out
}

/// Is `rel` under a Helm chart's `templates/` (a `Chart.yaml` beside it)?
fn in_chart_templates(root: &Path, rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    (0..parts.len().saturating_sub(1))
        .any(|i| parts[i] == "templates" && root.join(parts[..i].join("/")).join("Chart.yaml").is_file())
}

#[derive(Clone, Copy)]
enum KustomizeTool {
    Kustomize,
    Kubectl,
}

/// `kustomize` on PATH, else `kubectl` (looked up once).
fn kustomize_tool() -> Option<KustomizeTool> {
    static TOOL: std::sync::OnceLock<Option<KustomizeTool>> = std::sync::OnceLock::new();
    *TOOL.get_or_init(|| {
        if on_path("kustomize") {
            Some(KustomizeTool::Kustomize)
        } else if Command::new("kubectl")
            .args(["version", "--client"])
            .output()
            .is_ok_and(|o| o.status.success())
        {
            Some(KustomizeTool::Kubectl)
        } else {
            None
        }
    })
}

fn on_path(tool: &str) -> bool {
    Command::new(tool)
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        // kubectl logs `... "command failed" err="<why>"`; kustomize prints `Error: <why>`.
        // The reason is kept whole (the remote URL or file at its end is often the cause).
        let err = String::from_utf8_lossy(&out.stderr);
        let compact = err.split_whitespace().collect::<Vec<_>>().join(" ");
        let why = compact
            .find("err=")
            .map(|i| &compact[i + 4..])
            .or_else(|| compact.find("Error: ").map(|i| &compact[i + 7..]))
            .unwrap_or(&compact)
            .trim_matches('"');
        Err(if why.is_empty() {
            "failed".to_string()
        } else {
            why.replace("\\\"", "\"")
        })
    }
}

/// `kustomize build DIR` (or `kubectl kustomize DIR`).
fn kustomize(dir: &Path) -> Result<String, String> {
    let mut cmd = match kustomize_tool() {
        Some(KustomizeTool::Kustomize) => {
            let mut c = Command::new("kustomize");
            c.arg("build");
            c
        }
        Some(KustomizeTool::Kubectl) => {
            let mut c = Command::new("kubectl");
            c.arg("kustomize");
            c
        }
        None => return Err("neither kustomize nor kubectl is installed".into()),
    };
    run(cmd.arg(dir)).map_err(|e| format!("kustomize: {e}"))
}

/// A message about a tree with the tree's own location taken out: paths relative to the
/// repository, never the private directory a revision was exported to.
fn without_root(message: &str, root: &Path) -> String {
    let mut out = message.to_string();
    let mut forms = vec![root.to_string_lossy().into_owned()];
    if let Ok(real) = root.canonicalize() {
        forms.push(real.to_string_lossy().into_owned());
    }
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    for form in forms.iter().filter(|f| f.len() > 1) {
        out = out.replace(&format!("{form}/"), "").replace(form.as_str(), ".");
    }
    out
}

/// Renders one source in a tree: the manifests as text, `None` when its path is no directory
/// at this revision, or why it cannot be rendered (a link out of the repository, a remote
/// base, a missing tool, a build error).
fn render(root: &Path, src: &Source) -> Result<Option<String>, String> {
    let confined = Confined::new(root)?;
    let Some(dir) = confined.real(&src.path)? else {
        return Ok(None);
    };
    if !dir.is_dir() {
        return Err(format!("`{}` is a file; Argo CD deploys a directory", src.path));
    }
    let inputs = confined.inputs_of(&src.path)?;
    if let Some(remote) = inputs.remote.first() {
        return Err(format!("a remote base `{remote}`, not fetched offline"));
    }
    let has = |n: &str| dir.join(n).is_file();
    if ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .any(|n| has(n))
    {
        return kustomize(&dir).map(Some);
    }
    if has("Chart.yaml") {
        static HELM: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        if !*HELM.get_or_init(|| on_path("helm")) {
            return Err("a Helm chart, and helm is not installed".into());
        }
        let mut cmd = Command::new("helm");
        cmd.arg("template").arg(&src.release).arg(&dir);
        for v in &src.helm_values {
            let rel = join_relative(&src.path, v)
                .ok_or_else(|| format!("value file `{v}` climbs above the repository root"))?;
            let Some(real) = confined.real(&rel)? else {
                return Err(format!("value file `{v}` does not exist"));
            };
            cmd.arg("--values").arg(real);
        }
        return run(&mut cmd).map(Some).map_err(|e| format!("helm template: {e}"));
    }
    // A directory of manifests (its links checked above, each file again on its real path).
    let mut files = Vec::new();
    let mut pending = vec![dir.clone()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(real) = e.path().canonicalize() else { continue };
            if real.is_file() && (is_yaml(&name) || name.ends_with(".json")) {
                files.push(real);
            } else if real.is_dir() && src.recurse && !name.starts_with('.') && real.starts_with(&dir) {
                pending.push(real);
            }
        }
    }
    files.sort();
    files.dedup();
    let mut out = String::new();
    for f in files {
        if confined.real(&confined.rel_of(&f))?.is_none() {
            continue;
        }
        out.push_str(&std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", confined.rel_of(&f)))?);
        out.push_str("\n---\n");
    }
    Ok(Some(out))
}

/// Sorts map keys recursively (a key reorder is no change).
fn canonical(v: serde_yaml_ng::Value) -> serde_yaml_ng::Value {
    use serde_yaml_ng::Value;
    match v {
        Value::Mapping(m) => {
            let mut entries: Vec<(Value, Value)> = m.into_iter().map(|(k, v)| (k, canonical(v))).collect();
            entries.sort_by_key(|(k, _)| serde_yaml_ng::to_string(k).unwrap_or_default());
            Value::Mapping(entries.into_iter().collect())
        }
        Value::Sequence(s) => Value::Sequence(s.into_iter().map(canonical).collect()),
        Value::Tagged(t) => {
            let t = *t;
            Value::Tagged(Box::new(serde_yaml_ng::value::TaggedValue {
                tag: t.tag,
                value: canonical(t.value),
            }))
        }
        other => other,
    }
}

/// The rendered resources by `kind namespace/name`, each as canonical YAML.
fn resources(text: &str) -> Result<BTreeMap<String, String>, String> {
    use serde::Deserialize;
    let mut out = BTreeMap::new();
    for (i, doc) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let v = serde_yaml_ng::Value::deserialize(doc).map_err(|e| format!("rendered output: {e}"))?;
        if v.is_null() {
            continue;
        }
        let get = |path: &[&str]| {
            let mut cur = &v;
            for p in path {
                cur = cur.get(p)?;
            }
            cur.as_str().map(str::to_string)
        };
        let key = format!(
            "{} {}/{}",
            get(&["kind"]).unwrap_or_else(|| "?".into()),
            get(&["metadata", "namespace"]).unwrap_or_default(),
            get(&["metadata", "name"]).unwrap_or_else(|| format!("#{i}"))
        );
        let text = serde_yaml_ng::to_string(&canonical(v)).map_err(|e| e.to_string())?;
        out.insert(key, text);
    }
    Ok(out)
}

fn diff_renders(before: &str, after: &str) -> Result<Option<String>, String> {
    let (a, b) = (resources(before)?, resources(after)?);
    let mut diff = String::new();
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for key in keys {
        let (x, y) = (
            a.get(key).map(String::as_str).unwrap_or(""),
            b.get(key).map(String::as_str).unwrap_or(""),
        );
        if x == y {
            continue;
        }
        let text = similar::TextDiff::from_lines(x, y);
        diff.push_str(
            &text
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{key}"), &format!("b/{key}"))
                .to_string(),
        );
    }
    Ok((!diff.is_empty()).then_some(diff))
}

type Rendered = Result<Option<String>, String>;

/// The renders of every (tree, source), in parallel, each once; failures without the tree's
/// location.
fn render_all(jobs: Vec<(PathBuf, Source)>) -> HashMap<(PathBuf, Source), Rendered> {
    let unique: HashSet<(PathBuf, Source)> = jobs.into_iter().collect();
    unique
        .into_par_iter()
        .map(|(root, src)| {
            let out = render(&root, &src).map_err(|e| without_root(&e, &root));
            ((root, src), out)
        })
        .collect()
}

struct Entry {
    key: Key,
    set: Option<(String, String)>,
    source: String,
    status: Status,
    /// The change may affect it: it reads a changed file, or its definition changed.
    affected: bool,
}

/// What a found source reads in its tree (its definition, and the source's inputs).
fn reads(root: &Path, found: &Found, dirs: &HashSet<String>) -> Inputs {
    let mut inputs = found.defs.clone();
    inputs.files.insert(found.origin.clone());
    let Ok(confined) = Confined::new(root) else {
        return inputs;
    };
    let mut add = |rel: &str| match confined.inputs_of(rel) {
        Ok(i) => inputs.extend(&i),
        // A link out: judged by the directory it starts from.
        Err(_) => {
            inputs.dirs.insert(rel.to_string());
        }
    };
    match &found.plan {
        Plan::Render(src) => {
            add(&src.path);
            for v in &src.helm_values {
                if let Some(rel) = join_relative(&src.path, v) {
                    inputs.files.insert(rel);
                }
            }
        }
        Plan::Not { hint: Some(prefix), .. } => {
            add(prefix);
            // Every kustomization under a templated path, with what it includes elsewhere.
            let under: Vec<&String> = dirs
                .iter()
                .filter(|d| prefix.is_empty() || *d == prefix || d.starts_with(&format!("{prefix}/")))
                .filter(|d| {
                    ["kustomization.yaml", "kustomization.yml", "Kustomization"]
                        .iter()
                        .any(|f| root.join(d.as_str()).join(f).is_file())
                })
                .collect();
            for d in under {
                add(d);
            }
        }
        Plan::Not { hint: None, .. } => {}
    }
    inputs
}

struct Tree<'a> {
    root: &'a Path,
    found: Vec<Found>,
    dirs: HashSet<String>,
}

fn compare(before: &Tree, after: &Tree, changed: &[String]) -> Vec<Entry> {
    let mut jobs = Vec::new();
    for tree in [before, after] {
        for f in &tree.found {
            if let Plan::Render(s) = &f.plan {
                jobs.push((tree.root.to_path_buf(), s.clone()));
            }
        }
    }
    let renders = render_all(jobs);
    let index = |tree: &Tree| -> BTreeMap<Key, usize> {
        tree.found.iter().enumerate().map(|(i, f)| (f.key.clone(), i)).collect()
    };
    let (b_index, a_index) = (index(before), index(after));
    let keys: BTreeSet<&Key> = b_index.keys().chain(a_index.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        let b = b_index.get(key).map(|&i| &before.found[i]);
        let a = a_index.get(key).map(|&i| &after.found[i]);
        let mut read = Inputs::default();
        for (tree, f) in [(before, b), (after, a)] {
            if let Some(f) = f {
                read.extend(&reads(tree.root, f, &tree.dirs));
            }
        }
        let affected = changed.iter().any(|c| read.reads(c));
        let Some(any) = a.or(b) else { continue };
        let source = match &any.plan {
            Plan::Render(s) => s.path.clone(),
            Plan::Not { hint, .. } => hint.clone().unwrap_or_default(),
        };
        let rendered = |tree: &Tree, f: &Found| -> Result<Rendered, String> {
            match &f.plan {
                Plan::Render(s) => Ok(renders
                    .get(&(tree.root.to_path_buf(), s.clone()))
                    .cloned()
                    .unwrap_or(Err("not rendered".into()))),
                Plan::Not { reason, .. } => Err(reason.clone()),
            }
        };
        let status = match (b, a) {
            (None, Some(_)) => Status::Added,
            (Some(_), None) => Status::Removed,
            (Some(b), Some(a)) => match (rendered(before, b), rendered(after, a)) {
                (_, Err(why)) | (Err(why), _) => Status::NotCompared(why),
                (Ok(Err(x)), Ok(Err(y))) if x == y => Status::NotCompared(x),
                (Ok(Err(x)), _) => Status::NotCompared(format!("before: {x}")),
                (_, Ok(Err(y))) => Status::NotCompared(y),
                (Ok(Ok(Some(_))), Ok(Ok(None))) => Status::Removed,
                (Ok(Ok(None)), Ok(Ok(Some(_)))) => Status::Added,
                (Ok(Ok(None)), Ok(Ok(None))) => {
                    Status::NotCompared(format!("`{source}` is not a directory at either revision"))
                }
                (Ok(Ok(Some(x))), Ok(Ok(Some(y)))) => match diff_renders(&x, &y) {
                    Ok(None) => Status::Identical,
                    Ok(Some(d)) => Status::Changed(d),
                    Err(e) => Status::NotCompared(e),
                },
            },
            (None, None) => continue,
        };
        out.push(Entry {
            key: key.clone(),
            set: any.set.clone(),
            source,
            status,
            affected,
        });
    }
    out
}

/// `namespace/name` (with the source's index when it is not the first, and what defines it
/// when two are otherwise alike).
fn label(e: &Entry) -> String {
    let mut s = if e.key.namespace.is_empty() {
        e.key.name.clone()
    } else {
        format!("{}/{}", e.key.namespace, e.key.name)
    };
    if e.key.index > 0 {
        s.push_str(&format!(" source {}", e.key.index));
    }
    if let Some(o) = &e.key.origin {
        s.push_str(&format!(" (from {o})"));
    }
    s
}

fn print(format: DiffFormat, since: &str, entries: &[Entry], changed: usize) {
    let short = &since[..since.len().min(12)];
    match format {
        DiffFormat::Json => {
            let apps: Vec<serde_json::Value> = entries
                .iter()
                .map(|e| {
                    let mut v = json!({
                        "namespace": e.key.namespace,
                        "name": e.key.name,
                        "source": e.source,
                        "source_index": e.key.index,
                        "status": e.status.word(),
                        "affected": e.affected,
                    });
                    if let Some(o) = &e.key.origin {
                        v["defined_in"] = json!(o);
                    }
                    if let Some((set, element)) = &e.set {
                        v["applicationset"] = json!(set);
                        v["element"] = json!(element);
                    }
                    match &e.status {
                        Status::Changed(d) => v["diff"] = json!(d),
                        Status::NotCompared(r) => v["reason"] = json!(r),
                        _ => {}
                    }
                    v
                })
                .collect();
            let mut summary = serde_json::Map::new();
            for (state, n) in counts(entries) {
                summary.insert(state.to_string(), json!(n));
            }
            summary.insert(
                "not-compared-affected".into(),
                json!(entries
                    .iter()
                    .filter(|e| e.affected && matches!(e.status, Status::NotCompared(_)))
                    .count()),
            );
            summary.insert("changed-files".into(), json!(changed));
            summary.insert("nothing-affected".into(), json!(!entries.iter().any(|e| e.affected)));
            let doc = json!({"version": 1, "since": since, "applications": apps, "summary": summary});
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        DiffFormat::Human => {
            for e in entries {
                let word = e.status.word();
                match &e.status {
                    Status::NotCompared(r) => println!("{word:<13} {} ({}): {r}", label(e), e.source),
                    _ => println!("{word:<13} {} ({})", label(e), e.source),
                }
                if let Status::Changed(d) = &e.status {
                    for line in d.lines() {
                        println!("    {line}");
                    }
                }
            }
            for line in summary(entries, short, changed) {
                println!("{line}");
            }
        }
        DiffFormat::Markdown => {
            println!("### Rendered Applications since `{short}`\n");
            println!("| Application | Source | Status |\n|---|---|---|");
            for e in entries {
                let status = match &e.status {
                    Status::NotCompared(r) => format!("not compared: {}", md_cell(r)),
                    s => s.word().to_string(),
                };
                println!("| `{}` | `{}` | {} |", md_code(&label(e)), md_code(&e.source), status);
            }
            for e in entries {
                if let Status::Changed(d) = &e.status {
                    println!(
                        "\n<details><summary><code>{}</code> changed</summary>\n\n```diff\n{}```\n</details>",
                        html_text(&label(e)),
                        d
                    );
                }
            }
            println!();
            for line in summary(entries, short, changed) {
                println!("{line}  ");
            }
        }
    }
}

/// Text for a markdown table cell.
fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Text for a code span inside a markdown table cell.
fn md_code(s: &str) -> String {
    md_cell(&s.replace('`', "'"))
}

/// Text inside HTML (`<summary>`).
fn html_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn counts(entries: &[Entry]) -> Vec<(&'static str, usize)> {
    STATES
        .iter()
        .map(|s| (*s, entries.iter().filter(|e| e.status.word() == *s).count()))
        .collect()
}

/// The closing lines: whether the change affects anything, and the count per state.
fn summary(entries: &[Entry], since: &str, changed: usize) -> Vec<String> {
    let mut lines = Vec::new();
    if !entries.iter().any(|e| e.affected) {
        lines.push(format!(
            "The change since {since} ({changed} file(s)) touches nothing any Application renders."
        ));
    }
    let unaffected = entries
        .iter()
        .filter(|e| !e.affected && matches!(e.status, Status::NotCompared(_)))
        .count();
    let parts: Vec<String> = counts(entries)
        .into_iter()
        .map(|(state, n)| {
            if state == STATES[4] && n > 0 {
                format!("{n} {state} ({} may be affected by the change)", n - unaffected)
            } else {
                format!("{n} {state}")
            }
        })
        .collect();
    lines.push(format!(
        "{} Application source(s) since {since}: {}",
        entries.len(),
        parts.join(", ")
    ));
    lines
}

/// Runs `render-diff`; returns the exit code.
pub fn command(args: &RenderDiffArgs) -> i32 {
    match run_command(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("invariant-lsp render-diff: {e}");
            2
        }
    }
}

fn run_command(args: &RenderDiffArgs) -> Result<i32, String> {
    let start = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let repo = vcs::toplevel(&start)?;
    let since = match &args.since {
        Some(rev) => vcs::resolve_rev(&repo, rev)?,
        None => vcs::default_merge_base(&repo)?,
    };
    let loaded = crate::config::load_workspace(&repo, &[]);
    let mut ours = loaded.config.repository_urls();
    ours.extend(vcs::remote_urls(&repo).iter().map(|u| vcs::normalize_repo_url(u)));
    ours.sort();
    ours.dedup();
    if ours.is_empty() {
        return Err(
            "cannot tell which repoURL is this repository: add a git remote, or list its URLs under `repository:` in .invariant.yaml"
                .into(),
        );
    }
    let changed = vcs::changed_files(&repo, &since)?;
    // A private directory (created with a random name, mode 0700) for the tree at REV.
    let tmp = tempfile::Builder::new()
        .prefix("invariant-render-diff-")
        .tempdir()
        .map_err(|e| format!("temporary directory: {e}"))?;
    vcs::export_tree(&repo, &since, tmp.path())?;
    let before = Tree {
        root: tmp.path(),
        found: applications(tmp.path(), &ours),
        dirs: walk(tmp.path()).0,
    };
    let after = Tree {
        root: &repo,
        found: applications(&repo, &ours),
        dirs: walk(&repo).0,
    };
    let entries = compare(&before, &after, &changed);
    print(args.format, &since, &entries, changed.len());
    let changed_any = entries
        .iter()
        .any(|e| matches!(e.status, Status::Changed(_) | Status::Added | Status::Removed));
    let uncompared = entries
        .iter()
        .any(|e| e.affected && matches!(e.status, Status::NotCompared(_)));
    Ok(if changed_any {
        1
    } else if uncompared {
        3
    } else {
        0
    })
}
