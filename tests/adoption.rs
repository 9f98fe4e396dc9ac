//! Adopting the checker on a living code base, on git repositories built here (two commits,
//! lines shifted by unrelated edits, code moved, a new violation): baselines by fingerprint,
//! `--new-from-rev`, SARIF from a sub-directory, the CI formats and several outputs per run.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

#[path = "support/lsp_client.rs"]
mod lsp_client;
#[path = "support/sarif.rs"]
mod sarif;
use sarif::sarif_schema;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_invariant-lsp"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).current_dir(dir).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

const DEPLOYMENT: &str = "control-plane-operator/controllers/hostedcontrolplane/v2/ingress/deployment.go";

/// The sample workspace (a violation of every rule) committed in a fresh repository.
fn fixture_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("tests/sample-workspace"), dir.path());
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "one"]);
    dir
}

/// An unrelated edit: comment lines at the top of every checked file (after `package` in Go),
/// and `adaptDeployment` moved below the functions that followed it.
fn shift_and_move(root: &Path) {
    for entry in walk(root) {
        let rel = entry.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&entry).unwrap();
        let shifted = if rel.ends_with(".go") {
            text.replacen(
                '\n',
                "\n\n// An unrelated comment\n// that shifts every line below.\n",
                1,
            )
        } else if rel.ends_with(".yaml") && !rel.ends_with(".invariant.yaml") {
            format!("# unrelated\n# comment\n{text}")
        } else {
            continue;
        };
        std::fs::write(&entry, shifted).unwrap();
    }
    let path = root.join(DEPLOYMENT);
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("func adaptDeployment").unwrap();
    let end = start + text[start..].find("\n}\n").unwrap() + 3;
    let moved = format!("{}{}\n{}", &text[..start], &text[end..], &text[start..end]);
    std::fs::write(&path, moved).unwrap();
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == ".git" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            out.extend(walk(&entry.path()));
        } else {
            out.push(entry.path());
        }
    }
    out
}

/// A new violation: another adapt function that reads the clock.
fn add_violation(root: &Path) {
    let path = root.join(DEPLOYMENT);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(
        "\nfunc adaptSecret(cpContext component.WorkloadContext, s *corev1.Secret) error {\n\ts.StringData = map[string]string{\"at\": time.Now().String()}\n\treturn nil\n}\n",
    );
    std::fs::write(&path, text).unwrap();
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn codes(report: &Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_baseline_survives_shifted_lines_and_moved_code_and_lets_new_findings_through() {
    let dir = fixture_repo();
    let root = dir.path();
    let (code, all, _) = run_in(root, &["check", "--format", "json"]);
    assert_eq!(code, 1);
    let total = json(&all)["diagnostics"].as_array().unwrap().len();
    assert!(total >= 15, "the sample has a violation of every rule: {total}");

    let (code, _, stderr) = run_in(root, &["check", "--write-baseline", "baseline.json"]);
    assert_eq!(code, 0, "{stderr}");
    let baseline = json(&std::fs::read_to_string(root.join("baseline.json")).unwrap());
    assert_eq!(baseline["entries"].as_array().unwrap().len(), total);

    let (code, out, _) = run_in(root, &["check", "--baseline", "baseline.json", "--format", "json"]);
    assert_eq!(code, 0, "everything is in the baseline: {out}");
    let report = json(&out);
    assert!(codes(&report).is_empty(), "{out}");
    assert_eq!(report["baseline"]["suppressed"], total);

    shift_and_move(root);
    let (code, out, _) = run_in(root, &["check", "--baseline", "baseline.json", "--format", "json"]);
    let report = json(&out);
    assert_eq!(
        codes(&report),
        Vec::<String>::new(),
        "shifted and moved, still baselined: {out}"
    );
    assert_eq!(code, 0);
    assert_eq!(report["baseline"]["unmatched"].as_array().unwrap().len(), 0);

    add_violation(root);
    let (code, out, _) = run_in(root, &["check", "--baseline", "baseline.json", "--format", "json"]);
    let report = json(&out);
    assert_eq!(codes(&report), vec!["adapt-purity/clock".to_string()], "{out}");
    assert!(report["diagnostics"][0]["message"]
        .as_str()
        .unwrap()
        .contains("adaptSecret"));
    assert_eq!(code, 1);

    // Fixing a baselined finding lists its entry as no longer matching.
    let path = root.join(DEPLOYMENT);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("\treconcileCount++ // want \"adapt-purity/global-write\"\n", ""),
    )
    .unwrap();
    let (_, out, _) = run_in(root, &["check", "--baseline", "baseline.json", "--format", "json"]);
    let report = json(&out);
    let unmatched = report["baseline"]["unmatched"].as_array().unwrap();
    assert_eq!(unmatched.len(), 1, "{out}");
    assert_eq!(unmatched[0]["code"], "adapt-purity/global-write");
    let (_, human, _) = run_in(root, &["check", "--baseline", "baseline.json", "--color", "never"]);
    assert!(
        human.contains(
            "baseline entries that no longer match (fixed or changed; write the baseline again to drop them): 1"
        ),
        "{human}"
    );
    assert!(
        human.contains(&format!("{} findings in the baseline", total - 1)),
        "{human}"
    );

    // `.invariant.yaml` can name the baseline.
    let config = root.join(".invariant.yaml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("baseline: baseline.json\n");
    std::fs::write(&config, text).unwrap();
    let (code, out, _) = run_in(root, &["check", "--format", "json"]);
    assert_eq!(codes(&json(&out)), vec!["adapt-purity/clock".to_string()], "{out}");
    assert_eq!(code, 1);
    // A baseline that is not one is a usage error.
    std::fs::write(root.join("baseline.json"), "[1, 2]").unwrap();
    let (code, _, stderr) = run_in(root, &["check"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a baseline file"), "{stderr}");
}

#[test]
fn new_from_rev_reports_only_new_findings_and_leaves_the_work_tree_alone() {
    let dir = fixture_repo();
    let root = dir.path();
    shift_and_move(root);
    git(root, &["commit", "-q", "-am", "two: unrelated edits"]);
    add_violation(root);
    let status = git(root, &["status", "--porcelain"]);

    for rev in ["HEAD~1", "HEAD"] {
        let (code, out, stderr) = run_in(root, &["check", "--new-from-rev", rev, "--format", "json"]);
        let report = json(&out);
        assert_eq!(
            codes(&report),
            vec!["adapt-purity/clock".to_string()],
            "{rev}: {out} {stderr}"
        );
        assert_eq!(code, 1);
        assert!(report["new_from_rev"]["existing"].as_u64().unwrap() >= 15, "{out}");
        assert_eq!(report["new_from_rev"]["commit"].as_str().unwrap().len(), 40);
    }
    // From a sub-directory, on a path: the same finding.
    let sub = root.join("control-plane-operator");
    let (code, out, _) = run_in(&sub, &["check", ".", "--new-from-rev", "HEAD~1", "--format", "json"]);
    assert_eq!(codes(&json(&out)), vec!["adapt-purity/clock".to_string()], "{out}");
    assert_eq!(code, 1);

    assert_eq!(
        git(root, &["status", "--porcelain"]),
        status,
        "the work tree is untouched"
    );
    let (code, _, stderr) = run_in(root, &["check", "--new-from-rev", "no-such-rev"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no-such-rev"), "{stderr}");
}

#[test]
fn sarif_from_a_subdirectory_is_repository_relative_fingerprinted_and_valid() {
    let dir = fixture_repo();
    let root = dir.path();
    // A file name that needs percent-encoding.
    let odd = root.join("hypershift-operator/controllers/nodepool/odd name#1.go");
    std::fs::copy(root.join("hypershift-operator/controllers/nodepool/capacity.go"), &odd).unwrap();
    let sub = root.join("deploy");
    let (code, out, _) = run_in(
        &sub,
        &[
            "check",
            "..",
            "--format",
            "sarif",
            "--output",
            "json=../report.json",
            "--output",
            "short=../report.txt",
        ],
    );
    assert_eq!(code, 1);
    let sarif = json(&out);
    let errors: Vec<String> = sarif_schema().iter_errors(&sarif).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let run = &sarif["runs"][0];
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap();
    assert!(base.starts_with("file:///") && base.ends_with('/'), "{base}");
    let results = run["results"].as_array().unwrap();
    let report = json(&std::fs::read_to_string(root.join("report.json")).unwrap());
    assert_eq!(results.len(), report["diagnostics"].as_array().unwrap().len());
    let mut seen = std::collections::HashSet::new();
    for r in results {
        let location = &r["locations"][0]["physicalLocation"]["artifactLocation"];
        let uri = location["uri"].as_str().unwrap();
        assert_eq!(location["uriBaseId"], "%SRCROOT%");
        assert!(!uri.starts_with("..") && !uri.starts_with('/'), "{uri}");
        assert!(!uri.contains(' ') && !uri.contains('#'), "percent-encoded: {uri}");
        let fp = r["partialFingerprints"]["invariantFingerprint/v1"].as_str().unwrap();
        assert!(seen.insert(fp.to_string()), "fingerprints are unique: {fp}");
        // The JSON report carries the same fingerprint for the same finding.
        assert!(report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["fingerprint"] == fp && d["code"] == r["ruleId"]));
        assert!(r["locations"].as_array().unwrap().len() <= 1000);
    }
    assert!(results.iter().any(|r| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "hypershift-operator/controllers/nodepool/odd%20name%231.go"
    }));
    assert!(results.iter().any(|r| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "control-plane-operator/controllers/hostedcontrolplane/v2/ingress/deployment.go"
    }));
    for rule in run["tool"]["driver"]["rules"].as_array().unwrap() {
        let tags = rule["properties"]["tags"].as_array().unwrap();
        assert!(!tags.is_empty() && tags.len() <= 20);
        let family = rule["id"].as_str().unwrap().split('/').next().unwrap();
        assert!(tags.iter().any(|t| t == family), "{rule}");
        assert!(rule["fullDescription"]["text"].as_str().unwrap().chars().count() <= 1024);
    }
    let short = std::fs::read_to_string(root.join("report.txt")).unwrap();
    assert!(short.contains("findings per rule:"), "{short}");
    assert!(
        short.contains("../hypershift-operator/controllers/nodepool/capacity.go:"),
        "{short}"
    );
}

#[test]
fn ci_formats() {
    let sample = repo().join("tests/sample-workspace");
    let (code, out, _) = run_in(&sample, &["check", "--format", "github"]);
    assert_eq!(code, 1);
    let annotations: Vec<&str> = out.lines().filter(|l| l.starts_with("::")).collect();
    assert!(
        // Paths are relative to the repository root: this repository's, when the tests run in a
        // git checkout, else the sample's own.
        annotations.iter().any(|l| l.starts_with("::error file=")
            && l.contains("hypershift-operator/controllers/nodepool/capacity.go,line=23,")),
        "{out}"
    );
    assert!(annotations.iter().any(|l| l.starts_with("::warning ")), "{out}");
    assert!(out.contains("findings per rule:"), "the human log follows: {out}");

    let (_, out, _) = run_in(&sample, &["check", "--format", "rdjson"]);
    let rd = json(&out);
    assert_eq!(rd["source"]["name"], "invariant-lsp");
    let d = rd["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"]["value"] == "capi-boundary/provider-read")
        .unwrap();
    assert_eq!(
        d["location"]["path"],
        "hypershift-operator/controllers/nodepool/capacity.go"
    );
    assert_eq!(d["location"]["range"]["start"]["line"], 23);
    assert_eq!(d["severity"], "ERROR");

    let (_, out, _) = run_in(&sample, &["check", "--format", "checkstyle"]);
    assert!(out.starts_with("<?xml"), "{out}");
    assert!(out.contains(r#"<file name="hypershift-operator/controllers/nodepool/capacity.go">"#));
    assert!(out.contains(r#"source="capi-boundary/provider-read""#));
    assert_eq!(out.matches("<file ").count(), out.matches("</file>").count());

    let (_, out, _) = run_in(&sample, &["check", "--format", "short"]);
    assert!(out.lines().any(
        |l| l.starts_with("hypershift-operator/controllers/nodepool/capacity.go:23:")
            && l.contains("error[capi-boundary/provider-read]")
    ));

    let (code, _, stderr) = run_in(&sample, &["check", "--output", "nonsense"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("FORMAT=FILE"), "{stderr}");
}

#[test]
fn control_characters_in_names_and_source_are_escaped() {
    let dir = fixture_repo();
    let root = dir.path();
    let evil = root.join("hypershift-operator/controllers/nodepool/evil\u{1b}[31m.go");
    let text = std::fs::read_to_string(root.join("hypershift-operator/controllers/nodepool/capacity.go")).unwrap();
    std::fs::write(
        &evil,
        text.replacen("package", "// \u{7}\u{1b}]0;title\u{7}\u{202e}\npackage", 1),
    )
    .unwrap();
    for format in ["human", "short", "github"] {
        let (_, out, _) = run_in(root, &["check", "--format", format, "--color", "never"]);
        assert!(out.contains("evil"), "{format}: {out}");
        assert!(
            !out.chars()
                .any(|c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{202e}'),
            "{format}: raw control characters in {out:?}"
        );
    }
}

#[test]
fn the_model_in_force_and_where_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_dir(&repo().join("tests/sample-workspace"), root);
    // A team model that changes one severity and extends a section: every default rule stays on.
    std::fs::write(
        root.join("team.yaml"),
        "name: Team model\nconditions:\n  prefilter_words: [TeamCondition]\nrules:\n  - code: capi-boundary/provider-read\n    severity: warning\n",
    )
    .unwrap();
    std::fs::write(
        root.join(".invariant.yaml"),
        "models: [team.yaml]\nrepository: [https://github.com/example/fleet]\n",
    )
    .unwrap();
    let (code, out, stderr) = run_in(root, &["check", "--format", "json"]);
    assert!(
        stderr.contains("model: Team model (from <builtin>/domain-models/hypershift-data-plane.yaml + team.yaml)"),
        "{stderr}"
    );
    let report = json(&out);
    assert_eq!(report["model"]["sources"][1], "team.yaml");
    let all = codes(&report);
    assert_eq!(code, 1, "{all:?}");
    assert!(all.iter().any(|c| c == "condition-naming/reason-literal"), "{all:?}");
    assert!(all.iter().any(|c| c == "kustomize/argocd-path"), "{all:?}");
    let read = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "capi-boundary/provider-read")
        .unwrap();
    assert_eq!(read["severity"], "warning");

    // --no-config: the built-in model only; --config FILE: that file instead.
    let (_, _, stderr) = run_in(root, &["check", "--no-config", "--format", "short"]);
    assert!(
        stderr.contains("model: HyperShift data plane (from <builtin>/domain-models/hypershift-data-plane.yaml)"),
        "{stderr}"
    );
    std::fs::write(root.join("other.yaml"), "severity: {capi-boundary: \"off\"}\n").unwrap();
    let (_, out, _) = run_in(root, &["check", "--config", "other.yaml", "--format", "json"]);
    assert!(
        !codes(&json(&out)).iter().any(|c| c.starts_with("capi-boundary/")),
        "{out}"
    );
    let (code, _, stderr) = run_in(root, &["check", "--config", "missing.yaml"]);
    assert_eq!(code, 2, "{stderr}");

    // A rule without a message is a located error, not a message made of debug output.
    std::fs::write(
        root.join("team.yaml"),
        "rules:\n  - code: capi-boundary/provider-read\n    severity: warning\n  - code: team/new-rule\n    title: A team rule\n    explanation: Why it matters.\n",
    )
    .unwrap();
    let (code, out, _) = run_in(root, &["check", "--format", "short"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("team.yaml:4:1: error[model/incomplete-rule]: rule `team/new-rule` has no message"),
        "{out}"
    );
}

#[test]
fn fix_renames_deprecated_keys_only_when_that_needs_no_choice() {
    let dir = fixture_repo();
    let root = dir.path();
    let overlay = root.join("deploy/legacy");
    std::fs::create_dir_all(&overlay).unwrap();
    let original = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nbases:\n  - ../base\n";
    std::fs::write(overlay.join("kustomization.yaml"), original).unwrap();
    let base_before = std::fs::read_to_string(root.join("deploy/base/kustomization.yaml")).unwrap();

    let (code, diff, stderr) = run_in(root, &["check", "--fix", "--diff"]);
    assert_eq!(code, 1, "a change is pending: {stderr}");
    assert!(diff.contains("--- a/deploy/legacy/kustomization.yaml"), "{diff}");
    assert!(diff.contains("-bases:\n+resources:\n"), "{diff}");
    // deploy/base has `resources:` already: renaming `bases` would duplicate the key.
    assert!(!diff.contains("deploy/base/kustomization.yaml"), "{diff}");
    assert_eq!(
        std::fs::read_to_string(overlay.join("kustomization.yaml")).unwrap(),
        original
    );

    let (_, out, stderr) = run_in(root, &["check", "--fix", "--format", "json"]);
    assert!(stderr.contains("fixed deploy/legacy/kustomization.yaml"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(overlay.join("kustomization.yaml")).unwrap(),
        original.replace("bases:", "resources:")
    );
    assert_eq!(
        std::fs::read_to_string(root.join("deploy/base/kustomization.yaml")).unwrap(),
        base_before
    );
    let deprecated: Vec<Value> = json(&out)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "kustomize/deprecated-field")
        .cloned()
        .collect();
    assert_eq!(deprecated.len(), 1, "only the unsafe one remains: {deprecated:?}");
    assert_eq!(deprecated[0]["path"], "deploy/base/kustomization.yaml");
    let (code, diff, _) = run_in(root, &["check", "--fix", "--diff"]);
    assert_eq!((code, diff.as_str()), (0, ""), "nothing left to fix");
}

#[test]
fn model_verify_reports_stale_entries_where_the_model_declares_them() {
    let dir = fixture_repo();
    let root = dir.path();
    std::fs::write(
        root.join("team.yaml"),
        "components:\n  - id: team-old\n    paths: ['old-operator/controllers/**']\nproviders:\n  - id: acme\n    name: Acme\n    packages: ['example.com/acme/api/v1']\n    machine_kinds: [AcmeMachine]\n    platform_controller: hypershift-operator/controllers/nodepool/acme.go\n    hover: See `AcmeMachineTemplate` and `AzureMachine`.\n",
    )
    .unwrap();
    std::fs::write(root.join(".invariant.yaml"), "models: [team.yaml]\n").unwrap();
    let (code, out, stderr) = run_in(root, &["model", "verify", "--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    let report = json(&out);
    let team: Vec<(String, u64, String)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["path"] == "team.yaml")
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["range"]["start"]["line"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has =
        |code: &str, line: u64, text: &str| team.iter().any(|(c, l, m)| c == code && *l == line && m.contains(text));
    assert!(
        has("model/stale-component-glob", 2, "old-operator/controllers/**"),
        "{team:?}"
    );
    assert!(
        has("model/stale-provider-package", 6, "example.com/acme/api/v1"),
        "{team:?}"
    );
    assert!(has("model/stale-kind", 7, "AcmeMachine"), "{team:?}");
    assert!(has("model/stale-platform-controller", 8, "acme.go"), "{team:?}");
    assert!(has("model/stale-name", 9, "AcmeMachineTemplate"), "{team:?}");
    assert!(
        !team.iter().any(|(_, _, m)| m.contains("`AzureMachine`")),
        "AzureMachine exists: {team:?}"
    );
    assert_eq!(team.len(), 5, "{team:?}");

    let (_, sarif, _) = run_in(root, &["model", "verify", "--format", "sarif"]);
    let sarif = json(&sarif);
    let errors: Vec<String> = sarif_schema().iter_errors(&sarif).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "team.yaml"));
}

#[test]
fn impact_names_components_platforms_and_the_findings_a_change_brings() {
    let dir = fixture_repo();
    let root = dir.path();
    add_violation(root);
    // Fix one finding in the generic NodePool code.
    let legacy = root.join("hypershift-operator/controllers/nodepool/azure.go");
    let text = std::fs::read_to_string(&legacy).unwrap();
    std::fs::write(&legacy, format!("{text}\n// touched\n")).unwrap();
    let (code, out, stderr) = run_in(root, &["impact", "--since", "HEAD", "--format", "json"]);
    assert_eq!(code, 1, "a new error-severity finding: {stderr}");
    let v = json(&out);
    assert_eq!(v["commit"].as_str().unwrap().len(), 40);
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        vec![DEPLOYMENT, "hypershift-operator/controllers/nodepool/azure.go"]
    );
    assert!(v["platforms"].as_array().unwrap().iter().any(|p| p == "Azure"), "{v}");
    assert!(v["components"].as_array().unwrap().len() >= 2, "{v}");
    let introduced = v["findings"]["introduced"].as_array().unwrap();
    assert_eq!(introduced.len(), 1, "{v}");
    assert_eq!(introduced[0]["code"], "adapt-purity/clock");
    assert_eq!(v["findings"]["fixed"].as_array().unwrap().len(), 0);

    let (_, md, _) = run_in(root, &["impact", "--since", "HEAD", "--format", "markdown"]);
    assert!(md.starts_with("### Impact since `HEAD`"), "{md}");
    assert!(md.contains("1 new finding(s)"), "{md}");
    assert!(
        md.contains("| `hypershift-operator/controllers/nodepool/azure.go` |"),
        "{md}"
    );

    // A change that only fixes: exit 0, the finding listed as fixed.
    git(root, &["checkout", "--", "."]);
    let path = root.join(DEPLOYMENT);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("\treconcileCount++ // want \"adapt-purity/global-write\"\n", ""),
    )
    .unwrap();
    let (code, out, _) = run_in(root, &["impact", "--since", "HEAD", "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let v = json(&out);
    assert_eq!(v["findings"]["fixed"][0]["code"], "adapt-purity/global-write", "{v}");
    assert_eq!(v["platforms"].as_array().unwrap().len(), 0, "{v}");
    let (_, human, _) = run_in(root, &["impact", "--since", "HEAD"]);
    assert!(human.contains("no platform files; no new findings; 1 fixed"), "{human}");
}

/// The rule pages are derived data, not committed: `explain --write-docs DIR` writes one page per
/// rule of the model, each the model's text for that code, and a new rule needs no page edit.
#[test]
fn the_rule_pages_are_generated_from_the_model() {
    let model = invariant_lsp::model::load_default_model();
    assert!(model.rules.len() > 20, "the default model has its rules");
    let out = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run_in(&repo(), &["explain", "--write-docs", out.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("wrote {} rule pages", model.rules.len())),
        "{stderr}"
    );
    let mut expected = std::collections::BTreeSet::new();
    for rule in &model.rules {
        let page = invariant_lsp::cli::docs::rule_page(&rule.code);
        let have = std::fs::read_to_string(out.path().join(&page)).unwrap_or_default();
        assert!(have.starts_with(&format!("# `{}`", rule.code)), "{page}: {have}");
        assert!(have.contains(rule.explanation.trim()), "{page} lacks the explanation");
        assert_eq!(
            have,
            invariant_lsp::cli::docs::rule_markdown(rule, model.name.as_deref()),
            "{page}"
        );
        assert!(
            expected.insert(out.path().join(page)),
            "two rules share the page of {}",
            rule.code
        );
    }
    let present: std::collections::BTreeSet<PathBuf> = walk(out.path()).into_iter().collect();
    assert_eq!(present, expected, "one page per rule, nothing else");
    assert!(
        !repo().join("docs/rules").exists() || !git_tracked(&repo(), "docs/rules"),
        "docs/rules is generated (`invariant-lsp explain --write-docs docs/rules`), not committed"
    );
}

/// Whether git tracks anything under `path` (false outside a git checkout).
fn git_tracked(root: &Path, path: &str) -> bool {
    Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "--", path])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
}

#[test]
fn the_editor_gets_fix_all_and_code_actions_honour_context_only() {
    let dir = fixture_repo();
    let root = dir.path();
    let path = root.join("deploy/legacy/kustomization.yaml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nbases:\n  - ../base\n";
    std::fs::write(&path, text).unwrap();
    let mut client = lsp_client::Client::start(root, json!({}));
    // Requests that race the background indexing are cancelled by it: start when it is done.
    client.wait("indexing done", |m| {
        m["method"] == "invariant/status" && m["params"]["state"] == "ready"
    });
    let uri = client.open(&path, text);
    let diagnostics = client.diagnostics(&uri, 1);
    assert!(lsp_client::codes(&diagnostics).contains(&"kustomize/deprecated-field".to_string()));
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 4, "character": 0}});
    let mut ask = |only: Value| {
        let mut context = json!({"diagnostics": diagnostics});
        if !only.is_null() {
            context["only"] = only;
        }
        let response = client.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": whole, "context": context}),
        );
        response["result"].as_array().cloned().unwrap_or_default()
    };
    let kinds = |actions: &[Value]| -> Vec<String> {
        actions
            .iter()
            .map(|a| a["kind"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let fix_all = ask(json!(["source.fixAll"]));
    assert_eq!(
        kinds(&fix_all),
        vec!["source.fixAll.invariant".to_string()],
        "{fix_all:?}"
    );
    let edits = &fix_all[0]["edit"]["documentChanges"][0]["edits"];
    assert_eq!(edits.as_array().unwrap().len(), 1, "{edits}");
    assert_eq!(edits[0]["newText"], "resources");
    assert_eq!(edits[0]["range"]["start"]["line"], 2);
    let quick = ask(json!(["quickfix"]));
    assert!(
        !quick.is_empty() && kinds(&quick).iter().all(|k| k == "quickfix"),
        "{quick:?}"
    );
    assert!(ask(json!(["refactor"])).is_empty());
    let default = ask(Value::Null);
    assert!(
        kinds(&default).iter().all(|k| k == "quickfix"),
        "no source actions unless asked: {default:?}"
    );
    client.shutdown();
}

#[test]
fn the_editor_shows_baselined_findings_as_hints_and_new_ones_as_they_are() {
    let dir = fixture_repo();
    let root = dir.path();
    let (code, _, stderr) = run_in(root, &["check", "--write-baseline", "baseline.json"]);
    assert_eq!(code, 0, "{stderr}");
    let config = std::fs::read_to_string(root.join(".invariant.yaml")).unwrap();
    std::fs::write(
        root.join(".invariant.yaml"),
        format!("{config}\nbaseline: baseline.json\n"),
    )
    .unwrap();
    let path = root.join(DEPLOYMENT);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut client = lsp_client::Client::start(root, json!({}));
    client.wait("indexing done", |m| {
        m["method"] == "invariant/status" && m["params"]["state"] == "ready"
    });
    let uri = client.open(&path, &text);
    let before = client.diagnostics(&uri, 1);
    assert!(!before.is_empty());
    // Every finding of the file is in the baseline: all hints (severity 4).
    assert!(before.iter().all(|d| d["severity"] == 4), "{before:?}");
    // A new violation typed into the document keeps its own severity.
    let new_text = format!(
        "{text}\nfunc adaptSecret(cpContext component.WorkloadContext, s *corev1.Secret) error {{\n\ts.StringData = map[string]string{{\"at\": time.Now().String()}}\n\treturn nil\n}}\n"
    );
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": new_text}]}),
    );
    let after = client.diagnostics(&uri, 2);
    let not_hints: Vec<&Value> = after.iter().filter(|d| d["severity"] != 4).collect();
    assert_eq!(not_hints.len(), 1, "{after:?}");
    assert_eq!(not_hints[0]["code"], "adapt-purity/clock");
    assert_eq!(not_hints[0]["severity"], 1);
    client.shutdown();
}
