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

/// A minimal unified diff of two texts: line by line (`similar`), one hunk per group of changes
/// with three lines of context, so a renamed key is one `-` and one `+` line.
pub fn unified_diff(path: &str, before: &str, after: &str) -> String {
    let diff = similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string();
    // Control and bidirectional characters from the file are escaped as the human format
    // escapes them (`\u{1b}`): a diff on a terminal cannot move the cursor or reorder text.
    // The two header lines and the hunk headers are ours; every other line is one marker
    // character followed by the file's text.
    let mut out = String::with_capacity(diff.len());
    for (i, line) in diff.lines().enumerate() {
        if i < 2 || line.starts_with('@') || line.is_empty() {
            out.push_str(line);
        } else {
            let (marker, content) = line.split_at(1);
            out.push_str(marker);
            out.push_str(&super::formats::printable(content));
        }
        out.push('\n');
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

    #[test]
    fn changes_far_apart_are_separate_hunks_of_changed_lines_only() {
        let before: String = (0..20).map(|i| format!("line{i}\n")).collect();
        let after = before.replace("line2\n", "LINE2\n").replace("line17\n", "LINE17\n");
        let diff = unified_diff("x.yaml", &before, &after);
        let changed: Vec<&str> = diff
            .lines()
            .filter(|l| (l.starts_with('-') || l.starts_with('+')) && !l.starts_with("---") && !l.starts_with("+++"))
            .collect();
        assert_eq!(changed, ["-line2", "+LINE2", "-line17", "+LINE17"], "{diff}");
        assert_eq!(diff.matches("\n@@ ").count(), 2, "{diff}");
    }

    #[test]
    fn a_missing_final_newline_is_marked() {
        let diff = unified_diff("x.yaml", "a\nb", "a\nB");
        assert!(
            diff.ends_with("-b\n\\ No newline at end of file\n+B\n\\ No newline at end of file\n"),
            "{diff:?}"
        );
    }
}
