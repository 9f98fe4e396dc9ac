//! `invariant-lsp impact [--since REV] [--format human|json|markdown] [PATH]`: the platform
//! blast radius of a change, for review. For the files changed since REV (default: the merge
//! base with the default branch): the components and sides they belong to, the platforms they
//! touch (platform files by the model's components and platform controllers, provider API
//! imports, and packages that platform files import, across packages), the lifecycle states
//! their symbols take part in, and the findings the change introduces and fixes (by
//! fingerprint, against REV exported from git objects).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;
use std::path::Path;

use serde_json::{json, Value};

use super::output::Report;
use crate::config::ConfigChoice;
use crate::ide::analysis::AnalysisHost;
use crate::model::{CompiledModel, Severity, Side};
use crate::syntax::Lang;
use crate::vfs::{discover, find_root, relative};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImpactFormat {
    Human,
    Json,
    Markdown,
}

fn side_name(side: Option<Side>) -> &'static str {
    match side {
        Some(Side::Management) => "management",
        Some(Side::HostedControlPlane) => "hosted-control-plane",
        Some(Side::Platform) => "platform",
        Some(Side::DataPlane) => "data-plane",
        Some(Side::Api) => "api",
        None => "none",
    }
}

/// The Go module path from `go.mod` at the root, if any.
fn module_path(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join("go.mod")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("module "))
        .map(|m| m.trim().trim_matches('"').to_string())
}

fn dir_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Platforms a file belongs to by itself: a platform component's file, a provider's platform
/// controller, or a file that imports a provider's API packages.
fn own_platforms(model: &CompiledModel, rel: &str, imports: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for p in &model.model.providers {
        let platform = p.platform.clone().unwrap_or_else(|| p.id.clone());
        if p.platform_controller.as_deref() == Some(rel) {
            out.insert(platform.clone());
        }
        let stem = rel
            .rsplit('/')
            .next()
            .unwrap_or(rel)
            .trim_end_matches(".go")
            .to_lowercase();
        let in_platform_component = model.component_for(rel).is_some_and(|c| c.side == Some(Side::Platform));
        if in_platform_component && (stem.split(['_', '.']).any(|s| s == p.id) || rel.split('/').any(|seg| seg == p.id))
        {
            out.insert(platform.clone());
        }
    }
    for import in imports {
        if let Some(p) = model.provider_for_import(import) {
            out.insert(p.platform.clone().unwrap_or_else(|| p.id.clone()));
        }
    }
    out
}

/// Runs the impact analysis and returns its JSON value.
pub fn impact(path: &Path, since: Option<&str>, models: &[std::path::PathBuf]) -> Result<Value, String> {
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let path = cwd.join(path);
    if !path.exists() {
        return Err(format!("{}: no such file or directory", path.display()));
    }
    let root = find_root(&path);
    let top = crate::vcs::toplevel(&root)?;
    let since = match since {
        Some(rev) => rev.to_string(),
        None => crate::vcs::default_merge_base(&top)?,
    };
    let commit = crate::vcs::resolve_rev(&top, &since)?;
    let root_in_top = relative(&top, &root.canonicalize().unwrap_or(root.clone())).unwrap_or_default();
    let changed: Vec<String> = crate::vcs::changed_files(&top, &commit)?
        .into_iter()
        .filter_map(|p| {
            if root_in_top.is_empty() {
                Some(p)
            } else {
                p.strip_prefix(&format!("{root_in_top}/")).map(String::from)
            }
        })
        .collect();

    let models: Vec<_> = models.iter().map(|m| cwd.join(m)).collect();
    let choice = ConfigChoice::Workspace;
    let mut host = AnalysisHost::new(root.clone(), &models, &choice);
    let model = host.model();
    let rels = discover(&root, std::slice::from_ref(&root), &host.config().filter());
    host.load(&rels);
    let analysis = host.analysis();
    // Imports of every Go file, for platforms reached across packages.
    let module = module_path(&root);
    let mut imports_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rel in &rels {
        let Some(file) = analysis.file(rel) else { continue };
        if analysis.lang(file) == Lang::Go {
            imports_of.insert(
                rel.clone(),
                analysis.go_facts(file).imports.iter().map(|i| i.path.clone()).collect(),
            );
        }
    }
    let changed_set: HashSet<&str> = changed.iter().map(String::as_str).collect();
    let mut files = Vec::new();
    let mut components = BTreeSet::new();
    let mut sides = BTreeSet::new();
    let mut platforms = BTreeSet::new();
    let mut states = BTreeSet::new();
    let empty = Vec::new();
    for rel in &changed {
        let component = model.component_for(rel);
        let imports = imports_of.get(rel).unwrap_or(&empty);
        let mut touched = own_platforms(&model, rel, imports);
        // Across packages: platform files that import this file's package.
        if let (Some(module), true) = (&module, rel.ends_with(".go")) {
            let package = if dir_of(rel).is_empty() {
                module.clone()
            } else {
                format!("{module}/{}", dir_of(rel))
            };
            for (other, imports) in &imports_of {
                if imports.contains(&package) && !changed_set.contains(other.as_str()) {
                    touched.extend(own_platforms(&model, other, &[]));
                }
            }
        }
        let text = analysis.file(rel).map(|f| analysis.text(f).clone());
        let mut file_states = BTreeSet::new();
        if let Some(text) = &text {
            let words: HashSet<&str> = text.split(|c: char| !(c.is_alphanumeric() || c == '_')).collect();
            for symbol in &model.model.lifecycle.symbols {
                if symbol.names.iter().any(|n| words.contains(n.as_str())) {
                    file_states.extend(symbol.states.iter().cloned());
                }
            }
        }
        if let Some(c) = component {
            components.insert(c.id.clone());
            sides.insert(side_name(c.side).to_string());
        }
        platforms.extend(touched.iter().cloned());
        states.extend(file_states.iter().cloned());
        files.push(json!({
            "path": rel,
            "component": component.map(|c| c.id.clone()),
            "side": component.map(|c| side_name(c.side)),
            "generic": component.is_some_and(|c| c.generic),
            "platforms": touched,
            "lifecycle_states": file_states,
            "deleted": text.is_none() && !root.join(rel).exists(),
        }));
    }

    // Findings introduced and fixed: the work tree against REV, by fingerprint.
    let now = super::check::analyse(&cwd, &root, std::slice::from_ref(&root), &models, &choice);
    let exported = super::baseline::Exported::new(&root, &commit, crate::vfs::SKIPPED_DIRS)?;
    let old_root = exported.map(&root).unwrap_or_else(|| exported.dir.path().to_path_buf());
    let before = if old_root.is_dir() {
        super::check::analyse(&cwd, &old_root, std::slice::from_ref(&old_root), &models, &choice)
    } else {
        Report::default()
    };
    let old: HashSet<&str> = before.findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let new: HashSet<&str> = now.findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let item = |f: &super::output::ReportedFinding| {
        json!({"code": f.finding.code, "path": f.rel, "line": f.range.start.line + 1,
               "severity": f.finding.severity.as_str(), "message": f.finding.message})
    };
    let introduced: Vec<Value> = now
        .findings
        .iter()
        .filter(|f| !old.contains(f.fingerprint.as_str()))
        .map(item)
        .collect();
    let fixed: Vec<Value> = before
        .findings
        .iter()
        .filter(|f| !new.contains(f.fingerprint.as_str()))
        .map(item)
        .collect();
    let generic_components: BTreeSet<String> = changed
        .iter()
        .filter_map(|r| model.component_for(r))
        .filter(|c| c.generic)
        .map(|c| c.description.clone().unwrap_or_else(|| c.id.clone()))
        .collect();
    Ok(json!({
        "version": 1,
        "since": since,
        "commit": commit,
        "files": files,
        "components": components,
        "sides": sides,
        "platforms": platforms,
        "generic_components": generic_components,
        "lifecycle_states": states,
        "findings": {"introduced": introduced, "fixed": fixed},
    }))
}

fn list(values: &Value) -> Vec<String> {
    values
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

/// One sentence for a pull request: what the change touches and what it does to findings.
pub fn summary(v: &Value) -> String {
    let components = list(&v["components"]);
    let platforms = list(&v["platforms"]);
    let introduced = v["findings"]["introduced"].as_array().map_or(0, Vec::len);
    let fixed = v["findings"]["fixed"].as_array().map_or(0, Vec::len);
    let files = v["files"].as_array().map_or(0, Vec::len);
    let mut parts = Vec::new();
    if files == 0 {
        parts.push("no files changed".to_string());
    } else if components.is_empty() {
        parts.push(format!("touches {files} file(s) outside every component of the model"));
    } else {
        parts.push(format!(
            "touches {}",
            components
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    parts.push(if platforms.is_empty() {
        "no platform files".to_string()
    } else {
        format!("platforms: {}", platforms.join(", "))
    });
    parts.push(match introduced {
        0 => "no new findings".to_string(),
        n => format!("{n} new finding(s)"),
    });
    if fixed > 0 {
        parts.push(format!("{fixed} fixed"));
    }
    parts.join("; ")
}

pub fn write(v: &Value, format: ImpactFormat, out: &mut dyn Write) -> std::io::Result<()> {
    use super::formats::printable;
    match format {
        ImpactFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, v)?;
            writeln!(out)
        }
        ImpactFormat::Human => {
            writeln!(
                out,
                "impact since {}: {}",
                printable(v["since"].as_str().unwrap_or("")),
                summary(v)
            )?;
            for f in v["files"].as_array().into_iter().flatten() {
                writeln!(
                    out,
                    "  {}  [{} / {}]{}",
                    printable(f["path"].as_str().unwrap_or("")),
                    f["component"].as_str().unwrap_or("-"),
                    f["side"].as_str().unwrap_or("-"),
                    match list(&f["platforms"]) {
                        p if p.is_empty() => String::new(),
                        p => format!(" platforms: {}", p.join(", ")),
                    }
                )?;
            }
            let states = list(&v["lifecycle_states"]);
            if !states.is_empty() {
                writeln!(out, "lifecycle states: {}", states.join(", "))?;
            }
            for (what, key) in [("new", "introduced"), ("fixed", "fixed")] {
                for f in v["findings"][key].as_array().into_iter().flatten() {
                    writeln!(
                        out,
                        "{what}: {}:{}: {}[{}]: {}",
                        printable(f["path"].as_str().unwrap_or("")),
                        f["line"],
                        f["severity"].as_str().unwrap_or(""),
                        f["code"].as_str().unwrap_or(""),
                        printable(f["message"].as_str().unwrap_or(""))
                    )?;
                }
            }
            Ok(())
        }
        ImpactFormat::Markdown => {
            let cell = |s: &str| printable(s).replace('|', "\\|");
            writeln!(out, "### Impact since `{}`\n", cell(v["since"].as_str().unwrap_or("")))?;
            writeln!(out, "{}.\n", summary(v))?;
            writeln!(out, "| file | component | side | platforms |")?;
            writeln!(out, "|---|---|---|---|")?;
            for f in v["files"].as_array().into_iter().flatten() {
                writeln!(
                    out,
                    "| `{}` | {} | {} | {} |",
                    cell(f["path"].as_str().unwrap_or("")),
                    cell(f["component"].as_str().unwrap_or("—")),
                    cell(f["side"].as_str().unwrap_or("—")),
                    cell(&list(&f["platforms"]).join(", "))
                )?;
            }
            let states = list(&v["lifecycle_states"]);
            if !states.is_empty() {
                writeln!(out, "\nLifecycle states involved: {}.", states.join(", "))?;
            }
            for (what, key) in [("New findings", "introduced"), ("Fixed findings", "fixed")] {
                let items = v["findings"][key].as_array().cloned().unwrap_or_default();
                if items.is_empty() {
                    continue;
                }
                writeln!(out, "\n**{what}**\n")?;
                for f in items {
                    writeln!(
                        out,
                        "- `{}` `{}:{}`: {}",
                        cell(f["code"].as_str().unwrap_or("")),
                        cell(f["path"].as_str().unwrap_or("")),
                        f["line"],
                        cell(f["message"].as_str().unwrap_or(""))
                    )?;
                }
            }
            Ok(())
        }
    }
}

/// The `impact` subcommand: 1 when the change introduces an error-severity finding.
pub fn command(path: Option<&Path>, since: Option<&str>, models: &[std::path::PathBuf], format: ImpactFormat) -> i32 {
    let v = match impact(path.unwrap_or(Path::new(".")), since, models) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {}", super::formats::printable(&e));
            return super::check::EXIT_USAGE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = write(&v, format, &mut stdout) {
        eprintln!("error: writing the report: {e}");
        return super::check::EXIT_USAGE;
    }
    let new_error = v["findings"]["introduced"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|f| f["severity"] == Severity::Error.as_str());
    i32::from(new_error)
}
