//! Editing one file re-derives that file's syntax and facts only: counted through salsa's
//! execution events.

use std::sync::Arc;

use invariant_lsp::db::Database;
use invariant_lsp::workspace::Engine;

const GENERIC: &str = "package nodepool\n\nimport capz \"sigs.k8s.io/cluster-api-provider-azure/api/v1beta1\"\n\nvar m = &capz.AzureMachine{}\n";
const HELPER: &str = "package widget\n\nfunc stamp() string { return \"x\" }\n";
const ADAPT: &str = "package widget\n\nimport component \"github.com/openshift/hypershift/support/controlplane-component\"\n\nfunc adaptThing(cpContext component.WorkloadContext, s *S) error {\n\ts.V = stamp()\n\treturn nil\n}\n";

fn engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let mut engine = Engine::new(Database::with_execution_log(), dir.path().to_path_buf(), &[]);
    let widget = "control-plane-operator/controllers/hostedcontrolplane/v2/widget";
    for (rel, text) in [
        ("hypershift-operator/controllers/nodepool/capacity.go", GENERIC),
        (&format!("{widget}/helpers.go")[..], HELPER),
        (&format!("{widget}/deployment.go")[..], ADAPT),
    ] {
        engine.set_text(rel, Arc::from(text), None);
    }
    engine.sync_file_set();
    (dir, engine)
}

fn check_all(engine: &Engine) -> Vec<String> {
    let mut codes = Vec::new();
    for (_, findings) in engine.check_files(&engine.all_files()) {
        codes.extend(findings.iter().map(|f| f.code.clone()));
    }
    codes.sort();
    codes
}

#[test]
fn editing_one_file_reparses_only_that_file() {
    let (_dir, mut engine) = engine();
    assert_eq!(check_all(&engine), vec!["capi-boundary/provider-read"]);
    let log = engine.db.take_executions();
    // Trees are memoized only for documents being edited: the facts queries parse the others.
    assert_eq!(log.iter().filter(|e| e.starts_with("parse_file")).count(), 0, "{log:?}");
    assert_eq!(log.iter().filter(|e| e.starts_with("go_facts")).count(), 3, "{log:?}");

    // Nothing changed: nothing re-executes.
    check_all(&engine);
    assert_eq!(engine.db.take_executions(), Vec::<String>::new());

    // Make the helper impure: only helpers.go is re-parsed, and the adapt function in the other
    // file of the same package now has a finding through the package's call graph.
    let impure = HELPER
        .replace("return \"x\"", "return time.Now().String()")
        .replace("package widget\n", "package widget\n\nimport \"time\"\n");
    engine.set_text(
        "control-plane-operator/controllers/hostedcontrolplane/v2/widget/helpers.go",
        Arc::from(impure),
        None,
    );
    let codes = check_all(&engine);
    let log = engine.db.take_executions();
    assert_eq!(codes, vec!["adapt-purity/clock", "capi-boundary/provider-read"]);
    assert_eq!(log.iter().filter(|e| e.starts_with("parse_file")).count(), 0, "{log:?}");
    assert_eq!(log.iter().filter(|e| e.starts_with("go_facts")).count(), 1, "{log:?}");
    // The other package's findings were not recomputed.
    assert_eq!(
        log.iter().filter(|e| e.starts_with("file_findings")).count(),
        2,
        "{log:?}"
    );
}

#[test]
fn go_files_no_rule_can_concern_are_not_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let mut engine = Engine::new(Database::with_execution_log(), dir.path().to_path_buf(), &[]);
    // Outside every component, without condition words or suppressions: nothing to check.
    engine.set_text(
        "cmd/tool/main.go",
        Arc::from("package main\n\nfunc main() { println(\"hi\") }\n"),
        None,
    );
    // Same place, but with a condition: parsed and checked.
    engine.set_text(
        "cmd/tool/status.go",
        Arc::from("package main\n\nvar c = metav1.Condition{Type: \"A\", Status: \"True\", Reason: \"x y\"}\n"),
        None,
    );
    engine.sync_file_set();
    assert_eq!(check_all(&engine), vec!["condition-naming/reason-literal"]);
    let log = engine.db.take_executions();
    assert_eq!(log.iter().filter(|e| e.starts_with("go_facts")).count(), 1, "{log:?}");
}
