//! `check --fix` and `check --fix --diff`: applies, without an editor, the fixes that need no
//! choice and keep the meaning of the file. Today that is one kind: renaming a deprecated key
//! to its replacement when the value keeps its shape (`FixKind::ReplaceKey`, e.g. kustomize's
//! `bases` → `resources`). The others need a person: the annotation bridge writes new code in
//! two files, a reason constant changes the reason's value (which other code may match), and a
//! suppression needs a reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::ConfigChoice;
use crate::db::Database;
use crate::ide::actions::{actions, apply, Action, TextEdit};
use crate::rules::FixKind;
use crate::workspace::{discover, Engine};

/// Whether a fix may be applied headless.
pub fn is_safe(kind: &FixKind) -> bool {
    matches!(kind, FixKind::ReplaceKey { .. })
}

/// The new text of every file a safe fix changes, by workspace-relative path.
pub fn fixed_texts(
    root: &Path,
    paths: &[PathBuf],
    models: &[PathBuf],
    choice: &ConfigChoice,
) -> BTreeMap<String, (String, String)> {
    let mut engine = Engine::with_config(Database::default(), root.to_path_buf(), models, choice);
    let rels = discover(root, paths, &engine.config());
    engine.load(&rels);
    let files: Vec<_> = rels.iter().filter_map(|r| engine.files.get(r).copied()).collect();
    let mut edits: BTreeMap<String, Vec<TextEdit>> = BTreeMap::new();
    for (file, findings) in engine.check_files(&files) {
        for action in safe_actions(&engine.db, engine.ws, file, &findings) {
            for file_edit in action.files {
                edits.entry(file_edit.path).or_default().extend(file_edit.edits);
            }
        }
    }
    let mut out = BTreeMap::new();
    for (rel, mut file_edits) in edits {
        let Some(&file) = engine.files.get(&rel) else { continue };
        // Overlapping edits (two findings on one key) apply once.
        file_edits.sort_by_key(|e| (e.span.start, e.span.end));
        file_edits.dedup();
        let mut kept: Vec<TextEdit> = Vec::new();
        for e in file_edits {
            if kept.last().is_none_or(|k| k.span.end <= e.span.start) {
                kept.push(e);
            }
        }
        let before = file.text(&engine.db).to_string();
        let after = apply(&before, &kept);
        if after != before {
            out.insert(rel, (before, after));
        }
    }
    out
}

/// The actions of the safe fixes for `findings` of `file` (for `check --fix` and the editor's
/// `source.fixAll.invariant`).
pub fn safe_actions(
    db: &dyn salsa::Database,
    ws: crate::db::Workspace,
    file: crate::db::SourceFile,
    findings: &[crate::rules::Finding],
) -> Vec<Action> {
    let mut out = Vec::new();
    for finding in findings {
        for fix in finding.fixes.iter().filter(|f| is_safe(&f.kind)) {
            if let FixKind::ReplaceKey { to, .. } = &fix.kind {
                if sibling_key_exists(file.text(db), finding.span.start as usize, to) {
                    // Renaming would duplicate the key: merging the two lists is a choice.
                    continue;
                }
            }
            let found = actions(db, ws, file, std::slice::from_ref(finding), finding.span);
            if let Some(mut action) = found.into_iter().find(|a| a.title == fix.title) {
                action.files.retain(|f| !f.create);
                out.push(action);
            }
        }
    }
    out
}

/// Whether a key `key` already exists at the indentation of the line holding `offset`.
fn sibling_key_exists(text: &str, offset: usize, key: &str) -> bool {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let indent: String = text[line_start..].chars().take_while(|c| *c == ' ').collect();
    text.split('\n').any(|line| {
        line.strip_prefix(indent.as_str())
            .and_then(|rest| rest.strip_prefix(key))
            .is_some_and(|rest| rest.trim_start().starts_with(':') && !line[indent.len()..].starts_with(' '))
    })
}

/// A unified diff of two texts (one hunk around the changed lines, three lines of context).
pub fn unified_diff(path: &str, before: &str, after: &str) -> String {
    let a: Vec<&str> = before.split_inclusive('\n').collect();
    let b: Vec<&str> = after.split_inclusive('\n').collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let start = prefix.saturating_sub(3);
    let a_end = (a.len() - suffix + 3).min(a.len());
    let b_end = (b.len() - suffix + 3).min(b.len());
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    out.push_str(&format!(
        "@@ -{},{} +{},{} @@\n",
        start + 1,
        a_end - start,
        start + 1,
        b_end - start
    ));
    let line = |prefix: char, l: &str| {
        let mut s = format!("{prefix}{l}");
        if !l.ends_with('\n') {
            s.push_str("\n\\ No newline at end of file\n");
        }
        s
    };
    for l in &a[start..prefix] {
        out.push_str(&line(' ', l));
    }
    for l in &a[prefix..a.len() - suffix] {
        out.push_str(&line('-', l));
    }
    for l in &b[prefix..b.len() - suffix] {
        out.push_str(&line('+', l));
    }
    for l in &a[a.len() - suffix..a_end] {
        out.push_str(&line(' ', l));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renaming_onto_an_existing_key_is_not_safe() {
        let text = "kind: Kustomization\nbases:\n  - ../a\nresources:\n  - b.yaml\n";
        assert!(sibling_key_exists(text, text.find("bases").unwrap(), "resources"));
        let text = "kind: Kustomization\nbases:\n  - ../a\nx:\n  resources: []\n";
        assert!(!sibling_key_exists(text, text.find("bases").unwrap(), "resources"));
    }

    #[test]
    fn a_unified_diff_with_context() {
        let before = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let after = "a\nb\nc\nd\nE\nf\ng\nh\n";
        let diff = unified_diff("x.yaml", before, after);
        assert_eq!(
            diff,
            "--- a/x.yaml\n+++ b/x.yaml\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n"
        );
    }
}
