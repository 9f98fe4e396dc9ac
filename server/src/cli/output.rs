//! Report formats: human (codespan-reporting snippets), JSON (DESIGN §3.1) and SARIF 2.1.0.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use codespan_reporting::diagnostic::{Diagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor};
use serde_json::{json, Value};

use crate::facts::Span;
use crate::model::{ModelError, RuleDoc, Severity};
use crate::rules::Finding;
use crate::text::Range;

#[derive(Debug, Clone)]
pub struct ReportedRelated {
    pub path: String,
    pub range: Range,
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct ReportedFinding {
    /// Relative to the current directory.
    pub path: String,
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
        })
    }));
    json!({"version": 1, "files_checked": report.files_checked, "diagnostics": diagnostics})
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

pub fn sarif_value(report: &Report) -> Value {
    let rules: Vec<Value> = report
        .rules
        .iter()
        .map(|r| {
            json!({"id": r.code, "name": r.code.replace(['/', '-'], "_"),
                   "shortDescription": {"text": r.title}, "fullDescription": {"text": r.explanation},
                   "help": {"text": r.explanation, "markdown": r.explanation},
                   "defaultConfiguration": {"level": sarif_level(r.severity)}})
        })
        .collect();
    let rule_index = |code: &str| report.rules.iter().position(|r| r.code == code);
    let location = |path: &str, range: &Range| json!({"physicalLocation": {"artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"}, "region": sarif_region(range)}});
    let mut results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.finding.code,
                "level": sarif_level(f.finding.severity),
                "message": {"text": f.finding.message},
                "locations": [location(&f.path, &f.range)],
            });
            if let Some(i) = rule_index(&f.finding.code) {
                result["ruleIndex"] = json!(i);
            }
            if !f.related.is_empty() {
                result["relatedLocations"] = Value::Array(
                    f.related
                        .iter()
                        .enumerate()
                        .map(|(i, r)| {
                            let mut l = location(&r.path, &r.range);
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
    results.extend(report.model_errors.iter().map(|m| {
        json!({"ruleId": m.error.code, "level": "error", "message": {"text": m.error.message},
               "locations": [location(&m.path, &model_error_range(&m.error))]})
    }));
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "invariant-lsp", "version": env!("CARGO_PKG_VERSION"),
                                 "informationUri": "https://github.com/openshift/hypershift", "rules": rules}},
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

/// Human output: each finding with its source snippet, related steps and what to do next.
pub fn human(report: &Report, out: &mut dyn Write, color: &str) -> std::io::Result<()> {
    let mut files = SimpleFiles::new();
    let mut ids = BTreeMap::new();
    for (path, text) in &report.sources {
        ids.insert(path.clone(), files.add(path.clone(), text.clone()));
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
            .with_message(m.error.message.clone())
            .with_notes(vec![format!(
                "in {}{}",
                m.path,
                m.error.line.map(|l| format!(":{}", l + 1)).unwrap_or_default()
            )]);
        term::emit(&mut buffer, &config, &files, &d).map_err(std::io::Error::other)?;
    }
    let (mut errors, mut warnings, mut others) = (0, 0, 0);
    for f in &report.findings {
        let severity = match f.finding.severity {
            Severity::Error => {
                errors += 1;
                CsSeverity::Error
            }
            Severity::Warning => {
                warnings += 1;
                CsSeverity::Warning
            }
            Severity::Info => {
                others += 1;
                CsSeverity::Note
            }
            Severity::Hint | Severity::Off => {
                others += 1;
                CsSeverity::Help
            }
        };
        let mut labels = Vec::new();
        if let Some(&id) = ids.get(&f.path) {
            labels.push(Label::primary(id, f.finding.span.range()));
        }
        let mut notes = Vec::new();
        for r in &f.related {
            match ids.get(&r.path) {
                Some(&id) => labels.push(Label::secondary(id, r.span.range()).with_message(r.message.clone())),
                None => notes.push(format!("{}: {}", r.path, r.message)),
            }
        }
        for fix in &f.finding.fixes {
            notes.push(format!("fix: {} (a quick fix in the editor)", fix.title));
        }
        notes.push(format!("explain: invariant-lsp explain {}", f.finding.code));
        let d = Diagnostic::new(severity)
            .with_code(f.finding.code.clone())
            .with_message(f.finding.message.clone())
            .with_labels(labels)
            .with_notes(notes);
        term::emit(&mut buffer, &config, &files, &d).map_err(std::io::Error::other)?;
    }
    out.write_all(buffer.as_slice())?;
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    writeln!(
        out,
        "{}, {}, {} in {} checked",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(others, "note"),
        plural(report.files_checked, "file")
    )?;
    if !report.model_errors.is_empty() {
        writeln!(
            out,
            "{} in the configuration or domain model",
            plural(report.model_errors.len(), "problem")
        )?;
    }
    Ok(())
}
