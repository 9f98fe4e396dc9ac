//! `check --fix` and `check --fix --diff`: applies, without an editor, the fixes that need no
//! choice and keep the meaning of the file. Today that is one kind: renaming a deprecated key
//! to its replacement when the value keeps its shape (`FixKind::ReplaceKey`, e.g. kustomize's
//! `bases` → `resources`). The others need a person: the annotation bridge writes new code in
//! two files, a reason constant changes the reason's value (which other code may match), and a
//! suppression needs a reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::ConfigChoice;
use crate::ide::analysis::{apply, AnalysisHost};
use crate::model::ModelError;
use crate::vfs::discover_checked;

/// The new text of every file a safe fix changes, by workspace-relative path: the same
/// selection as the editor's fix-all (`Analysis::fix_all`).
pub fn fixed_texts(
    root: &Path,
    paths: &[PathBuf],
    models: &[PathBuf],
    choice: &ConfigChoice,
) -> BTreeMap<String, (String, String)> {
    fixed_texts_checked(root, paths, models, choice).0
}

/// [`fixed_texts`], and what `check` would report as problems (exit 2): configuration and
/// model errors, files that could not be read or discovered.
pub fn fixed_texts_checked(
    root: &Path,
    paths: &[PathBuf],
    models: &[PathBuf],
    choice: &ConfigChoice,
) -> (BTreeMap<String, (String, String)>, Vec<ModelError>) {
    let mut host = AnalysisHost::new(root.to_path_buf(), models, choice);
    let (rels, mut problems) = discover_checked(root, paths, &host.config().filter());
    problems.extend(host.load(&rels));
    host.add_model_errors(problems);
    let problems = host.model_errors().to_vec();
    let analysis = host.analysis();
    let files: Vec<_> = rels.iter().filter_map(|r| analysis.file(r)).collect();
    let mut out = BTreeMap::new();
    // Findings in parallel first (memoized, shared by the snapshot), then the fixes.
    for (file, findings) in analysis.check_files(&files) {
        if findings.iter().all(|f| f.fixes.is_empty()) {
            continue;
        }
        let Some(action) = analysis.fix_all(file) else { continue };
        for file_edit in action.files {
            let Some(target) = analysis.file(&file_edit.path) else {
                continue;
            };
            let before = analysis.text(target).to_string();
            let after = apply(&before, &file_edit.edits);
            if after != before {
                out.insert(file_edit.path, (before, after));
            }
        }
    }
    (out, problems)
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
    // Control and bidirectional characters from the file are escaped as the human format
    // escapes them (`\u{1b}`): a diff on a terminal cannot move the cursor or reorder text.
    let line = |prefix: char, l: &str| {
        let (content, newline) = match l.strip_suffix('\n') {
            Some(content) => (content, true),
            None => (l, false),
        };
        let mut s = format!("{prefix}{}\n", super::formats::printable(content));
        if !newline {
            s.push_str("\\ No newline at end of file\n");
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
