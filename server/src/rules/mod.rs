//! Rules: pure functions over facts and the domain model, one module per family. Each rule
//! returns findings as values; `check_file` runs them, applies suppressions and severities.

pub mod argocd;
pub mod capi_boundary;
pub mod condition_naming;
pub mod condition_yaml;
pub mod kustomize;
pub mod lifecycle;
pub mod purity;
pub mod suppression;

use crate::db::{file_findings, file_index, go_facts, line_index, yaml_facts, FileNote, SourceFile, Workspace};
use crate::facts::go::GoFacts;
use crate::facts::Span;
use crate::model::{CompiledModel, Component, Severity};
use crate::syntax::Lang;

/// A place in another file (or this one) that explains a finding: a step of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Related {
    pub path: String,
    pub span: Span,
    pub message: String,
}

/// What a quick fix will do; the LSP turns it into edits, `check` lists its title.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FixKind {
    /// Replace a provider Machine read with an annotation on the generic Machine.
    AnnotationBridge { provider: String, kind: String },
    /// Replace a string literal reason with a constant holding the CamelCase value.
    ReasonConstant { value: String },
    /// Rename a deprecated key to its replacement.
    ReplaceKey { from: String, to: String },
    /// Insert an `invariant:ignore` comment above the finding.
    Suppress,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fix {
    pub title: String,
    pub kind: FixKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Finding {
    pub code: String,
    pub severity: Severity,
    pub span: Span,
    pub message: String,
    pub related: Vec<Related>,
    pub fixes: Vec<Fix>,
}

impl Finding {
    pub fn new(code: &str, span: Span, message: impl Into<String>) -> Self {
        Finding {
            code: code.to_string(),
            severity: Severity::Error,
            span,
            message: message.into(),
            related: vec![],
            fixes: vec![],
        }
    }

    pub fn family(&self) -> &str {
        self.code.split('/').next().unwrap_or(&self.code)
    }
}

/// What every Go rule sees: the file's facts, where it lives and the model.
pub struct GoContext<'a> {
    pub path: &'a str,
    pub facts: &'a GoFacts,
    pub model: &'a CompiledModel,
    pub component: Option<&'a Component>,
}

/// The built-in default severity of a code when the model has no entry for it.
fn builtin_severity(code: &str) -> Severity {
    if code.starts_with("suppression/") || code.starts_with("internal/") {
        Severity::Warning
    } else {
        Severity::Error
    }
}

/// Runs every rule over one file. Called through the `file_findings` tracked query.
pub fn check_file(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Vec<Finding> {
    let model = ws.model(db);
    let config = ws.config(db);
    let path = file.path(db);
    let mut findings = Vec::new();
    if let Some(note) = file.note(db) {
        let message = match note {
            FileNote::Binary => "binary file (NUL byte in the first 8 KiB): not checked".to_string(),
            FileNote::TooLarge { bytes } => {
                format!(
                    "file is {bytes} bytes, over the {} byte limit: not checked",
                    crate::text::MAX_FILE_BYTES
                )
            }
            FileNote::Lossy { first_invalid } => {
                format!("invalid UTF-8 at byte {first_invalid}: checked with invalid bytes replaced by U+FFFD")
            }
        };
        let mut finding = Finding::new("internal/unreadable", Span::default(), message);
        finding.severity = Severity::Info;
        findings.push(finding);
    }
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut out = Vec::new();
        if file.lang(db) == Lang::Go {
            let facts = go_facts(db, file);
            let component = model.component_for(path);
            let cx = GoContext {
                path,
                facts,
                model,
                component,
            };
            out.extend(capi_boundary::check(&cx));
            out.extend(condition_naming::check_go(&cx));
            out.extend(purity::check(db, ws, file, &cx));
            let lines = line_index(db, file);
            out = suppression::apply(out, &facts.suppressions, |span| lines.line_of(span.start as usize));
        }
        if file.lang(db) == Lang::Yaml {
            out.extend(check_yaml(db, ws, file));
        }
        out
    }));
    match run {
        Ok(out) => findings.extend(out),
        Err(payload) => {
            // A rule panicked: keep going with the other files, and say so loudly.
            if payload.is::<salsa::Cancelled>() {
                std::panic::resume_unwind(payload);
            }
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(path = %path, panic = %what, "a rule panicked");
            findings.push(Finding::new(
                "internal/rule-panic",
                Span::default(),
                format!("a rule failed on this file: {what}"),
            ));
        }
    }
    for finding in &mut findings {
        let default = model
            .rule(&finding.code)
            .map(|r| r.severity)
            .unwrap_or_else(|| builtin_severity(&finding.code));
        finding.severity = config.severity_for(&finding.code, default);
    }
    findings.retain(|f| f.severity != Severity::Off && !model.rule_excluded(&f.code, path));
    findings.sort_by(|a, b| (a.span.start, &a.code, &a.message).cmp(&(b.span.start, &b.code, &b.message)));
    findings.dedup();
    findings
}

/// Does any YAML rule concern this text? A cheap scan, so that the bulk of a tree's YAML
/// (CRDs, RBAC, test data) is never parsed.
pub fn yaml_concerns(model: &CompiledModel, text: &str) -> bool {
    if text.contains("invariant:ignore") || (text.contains("conditions") && text.contains("status")) {
        return true;
    }
    let kinds = model
        .model
        .lifecycle
        .manifests
        .iter()
        .map(|m| m.kind.as_str())
        .chain(model.model.kustomize.argocd.path_fields.keys().map(String::as_str));
    text.contains("kind:") && kinds.into_iter().any(|k| !k.is_empty() && text.contains(k))
}

/// The YAML rule families over one file's facts.
fn check_yaml(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Vec<Finding> {
    let model = ws.model(db);
    let path = file.path(db);
    let is_kustomization = kustomize::is_kustomization_path(model, path);
    if !is_kustomization && !yaml_concerns(model, file.text(db)) {
        return Vec::new();
    }
    let facts = yaml_facts(db, file);
    let mut out = Vec::new();
    if is_kustomization {
        out.extend(kustomize::check(db, ws, file));
    }
    out.extend(lifecycle::check(db, ws, file, facts));
    if !model.model.kustomize.argocd.path_fields.is_empty() {
        out.extend(argocd::check(file_index(db, ws), ws.root(db), model, facts));
    }
    out.extend(condition_yaml::check(model, facts));
    let lines = line_index(db, file);
    suppression::apply(out, &facts.suppressions, |span| lines.line_of(span.start as usize))
}

/// Findings of a file through the database (memoized).
pub fn findings(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> std::sync::Arc<Vec<Finding>> {
    file_findings(db, ws, file).clone()
}
