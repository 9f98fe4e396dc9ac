//! Engine values → protocol values.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use serde_json::json;
use tower_lsp_server::ls_types::*;

use crate::ide::analysis::{Action, Analysis, FileId, Finding, Span};
use crate::model::{CompiledModel, ModelError, Severity};
use crate::text::{Encoding, LineIndex};

fn range(analysis: &Analysis, file: FileId, span: Span, encoding: Encoding) -> Range {
    protocol_range(analysis.range(file, span, encoding))
}

fn protocol_range(r: crate::text::Range) -> Range {
    Range {
        start: Position {
            line: r.start.line,
            character: r.start.character,
        },
        end: Position {
            line: r.end.line,
            character: r.end.character,
        },
    }
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
        Severity::Hint | Severity::Off => DiagnosticSeverity::HINT,
    }
}

/// The URI scheme under which a rule's explanation is served through the protocol: the
/// editor client resolves `invariant-rule:/<code>.md` with the `invariant.explain` command.
/// Nothing is written to disk for it (no shared temporary files).
pub const EXPLAIN_SCHEME: &str = "invariant-rule";

/// Where a rule's explanation can be opened: the model's `rule_docs_url` when it is an
/// `https:` or `file:` URL (a model is workspace data: a `command:` or `javascript:` link is
/// never passed through), else the explanation served by the server itself.
fn rule_doc_uri(model: &CompiledModel, code: &str) -> Option<Uri> {
    if let Some(url) = model.rule_docs_url(code) {
        if let Ok(uri) = Uri::from_str(&url) {
            let scheme = uri.scheme().as_str().to_ascii_lowercase();
            if scheme == "https" || scheme == "file" {
                return Some(uri);
            }
        }
        tracing::warn!(url = %url, "rule_docs_url is not an https: or file: URL; not linked");
    }
    Uri::from_str(&format!("{EXPLAIN_SCHEME}:/{code}.md")).ok()
}

/// Whether a quick fix may touch `rel` under `root`: a plain relative path (no `..`, not
/// absolute) whose nearest existing ancestor resolves inside the canonical root, and, when the
/// file exists, one that is a regular file resolving inside the root (a symlink leaving the
/// workspace is never written through). Every `WorkspaceEdit` the server sends passes here.
pub fn edit_confined(root: &Path, rel: &str) -> bool {
    let relative = Path::new(rel);
    if rel.is_empty()
        || relative.is_absolute()
        || relative
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return false;
    }
    let Ok(canonical_root) = root.canonicalize() else {
        return false;
    };
    let target = root.join(relative);
    if std::fs::symlink_metadata(&target).is_ok() {
        return match (target.canonicalize(), std::fs::metadata(&target)) {
            (Ok(real), Ok(meta)) => meta.is_file() && real.starts_with(&canonical_root),
            _ => false,
        };
    }
    let mut ancestor = target.parent();
    while let Some(dir) = ancestor {
        if std::fs::symlink_metadata(dir).is_ok() {
            return dir.canonicalize().is_ok_and(|real| real.starts_with(&canonical_root));
        }
        ancestor = dir.parent();
    }
    false
}

fn uri_for(root: &Path, rel: &str) -> Option<Uri> {
    Uri::from_file_path(root.join(rel))
}

pub fn diagnostics(
    analysis: &Analysis,
    root: &Path,
    file: FileId,
    findings: &[Finding],
    encoding: Encoding,
) -> Vec<Diagnostic> {
    let model = analysis.model();
    // Findings the team accepted in its baseline are shown, as hints.
    let baselined = analysis.baselined(file, findings);
    findings
        .iter()
        .zip(baselined)
        .map(|(f, baselined)| {
            let related: Vec<DiagnosticRelatedInformation> = f
                .related
                .iter()
                .filter_map(|r| {
                    let other = analysis.file(&r.path)?;
                    let location = Location {
                        uri: uri_for(root, &r.path)?,
                        range: range(analysis, other, r.span, encoding),
                    };
                    Some(DiagnosticRelatedInformation {
                        location,
                        message: r.message.clone(),
                    })
                })
                .collect();
            Diagnostic {
                range: range(analysis, file, f.span, encoding),
                severity: Some(if baselined {
                    DiagnosticSeverity::HINT
                } else {
                    severity(f.severity)
                }),
                code: Some(NumberOrString::String(f.code.clone())),
                code_description: rule_doc_uri(model, &f.code).map(|href| CodeDescription { href }),
                source: Some("invariant".into()),
                message: f.message.clone(),
                related_information: (!related.is_empty()).then_some(related),
                tags: None,
                data: Some(json!({"fixes": f.fixes.iter().map(|x| x.title.clone()).collect::<Vec<_>>()})),
            }
        })
        .collect()
}

pub fn model_error(error: &ModelError) -> Diagnostic {
    let at = Position {
        line: error.line.unwrap_or(0) as u32,
        character: error.column.unwrap_or(0) as u32,
    };
    Diagnostic {
        range: Range { start: at, end: at },
        severity: Some(DiagnosticSeverity::ERROR),
        code: Some(NumberOrString::String(error.code.to_string())),
        source: Some("invariant".into()),
        message: format!("{} (the last good model stays in force)", error.message),
        ..Default::default()
    }
}

/// A code action with one `WorkspaceEdit` across every file it touches; `None` when an edit
/// would leave the workspace root (see [`edit_confined`]) or needs a file created and the
/// client did not announce the `create` resource operation.
#[allow(clippy::too_many_arguments)]
pub fn code_action(
    analysis: &Analysis,
    root: &Path,
    action: Action,
    diagnostics: &[Diagnostic],
    versions: &HashMap<String, i32>,
    encoding: Encoding,
    can_create: bool,
) -> Option<CodeAction> {
    if let Some(outside) = action.files.iter().find(|f| !edit_confined(root, &f.path)) {
        tracing::warn!(path = %outside.path, action = %action.title, "edit outside the workspace root; action dropped");
        return None;
    }
    if !can_create && action.files.iter().any(|f| f.create) {
        return None;
    }
    let mut operations = Vec::new();
    for file_edit in &action.files {
        let Some(uri) = uri_for(root, &file_edit.path) else {
            continue;
        };
        let target = analysis.file(&file_edit.path).filter(|_| !file_edit.create);
        // A file the analysis does not hold (excluded, git-ignored, not indexed yet) is edited
        // at positions in its text on disk; one that cannot be read drops the action (issue
        // 24.12: positions from an empty text put everything before its `package` clause).
        let on_disk: Option<std::sync::Arc<str>> = match (target, file_edit.create) {
            (None, false) => match crate::vfs::read_confined(root, &root.join(&file_edit.path)) {
                Ok((text, None)) => Some(text),
                _ => {
                    tracing::warn!(path = %file_edit.path, action = %action.title, "target not readable; action dropped");
                    return None;
                }
            },
            _ => None,
        };
        let base: &str = on_disk.as_deref().unwrap_or("");
        let empty = LineIndex::new(base);
        if file_edit.create {
            operations.push(DocumentChangeOperation::Op(ResourceOp::Create(CreateFile {
                uri: uri.clone(),
                options: Some(CreateFileOptions {
                    overwrite: Some(false),
                    ignore_if_exists: Some(true),
                }),
                annotation_id: None,
            })));
        }
        let edits = file_edit
            .edits
            .iter()
            .map(|e| {
                OneOf::Left(TextEdit {
                    range: match target {
                        Some(f) => range(analysis, f, e.span, encoding),
                        None => protocol_range(empty.range(base, e.span.start as usize, e.span.end as usize, encoding)),
                    },
                    new_text: e.new_text.clone(),
                })
            })
            .collect();
        operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier {
                uri,
                version: versions.get(&file_edit.path).copied(),
            },
            edits,
        }));
    }
    let related: Vec<Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.code == Some(NumberOrString::String(action.code.clone())))
        .cloned()
        .collect();
    Some(CodeAction {
        title: action.title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: (!related.is_empty()).then_some(related),
        edit: Some(WorkspaceEdit {
            document_changes: Some(DocumentChanges::Operations(operations)),
            ..Default::default()
        }),
        is_preferred: None,
        ..Default::default()
    })
}
