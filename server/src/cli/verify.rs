//! `invariant-lsp model verify [PATH]`: reconciles the domain model in force with the workspace
//! and reports the entries that no longer describe it (`model/stale-*`), located in the model
//! file that declares them: component globs matching no file, provider packages nothing
//! imports, kinds nothing references, platform controllers that do not exist, recognisers
//! (adapt-function context types and registration calls, sanctioned helpers and per-cluster
//! decisions, keep-existing options, condition constant patterns) matching nothing, and names
//! quoted in hover text absent from the code. A model that drifts from the code gives bad
//! advice. Deny lists (calls a rule forbids: hosted-cluster constructors, impure calls) are not
//! checked: nothing matching them is the rule being satisfied, not a stale entry.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::GlobBuilder;

use super::output::{Report, ReportedFinding};
use crate::config::ConfigChoice;
use crate::ide::analysis::{AnalysisHost, Finding, Span};
use crate::model::{CompiledModel, DEFAULT_MODEL_PATH, DEFAULT_MODEL_YAML};
use crate::syntax::Lang;
use crate::text::Encoding;
use crate::vfs::{discover, find_root, relative, SKIPPED_DIRS};

/// What the workspace holds, as far as the model's entries can be checked against it.
struct Inventory {
    /// Every file (not only Go and YAML), workspace-relative.
    files: Vec<String>,
    /// Import paths of every Go file.
    imports: HashSet<String>,
    /// Every identifier-like word in Go and YAML files.
    words: HashSet<String>,
    /// Names of Go functions and constants.
    functions: HashSet<String>,
    consts: HashSet<String>,
}

/// `skip`: the model files themselves (their names are not evidence that the code has them).
fn inventory(host: &mut AnalysisHost, root: &Path, skip: &HashSet<String>) -> Inventory {
    let mut files = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|entry| {
            entry.depth() == 0
                || !(entry.file_type().is_some_and(|t| t.is_dir())
                    && SKIPPED_DIRS.contains(&entry.file_name().to_string_lossy().as_ref()))
        })
        .build();
    for entry in walker.flatten() {
        if entry.file_type().is_some_and(|t| t.is_file()) {
            if let Some(rel) = relative(root, entry.path()) {
                files.push(rel);
            }
        }
    }
    files.sort();
    let config = host.config();
    let rels = discover(root, &[root.to_path_buf()], &config.filter());
    host.load(&rels);
    let analysis = host.analysis();
    let mut inv = Inventory {
        files,
        imports: HashSet::new(),
        words: HashSet::new(),
        functions: HashSet::new(),
        consts: HashSet::new(),
    };
    for rel in rels.iter().filter(|r| !skip.contains(*r)) {
        let Some(file) = analysis.file(rel) else { continue };
        let text = analysis.text(file);
        for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if !word.is_empty() && !inv.words.contains(word) {
                inv.words.insert(word.to_string());
            }
        }
        if analysis.lang(file) == Lang::Go {
            let facts = analysis.go_facts(file);
            inv.imports.extend(facts.imports.iter().map(|i| i.path.clone()));
            inv.functions
                .extend(facts.functions.iter().filter_map(|f| f.name.clone()));
            inv.consts.extend(facts.consts.iter().map(|c| c.name.clone()));
        }
    }
    inv
}

fn glob_matches_any<'a>(pattern: &str, mut items: impl Iterator<Item = &'a String>) -> bool {
    match GlobBuilder::new(pattern).literal_separator(true).build() {
        Ok(glob) => {
            let m = glob.compile_matcher();
            items.any(|i| m.is_match(i))
        }
        Err(_) => true, // an invalid glob is reported when the model is compiled
    }
}

fn package_imported(inv: &Inventory, package: &str) -> bool {
    if package.contains(['*', '?', '[']) {
        glob_matches_any(package, inv.imports.iter())
    } else {
        inv.imports.contains(package)
    }
}

/// One stale entry: its code, the text to locate it by in the model files, and the message
/// arguments.
struct Stale {
    code: &'static str,
    needle: String,
    args: Vec<(&'static str, String)>,
}

fn stale(code: &'static str, needle: &str, args: &[(&'static str, &str)]) -> Stale {
    Stale {
        code,
        needle: needle.to_string(),
        args: args.iter().map(|(k, v)| (*k, v.to_string())).collect(),
    }
}

/// Backticked names in hover markdown that should exist in the code: Go identifiers with an
/// upper-case letter (`AWSMachineTemplate`), import paths and file paths.
fn quoted_names(markdown: &str) -> Vec<String> {
    markdown
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|t| !t.is_empty() && !t.contains(char::is_whitespace))
        .filter(|t| t.chars().all(|c| c.is_alphanumeric() || "_./-".contains(c)))
        .filter(|t| t.chars().any(|c| c.is_uppercase()) || t.contains('/') || t.ends_with(".go"))
        .map(String::from)
        .collect()
}

fn name_exists(inv: &Inventory, name: &str) -> bool {
    if name.ends_with(".go") || name.ends_with(".yaml") {
        return inv.files.iter().any(|f| f == name || f.ends_with(&format!("/{name}")));
    }
    if name.contains('/') && !name.contains('.') {
        // A directory of the workspace (`support/controlplane-component`).
        let dir = format!("{name}/");
        return inv
            .files
            .iter()
            .any(|f| f.starts_with(&dir) || f.contains(&format!("/{dir}")));
    }
    if name.contains('/') && name.contains('.') {
        // An import path, or a module prefix of one.
        return inv
            .imports
            .iter()
            .any(|i| i == name || i.starts_with(&format!("{name}/")));
    }
    name.split(['.', '/'])
        .filter(|s| !s.is_empty())
        .all(|segment| inv.words.contains(segment))
}

/// Helpers the model says the code has (sanctioned helpers, per-cluster decisions): stale when
/// no Go file imports the package or defines the function.
fn check_helpers<'a>(
    out: &mut Vec<Stale>,
    inv: &Inventory,
    section: &str,
    entries: impl Iterator<Item = (&'a str, &'a [String])>,
) {
    for (package, functions) in entries {
        if !package_imported(inv, package) {
            out.push(stale(
                "model/stale-recogniser",
                package,
                &[
                    ("section", section),
                    ("entry", package),
                    ("why", "no Go file imports this package"),
                ],
            ));
            continue;
        }
        let missing: Vec<&str> = functions
            .iter()
            .filter(|f| !inv.functions.contains(f.rsplit('.').next().unwrap_or(f)))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            out.push(stale(
                "model/stale-recogniser",
                missing[0],
                &[
                    ("section", section),
                    ("entry", &format!("{package}.{}", missing.join(", "))),
                    ("why", "no Go file defines these functions"),
                ],
            ));
        }
    }
}

fn stale_entries(model: &CompiledModel, inv: &Inventory, root: &Path) -> Vec<Stale> {
    let m = &model.model;
    let mut out = Vec::new();
    for c in &m.components {
        for glob in &c.paths {
            if !glob_matches_any(glob, inv.files.iter()) {
                out.push(stale(
                    "model/stale-component-glob",
                    glob,
                    &[("component", &c.id), ("glob", glob)],
                ));
            }
        }
    }
    for p in &m.providers {
        for package in &p.packages {
            if !package_imported(inv, package) {
                out.push(stale(
                    "model/stale-provider-package",
                    package,
                    &[("provider", &p.id), ("package", package)],
                ));
            }
        }
        for kind in p.machine_kinds.iter().chain(&p.template_kinds) {
            if !inv.words.contains(kind.as_str()) {
                out.push(stale("model/stale-kind", kind, &[("provider", &p.id), ("kind", kind)]));
            }
        }
        if let Some(controller) = &p.platform_controller {
            if !root.join(controller).is_file() {
                out.push(stale(
                    "model/stale-platform-controller",
                    controller,
                    &[("provider", &p.id), ("path", controller)],
                ));
            }
        }
    }
    for package in &m.capi.packages {
        if !package_imported(inv, package) {
            out.push(stale(
                "model/stale-recogniser",
                package,
                &[
                    ("section", "capi.packages"),
                    ("entry", package),
                    ("why", "no Go file imports this package"),
                ],
            ));
        }
    }
    for ty in &m.adapt.context_types {
        let (import, name) = match ty.rsplit_once('.') {
            Some((import, name)) if import.contains('/') => (Some(import), name),
            _ => (None, ty.as_str()),
        };
        let found = inv.words.contains(name) && import.is_none_or(|i| inv.imports.contains(i));
        if !found {
            out.push(stale(
                "model/stale-recogniser",
                ty,
                &[
                    ("section", "adapt.context_types"),
                    ("entry", ty),
                    ("why", "no Go file uses this type"),
                ],
            ));
        }
    }
    for call in &m.adapt.registration_calls {
        if !inv.words.contains(call.as_str()) {
            out.push(stale(
                "model/stale-recogniser",
                call,
                &[
                    ("section", "adapt.registration_calls"),
                    ("entry", call),
                    ("why", "no Go file calls it"),
                ],
            ));
        }
    }
    if let Some(re) = &model.adapt_name {
        if !inv.functions.iter().any(|f| re.is_match(f)) {
            let pattern = m.adapt.name_pattern.clone().unwrap_or_default();
            out.push(stale(
                "model/stale-recogniser",
                &pattern,
                &[
                    ("section", "adapt.name_pattern"),
                    ("entry", &pattern),
                    ("why", "no Go function matches it"),
                ],
            ));
        }
    }
    for (what, re, pattern) in [
        (
            "conditions.type_const_pattern",
            &model.condition_type_const,
            &m.conditions.type_const_pattern,
        ),
        (
            "conditions.reason_const_pattern",
            &model.condition_reason_const,
            &m.conditions.reason_const_pattern,
        ),
    ] {
        if let (Some(re), Some(pattern)) = (re, pattern) {
            if !inv.consts.iter().any(|c| re.is_match(c)) {
                out.push(stale(
                    "model/stale-recogniser",
                    pattern,
                    &[
                        ("section", what),
                        ("entry", pattern),
                        ("why", "no Go constant matches it"),
                    ],
                ));
            }
        }
    }
    for glob in &m.conditions.const_files {
        if !glob_matches_any(glob, inv.files.iter()) {
            out.push(stale(
                "model/stale-recogniser",
                glob,
                &[
                    ("section", "conditions.const_files"),
                    ("entry", glob),
                    ("why", "no file matches it"),
                ],
            ));
        }
    }
    for ty in &m.conditions.condition_types {
        let name = ty.rsplit('.').next().unwrap_or(ty);
        if !inv.words.contains(name) {
            out.push(stale(
                "model/stale-recogniser",
                ty,
                &[
                    ("section", "conditions.condition_types"),
                    ("entry", ty),
                    ("why", "no file uses this type"),
                ],
            ));
        }
    }
    let reach = &m.hosted_cluster_reach;
    // What the code is said to have is checked; what a rule forbids (the hosted-cluster
    // constructors, the adapt contract's impure calls) is not: no match is the rule satisfied.
    check_helpers(
        &mut out,
        inv,
        "adapt.sanctioned",
        m.adapt
            .sanctioned
            .iter()
            .map(|e| (e.package.as_str(), e.functions.as_slice())),
    );
    check_helpers(
        &mut out,
        inv,
        "adapt.per_cluster",
        m.adapt
            .per_cluster
            .iter()
            .map(|e| (e.package.as_str(), e.functions.as_slice())),
    );
    for option in &m.adapt.keep_existing_options {
        if !inv.functions.contains(option.as_str()) {
            out.push(stale(
                "model/stale-recogniser",
                option,
                &[
                    ("section", "adapt.keep_existing_options"),
                    ("entry", option),
                    ("why", "no Go file defines it"),
                ],
            ));
        }
    }
    // Names quoted in hover text and hover entries.
    let mut hovers: Vec<(String, &str)> = Vec::new();
    for p in &m.providers {
        if let Some(h) = &p.hover {
            hovers.push((format!("providers[{}].hover", p.id), h));
        }
    }
    for (what, h) in [
        ("adapt.hover", &m.adapt.hover),
        ("conditions.hover", &m.conditions.hover),
        ("hosted_cluster_reach.explanation", &reach.explanation),
    ] {
        if let Some(h) = h {
            hovers.push((what.to_string(), h));
        }
    }
    for entry in &m.hover {
        hovers.push(("hover".to_string(), &entry.markdown));
    }
    let mut reported = HashSet::new();
    for (section, markdown) in hovers {
        for name in quoted_names(markdown) {
            if !name_exists(inv, &name) && reported.insert(name.clone()) {
                out.push(stale(
                    "model/stale-name",
                    &format!("`{name}`"),
                    &[("section", &section), ("name", &name)],
                ));
            }
        }
    }
    for entry in &m.hover {
        for name in &entry.names {
            let exists = name.split('.').all(|s| s.is_empty() || inv.words.contains(s));
            if !exists && reported.insert(name.clone()) {
                out.push(stale(
                    "model/stale-name",
                    name,
                    &[("section", "hover[].names"), ("name", name)],
                ));
            }
        }
    }
    for symbol in &m.lifecycle.symbols {
        for name in &symbol.names {
            let exists = name.split('.').all(|s| s.is_empty() || inv.words.contains(s));
            if !exists && reported.insert(name.clone()) {
                out.push(stale(
                    "model/stale-name",
                    name,
                    &[("section", "lifecycle.symbols[].names"), ("name", name)],
                ));
            }
        }
    }
    out
}

/// The model files in force, with their texts, for locating entries: the built-in model and
/// the files named by the configuration and `--model`.
fn model_layers(model: &CompiledModel, root: &Path, cwd: &Path) -> Vec<(String, Arc<str>)> {
    model
        .sources
        .iter()
        .filter_map(|source| {
            if source == DEFAULT_MODEL_PATH {
                return Some((source.clone(), Arc::from(DEFAULT_MODEL_YAML)));
            }
            let path = [root.join(source), cwd.join(source), PathBuf::from(source)]
                .into_iter()
                .find(|p| p.is_file())?;
            let text = std::fs::read_to_string(path).ok()?;
            Some((source.clone(), Arc::from(text)))
        })
        .collect()
}

/// Runs the verification: a report whose findings point into the model files.
pub fn verify(path: &Path, models: &[PathBuf], choice: &ConfigChoice) -> Result<Report, String> {
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let path = cwd.join(path);
    if !path.exists() {
        return Err(format!("{}: no such file or directory", path.display()));
    }
    let root = find_root(&path);
    let models: Vec<PathBuf> = models.iter().map(|m| cwd.join(m)).collect();
    let mut host = AnalysisHost::new(root.clone(), &models, choice);
    let model = host.model();
    let skip: HashSet<String> = model
        .sources
        .iter()
        .filter_map(|s| relative(&root, &root.join(s)))
        .chain([crate::config::CONFIG_FILE.to_string()])
        .collect();
    let inv = inventory(&mut host, &root, &skip);
    let stale = stale_entries(&model, &inv, &root);
    let layers = model_layers(&model, &root, &cwd);
    let mut report = Report {
        files_checked: inv.files.len(),
        root: root.clone(),
        repo_root: crate::vcs::toplevel(&root).unwrap_or_else(|_| root.clone()),
        model_name: model.model.name.clone(),
        model_sources: model.sources.clone(),
        information_uri: model.model.information_uri.clone(),
        rule_docs_url: model.model.rule_docs_url.clone(),
        rules: model
            .model
            .rules
            .iter()
            .filter(|r| r.code.starts_with("model/"))
            .cloned()
            .collect(),
        ..Report::default()
    };
    for error in host.model_errors() {
        report.model_errors.push(super::output::ModelProblem {
            path: error.path.clone(),
            error: error.clone(),
        });
    }
    let mut per_file: Vec<(usize, Finding)> = Vec::new();
    for s in stale {
        // The last model file that mentions the entry declares it (later files override).
        let located = layers
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, (_, text))| text.find(&s.needle).map(|at| (i, at)));
        let (layer, at) = located.unwrap_or((layers.len().saturating_sub(1), 0));
        let args: Vec<(&str, &str)> = s.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut finding = Finding::new(
            s.code,
            Span::new(at, at + if located.is_some() { s.needle.len() } else { 0 }),
            model.message(s.code, &args),
        );
        finding.severity = model.rule(s.code).map(|r| r.severity).unwrap_or_default();
        per_file.push((layer, finding));
    }
    for (i, (display, text)) in layers.iter().enumerate() {
        let findings: Vec<&Finding> = per_file.iter().filter(|(l, _)| *l == i).map(|(_, f)| f).collect();
        if findings.is_empty() {
            continue;
        }
        let shown = if display.starts_with('<') || Path::new(display).is_absolute() {
            display.clone()
        } else {
            super::check::display_path(&cwd, &root.join(display))
        };
        let rel = if display.starts_with('<') {
            display.clone()
        } else {
            relative(&root, &root.join(display)).unwrap_or_else(|| display.clone())
        };
        report.sources.insert(shown.clone(), text.clone());
        let lines = crate::text::LineIndex::new(text);
        let fingerprints = super::baseline::fingerprint_file(&rel, text, &findings);
        for (finding, fp) in findings.into_iter().zip(fingerprints) {
            report.findings.push(ReportedFinding {
                path: shown.clone(),
                rel: rel.clone(),
                fingerprint: fp.fingerprint,
                declaration: fp.declaration,
                range: lines.range(
                    text,
                    finding.span.start as usize,
                    finding.span.end as usize,
                    Encoding::Utf16,
                ),
                finding: finding.clone(),
                related: vec![],
            });
        }
    }
    Ok(report)
}

/// The `model verify` subcommand.
pub fn command(
    path: Option<&Path>,
    models: &[PathBuf],
    choice: &ConfigChoice,
    format: super::Format,
    color: &str,
) -> i32 {
    let report = match verify(path.unwrap_or(Path::new(".")), models, choice) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}", super::formats::printable(&e));
            return super::check::EXIT_USAGE;
        }
    };
    eprintln!("{}", super::check::model_in_force(&report));
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = super::formats::write(&report, format, &mut stdout, color) {
        eprintln!("error: writing the report: {e}");
        return super::check::EXIT_USAGE;
    }
    super::check::exit_code(&report)
}
