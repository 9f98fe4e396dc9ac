//! The model's `flows:` name real functions: each step's function exists in its file in the
//! real HyperShift tree (`$HYPERSHIFT_TREE`, default /work/hypershift; skipped loudly without it).

use std::path::PathBuf;

#[test]
fn every_flow_step_names_a_function_that_exists() {
    let tree = PathBuf::from(std::env::var("HYPERSHIFT_TREE").unwrap_or_else(|_| "/work/hypershift".into()));
    if !tree.join("hypershift-operator").is_dir() {
        eprintln!(
            "SKIPPED: no HyperShift tree at {} (set HYPERSHIFT_TREE)",
            tree.display()
        );
        return;
    }
    let model = invariant_lsp::model::load_default_model();
    assert!(!model.flows.is_empty(), "the default model has flows");
    let mut checked = 0;
    for flow in &model.flows {
        for step in &flow.steps {
            let (Some(function), Some(file)) = (&step.function, &step.file) else {
                continue;
            };
            let text = std::fs::read_to_string(tree.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            // `(*Recv).name` is a method, `pkg.Name` a package function.
            let pattern = match function.strip_prefix("(*").and_then(|r| r.split_once(").")) {
                Some((recv, name)) => format!(r"func \(\w+ \*?{recv}\) {name}[\[(]"),
                None => {
                    let name = function.rsplit('.').next().unwrap();
                    format!(r"func {name}[\[(]")
                }
            };
            let re = regex::Regex::new(&pattern).unwrap();
            assert!(re.is_match(&text), "{function} not found in {file} ({pattern})");
            checked += 1;
        }
    }
    assert!(checked >= 4, "{checked}");
}
