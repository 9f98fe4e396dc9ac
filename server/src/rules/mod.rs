//! Rules: one module per family, each a registered value ([`registry::RULES`]) over facts and the
//! domain model. Each rule returns findings as values; `check_file` runs the rules a file
//! concerns, applies suppressions and severities.

pub mod kustomize_select;
pub mod registry;
pub mod suppression;

// The rule modules are not listed here: `server/build.rs` declares every file of this directory
// that has a line starting `pub static RULE:` (its `registry::Rule`), and `registry::RULES` lists
// them. Other files here (helpers) are declared above by hand.
include!(concat!(env!("OUT_DIR"), "/rule_modules.rs"));

use std::sync::Arc;

use crate::db::{go_facts, line_index, yaml_facts, FileNote, SourceFile, Workspace};
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
    /// Replace the last occurrence of a symbol in the finding's span (`agentv1.AgentMachine` →
    /// `agentv1.AgentMachineTemplate`).
    ReplaceSymbol { from: String, to: String },
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

/// What every Go rule sees: the file's facts, where it lives and the model (and the database,
/// for rules that read other files' derived data).
pub struct GoContext<'a> {
    pub db: &'a dyn salsa::Database,
    pub ws: Workspace,
    pub file: SourceFile,
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
        // A file that was not checked at all is `internal/not-checked` (`check` exits 2 over
        // it: a padded or binary file must not slip past the gate); one read lossily was
        // checked, and gets a note.
        let (code, message) = match note {
            FileNote::Binary => (
                NOT_CHECKED,
                "binary file (NUL byte in the first 8 KiB): not checked".to_string(),
            ),
            FileNote::TooLarge { bytes } => (
                NOT_CHECKED,
                format!(
                    "file is {bytes} bytes, over the {} byte limit (`max_file_size` in .invariant.yaml): not checked",
                    config.max_file_bytes()
                ),
            ),
            FileNote::Lossy { first_invalid } => (
                "internal/unreadable",
                format!("invalid UTF-8 at byte {first_invalid}: checked with invalid bytes replaced by U+FFFD"),
            ),
        };
        findings.push(Finding::new(code, Span::default(), message));
        if code == NOT_CHECKED {
            return finish(findings, model, config, path);
        }
    }
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        injected_fault("rules", path);
        let mut out = Vec::new();
        let component = model.component_for(path);
        let input = registry::FileInput {
            path,
            text: file.text(db),
            model,
            component,
        };
        let lang = file.lang(db);
        let rules = registry::concerned(lang, &input);
        // A file no rule concerns is not parsed, unless it carries a suppression (to report it).
        if rules.is_empty() && !input.text.contains("invariant:ignore") {
            return out;
        }
        match lang {
            Lang::Go => {
                let facts = go_facts(db, file);
                let cx = GoContext {
                    db,
                    ws,
                    file,
                    path,
                    facts,
                    model,
                    component,
                };
                for rule in &rules {
                    if let registry::Check::Go(check) = rule.check {
                        out.extend(check(&cx));
                    }
                }
                out.extend(timeout(db, file));
                // Line starts only when there is a finding to place (most files have none).
                out = suppression::apply(out, &facts.suppressions, |span| {
                    line_index(db, file).line_of(span.start as usize)
                });
            }
            Lang::Yaml => {
                let facts = yaml_facts(db, file);
                let cx = registry::YamlContext {
                    db,
                    ws,
                    file,
                    path,
                    facts,
                    model,
                };
                for rule in &rules {
                    if let registry::Check::Yaml(check) = rule.check {
                        out.extend(check(&cx));
                    }
                }
                out.extend(timeout(db, file));
                out = suppression::apply(out, &facts.suppressions, |span| {
                    line_index(db, file).line_of(span.start as usize)
                });
            }
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
            let what = crate::panic_message(payload.as_ref());
            tracing::error!(path = %path, panic = %what, "a rule panicked");
            findings.push(Finding::new(
                "internal/rule-panic",
                Span::default(),
                format!("a rule failed on this file: {what}"),
            ));
        }
    }
    finish(findings, model, config, path)
}

/// The code of a file that was not checked (too large, binary, over the analysis budget):
/// `check` fails over it unless the path is excluded by the configuration.
pub const NOT_CHECKED: &str = "internal/not-checked";

/// Severities from the model and configuration, codes turned off or excluded dropped, sorted.
fn finish(
    mut findings: Vec<Finding>,
    model: &CompiledModel,
    config: &crate::config::Config,
    path: &str,
) -> Vec<Finding> {
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

/// Fault injection for the isolation tests: with `INVARIANT_FAULT=<site>:<text>` in the
/// environment, `site` (`rules`: running the rules; `edit`: applying an editor change) panics
/// for every file whose path contains `<text>`. Compiled only with the `fault-injection`
/// feature (the test command's `--all-features`); a no-op in the product.
#[cfg(feature = "fault-injection")]
pub fn injected_fault(site: &str, path: &str) {
    static FAULT: std::sync::LazyLock<Option<(String, String)>> = std::sync::LazyLock::new(|| {
        let spec = std::env::var("INVARIANT_FAULT").ok()?;
        let (site, text) = spec.split_once(':')?;
        (!text.is_empty()).then(|| (site.to_string(), text.to_string()))
    });
    if let Some((fault_site, text)) = FAULT.as_ref() {
        if fault_site == site && path.contains(text.as_str()) {
            panic!("injected fault ({site}) for {path}");
        }
    }
}

/// Without the `fault-injection` feature there is no hook: nothing is read from the environment.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn injected_fault(_site: &str, _path: &str) {}

/// `internal/timeout` when the file's parse ran out of its time budget, `internal/unreadable`
/// when it nests too deep to parse (either way, nothing was checked).
fn timeout(db: &dyn salsa::Database, file: SourceFile) -> Option<Finding> {
    // The facts record the parse's outcome (the tree is not kept for files nobody edits).
    let parsed = match file.lang(db) {
        Lang::Go => go_facts(db, file).parse,
        Lang::Yaml => yaml_facts(db, file).parse,
    };
    if parsed.over_budget {
        return Some(Finding::new(
            NOT_CHECKED,
            Span::default(),
            format!(
                "more than {} syntax nodes, over the per-file analysis budget: not checked",
                crate::syntax::MAX_ANALYSED_NODES
            ),
        ));
    }
    if parsed.too_deep {
        return Some(Finding::new(
            "internal/unreadable",
            Span::default(),
            format!(
                "block nesting deeper than {} columns: not checked",
                crate::syntax::MAX_YAML_BLOCK_COLUMN
            ),
        ));
    }
    parsed.timed_out.then(|| {
        Finding::new(
            "internal/timeout",
            Span::default(),
            format!(
                "parsing took longer than the {} s budget: not checked",
                crate::syntax::PARSE_BUDGET.as_secs()
            ),
        )
    })
}

/// Column of a line's content after its indentation and any `- ` sequence indicators, and
/// that content; `None` for blank and comment lines.
fn line_content(line: &str) -> Option<(usize, &str)> {
    let mut rest = line.trim_start_matches(' ');
    while let Some(r) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("-\t")) {
        rest = r.trim_start_matches([' ', '\t']);
    }
    let rest = rest.trim_end_matches('\r');
    if rest.is_empty() || rest.starts_with('#') {
        return None;
    }
    Some((rest.as_ptr() as usize - line.as_ptr() as usize, rest))
}

/// Is `content` the block key `key` (`key:` then a space, a comment or the end)?
fn is_block_key(content: &str, key: &str) -> bool {
    content
        .strip_prefix(key)
        .map(|r| r.trim_start_matches(' '))
        .and_then(|r| r.strip_prefix(':'))
        .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t', '#']))
}

/// May the text hold a `status.conditions` list? A block `conditions:` key whose parent (the
/// nearest line above with content further left) is `status:`; flow or quoted forms count.
pub fn status_conditions(text: &str) -> bool {
    // Lines with content that may still be a later line's parent, as (column, content), by
    // increasing column: one pass (a scan back from every `conditions` line was quadratic).
    let mut open: Vec<(usize, &str)> = Vec::new();
    for line in text.split('\n') {
        let Some((column, content)) = line_content(line) else {
            continue;
        };
        while open.last().is_some_and(|&(c, _)| c >= column) {
            open.pop();
        }
        let parent = open.last().copied();
        open.push((column, content));
        if !line.contains("conditions") {
            continue;
        }
        if !is_block_key(content, "conditions") {
            // `conditions` as a key in flow or JSON style (`{conditions: [..]}`,
            // `"conditions": [..]`): leave it to the parser. Prose rarely has `conditions:`.
            let flow_key = line.match_indices("conditions").any(|(i, word)| {
                let rest = &line[i + word.len()..];
                let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
                rest.trim_start_matches(' ').starts_with(':')
            });
            if flow_key {
                return true;
            }
            continue;
        }
        if parent.is_some_and(|(_, p)| is_block_key(p, "status")) {
            return true;
        }
    }
    false
}

/// Does a document of the text have a root `kind` among `kinds`? A `kind:` key at the column
/// of its document's first key; JSON style and merge keys count as yes when a kind occurs.
pub fn root_kind_in(text: &str, kinds: &[&str]) -> bool {
    if !kinds.iter().any(|k| !k.is_empty() && text.contains(k)) {
        return false;
    }
    if text.contains("\"kind\"") || text.contains("'kind'") || text.contains("<<:") {
        return true;
    }
    let mut root_column: Option<usize> = None;
    for line in text.split('\n') {
        if line.starts_with("---") || line.starts_with("...") || line.starts_with('%') {
            root_column = None;
            if !line.contains("kind") {
                continue;
            }
            return true; // content after a document marker: unusual, leave it to the parser
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = line[indent..].trim_end_matches('\r');
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        let column = *root_column.get_or_insert(indent);
        if indent != column {
            continue;
        }
        let Some(value) = rest.strip_prefix("kind:") else {
            continue;
        };
        let value = value.split(" #").next().unwrap_or("").trim().trim_matches(['"', '\'']);
        if kinds.contains(&value) {
            return true;
        }
    }
    false
}

/// All findings of one file, suppressions applied, severities resolved.
#[salsa::tracked(returns(ref))]
pub fn file_findings(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Arc<Vec<Finding>> {
    Arc::new(check_file(db, ws, file))
}

/// Findings of a file through the database (memoized).
pub fn findings(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Arc<Vec<Finding>> {
    file_findings(db, ws, file).clone()
}

#[cfg(test)]
mod prefilter_tests {
    use super::{root_kind_in, status_conditions};

    #[test]
    fn status_conditions_needs_the_status_parent() {
        assert!(status_conditions("status:\n  # note\n  conditions:\n  - type: A\n"));
        assert!(status_conditions("items:\n- status:\n    conditions:\n    - type: A\n"));
        assert!(status_conditions("status: {conditions: [{type: a}]}\n"));
        // A CRD's schema: `conditions` under `properties`, prose mentioning status.
        let crd = "properties:\n  status:\n    properties:\n      conditions:\n        description: |-\n          the status conditions of the object\n          and more\n        type: array\n";
        assert!(!status_conditions(crd));
    }

    #[test]
    fn root_kind_only() {
        let kinds = ["NodePool", "HostedCluster"];
        assert!(root_kind_in("apiVersion: v1\nkind: NodePool\n", &kinds));
        assert!(root_kind_in("a: 1\n---\nkind: 'HostedCluster' # x\n", &kinds));
        assert!(root_kind_in("  apiVersion: v1\n  kind: NodePool\n", &kinds));
        assert!(root_kind_in("{\"kind\": \"NodePool\"}\n", &kinds));
        // A CRD names the kind below `names:`; a List holds it in items.
        assert!(!root_kind_in(
            "kind: CustomResourceDefinition\nspec:\n  names:\n    kind: NodePool\n",
            &kinds
        ));
        assert!(!root_kind_in("kind: List\nitems:\n- kind: NodePool\n", &kinds));
        assert!(!root_kind_in("kind: NodePoolList\n", &kinds));
    }
}
