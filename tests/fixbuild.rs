//! Every quick fix produces code the real tools accept. Each case under `tests/fixbuild/cases/`
//! is a small workspace (`before/`) that is also a Go module: the harness copies it to a
//! temporary directory, writes a `go.mod` whose requirements are replaced by the tiny local stub
//! modules in `tests/fixbuild/stubs/` (so it builds offline in seconds), computes the code
//! actions through the engine, applies the one the case names, compares the changed files with
//! the golden `after/` tree, and then runs `gofmt -l` (must list nothing), `go vet` and
//! `go build` (or `kubectl kustomize` for YAML cases) on the result, and checks the finding is
//! gone. Cases that expect the fix not to be offered check exactly that.
//!
//! `case.json`: `file` (workspace-relative), `code`, `title` (the action's title, or a prefix
//! ending in `*`), `line` (1-based line of the finding, optional), `expect`: `"applied"` or
//! `"not-offered"`, `tool`: `"go"` (default) or `"kustomize"`, `unindexed`: files present on
//! disk that the engine is not given (excluded, ignored, too large, or not indexed yet),
//! `remains`: codes allowed to remain at the fixed place (default: none of `code`), `then`:
//! codes that must be reported in `file` after the fix (a placeholder the user still fills).
//!
//! `INVARIANT_BLESS=1` rewrites the golden `after/` trees. Without `go` (or `kubectl`) on the
//! PATH the build step is skipped loudly; the golden comparison still runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use invariant_lsp::db::Database;
use invariant_lsp::ide::actions::{actions, apply, Action};
use invariant_lsp::ide::host::Engine;

fn fixbuild_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixbuild")
}

fn files_under(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    out
}

const STUBS: &[(&str, &str)] = &[
    ("sigs.k8s.io/cluster-api", "cluster-api"),
    ("sigs.k8s.io/cluster-api-provider-azure", "capz"),
    ("github.com/openshift/cluster-api-provider-agent/api", "agent"),
    ("sigs.k8s.io/controller-runtime", "controller-runtime"),
    ("k8s.io/apimachinery", "apimachinery"),
];

fn go_mod() -> String {
    let stubs = fixbuild_dir().join("stubs").canonicalize().unwrap();
    let mut out = String::from("module github.com/openshift/hypershift\n\ngo 1.22\n\nrequire (\n");
    for (module, _) in STUBS {
        out.push_str(&format!("\t{module} v0.0.0\n"));
    }
    out.push_str(")\n\n");
    for (module, dir) in STUBS {
        out.push_str(&format!("replace {module} => {}\n", stubs.join(dir).display()));
    }
    out
}

/// Whether `tool` can be started at all (its exit status does not matter here).
fn have(tool: &str) -> bool {
    Command::new(tool).arg("--help").output().is_ok()
}

fn run(dir: &Path, program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOWORK", "off")
        .env("GOSUMDB", "off")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

struct Case {
    file: String,
    code: String,
    title: String,
    line: Option<u64>,
    applied: bool,
    kustomize: bool,
    unindexed: Vec<String>,
    remains: Vec<String>,
    then: Vec<String>,
}

fn read_case(dir: &Path) -> Case {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    let strings = |key: &str| -> Vec<String> {
        json[key]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
            .unwrap_or_default()
    };
    Case {
        file: json["file"].as_str().unwrap().to_string(),
        code: json["code"].as_str().unwrap().to_string(),
        title: json["title"].as_str().unwrap().to_string(),
        line: json["line"].as_u64(),
        applied: json["expect"].as_str() != Some("not-offered"),
        kustomize: json["tool"].as_str() == Some("kustomize"),
        unindexed: strings("unindexed"),
        remains: strings("remains"),
        then: strings("then"),
    }
}

fn title_matches(pattern: &str, title: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => title.starts_with(prefix),
        None => title == pattern,
    }
}

/// The findings of `code` in `rel` (on the case's line, when it names one), 1-based lines.
fn findings_at(engine: &Engine, rel: &str, code: &str, line: Option<u64>) -> Vec<invariant_lsp::rules::Finding> {
    let file = engine.files[rel];
    let text = file.text(&engine.db).to_string();
    invariant_lsp::rules::findings(&engine.db, engine.ws, file)
        .iter()
        .filter(|f| f.code == code)
        .filter(|f| line.is_none_or(|l| text[..f.span.start as usize].matches('\n').count() as u64 + 1 == l))
        .cloned()
        .collect()
}

fn run_case(name: &str, dir: &Path, tools: bool) {
    let case = read_case(dir);
    let before = dir.join("before");
    let work = tempfile::tempdir().unwrap();
    let root = work.path().to_path_buf();
    let originals = files_under(&before);
    for (rel, text) in &originals {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    if !case.kustomize {
        std::fs::write(root.join("go.mod"), go_mod()).unwrap();
    }
    let mut engine = Engine::new(Database::default(), root.clone(), &[]);
    let rels: Vec<String> = originals
        .keys()
        .filter(|r| !case.unindexed.contains(r) && (r.ends_with(".go") || r.ends_with(".yaml")))
        .cloned()
        .collect();
    engine.load(&rels);

    let found = findings_at(&engine, &case.file, &case.code, case.line);
    assert!(
        !found.is_empty(),
        "{name}: no {} in {} (line {:?})",
        case.code,
        case.file,
        case.line
    );
    let count_before = findings_at(&engine, &case.file, &case.code, None).len();
    let file = engine.files[case.file.as_str()];
    let all = invariant_lsp::rules::findings(&engine.db, engine.ws, file);
    let offered: Vec<Action> = actions(&engine.db, engine.ws, file, &all, found[0].span)
        .into_iter()
        .filter(|a| a.code == case.code)
        .collect();
    let chosen = offered.iter().find(|a| title_matches(&case.title, &a.title));
    if !case.applied {
        assert!(
            chosen.is_none(),
            "{name}: `{}` must not be offered, got {:?}",
            case.title,
            offered.iter().map(|a| &a.title).collect::<Vec<_>>()
        );
        return;
    }
    let action = chosen.unwrap_or_else(|| {
        panic!(
            "{name}: `{}` not offered; offered: {:?}",
            case.title,
            offered.iter().map(|a| &a.title).collect::<Vec<_>>()
        )
    });

    // `check` lists the fix under the title the editor offers (one naming rule for both).
    if !action.title.starts_with("Suppress") {
        let listed: Vec<&String> = found[0].fixes.iter().map(|f| &f.title).collect();
        assert!(
            listed.contains(&&action.title),
            "{name}: the editor offers `{}`, check lists {listed:?}",
            action.title
        );
    }

    // Apply to disk, exactly as an editor applies a WorkspaceEdit.
    for file_edit in &action.files {
        let path = root.join(&file_edit.path);
        let current = std::fs::read_to_string(&path).ok();
        assert!(
            !(file_edit.create && current.is_some()),
            "{name}: the fix creates {} over an existing file",
            file_edit.path
        );
        let new_text = apply(current.as_deref().unwrap_or(""), &file_edit.edits);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, new_text).unwrap();
    }
    let mut result = files_under(&root);
    result.remove("go.mod");
    result.remove("go.sum");
    let changed: BTreeMap<String, String> = result
        .into_iter()
        .filter(|(rel, text)| originals.get(rel) != Some(text))
        .collect();
    let golden_dir = dir.join("after");
    if std::env::var_os("INVARIANT_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&golden_dir);
        for (rel, text) in &changed {
            let path = golden_dir.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }
    let golden = files_under(&golden_dir);
    assert_eq!(
        changed.keys().collect::<Vec<_>>(),
        golden.keys().collect::<Vec<_>>(),
        "{name}: the fix changes other files than the golden tree"
    );
    for (rel, text) in &changed {
        assert_eq!(text, &golden[rel], "{name}: {rel} differs from the golden file");
    }

    // The finding is gone.
    let changed_rels: Vec<String> = changed.keys().cloned().collect();
    engine.load(&changed_rels);
    if !case.remains.contains(&case.code) {
        // One fewer (a fix that moves lines, such as a suppression, moves the others).
        let left = findings_at(&engine, &case.file, &case.code, None);
        assert!(
            left.len() < count_before && left.iter().all(|f| f.span.start != found[0].span.start),
            "{name}: the finding is still there: {left:?}"
        );
    }

    for code in &case.then {
        assert!(
            !findings_at(&engine, &case.file, code, None).is_empty(),
            "{name}: {code} must be reported after the fix"
        );
    }

    if !tools {
        return;
    }
    if case.kustomize {
        let kdir = Path::new(&case.file).parent().unwrap().to_string_lossy().to_string();
        let (ok, out) = run(&root, "kubectl", &["kustomize", &kdir]);
        assert!(ok, "{name}: kubectl kustomize fails after the fix:\n{out}");
        return;
    }
    let (ok, out) = run(&root, "gofmt", &["-l", "."]);
    assert!(ok && out.trim().is_empty(), "{name}: gofmt -l lists files:\n{out}");
    let (ok, out) = run(&root, "go", &["vet", "./..."]);
    assert!(ok, "{name}: go vet fails after the fix:\n{out}");
    let (ok, out) = run(&root, "go", &["build", "./..."]);
    assert!(ok, "{name}: go build fails after the fix:\n{out}");
}

#[test]
fn every_fix_builds() {
    let cases = fixbuild_dir().join("cases");
    let mut names: Vec<String> = std::fs::read_dir(&cases)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert!(!names.is_empty());
    let go = have("go") && have("gofmt");
    let kubectl = have("kubectl");
    if !go {
        eprintln!("SKIPPED the build step of the Go fix cases: `go`/`gofmt` not on PATH");
    }
    if !kubectl {
        eprintln!("SKIPPED the build step of the kustomize fix cases: `kubectl` not on PATH");
    }
    let only = std::env::var("FIXBUILD_CASE").ok();
    for name in names {
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let dir = cases.join(&name);
        let kustomize = read_case(&dir).kustomize;
        run_case(&name, &dir, if kustomize { kubectl } else { go });
    }
}

#[test]
fn a_broken_fix_fails_the_build_step() {
    // The harness must be able to fail: code that does not compile is caught by `go build`.
    if !(have("go") && have("gofmt")) {
        eprintln!("SKIPPED: `go` not on PATH");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("go.mod"), go_mod()).unwrap();
    std::fs::write(work.path().join("x.go"), "package x\n\nfunc f() { _ = machine }\n").unwrap();
    let (ok, out) = run(work.path(), "go", &["build", "./..."]);
    assert!(!ok, "{out}");
    assert!(out.contains("undefined: machine"), "{out}");
    std::fs::write(
        work.path().join("x.go"),
        "package x\n\nconst (\n\tA = 1\n\tLonger = 2\n)\n",
    )
    .unwrap();
    let (_, out) = run(work.path(), "gofmt", &["-l", "."]);
    assert!(out.contains("x.go"), "gofmt must list a misaligned const block: {out}");
}

/// The real HyperShift tree (`INVARIANT_HYPERSHIFT_TREE`, default `/work/hypershift`), with a
/// complete `vendor/`; `None` (and the test skips loudly) when it is not there.
fn real_tree() -> Option<PathBuf> {
    let tree = std::env::var_os("INVARIANT_HYPERSHIFT_TREE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/hypershift"));
    tree.join("vendor/modules.txt").exists().then_some(tree)
}

/// The two fixes on the real NodePool package, built with the real vendored dependencies: "Did
/// you mean `AgentMachineTemplate`?" on `capi.go`'s `listMachineTemplates`, and the annotation
/// bridge on a generic AzureMachine read written into the package (the real tree has none).
/// The tree is only read: the fixed files go to a temporary directory and `go build -overlay`
/// compiles the package with them in place.
#[test]
fn real_nodepool_package_builds_after_the_fixes() {
    let Some(tree) = real_tree() else {
        eprintln!("SKIPPED: no real HyperShift tree (set INVARIANT_HYPERSHIFT_TREE to one with vendor/)");
        return;
    };
    if !(have("go") && have("gofmt")) {
        eprintln!("SKIPPED: `go` not on PATH");
        return;
    }
    let package = "hypershift-operator/controllers/nodepool";
    let case_rel = format!("{package}/machine_failures.go");
    let mut engine = Engine::new(Database::default(), tree.clone(), &[]);
    let mut rels: Vec<String> = std::fs::read_dir(tree.join(package))
        .unwrap()
        .flatten()
        .map(|e| format!("{package}/{}", e.file_name().to_string_lossy()))
        .filter(|r| r.ends_with(".go"))
        .collect();
    rels.sort();
    engine.load(&rels);
    let case_text = std::fs::read_to_string(fixbuild_dir().join("real/machine_failures.go")).unwrap();
    engine.set_text(&case_rel, case_text.into(), None);
    engine.sync_file_set();

    let mut fixed: BTreeMap<String, String> = BTreeMap::new();
    for (rel, title) in [
        (format!("{package}/capi.go"), "Did you mean `AgentMachineTemplate`?"),
        (case_rel.clone(), "Use the annotation bridge"),
    ] {
        let file = engine.files[rel.as_str()];
        let all = invariant_lsp::rules::findings(&engine.db, engine.ws, file);
        let finding = all
            .iter()
            .find(|f| f.code == "capi-boundary/provider-read")
            .unwrap_or_else(|| panic!("no provider-read in {rel}: {all:?}"));
        let offered = actions(&engine.db, engine.ws, file, &all, finding.span);
        let action = offered.iter().find(|a| a.title == title).unwrap_or_else(|| {
            panic!(
                "{title} not offered on {rel}: {:?}",
                offered.iter().map(|a| &a.title).collect::<Vec<_>>()
            )
        });
        if rel.ends_with("capi.go") {
            assert!(
                !offered.iter().any(|a| a.title == "Use the annotation bridge"),
                "the bridge does not apply to a GVK lookup"
            );
        }
        for file_edit in &action.files {
            let current = fixed.get(&file_edit.path).cloned().unwrap_or_else(|| {
                engine
                    .files
                    .get(&file_edit.path)
                    .map(|f| f.text(&engine.db).to_string())
                    .unwrap_or_default()
            });
            assert!(!file_edit.create, "{} exists in the real package", file_edit.path);
            fixed.insert(file_edit.path.clone(), apply(&current, &file_edit.edits));
        }
    }
    assert!(fixed[&format!("{package}/capi.go")].contains("GVKForObject(&agentv1.AgentMachineTemplate{}, api.Scheme)"));
    assert!(
        fixed.contains_key(&format!("{package}/azure.go")),
        "the writer goes to azure.go"
    );

    // `FIXBUILD_KEEP=<dir>` keeps the fixed files (laid out like the tree) for a look.
    if let Some(keep) = std::env::var_os("FIXBUILD_KEEP") {
        for (rel, text) in &fixed {
            let path = Path::new(&keep).join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }
    // The fixed package: every changed file in a temporary directory, laid over the tree.
    let work = tempfile::tempdir().unwrap();
    let mut replace = serde_json::Map::new();
    for (rel, text) in &fixed {
        let path = work.path().join(rel.replace('/', "_"));
        std::fs::write(&path, text).unwrap();
        replace.insert(
            tree.join(rel).to_string_lossy().to_string(),
            serde_json::Value::String(path.to_string_lossy().to_string()),
        );
    }
    let overlay = work.path().join("overlay.json");
    std::fs::write(&overlay, serde_json::json!({ "Replace": replace }).to_string()).unwrap();
    let files: Vec<String> = fixed
        .keys()
        .map(|rel| work.path().join(rel.replace('/', "_")).to_string_lossy().to_string())
        .collect();
    let mut gofmt_args = vec!["-l"];
    gofmt_args.extend(files.iter().map(String::as_str));
    let (ok, out) = run(&tree, "gofmt", &gofmt_args);
    assert!(ok && out.trim().is_empty(), "gofmt -l lists:\n{out}");
    let overlay_flag = format!("-overlay={}", overlay.display());
    // `go build` of the package; `go vet` of its non-test files (the extracted tree's tests
    // need generated mocks that are not checked in, so vetting them fails before any fix).
    let mut sources: Vec<String> = rels.iter().filter(|r| !r.ends_with("_test.go")).cloned().collect();
    sources.push(case_rel.clone());
    let target = vec![format!("./{package}/")];
    for (verb, args) in [("build", &target), ("vet", &sources)] {
        let out = Command::new("go")
            .args([verb, "-mod=vendor", &overlay_flag])
            .args(args)
            .current_dir(&tree)
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-mod=vendor")
            .env("GOPROXY", "off")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "go {verb} of the fixed real package fails:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The findings are gone once the fixed texts are in.
    for (rel, text) in &fixed {
        engine.set_text(rel, text.clone().into(), None);
    }
    engine.sync_file_set();
    for rel in fixed.keys() {
        let file = engine.files[rel.as_str()];
        let left: Vec<String> = invariant_lsp::rules::findings(&engine.db, engine.ws, file)
            .iter()
            .filter(|f| f.code.starts_with("capi-boundary/"))
            .map(|f| f.message.clone())
            .collect();
        assert!(left.is_empty(), "{rel}: {left:?}");
    }
}
