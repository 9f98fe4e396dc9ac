//! `invariant-lsp render-diff [--since REV] [--format human|json|markdown] [PATH]`: renders
//! every ArgoCD Application of the repository (and every Application its ApplicationSets'
//! list, git directory, matrix and merge generators produce) whose source is this repository,
//! at REV (exported from git objects into a private temporary directory; the work tree is
//! never touched) and in the working tree, and compares them resource by resource.
//!
//! Rendering: a kustomization with `kustomize build` (else `kubectl kustomize`), a Helm chart
//! with `helm template` (unrenderable without helm), a directory of manifests as is; plugin
//! sources are unrenderable. Resources are compared after sorting map keys (a key reorder is
//! no change); a changed resource gets a unified diff. Renders run in parallel, once per
//! (tree, source path, options).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use rayon::prelude::*;
use serde_json::json;

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
    plugin: Option<String>,
    recurse: bool,
}

/// Applications by name → their sources in this repository.
type Apps = BTreeMap<String, Vec<Source>>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Identical,
    Changed(String),
    Added,
    Removed,
    Unrenderable(String),
}

impl Status {
    fn word(&self) -> &'static str {
        match self {
            Status::Identical => "identical",
            Status::Changed(_) => "changed",
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Unrenderable(_) => "unrenderable",
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

fn source_of(facts: &YamlFacts, src: u32, params: Option<&Params>, release: &str) -> Option<Source> {
    let text = |k: &str| -> Option<String> {
        let v = facts.scalar_at(src, k)?;
        match params {
            Some(p) => substitute(v, p),
            None => Some(v.to_string()),
        }
    };
    if facts.get(src, "chart").is_some() {
        return None; // a Helm repository, not this one
    }
    let path = text("path")?;
    if path.contains("{{") {
        return None;
    }
    let helm_values = facts
        .at_path(src, "helm.valueFiles[]")
        .into_iter()
        .filter_map(|v| facts.scalar(v).map(str::to_string))
        .collect();
    Some(Source {
        path: join_relative("", &path)?,
        helm_values,
        release: text("helm.releaseName").unwrap_or_else(|| release.to_string()),
        plugin: facts
            .get(src, "plugin")
            .map(|p| facts.scalar_at(p, "name").unwrap_or("plugin").to_string()),
        recurse: text("directory.recurse").as_deref() == Some("true"),
    })
}

/// The Applications of a tree (ApplicationSets expanded) whose sources are in this repository.
fn applications(root: &Path, ours: &[String]) -> Apps {
    let (dirs, files) = walk(root);
    let mut apps = Apps::new();
    let groups = ["argoproj.io".to_string()];
    for rel in files {
        let Ok(text) = std::fs::read_to_string(root.join(&rel)) else {
            continue;
        };
        if !text.contains("argoproj.io") || in_chart_templates(root, &rel) {
            continue;
        }
        let facts = facts_of(&text);
        for doc in &facts.docs {
            let (Some(node), Some(id)) = (doc.root, facts.object_id(doc)) else {
                continue;
            };
            if !api_group_matches(id.api_version.as_deref(), &groups) {
                continue;
            }
            let mut add = |name: String, spec: u32, params: Option<&Params>| {
                let mut sources = Vec::new();
                for src in facts
                    .at_path(spec, "source")
                    .into_iter()
                    .chain(facts.at_path(spec, "sources[]"))
                {
                    // The repoURL of this source, judged after substitution.
                    let Some(path_node) = facts.get(src, "path") else {
                        continue;
                    };
                    if !matches!(repo_of(&facts, path_node, ours, params), Repo::This) {
                        continue;
                    }
                    sources.extend(source_of(&facts, src, params, &name));
                }
                if !sources.is_empty() {
                    apps.insert(name, sources);
                }
            };
            match id.kind.as_str() {
                "Application" => {
                    if let (Some(name), Some(spec)) = (id.name.clone(), facts.get(node, "spec")) {
                        add(name, spec, None);
                    }
                }
                "ApplicationSet" => {
                    let Some(spec) = facts.first(node, "spec.template.spec") else {
                        continue;
                    };
                    let name_template = facts.scalar_at(node, "spec.template.metadata.name").unwrap_or("");
                    let set_name = id.name.clone().unwrap_or_default();
                    for params in appset_params(&facts, node, &dirs, ours).unwrap_or_default() {
                        // A name template with functions (`{{ .x | normalize }}`) cannot be
                        // evaluated here: name the Application by its set and parameters.
                        let name = substitute(name_template, &params).unwrap_or_else(|| {
                            let shown: Vec<String> = params
                                .iter()
                                .filter(|(k, _)| !k.starts_with("path.") && !k.starts_with("path["))
                                .map(|(k, v)| format!("{k}={v}"))
                                .collect();
                            format!("{set_name}[{}]", shown.join(","))
                        });
                        add(name, spec, Some(&params));
                    }
                }
                _ => {}
            }
        }
    }
    apps
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
    let out = cmd.output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        // kubectl logs `... "command failed" err="<why>"`; kustomize prints `Error: <why>`.
        let err = String::from_utf8_lossy(&out.stderr);
        let compact = err.split_whitespace().collect::<Vec<_>>().join(" ");
        let why = compact
            .find("err=")
            .map(|i| &compact[i + 4..])
            .or_else(|| compact.find("Error: ").map(|i| &compact[i + 7..]))
            .unwrap_or(&compact)
            .trim_matches('"');
        let why: String = why.chars().take(400).collect();
        Err(if why.is_empty() { "failed".to_string() } else { why })
    }
}

/// Renders one source in a tree: the manifests as text, or why it cannot be rendered.
fn render(root: &Path, src: &Source) -> Result<String, String> {
    if let Some(plugin) = &src.plugin {
        return Err(format!("rendered by the config management plugin `{plugin}`"));
    }
    let dir = root.join(&src.path);
    if !dir.is_dir() {
        return Err(format!("`{}` is not a directory at this revision", src.path));
    }
    let has = |n: &str| dir.join(n).is_file();
    if ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .any(|n| has(n))
    {
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
        return run(cmd.arg(&dir)).map_err(|e| format!("kustomize: {e}"));
    }
    if has("Chart.yaml") {
        static HELM: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        if !*HELM.get_or_init(|| on_path("helm")) {
            return Err("a Helm chart, and helm is not installed".into());
        }
        let mut cmd = Command::new("helm");
        cmd.arg("template").arg(&src.release).arg(&dir);
        for v in &src.helm_values {
            cmd.arg("--values").arg(dir.join(v));
        }
        return run(&mut cmd).map_err(|e| format!("helm template: {e}"));
    }
    // A directory of manifests.
    let mut files = Vec::new();
    let mut pending = vec![dir.clone()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let Ok(t) = e.file_type() else { continue };
            if t.is_file()
                && (is_yaml(&e.file_name().to_string_lossy()) || e.file_name().to_string_lossy().ends_with(".json"))
            {
                files.push(e.path());
            } else if t.is_dir() && src.recurse {
                pending.push(e.path());
            }
        }
    }
    files.sort();
    let mut out = String::new();
    for f in files {
        out.push_str(&std::fs::read_to_string(&f).map_err(|e| e.to_string())?);
        out.push_str("\n---\n");
    }
    Ok(out)
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

/// The renders of every (tree, source), in parallel, each once.
fn render_all(jobs: Vec<(PathBuf, Source)>) -> HashMap<(PathBuf, Source), Result<String, String>> {
    let unique: HashSet<(PathBuf, Source)> = jobs.into_iter().collect();
    unique
        .into_par_iter()
        .map(|(root, src)| {
            let out = render(&root, &src);
            ((root, src), out)
        })
        .collect()
}

struct Entry {
    name: String,
    source: String,
    status: Status,
}

fn compare(base_root: &Path, work_root: &Path, before: &Apps, after: &Apps) -> Vec<Entry> {
    let mut jobs = Vec::new();
    for (root, apps) in [(base_root, before), (work_root, after)] {
        for sources in apps.values() {
            jobs.extend(sources.iter().map(|s| (root.to_path_buf(), s.clone())));
        }
    }
    let renders = render_all(jobs);
    let names: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut out = Vec::new();
    for name in names {
        let (b, a) = (before.get(name), after.get(name));
        let sources = a.or(b).cloned().unwrap_or_default();
        let label = sources.iter().map(|s| s.path.as_str()).collect::<Vec<_>>().join(", ");
        let status = match (b, a) {
            (None, Some(_)) => Status::Added,
            (Some(_), None) => Status::Removed,
            (Some(b), Some(a)) => {
                let joined = |root: &Path, srcs: &[Source]| -> Result<String, String> {
                    let mut text = String::new();
                    for s in srcs {
                        let r = renders
                            .get(&(root.to_path_buf(), s.clone()))
                            .cloned()
                            .unwrap_or(Err("not rendered".into()));
                        text.push_str(&r.map_err(|e| format!("{}: {e}", s.path))?);
                        text.push_str("\n---\n");
                    }
                    Ok(text)
                };
                match (joined(base_root, b), joined(work_root, a)) {
                    (Err(e), _) => Status::Unrenderable(format!("before: {e}")),
                    (_, Err(e)) => Status::Unrenderable(e),
                    (Ok(x), Ok(y)) => match diff_renders(&x, &y) {
                        Ok(None) => Status::Identical,
                        Ok(Some(d)) => Status::Changed(d),
                        Err(e) => Status::Unrenderable(e),
                    },
                }
            }
            (None, None) => continue,
        };
        out.push(Entry {
            name: name.clone(),
            source: label,
            status,
        });
    }
    out
}

fn print(format: DiffFormat, since: &str, entries: &[Entry]) {
    match format {
        DiffFormat::Json => {
            let apps: Vec<serde_json::Value> = entries
                .iter()
                .map(|e| {
                    let mut v = json!({"name": e.name, "source": e.source, "status": e.status.word()});
                    match &e.status {
                        Status::Changed(d) => v["diff"] = json!(d),
                        Status::Unrenderable(r) => v["reason"] = json!(r),
                        _ => {}
                    }
                    v
                })
                .collect();
            let doc = json!({"version": 1, "since": since, "applications": apps});
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        DiffFormat::Human => {
            for e in entries {
                match &e.status {
                    Status::Unrenderable(r) => println!("{:<12} {} ({}): {r}", e.status.word(), e.name, e.source),
                    s => println!("{:<12} {} ({})", s.word(), e.name, e.source),
                }
                if let Status::Changed(d) = &e.status {
                    for line in d.lines() {
                        println!("    {line}");
                    }
                }
            }
            println!("{}", summary(entries, since));
        }
        DiffFormat::Markdown => {
            println!("### Rendered Applications since `{}`\n", &since[..since.len().min(12)]);
            println!("{}\n", summary(entries, since));
            println!("| Application | Source | Status |\n|---|---|---|");
            for e in entries {
                let status = match &e.status {
                    Status::Unrenderable(r) => format!("unrenderable: {}", r.replace('|', "\\|")),
                    s => s.word().to_string(),
                };
                println!("| `{}` | `{}` | {} |", e.name, e.source, status);
            }
            for e in entries {
                if let Status::Changed(d) = &e.status {
                    println!(
                        "\n<details><summary><code>{}</code> changed</summary>\n\n```diff\n{}```\n</details>",
                        e.name, d
                    );
                }
            }
        }
    }
}

fn summary(entries: &[Entry], since: &str) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in entries {
        *counts.entry(e.status.word()).or_default() += 1;
    }
    let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    format!(
        "{} application(s) compared with {}: {}",
        entries.len(),
        &since[..since.len().min(12)],
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(", ")
        }
    )
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
    // A private directory (created with a random name, mode 0700) for the tree at REV.
    let tmp = tempfile::Builder::new()
        .prefix("invariant-render-diff-")
        .tempdir()
        .map_err(|e| format!("temporary directory: {e}"))?;
    vcs::export_tree(&repo, &since, tmp.path())?;
    let before = applications(tmp.path(), &ours);
    let after = applications(&repo, &ours);
    let entries = compare(tmp.path(), &repo, &before, &after);
    print(args.format, &since, &entries);
    let changed = entries
        .iter()
        .any(|e| matches!(e.status, Status::Changed(_) | Status::Added | Status::Removed));
    let unrenderable = entries.iter().any(|e| matches!(e.status, Status::Unrenderable(_)));
    Ok(if changed {
        1
    } else if unrenderable {
        2
    } else {
        0
    })
}
