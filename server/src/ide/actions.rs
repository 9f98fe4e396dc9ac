//! Code actions as plain edits: each fix a finding carries becomes byte-range edits on one or
//! more workspace files. The LSP converts them to a `WorkspaceEdit`; tests apply them directly.

use std::collections::HashSet;

use tree_sitter::Node;

use crate::db::{go_facts, parse_file, SourceFile, Workspace};
use crate::facts::go::ImportKind;
use crate::facts::Span;
use crate::model::render;
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
            let edits = match &fix.kind {
                FixKind::AnnotationBridge { provider, kind } => {
                    annotation_bridge(db, ws, file, finding, provider, kind)
                }
                FixKind::ReasonConstant { value } => reason_constant(db, file, finding, value),
                FixKind::ReplaceKey { from, to } => replace_key(db, file, finding, from, to),
                FixKind::Suppress => None,
            };
            if let Some(files) = edits {
                out.push(Action {
                    title: fix.title.clone(),
                    code: finding.code.clone(),
                    files,
                });
            }
        }
        if let Some(files) = suppress(db, ws, file, finding) {
            let title = ws
                .model(db)
                .model
                .code_actions
                .suppress_title
                .clone()
                .unwrap_or_else(|| "Suppress".into());
            out.push(Action {
                title: format!("{title}: {}", finding.code),
                code: finding.code.clone(),
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
    Some(vec![FileEdit {
        path: file.path(db).clone(),
        create: false,
        edits: vec![TextEdit { span: at, new_text }],
    }])
}

fn replace_key(
    db: &dyn salsa::Database,
    file: SourceFile,
    finding: &Finding,
    from: &str,
    to: &str,
) -> Option<Vec<FileEdit>> {
    let text = file.text(db);
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

/// Replaces a literal reason with a constant and declares it beside the other reasons (in the
/// file's const block with `...Reason` names, else after the imports).
fn reason_constant(
    db: &dyn salsa::Database,
    file: SourceFile,
    finding: &Finding,
    value: &str,
) -> Option<Vec<FileEdit>> {
    let facts = go_facts(db, file);
    let tree = parse_file(db, file).tree.as_ref()?;
    let text = file.text(db);
    let name = format!("{value}Reason");
    let mut edits = vec![TextEdit {
        span: finding.span,
        new_text: name.clone(),
    }];
    if !facts.consts.iter().any(|c| c.name == name) {
        let beside = facts.consts.iter().rfind(|c| c.name.ends_with("Reason"));
        let insertion = match beside {
            Some(c) => {
                let (_, end) = line_bounds(text, c.name_span.start as usize);
                let (start, _) = line_bounds(text, c.name_span.start as usize);
                let indent: String = text[start..]
                    .chars()
                    .take_while(|c| c.is_whitespace() && *c != '\n')
                    .collect();
                let in_block = text[start..c.name_span.start as usize].trim().is_empty();
                let decl = if in_block {
                    format!("{indent}{name} = \"{value}\"\n")
                } else {
                    format!("const {name} = \"{value}\"\n")
                };
                (end, decl)
            }
            None => {
                let root = tree.root_node();
                let after = root
                    .named_children(&mut root.walk())
                    .filter(|n| matches!(n.kind(), "package_clause" | "import_declaration"))
                    .last()
                    .map(|n| n.end_byte())
                    .unwrap_or(0);
                (after, format!("\n\nconst {name} = \"{value}\""))
            }
        };
        edits.push(TextEdit {
            span: Span::new(insertion.0, insertion.0),
            new_text: insertion.1,
        });
    }
    Some(vec![FileEdit {
        path: file.path(db).clone(),
        create: false,
        edits,
    }])
}

/// Go's lower camel case for an identifier: `AWSMachine` → `awsMachine`, `AzureMachine` →
/// `azureMachine` (a leading acronym is lowered whole).
fn lower_first(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let upper_run = chars.iter().take_while(|c| c.is_uppercase()).count();
    let lower_count = match upper_run {
        0 => 0,
        n if n == chars.len() => n,
        1 => 1,
        // `AWSMachine`: the last capital of the run starts the next word.
        n => n - 1,
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < lower_count {
                c.to_lowercase().next().unwrap_or(*c)
            } else {
                *c
            }
        })
        .collect()
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
/// writes it.
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
    let at = tree
        .root_node()
        .descendant_for_byte_range(finding.span.start as usize, finding.span.end as usize)?;

    // The declaration `v := &provider.Kind{}` (or `var v provider.Kind`) that the fix replaces.
    let declaration = enclosing(
        at,
        &["short_var_declaration", "var_declaration", "assignment_statement"],
    )?;
    let declared = match declaration.kind() {
        "var_declaration" => {
            let spec = declaration.named_child(0)?;
            let spec = if spec.kind() == "var_spec_list" {
                spec.named_child(0)?
            } else {
                spec
            };
            spec.child_by_field_name("name")?
        }
        _ => declaration.child_by_field_name("left")?.named_child(0)?,
    };
    if declared.kind() != "identifier" {
        return None;
    }
    let var = node_text(declared, text).to_string();
    let declaration = statement_of(declaration)?;
    let function = enclosing(
        declaration,
        &["function_declaration", "method_declaration", "func_literal"],
    )?;
    let body = function.child_by_field_name("body")?;

    // Uses of the variable: field reads (`v.Status.X`) and the fetch that fills it.
    let mut reads: Vec<(Node<'_>, String)> = Vec::new();
    let mut fetches: Vec<Node<'_>> = Vec::new();
    for use_node in identifiers(body, text, &var) {
        if use_node.start_byte() >= declaration.start_byte() && use_node.end_byte() <= declaration.end_byte() {
            continue;
        }
        let mut outer = use_node;
        while let Some(parent) = outer
            .parent()
            .filter(|p| p.kind() == "selector_expression" && p.child_by_field_name("operand") == Some(outer))
        {
            outer = parent;
        }
        if outer != use_node {
            let path = node_text(outer, text)[var.len()..].trim_start_matches('.').to_string();
            reads.push((outer, path));
            continue;
        }
        let in_args = enclosing(use_node, &["argument_list"]).is_some_and(|args| {
            args.parent().is_some_and(|call| call.kind() == "call_expression") && statement_of(args).is_some()
        });
        if in_args {
            if let Some(statement) = statement_of(use_node) {
                fetches.push(statement);
            }
        }
    }
    let field_path = reads
        .first()
        .map(|(_, p)| p.clone())
        .unwrap_or_else(|| "Status".to_string());
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

    // The generic Machine in scope: a parameter or range variable whose name says so.
    let machine_var = identifiers(function, text, "machine")
        .first()
        .map(|_| "machine".to_string())
        .unwrap_or_else(|| lower_first(&model.model.capi.machine_kind));

    let mut edits: Vec<TextEdit> = Vec::new();
    let mut removed: Vec<Span> = Vec::new();
    let reader = render(
        &bridge.reader_expression,
        &[("MachineVar", &machine_var), ("Constant", &constant)],
    );
    let (decl_start, _) = line_bounds(text, declaration.start_byte());
    let indent: String = text[decl_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let decl_lines = statement_lines(text, declaration);
    edits.push(TextEdit {
        span: decl_lines,
        new_text: format!("{indent}{value_var} := {reader}\n"),
    });
    removed.push(decl_lines);
    let mut seen = HashSet::new();
    for fetch in &fetches {
        let lines = statement_lines(text, *fetch);
        if seen.insert(lines) {
            edits.push(TextEdit {
                span: lines,
                new_text: String::new(),
            });
            removed.push(lines);
        }
    }
    // Variables declared only to feed the fetch (`key := client.ObjectKey{..}`) go too.
    for fetch in &fetches {
        for ident in all_identifiers(*fetch) {
            let name = node_text(ident, text);
            if name == var {
                continue;
            }
            let uses = identifiers(body, text, name);
            let Some(decl) = uses.iter().find_map(|u| {
                let d = enclosing(*u, &["short_var_declaration"])?;
                let left = d.child_by_field_name("left")?;
                (left.start_byte() <= u.start_byte()
                    && u.end_byte() <= left.end_byte()
                    && left.named_child_count() == 1)
                    .then_some(d)
            }) else {
                continue;
            };
            let decl_stmt = statement_of(decl).unwrap_or(decl);
            let lines = statement_lines(text, decl_stmt);
            let outside = uses
                .iter()
                .filter(|u| !removed.iter().any(|r| r.contains(u.start_byte() as u32)))
                .count();
            if outside <= 1 && !removed.contains(&lines) && decl_stmt.start_byte() > function.start_byte() {
                let only_decl = uses
                    .iter()
                    .filter(|u| !removed.iter().any(|r| r.contains(u.start_byte() as u32)))
                    .all(|u| decl_stmt.start_byte() <= u.start_byte() && u.end_byte() <= decl_stmt.end_byte());
                if only_decl {
                    edits.push(TextEdit {
                        span: lines,
                        new_text: String::new(),
                    });
                    removed.push(lines);
                }
            }
        }
    }
    let mut pointer = false;
    for (read, path) in &reads {
        if path != &field_path || removed.iter().any(|r| r.contains(read.start_byte() as u32)) {
            continue;
        }
        let parent = read.parent();
        let (target, replacement) = match parent {
            Some(p)
                if p.kind() == "unary_expression"
                    && p.child_by_field_name("operator")
                        .is_some_and(|o| node_text(o, text) == "*") =>
            {
                pointer = true;
                (p, value_var.clone())
            }
            Some(p) if p.kind() == "binary_expression" && node_text(p, text).contains("nil") => {
                pointer = true;
                let op = p
                    .child_by_field_name("operator")
                    .map(|o| node_text(o, text))
                    .unwrap_or("!=");
                (p, format!("{value_var} {op} \"\""))
            }
            _ => (*read, value_var.clone()),
        };
        edits.push(TextEdit {
            span: Span::new(target.start_byte(), target.end_byte()),
            new_text: replacement,
        });
    }
    // The provider import goes when nothing else uses it.
    let provider_import = facts
        .pkg_refs
        .iter()
        .find(|r| r.span == finding.span)
        .and_then(|r| r.import.clone());
    if let Some(path) = &provider_import {
        let still_used = facts.pkg_refs.iter().any(|r| {
            r.import.as_ref() == Some(path)
                && r.span != finding.span
                && !removed.iter().any(|x| x.contains(r.span.start))
        });
        if !still_used {
            if let Some(import) = facts.imports.iter().find(|i| &i.path == path) {
                let lines = Span::new(
                    line_bounds(text, import.span.start as usize).0,
                    line_bounds(text, import.span.start as usize).1,
                );
                // Only an import on a line of its own is removed (never half of `import (`).
                if !text[lines.range()].contains('(') {
                    edits.push(TextEdit {
                        span: lines,
                        new_text: String::new(),
                    });
                }
            }
        }
    }
    let mut files = vec![FileEdit {
        path: file.path(db).clone(),
        create: false,
        edits,
    }];

    // The writer in the platform controller file.
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
        .unwrap_or_else(|| "capiv1".into());
    let kind_var = lower_first(kind);
    let (value_expr, guard) = if pointer {
        (
            format!("*{kind_var}.{field_path}"),
            format!("{kind_var}.{field_path} != nil"),
        )
    } else {
        (format!("{kind_var}.{field_path}"), format!("{kind_var} != nil"))
    };
    let controller = crate::db::file_index(db, ws)
        .paths
        .get(controller_path.as_str())
        .copied();
    let controller_facts = controller.map(|c| go_facts(db, c).clone());
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
    let needed = [
        ("fmt".to_string(), None),
        (provider_path.clone(), Some(provider_alias)),
        (capi_path.clone(), Some(capi_alias)),
    ];
    match controller {
        Some(controller) => {
            let controller_text = controller.text(db);
            if controller_text.contains(&format!("{constant} =")) {
                return Some(files);
            }
            let cf = controller_facts.as_ref()?;
            let missing: Vec<String> = needed
                .iter()
                .filter(|(path, _)| !cf.imports.iter().any(|i| &i.path == path))
                .map(|(path, alias)| match alias {
                    Some(a) => format!("\t{a} \"{path}\"\n"),
                    None => format!("\t\"{path}\"\n"),
                })
                .collect();
            let mut edits = Vec::new();
            if !missing.is_empty() {
                let block_end = controller_text
                    .find("import (")
                    .and_then(|start| controller_text[start..].find(')').map(|i| start + i));
                match block_end {
                    Some(at) => edits.push(TextEdit {
                        span: Span::new(at, at),
                        new_text: missing.concat(),
                    }),
                    None => {
                        let after_package = controller_text
                            .find('\n')
                            .map(|i| i + 1)
                            .unwrap_or(controller_text.len());
                        edits.push(TextEdit {
                            span: Span::new(after_package, after_package),
                            new_text: format!("\nimport (\n{})\n", missing.concat()),
                        });
                    }
                }
            }
            let end = controller_text.len();
            let separator = if controller_text.ends_with('\n') { "" } else { "\n" };
            edits.push(TextEdit {
                span: Span::new(end, end),
                new_text: format!("{separator}{writer_text}\n"),
            });
            files.push(FileEdit {
                path: controller_path.clone(),
                create: false,
                edits,
            });
        }
        None => {
            let package = provider
                .platform_controller_package
                .clone()
                .unwrap_or_else(|| facts.package.clone().unwrap_or_default());
            let imports: String = needed
                .iter()
                .map(|(path, alias)| match alias {
                    Some(a) => format!("\t{a} \"{path}\"\n"),
                    None => format!("\t\"{path}\"\n"),
                })
                .collect();
            let new_text = format!("package {package}\n\nimport (\n{imports})\n{writer_text}\n");
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

fn all_identifiers(root: Node<'_>) -> Vec<Node<'_>> {
    descendants(root).filter(|n| n.kind() == "identifier").collect()
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
