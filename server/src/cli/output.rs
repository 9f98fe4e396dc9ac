//! Report formats: human (codespan-reporting snippets), JSON (the contract in README.md, "In CI")
//! and SARIF 2.1.0.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use codespan_reporting::diagnostic::{Diagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor};
use serde_json::{json, Value};

use crate::ide::analysis::{Finding, Span};
use crate::model::{ModelError, RuleDoc, Severity};
use crate::text::Range;

use super::escape::{printable, sanitised_source};

#[derive(Debug, Clone)]
pub struct ReportedRelated {
    pub path: String,
    /// Relative to the workspace root.
    pub rel: String,
    pub range: Range,
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct ReportedFinding {
    /// Relative to the current directory.
    pub path: String,
    /// Relative to the workspace root, `/`-separated.
    pub rel: String,
    /// Survives unrelated edits and moves (see `baseline.rs`).
    pub fingerprint: String,
    /// The enclosing declaration (part of the fingerprint).
    pub declaration: String,
    pub range: Range,
    pub finding: Finding,
    pub related: Vec<ReportedRelated>,
}

#[derive(Debug, Clone)]
pub struct ModelProblem {
    pub path: String,
    pub error: ModelError,
}

#[derive(Debug, Default)]
pub struct Report {
    pub files_checked: usize,
    pub findings: Vec<ReportedFinding>,
    pub model_errors: Vec<ModelProblem>,
    /// Texts of the files findings point into, by display path (for snippets).
    pub sources: BTreeMap<String, Arc<str>>,
    pub rules: Vec<RuleDoc>,
    /// The workspace root, and the repository's top level (the root when not in git).
    pub root: std::path::PathBuf,
    pub repo_root: std::path::PathBuf,
    /// Workspace-relative paths of the files checked.
    pub checked_paths: Vec<String>,
    /// The model in force: its name and the files it was merged from.
    pub model_name: Option<String>,
    pub model_sources: Vec<String>,
    pub information_uri: Option<String>,
    /// The model's `rule_docs_url` template (`{code}` → the rule code).
    pub rule_docs_url: Option<String>,
    /// `.invariant.yaml`'s `baseline`, workspace-relative.
    pub configured_baseline: Option<String>,
    pub baseline: Option<super::baseline::BaselineOutcome>,
    pub new_from_rev: Option<super::baseline::NewFromRev>,
    /// The source size limit in force (bytes): larger files are not checked and fail the run.
    pub max_file_size: usize,
}

impl Report {
    /// Where a rule's documentation is published, from the model's `rule_docs_url`.
    pub fn rule_docs_url(&self, code: &str) -> Option<String> {
        self.rule_docs_url.as_ref().map(|url| url.replace("{code}", code))
    }
}

fn range_json(range: &Range) -> Value {
    json!({"start": {"line": range.start.line, "character": range.start.character},
           "end": {"line": range.end.line, "character": range.end.character}})
}

fn model_error_range(error: &ModelError) -> Range {
    let line = error.line.unwrap_or(0) as u32;
    let character = error.column.unwrap_or(0) as u32;
    let at = crate::text::Position { line, character };
    Range { start: at, end: at }
}

pub fn json_value(report: &Report) -> Value {
    let mut diagnostics: Vec<Value> = report
        .model_errors
        .iter()
        .map(|m| {
            json!({"path": m.path, "range": range_json(&model_error_range(&m.error)), "severity": "error",
                   "code": m.error.code, "message": m.error.message, "related": [], "fixes": []})
        })
        .collect();
    diagnostics.extend(report.findings.iter().map(|f| {
        json!({
            "path": f.path,
            "range": range_json(&f.range),
            "severity": f.finding.severity.as_str(),
            "code": f.finding.code,
            "message": f.finding.message,
            "related": f.related.iter().map(|r| json!({"path": r.path, "range": range_json(&r.range), "message": r.message})).collect::<Vec<_>>(),
            "fixes": f.finding.fixes.iter().map(|x| json!({"title": x.title})).collect::<Vec<_>>(),
            "fingerprint": f.fingerprint,
        })
    }));
    let mut out = json!({"version": 1, "files_checked": report.files_checked, "diagnostics": diagnostics,
                         "model": {"name": report.model_name, "sources": report.model_sources}});
    if let Some(b) = &report.baseline {
        out["baseline"] = json!({
            "path": b.path,
            "suppressed": b.suppressed_total(),
            "suppressed_by_code": b.suppressed,
            "unmatched": b.unmatched,
        });
    }
    if let Some(n) = &report.new_from_rev {
        out["new_from_rev"] = json!({"rev": n.rev, "commit": n.commit, "existing": n.existing});
    }
    out
}

pub fn json(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &json_value(report))?;
    writeln!(out)
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Hint | Severity::Off => "note",
    }
}

fn sarif_region(range: &Range) -> Value {
    // SARIF lines and columns are 1-based; columns count UTF-16 code units by default, as LSP does.
    json!({"startLine": range.start.line + 1, "startColumn": range.start.character + 1,
           "endLine": range.end.line + 1, "endColumn": range.end.character + 1})
}

/// GitHub code scanning's documented limits for one SARIF run.
pub mod sarif_limits {
    pub const RESULTS_PER_RUN: usize = 25_000;
    pub const RULES_PER_RUN: usize = 25_000;
    pub const LOCATIONS_PER_RESULT: usize = 1_000;
    pub const TAGS_PER_RULE: usize = 20;
    /// GitHub shows a rule's full description cut at 1,024 characters.
    pub const DESCRIPTION_CHARS: usize = 1_024;
}

/// Percent-encodes a path for a URI reference: everything but unreserved characters and `/`.
pub fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `file://` URI of a directory, ending in `/` (SARIF `originalUriBaseIds` must).
fn directory_uri(dir: &std::path::Path) -> String {
    let mut path = dir.to_string_lossy().replace('\\', "/");
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    if !path.ends_with('/') {
        path.push('/');
    }
    format!("file://{}", percent_encode_path(&path))
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => text[..i].to_string(),
        None => text.to_string(),
    }
}

/// SARIF 2.1.0 for GitHub code scanning: paths relative to the repository root (under
/// `%SRCROOT%`, whatever directory `check` ran from), percent-encoded; `partialFingerprints`
/// carries the finding's fingerprint; rules carry tags, precision, `security-severity` where
/// the model gives one and `helpUri` when the model says where rules are published.
pub fn sarif_value(report: &Report) -> Value {
    use sarif_limits::*;
    let rules: Vec<Value> = report
        .rules
        .iter()
        .take(RULES_PER_RUN)
        .map(|r| {
            let family = r.code.split('/').next().unwrap_or(&r.code).to_string();
            let mut tags = vec![family];
            tags.extend(r.tags.iter().cloned());
            tags.dedup();
            tags.truncate(TAGS_PER_RULE);
            let mut properties = json!({"tags": tags, "precision": r.precision.as_deref().unwrap_or("high")});
            if let Some(score) = &r.security_severity {
                properties["security-severity"] = json!(score);
            }
            let name: String = r
                .code
                .split(['/', '-'])
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect())
                        .unwrap_or_default()
                })
                .collect::<Vec<String>>()
                .concat();
            let mut rule = json!({"id": r.code, "name": name,
                   "shortDescription": {"text": r.title},
                   "fullDescription": {"text": cut(r.explanation.trim(), DESCRIPTION_CHARS)},
                   "help": {"text": r.explanation, "markdown": r.explanation},
                   "defaultConfiguration": {"level": sarif_level(r.severity)},
                   "properties": properties});
            if let Some(url) = report.rule_docs_url(&r.code) {
                rule["helpUri"] = json!(url);
            }
            rule
        })
        .collect();
    let rule_index = |code: &str| report.rules.iter().take(RULES_PER_RUN).position(|r| r.code == code);
    let location = |rel: &str, range: &Range| {
        let uri = percent_encode_path(&repo_relative(report, rel));
        json!({"physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}, "region": sarif_region(range)}})
    };
    let mut results: Vec<Value> = report
        .findings
        .iter()
        .take(RESULTS_PER_RUN)
        .map(|f| {
            let mut result = json!({
                "ruleId": f.finding.code,
                "level": sarif_level(f.finding.severity),
                "message": {"text": f.finding.message},
                "locations": [location(&f.rel, &f.range)],
                "partialFingerprints": {"invariantFingerprint/v1": f.fingerprint},
            });
            if let Some(i) = rule_index(&f.finding.code) {
                result["ruleIndex"] = json!(i);
            }
            if !f.related.is_empty() {
                result["relatedLocations"] = Value::Array(
                    f.related
                        .iter()
                        .take(LOCATIONS_PER_RESULT)
                        .enumerate()
                        .map(|(i, r)| {
                            let mut l = location(&r.rel, &r.range);
                            l["id"] = json!(i);
                            l["message"] = json!({"text": r.message});
                            l
                        })
                        .collect(),
                );
            }
            result
        })
        .collect();
    let room = RESULTS_PER_RUN.saturating_sub(results.len());
    results.extend(report.model_errors.iter().take(room).map(|m| {
        let mut result = json!({"ruleId": m.error.code, "level": "error", "message": {"text": m.error.message}});
        // A model error in a workspace file is located there; the built-in model and files
        // outside the repository have no location code scanning could show.
        let abs = report.root.join(&m.error.path);
        if !m.error.path.starts_with('<') && abs.starts_with(&report.repo_root) {
            let rel = crate::vfs::relative(&report.root, &abs).unwrap_or_default();
            result["locations"] = json!([location(&rel, &model_error_range(&m.error))]);
        }
        result
    }));
    let mut notifications = Vec::new();
    if report.findings.len() > RESULTS_PER_RUN {
        notifications.push(json!({"level": "warning", "message": {"text": format!(
            "{} findings; GitHub code scanning accepts {RESULTS_PER_RUN} per run, so the rest are left out",
            report.findings.len())}}));
    }
    let mut driver = json!({"name": "invariant-lsp", "version": env!("CARGO_PKG_VERSION"), "rules": rules});
    driver["informationUri"] = json!(information_uri(report));
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": directory_uri(&report.repo_root),
                                                  "description": {"text": "The repository root"}}},
            "invocations": [{"executionSuccessful": report.model_errors.is_empty(),
                             "toolExecutionNotifications": notifications}],
            "columnKind": "utf16CodeUnits",
            "results": results,
        }]
    })
}

pub fn sarif(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &sarif_value(report))?;
    writeln!(out)
}

fn color_choice(color: &str) -> termcolor::ColorChoice {
    match color {
        "always" => termcolor::ColorChoice::Always,
        "never" => termcolor::ColorChoice::Never,
        _ if std::io::IsTerminal::is_terminal(&std::io::stdout()) && std::env::var_os("NO_COLOR").is_none() => {
            termcolor::ColorChoice::Auto
        }
        _ => termcolor::ColorChoice::Never,
    }
}

/// Where the tool and its rules are documented: the model's `information_uri`, else the
/// published crate's page (its README), for this version.
pub fn information_uri(report: &Report) -> String {
    report.information_uri.clone().unwrap_or_else(|| {
        format!(
            "https://docs.rs/crate/{}/{}",
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION")
        )
    })
}

/// Human output: each finding with its source snippet, related steps and what to do next.
pub fn human(report: &Report, out: &mut dyn Write, color: &str) -> std::io::Result<()> {
    let mut files = SimpleFiles::new();
    let mut ids = BTreeMap::new();
    for (path, text) in &report.sources {
        let id = files.add(printable(path), sanitised_source(text));
        ids.insert(path.clone(), id);
    }
    let mut buffer = if color_choice(color) == termcolor::ColorChoice::Never {
        termcolor::Buffer::no_color()
    } else {
        termcolor::Buffer::ansi()
    };
    let config = term::Config::default();
    for m in &report.model_errors {
        let d: Diagnostic<usize> = Diagnostic::error()
            .with_code(m.error.code)
            .with_message(printable(&m.error.message))
            .with_notes(vec![format!(
                "in {}{}",
                printable(&m.path),
                m.error.line.map(|l| format!(":{}", l + 1)).unwrap_or_default()
            )]);
        term::emit(&mut buffer, &config, &files, &d).map_err(std::io::Error::other)?;
    }
    // Errors first (then warnings, then notes), each group in path order: what fails the run
    // is what a reader sees first.
    let mut ordered: Vec<&ReportedFinding> = report.findings.iter().collect();
    ordered.sort_by_key(|f| std::cmp::Reverse(f.finding.severity));
    for f in ordered {
        let severity = match f.finding.severity {
            Severity::Error => CsSeverity::Error,
            Severity::Warning => CsSeverity::Warning,
            Severity::Info => CsSeverity::Note,
            Severity::Hint | Severity::Off => CsSeverity::Help,
        };
        let mut labels = Vec::new();
        if let Some(&id) = ids.get(&f.path) {
            labels.push(Label::primary(id, f.finding.span.range()));
        }
        let mut notes = Vec::new();
        for r in &f.related {
            match ids.get(&r.path) {
                Some(&id) => labels.push(Label::secondary(id, r.span.range()).with_message(printable(&r.message))),
                None => notes.push(format!("{}: {}", printable(&r.path), printable(&r.message))),
            }
        }
        for fix in &f.finding.fixes {
            notes.push(format!("fix: {} (a quick fix in the editor)", fix.title));
        }
        notes.push(format!("explain: invariant-lsp explain {}", f.finding.code));
        let d = Diagnostic::new(severity)
            .with_code(f.finding.code.clone())
            .with_message(printable(&f.finding.message))
            .with_labels(labels)
            .with_notes(notes);
        term::emit(&mut buffer, &config, &files, &d).map_err(std::io::Error::other)?;
    }
    out.write_all(buffer.as_slice())?;
    summary(report, out)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A severity as the summaries name it (SARIF's words: info and hint are notes).
pub fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        _ => "note",
    }
}

/// How many findings are errors, warnings and notes.
pub fn severity_totals(report: &Report) -> (usize, usize, usize) {
    let (mut errors, mut warnings, mut others) = (0, 0, 0);
    for f in &report.findings {
        match f.finding.severity {
            Severity::Error => errors += 1,
            Severity::Warning => warnings += 1,
            _ => others += 1,
        }
    }
    (errors, warnings, others)
}

/// Findings per (rule, severity): errors first, then by count (largest first), then by code.
pub fn per_rule(report: &Report) -> Vec<(&str, Severity, usize)> {
    let mut counts: BTreeMap<(&str, Severity), usize> = BTreeMap::new();
    for f in &report.findings {
        *counts.entry((&f.finding.code, f.finding.severity)).or_default() += 1;
    }
    let mut rows: Vec<(&str, Severity, usize)> = counts.into_iter().map(|((c, s), n)| (c, s, n)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(b.0)));
    rows
}

/// The end of human and short output: totals per rule, per severity, and what the baseline
/// and `--new-from-rev` left out.
pub fn summary(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let (errors, warnings, others) = severity_totals(report);
    let rows = per_rule(report);
    if !rows.is_empty() {
        writeln!(
            out,
            "findings per rule (errors fail the run; --fail-on sets which severities do):"
        )?;
        for (code, severity, n) in rows {
            writeln!(out, "{n:>6}  {:<7}  {code}", severity_label(severity))?;
        }
    }
    writeln!(
        out,
        "{}, {}, {} in {} checked{}",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(others, "note"),
        plural(report.files_checked, "file"),
        if report.max_file_size > 0 {
            format!(
                " (files over {} bytes are not checked and fail the run)",
                report.max_file_size
            )
        } else {
            String::new()
        }
    )?;
    if let Some(n) = &report.new_from_rev {
        writeln!(
            out,
            "{} also in {} ({}) not shown: only new findings are reported",
            plural(n.existing, "finding"),
            printable(&n.rev),
            &n.commit[..n.commit.len().min(12)]
        )?;
    }
    if let Some(b) = &report.baseline {
        writeln!(
            out,
            "{} in the baseline {} not shown",
            plural(b.suppressed_total(), "finding"),
            printable(&b.path)
        )?;
        if !b.unmatched.is_empty() {
            writeln!(
                out,
                "baseline entries that no longer match (fixed or changed; write the baseline again to drop them): {}",
                b.unmatched.len()
            )?;
            for e in &b.unmatched {
                writeln!(
                    out,
                    "  {} {} in {}: {}",
                    e.code,
                    printable(&e.path),
                    printable(if e.declaration.is_empty() { "-" } else { &e.declaration }),
                    printable(&e.message)
                )?;
            }
        }
    }
    if !report.model_errors.is_empty() {
        writeln!(
            out,
            "{} in the configuration or domain model",
            plural(report.model_errors.len(), "problem")
        )?;
    }
    Ok(())
}

/// A workspace-relative path relative to the repository root instead.
pub fn repo_relative(report: &Report, rel: &str) -> String {
    let abs = report.root.join(rel);
    crate::vfs::relative(&report.repo_root, &abs).unwrap_or_else(|| rel.to_string())
}
