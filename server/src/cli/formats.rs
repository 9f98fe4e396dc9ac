//! The CI formats beside human, JSON and SARIF (output.rs): GitHub workflow commands,
//! reviewdog's rdjson, Checkstyle XML and `short` (one line per finding); `--output
//! FORMAT=FILE` parsing; and escaping of control characters from file names and source text.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{json, Value};

pub use super::escape::{is_unsafe_char, printable, sanitised_source};
pub use super::output::repo_relative;
use super::output::{self, Report, ReportedFinding};
use super::Format;
use crate::model::Severity;

/// Writes `report` in `format`.
pub fn write(report: &Report, format: Format, out: &mut dyn Write, color: &str) -> std::io::Result<()> {
    match format {
        Format::Human => output::human(report, out, color),
        Format::Json => output::json(report, out),
        Format::Sarif => output::sarif(report, out),
        Format::Github => {
            github(report, out)?;
            output::human(report, out, "never")
        }
        Format::Rdjson => rdjson(report, out),
        Format::Checkstyle => checkstyle(report, out),
        Format::Short => short(report, out),
    }
}

/// `--output FORMAT=FILE` values, checked before any work is done.
pub fn parse_outputs(specs: &[String]) -> Result<Vec<(Format, String)>, String> {
    use clap::ValueEnum;
    specs
        .iter()
        .map(|spec| {
            let (format, file) = spec
                .split_once('=')
                .filter(|(f, p)| !f.is_empty() && !p.is_empty())
                .ok_or_else(|| format!("--output `{spec}`: expected FORMAT=FILE, e.g. sarif=results.sarif"))?;
            let format = Format::from_str(format, true).map_err(|_| {
                format!("--output `{spec}`: unknown format `{format}` (human, json, sarif, github, rdjson, checkstyle, short)")
            })?;
            Ok((format, file.to_string()))
        })
        .collect()
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
        Severity::Hint | Severity::Off => "hint",
    }
}

/// 1-based line and UTF-8 byte column of `offset` in the finding's file, when its text is known.
fn byte_position(report: &Report, path: &str, offset: usize) -> Option<(usize, usize)> {
    let text = report.sources.get(path)?;
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = offset - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    Some((line, column))
}

/// `short`: `path:line:column: severity[code]: message`, then the per-rule totals.
pub fn short(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    for m in &report.model_errors {
        writeln!(
            out,
            "{}:{}:{}: error[{}]: {}",
            printable(&m.path),
            m.error.line.unwrap_or(0) + 1,
            m.error.column.unwrap_or(0) + 1,
            m.error.code,
            printable(&m.error.message)
        )?;
    }
    for f in &report.findings {
        writeln!(
            out,
            "{}:{}:{}: {}[{}]: {}",
            printable(&f.path),
            f.range.start.line + 1,
            f.range.start.character + 1,
            severity_word(f.finding.severity),
            f.finding.code,
            printable(&f.finding.message)
        )?;
    }
    output::summary(report, out)
}

/// GitHub workflow commands: `::error file=..,line=..::message`. Data escapes `%`, CR and LF;
/// properties escape `:` and `,` too (GitHub's toolkit does the same).
pub fn github(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    fn data(s: &str) -> String {
        s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
    }
    fn property(s: &str) -> String {
        data(s).replace(':', "%3A").replace(',', "%2C")
    }
    let repo_path = |rel: &str| repo_relative(report, rel);
    for m in &report.model_errors {
        writeln!(
            out,
            "::error file={},line={},title={}::{}",
            property(&printable(&m.path)),
            m.error.line.unwrap_or(0) + 1,
            property(m.error.code),
            data(&printable(&m.error.message))
        )?;
    }
    // GitHub shows at most 10 annotations of each type per step: more are dropped, silently and
    // in no useful order. Errors come first and each type stops at the cap; the step summary and
    // the log below have every finding.
    let mut ordered: Vec<&ReportedFinding> = report.findings.iter().collect();
    ordered.sort_by_key(|f| std::cmp::Reverse(f.finding.severity));
    let mut shown: BTreeMap<&str, usize> = BTreeMap::new();
    let mut left_out = 0;
    for f in ordered {
        let command = match f.finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            _ => "notice",
        };
        let count = shown.entry(command).or_default();
        if *count == ANNOTATIONS_PER_TYPE {
            left_out += 1;
            continue;
        }
        *count += 1;
        let title = report
            .rules
            .iter()
            .find(|r| r.code == f.finding.code)
            .map(|r| format!("{} ({})", f.finding.code, r.title))
            .unwrap_or_else(|| f.finding.code.clone());
        writeln!(
            out,
            "::{command} file={},line={},endLine={},col={},endColumn={},title={}::{}",
            property(&printable(&repo_path(&f.rel))),
            f.range.start.line + 1,
            f.range.end.line + 1,
            f.range.start.character + 1,
            f.range.end.character + 1,
            property(&printable(&title)),
            data(&printable(&f.finding.message))
        )?;
    }
    if left_out > 0 {
        writeln!(
            out,
            "{left_out} more findings are not annotated (GitHub shows {ANNOTATIONS_PER_TYPE} per type and step): the log below and the step summary have them all"
        )?;
    }
    Ok(())
}

/// With `--format github` in a GitHub Actions step: appends `step_summary` to the file
/// `$GITHUB_STEP_SUMMARY` names (nothing when it is unset or empty).
pub fn append_step_summary(report: &Report) -> Result<(), String> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let path = std::path::PathBuf::from(path);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("GITHUB_STEP_SUMMARY {}: {e}", path.display()))?;
    file.write_all(step_summary(report).as_bytes())
        .map_err(|e| format!("GITHUB_STEP_SUMMARY {}: {e}", path.display()))
}

/// Annotations of one type (error, warning, notice) GitHub shows per step.
pub const ANNOTATIONS_PER_TYPE: usize = 10;
/// Findings listed one by one in the step summary (the totals count them all).
const SUMMARY_FINDINGS: usize = 50;

/// Markdown for `$GITHUB_STEP_SUMMARY`: totals, the findings per rule with their severity, and
/// the first findings (errors first) with their locations.
pub fn step_summary(report: &Report) -> String {
    fn cell(s: &str) -> String {
        printable(s).replace('|', "\\|").replace('\n', " ")
    }
    let (errors, warnings, notes) = output::severity_totals(report);
    let mut md = String::from("### invariant-lsp check\n\n");
    md.push_str(&format!(
        "{errors} errors, {warnings} warnings, {notes} notes in {} files checked",
        report.files_checked
    ));
    if !report.model_errors.is_empty() {
        md.push_str(&format!(
            "; {} problems in the configuration or domain model",
            report.model_errors.len()
        ));
    }
    md.push_str("\n\n");
    let rows = output::per_rule(report);
    if !rows.is_empty() {
        md.push_str("| Rule | Severity | Findings |\n|---|---|---:|\n");
        for (code, severity, n) in rows {
            md.push_str(&format!(
                "| `{}` | {} | {n} |\n",
                cell(code),
                output::severity_label(severity)
            ));
        }
        md.push('\n');
        let mut ordered: Vec<&ReportedFinding> = report.findings.iter().collect();
        ordered.sort_by_key(|f| std::cmp::Reverse(f.finding.severity));
        md.push_str("| Severity | Location | Rule | Message |\n|---|---|---|---|\n");
        for f in ordered.iter().take(SUMMARY_FINDINGS) {
            md.push_str(&format!(
                "| {} | `{}:{}` | `{}` | {} |\n",
                output::severity_label(f.finding.severity),
                cell(&repo_relative(report, &f.rel)),
                f.range.start.line + 1,
                cell(&f.finding.code),
                cell(&f.finding.message)
            ));
        }
        if ordered.len() > SUMMARY_FINDINGS {
            md.push_str(&format!(
                "\n{} more findings: see the step's log or the SARIF report.\n",
                ordered.len() - SUMMARY_FINDINGS
            ));
        }
    }
    md
}

/// reviewdog's Diagnostic Format (one `DiagnosticResult` object); columns are UTF-8 bytes.
pub fn rdjson(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let location = |f: &ReportedFinding| {
        let start = byte_position(report, &f.path, f.finding.span.start as usize);
        let end = byte_position(report, &f.path, f.finding.span.end as usize);
        let mut range = json!({});
        if let Some((line, column)) = start {
            range["start"] = json!({"line": line, "column": column});
        } else {
            range["start"] = json!({"line": f.range.start.line + 1});
        }
        if let Some((line, column)) = end {
            range["end"] = json!({"line": line, "column": column});
        }
        json!({"path": f.path, "range": range})
    };
    let mut diagnostics: Vec<Value> = report
        .model_errors
        .iter()
        .map(|m| {
            json!({"message": m.error.message, "severity": "ERROR", "code": {"value": m.error.code},
                   "location": {"path": m.path, "range": {"start": {"line": m.error.line.unwrap_or(0) + 1}}}})
        })
        .collect();
    for f in &report.findings {
        let mut d = json!({
            "message": f.finding.message,
            "location": location(f),
            "severity": match f.finding.severity {
                Severity::Error => "ERROR",
                Severity::Warning => "WARNING",
                _ => "INFO",
            },
            "code": {"value": f.finding.code},
            "original_output": f.fingerprint,
        });
        if let Some(url) = report.rule_docs_url(&f.finding.code) {
            d["code"]["url"] = json!(url);
        }
        diagnostics.push(d);
    }
    let source = json!({"name": "invariant-lsp", "url": output::information_uri(report)});
    serde_json::to_writer(&mut *out, &json!({"source": source, "diagnostics": diagnostics}))?;
    writeln!(out)
}

/// XML 1.0 text: markup escaped, characters XML forbids dropped.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c if is_unsafe_char(c) => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

/// Checkstyle XML (version 4.3), one `<file>` per path.
pub fn checkstyle(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut by_file: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for m in &report.model_errors {
        by_file.entry(&m.path).or_default().push(format!(
            r#"<error line="{}" column="{}" severity="error" message="{}" source="{}"/>"#,
            m.error.line.unwrap_or(0) + 1,
            m.error.column.unwrap_or(0) + 1,
            xml(&m.error.message),
            xml(m.error.code)
        ));
    }
    for f in &report.findings {
        by_file.entry(&f.path).or_default().push(format!(
            r#"<error line="{}" column="{}" severity="{}" message="{}" source="{}"/>"#,
            f.range.start.line + 1,
            f.range.start.character + 1,
            match f.finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                _ => "info",
            },
            xml(&f.finding.message),
            xml(&f.finding.code)
        ));
    }
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<checkstyle version="4.3">"#)?;
    for (file, errors) in by_file {
        writeln!(out, r#"  <file name="{}">"#, xml(file))?;
        for e in errors {
            writeln!(out, "    {e}")?;
        }
        writeln!(out, "  </file>")?;
    }
    writeln!(out, "</checkstyle>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_pass_raw() {
        let name = "evil\u{1b}[31mred\u{7}\u{202e}gnp.go\r";
        let shown = printable(name);
        assert!(!shown.chars().any(is_unsafe_char), "{shown:?}");
        assert!(shown.contains("\\u{1b}"), "{shown}");
        let source = "a\u{1b}b\u{202e}c\n";
        let clean = sanitised_source(source);
        assert_eq!(clean.len(), source.len(), "byte offsets are kept");
        assert!(!clean.chars().any(is_unsafe_char));
        assert_eq!(xml("a<\u{1b}>&"), "a&lt;\\u{1b}&gt;&amp;");
    }

    #[test]
    fn outputs_are_format_equals_file() {
        let parsed = parse_outputs(&["sarif=a.sarif".into(), "json=b=c.json".into()]).unwrap();
        assert_eq!(parsed[0], (Format::Sarif, "a.sarif".to_string()));
        assert_eq!(parsed[1], (Format::Json, "b=c.json".to_string()));
        assert!(parse_outputs(&["a.sarif".into()]).is_err());
        assert!(parse_outputs(&["yaml=a".into()]).is_err());
        assert!(parse_outputs(&["sarif=".into()]).is_err());
    }
}
