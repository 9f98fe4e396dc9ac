//! Finding fingerprints: the identity of a finding that baselines, `check --new-from-rev`,
//! SARIF `partialFingerprints` and the editor's baseline hints share.
//!
//! A fingerprint names a finding by what it is, not where it is: the rule code, the file's
//! workspace-relative path, the enclosing declaration (a Go function, method, type or value
//! declaration; a YAML document's kind and name with the key path to the finding) and the
//! whitespace-normalised source text the finding covers, plus an occurrence number among
//! findings that share all of those. Line numbers are not part of it, so an unrelated edit that
//! shifts lines, or a function moved within its file, keeps every fingerprint.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::rules::Finding;

/// What a fingerprint is made of, kept for the baseline file's readers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprinted {
    pub fingerprint: String,
    pub code: String,
    /// Workspace-relative, `/`-separated.
    pub path: String,
    pub declaration: String,
    pub message: String,
}

/// 64-bit FNV-1a, stable across platforms and releases (unlike `std`'s hasher).
fn fnv1a(seed: u64, bytes: &[u8]) -> u64 {
    let mut hash = seed;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn hash_hex(parts: &[&str]) -> String {
    let joined = parts.join("\u{1f}");
    format!(
        "{:016x}{:016x}",
        fnv1a(0xcbf2_9ce4_8422_2325, joined.as_bytes()),
        fnv1a(0x6c62_272e_07bb_0142, joined.as_bytes())
    )
}

/// Collapses every run of whitespace to one space.
pub fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].rfind('\n').map_or(0, |i| i + 1)
}

/// The Go declaration enclosing `offset`: the nearest line above (or at) it that starts a
/// top-level declaration at column 0 (gofmt puts them there). `func (r *T) Name(` gives `T.Name`.
fn go_declaration(text: &str, offset: usize) -> String {
    let upto = &text[..line_end(text, offset)];
    upto.lines().rev().find_map(go_declaration_line).unwrap_or_default()
}

fn line_end(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text[offset..].find('\n').map_or(text.len(), |i| offset + i)
}

fn go_func_name(rest: &str) -> String {
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    if let Some(receiver) = rest.strip_prefix('(') {
        let close = receiver.find(')').unwrap_or(receiver.len());
        let ty = receiver[..close]
            .split_whitespace()
            .last()
            .unwrap_or("")
            .trim_start_matches('*');
        let ty = ident(ty);
        let name = ident(receiver.get(close + 1..).unwrap_or("").trim_start());
        format!("{ty}.{name}")
    } else {
        ident(rest)
    }
}

/// The YAML context of `offset`: the document's `kind` and `metadata.name` (when at the top
/// level) and the key path down to the finding's line, found by indentation.
fn yaml_declaration(text: &str, offset: usize) -> String {
    let start = line_start(text, offset);
    let before = &text[..start];
    // The document: from the last `---` line before the finding.
    let doc_start = before.rfind("\n---").map_or(0, |i| i + 1);
    let doc_end = text[start..].find("\n---").map_or(text.len(), |i| start + i);
    let kind_name = yaml_kind_name(&text[doc_start..doc_end]);
    let this_line = &text[start..line_end(text, offset)];
    let mut path = Vec::new();
    path.extend(yaml_key(this_line));
    let mut indent = yaml_indent(this_line);
    for line in text[doc_start..start].lines().rev() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let i = yaml_indent(line);
        if i < indent {
            if let Some(key) = yaml_key(line) {
                path.push(key);
            }
            indent = i;
            if i == 0 {
                break;
            }
        }
    }
    path.reverse();
    format!("{kind_name}:{}", path.join("."))
}

/// `kind/name` of a YAML document: its first top-level `kind:` and its `metadata.name`.
fn yaml_kind_name(doc: &str) -> String {
    let mut kind = None;
    let mut name = None;
    let mut in_metadata = false;
    for line in doc.lines() {
        if let Some(k) = line.strip_prefix("kind:") {
            kind.get_or_insert_with(|| k.trim().to_string());
        }
        if !line.starts_with(' ') && !line.trim().is_empty() {
            in_metadata = line.starts_with("metadata:");
        } else if in_metadata && name.is_none() {
            if let Some(n) = line.trim_start().strip_prefix("name:") {
                if line.len() - line.trim_start().len() <= 4 {
                    name = Some(n.trim().to_string());
                }
            }
        }
    }
    format!("{}/{}", kind.unwrap_or_default(), name.unwrap_or_default())
}

/// A YAML line's indentation, list dashes counted as indentation.
fn yaml_indent(line: &str) -> usize {
    let trimmed = line.trim_start_matches([' ', '-']);
    line.len() - trimmed.len()
}

/// The key a YAML line starts with, if any.
fn yaml_key(line: &str) -> Option<String> {
    let t = line.trim_start_matches([' ', '-']).trim_start();
    if t.starts_with('#') {
        return None;
    }
    let colon = t.find(": ").or_else(|| t.strip_suffix(':').map(|s| s.len()))?;
    Some(t[..colon].trim_matches(['"', '\'']).to_string())
}

/// The enclosing declaration of a finding at `offset` in a file at `rel`.
pub fn declaration(rel: &str, text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    if !text.is_char_boundary(offset) {
        return String::new();
    }
    if rel.ends_with(".go") {
        go_declaration(text, offset)
    } else {
        yaml_declaration(text, offset)
    }
}

/// Fingerprints for the findings of one file (in any order; occurrence numbers follow the
/// findings' positions). The declarations come from one forward pass over the file
/// ([`Declarations`]), so the work is linear in the file and the findings together.
pub fn fingerprint_file(rel: &str, text: &str, findings: &[&Finding]) -> Vec<Fingerprinted> {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| (findings[i].span.start, findings[i].span.end));
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Option<Fingerprinted>> = vec![None; findings.len()];
    let mut declarations = Declarations::new(rel, text);
    for i in order {
        let f = findings[i];
        let (start, end) = (f.span.start as usize, f.span.end as usize);
        let covered = text.get(start..end.min(text.len())).filter(|s| !s.trim().is_empty());
        let what = match covered {
            Some(s) => normalise(&s.chars().take(400).collect::<String>()),
            None => normalise(&f.message),
        };
        let decl = declarations.at(start);
        let key = hash_hex(&[&f.code, rel, &decl, &what]);
        let n = seen.entry(key.clone()).or_default();
        *n += 1;
        out[i] = Some(Fingerprinted {
            fingerprint: format!("{key}:{n}"),
            code: f.code.clone(),
            path: rel.to_string(),
            declaration: decl,
            message: f.message.clone(),
        });
    }
    out.into_iter().flatten().collect()
}

/// [`declaration`] for increasing offsets of one file, in one forward pass: the same answers,
/// but each line is looked at a bounded number of times however many findings the file has
/// (asking [`declaration`] per finding rescans the file above it each time: quadratic for a
/// kustomization with thousands of findings).
pub struct Declarations<'a> {
    rel: &'a str,
    text: &'a str,
    /// Start of the next line not yet taken into the state.
    next_line: usize,
    /// Go: the nearest declaration line at or above the last line taken.
    go_decl: Option<&'a str>,
    /// YAML: (indent, key) of the lines above with strictly increasing indents.
    stack: Vec<(usize, Option<String>)>,
    /// YAML: the current document's start and its `kind`/name part.
    doc: Option<(usize, String)>,
    last_offset: Option<usize>,
    /// Lines looked at (for the linearity test).
    pub lines_scanned: usize,
}

impl<'a> Declarations<'a> {
    pub fn new(rel: &'a str, text: &'a str) -> Self {
        Declarations {
            rel,
            text,
            next_line: 0,
            go_decl: None,
            stack: Vec::new(),
            doc: None,
            last_offset: None,
            lines_scanned: 0,
        }
    }

    fn is_go(&self) -> bool {
        self.rel.ends_with(".go")
    }

    /// The declaration at `offset`; offsets must not decrease from one call to the next
    /// (an earlier one is answered by [`declaration`] directly).
    pub fn at(&mut self, offset: usize) -> String {
        let text = self.text;
        let offset = offset.min(text.len());
        if !text.is_char_boundary(offset) {
            return String::new();
        }
        if self.last_offset.is_some_and(|last| offset < last) {
            return declaration(self.rel, text, offset);
        }
        self.last_offset = Some(offset);
        let start = line_start(text, offset);
        if self.is_go() {
            // Take every line up to and including the finding's.
            let end = line_end(text, offset);
            while self.next_line <= end && self.next_line <= text.len() {
                let line_end_at = line_end(text, self.next_line);
                let line = text[self.next_line..line_end_at].trim_end_matches('\r');
                self.lines_scanned += 1;
                if go_declaration_line(line).is_some() {
                    self.go_decl = Some(line);
                }
                if line_end_at >= text.len() {
                    self.next_line = text.len() + 1;
                } else {
                    self.next_line = line_end_at + 1;
                }
            }
            return self.go_decl.and_then(go_declaration_line).unwrap_or_default();
        }
        let this_line = &text[start..line_end(text, offset)];
        if this_line.starts_with("---") {
            // The document boundary line itself belongs to the documents on both sides.
            return yaml_declaration(text, offset);
        }
        // Take every line above the finding's.
        while self.next_line < start {
            let line_end_at = line_end(text, self.next_line);
            let line = text[self.next_line..line_end_at].trim_end_matches('\r');
            self.lines_scanned += 1;
            if line.starts_with("---") {
                self.stack.clear();
                self.doc = None;
            }
            if !(line.trim().is_empty() || line.trim_start().starts_with('#')) {
                let indent = yaml_indent(line);
                while self.stack.last().is_some_and(|&(i, _)| i >= indent) {
                    self.stack.pop();
                }
                self.stack.push((indent, yaml_key(line)));
            }
            self.next_line = line_end_at + 1;
        }
        let doc_start = text[..start].rfind("\n---").map_or(0, |i| i + 1);
        if self.doc.as_ref().is_none_or(|(s, _)| *s != doc_start) {
            let doc_end = text[start..].find("\n---").map_or(text.len(), |i| start + i);
            self.lines_scanned += text[doc_start..doc_end].lines().count();
            self.doc = Some((doc_start, yaml_kind_name(&text[doc_start..doc_end])));
        }
        let indent = yaml_indent(this_line);
        let mut path: Vec<&str> = self
            .stack
            .iter()
            .filter(|(i, _)| *i < indent)
            .filter_map(|(_, k)| k.as_deref())
            .collect();
        let own = yaml_key(this_line);
        path.extend(own.as_deref());
        let kind_name = self.doc.as_ref().map(|(_, d)| d.as_str()).unwrap_or_default();
        format!("{kind_name}:{}", path.join("."))
    }
}

/// The declaration a Go line starts, if it starts one (see [`go_declaration`]).
fn go_declaration_line(line: &str) -> Option<String> {
    if let Some(rest) = line.strip_prefix("func ") {
        return Some(go_func_name(rest));
    }
    for keyword in ["type ", "var ", "const "] {
        if let Some(rest) = line.strip_prefix(keyword) {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '(')
                .collect();
            return Some(
                format!("{}{}", keyword.trim_end(), if name == "(" { "" } else { " " }) + name.trim_end_matches('('),
            );
        }
    }
    if line.starts_with("import") || line.starts_with("package ") {
        return Some("package".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass declarations equal the per-offset ones at every line start and key of
    /// assorted YAML and Go texts (documents, lists, comments, CRLF, blank lines).
    #[test]
    fn one_pass_declarations_equal_the_per_offset_ones() {
        let yaml = "apiVersion: v1\nkind: NodePool\nmetadata:\n  name: np1\nspec:\n  # c\n  management:\n\n    replace:\n      rollingUpdate:\n        maxSurge: 0\n---\nkind: Kustomization\nresources:\n  - a.yaml\n  - b.yaml\npatches:\n- path: p.yaml\n  target:\n    kind: X\n--- # two\nmetadata:\n  name: late\nkind: Late\nx:\r\n  y: 1\r\n";
        let go = "package p\n\nimport \"x\"\n\nfunc (r *R) f() {\n\ta()\n}\n\ntype T struct{}\nvar (\n\tv = 1\n)\nfunc g[T any]() {\n\tb()\n}\n";
        for (rel, text) in [("k.yaml", yaml), ("a.go", go)] {
            let offsets: Vec<usize> = (0..=text.len()).filter(|&o| text.is_char_boundary(o)).collect();
            let mut cursor = Declarations::new(rel, text);
            for &o in &offsets {
                assert_eq!(cursor.at(o), declaration(rel, text, o), "{rel} at {o}");
            }
            // Out of order: still the same answers.
            assert_eq!(cursor.at(3), declaration(rel, text, 3));
        }
    }

    /// 20,000 findings in one kustomization (one per `resources` entry): the declarations look
    /// at each line a bounded number of times (asked per finding, they rescanned the file
    /// above each one: 20,000 × 10,000 lines on average).
    #[test]
    fn declarations_for_many_findings_are_linear() {
        let n = 20_000;
        let mut text = String::from("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n");
        let mut offsets = Vec::new();
        for i in 0..n {
            offsets.push(text.len() + 4);
            text.push_str(&format!("  - missing-{i}.yaml\n"));
        }
        let mut cursor = Declarations::new("kustomization.yaml", &text);
        let lines = text.lines().count();
        for (i, &o) in offsets.iter().enumerate() {
            let d = cursor.at(o);
            if i % 5000 == 0 {
                assert_eq!(d, declaration("kustomization.yaml", &text, o));
                assert_eq!(d, "Kustomization/:resources");
            }
        }
        assert!(
            cursor.lines_scanned <= 2 * lines,
            "{} lines looked at for a {lines}-line file",
            cursor.lines_scanned
        );
        let code = "kustomize/missing-reference";
        let findings: Vec<Finding> = offsets
            .iter()
            .map(|&o| Finding::new(code, crate::facts::Span::new(o, o + 10), "m"))
            .collect();
        let refs: Vec<&Finding> = findings.iter().collect();
        let fps = fingerprint_file("kustomization.yaml", &text, &refs);
        assert_eq!(fps.len(), n);
        assert_eq!(fps[0].declaration, "Kustomization/:resources");
    }
}
