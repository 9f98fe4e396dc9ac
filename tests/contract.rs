//! Contracts between the Rust code and the domain model: every rule code the code can emit has a
//! model entry (so `explain`, hover, SARIF rule metadata and the editor's rule link all work for
//! it), and every rule in the model has an explanation.

use std::path::{Path, PathBuf};

/// Rule families: those of the registered rules' codes, the engine's, and `model` (the model's
/// own checks). A new rule's family needs no edit here.
fn families() -> Vec<String> {
    let model = default_model();
    let mut families: Vec<String> = invariant_lsp::rules::registry::RULES
        .iter()
        .flat_map(|r| r.codes(&model))
        .chain(
            invariant_lsp::rules::registry::ENGINE_CODES
                .iter()
                .map(|c| c.to_string()),
        )
        .filter_map(|c| c.split_once('/').map(|(f, _)| f.to_string()))
        .chain(["model".to_string()])
        .collect();
    families.sort();
    families.dedup();
    families
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Rule codes written as string literals in the server's source: `"family/name"`.
fn codes_in_source() -> Vec<(String, String)> {
    let re = regex::Regex::new(&format!(r#""((?:{})/[a-z0-9]+(?:-[a-z0-9]+)*)""#, families().join("|"))).unwrap();
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("server/src"), &mut files);
    assert!(files.len() > 10, "no server sources found");
    let mut codes = Vec::new();
    for file in files {
        if file.components().any(|c| c.as_os_str() == "bin") {
            continue; // the benchmark, not the product
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests make up codes on purpose.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for cap in re.captures_iter(text) {
            codes.push((cap[1].to_string(), file.display().to_string()));
        }
    }
    codes
}

#[test]
fn every_code_in_the_source_has_a_model_entry_with_an_explanation() {
    let model = invariant_lsp::config::load_workspace(&std::env::temp_dir().join("no-such-root"), &[]).model;
    let codes = codes_in_source();
    assert!(codes.len() > 20, "too few rule codes found in the source: {codes:?}");
    let mut missing = Vec::new();
    for (code, file) in &codes {
        match model.rule(code) {
            Some(rule) if !rule.explanation.trim().is_empty() => {}
            Some(_) => missing.push(format!("{code} (in {file}): model entry has no explanation")),
            None => missing.push(format!("{code} (in {file}): no model entry")),
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "rule codes without a model entry:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_model_rule_has_a_title_and_an_explanation() {
    let model = invariant_lsp::config::load_workspace(&std::env::temp_dir().join("no-such-root"), &[]).model;
    let rules = &model.model.rules;
    let families = families();
    assert!(rules.len() > 20);
    for rule in rules {
        assert!(!rule.title.trim().is_empty(), "{}: no title", rule.code);
        assert!(!rule.explanation.trim().is_empty(), "{}: no explanation", rule.code);
        let (family, name) = rule
            .code
            .split_once('/')
            .unwrap_or_else(|| panic!("{}: not family/name", rule.code));
        assert!(families.iter().any(|f| f == family), "{}: unknown family", rule.code);
        assert!(!name.is_empty());
    }
}

/// The architecture's one-way dependency: the database module holds inputs and per-file derived
/// data; analyses (purity, kustomize graph, findings) are tracked functions beside their rules.
/// So nothing under `server/src/db/` may name the rules layer (rules → db, never db → rules).
#[test]
fn the_database_never_depends_on_the_rules() {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("server/src/db"), &mut files);
    assert!(!files.is_empty(), "no sources under server/src/db");
    let mut offenders = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            if line.contains("crate::rules") || line.contains("super::rules") {
                offenders.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "db depends on rules (dependencies must point rules → db):\n{}",
        offenders.join("\n")
    );
}

fn default_model() -> std::sync::Arc<invariant_lsp::model::CompiledModel> {
    invariant_lsp::config::load_workspace(&std::env::temp_dir().join("no-such-root"), &[]).model
}

#[test]
fn every_code_of_every_registered_rule_has_a_model_entry() {
    let model = default_model();
    let rules = invariant_lsp::rules::registry::RULES;
    assert!(rules.len() >= 7, "too few registered rules");
    let mut missing = Vec::new();
    for rule in rules {
        let codes = rule.codes(&model);
        assert!(!codes.is_empty(), "rule {} declares no codes", rule.name);
        for code in codes {
            match model.rule(&code) {
                Some(entry) if entry.message.is_some() && !entry.explanation.trim().is_empty() => {}
                Some(_) => missing.push(format!(
                    "{code} (rule {}): entry without message or explanation",
                    rule.name
                )),
                None => missing.push(format!("{code} (rule {}): no model entry", rule.name)),
            }
        }
    }
    assert!(
        missing.is_empty(),
        "registered codes the model lacks:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_model_rule_entry_belongs_to_a_registered_rule() {
    let model = default_model();
    let mut owned: std::collections::BTreeSet<String> = invariant_lsp::rules::registry::ENGINE_CODES
        .iter()
        .map(|c| c.to_string())
        .collect();
    for rule in invariant_lsp::rules::registry::RULES {
        owned.extend(rule.codes(&model));
    }
    let orphans: Vec<&str> = model
        .model
        .rules
        .iter()
        .map(|r| r.code.as_str())
        // `model/*` findings come from loading and verifying the model itself, not from a rule.
        .filter(|code| !code.starts_with("model/") && !owned.contains(*code))
        .collect();
    assert!(
        orphans.is_empty(),
        "model rule entries no registered rule reports: {orphans:?}"
    );
}

/// Every finding of every fixture and of the sample workspace: no message, related message or
/// fix title keeps a `{placeholder}` of its template, and every code of every registered rule is
/// rendered at least once (so the check covers every template).
#[test]
fn no_rendered_message_keeps_a_placeholder() {
    use invariant_lsp::db::Database;
    use invariant_lsp::workspace::{discover, Engine};
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut roots: Vec<PathBuf> = std::fs::read_dir(base.join("fixtures"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    roots.push(base.join("sample-workspace"));
    // `{{name}}` is ArgoCD's and Helm's templating, quoted from the user's files.
    let placeholder = regex::Regex::new(r"(^|[^{])\{[a-z_]+\}([^}]|$)").unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut problems = Vec::new();
    for root in roots {
        let root = root.canonicalize().unwrap();
        let mut engine = Engine::new(Database::default(), root.clone(), &[]);
        let rels = discover(&root, std::slice::from_ref(&root), &engine.config());
        engine.load(&rels);
        let files: Vec<_> = rels.iter().filter_map(|r| engine.files.get(r).copied()).collect();
        for (file, findings) in engine.check_files(&files) {
            for f in findings.iter() {
                seen.insert(f.code.clone());
                let texts = std::iter::once(&f.message)
                    .chain(f.related.iter().map(|r| &r.message))
                    .chain(f.fixes.iter().map(|x| &x.title));
                for text in texts {
                    if placeholder.is_match(text) {
                        problems.push(format!("{}: {}: {text}", file.path(&engine.db), f.code));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "unfilled placeholders:\n{}", problems.join("\n"));
    let model = default_model();
    let unrendered: Vec<String> = invariant_lsp::rules::registry::RULES
        .iter()
        .flat_map(|r| r.codes(&model))
        .filter(|c| !seen.contains(c))
        .collect();
    assert!(
        unrendered.is_empty(),
        "registered codes no fixture renders (add a fixture): {unrendered:?}"
    );
}

/// The layers `lsp/` and `cli/` may not reach past the analysis API (`ide/analysis.rs`): the
/// database, the rules and the facts are reached through `AnalysisHost`/`Analysis` only.
const BEHIND_THE_API: &[&str] = &["db", "rules", "facts"];

/// Lines of `text` that reach one of `layers` directly: `crate::db…`, or a grouped
/// `use crate::{…, db, …}`.
fn reaches(text: &str, layers: &[&str]) -> Vec<String> {
    let names = layers.join("|");
    let direct = regex::Regex::new(&format!(r"crate::(?:{names})\b")).unwrap();
    let grouped = regex::Regex::new(&format!(r"crate::\{{[^}}]*\b(?:{names})\b")).unwrap();
    let mut out: Vec<String> = direct
        .find_iter(text)
        .chain(grouped.find_iter(text))
        .map(|m| {
            let line = text[..m.start()].lines().count().max(1);
            format!("line {line}: {}", m.as_str())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_protocol_and_command_layers_use_only_the_analysis_api() {
    // The check itself can fail.
    assert_eq!(reaches("use crate::db::Database;", BEHIND_THE_API).len(), 1);
    assert_eq!(reaches("use crate::{config, rules::Finding};", BEHIND_THE_API).len(), 1);
    assert!(reaches("use crate::ide::analysis::Finding; // crate::dbx", BEHIND_THE_API).is_empty());
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("server/src");
    assert!(src.join("ide/analysis.rs").is_file(), "the analysis API is gone");
    let mut offenders = Vec::new();
    for layer in ["lsp", "cli"] {
        let mut files = Vec::new();
        rust_files(&src.join(layer), &mut files);
        assert!(!files.is_empty(), "no sources under src/{layer}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for hit in reaches(&text, BEHIND_THE_API) {
                offenders.push(format!("{}: {hit}", file.display()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "lsp/ and cli/ must go through ide::analysis (AnalysisHost/Analysis), not reach these layers:\n{}",
        offenders.join("\n")
    );
}

/// Wording and names that belong to the domain model, never to a Rust string in the product:
/// a team with another model must not see HyperShift's repository, CAPI's alias, or English fix
/// titles and chain steps the model cannot change.
const MODEL_WORDS: &[&str] = &[
    "openshift",
    "HyperShift",
    "capiv1",
    "calls `",
    "Did you mean",
    "Use a constant",
    "Suppress",
    "Impure:",
    // Chain steps and related locations of capi-boundary and condition-naming/message-list.
    "names a provider",
    "loads a kubeconfig",
    "builds a client",
    "grows once per",
    "unbounded size",
];

#[test]
fn words_that_belong_to_the_model_are_not_rust_strings() {
    let literal = regex::Regex::new(r#""(?:[^"\\\n]|\\.)*""#).unwrap();
    let hits = |text: &str| -> Vec<String> {
        literal
            .find_iter(text)
            .filter(|m| MODEL_WORDS.iter().any(|w| m.as_str().contains(w)))
            .map(|m| m.as_str().to_string())
            .collect()
    };
    assert_eq!(hits(r#"let t = "Did you mean `{T}`?"; let ok = "fine";"#).len(), 1);
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("server/src"), &mut files);
    let mut found = Vec::new();
    for file in files {
        if file.components().any(|c| c.as_os_str() == "bin") {
            continue; // the benchmark generates a HyperShift-shaped tree on purpose
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests use the real domain's names on purpose.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for hit in hits(text) {
            found.push(format!("{}: {hit}", file.display()));
        }
    }
    assert!(
        found.is_empty(),
        "move these into domain-models/ (the model):\n{}",
        found.join("\n")
    );
}

/// The README says exactly which rules the sample workspace breaks (between the
/// `sample-codes` markers): that list is what `check` reports on it, no more, no fewer.
#[test]
fn the_readme_says_which_rules_the_sample_breaks() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let listed = readme
        .split("<!-- sample-codes -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- /sample-codes -->").next())
        .expect("README.md has no <!-- sample-codes --> list");
    let code = regex::Regex::new(r"`([a-z-]+/[a-z0-9-]+)`").unwrap();
    let mut listed: Vec<String> = code.captures_iter(listed).map(|c| c[1].to_string()).collect();
    listed.sort();
    let report = invariant_lsp::cli::check::run(&[repo.join("tests/sample-workspace")], &[]).unwrap();
    let mut found: Vec<String> = report.findings.iter().map(|f| f.finding.code.clone()).collect();
    found.sort();
    found.dedup();
    assert!(found.len() > 10, "{found:?}");
    assert_eq!(
        listed, found,
        "the README's sample-codes list and the codes `check` reports on tests/sample-workspace differ"
    );
}

/// Rule modules are declared by `server/build.rs` through `include!`, which `cargo fmt` does not
/// follow: check their formatting here (`rustfmt server/src/rules/*.rs` fixes it).
#[test]
fn the_rule_modules_are_formatted() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("server/src/rules");
    let mut modules = Vec::new();
    for entry in std::fs::read_dir(&rules).unwrap().flatten() {
        let path = entry.path();
        let file = if path.is_dir() { path.join("mod.rs") } else { path };
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if text.lines().any(|l| l.starts_with("pub static RULE:")) {
            modules.push(file);
        }
    }
    assert!(
        modules.len() >= 5,
        "rule modules under {}: {modules:?}",
        rules.display()
    );
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let edition = "2021";
    let out = match std::process::Command::new("rustfmt")
        .args(["--check", "--edition", edition])
        .args(&modules)
        .current_dir(repo)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("SKIPPED: rustfmt is not available ({e}); the rule modules' formatting is unchecked");
            return;
        }
    };
    assert!(
        out.status.success(),
        "rule modules are not formatted; run `rustfmt --edition {edition} server/src/rules/*.rs`:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
