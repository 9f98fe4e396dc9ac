//! Baselines (`check --write-baseline`, `--baseline`) and the finding-level diff against a git
//! revision (`check --new-from-rev`), over the fingerprints of [`crate::ide::fingerprint`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::ide::fingerprint::{declaration, fingerprint_file, normalise, Fingerprinted};

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

    /// Reads a baseline through the confined reader ([`crate::config::read_baseline_text`]):
    /// confined to `root` when given (the configured baseline), never blocking on a FIFO.
    pub fn read(root: Option<&Path>, path: &Path) -> Result<Baseline, String> {
        let text = crate::config::read_baseline_text(root, path)?;
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
        // Through a temporary file and a rename: never through a link at `path`.
        super::safe_write::write_replacing(path, text.as_bytes())
    }

    /// [`Baseline::write`] to a destination checked for links (`--write-baseline`).
    pub fn write_to(&self, target: &super::safe_write::Target) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())? + "\n";
        super::safe_write::write_target(target, text.as_bytes())
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

/// A private (owner-only) copy of a revision's tree, removed when dropped or on a signal.
pub struct Exported {
    pub dir: crate::interrupt::PrivateDir,
    pub commit: String,
    /// The repository's top level in the work tree.
    pub toplevel: PathBuf,
}

impl Exported {
    /// Exports `rev` of the repository holding `root`, without the directories in `skip`.
    pub fn new(root: &Path, rev: &str, skip: &[&str]) -> Result<Exported, String> {
        let toplevel = crate::vcs::toplevel(root)?;
        let commit = crate::vcs::resolve_rev(&toplevel, rev)?;
        let dir = crate::interrupt::PrivateDir::new("invariant-rev-")?;
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
    use crate::ide::analysis::{Finding, Span};

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
