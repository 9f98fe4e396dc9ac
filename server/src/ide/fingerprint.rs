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
    for line in upto.lines().rev() {
        if let Some(rest) = line.strip_prefix("func ") {
            return go_func_name(rest);
        }
        for keyword in ["type ", "var ", "const "] {
            if let Some(rest) = line.strip_prefix(keyword) {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '(')
                    .collect();
                return format!("{}{}", keyword.trim_end(), if name == "(" { "" } else { " " })
                    + name.trim_end_matches('(');
            }
        }
        if line.starts_with("import") || line.starts_with("package ") {
            return "package".into();
        }
    }
    String::new()
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
    let doc = &text[doc_start..doc_end];
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
    let indent_of = |line: &str| {
        let trimmed = line.trim_start_matches([' ', '-']);
        line.len() - trimmed.len()
    };
    let key_of = |line: &str| -> Option<String> {
        let t = line.trim_start_matches([' ', '-']).trim_start();
        if t.starts_with('#') {
            return None;
        }
        let colon = t.find(": ").or_else(|| t.strip_suffix(':').map(|s| s.len()))?;
        Some(t[..colon].trim_matches(['"', '\'']).to_string())
    };
    let this_line = &text[start..line_end(text, offset)];
    let mut path = Vec::new();
    path.extend(key_of(this_line));
    let mut indent = indent_of(this_line);
    for line in text[doc_start..start].lines().rev() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let i = indent_of(line);
        if i < indent {
            if let Some(key) = key_of(line) {
                path.push(key);
            }
            indent = i;
            if i == 0 {
                break;
            }
        }
    }
    path.reverse();
    format!(
        "{}/{}:{}",
        kind.unwrap_or_default(),
        name.unwrap_or_default(),
        path.join(".")
    )
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
/// findings' positions).
pub fn fingerprint_file(rel: &str, text: &str, findings: &[&Finding]) -> Vec<Fingerprinted> {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| (findings[i].span.start, findings[i].span.end));
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Option<Fingerprinted>> = vec![None; findings.len()];
    for i in order {
        let f = findings[i];
        let (start, end) = (f.span.start as usize, f.span.end as usize);
        let covered = text.get(start..end.min(text.len())).filter(|s| !s.trim().is_empty());
        let what = match covered {
            Some(s) => normalise(&s.chars().take(400).collect::<String>()),
            None => normalise(&f.message),
        };
        let decl = declaration(rel, text, start);
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
