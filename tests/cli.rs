//! The command line as CI uses it: exit codes, the JSON contract, SARIF validated against the
//! official 2.1.0 schema, located model errors, `explain`, and the shipped JSON Schema.

#[path = "support/sarif.rs"]
mod sarif;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

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

#[test]
fn json_output_follows_the_contract() {
    let (code, stdout, _) = run_in(&repo(), &["check", "tests/sample-workspace", "--format", "json"]);
    assert_eq!(code, 1, "errors in the sample mean exit 1");
    let v: Value = serde_json::from_str(&stdout).expect("stdout is only JSON");
    assert_eq!(v["version"], 1);
    assert!(v["files_checked"].as_u64().unwrap() >= 7);
    let diagnostics = v["diagnostics"].as_array().unwrap();
    let read = diagnostics
        .iter()
        .find(|d| d["code"] == "capi-boundary/provider-read")
        .unwrap();
    assert_eq!(
        read["path"],
        "tests/sample-workspace/hypershift-operator/controllers/nodepool/capacity.go"
    );
    assert_eq!(read["severity"], "error");
    assert_eq!(
        read["range"]["start"]["line"], 22,
        "0-based line of `&capiazure.AzureMachine{{}}`"
    );
    assert_eq!(read["fixes"][0]["title"], "Use the annotation bridge");
    let chain = diagnostics.iter().find(|d| d["code"] == "adapt-purity/clock").unwrap();
    assert_eq!(chain["related"].as_array().unwrap().len(), 2, "{chain}");
    for d in diagnostics {
        for key in ["path", "range", "severity", "code", "message", "related", "fixes"] {
            assert!(d.get(key).is_some(), "{key} missing in {d}");
        }
    }
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let (code, stdout, _) = run_in(&repo(), &["check", "tests/sample-workspace", "--format", "sarif"]);
    assert_eq!(code, 1);
    let sarif: Value = serde_json::from_str(&stdout).expect("stdout is only SARIF");
    let validator = sarif::sarif_schema();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "SARIF schema violations: {errors:#?}");
    // And it reads as typed SARIF.
    let typed: serde_sarif::sarif::Sarif = serde_json::from_value(sarif.clone()).unwrap();
    assert_eq!(typed.runs.len(), 1);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "capi-boundary/provider-read"));
    // A clean tree still has a results array.
    let clean = tempfile::tempdir().unwrap();
    std::fs::write(clean.path().join("x.go"), "package x\n").unwrap();
    let (code, stdout, _) = run_in(clean.path(), &["check", "--format", "sarif"]);
    assert_eq!(code, 0);
    let sarif: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(sarif["runs"][0]["results"], Value::Array(vec![]));
}

#[test]
fn a_broken_workspace_model_is_a_located_error_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".invariant.yaml"), "models: [team.yaml]\n").unwrap();
    std::fs::write(
        dir.path().join("team.yaml"),
        "name: team\ncomponents:\n  - id: x\n    pathz: [\"a/**\"]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("a.go"), "package a\n").unwrap();
    let (code, stdout, _) = run_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code, 2);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let error = &v["diagnostics"][0];
    assert_eq!(error["code"], "model/invalid");
    assert_eq!(error["path"], "team.yaml");
    assert_eq!(error["range"]["start"]["line"], 3, "{error}");
    assert!(error["message"].as_str().unwrap().contains("pathz"), "{error}");
    // Human output names file and line too.
    let (_, human, _) = run_in(dir.path(), &["check"]);
    assert!(human.contains("team.yaml:4"), "{human}");
}

#[test]
fn model_files_outside_the_workspace_are_refused() {
    let outer = tempfile::tempdir().unwrap();
    let ws = outer.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(outer.path().join("secret.yaml"), "name: outside\n").unwrap();
    std::fs::write(ws.join(".invariant.yaml"), "models: [../secret.yaml]\n").unwrap();
    let (code, stdout, _) = run_in(&ws, &["check", "--format", "json"]);
    assert_eq!(code, 2);
    assert!(stdout.contains("model/outside-workspace"), "{stdout}");
}

#[test]
fn human_output_and_explain() {
    let (code, stdout, _) = run_in(&repo(), &["check", "tests/sample-workspace", "--color", "never"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("error[capi-boundary/provider-read]"), "{stdout}");
    assert!(stdout.contains("= fix: Use the annotation bridge"), "{stdout}");
    assert!(
        stdout.trim_end().lines().last().unwrap().contains("checked"),
        "a summary line ends the output"
    );
    let (code, explain, _) = run_in(&repo(), &["explain", "capi-boundary/provider-read"]);
    assert_eq!(code, 0);
    assert!(explain.contains("annotation"), "{explain}");
    let (code, _, stderr) = run_in(&repo(), &["explain", "no-such/rule"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no rule"), "{stderr}");
    // The list is the model's rules, in the model's order: every registered rule's codes and
    // the engine's among them (derived, so a new rule needs no edit here).
    let (code, list, _) = run_in(&repo(), &["explain"]);
    assert_eq!(code, 0);
    let listed: Vec<&str> = list
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    let model = invariant_lsp::config::load_workspace(&std::env::temp_dir().join("no-such-root"), &[]).model;
    let in_model: Vec<&str> = model.model.rules.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(listed, in_model);
    for code in invariant_lsp::rules::registry::RULES
        .iter()
        .flat_map(|r| r.codes(&model))
        .chain(
            invariant_lsp::rules::registry::ENGINE_CODES
                .iter()
                .map(|c| c.to_string()),
        )
    {
        assert!(listed.contains(&code.as_str()), "`explain` does not list {code}");
    }
    assert!(listed.contains(&"capi-boundary/provider-read"), "{list}");
}

#[test]
fn the_shipped_schema_matches_the_model_types() {
    let shipped = std::fs::read_to_string(repo().join("domain-models/domain-model.schema.json")).unwrap();
    assert_eq!(
        shipped,
        invariant_lsp::cli::schema(invariant_lsp::cli::SchemaKind::Model),
        "regenerate with `invariant-lsp schema > domain-models/domain-model.schema.json`"
    );
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, stderr) = run_in(&repo(), &["check", "no/such/path"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no such file"), "{stderr}");
}

/// `model verify` checks what the model says the code has (sanctioned helpers, per-cluster
/// decisions, keep-existing options) and never calls a deny list stale: a workspace that builds
/// no hosted-cluster client satisfies `hosted_cluster_reach`, it does not outdate it.
#[test]
fn model_verify_checks_allow_lists_and_leaves_deny_lists_alone() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("go.mod"), "module example.com/op\n\ngo 1.26\n").unwrap();
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(
        root.join("pkg/a.go"),
        "package pkg\n\nimport \"os\"\n\nfunc Home() string { return os.Getenv(\"HOME\") }\n",
    )
    .unwrap();
    let (_, out, stderr) = run_in(root, &["model", "verify", "--format", "json"]);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {stderr}"));
    let messages: Vec<String> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !messages.iter().any(|m| m.contains("hosted_cluster_reach")),
        "a deny list matching nothing is the rule satisfied: {messages:#?}"
    );
    for section in ["adapt.sanctioned", "adapt.per_cluster", "adapt.keep_existing_options"] {
        assert!(
            messages.iter().any(|m| m.contains(&format!("`{section}`"))),
            "{section} names code this workspace lacks: {messages:#?}"
        );
    }
}

/// `explain` of an adapt category lists what the model sanctions for it, and the per-cluster
/// decisions it reports, each with its why.
#[test]
fn explain_shows_what_the_model_sanctions_and_why() {
    let (code, out, stderr) = run_in(&repo(), &["explain", "adapt-purity/environment"]);
    assert_eq!(code, 0, "{stderr}");
    for expected in [
        "`proxy.SetEnvVars` (environment): propagates the management cluster's proxy settings",
        "`netutil.isAroHCP` (environment): the documented Phase 1 fallback",
        "`azureutil.GetKeyVaultAuthorizedUser`",
        "`azureutil.IsAroHCP` → `azureutil.IsAroHCPByHCP(cpContext.HCP)`",
        "**Pass-through (not a finding).**",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let (_, clock, _) = run_in(&repo(), &["explain", "adapt-purity/clock"]);
    assert!(!clock.contains("proxy.SetEnvVars"), "{clock}");
}

/// Hover over an adapt function that reaches a sanctioned helper says which, and why.
#[test]
fn hover_names_the_sanctioned_helper_and_why() {
    use invariant_lsp::config::ConfigChoice;
    use invariant_lsp::ide::analysis::AnalysisHost;
    let root = repo().join("tests/fixtures/adapt-relevance");
    let mut rels = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                rels.push(path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut host = AnalysisHost::new(root.clone(), &[], &ConfigChoice::Workspace);
    host.load(&rels);
    let analysis = host.analysis();
    let rel = "control-plane-operator/controllers/hostedcontrolplane/v2/demo/env.go";
    let text = std::fs::read_to_string(root.join(rel)).unwrap();
    let offset = text.find("func adaptProxy").unwrap() + "func ".len() + 2;
    let hover = analysis.hover(analysis.file(rel).unwrap(), offset).expect("a hover");
    assert!(hover.contains("**Sanctioned by the model (not findings):**"), "{hover}");
    assert!(
        hover.contains("`proxy.SetEnvVars` (environment): propagates the management cluster's proxy settings"),
        "{hover}"
    );
}
