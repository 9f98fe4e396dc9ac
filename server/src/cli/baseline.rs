//! Finding fingerprints, baselines (`check --write-baseline`, `--baseline`) and the
//! finding-level diff against a git revision (`check --new-from-rev`).
//!
//! A fingerprint names a finding by what it is, not where it is: the rule code, the file's
//! workspace-relative path, the enclosing declaration (a Go function, method, type or value
//! declaration; a YAML document's kind and name with the key path to the finding) and the
//! whitespace-normalised source text the finding covers, plus an occurrence number among
//! findings that share all of those. Line numbers are not part of it, so an unrelated edit that
//! shifts lines, or a function moved within its file, keeps every fingerprint.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

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

/// A baseline file: the findings a team accepted, by fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub tool: String,
    pub entries: Vec<Fingerprinted>,
}

impl Baseline {
    pub fn new(mut entries: Vec<Fingerprinted>) -> Self {
        entries.sort_by(|a, b| (&a.path, &a.code, &a.fingerprint).cmp(&(&b.path, &b.code, &b.fingerprint)));
        Baseline {
            version: 1,
            tool: "invariant-lsp".into(),
            entries,
        }
    }

    pub fn read(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let baseline: Baseline =
            serde_json::from_str(&text).map_err(|e| format!("{}: not a baseline file: {e}", path.display()))?;
        if baseline.version != 1 {
            return Err(format!(
                "{}: baseline version {} is not supported (1 is)",
                path.display(),
                baseline.version
            ));
        }
        Ok(baseline)
    }

    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())? + "\n";
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn fingerprints(&self) -> BTreeSet<&str> {
        self.entries.iter().map(|e| e.fingerprint.as_str()).collect()
    }
}

/// What applying a baseline did, for the report.
#[derive(Debug, Clone, Default)]
pub struct BaselineOutcome {
    /// The baseline file as given (or as named by `.invariant.yaml`).
    pub path: String,
    /// Findings not reported because the baseline holds them, by rule code.
    pub suppressed: BTreeMap<String, usize>,
    /// Entries that matched no finding in the files checked: fixed, or changed beyond
    /// recognition; remove them (`--write-baseline` again) so the file can shrink.
    pub unmatched: Vec<Fingerprinted>,
}

impl BaselineOutcome {
    pub fn suppressed_total(&self) -> usize {
        self.suppressed.values().sum()
    }
}

/// What `--new-from-rev` did, for the report.
#[derive(Debug, Clone, Default)]
pub struct NewFromRev {
    pub rev: String,
    pub commit: String,
    /// Findings not reported because the revision has them too.
    pub existing: usize,
}

/// A private copy of a revision's tree, removed when dropped.
pub struct Exported {
    pub dir: tempfile::TempDir,
    pub commit: String,
    /// The repository's top level in the work tree.
    pub toplevel: PathBuf,
}

impl Exported {
    /// Exports `rev` of the repository holding `root`, without the directories in `skip`.
    pub fn new(root: &Path, rev: &str, skip: &[&str]) -> Result<Exported, String> {
        let toplevel = crate::vcs::toplevel(root)?;
        let commit = crate::vcs::resolve_rev(&toplevel, rev)?;
        let dir = tempfile::Builder::new()
            .prefix("invariant-rev-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        crate::vcs::export_tree_skipping(&toplevel, &commit, dir.path(), skip)?;
        Ok(Exported { dir, commit, toplevel })
    }

    /// Where a work-tree path lies in the exported tree (`None` outside the repository).
    pub fn map(&self, path: &Path) -> Option<PathBuf> {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        canonical
            .strip_prefix(&self.toplevel)
            .ok()
            .map(|rel| self.dir.path().join(rel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Span;

    fn finding(code: &str, text: &str, needle: &str) -> Finding {
        let start = text.find(needle).unwrap();
        Finding::new(code, Span::new(start, start + needle.len()), "m")
    }

    #[test]
    fn go_declarations() {
        let text = "package p\n\nfunc (r *Reconciler) reconcile(ctx context.Context) {\n\tx := a.B{}\n}\n\nfunc adaptX[T any](c C) {\n\ty()\n}\n\nconst (\n\tReason = \"bad_reason\"\n)\n";
        assert_eq!(
            declaration("a.go", text, text.find("a.B").unwrap()),
            "Reconciler.reconcile"
        );
        assert_eq!(declaration("a.go", text, text.find("y()").unwrap()), "adaptX");
        assert_eq!(declaration("a.go", text, text.find("bad_reason").unwrap()), "const");
        assert_eq!(declaration("a.go", text, 0), "package");
    }

    #[test]
    fn yaml_declarations() {
        let text = "apiVersion: v1\nkind: NodePool\nmetadata:\n  name: np1\nspec:\n  management:\n    replace:\n      rollingUpdate:\n        maxSurge: 0\n---\nkind: Kustomization\npatchesStrategicMerge:\n- a.yaml\n";
        assert_eq!(
            declaration("x.yaml", text, text.find("maxSurge").unwrap()),
            "NodePool/np1:spec.management.replace.rollingUpdate.maxSurge"
        );
        assert_eq!(
            declaration("x.yaml", text, text.find("patchesStrategicMerge").unwrap()),
            "Kustomization/:patchesStrategicMerge"
        );
    }

    #[test]
    fn fingerprints_survive_shifted_lines_and_moves_but_not_other_changes() {
        let a = "package p\n\nfunc f() {\n\tx := prov.AzureMachine{}\n}\n\nfunc g() {\n\ty := prov.AzureMachine{}\n}\n";
        // Lines inserted above, and g moved above f.
        let b = "package p\n\n// a comment\n// another\n\nfunc g() {\n\ty := prov.AzureMachine{}\n}\n\nfunc f() {\n\tx :=   prov.AzureMachine{}\n}\n";
        // The finding in the function `which` starts.
        let fp = |text: &str, which: &str| {
            let start = text.find(which).unwrap();
            let at = text[start..].find("prov.AzureMachine{}").unwrap() + start;
            let f = Finding::new(
                "capi-boundary/provider-read",
                Span::new(at, at + "prov.AzureMachine{}".len()),
                "m",
            );
            fingerprint_file("p/a.go", text, &[&f])[0].clone()
        };
        assert_eq!(fp(a, "func f").fingerprint, fp(b, "func f").fingerprint);
        assert_eq!(fp(a, "func g").fingerprint, fp(b, "func g").fingerprint);
        assert_ne!(fp(a, "func f").fingerprint, fp(a, "func g").fingerprint);
        // Another path or another rule: another fingerprint.
        let f = finding("capi-boundary/provider-read", a, "prov.AzureMachine{}");
        let other = finding("capi-boundary/provider-import", a, "prov.AzureMachine{}");
        assert_ne!(
            fingerprint_file("p/a.go", a, &[&f])[0].fingerprint,
            fingerprint_file("p/b.go", a, &[&f])[0].fingerprint
        );
        assert_ne!(
            fingerprint_file("p/a.go", a, &[&f])[0].fingerprint,
            fingerprint_file("p/a.go", a, &[&other])[0].fingerprint
        );
    }

    #[test]
    fn identical_findings_in_one_declaration_are_numbered() {
        let text = "package p\n\nfunc f() {\n\ta := x.Now()\n\tb := x.Now()\n}\n";
        let first = text.find("x.Now()").unwrap();
        let second = text.rfind("x.Now()").unwrap();
        let f1 = Finding::new("adapt-purity/clock", Span::new(first, first + 7), "m");
        let f2 = Finding::new("adapt-purity/clock", Span::new(second, second + 7), "m");
        let fps = fingerprint_file("a.go", text, &[&f2, &f1]);
        assert!(fps[0].fingerprint.ends_with(":2"), "{fps:?}");
        assert!(fps[1].fingerprint.ends_with(":1"), "{fps:?}");
        assert_eq!(fps[0].fingerprint[..32], fps[1].fingerprint[..32]);
    }
}
