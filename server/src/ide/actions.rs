//! Code actions as plain edits: each fix a finding carries becomes byte-range edits on one or
//! more workspace files. The LSP converts them to a `WorkspaceEdit`; tests apply them directly.

use std::collections::HashSet;

use tree_sitter::Node;

use crate::db::{go_facts, parse_file, SourceFile, Workspace};
use crate::facts::go::{ImportKind, ReadUse};
use crate::facts::Span;
use crate::model::render;
use crate::rules::capi_boundary::bridge_site;
use crate::rules::condition_naming::{lower_first, reason_constant_plan, ReasonConstantPlan};
use crate::rules::{Finding, FixKind};
use crate::syntax::{descendants, node_text, Lang};

/// One replacement: `span` (bytes in the file's current text) becomes `new_text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub span: Span,
    pub new_text: String,
}

/// The edits to one file; `create` when the file does not exist yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    pub path: String,
    pub create: bool,
    pub edits: Vec<TextEdit>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub title: String,
    pub code: String,
    /// The span of the finding the action fixes (empty for a file-wide action such as fix-all):
    /// the LSP relates the action to that diagnostic only.
    pub span: Span,
    pub files: Vec<FileEdit>,
}

/// Applies non-overlapping edits to a text (used by tests and by `check --fix` style callers).
pub fn apply(text: &str, edits: &[TextEdit]) -> String {
    let mut edits: Vec<&TextEdit> = edits.iter().collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.span.start));
    let mut out = text.to_string();
    for e in edits {
        let (start, end) = (e.span.start as usize, e.span.end as usize);
        if start <= end && end <= out.len() && out.is_char_boundary(start) && out.is_char_boundary(end) {
            out.replace_range(start..end, &e.new_text);
        }
    }
    out
}

/// The actions for the findings of `file` that overlap `range` (bytes).
pub fn actions(
    db: &dyn salsa::Database,
    ws: Workspace,
    file: SourceFile,
    findings: &[Finding],
    range: Span,
) -> Vec<Action> {
    let mut out = Vec::new();
    for finding in findings {
        let overlaps = finding.span.start <= range.end && range.start <= finding.span.end;
        if !overlaps {
            continue;
        }
        for fix in &finding.fixes {
            let mut title = fix.title.clone();
            let edits = match &fix.kind {
                FixKind::AnnotationBridge { provider, kind } => {
                    annotation_bridge(db, ws, file, finding, provider, kind)
                }
                FixKind::ReasonConstant { value } => {
                    reason_constant(db, ws, file, finding, value).map(|(name, files)| {
                        // The title names the constant actually used (an existing one may be reused).
                        if let Some(template) = &ws.model(db).model.code_actions.reason_constant_title {
                            title = render(template, &[("Name", &name)]);
                        }
                        files
                    })
                }
                FixKind::ReplaceKey { from, to } => replace_key(db, file, finding, from, to),
                FixKind::ReplaceSymbol { from, to } => replace_symbol(db, file, finding, from, to),
                FixKind::Suppress => None,
            };
            if let Some(files) = edits {
                out.push(Action {
                    title,
                    code: finding.code.clone(),
                    span: finding.span,
                    files,
                });
            }
        }
        // Offered when the model titles it.
        let suppress_title = ws.model(db).model.code_actions.suppress_title.clone();
        if let Some((title, files)) = suppress_title.zip(suppress(db, ws, file, finding)) {
            out.push(Action {
                title: format!("{title}: {}", finding.code),
                code: finding.code.clone(),
                span: finding.span,
                files,
            });
        }
    }
    out
}

fn line_bounds(text: &str, offset: usize) -> (usize, usize) {
    let start = text[..offset.min(text.len())].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = text[offset.min(text.len())..]
        .find('\n')
        .map(|i| offset + i + 1)
        .unwrap_or(text.len());
    (start, end)
}

/// Inserts `// invariant:ignore <code> -- <placeholder>` on the line above the finding.
fn suppress(db: &dyn salsa::Database, ws: Workspace, file: SourceFile, finding: &Finding) -> Option<Vec<FileEdit>> {
    if finding.code.starts_with("suppression/") || finding.code.starts_with("internal/") {
        return None;
    }
    let text = file.text(db);
    let (line_start, _) = line_bounds(text, finding.span.start as usize);
    let indent: String = text[line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let marker = match file.lang(db) {
        Lang::Go => "//",
        Lang::Yaml => "#",
    };
    let placeholder = ws
        .model(db)
        .model
        .code_actions
        .suppress_reason_placeholder
        .clone()
        .unwrap_or_else(|| "<reason>".into());
    let new_text = format!("{indent}{marker} invariant:ignore {} -- {placeholder}\n", finding.code);
    let at = Span::new(line_start, line_start);
    let mut edits = vec![TextEdit { span: at, new_text }];
    // A comment line ends gofmt's alignment section: the lines above it are aligned anew.
    if file.lang(db) == Lang::Go {
        if let Some(tree) = parse_file(db, file).tree.as_ref() {
            edits.extend(realign_split_keyed_section(text, tree, line_start));
        }
    }
    Some(vec![FileEdit {
        path: file.path(db).clone(),
        create: false,
        edits,
    }])
}

/// One element of a composite literal as gofmt lays it out: its lines, and for a single-line
/// `key: value` its key column cell (`key:`) and the padding after it.
struct LiteralElement<'t> {
    node: Node<'t>,
    start_line: usize,
    end_line: usize,
    /// `key:`'s width and the padding (bytes) between the colon and the value, for a keyed
    /// element on one line.
    key_cell: Option<(usize, Span)>,
    /// The value cell (`value,`) width and the padding before a trailing comment on its line.
    comment_cell: Option<(usize, Span)>,
}

/// The edits that re-align a keyed composite literal's alignment section when a comment line is
/// inserted at `insert_at` (a line start) above one of its elements, as gofmt does: a line that
/// holds only a comment ends a tabwriter block, so the elements above and below it become two
/// sections, each aligned on its own widest key (and trailing comments on their own widest
/// value). Sections follow go/printer's `exprList`: consecutive single-line `key: value`
/// elements, broken by a blank or comment line, a multi-line element, two elements on one
/// line, or a key size far from the section's geometric mean (keys over 40 characters). No
/// edits when the line does not start such an element or its layout is not one gofmt made.
fn realign_split_keyed_section(text: &str, tree: &tree_sitter::Tree, insert_at: usize) -> Vec<TextEdit> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count();
    let first = insert_at + text[insert_at..].len() - text[insert_at..].trim_start_matches([' ', '\t']).len();
    let Some(mut node) = tree.root_node().descendant_for_byte_range(first, first) else {
        return Vec::new();
    };
    while node.kind() != "keyed_element" || node.start_byte() != first {
        match node.parent() {
            Some(p) if p.start_byte() == first => node = p,
            _ => return Vec::new(),
        }
    }
    let Some(literal) = node.parent().filter(|p| p.kind() == "literal_value") else {
        return Vec::new();
    };
    let mut cursor = literal.walk();
    let children: Vec<Node<'_>> = literal.named_children(&mut cursor).collect();
    let comments: Vec<Node<'_>> = children.iter().copied().filter(|n| n.kind() == "comment").collect();
    let elements: Vec<LiteralElement<'_>> = children
        .iter()
        .copied()
        .filter(|n| matches!(n.kind(), "keyed_element" | "literal_element"))
        .map(|n| {
            let (start_line, end_line) = (line_of(n.start_byte()), line_of(n.end_byte()));
            let single = start_line == end_line;
            let key_cell = (single && n.kind() == "keyed_element")
                .then(|| {
                    let key = n.child_by_field_name("key")?;
                    let value = n.child_by_field_name("value")?;
                    let colon = (0..n.child_count())
                        .filter_map(|i| n.child(i))
                        .find(|c| c.kind() == ":")?;
                    let padding = &text[colon.end_byte()..value.start_byte()];
                    if padding.is_empty() || !padding.bytes().all(|b| b == b' ') {
                        return None;
                    }
                    let width = node_text(key, text).chars().count() + 1;
                    Some((width, Span::new(colon.end_byte(), value.start_byte())))
                })
                .flatten();
            // `value, // comment`: the value cell runs to the comma after the element.
            let comment_cell = key_cell.and_then(|_| {
                let value = n.child_by_field_name("value")?;
                let comment = comments
                    .iter()
                    .find(|c| c.start_byte() >= n.end_byte() && line_of(c.start_byte()) == end_line)?;
                let between = &text[n.end_byte()..comment.start_byte()];
                let comma = between.find(',')?;
                let padding = &between[comma + 1..];
                if between[..comma].trim().is_empty() && !padding.is_empty() && padding.bytes().all(|b| b == b' ') {
                    let width = text[value.start_byte()..n.end_byte() + comma + 1].chars().count();
                    Some((width, Span::new(n.end_byte() + comma + 1, comment.start_byte())))
                } else {
                    None
                }
            });
            LiteralElement {
                node: n,
                start_line,
                end_line,
                key_cell,
                comment_cell,
            }
        })
        .collect();
    let Some(k) = elements.iter().position(|e| e.node == node) else {
        return Vec::new();
    };
    if elements.len() < 2 || elements[k].key_cell.is_none() {
        return Vec::new();
    }
    // Where go/printer starts a new section (a formfeed) or tabwriter ends a block.
    let open_line = line_of(literal.start_byte());
    let mut breaks = vec![true; elements.len()];
    let (mut lnsum, mut count) = (0.0f64, 0usize);
    let mut prev_size = 0usize;
    let mut prev_broken = true;
    for (i, e) in elements.iter().enumerate() {
        let prev_end = if i == 0 { open_line } else { elements[i - 1].end_line };
        let on_new_line = prev_end < e.start_line;
        let size = e
            .key_cell
            .map(|(w, _)| w - 1)
            .or_else(|| (e.start_line == e.end_line).then(|| node_text(e.node, text).chars().count()))
            .unwrap_or(0);
        let gap_start = if i == 0 {
            literal.start_byte() + 1
        } else {
            elements[i - 1].node.end_byte()
        };
        let gap = &text[gap_start..e.node.start_byte()];
        // A whitespace-only line strictly inside the gap (not the indentation before the element).
        let gap_lines: Vec<&str> = gap.split('\n').collect();
        let blank_line = gap_lines.len() > 2 && gap_lines[1..gap_lines.len() - 1].iter().any(|l| l.trim().is_empty());
        let comment_line = comments.iter().any(|c| {
            c.start_byte() >= gap_start && c.end_byte() <= e.node.start_byte() && line_of(c.start_byte()) > prev_end
        });
        let mut use_ff = true;
        if prev_size > 0 && size > 0 {
            const SMALL: usize = 40;
            if count == 0 || (prev_size <= SMALL && size <= SMALL) {
                use_ff = false;
            } else {
                let geomean = (lnsum / count as f64).exp();
                let ratio = size as f64 / geomean;
                use_ff = 2.5 * ratio <= 1.0 || 2.5 <= ratio;
            }
        }
        if blank_line {
            lnsum = 0.0;
            count = 0;
        }
        let prev_unaligned = i > 0 && elements[i - 1].key_cell.is_none();
        breaks[i] = i == 0
            || !on_new_line
            || use_ff
            || !prev_broken
            || blank_line
            || comment_line
            || e.key_cell.is_none()
            || prev_unaligned;
        if i > 0 && !on_new_line {
            // Two elements on one line: neither is in a section.
            breaks[i - 1] = true;
        }
        if size > 0 {
            lnsum += (size as f64).ln();
            count += 1;
        }
        prev_size = size;
        prev_broken = on_new_line;
    }
    // The section holding element k, split at k.
    let start = (0..=k).rev().find(|&i| breaks[i]).unwrap_or(0);
    let end = (k + 1..elements.len()).find(|&i| breaks[i]).unwrap_or(elements.len());
    if start == k || elements[start..end].iter().any(|e| e.key_cell.is_none()) {
        return Vec::new();
    }
    let mut edits = Vec::new();
    for part in [&elements[start..k], &elements[k..end]] {
        let width = part
            .iter()
            .filter_map(|e| e.key_cell.map(|(w, _)| w))
            .max()
            .unwrap_or(0)
            + 1;
        for e in part {
            if let Some((w, span)) = e.key_cell {
                let padding = " ".repeat(width - w);
                if text[span.range()] != padding {
                    edits.push(TextEdit {
                        span,
                        new_text: padding,
                    });
                }
            }
        }
        // Trailing comments: each run of consecutive lines that have one is a block.
        for run in part.split(|e| e.comment_cell.is_none()) {
            let width = run
                .iter()
                .filter_map(|e| e.comment_cell.map(|(w, _)| w))
                .max()
                .unwrap_or(0)
                + 1;
            for e in run {
                if let Some((w, span)) = e.comment_cell {
                    let padding = " ".repeat(width - w);
                    if text[span.range()] != padding {
                        edits.push(TextEdit {
                            span,
                            new_text: padding,
                        });
                    }
                }
            }
        }
    }
    edits
}

fn replace_key(
    db: &dyn salsa::Database,
    file: SourceFile,
    finding: &Finding,
    from: &str,
    to: &str,
) -> Option<Vec<FileEdit>> {
    let text = file.text(db);
    if file.lang(db) == Lang::Yaml {
        if let Some(files) = merge_into_existing_key(db, file, finding, from, to) {
            return files;
        }
    }
    let current = text.get(finding.span.range())?;
    let start = finding.span.start as usize + current.find(from)?;
    let span = Span::new(start, start + from.len());
    Some(vec![FileEdit {
        path: file.path(db).clone(),
        create: false,
        edits: vec![TextEdit {
            span,
            new_text: to.to_string(),
        }],
    }])
}

/// When the mapping that holds the deprecated key `from` also holds its replacement `to`
/// (`bases:` beside `resources:`), a rename would make a duplicate key: the items of `from`'s
/// block sequence move to the end of `to`'s instead, and `from` goes. `Some(None)` when the two
/// exist but cannot be merged safely (not both block sequences): no fix then.
#[allow(clippy::option_option)]
fn merge_into_existing_key(
    db: &dyn salsa::Database,
    file: SourceFile,
    finding: &Finding,
    from: &str,
    to: &str,
) -> Option<Option<Vec<FileEdit>>> {
    let text = file.text(db);
    let tree = parse_file(db, file).tree.as_ref()?;
    let key_node = tree
        .root_node()
        .descendant_for_byte_range(finding.span.start as usize, finding.span.end as usize)?;
    let pair = enclosing(key_node, &["block_mapping_pair"])?;
    let mapping = pair.parent()?;
    let key_of = |p: Node<'_>| {
        p.child_by_field_name("key")
            .map(|k| node_text(k, text).trim().to_string())
    };
    if key_of(pair).as_deref() != Some(from) {
        return None;
    }
    let target = mapping
        .named_children(&mut mapping.walk())
        .find(|p| p.kind() == "block_mapping_pair" && key_of(*p).as_deref() == Some(to))?;
    fn sequence(p: Node<'_>) -> Option<Node<'_>> {
        let value = p.child_by_field_name("value").filter(|v| v.kind() == "block_node")?;
        value.named_child(0).filter(|s| s.kind() == "block_sequence")
    }
    let (Some(source), Some(dest)) = (sequence(pair), sequence(target)) else {
        return Some(None);
    };
    let item_indent = |seq: Node<'_>| -> String {
        let first = seq.named_child(0).map(|n| n.start_byte()).unwrap_or(seq.start_byte());
        let line = line_bounds(text, first).0;
        text[line..first].to_string()
    };
    let (from_indent, to_indent) = (item_indent(source), item_indent(dest));
    let mut moved = String::new();
    for item in source.named_children(&mut source.walk()) {
        if item.kind() != "block_sequence_item" {
            continue;
        }
        let lines = span_lines(text, Span::new(item.start_byte(), item.end_byte()));
        for line in text[lines.range()].split_inclusive('\n') {
            let rest = line.strip_prefix(from_indent.as_str()).unwrap_or(line.trim_start());
            moved.push_str(&to_indent);
            moved.push_str(rest);
        }
        if !moved.ends_with('\n') {
            moved.push('\n');
        }
    }
    let dest_end = span_lines(text, Span::new(dest.start_byte(), dest.end_byte())).end;
    let remove = span_lines(text, Span::new(pair.start_byte(), pair.end_byte()));
    Some(Some(vec![FileEdit {
        path: file.path(db).clone(),
        create: false,
        // The removal first: when `from` follows `to` directly, the insertion point is where
        // the removal starts, and edits at one offset apply in order.
        edits: vec![
            TextEdit {
                span: remove,
                new_text: String::new(),
            },
            TextEdit {
                span: Span::new(dest_end as usize, dest_end as usize),
                new_text: moved,
            },
        ],
    }]))
}

/// Replaces the last occurrence of `from` in the finding's span (the name after the package
/// qualifier) with `to`.
fn replace_symbol(
    db: &dyn salsa::Database,
    file: SourceFile,
    finding: &Finding,
    from: &str,
    to: &str,
) -> Option<Vec<FileEdit>> {
    let text = file.text(db);
    let current = text.get(finding.span.range())?;
    let start = finding.span.start as usize + current.rfind(from)?;
    Some(vec![FileEdit {
        path: file.path(db).clone(),
        create: false,
        edits: vec![TextEdit {
            span: Span::new(start, start + from.len()),
            new_text: to.to_string(),
        }],
    }])
}

/// Replaces a literal reason with a constant, as [`reason_constant_plan`] decides (the one
/// naming rule, shared with the title `check` lists): an existing reason constant of the package
/// holding this value; else a new one declared beside the package's other reasons, in their
/// case (in their `const (` block, as its own alignment section so gofmt keeps the block as it
/// is); else — the package has no reason constants, so the reason is not published API — an
/// unexported constant just above the function that uses it. Returns the constant's name and
/// the edits.
fn reason_constant(
    db: &dyn salsa::Database,
    ws: Workspace,
    file: SourceFile,
    finding: &Finding,
    value: &str,
) -> Option<(String, Vec<FileEdit>)> {
    let path = file.path(db).clone();
    let plan = reason_constant_plan(db, ws, file, value)?;
    let name = plan.name().to_string();
    let mut files = vec![FileEdit {
        path: path.clone(),
        create: false,
        edits: vec![TextEdit {
            span: finding.span,
            new_text: name.clone(),
        }],
    }];
    match plan {
        ReasonConstantPlan::Reuse { .. } => {}
        ReasonConstantPlan::Beside {
            file: target, anchor, ..
        } => {
            let text = target.text(db);
            let tree = parse_file(db, target).tree.as_ref()?;
            let spec = tree
                .root_node()
                .descendant_for_byte_range(anchor.start as usize, anchor.end as usize)?;
            let declaration = enclosing(spec, &["const_declaration"])?;
            let in_block = declaration.children(&mut declaration.walk()).any(|n| n.kind() == "(");
            let edit = if in_block {
                let close = declaration.end_byte().saturating_sub(1);
                let at = line_bounds(text, close).0;
                let indent: String = text[line_bounds(text, anchor.start as usize).0..]
                    .chars()
                    .take_while(|c| *c == ' ' || *c == '\t')
                    .collect();
                TextEdit {
                    span: Span::new(at, at),
                    new_text: format!("\n{indent}{name} = \"{value}\"\n"),
                }
            } else {
                let at = line_bounds(text, declaration.end_byte().saturating_sub(1)).1;
                TextEdit {
                    span: Span::new(at, at),
                    new_text: format!("const {name} = \"{value}\"\n"),
                }
            };
            let target_path = target.path(db).clone();
            if target_path == path {
                files[0].edits.push(edit);
            } else {
                files.push(FileEdit {
                    path: target_path,
                    create: false,
                    edits: vec![edit],
                });
            }
        }
        ReasonConstantPlan::Local { .. } => {
            let text = file.text(db);
            let tree = parse_file(db, file).tree.as_ref()?;
            let at = tree
                .root_node()
                .named_children(&mut tree.root_node().walk())
                .find(|n| n.start_byte() <= finding.span.start as usize && finding.span.end as usize <= n.end_byte())?;
            // Above the declaration's doc comment, if it has one.
            let mut start = at;
            while let Some(prev) = start.prev_named_sibling() {
                let adjacent = text[prev.end_byte()..start.start_byte()].matches('\n').count() <= 1;
                if prev.kind() == "comment" && adjacent {
                    start = prev;
                } else {
                    break;
                }
            }
            let line = line_bounds(text, start.start_byte()).0;
            files[0].edits.push(TextEdit {
                span: Span::new(line, line),
                new_text: format!("const {name} = \"{value}\"\n\n"),
            });
        }
    }
    Some((name, files))
}

/// `AzureMachine` → `azure-machine`, `AWSMachine` → `aws-machine`.
fn kebab(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let after_lower = chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit();
            let acronym_end = chars[i - 1].is_uppercase() && chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if after_lower || acronym_end {
                out.push('-');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

fn enclosing<'t>(mut node: Node<'t>, kinds: &[&str]) -> Option<Node<'t>> {
    loop {
        if kinds.contains(&node.kind()) {
            return Some(node);
        }
        node = node.parent()?;
    }
}

/// The statement (a direct child of a block's statement list) containing `node`.
fn statement_of(node: Node<'_>) -> Option<Node<'_>> {
    let mut node = node;
    loop {
        let parent = node.parent()?;
        if matches!(
            parent.kind(),
            "block" | "statement_list" | "expression_case" | "default_case" | "communication_case"
        ) {
            return Some(node);
        }
        node = parent;
    }
}

/// Whole lines of a statement, with its line break, for removal.
fn statement_lines(text: &str, node: Node<'_>) -> Span {
    let (start, _) = line_bounds(text, node.start_byte());
    let (_, end) = line_bounds(text, node.end_byte().saturating_sub(1));
    Span::new(start, end)
}

fn identifiers<'t>(root: Node<'t>, text: &str, name: &str) -> Vec<Node<'t>> {
    descendants(root)
        .filter(|n| n.kind() == "identifier" && node_text(*n, text) == name)
        .collect()
}

/// The annotation bridge: the generic file reads an annotation on the generic Machine instead
/// of the provider Machine, and the provider's platform controller gets the function that
/// writes it. Offered only where [`bridge_site`] holds; never declares what the package
/// already declares; never creates a file that exists on disk.
fn annotation_bridge(
    db: &dyn salsa::Database,
    ws: Workspace,
    file: SourceFile,
    finding: &Finding,
    provider_id: &str,
    kind: &str,
) -> Option<Vec<FileEdit>> {
    let model = ws.model(db);
    let bridge = model.model.code_actions.annotation_bridge.as_ref()?;
    let provider = model.provider(provider_id)?;
    let controller_path = provider.platform_controller.as_ref()?;
    let text = file.text(db);
    let tree = parse_file(db, file).tree.as_ref()?;
    let facts = go_facts(db, file);
    let (site, machine_var) = bridge_site(model, tree, text, facts, finding.span)?;
    let root = tree.root_node();
    let field_path = site.reads.first()?.path.clone();
    let field = field_path.rsplit('.').next().unwrap_or("Status").to_string();
    let placeholders = [
        ("Kind", kind),
        ("Field", field.as_str()),
        ("kind", &kebab(kind)),
        ("field", &kebab(&field)),
    ];
    let constant = render(&bridge.constant_name, &placeholders);
    let key = format!("{}{}", bridge.key_prefix, render(&bridge.key_name, &placeholders));
    let writer = render(&bridge.writer_function, &placeholders);
    let value_var = format!("{}{}", lower_first(kind), field);
    let pointer = site
        .reads
        .iter()
        .any(|r| matches!(r.usage, ReadUse::NilCheck | ReadUse::Formatted { deref: true }));

    // The generic file: the declaration becomes the annotation read, the fetches go, the reads
    // use the value.
    let mut edits: Vec<TextEdit> = Vec::new();
    let mut removed: Vec<Span> = Vec::new();
    let reader = render(
        &bridge.reader_expression,
        &[("MachineVar", &machine_var), ("Constant", &constant)],
    );
    let (decl_start, _) = line_bounds(text, site.declaration.start as usize);
    let indent: String = text[decl_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let decl_lines = span_lines(text, site.declaration);
    edits.push(TextEdit {
        span: decl_lines,
        new_text: format!("{indent}{value_var} := {reader}\n"),
    });
    removed.push(decl_lines);
    for fill in site.fills.as_ref()? {
        let lines = span_lines(text, *fill);
        if !removed.contains(&lines) {
            edits.push(TextEdit {
                span: lines,
                new_text: String::new(),
            });
            removed.push(lines);
        }
    }
    for read in &site.reads {
        let node = root.descendant_for_byte_range(read.span.start as usize, read.span.end as usize)?;
        let (target, replacement) = match read.usage {
            ReadUse::NilCheck => {
                let p = node.parent()?;
                let op = p
                    .child_by_field_name("operator")
                    .map(|o| node_text(o, text))
                    .unwrap_or("!=");
                (p, format!("{value_var} {op} \"\""))
            }
            ReadUse::Formatted { deref: true } => (node.parent()?, value_var.clone()),
            _ => (node, value_var.clone()),
        };
        let span = Span::new(target.start_byte(), target.end_byte());
        edits.push(TextEdit {
            span,
            new_text: replacement,
        });
        removed.push(span);
    }
    // Local variables declared only to feed what went (`key := client.ObjectKey{..}`) go too,
    // until nothing more is left unused.
    let function = enclosing(
        root.descendant_for_byte_range(site.declaration.start as usize, site.declaration.end as usize)?,
        &["function_declaration", "method_declaration", "func_literal"],
    )?;
    let body = function.child_by_field_name("body")?;
    loop {
        let mut more = false;
        for decl in descendants(body).filter(|n| n.kind() == "short_var_declaration") {
            let Some(left) = decl.child_by_field_name("left") else {
                continue;
            };
            if left.named_child_count() != 1 {
                continue;
            }
            let Some(name_node) = left.named_child(0) else { continue };
            let Some(statement) = statement_of(decl) else { continue };
            let lines = statement_lines(text, statement);
            if removed.iter().any(|r| r.start <= lines.start && lines.end <= r.end) {
                continue;
            }
            let name = node_text(name_node, text);
            let uses_left = identifiers(body, text, name).into_iter().any(|u| {
                u.id() != name_node.id()
                    && u.start_byte() >= statement.end_byte()
                    && !removed.iter().any(|r| r.contains(u.start_byte() as u32))
            });
            let was_used = identifiers(body, text, name)
                .into_iter()
                .any(|u| u.id() != name_node.id() && u.start_byte() >= statement.end_byte());
            if was_used && !uses_left {
                edits.push(TextEdit {
                    span: lines,
                    new_text: String::new(),
                });
                removed.push(lines);
                more = true;
            }
        }
        if !more {
            break;
        }
    }
    // Imports nothing uses any more go (with an import group left empty).
    for import in &facts.imports {
        if !matches!(import.kind, ImportKind::Plain | ImportKind::Named) {
            continue;
        }
        let used = facts
            .pkg_refs
            .iter()
            .any(|r| r.import.as_ref() == Some(&import.path) && !removed.iter().any(|x| x.contains(r.span.start)))
            || facts.calls.iter().any(|c| {
                c.import.as_ref() == Some(&import.path) && !removed.iter().any(|x| x.contains(c.callee_span.start))
            });
        if !used {
            if let Some(span) = import_removal(text, import.span) {
                edits.push(TextEdit {
                    span,
                    new_text: String::new(),
                });
            }
        }
    }
    let mut files = vec![FileEdit {
        path: file.path(db).clone(),
        create: false,
        edits,
    }];

    // The writer in the platform controller file: its text from the index, else from disk (a
    // file that exists but is excluded, ignored or not indexed yet), else a new file.
    let controller = crate::db::file_index(db, ws)
        .paths
        .get(controller_path.as_str())
        .copied();
    let on_disk = ws.root(db).join(controller_path);
    let controller_text: Option<std::sync::Arc<str>> = match controller {
        Some(c) if c.note(db).is_none() => Some(c.text(db).clone()),
        // Binary, too large or not valid UTF-8: no edit we could trust.
        Some(_) => return None,
        None if on_disk.exists() => match crate::vfs::read_confined(ws.root(db), &on_disk) {
            Ok((text, None)) => Some(text),
            _ => return None,
        },
        None => None,
    };
    let controller_tree = match &controller_text {
        Some(t) => {
            let parsed = crate::syntax::parse(Lang::Go, t, None);
            Some(parsed.tree?)
        }
        None => None,
    };
    let controller_facts = match (&controller_text, &controller_tree) {
        (Some(t), Some(tree)) => Some(crate::facts::go::extract(tree, t)),
        _ => None,
    };

    let provider_import = facts
        .pkg_refs
        .iter()
        .find(|r| r.span == finding.span)
        .and_then(|r| r.import.clone());
    let provider_alias = facts
        .imports
        .iter()
        .find(|i| Some(&i.path) == provider_import.as_ref() && i.kind == ImportKind::Named)
        .map(|i| i.local_name.clone())
        .unwrap_or_else(|| provider.id.clone());
    let capi_import = facts.imports.iter().find(|i| model.is_capi_import(&i.path));
    let capi_path = capi_import
        .map(|i| i.path.clone())
        .or_else(|| model.model.capi.default_import.clone())?;
    let capi_alias_default = capi_import
        .map(|i| i.local_name.clone())
        .or_else(|| model.model.capi.default_alias.clone())
        // Go's own default: the last element of the import path.
        .unwrap_or_else(|| capi_path.rsplit('/').next().unwrap_or_default().to_string());
    let kind_var = lower_first(kind);
    let (value_expr, guard) = if pointer {
        (
            format!("*{kind_var}.{field_path}"),
            format!("{kind_var}.{field_path} != nil"),
        )
    } else {
        (format!("{kind_var}.{field_path}"), format!("{kind_var} != nil"))
    };
    let alias_in = |path: &str, fallback: &str| {
        controller_facts
            .as_ref()
            .and_then(|f| f.imports.iter().find(|i| i.path == path).map(|i| i.local_name.clone()))
            .unwrap_or_else(|| fallback.to_string())
    };
    let provider_path = provider_import.clone().or_else(|| provider.packages.first().cloned())?;
    let provider_alias = alias_in(&provider_path, &provider_alias);
    let capi_alias = alias_in(&capi_path, &capi_alias_default);
    let writer_text = render(
        &bridge.writer_template,
        &[
            ("Constant", &constant),
            ("Key", &key),
            ("Kind", kind),
            ("KindVar", &kind_var),
            ("ProviderAlias", &provider_alias),
            ("CapiAlias", &capi_alias),
            ("Function", &writer),
            ("FieldPath", &field_path),
            ("ValueExpr", &value_expr),
            ("Guard", &guard),
        ],
    );
    // What the package already declares (the controller's other files, and the controller
    // itself) is not declared again: the template's paragraphs that declare it are dropped.
    let dir = crate::db::dir_of(controller_path).to_string();
    let mut declared: HashSet<String> = HashSet::new();
    for other in crate::db::package_files(db, ws, &dir) {
        if other.path(db) == controller_path {
            continue;
        }
        let f = go_facts(db, other);
        declared.extend(f.consts.iter().map(|c| c.name.clone()));
        declared.extend(f.functions.iter().filter_map(|x| x.name.clone()));
    }
    if let Some(f) = &controller_facts {
        declared.extend(f.consts.iter().map(|c| c.name.clone()));
        declared.extend(f.functions.iter().filter_map(|x| x.name.clone()));
    }
    let paragraphs: Vec<&str> = writer_text
        .split("\n\n")
        .map(|p| p.trim_matches('\n'))
        .filter(|p| !p.trim().is_empty())
        .filter(|p| {
            let declares = |name: &str| p.contains(&format!("const {name} ")) || p.contains(&format!("func {name}("));
            let redeclares = |name: &str| declared.contains(name) && declares(name);
            !(redeclares(&constant) || redeclares(&writer))
        })
        .collect();
    if paragraphs.is_empty() {
        return Some(files);
    }
    let addition = paragraphs.join("\n\n");
    let mut needed: Vec<(String, Option<String>)> = Vec::new();
    if addition.contains("fmt.") {
        needed.push(("fmt".to_string(), None));
    }
    if addition.contains(&format!("{provider_alias}.")) {
        needed.push((provider_path.clone(), Some(provider_alias.clone())));
    }
    if addition.contains(&format!("{capi_alias}.")) {
        needed.push((capi_path.clone(), Some(capi_alias.clone())));
    }
    needed.sort();
    match (&controller_text, &controller_tree, &controller_facts) {
        (Some(controller_text), Some(controller_tree), Some(cf)) => {
            let missing: Vec<(String, Option<String>)> = needed
                .into_iter()
                .filter(|(path, _)| !cf.imports.iter().any(|i| &i.path == path))
                .map(|(path, alias)| {
                    // An alias equal to the package name is not written.
                    let alias = alias.filter(|a| *a != crate::facts::go::default_package_name(&path));
                    (path, alias)
                })
                .collect();
            let mut edits = import_insertions(controller_text, controller_tree, &missing);
            let end = controller_text.len();
            let body = controller_text.trim_end_matches(['\n', ' ', '\t']);
            edits.push(TextEdit {
                span: Span::new(body.len(), end),
                new_text: format!("\n\n{addition}\n"),
            });
            files.push(FileEdit {
                path: controller_path.clone(),
                create: false,
                edits,
            });
        }
        (Some(_), _, _) => return None,
        _ => {
            let package = provider
                .platform_controller_package
                .clone()
                .unwrap_or_else(|| facts.package.clone().unwrap_or_default());
            let spec = |(path, alias): &(String, Option<String>)| match alias {
                Some(a) if *a != crate::facts::go::default_package_name(path) => format!("\t{a} \"{path}\"\n"),
                _ => format!("\t\"{path}\"\n"),
            };
            let std: String = needed.iter().filter(|(p, _)| is_std(p)).map(spec).collect();
            let other: String = needed.iter().filter(|(p, _)| !is_std(p)).map(spec).collect();
            let groups: Vec<String> = [std, other].into_iter().filter(|g| !g.is_empty()).collect();
            let imports = if groups.is_empty() {
                String::new()
            } else {
                format!("import (\n{})\n\n", groups.join("\n"))
            };
            let new_text = format!("package {package}\n\n{imports}{addition}\n");
            files.push(FileEdit {
                path: controller_path.clone(),
                create: true,
                edits: vec![TextEdit {
                    span: Span::default(),
                    new_text,
                }],
            });
        }
    }
    Some(files)
}

/// Whole lines covering `span`, with the last line break.
fn span_lines(text: &str, span: Span) -> Span {
    let (start, _) = line_bounds(text, span.start as usize);
    let (_, end) = line_bounds(text, (span.end as usize).saturating_sub(1));
    Span::new(start, end)
}

/// A standard-library import path (no dot in its first element), as gofmt/goimports group them.
fn is_std(path: &str) -> bool {
    !path.split('/').next().unwrap_or(path).contains('.')
}

/// The lines to delete to remove one import spec: its line, and a blank line that would
/// otherwise be doubled (an emptied group). `None` for a spec sharing its line with `import (`.
fn import_removal(text: &str, spec: Span) -> Option<Span> {
    let (start, end) = line_bounds(text, spec.start as usize);
    let line = &text[start..end];
    if line.contains('(') || line.contains(')') {
        return None;
    }
    let blank = |l: &str| l.trim().is_empty();
    let prev = text[..start].trim_end_matches('\n');
    let prev_line = &prev[prev.rfind('\n').map(|i| i + 1).unwrap_or(0)..];
    let prev_blank = start >= 2 && &text[start - 2..start] == "\n\n";
    let (next_start, next_end) = line_bounds(text, end);
    let next_line = &text[next_start..next_end];
    let next_blank = end < text.len() && blank(next_line);
    let closes = next_line.trim_start().starts_with(')');
    if prev_blank && (next_blank || closes) {
        // The group is empty now: drop the blank line before it.
        return Some(Span::new(start - 1, end));
    }
    if (prev_line.trim_end().ends_with('(') || prev_line.trim().is_empty()) && next_blank {
        return Some(Span::new(start, next_end));
    }
    Some(Span::new(start, end))
}

/// Edits adding `missing` imports (path, alias) where gofmt and goimports put them: in the
/// import block's group of the same kind (standard library, or the others), sorted by path;
/// a new group or block when there is none.
fn import_insertions(text: &str, tree: &tree_sitter::Tree, missing: &[(String, Option<String>)]) -> Vec<TextEdit> {
    let root = tree.root_node();
    let spec_line = |(path, alias): &(String, Option<String>)| match alias {
        Some(a) => format!("\t{a} \"{path}\"\n"),
        None => format!("\t\"{path}\"\n"),
    };
    let mut edits = Vec::new();
    if missing.is_empty() {
        return edits;
    }
    let block = root
        .named_children(&mut root.walk())
        .filter(|n| n.kind() == "import_declaration")
        .find_map(|d| d.named_children(&mut d.walk()).find(|c| c.kind() == "import_spec_list"));
    let Some(block) = block else {
        // No `import (...)`: a new block after the last import declaration or the package clause.
        let after = root
            .named_children(&mut root.walk())
            .filter(|n| matches!(n.kind(), "package_clause" | "import_declaration"))
            .last()
            .map(|n| n.end_byte())
            .unwrap_or(0);
        let std: String = missing.iter().filter(|(p, _)| is_std(p)).map(spec_line).collect();
        let other: String = missing.iter().filter(|(p, _)| !is_std(p)).map(spec_line).collect();
        let groups: Vec<String> = [std, other].into_iter().filter(|g| !g.is_empty()).collect();
        edits.push(TextEdit {
            span: Span::new(after, after),
            new_text: format!("\n\nimport (\n{})", groups.join("\n")),
        });
        return edits;
    };
    // Groups: runs of specs on consecutive lines.
    let specs: Vec<(Node<'_>, String)> = block
        .named_children(&mut block.walk())
        .filter(|n| n.kind() == "import_spec")
        .filter_map(|n| {
            let path = n.child_by_field_name("path")?;
            Some((n, node_text(path, text).trim_matches(['"', '`']).to_string()))
        })
        .collect();
    let mut groups: Vec<Vec<(Node<'_>, String)>> = Vec::new();
    for (node, path) in specs {
        let new_group = groups
            .last()
            .and_then(|g| g.last())
            .is_none_or(|(last, _)| text[last.end_byte()..node.start_byte()].matches('\n').count() > 1);
        if new_group {
            groups.push(Vec::new());
        }
        groups.last_mut().unwrap().push((node, path));
    }
    let mut inserts: std::collections::BTreeMap<usize, String> = std::collections::BTreeMap::new();
    let (mut new_std, mut new_other) = (String::new(), String::new());
    for item in missing {
        let std = is_std(&item.0);
        // The group of the same kind whose paths share the longest prefix with this one
        // (`sigs.k8s.io/cluster-api` beside `sigs.k8s.io/cluster-api-provider-azure`).
        let shared = |g: &Vec<(Node<'_>, String)>| {
            g.iter()
                .map(|(_, p)| p.bytes().zip(item.0.bytes()).take_while(|(a, b)| a == b).count())
                .max()
                .unwrap_or(0)
        };
        let pure: Vec<&Vec<(Node<'_>, String)>> = groups
            .iter()
            .filter(|g| g.iter().all(|(_, p)| is_std(p) == std))
            .collect();
        let mixed: Vec<&Vec<(Node<'_>, String)>> = groups
            .iter()
            .filter(|g| g.iter().any(|(_, p)| is_std(p) == std))
            .collect();
        let candidates = if pure.is_empty() { mixed } else { pure };
        let group = candidates.into_iter().rev().max_by_key(|g| shared(g));
        match group {
            Some(group) => {
                let before = group.iter().find(|(_, p)| *p > item.0);
                let at = match before {
                    Some((node, _)) => line_bounds(text, node.start_byte()).0,
                    None => line_bounds(text, group.last().unwrap().0.end_byte()).1,
                };
                inserts.entry(at).or_default().push_str(&spec_line(item));
            }
            None if std => new_std.push_str(&spec_line(item)),
            None => new_other.push_str(&spec_line(item)),
        }
    }
    if !new_std.is_empty() {
        // A standard-library group first.
        let at = line_bounds(text, block.start_byte()).1;
        inserts.entry(at).or_default().insert_str(0, &format!("{new_std}\n"));
    }
    if !new_other.is_empty() {
        let at = line_bounds(text, block.end_byte().saturating_sub(1)).0;
        inserts.entry(at).or_default().push_str(&format!("\n{new_other}"));
    }
    for (at, new_text) in inserts {
        edits.push(TextEdit {
            span: Span::new(at, at),
            new_text,
        });
    }
    edits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_style_names() {
        assert_eq!(lower_first("AWSMachine"), "awsMachine");
        assert_eq!(lower_first("AzureMachine"), "azureMachine");
        assert_eq!(lower_first("IBMPowerVSMachine"), "ibmPowerVSMachine");
        assert_eq!(kebab("AWSMachine"), "aws-machine");
        assert_eq!(kebab("IBMPowerVSMachine"), "ibm-power-vs-machine");
        assert_eq!(kebab("FailureMessage"), "failure-message");
    }
}
