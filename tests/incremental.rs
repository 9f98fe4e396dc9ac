//! Editing one file re-derives that file's syntax and facts only: counted through salsa's
//! execution events.

use std::sync::Arc;

use invariant_lsp::db::Database;
use invariant_lsp::ide::host::Engine;

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

/// A workspace on disk with a `go.mod`: an adapt package that calls two other packages.
fn cross_package_engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("go.mod", "module github.com/openshift/hypershift\n\ngo 1.26\n"),
        (
            "support/netutil/netutil.go",
            "package netutil\n\nimport \"os\"\n\nfunc IsAroHCP() bool { return os.Getenv(\"MANAGED_SERVICE\") == \"ARO-HCP\" }\n",
        ),
        (
            "support/names/names.go",
            "package names\n\nfunc Join(a, b string) string { return a + \"-\" + b }\n",
        ),
        (
            "control-plane-operator/controllers/hostedcontrolplane/v2/kas/deployment.go",
            "package kas\n\nimport (\n\t\"github.com/openshift/hypershift/support/names\"\n\t\"github.com/openshift/hypershift/support/netutil\"\n\tcomponent \"github.com/openshift/hypershift/support/controlplane-component\"\n)\n\nfunc adaptThing(cpContext component.WorkloadContext, s *S) error {\n\tif netutil.IsAroHCP() {\n\t\ts.V = names.Join(\"a\", \"b\")\n\t}\n\treturn nil\n}\n",
        ),
    ];
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let root = dir.path().canonicalize().unwrap();
    let mut engine = Engine::new(Database::with_execution_log(), root.clone(), &[]);
    let rels = invariant_lsp::vfs::discover(&root, std::slice::from_ref(&root), &engine.config().filter());
    engine.load(&rels);
    (dir, engine)
}

fn count(log: &[String], query: &str) -> usize {
    log.iter().filter(|e| e.starts_with(query)).count()
}

#[test]
fn an_edit_re_derives_its_package_summary_and_only_the_dependents_whose_inputs_changed() {
    let (_dir, mut engine) = cross_package_engine();
    // Impure through another package, found through the go.mod's module path.
    assert_eq!(check_all(&engine), vec!["adapt-purity/environment"]);
    let log = engine.db.take_executions();
    assert_eq!(
        count(&log, "package_purity"),
        3,
        "the adapt package and its two imports: {log:?}"
    );

    // An edit that leaves the summary as it was (a new pure function): netutil's summary is
    // re-derived, compares equal, and the adapt package's summary is not recomputed.
    engine.set_text(
        "support/netutil/netutil.go",
        Arc::from("package netutil\n\nimport \"os\"\n\nfunc IsAroHCP() bool { return os.Getenv(\"MANAGED_SERVICE\") == \"ARO-HCP\" }\n\nfunc Port() int { return 6443 }\n"),
        None,
    );
    assert_eq!(check_all(&engine), vec!["adapt-purity/environment"]);
    let log = engine.db.take_executions();
    assert_eq!(count(&log, "go_facts"), 1, "{log:?}");
    assert_eq!(count(&log, "package_purity"), 1, "only netutil's summary: {log:?}");
    assert_eq!(
        count(&log, "file_findings"),
        1,
        "only the edited file's findings: {log:?}"
    );

    // An edit that changes the summary (the helper now reads the clock, not the environment):
    // netutil and its dependent are re-derived; the unrelated `names` package is not.
    engine.set_text(
        "support/netutil/netutil.go",
        Arc::from("package netutil\n\nimport \"time\"\n\nfunc IsAroHCP() bool { return time.Now().Year() > 2000 }\n\nfunc Port() int { return 6443 }\n"),
        None,
    );
    assert_eq!(check_all(&engine), vec!["adapt-purity/clock"]);
    let log = engine.db.take_executions();
    assert_eq!(
        count(&log, "package_purity"),
        2,
        "netutil and the adapt package, not names: {log:?}"
    );
}

/// `text` with `old` (once) replaced by `new`, and `tree` edited to match, as the editor's
/// document layer hands it to the engine.
fn edit(text: &str, tree: &mut tree_sitter::Tree, old: &str, new: &str) -> String {
    let start = text.find(old).expect("the edited text");
    let point = |offset: usize| {
        let before = &text[..offset];
        let row = before.matches('\n').count();
        let column = offset - before.rfind('\n').map_or(0, |i| i + 1);
        tree_sitter::Point { row, column }
    };
    let edited = format!("{}{new}{}", &text[..start], &text[start + old.len()..]);
    let new_end = start + new.len();
    let new_before = &edited[..new_end];
    tree.edit(&tree_sitter::InputEdit {
        start_byte: start,
        old_end_byte: start + old.len(),
        new_end_byte: new_end,
        start_position: point(start),
        old_end_position: point(start + old.len()),
        new_end_position: tree_sitter::Point {
            row: new_before.matches('\n').count(),
            column: new_end - new_before.rfind('\n').map_or(0, |i| i + 1),
        },
    });
    edited
}

/// The tests that count [`invariant_lsp::facts::go::declarations_walked`] (one counter for the
/// process) take turns.
fn counting() -> std::sync::MutexGuard<'static, ()> {
    static COUNTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    COUNTING.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn an_edit_inside_one_function_re_walks_only_that_function() {
    use invariant_lsp::facts::go::declarations_walked;
    let _counting = counting();
    let (_dir, mut engine) = cross_package_engine();
    let rel = "support/names/names.go";
    let mut text = String::from(
        "package names\n\nimport \"strings\"\n\n// Join joins.\nfunc Join(a, b string) string { return a + \"-\" + b }\n\nfunc Upper(s string) string { return strings.ToUpper(s) }\n\ntype Name struct{ V string }\n\nfunc (n Name) String() string { return Join(n.V, \"name\") }\n",
    );
    assert_eq!(check_all(&engine), vec!["adapt-purity/environment"]);
    let mut tree = invariant_lsp::syntax::parse(invariant_lsp::syntax::Lang::Go, &text, None)
        .tree
        .unwrap();
    // Every edit below goes inside `String`'s body; a first one fills the cache.
    for (old, new) in [
        ("\"name\"", "\"nam\""),
        ("\"nam\"", "\"names\""),
        ("\"names\"", "\"nameZ\""),
    ] {
        text = edit(&text, &mut tree, old, new);
        let file = engine.set_text_with_tree(rel, Arc::from(text.as_str()), None, Some(tree.clone()));
        engine.db.take_executions();
        let walked = declarations_walked();
        assert_eq!(check_all(&engine), vec!["adapt-purity/environment"]);
        let log = engine.db.take_executions();
        let walked = declarations_walked() - walked;
        // The facts are those of a from-scratch extraction.
        let facts = invariant_lsp::db::go_facts(&engine.db, file.unwrap());
        tree = invariant_lsp::db::parse_file(&engine.db, file.unwrap())
            .tree
            .clone()
            .unwrap();
        let mut scratch = invariant_lsp::facts::go::extract(
            &invariant_lsp::syntax::parse(invariant_lsp::syntax::Lang::Go, &text, None)
                .tree
                .unwrap(),
            &text,
        );
        scratch.parse = facts.parse;
        assert_eq!(**facts, scratch, "after {old} → {new}");
        assert_eq!(count(&log, "go_facts"), 1, "{log:?}");
        if old == "\"nam\"" || old == "\"names\"" {
            // The package clause, the import, the comment, `Join`, `Upper` and `Name` are
            // reused: only `String` is walked again.
            assert_eq!(walked, 1, "after {old} → {new}: {log:?}");
        }
        if old == "\"names\"" {
            // Same length, nothing the purity summary holds: the file's summary is re-derived,
            // compares equal, and no package summary re-runs.
            assert_eq!(count(&log, "file_purity"), 1, "{log:?}");
            assert_eq!(count(&log, "package_purity"), 0, "{log:?}");
        }
    }
}

/// The flow facts (types, variables' types, result types, reference fields) and loop facts
/// (range loops, names bound to calls) are per declaration too: after an edit inside `first`
/// that moves `second`, the reused facts are those of a from-scratch extraction, `second`'s
/// loop and bound call have moved with it, and only `first` is walked again.
#[test]
fn flow_and_loop_facts_of_unchanged_declarations_are_reused_and_moved() {
    use invariant_lsp::facts::go::{declarations_walked, extract, extract_reusing};
    use invariant_lsp::syntax::{parse, Lang};
    let _counting = counting();
    let capi = "sigs.k8s.io/cluster-api/api/core/v1beta1";
    let mut text = format!(
        "package p

import (
	capiv1 \"{capi}\"
	\"sigs.k8s.io/controller-runtime/pkg/client\"
)

type Machines = []capiv1.Machine

func first(ms []*capiv1.Machine) error {{
	for _, m := range ms {{
		_ = m.Spec.InfrastructureRef
	}}
	return nil
}}

func second(ctx context.Context) (*capiv1.MachineSet, error) {{
	c, err := client.New(cfg, client.Options{{}})
	list := &capiv1.MachineList{{}}
	for _, m := range list.Items {{
		_ = c.Get(ctx, key(m), &capiv1.MachineSet{{}})
	}}
	opts := capiv1.MachineSpec{{ClusterName: \"x\"}}
	_ = opts
	return nil, err
}}
"
    );
    let mut tree = parse(Lang::Go, &text, None).tree.unwrap();
    let before = extract_reusing(&tree, &text);
    assert_eq!(before, extract(&tree, &text));
    let second_loop = |facts: &invariant_lsp::facts::go::GoFacts| {
        let l = facts
            .loops
            .range_loops
            .iter()
            .find(|l| l.range_text == "list.Items")
            .cloned();
        l.expect("second's loop")
    };
    let mut moved = 0;
    for (old, new) in [
        (
            "\t\t_ = m.Spec",
            "\t\tif m == nil {\n\t\t\tcontinue\n\t\t}\n\t\t_ = m.Spec",
        ),
        (
            "return nil\n}\n\nfunc second",
            "return client.IgnoreNotFound(nil)\n}\n\nfunc second",
        ),
    ] {
        text = edit(&text, &mut tree, old, new);
        moved += new.len() - old.len();
        let edited = parse(Lang::Go, &text, Some(&tree)).tree.unwrap();
        let walked = declarations_walked();
        let reused = extract_reusing(&edited, &text);
        let walked = declarations_walked() - walked;
        let scratch = extract(&parse(Lang::Go, &text, None).tree.unwrap(), &text);
        assert_eq!(reused.flow, scratch.flow, "after {old:?}");
        assert_eq!(reused.loops, scratch.loops, "after {old:?}");
        assert_eq!(reused, scratch, "after {old:?}");
        assert_eq!(walked, 1, "only `first` is walked again after {old:?}");
        tree = edited;
        // `second`'s facts, reused, moved with it and resolved against the file's imports.
        let (was, now) = (second_loop(&before), second_loop(&reused));
        assert_eq!(now.header.start, was.header.start + moved as u32);
        assert!(text[now.header.range()].starts_with("for _, m := range list.Items"));
        let element = now.element.as_ref().expect("the element type");
        assert_eq!(
            (element.import.as_deref(), element.name.as_str()),
            (Some(capi), "Machine")
        );
        let second = reused
            .functions
            .iter()
            .position(|f| f.name.as_deref() == Some("second"));
        assert_eq!(now.function, second.map(|i| i as u32));
        let bound = reused
            .loops
            .bound_calls
            .iter()
            .find(|b| b.name == "c")
            .expect("c := client.New(..)");
        assert_eq!(
            bound.import.as_deref(),
            Some("sigs.k8s.io/controller-runtime/pkg/client")
        );
        assert_eq!(&text[bound.span.range()], "client.New(cfg, client.Options{})");
        let second = second.unwrap() as u32;
        let results: Vec<_> = reused
            .flow
            .results_of(second)
            .iter()
            .map(|t| (t.import.as_deref(), t.name.as_str()))
            .collect();
        assert_eq!(results, [(Some(capi), "MachineSet"), (None, "error")]);
        let list = reused
            .flow
            .var_type(&reused, Some(second), "list")
            .expect("list's type");
        assert_eq!(
            (list.import.as_deref(), list.name.as_str()),
            (Some(capi), "MachineList")
        );
        assert_eq!(
            reused.flow.var_fields_of(second, "opts"),
            Some(&["ClusterName".to_string()][..])
        );
        let alias = &reused.flow.type_aliases[0];
        assert_eq!(
            (alias.name.as_str(), alias.target.import.as_deref()),
            ("Machines", Some(capi))
        );
    }
}

/// A generic file whose provider read has the annotation-bridge fix.
const BRIDGED: &str = "package nodepool\n\nimport (\n\t\"context\"\n\t\"fmt\"\n\n\tcapiaws \"sigs.k8s.io/cluster-api-provider-aws/v2/api/v1beta2\"\n\tcapiv1 \"sigs.k8s.io/cluster-api/api/core/v1beta1\"\n\t\"sigs.k8s.io/controller-runtime/pkg/client\"\n)\n\nfunc states(ctx context.Context, c client.Client, machines []capiv1.Machine) []string {\n\tvar out []string\n\tfor _, machine := range machines {\n\t\tawsMachine := &capiaws.AWSMachine{}\n\t\tkey := client.ObjectKey{Namespace: machine.Namespace, Name: machine.Spec.InfrastructureRef.Name}\n\t\tif err := c.Get(ctx, key, awsMachine); err != nil {\n\t\t\tcontinue\n\t\t}\n\t\tif awsMachine.Status.FailureReason != nil {\n\t\t\tout = append(out, fmt.Sprintf(\"%s: %s\", machine.Name, *awsMachine.Status.FailureReason))\n\t\t}\n\t}\n\treturn out\n}\n\nfunc other() string { return \"x\" }\n";

/// The findings of `rel`, computed on this thread (the parse counter is per thread).
fn findings_here(engine: &Engine, rel: &str) -> Vec<invariant_lsp::rules::Finding> {
    invariant_lsp::rules::findings(&engine.db, engine.ws, engine.files[rel]).to_vec()
}

/// Issue 29.1 and 29.2: a document opened in the editor holds its tree; a keystroke in it
/// (even the first) reparses incrementally only: the annotation-bridge fix is found in the
/// held tree, never by a parse from scratch, and only the edited declaration is walked. The
/// findings, fixes included, are those of a cold check of the same text.
#[test]
fn a_keystroke_in_an_open_document_with_a_bridge_fix_parses_nothing_from_scratch() {
    use invariant_lsp::facts::go::declarations_walked;
    use invariant_lsp::syntax::{parse, scratch_parses, Lang};
    let _counting = counting();
    let rel = "hypershift-operator/controllers/nodepool/states.go";
    let dir = tempfile::tempdir().unwrap();
    let mut engine = Engine::new(Database::default(), dir.path().to_path_buf(), &[]);
    engine.set_text(rel, Arc::from(BRIDGED), None);
    engine.sync_file_set();
    // didOpen: the tree, parsed once, is held.
    let mut tree = parse(Lang::Go, BRIDGED, None).tree.unwrap();
    engine.hold_tree(rel, tree.clone());
    let opened = findings_here(&engine, rel);
    assert!(
        opened.iter().any(|f| f.code == "capi-boundary/provider-read"
            && f.fixes.iter().any(|x| x.title == "Use the annotation bridge")),
        "{opened:?}"
    );
    let mut text = BRIDGED.to_string();
    for (old, new) in [("\"x\"", "\"xy\""), ("\"xy\"", "\"xyz\"")] {
        text = edit(&text, &mut tree, old, new);
        engine.set_text_with_tree(rel, Arc::from(text.as_str()), None, Some(tree.clone()));
        let parses = scratch_parses(Lang::Go);
        let walked = declarations_walked();
        let typed = findings_here(&engine, rel);
        assert_eq!(
            scratch_parses(Lang::Go) - parses,
            0,
            "after {old} → {new}: a parse from scratch"
        );
        assert_eq!(
            declarations_walked() - walked,
            1,
            "after {old} → {new}: only `other` is walked"
        );
        tree = invariant_lsp::db::parse_file(&engine.db, engine.files[rel])
            .tree
            .clone()
            .unwrap();
        // The same findings and fixes as a cold check of this text.
        let cold_dir = tempfile::tempdir().unwrap();
        let mut cold = Engine::new(Database::default(), cold_dir.path().to_path_buf(), &[]);
        cold.set_text(rel, Arc::from(text.as_str()), None);
        cold.sync_file_set();
        assert_eq!(typed, findings_here(&cold, rel), "after {old} → {new}");
    }
}
