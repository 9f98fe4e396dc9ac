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
    Path::new(env!("CARGO_MANIFEST_DIR")).canonicalize().unwrap()
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
    assert!(short.contains("findings per rule"), "{short}");
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
            && l.contains("control-plane-operator/controllers/hostedcontrolplane/v2/ingress/deployment.go,line=24,")),
        "{out}"
    );
    assert!(annotations.iter().any(|l| l.starts_with("::warning ")), "{out}");
    assert!(out.contains("findings per rule"), "the human log follows: {out}");

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

/// `.invariant.yaml` of a fixture repository with `level` for each of `codes` (and nothing else).
fn set_severities(root: &Path, codes: &[String], level: &str) {
    let mut text = String::from("severity:\n");
    for code in codes {
        text.push_str(&format!("  {code}: {level}\n"));
    }
    std::fs::write(root.join(".invariant.yaml"), text).unwrap();
}

/// The codes `check` reports on `root` at `severity` (`error`, `warning`, ...).
fn codes_at(root: &Path, severity: &str) -> Vec<String> {
    let (_, out, _) = run_in(root, &["check", "--format", "json"]);
    let mut found: Vec<String> = json(&out)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == severity)
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect();
    found.sort();
    found.dedup();
    found
}

#[test]
fn a_right_baseline_gives_no_advice_with_new_from_rev_in_any_format() {
    let dir = fixture_repo();
    let root = dir.path();
    let (code, _, stderr) = run_in(root, &["check", "--write-baseline", "baseline.json"]);
    assert_eq!(code, 0, "{stderr}");
    let config = std::fs::read_to_string(root.join(".invariant.yaml")).unwrap_or_default();
    std::fs::write(
        root.join(".invariant.yaml"),
        format!("{config}\nbaseline: baseline.json\n"),
    )
    .unwrap();
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "baseline"]);
    add_violation(root);
    for format in ["human", "short", "github", "json", "sarif", "rdjson", "checkstyle"] {
        let (code, out, stderr) = run_in(root, &["check", "--new-from-rev", "HEAD", "--format", format]);
        assert_eq!(code, 1, "the new violation fails the run ({format}): {stderr}");
        assert!(!out.contains("no longer match"), "{format}: {out}");
        assert!(!stderr.contains("no longer match"), "{format}: {stderr}");
        assert!(
            out.contains("adapt-purity/"),
            "the new finding is reported ({format}): {out}"
        );
        if format == "json" {
            let report = json(&out);
            assert_eq!(report["baseline"]["unmatched"], json!([]), "{out}");
            assert!(report["baseline"]["suppressed"].as_u64().unwrap() >= 15, "{out}");
        }
    }
}

#[test]
fn fail_on_sets_the_lowest_severity_that_fails() {
    let dir = fixture_repo();
    let root = dir.path();
    let errors = codes_at(root, "error");
    assert!(!errors.is_empty());
    // Only warnings left: `error` (the default) passes, `warning` and `note` fail.
    set_severities(root, &errors, "warning");
    assert!(codes_at(root, "error").is_empty());
    assert_eq!(run_in(root, &["check"]).0, 0);
    assert_eq!(run_in(root, &["check", "--fail-on", "error"]).0, 0);
    assert_eq!(run_in(root, &["check", "--fail-on", "warning"]).0, 1);
    assert_eq!(run_in(root, &["check", "--fail-on", "note"]).0, 1);
    // Only notes: `warning` passes, `note` fails.
    let warnings = codes_at(root, "warning");
    let mut all = errors.clone();
    all.extend(warnings);
    set_severities(root, &all, "info");
    assert!(codes_at(root, "warning").is_empty() && codes_at(root, "error").is_empty());
    assert_eq!(run_in(root, &["check", "--fail-on", "warning"]).0, 0);
    assert_eq!(run_in(root, &["check", "--fail-on", "note"]).0, 1);
    let (code, _, stderr) = run_in(root, &["check", "--fail-on", "critical"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--fail-on"), "{stderr}");
}

#[test]
fn human_output_leads_with_errors_and_ends_with_severities_per_rule() {
    let sample = repo().join("tests/sample-workspace");
    let (code, out, _) = run_in(&sample, &["check", "--color", "never"]);
    assert_eq!(code, 1);
    let headers: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("error[") || l.starts_with("warning[") || l.starts_with("note["))
        .collect();
    let rank = |l: &str| match l.split('[').next() {
        Some("error") => 0,
        Some("warning") => 1,
        _ => 2,
    };
    assert!(
        headers.iter().any(|l| rank(l) == 0) && headers.iter().any(|l| rank(l) == 1),
        "{out}"
    );
    assert!(
        headers.windows(2).all(|w| rank(w[0]) <= rank(w[1])),
        "errors first, then warnings, then notes: {headers:#?}"
    );
    let summary = out.split("findings per rule").nth(1).expect("a per-rule summary");
    let rows: Vec<&str> = summary.lines().skip(1).take_while(|l| l.starts_with(' ')).collect();
    assert!(
        rows.iter()
            .any(|r| r.contains(" error ") && r.ends_with("capi-boundary/provider-read")),
        "{summary}"
    );
    let severities: Vec<usize> = rows
        .iter()
        .map(|r| match r.split_whitespace().nth(1) {
            Some("error") => 0,
            Some("warning") => 1,
            Some("note") => 2,
            other => panic!("a row without its severity: {other:?} in {r:?}"),
        })
        .collect();
    assert!(severities.windows(2).all(|w| w[0] <= w[1]), "{summary}");
    assert!(out.trim_end().lines().last().unwrap().contains(" checked"), "{out}");
}

/// A copy of the sample workspace with `copies` more copies of the NodePool controller's
/// capacity file (each its own package), so that every rule it breaks fires many times.
fn crowded_repo(copies: usize) -> tempfile::TempDir {
    let dir = fixture_repo();
    let from = dir.path().join("hypershift-operator/controllers/nodepool");
    for i in 0..copies {
        let to = dir.path().join(format!("hypershift-operator/controllers/nodepool{i}"));
        copy_dir(&from, &to);
    }
    dir
}

#[test]
fn github_annotations_are_capped_per_type_and_the_step_summary_has_everything() {
    let dir = crowded_repo(12);
    let root = dir.path();
    let summary = root.join("step-summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let out = bin()
        .args(["check", "--format", "github"])
        .current_dir(root)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let count = |prefix: &str| stdout.lines().filter(|l| l.starts_with(prefix)).count();
    let (errors, warnings) = (count("::error "), count("::warning "));
    assert_eq!(errors, 10, "GitHub shows 10 per type: {stdout}");
    assert!(warnings <= 10, "{stdout}");
    let (_, json_out, _) = run_in(root, &["check", "--format", "json"]);
    let total = json(&json_out)["diagnostics"].as_array().unwrap().len();
    assert!(total > 20, "{total}");
    let annotated = errors + warnings + count("::notice ");
    assert!(
        stdout.contains(&format!("{} more findings are not annotated", total - annotated)),
        "{stdout}"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("earlier step\n### invariant-lsp check"),
        "appended: {md}"
    );
    assert!(md.contains("| Rule | Severity | Findings |"), "{md}");
    assert!(md.contains("| `capi-boundary/provider-read` | error |"), "{md}");
    assert!(md.contains("more findings: see the step's log"), "{md}");

    // Without the variable nothing is written anywhere.
    let (code, _, _) = run_in(root, &["check", "--format", "github"]);
    assert_eq!(code, 1);
}

#[test]
fn sarif_names_where_the_tool_is_documented() {
    let sample = repo().join("tests/sample-workspace");
    let (_, out, _) = run_in(&sample, &["check", "--format", "sarif"]);
    let sarif = json(&out);
    let uri = sarif["runs"][0]["tool"]["driver"]["informationUri"]
        .as_str()
        .unwrap_or_default();
    assert!(uri.starts_with("https://"), "{out}");
    assert!(sarif_schema().is_valid(&sarif));
}

/// Runs the binary with a stdout whose reading end is already closed.
fn with_closed_stdout(dir: &Path, args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    bin()
        .args(args)
        .current_dir(dir)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let sample = repo().join("tests/sample-workspace");
    for args in [
        &["explain"][..],
        &["explain", "capi-boundary/provider-read"],
        &["check"],
        &["check", "--format", "json"],
        &["schema", "model"],
        &["model", "verify"],
    ] {
        let out = with_closed_stdout(&sample, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{args:?}: {stderr}");
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(
                out.status.signal(),
                Some(libc::SIGPIPE),
                "{args:?}: {:?} {stderr}",
                out.status
            );
        }
    }
}

#[test]
fn fix_diff_is_minimal_one_line_per_rename() {
    let dir = fixture_repo();
    let root = dir.path();
    let overlay = root.join("deploy/legacy");
    std::fs::create_dir_all(&overlay).unwrap();
    let text = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nbases:\n  - ../base\nnamePrefix: legacy-\nnamespace: legacy\ncommonAnnotations:\n  team: fleet\n  owner: platform\n  tier: data-plane\nreplicas:\n  - name: web\n    count: 2\nimageTags:\n  - name: nginx\n    newTag: \"1.25\"\n";
    std::fs::write(overlay.join("kustomization.yaml"), text).unwrap();
    let (code, diff, stderr) = run_in(root, &["check", "--fix", "--diff"]);
    assert_eq!(code, 1, "{stderr}");
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| (l.starts_with('-') || l.starts_with('+')) && !l.starts_with("---") && !l.starts_with("+++"))
        .collect();
    assert_eq!(changed, ["-bases:", "+resources:", "-imageTags:", "+images:"], "{diff}");
    assert_eq!(diff.matches("\n@@ ").count(), 2, "one hunk per rename: {diff}");
    // The diff applies: `git apply --check` reads it as a patch of the work tree.
    let patch = root.join("fix.patch");
    std::fs::write(&patch, &diff).unwrap();
    git(root, &["apply", "--check", patch.to_str().unwrap()]);
}

/// `action.yml` as JSON.
fn action() -> Value {
    let text = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

#[test]
fn the_action_is_valid_action_metadata() {
    // SchemaStore's schema for action.yml, vendored (tests/schemas/README.md says from where).
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/schemas/github-action.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let action = action();
    let errors: Vec<String> = validator
        .iter_errors(&action)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // And the schema does reject what GitHub rejects (a step with neither `run` nor `uses`).
    let mut broken = action.clone();
    broken["runs"]["steps"][0] = json!({"name": "nothing to do"});
    assert!(!validator.is_valid(&broken));
}

/// The values of `${{ ... }}` expressions the runner would substitute, for the ones the action
/// uses; any other expression fails the test (it would not be tested).
struct Contexts {
    action_path: PathBuf,
    inputs: std::collections::BTreeMap<String, String>,
    outputs: std::collections::BTreeMap<String, String>,
}

impl Contexts {
    fn eval(&self, text: &str) -> String {
        let re = regex::Regex::new(r"\$\{\{\s*([^}]*?)\s*\}\}").unwrap();
        re.replace_all(text, |c: &regex::Captures| {
            let e = &c[1];
            if e == "github.action_path" {
                self.action_path.display().to_string()
            } else if e == "runner.os" {
                "Linux".to_string()
            } else if let Some(name) = e.strip_prefix("inputs.") {
                self.inputs
                    .get(name)
                    .unwrap_or_else(|| panic!("no input {name}"))
                    .clone()
            } else if let Some(rest) = e.strip_prefix("steps.") {
                let (id, name) = rest.split_once(".outputs.").unwrap_or_else(|| panic!("{e}"));
                self.outputs.get(&format!("{id}.{name}")).cloned().unwrap_or_default()
            } else {
                panic!("an expression the test cannot evaluate (and the runner may not either): {e}")
            }
        })
        .into_owned()
    }
}

/// Runs the action's steps as a runner would for `with` (its `run` steps with `bash -e`, each
/// step's `env:` evaluated, `$GITHUB_OUTPUT` and `$GITHUB_PATH` carried to the next steps) in the
/// workspace `workspace`. `cargo` is a stand-in that checks its arguments and links the binary
/// under test where `cargo build` would put it. Returns each step's exit code by name and the
/// evaluated cache key.
fn run_action(workspace: &Path, with: &[(&str, &str)], summary: &Path) -> (Vec<(String, i32)>, String, String) {
    let action = action();
    let scratch = tempfile::tempdir().unwrap();
    let action_path = scratch.path().join("action");
    for file in ["action.yml", "Cargo.toml", "Cargo.lock"] {
        std::fs::create_dir_all(&action_path).unwrap();
        std::fs::copy(repo().join(file), action_path.join(file)).unwrap();
    }
    for dir in ["server", "domain-models", "grammars-queries"] {
        copy_dir(&repo().join(dir), &action_path.join(dir));
    }
    let tools = scratch.path().join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    let cargo = tools.join("cargo");
    std::fs::write(
        &cargo,
        format!(
            "#!/bin/sh\nset -e\n[ \"$*\" = \"build --release --locked --manifest-path {manifest} --bin invariant-lsp\" ] || {{ echo \"unexpected: cargo $*\" >&2; exit 3; }}\nmkdir -p {release}\nln -sf {bin} {release}/invariant-lsp\n",
            manifest = action_path.join("Cargo.toml").display(),
            release = action_path.join("target/release").display(),
            bin = env!("CARGO_BIN_EXE_invariant-lsp"),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&cargo, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut contexts = Contexts {
        action_path: action_path.clone(),
        inputs: action["inputs"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v["default"].as_str().unwrap_or("").to_string()))
            .collect(),
        outputs: Default::default(),
    };
    for (k, v) in with {
        assert!(contexts.inputs.contains_key(*k), "the action has no input {k}");
        contexts.inputs.insert(k.to_string(), v.to_string());
    }
    let (output_file, path_file) = (scratch.path().join("output"), scratch.path().join("path"));
    let mut codes = Vec::new();
    let mut cache_key = String::new();
    let mut logs = String::new();
    for step in action["runs"]["steps"].as_array().unwrap() {
        let name = step["name"].as_str().unwrap().to_string();
        if let Some(uses) = step["uses"].as_str() {
            if uses.starts_with("actions/cache@") {
                cache_key = contexts.eval(step["with"]["key"].as_str().unwrap());
                for path in step["with"]["path"].as_str().unwrap().lines() {
                    contexts.eval(path);
                }
            }
            continue;
        }
        std::fs::write(&output_file, "").unwrap();
        let script = scratch.path().join("step.sh");
        let run = step["run"].as_str().unwrap();
        assert!(
            !run.contains("${{"),
            "{name}: expressions go through env:, not into the script"
        );
        std::fs::write(&script, run).unwrap();
        let mut path = format!("{}:{}", tools.display(), std::env::var("PATH").unwrap());
        for added in std::fs::read_to_string(&path_file).unwrap_or_default().lines() {
            path = format!("{added}:{path}");
        }
        let mut command = Command::new("bash");
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(workspace)
            .env("PATH", path)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", workspace)
            .env("GITHUB_ACTION_PATH", &action_path)
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_PATH", &path_file)
            .env("GITHUB_STEP_SUMMARY", summary)
            .env("RUNNER_OS", "Linux");
        for (k, v) in step["env"].as_object().into_iter().flatten() {
            command.env(k, contexts.eval(v.as_str().unwrap()));
        }
        let out = command.output().unwrap();
        logs.push_str(&format!(
            "--- {name}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
        if let Some(id) = step["id"].as_str() {
            for line in std::fs::read_to_string(&output_file).unwrap().lines() {
                let (k, v) = line.split_once('=').unwrap();
                contexts.outputs.insert(format!("{id}.{k}"), v.to_string());
            }
        }
        codes.push((name, out.status.code().unwrap_or(-1)));
    }
    (codes, cache_key, logs)
}

#[test]
fn the_actions_steps_run_with_the_github_environment() {
    let dir = fixture_repo();
    let root = dir.path();
    let summary = root.join("summary.md");
    // Two paths; warnings fail the step.
    let (codes, key, logs) = run_action(
        root,
        &[
            ("path", "hypershift-operator control-plane-operator"),
            ("fail-on", "warning"),
            ("upload-sarif", "false"),
        ],
        &summary,
    );
    let code = |name: &str| codes.iter().find(|(n, _)| n == name).map(|(_, c)| *c);
    assert_eq!(code("Cache key"), Some(0), "{logs}");
    assert_eq!(code("Build invariant-lsp"), Some(0), "{logs}");
    assert_eq!(
        code("Check"),
        Some(0),
        "the step records the exit code and goes on: {logs}"
    );
    assert_eq!(code("Exit status"), Some(1), "{logs}");
    let hash = key.strip_prefix("invariant-lsp-Linux-").unwrap_or_default();
    assert_eq!(hash.len(), 64, "a sha256 of the action's files: {key}");
    assert!(logs.contains("::error file="), "{logs}");
    let sarif = json(&std::fs::read_to_string(root.join("invariant.sarif")).unwrap());
    let uris: std::collections::BTreeSet<String> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .map(|u| u.split('/').next().unwrap().to_string())
        .collect();
    assert_eq!(
        uris.into_iter().collect::<Vec<_>>(),
        ["control-plane-operator", "hypershift-operator"],
        "both paths and only them"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("### invariant-lsp check"), "{md}");

    // A clean tree (every finding below the threshold) passes; the cache key is the same for the
    // same action files.
    let errors = codes_at(root, "error");
    let warnings = codes_at(root, "warning");
    set_severities(root, &[errors, warnings].concat(), "info");
    let (codes, same_key, logs) = run_action(root, &[("upload-sarif", "false")], &summary);
    assert!(codes.iter().all(|(_, c)| *c == 0), "{codes:?} {logs}");
    assert_eq!(same_key, key);

    // A usage error is exit 2 whatever `fail-on-findings` says.
    let (codes, _, logs) = run_action(
        root,
        &[
            ("path", "no-such-dir"),
            ("fail-on-findings", "false"),
            ("upload-sarif", "false"),
        ],
        &summary,
    );
    assert_eq!(codes.last().unwrap().1, 2, "{logs}");
}

/// The `pre-commit` tool from PyPI: on PATH, else in a virtualenv under ~/.cache (created here
/// when missing). None when neither works (PyPI unreachable): the caller skips, loudly.
fn pre_commit_tool() -> Option<PathBuf> {
    if let Ok(out) = Command::new("pre-commit").arg("--version").output() {
        if out.status.success() {
            return Some(PathBuf::from("pre-commit"));
        }
    }
    let home = std::env::var_os("HOME")?;
    let venv = Path::new(&home).join(".cache/invariant-lsp-tests/pre-commit-venv");
    let tool = venv.join("bin/pre-commit");
    if !tool.exists() {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .ok()?
            .success()
            && Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "pre-commit"])
                .status()
                .ok()?
                .success();
        if !made {
            return None;
        }
    }
    Some(tool)
}

/// A bare repository (under `cache`) whose `main` is this work tree as it is now, tracked and
/// untracked files alike (ignored ones not): what a user would push. Returns it and the commit.
/// The same tree gives the same commit, so pre-commit's environment is reused across runs.
fn hooks_repository(cache: &Path) -> (PathBuf, String) {
    let bare = cache.join("hooks.git");
    if !bare.exists() {
        std::fs::create_dir_all(&bare).unwrap();
        git(&bare, &["init", "-q", "--bare", "-b", "main"]);
    }
    let git_dir = format!("--git-dir={}", bare.display());
    let work_tree = format!("--work-tree={}", repo().display());
    git(&repo(), &[&git_dir, &work_tree, "add", "-A", "."]);
    let tree = git(&repo(), &[&git_dir, "write-tree"]).trim().to_string();
    let head = Command::new("git")
        .args([&git_dir, "rev-parse", "-q", "--verify", "refs/heads/main"])
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    if !head.is_empty() && git(&repo(), &[&git_dir, "rev-parse", &format!("{head}^{{tree}}")]).trim() == tree {
        return (bare, head);
    }
    let mut args = vec![
        git_dir.clone(),
        "commit-tree".into(),
        tree,
        "-m".into(),
        "snapshot".into(),
    ];
    if !head.is_empty() {
        args.extend(["-p".to_string(), head]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let commit = git(&repo(), &args).trim().to_string();
    git(&repo(), &[&git_dir, "update-ref", "refs/heads/main", &commit]);
    (bare, commit)
}

#[test]
fn pre_commit_installs_the_hooks_and_runs_them() {
    let Some(pre_commit) = pre_commit_tool() else {
        eprintln!("\n\n*** SKIPPED pre_commit_installs_the_hooks_and_runs_them: pre-commit is not installed and could not be installed from PyPI ***\n\n");
        return;
    };
    // Under target/: pre-commit's environments and cargo's build of the hooks survive reruns
    // (the crate is compiled again only when the work tree changed).
    let cache = repo().join("target/pre-commit");
    let (hooks, rev) = hooks_repository(&cache);
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: invariant-check\n      - id: invariant-check-new\n",
        hooks.display()
    );
    let run = |root: &Path, hook: &str| {
        std::fs::write(root.join(".pre-commit-config.yaml"), &config).unwrap();
        git(root, &["add", ".pre-commit-config.yaml"]);
        let started = std::time::Instant::now();
        let out = Command::new(&pre_commit)
            .args(["run", hook, "--all-files", "--color", "never"])
            .current_dir(root)
            .env("PRE_COMMIT_HOME", cache.join("home"))
            .env("CARGO_TARGET_DIR", cache.join("target"))
            // pre-commit's own command (`cargo install --bins --root <env> --path .`), with an
            // unoptimised profile: what is tested is the install and the hooks, not the speed,
            // and an optimised build of the crate takes minutes on a small machine.
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
            .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
            .output()
            .unwrap();
        eprintln!("pre-commit run {hook}: {:.1} s", started.elapsed().as_secs_f64());
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };

    // A tree with violations: the hook fails and prints the findings.
    let dirty = fixture_repo();
    let (code, out) = run(dirty.path(), "invariant-check");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("invariant-lsp check") && out.contains("Failed"), "{out}");
    assert!(
        out.contains("hypershift-operator/controllers/nodepool/capacity.go:23:")
            && out.contains("capi-boundary/provider-read"),
        "the finding is printed: {out}"
    );
    // New findings only: the committed ones pass, a new one fails.
    let (code, out) = run(dirty.path(), "invariant-check-new");
    assert_eq!(code, Some(0), "nothing new relative to HEAD: {out}");
    add_violation(dirty.path());
    let (code, out) = run(dirty.path(), "invariant-check-new");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("adapt-purity/"), "{out}");

    // A clean tree passes.
    let clean = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(clean.path().join("hypershift-operator/controllers/nodepool")).unwrap();
    std::fs::write(
        clean.path().join("hypershift-operator/controllers/nodepool/clean.go"),
        "package nodepool\n\nfunc replicas(n int32) int32 { return n }\n",
    )
    .unwrap();
    git(clean.path(), &["init", "-q", "-b", "main"]);
    git(clean.path(), &["add", "."]);
    git(clean.path(), &["commit", "-q", "-m", "clean"]);
    let (code, out) = run(clean.path(), "invariant-check");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Passed"), "{out}");
}

/// Every `include_str!`/`include_bytes!` path under `dir`, resolved against the including file
/// and made relative to the repository root.
fn included_files(dir: &Path, out: &mut Vec<String>) {
    let re = regex::Regex::new(r#"include_(?:str|bytes)!\(\s*"([^"]+)"\s*\)"#).unwrap();
    for path in walk(dir) {
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for c in re.captures_iter(&text) {
            let target = path.parent().unwrap().join(&c[1]).canonicalize().unwrap();
            out.push(target.strip_prefix(repo()).unwrap().to_string_lossy().into_owned());
        }
    }
}

#[test]
fn the_crate_is_publishable_with_what_its_build_reads() {
    let cargo = env!("CARGO");
    let out = Command::new(cargo)
        .args(["package", "--list", "--allow-dirty"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed: std::collections::BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let mut needed = vec![
        "Cargo.toml".to_string(),
        "Cargo.lock".to_string(),
        "README.md".to_string(),
        "server/build.rs".to_string(),
        "server/src/main.rs".to_string(),
        "domain-models/domain-model.schema.json".to_string(),
    ];
    included_files(&repo().join("server/src"), &mut needed);
    assert!(needed.iter().any(|n| n.starts_with("domain-models/")), "{needed:?}");
    assert!(needed.iter().any(|n| n.starts_with("grammars-queries/")), "{needed:?}");
    for n in &needed {
        assert!(
            listed.contains(n),
            "{n} is read by the build but not in the package: {listed:#?}"
        );
    }
    assert!(
        !listed
            .iter()
            .any(|f| f.starts_with("tests/") || f.starts_with("fuzz/") || f.starts_with("editors/")),
        "only what the build needs: {listed:#?}"
    );
    // What crates.io checks before it accepts the package (metadata, the manifest as rewritten
    // for publishing); the build of the packaged sources is `--no-verify`d here because it
    // compiles the whole crate again (README says how to run the full check).
    let out = Command::new(cargo)
        .args(["publish", "--dry-run", "--allow-dirty", "--no-verify"])
        .current_dir(repo())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && stderr.contains("crates.io index") {
        eprintln!("\n\n*** SKIPPED the publish dry run: the crates.io index is unreachable ***\n{stderr}\n");
        return;
    }
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("Uploading invariant-lsp"), "{stderr}");
    // The test targets stay out of the package (they need the fixtures); nothing else warns.
    let other_warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .filter(|l| {
            !l.contains("is not included in the published package") && !l.contains("aborting upload due to dry run")
        })
        .collect();
    assert!(other_warnings.is_empty(), "{stderr}");
}

/// One command of a README block marked `<!-- runnable -->`: the command line (after `$ `),
/// the exit status it expects (`# exit N` at its end, else 0) and the output shown under it.
struct ReadmeCommand {
    line: usize,
    command: String,
    exit: i32,
    shown: Vec<String>,
}

fn runnable_readme_commands(readme: &str) -> Vec<ReadmeCommand> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut commands = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() != "<!-- runnable -->" {
            i += 1;
            continue;
        }
        assert!(
            lines.get(i + 1).is_some_and(|l| l.starts_with("```")),
            "README.md:{}: `<!-- runnable -->` must come right before a fenced block",
            i + 1
        );
        i += 2;
        while i < lines.len() && !lines[i].starts_with("```") {
            let Some(command) = lines[i].strip_prefix("$ ") else {
                panic!("README.md:{}: a runnable block starts with a `$ ` command line", i + 1)
            };
            let (command, exit) = match command.rsplit_once("# exit ") {
                Some((c, n)) => (c.trim_end().to_string(), n.trim().parse().unwrap()),
                None => (command.to_string(), 0),
            };
            let line = i + 1;
            i += 1;
            let mut shown = Vec::new();
            while i < lines.len() && !lines[i].starts_with("```") && !lines[i].starts_with("$ ") {
                shown.push(lines[i].to_string());
                i += 1;
            }
            commands.push(ReadmeCommand {
                line,
                command,
                exit,
                shown,
            });
        }
        i += 1;
    }
    commands
}

/// Whether `actual` is what `shown` shows: the same lines (trailing blanks aside), where a line
/// `...` stands for any number of lines.
fn shows(shown: &[String], actual: &str) -> bool {
    let actual: Vec<&str> = actual.lines().map(str::trim_end).collect();
    let parts: Vec<Vec<&str>> = shown
        .split(|l| l.trim() == "...")
        .map(|p| p.iter().map(|l| l.trim_end()).collect())
        .collect();
    let open_start = shown.first().is_some_and(|l| l.trim() == "...");
    let open_end = shown.last().is_some_and(|l| l.trim() == "...");
    let mut at = 0;
    for (n, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        let anchored = n == 0 && !open_start;
        let found = (at..=actual.len().saturating_sub(part.len()))
            .filter(|&s| !anchored || s == 0)
            .find(|&s| actual.len() >= s + part.len() && actual[s..s + part.len()] == part[..]);
        match found {
            Some(s) => at = s + part.len(),
            None => return false,
        }
    }
    open_end || at == actual.len()
}

#[test]
fn the_readmes_runnable_commands_print_what_it_shows() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let commands = runnable_readme_commands(&readme);
    assert!(commands.len() >= 4, "the README marks its commands runnable");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_invariant-lsp"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let mut failures = Vec::new();
    for c in &commands {
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-c", &c.command])
            .current_dir(repo())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let code = out.status.code().unwrap_or(-1);
        if code != c.exit {
            failures.push(format!(
                "README.md:{}: `{}` exited {code}, not {}: {}",
                c.line,
                c.command,
                c.exit,
                String::from_utf8_lossy(&out.stderr)
            ));
        } else if !c.shown.is_empty() && !shows(&c.shown, &stdout) {
            failures.push(format!(
                "README.md:{}: `{}` printed\n{stdout}\nnot what the README shows:\n{}",
                c.line,
                c.command,
                c.shown.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn readme_output_matching_is_strict_where_it_shows_lines() {
    let shown = |s: &str| s.lines().map(str::to_string).collect::<Vec<_>>();
    assert!(shows(&shown("a\nb"), "a\nb\n"));
    assert!(!shows(&shown("a\nb"), "a\nb\nc\n"));
    assert!(!shows(&shown("a\nc"), "a\nb\nc\n"));
    assert!(shows(&shown("a\n...\nc"), "a\nb\nc\n"));
    assert!(shows(&shown("...\nb\n..."), "a\nb\nc\n"));
    assert!(!shows(&shown("...\nd\n..."), "a\nb\nc\n"));
    assert!(!shows(&shown("b\n..."), "a\nb\nc\n"));
}
