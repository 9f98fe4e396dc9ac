//! Code actions as edits, applied without an editor: the edited files parse cleanly and the
//! finding they fix is gone.

use std::sync::Arc;

use invariant_lsp::db::{parse_file, Database};
use invariant_lsp::facts::Span;
use invariant_lsp::ide::actions::{actions, apply, Action};
use invariant_lsp::ide::host::Engine;

fn engine(files: &[(&str, &str)]) -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let mut engine = Engine::new(Database::default(), dir.path().to_path_buf(), &[]);
    for (rel, text) in files {
        engine.set_text(rel, Arc::from(*text), None);
    }
    engine.sync_file_set();
    (dir, engine)
}

fn codes(engine: &Engine, rel: &str) -> Vec<String> {
    let file = engine.files[rel];
    invariant_lsp::rules::findings(&engine.db, engine.ws, file)
        .iter()
        .map(|f| f.code.clone())
        .collect()
}

fn actions_for(engine: &Engine, rel: &str, code: &str) -> Vec<Action> {
    let file = engine.files[rel];
    let findings = invariant_lsp::rules::findings(&engine.db, engine.ws, file);
    let finding = findings
        .iter()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("no {code} in {rel}: {findings:?}"));
    actions(&engine.db, engine.ws, file, &findings, finding.span)
}

/// Applies every file edit of an action to the engine (creating files as needed).
fn apply_action(engine: &mut Engine, action: &Action) {
    for file_edit in &action.files {
        let current = if file_edit.create {
            String::new()
        } else {
            engine
                .files
                .get(&file_edit.path)
                .map(|f| f.text(&engine.db).to_string())
                .unwrap_or_default()
        };
        let new_text = apply(&current, &file_edit.edits);
        engine.set_text(&file_edit.path, Arc::from(new_text), None);
    }
    engine.sync_file_set();
}

fn assert_parses(engine: &Engine, rel: &str) {
    let file = engine.files[rel];
    let tree = parse_file(&engine.db, file).tree.clone().unwrap();
    assert!(
        !tree.root_node().has_error(),
        "{rel} has syntax errors:\n{}",
        file.text(&engine.db)
    );
}

const GENERIC: &str = r#"package nodepool

import (
	"context"
	"fmt"

	capiaws "sigs.k8s.io/cluster-api-provider-aws/v2/api/v1beta2"
	capiv1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func states(ctx context.Context, c client.Client, machines []capiv1.Machine) []string {
	var out []string
	for _, machine := range machines {
		awsMachine := &capiaws.AWSMachine{}
		key := client.ObjectKey{Namespace: machine.Namespace, Name: machine.Spec.InfrastructureRef.Name}
		if err := c.Get(ctx, key, awsMachine); err != nil {
			continue
		}
		if awsMachine.Status.FailureReason != nil {
			out = append(out, fmt.Sprintf("%s: %s", machine.Name, *awsMachine.Status.FailureReason))
		}
	}
	return out
}
"#;

#[test]
fn annotation_bridge_creates_the_platform_file_and_removes_the_finding() {
    let rel = "hypershift-operator/controllers/nodepool/states.go";
    let (_dir, mut engine) = engine(&[(rel, GENERIC)]);
    assert!(codes(&engine, rel).contains(&"capi-boundary/provider-read".to_string()));
    let bridge = actions_for(&engine, rel, "capi-boundary/provider-read")
        .into_iter()
        .find(|a| a.title == "Use the annotation bridge")
        .expect("the bridge is offered");
    assert_eq!(bridge.files.len(), 2);
    let platform = &bridge.files[1];
    assert_eq!(platform.path, "hypershift-operator/controllers/nodepool/aws.go");
    assert!(platform.create, "aws.go does not exist yet, so it is created");
    apply_action(&mut engine, &bridge);
    assert_parses(&engine, rel);
    assert_parses(&engine, "hypershift-operator/controllers/nodepool/aws.go");
    let generic = engine.files[rel].text(&engine.db).to_string();
    assert!(
        generic.contains("awsMachineFailureReason := machine.GetAnnotations()[AWSMachineFailureReasonAnnotation]"),
        "{generic}"
    );
    assert!(generic.contains("if awsMachineFailureReason != \"\""), "{generic}");
    assert!(
        !generic.contains("key :="),
        "the fetch's key goes with the fetch:\n{generic}"
    );
    assert!(
        !generic.contains("capiaws"),
        "the unused provider import goes:\n{generic}"
    );
    let writer = engine.files["hypershift-operator/controllers/nodepool/aws.go"]
        .text(&engine.db)
        .to_string();
    assert!(
        writer.contains(
            "const AWSMachineFailureReasonAnnotation = \"hypershift.openshift.io/aws-machine-failure-reason\""
        ),
        "{writer}"
    );
    assert!(
        writer.contains(
            "func setAWSMachineFailureReasonAnnotation(machine *capiv1.Machine, awsMachine *capiaws.AWSMachine)"
        ),
        "{writer}"
    );
    assert!(
        !codes(&engine, rel).contains(&"capi-boundary/provider-read".to_string()),
        "{:?}",
        codes(&engine, rel)
    );
}

#[test]
fn reason_literal_becomes_a_constant_beside_the_others() {
    let rel = "hypershift-operator/controllers/nodepool/cond.go";
    let text = "package nodepool\n\nimport metav1 \"k8s.io/apimachinery/pkg/apis/meta/v1\"\n\nconst (\n\tQuotaReason = \"Quota\"\n)\n\nvar c = metav1.Condition{Type: \"Ready\", Status: metav1.ConditionFalse, Reason: \"capacity_error\"}\n";
    let (_dir, mut engine) = engine(&[(rel, text)]);
    let action = actions_for(&engine, rel, "condition-naming/reason-literal")
        .into_iter()
        .find(|a| a.title.contains("CapacityErrorReason"))
        .unwrap();
    apply_action(&mut engine, &action);
    assert_parses(&engine, rel);
    let after = engine.files[rel].text(&engine.db).to_string();
    assert!(after.contains("\tCapacityErrorReason = \"CapacityError\"\n"), "{after}");
    assert!(after.contains("Reason: CapacityErrorReason}"), "{after}");
    assert!(codes(&engine, rel).is_empty(), "{:?}", codes(&engine, rel));
}

#[test]
fn suppression_is_inserted_above_with_a_placeholder_that_stays_flagged() {
    let rel = "hypershift-operator/controllers/nodepool/x.go";
    let text = "package nodepool\n\nimport capz \"sigs.k8s.io/cluster-api-provider-azure/api/v1beta1\"\n\nfunc f() {\n\t_ = &capz.AzureMachine{}\n}\n";
    let (_dir, mut engine) = engine(&[(rel, text)]);
    let action = actions_for(&engine, rel, "capi-boundary/provider-read")
        .into_iter()
        .find(|a| a.title.starts_with("Suppress"))
        .unwrap();
    apply_action(&mut engine, &action);
    let after = engine.files[rel].text(&engine.db).to_string();
    assert!(
        after.contains("\t// invariant:ignore capi-boundary/provider-read -- <why this is fine>\n\t_ = &capz"),
        "{after}"
    );
    assert_eq!(
        codes(&engine, rel),
        vec!["suppression/missing-reason".to_string()],
        "the suppression silences the finding, and its placeholder still has to be replaced by a reason"
    );
}

#[test]
fn deprecated_kustomize_key_is_renamed() {
    let rel = "deploy/overlay/kustomization.yaml";
    let text =
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nbases:\n- https://example.com/base?ref=v1\n";
    let (_dir, mut engine) = engine(&[(rel, text)]);
    assert!(
        codes(&engine, rel).contains(&"kustomize/deprecated-field".to_string()),
        "{:?}",
        codes(&engine, rel)
    );
    let file = engine.files[rel];
    let findings = invariant_lsp::rules::findings(&engine.db, engine.ws, file);
    let all = actions(&engine.db, engine.ws, file, &findings, Span::new(0, text.len()));
    let rename = all
        .iter()
        .find(|a| a.code == "kustomize/deprecated-field" && !a.title.starts_with("Suppress"))
        .expect("a rename fix");
    apply_action(&mut engine, rename);
    let after = engine.files[rel].text(&engine.db).to_string();
    assert!(after.contains("\nresources:\n- https://"), "{after}");
    assert!(!codes(&engine, rel).contains(&"kustomize/deprecated-field".to_string()));
}

/// Issue 24.12: a platform file that exists on disk but is not part of the analysis (excluded
/// or git-ignored) gets its imports in its import block and the writer after its code, never
/// before its `package` clause; the file is edited, not created.
#[test]
fn annotation_bridge_on_an_unindexed_platform_file_edits_it_after_the_package_clause() {
    let rel = "hypershift-operator/controllers/nodepool/states.go";
    let platform_rel = "hypershift-operator/controllers/nodepool/aws.go";
    let platform = "// Package nodepool: the AWS parts.\npackage nodepool\n\nimport (\n\t\"context\"\n)\n\nfunc awsOnly(ctx context.Context) error {\n\treturn ctx.Err()\n}\n";
    let (dir, mut engine) = engine(&[(rel, GENERIC)]);
    std::fs::create_dir_all(dir.path().join("hypershift-operator/controllers/nodepool")).unwrap();
    std::fs::write(dir.path().join(platform_rel), platform).unwrap();
    assert!(
        !engine.files.contains_key(platform_rel),
        "the platform file is not analysed"
    );
    let bridge = actions_for(&engine, rel, "capi-boundary/provider-read")
        .into_iter()
        .find(|a| a.title == "Use the annotation bridge")
        .expect("the bridge is offered");
    let edit = bridge
        .files
        .iter()
        .find(|f| f.path == platform_rel)
        .expect("the platform file is edited");
    assert!(!edit.create, "aws.go exists on disk: edited, not created");
    let after = apply(platform, &edit.edits);
    let package_at = after.find("package nodepool").expect("package clause kept");
    let first_import = after.find("import").unwrap();
    assert!(package_at < first_import, "nothing before the package clause:\n{after}");
    assert_eq!(after.matches("package nodepool").count(), 1, "{after}");
    assert!(
        after.starts_with("// Package nodepool: the AWS parts.\npackage nodepool\n"),
        "{after}"
    );
    assert!(after.contains("func awsOnly(ctx context.Context) error"), "{after}");
    assert!(after.contains("func setAWSMachineFailureReasonAnnotation("), "{after}");
    // The edited platform file parses, with its old and new imports in one block.
    engine.set_text(platform_rel, Arc::from(after.clone()), None);
    engine.sync_file_set();
    assert_parses(&engine, platform_rel);
    assert_eq!(after.matches("import (").count(), 1, "{after}");
}
