//! Contracts between the Rust code and the domain model: every rule code the code can emit has a
//! model entry (so `explain`, hover, SARIF rule metadata and the editor's rule link all work for
//! it), and every rule in the model has an explanation.

use std::path::{Path, PathBuf};

const FAMILIES: &[&str] = &[
    "capi-boundary",
    "adapt-purity",
    "condition-naming",
    "kustomize",
    "lifecycle",
    "suppression",
    "internal",
    "model",
];

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
    let re = regex::Regex::new(&format!(r#""((?:{})/[a-z0-9]+(?:-[a-z0-9]+)*)""#, FAMILIES.join("|"))).unwrap();
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
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
    assert!(rules.len() > 20);
    for rule in rules {
        assert!(!rule.title.trim().is_empty(), "{}: no title", rule.code);
        assert!(!rule.explanation.trim().is_empty(), "{}: no explanation", rule.code);
        let (family, name) = rule
            .code
            .split_once('/')
            .unwrap_or_else(|| panic!("{}: not family/name", rule.code));
        assert!(FAMILIES.contains(&family), "{}: unknown family", rule.code);
        assert!(!name.is_empty());
    }
}

/// The architecture's one-way dependency: the database module holds inputs and per-file derived
/// data; analyses (purity, kustomize graph, findings) are tracked functions beside their rules.
/// So nothing under `server/src/db/` may name the rules layer (rules → db, never db → rules).
#[test]
fn the_database_never_depends_on_the_rules() {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/db"), &mut files);
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
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
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
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
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
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
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
