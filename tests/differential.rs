//! Differential test of the editor path: random sequences of incremental edits, applied through
//! the server's document layer exactly as `didChange` applies them (rope, `Tree::edit`,
//! incremental reparse, salsa revisions, a check after every change), must end in the same
//! diagnostics as a from-scratch check of the final text in a fresh database — and in the text
//! a naive reference model of LSP synchronisation computes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use proptest::prelude::*;

use invariant_lsp::config::Config;
use invariant_lsp::db::{Database, Workspace};
use invariant_lsp::ide::host::Engine;
use invariant_lsp::lsp::document::{Change, Document};
use invariant_lsp::model::CompiledModel;
use invariant_lsp::text::Encoding;
use invariant_lsp::vfs::from_editor;

#[allow(dead_code)]
#[path = "../fuzz/src/harness.rs"]
mod harness;

const ADAPT: &str = "control-plane-operator/controllers/hostedcontrolplane/v2/widget/deployment.go";
const HELPERS: &str = "control-plane-operator/controllers/hostedcontrolplane/v2/widget/helpers.go";
const NODEPOOL_GO: &str = "hypershift-operator/controllers/nodepool/conditions.go";
const NODEPOOL_YAML: &str = "clusters/dev/nodepools.yaml";

/// Files the edited one lives with (unchanged: cross-file results must follow the edits).
const WORKSPACE: &[(&str, &str)] = &[
    (
        HELPERS,
        "package widget\n\nimport \"time\"\n\nfunc stamp() string { return time.Now().String() }\n\nfunc pure() string { return \"x\" }\n",
    ),
    (
        "clusters/dev/hostedcluster.yaml",
        "apiVersion: hypershift.openshift.io/v1beta1\nkind: HostedCluster\nmetadata:\n  name: dev\n  namespace: clusters\nspec:\n  release:\n    image: quay.io/openshift-release-dev/ocp-release:4.18.2-x86_64\n  platform:\n    type: AWS\n",
    ),
];

/// Starting texts, each with findings to lose and regain.
const SEEDS: &[(&str, &str)] = &[
    (
        ADAPT,
        "package widget\n\nimport (\n\t\"os\"\n\tcomponent \"github.com/openshift/hypershift/support/controlplane-component\"\n)\n\nfunc adaptDeployment(cpContext component.WorkloadContext, d *Deployment) error {\n\td.Stamp = stamp()\n\td.Name = pure()\n\t_, _ = os.ReadFile(\"x\")\n\treturn nil\n}\n",
    ),
    (
        NODEPOOL_GO,
        "package nodepool\n\nimport (\n\t\"strings\"\n\n\tcapz \"sigs.k8s.io/cluster-api-provider-azure/api/v1beta1\"\n\thyperv1 \"github.com/openshift/hypershift/api/hypershift/v1beta1\"\n)\n\nvar m = &capz.AzureMachine{}\n\nfunc c(msgs []string) *hyperv1.NodePoolCondition {\n\treturn &hyperv1.NodePoolCondition{\n\t\tType:    \"CapacityError\",\n\t\tReason:  \"capacity_error\",\n\t\tMessage: strings.Join(msgs, \"; \"),\n\t}\n}\n",
    ),
    (
        NODEPOOL_YAML,
        "apiVersion: hypershift.openshift.io/v1beta1\nkind: NodePool\nmetadata:\n  name: workers # é 😀\n  namespace: clusters\nspec:\n  clusterName: dev\n  replicas: 2\n  autoScaling:\n    min: 5\n    max: 3\n  management:\n    upgradeType: InPlace\n    replace:\n      strategy: RollingUpdate\n  platform:\n    type: Azure\n  release:\n    image: quay.io/openshift-release-dev/ocp-release:4.19.0-x86_64\n",
    ),
];

/// What gets typed: tokens that make and break findings, brackets that break syntax, and
/// characters of every UTF-8/UTF-16 width.
const SNIPPETS: &[&str] = &[
    "",
    "\n",
    " ",
    "\t",
    "{",
    "}",
    "(",
    ")",
    "\"",
    "`",
    ":",
    "- ",
    "  ",
    "# ",
    "//",
    "é",
    "😀",
    "\r\n",
    "time.Now()",
    "os.",
    "capz.",
    "rand.Int()",
    "stamp()",
    "pure()",
    "func ",
    "return nil\n",
    "\"reason_x\"",
    "invariant:ignore adapt-purity -- why",
    "replicas: 3\n",
    "autoScaling:\n",
    "min: 9",
    "kind: NodePool\n",
    "&a ",
    "*a",
    "---\n",
    "[",
    "]",
];

#[derive(Debug, Clone)]
struct Script {
    seed: usize,
    encoding: Encoding,
    batches: Vec<Vec<Change>>,
}

fn coordinate(small: u32) -> impl Strategy<Value = u32> {
    prop_oneof![9 => 0..small, 1 => Just(u32::MAX - 1)]
}

fn change() -> impl Strategy<Value = Change> {
    let text = prop_oneof![
        8 => prop::sample::select(SNIPPETS).prop_map(str::to_string),
        2 => prop::collection::vec(prop::sample::select(SNIPPETS), 0..4).prop_map(|v| v.concat()),
    ];
    let range = prop_oneof![
        30 => (coordinate(24), coordinate(40), coordinate(24), coordinate(40)).prop_map(Some),
        1 => Just(None),
    ];
    (range, text).prop_map(|(range, text)| Change {
        range: range.map(|(sl, sc, el, ec)| ((sl, sc), (el, ec))),
        text,
    })
}

fn script() -> impl Strategy<Value = Script> {
    (
        0..SEEDS.len(),
        prop::bool::ANY,
        prop::collection::vec(prop::collection::vec(change(), 1..4), 1..5),
    )
        .prop_map(|(seed, utf8, batches)| Script {
            seed,
            encoding: if utf8 { Encoding::Utf8 } else { Encoding::Utf16 },
            batches,
        })
}

/// The model and configuration, compiled once (as a server holds them across edits).
static MODEL: LazyLock<(Arc<CompiledModel>, Arc<Config>)> = LazyLock::new(|| {
    let engine = Engine::new(Database::default(), root(), &[]);
    (engine.model(), engine.config())
});

fn root() -> PathBuf {
    std::env::temp_dir()
}

/// A fresh database holding the workspace files, with the compiled model.
fn fresh_engine() -> Engine {
    let db = Database::default();
    let ws = Workspace::new(
        &db,
        root(),
        Arc::new(Vec::new()),
        MODEL.0.clone(),
        MODEL.1.clone(),
        Arc::new(Vec::new()),
    );
    let mut engine = Engine {
        db,
        ws,
        root: root(),
        files: HashMap::new(),
        model_errors: Vec::new(),
    };
    for (rel, text) in WORKSPACE {
        engine.set_text(rel, Arc::from(*text), None);
    }
    engine
}

type Summary = Vec<(String, Vec<(String, invariant_lsp::facts::Span, String, String)>)>;

fn all_findings(engine: &Engine) -> Summary {
    let mut out: Summary = engine
        .check_files(&engine.all_files())
        .into_iter()
        .map(|(file, findings)| (file.path(&engine.db).clone(), harness::summary(&findings)))
        .collect();
    out.sort();
    out
}

fn run(script: &Script) -> Result<(), TestCaseError> {
    let (rel, initial) = SEEDS[script.seed];
    // The editor's side: open, then each batch as one didChange, checked after each.
    let mut editor = fresh_engine();
    editor.set_text(rel, from_editor(initial.to_string()).0, None);
    editor.sync_file_set();
    let mut doc = Document::new(1, initial);
    let mut expected = initial.to_string();
    all_findings(&editor);
    for batch in &script.batches {
        harness::did_change(&mut editor, rel, &mut doc, batch, script.encoding);
        for change in batch {
            harness::reference_apply(&mut expected, change, script.encoding);
        }
        prop_assert_eq!(
            doc.text(),
            expected.clone(),
            "the document disagrees with the reference model"
        );
        all_findings(&editor);
    }
    // From scratch: a new database, the final text read as `check` reads a file.
    let mut scratch = fresh_engine();
    let (text, note) = invariant_lsp::vfs::from_bytes(expected.clone().into_bytes());
    scratch.set_text(rel, text, note);
    scratch.sync_file_set();
    let incremental = all_findings(&editor);
    let from_scratch = all_findings(&scratch);
    prop_assert_eq!(incremental, from_scratch, "final text:\n{}", expected);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        max_shrink_iters: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn incremental_edits_end_in_the_diagnostics_of_a_fresh_check(script in script()) {
        run(&script)?;
    }
}

/// The seeds do have findings, so the property compares something.
#[test]
fn seeds_have_findings() {
    for (rel, text) in SEEDS {
        let mut engine = fresh_engine();
        engine.set_text(rel, Arc::from(*text), None);
        engine.sync_file_set();
        let findings = all_findings(&engine);
        let own = findings
            .iter()
            .find(|(p, _)| p == rel)
            .map(|(_, f)| f.len())
            .unwrap_or(0);
        assert!(own >= 2, "{rel}: {findings:?}");
    }
}
