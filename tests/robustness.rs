#![cfg_attr(not(feature = "fault-injection"), allow(unused_imports, dead_code))]
//! DESIGN §5, each promise as a test that can fail: limits (size, binary, invalid UTF-8, alias
//! bombs, deep nesting, time), isolation (a panicking rule costs one file, not the run),
//! confinement (nothing outside the workspace root is read), hostile protocol traffic and
//! hostile model files. Also replays every committed fuzz crash input and seed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use invariant_lsp::cli::check::{exit_code, run, EXIT_USAGE};
use invariant_lsp::config::load_workspace;
use invariant_lsp::db::{yaml_facts, Database};
use invariant_lsp::ide::host::Engine;
use invariant_lsp::model::Severity;
use invariant_lsp::vfs::{from_bytes, read_confined};

#[allow(dead_code)]
#[path = "../fuzz/src/harness.rs"]
mod harness;
#[path = "support/lsp_client.rs"]
mod lsp_client;
#[path = "support/workspace.rs"]
mod support_workspace;
use lsp_client::{codes, file_uri, Client};
use support_workspace::{workspace, write};

fn manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The findings of `check` on a workspace, as (path, code, severity).
fn check(root: &Path) -> (Vec<(String, String, Severity)>, i32) {
    let report = run(&[root.to_path_buf()], &[]).expect("check runs");
    let code = exit_code(&report);
    let mut found: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            let rel = Path::new(&f.path)
                .canonicalize()
                .ok()
                .and_then(|p| p.strip_prefix(root).ok().map(|r| r.to_string_lossy().into_owned()))
                .unwrap_or_else(|| f.path.clone());
            (rel, f.finding.code.clone(), f.finding.severity)
        })
        .collect();
    found.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    (found, code)
}

const PROVIDER_READ: &str = "package nodepool\n\nimport capz \"sigs.k8s.io/cluster-api-provider-azure/api/v1beta1\"\n\nvar m = &capz.AzureMachine{}\n";
const NODEPOOL_GO: &str = "hypershift-operator/controllers/nodepool";

/// An alias bomb: nine levels of nine-fold aliases (9^9 = 387 million scalars if expanded).
fn yaml_bomb(prefix: &str) -> String {
    let mut s = format!("{prefix}a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = format!("*a{}", i - 1);
        s += &format!("a{i}: &a{i} [{}]\n", [p.as_str(); 9].join(", "));
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

#[test]
fn oversized_and_binary_files_are_not_checked_and_invalid_utf8_gets_a_note() {
    let (_dir, root) = workspace();
    // 3 MiB of valid Go with a provider read at the top: not parsed, so no provider-read.
    let big = format!("{PROVIDER_READ}{}", "// filler line\n".repeat(3 * 1024 * 1024 / 15));
    write(&root, &format!("{NODEPOOL_GO}/big.go"), &big);
    let mut binary = PROVIDER_READ.as_bytes().to_vec();
    binary.insert(10, 0);
    write(&root, &format!("{NODEPOOL_GO}/binary.go"), binary);
    // Invalid UTF-8 in a comment: read lossily, still checked.
    let mut lossy = PROVIDER_READ.as_bytes().to_vec();
    lossy.extend_from_slice(b"// \xff\xfe broken\n");
    write(&root, &format!("{NODEPOOL_GO}/lossy.go"), lossy);
    let (found, _) = check(&root);
    let of = |file: &str| -> Vec<(String, Severity)> {
        found
            .iter()
            .filter(|f| f.0 == format!("{NODEPOOL_GO}/{file}"))
            .map(|f| (f.1.clone(), f.2))
            .collect()
    };
    // Not checked at all: `internal/not-checked`, which fails `check` (tests/sec_load.rs).
    assert_eq!(
        of("big.go"),
        vec![("internal/not-checked".to_string(), Severity::Warning)],
        "{found:?}"
    );
    assert_eq!(
        of("binary.go"),
        vec![("internal/not-checked".to_string(), Severity::Warning)],
        "{found:?}"
    );
    let lossy = of("lossy.go");
    assert!(
        lossy.contains(&("internal/unreadable".to_string(), Severity::Info)),
        "{lossy:?}"
    );
    assert!(lossy.iter().any(|f| f.0 == "capi-boundary/provider-read"), "{lossy:?}");
}

#[test]
fn editor_text_meets_the_same_limits_as_files() {
    let (text, note) = invariant_lsp::vfs::from_editor("x".repeat(invariant_lsp::text::MAX_FILE_BYTES + 1));
    assert!(text.is_empty());
    assert!(matches!(note, Some(invariant_lsp::db::FileNote::TooLarge { .. })));
    let (_, note) = invariant_lsp::vfs::from_editor("package x\0".into());
    assert_eq!(note, Some(invariant_lsp::db::FileNote::Binary));
    assert_eq!(invariant_lsp::vfs::from_editor("package x\n".into()).1, None);
}

#[test]
fn a_yaml_bomb_is_never_expanded() {
    let (_dir, root) = workspace();
    // In a file the YAML rules read (a NodePool), and as a kustomization.
    let bomb = yaml_bomb("apiVersion: hypershift.openshift.io/v1beta1\nkind: NodePool\nspec:\n  replicas: 2\n  autoScaling: {min: 1, max: 2}\n");
    write(&root, "clusters/bomb.yaml", &bomb);
    write(
        &root,
        "deploy/kustomization.yaml",
        yaml_bomb("resources: [../clusters/bomb.yaml]\n"),
    );
    let started = Instant::now();
    let (found, _) = check(&root);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        found.iter().any(|f| f.1 == "lifecycle/replicas-with-autoscaling"),
        "the rest of the file is still checked: {found:?}"
    );
    // The facts hold each node once.
    let (text, _) = from_bytes(bomb.into_bytes());
    let facts = invariant_lsp::facts::yaml::facts_of(&text);
    assert!(facts.nodes.len() < 200, "{} nodes", facts.nodes.len());
}

/// Runs `f` on a thread with a 2 MiB stack (the default for spawned threads): deep input must
/// not need more.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .expect("no stack overflow or panic")
}

#[test]
fn twenty_thousand_levels_of_nesting_do_not_overflow() {
    let depth = 20_000;
    let inputs = [
        (
            "deep/parens.go",
            format!("package deep\n\nvar v = {}1{}\n", "(".repeat(depth), ")".repeat(depth)),
        ),
        (
            "deep/blocks.go",
            format!(
                "package deep\n\nfunc f() {{\n{}{}\n}}\n",
                "{".repeat(depth),
                "}".repeat(depth)
            ),
        ),
        (
            "deep/calls.go",
            format!("package deep\n\nvar v = {}x{}\n", "f(".repeat(depth), ")".repeat(depth)),
        ),
        (
            "deep/flow.yaml",
            format!("kind: NodePool\nspec: {}{}\n", "[".repeat(depth), "]".repeat(depth)),
        ),
        (
            "deep/block.yaml",
            format!("kind: NodePool\nspec:\n{}x\n", "- ".repeat(depth)),
        ),
        (
            "deep/maps.yaml",
            format!(
                "kind: NodePool\n{}",
                (0..2000)
                    .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                    .collect::<String>()
            ),
        ),
    ];
    for (rel, text) in inputs {
        let took = on_small_stack(move || {
            let started = Instant::now();
            let mut engine = Engine::new(Database::default(), std::env::temp_dir(), &[]);
            let file = engine.set_text(rel, Arc::from(text.as_str()), None).unwrap();
            engine.sync_file_set();
            let findings = invariant_lsp::rules::findings(&engine.db, engine.ws, file);
            assert!(
                !findings.iter().any(|f| f.code == "internal/rule-panic"),
                "{rel}: {findings:?}"
            );
            let _ = invariant_lsp::ide::hover::hover(&engine.db, engine.ws, file, text.len() / 2);
            if rel.ends_with(".yaml") {
                let _ = yaml_facts(&engine.db, file);
            }
            drop(engine);
            started.elapsed()
        });
        assert!(took < Duration::from_secs(30), "{rel} took {took:?}");
    }
}

/// Files near the size limit built to hit quadratic paths (every function literal or loop
/// body scanned per statement; every line scanned back for a parent key): `check` of each stays
/// within a bound a quadratic walk would blow (34 s in release for the first before the fix).
#[test]
fn pathological_files_near_the_size_limit_check_in_bounded_time() {
    let limit = invariant_lsp::text::MAX_FILE_BYTES - 4096;
    let head = "package widget\n\nimport component \"github.com/openshift/hypershift/support/controlplane-component\"\n\nfunc adaptX(cpContext component.WorkloadContext) {\n";
    let fill = |line: &str| line.repeat((limit - head.len()) / line.len());
    let adapt = "control-plane-operator/controllers/hostedcontrolplane/v2/widget";
    let inputs = [
        (
            format!("{adapt}/funcs.go"),
            format!("{head}{}}}\n", fill("\tf := func() { s += \"x\" }\n")),
        ),
        (
            format!("{adapt}/loops.go"),
            format!("{head}{}}}\n", fill("\tfor range x { s = append(s, y) }\n")),
        ),
        (
            "status/conditions.yaml".to_string(),
            format!("status:\n{}", fill("conditions:\n")),
        ),
        ("status/kinds.yaml".to_string(), fill("kind: NodePool\n---\n")),
    ];
    for (rel, text) in inputs {
        assert!(text.len() <= invariant_lsp::text::MAX_FILE_BYTES);
        if rel.ends_with(".go") {
            // The facts alone, from a parse without a time budget (a slow debug parse must not
            // turn this into a test of the budget).
            let mut parser = tree_sitter::Parser::new();
            parser.set_language(&tree_sitter_go::LANGUAGE.into()).unwrap();
            let tree = parser.parse(&text, None).unwrap();
            let started = Instant::now();
            let facts = invariant_lsp::facts::go::extract(&tree, &text);
            let took = started.elapsed();
            assert!(facts.functions.len() > 1 || facts.string_writes.len() > 1000);
            assert!(took < Duration::from_secs(30), "{rel}: facts took {took:?}");
        }
        let started = Instant::now();
        let mut engine = Engine::new(Database::default(), std::env::temp_dir(), &[]);
        let file = engine.set_text(&rel, Arc::from(text.as_str()), None).unwrap();
        engine.sync_file_set();
        let findings = invariant_lsp::rules::findings(&engine.db, engine.ws, file);
        let took = started.elapsed();
        eprintln!("{rel}: {took:?}, {} findings", findings.len());
        assert!(took < Duration::from_secs(60), "{rel} took {took:?}");
    }
}

#[test]
fn the_parse_has_a_time_budget() {
    // A budget that cannot be met: the parse stops and says so, instead of running on.
    let text = format!(
        "package big\n{}",
        "func f() { x := []int{1, 2, 3}; _ = x }\n".repeat(50_000)
    );
    let started = Instant::now();
    let parsed = invariant_lsp::syntax::parse(invariant_lsp::syntax::Lang::Go, &text, None);
    let elapsed = started.elapsed();
    // Either it finished inside the budget, or it stopped at it (with a little slack).
    assert!(
        elapsed < invariant_lsp::syntax::PARSE_BUDGET + Duration::from_secs(1),
        "{elapsed:?}"
    );
    assert_eq!(parsed.tree.is_none(), parsed.timed_out);
}

#[test]
fn a_timed_out_parse_is_a_finding_and_makes_check_exit_2() {
    use invariant_lsp::cli::output::{Report, ReportedFinding};
    use invariant_lsp::rules::Finding;
    let finding = |code: &str| ReportedFinding {
        path: "x.go".into(),
        rel: "x.go".into(),
        fingerprint: String::new(),
        declaration: String::new(),
        range: Default::default(),
        finding: Finding::new(code, Default::default(), "m"),
        related: vec![],
    };
    for code in ["internal/timeout", "internal/rule-panic"] {
        let report = Report {
            findings: vec![finding(code)],
            ..Report::default()
        };
        assert_eq!(exit_code(&report), EXIT_USAGE, "{code}");
    }
    let model = load_workspace(&std::env::temp_dir().join("no-such-root"), &[]).model;
    assert!(model.rule("internal/timeout").is_some(), "documented in the model");
}

// ---------------------------------------------------------------------------------------------
// Isolation
// ---------------------------------------------------------------------------------------------

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_invariant-lsp")
}

#[cfg(feature = "fault-injection")] // needs the test hook (the test command's --all-features)
#[test]
fn a_panicking_rule_costs_one_file_and_check_exits_2() {
    let (_dir, root) = workspace();
    write(&root, &format!("{NODEPOOL_GO}/a.go"), PROVIDER_READ);
    write(&root, &format!("{NODEPOOL_GO}/explode.go"), PROVIDER_READ);
    write(&root, &format!("{NODEPOOL_GO}/z.go"), PROVIDER_READ);
    let output = Command::new(binary())
        .args(["check", "--format", "json"])
        .arg(&root)
        .env("INVARIANT_FAULT", "rules:explode")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("the report is still valid JSON");
    let findings = report["diagnostics"].as_array().expect("diagnostics");
    let of = |file: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f["path"].as_str().unwrap_or_default().ends_with(file))
            .map(|f| f["code"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(of("explode.go"), vec!["internal/rule-panic"], "{report}");
    assert_eq!(of("/a.go"), vec!["capi-boundary/provider-read"], "{report}");
    assert_eq!(of("/z.go"), vec!["capi-boundary/provider-read"], "{report}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("a rule panicked"), "logged: {stderr}");
    // Without the fault, the same workspace exits 1 (findings), not 2.
    let clean = Command::new(binary()).arg("check").arg(&root).output().unwrap();
    assert_eq!(clean.status.code(), Some(1));
}

// ---------------------------------------------------------------------------------------------
// Confinement
// ---------------------------------------------------------------------------------------------

#[test]
fn nothing_outside_the_root_is_read() {
    let outside = tempfile::tempdir().unwrap();
    let outside = outside.path().canonicalize().unwrap();
    write(&outside, "secret.yaml", "apiVersion: v1\nkind: Secret\n");
    write(
        &outside,
        "model.yaml",
        "components:\n  - id: stolen\n    paths: ['**']\n",
    );
    write(&outside, "nodepool/leak.go", PROVIDER_READ);
    let (_dir, root) = workspace();
    std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
    std::fs::create_dir_all(root.join(NODEPOOL_GO)).unwrap();
    std::os::unix::fs::symlink(outside.join("nodepool/leak.go"), root.join(NODEPOOL_GO).join("leak.go")).unwrap();
    // Kustomizations reaching out through `..`, an absolute path and a symlink.
    write(
        &root,
        "deploy/kustomization.yaml",
        format!(
            "resources:\n- ../../{}/secret.yaml\n- {}/secret.yaml\n- ../link/secret.yaml\n",
            outside.file_name().unwrap().to_string_lossy(),
            outside.display()
        ),
    );
    // Models through `..`, an absolute path and a symlink; include globs that match everything.
    write(
        &root,
        ".invariant.yaml",
        format!(
            "models:\n- ../{}/model.yaml\n- {}/model.yaml\n- link/model.yaml\ninclude: ['/**', '**', '../**']\n",
            outside.file_name().unwrap().to_string_lossy(),
            outside.display()
        ),
    );
    let loaded = load_workspace(&root, &[]);
    let refused: Vec<_> = loaded
        .errors
        .iter()
        .filter(|e| e.code == "model/outside-workspace")
        .collect();
    assert_eq!(refused.len(), 3, "{:?}", loaded.errors);
    assert!(loaded.model.model.components.iter().all(|c| c.id != "stolen"));
    let (found, code) = check(&root);
    let outside_refs = found.iter().filter(|f| f.1 == "kustomize/outside-workspace").count();
    assert_eq!(outside_refs, 3, "{found:?}");
    assert!(
        !found.iter().any(|f| f.1 == "capi-boundary/provider-read"),
        "a symlinked Go file is not read: {found:?}"
    );
    assert_eq!(code, EXIT_USAGE, "model errors make check exit 2");
    // The server's reads of single files refuse the same way.
    assert!(read_confined(&root, &root.join(NODEPOOL_GO).join("leak.go")).is_err());
    assert!(read_confined(&root, &root.join("link/secret.yaml")).is_err());
    assert!(read_confined(&root, &root.join("deploy/../../x")).is_err());
    assert!(read_confined(&root, &root.join("deploy/kustomization.yaml")).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Hostile model files
// ---------------------------------------------------------------------------------------------

#[test]
fn hostile_model_files_are_located_errors_in_bounded_time() {
    let (_dir, root) = workspace();
    let deep = format!("components: {}{}\n", "[".repeat(20_000), "]".repeat(20_000));
    let cases: Vec<(&str, String, &str, Option<usize>)> = vec![
        ("bomb.yaml", yaml_bomb("name: bomb\n"), "model/invalid", None),
        (
            "unknown.yaml",
            "name: x\ncomponents:\n  - id: a\n    pathz: []\n".into(),
            "model/invalid",
            Some(3),
        ),
        ("types.yaml", "name: x\nrules: 7\n".into(), "model/invalid", Some(1)),
        ("deep.yaml", deep, "model/invalid", None),
        (
            "glob.yaml",
            "components:\n  - id: a\n    paths: ['[z-a]']\n".into(),
            "model/invalid",
            None,
        ),
        (
            "regex.yaml",
            format!("hover:\n  - pattern: '{}'\n    markdown: x\n", "(a{1000}){1000}"),
            "model/invalid",
            None,
        ),
    ];
    for (name, text, _, _) in &cases {
        write(&root, name, text);
    }
    // A 100 MB model file: sparse, so the test writes nothing; it must be refused unread.
    let huge = std::fs::File::create(root.join("huge.yaml")).unwrap();
    huge.set_len(100 * 1024 * 1024).unwrap();
    for (name, _, code, line) in
        cases
            .iter()
            .map(|(n, t, c, l)| (*n, t, *c, *l))
            .chain([("huge.yaml", &String::new(), "model/too-large", None)])
    {
        std::fs::write(root.join(".invariant.yaml"), format!("models: [{name}]\n")).unwrap();
        let started = Instant::now();
        let loaded = on_small_stack({
            let root = root.clone();
            move || load_workspace(&root, &[])
        });
        let took = started.elapsed();
        assert!(took < Duration::from_secs(10), "{name} took {took:?}");
        // `hover:` patterns may be checked at compile time or skipped: only require no crash.
        if name == "regex.yaml" && loaded.errors.is_empty() {
            continue;
        }
        let error = loaded.errors.first().unwrap_or_else(|| panic!("{name}: no error"));
        assert_eq!(error.code, code, "{name}: {error}");
        assert!(
            error.path.contains(name) || error.path == ".invariant.yaml",
            "{name}: {error}"
        );
        if let Some(line) = line {
            assert_eq!(error.line, Some(line), "{name}: {error}");
        }
        // The default model stays in force.
        assert!(loaded.model.model.rules.len() > 10, "{name}");
    }
    // `.invariant.yaml` itself hostile: a bomb, and a 100 MB one.
    std::fs::write(root.join(".invariant.yaml"), yaml_bomb("models: []\n")).unwrap();
    assert_eq!(load_workspace(&root, &[]).errors[0].code, "model/invalid");
    std::fs::File::create(root.join(".invariant.yaml"))
        .unwrap()
        .set_len(100 * 1024 * 1024)
        .unwrap();
    assert_eq!(load_workspace(&root, &[]).errors[0].code, "model/too-large");
}

// ---------------------------------------------------------------------------------------------
// Fuzz regressions and seeds
// ---------------------------------------------------------------------------------------------

/// Every crash input the fuzzers found (`tests/fixtures-hostile/fuzz/<target>/`) and every seed
/// (`fuzz/corpus/<target>/`), through the fuzz targets' own checks.
#[test]
fn fuzz_regressions_and_seeds_replay_cleanly() {
    type Target = (&'static str, fn(&[u8]));
    let targets: [Target; 4] = [
        ("go", harness::go),
        ("yaml", harness::yaml),
        ("model", harness::model),
        ("edits", harness::edits),
    ];
    let mut replayed = 0;
    for (target, run) in targets {
        for dir in [
            manifest().join("tests/fixtures-hostile/fuzz").join(target),
            manifest().join("fuzz/corpus").join(target),
        ] {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            paths.sort();
            for path in paths {
                let data = std::fs::read(&path).unwrap();
                let result = std::panic::catch_unwind(|| run(&data));
                assert!(result.is_ok(), "{} fails", path.display());
                replayed += 1;
            }
        }
    }
    assert!(replayed >= 40, "only {replayed} inputs");
}

// ---------------------------------------------------------------------------------------------
// Hostile protocol traffic (the real binary over stdio)
// ---------------------------------------------------------------------------------------------

#[test]
fn hostile_protocol_traffic_gets_errors_and_the_next_request_is_answered() {
    let (_dir, root) = workspace();
    let path = write(&root, &format!("{NODEPOOL_GO}/capacity.go"), PROVIDER_READ);
    let mut client = Client::start(&root, json!({}));
    let uri = client.open(&path, PROVIDER_READ);
    assert_eq!(codes(&client.diagnostics(&uri, 1)), vec!["capi-boundary/provider-read"]);

    // Malformed JSON with an id: an error response carrying that id.
    client.send_raw(r#"{"jsonrpc":"2.0","id":900,"method":"textDocument/hover","params":{"#);
    let malformed = client.response(json!(900));
    assert_eq!(malformed["error"]["code"], -32700, "{malformed}");
    client.still_serving(&uri);
    // A frame without a Content-Length, and garbage bytes, then a valid request.
    write!(client.stdin, "X-Nonsense: 1\r\n\r\n").unwrap();
    client.still_serving(&uri);

    // Cancellation: of a request never sent, and of one in flight (answered either way).
    client.notify("$/cancelRequest", json!({"id": 424242}));
    let hover = client.send_request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 4, "character": 12}}),
    );
    client.notify("$/cancelRequest", json!({"id": hover}));
    let cancelled = client.response(json!(hover));
    assert!(
        cancelled.get("result").is_some() || cancelled.get("error").is_some(),
        "{cancelled}"
    );
    client.still_serving(&uri);

    // Unknown methods: a request gets MethodNotFound, a notification is ignored.
    let unknown = client.request("workspace/noSuchThing", json!({"a": 1}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    client.notify("$/noSuchNotification", json!({}));
    // Wrong parameter types.
    let wrong = client.request("textDocument/hover", json!({"textDocument": 7}));
    assert!(wrong.get("error").is_some(), "{wrong}");

    // Unknown documents: in the workspace but not loaded, outside every root, not a file URI.
    for other in [
        file_uri(&root.join("nope.go")),
        "file:///definitely/not/here.go".to_string(),
        "untitled:Untitled-1".to_string(),
        format!("file://{}/../../etc/passwd.go", root.display()),
    ] {
        let hover = client.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": other}, "position": {"line": 0, "character": 0}}),
        );
        assert!(hover.get("error").is_some() || hover["result"].is_null(), "{hover}");
        let actions = client.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": other}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                   "context": {"diagnostics": []}}),
        );
        assert!(
            actions.get("error").is_some() || actions["result"].is_null(),
            "{actions}"
        );
        // Changes to a document that was never opened are ignored.
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": other, "version": 5}, "contentChanges": [{"text": "package x\n"}]}),
        );
    }
    client.still_serving(&uri);

    // Out-of-range and reversed positions and ranges.
    for (start, end) in [
        ((99999, 99999), (99999, 99999)),
        ((4, 30), (0, 0)),
        ((0, u32::MAX), (u32::MAX, 0)),
    ] {
        let hover = client.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": start.0, "character": start.1}}),
        );
        assert!(hover.get("result").is_some(), "{hover}");
        let actions = client.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri},
                   "range": {"start": {"line": start.0, "character": start.1}, "end": {"line": end.0, "character": end.1}},
                   "context": {"diagnostics": []}}),
        );
        assert!(actions.get("result").is_some(), "{actions}");
    }
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 4000000000u32, "character": 4000000000u32}, "end": {"line": 0, "character": 0}}, "text": "\n// tail\n"}]}),
    );
    assert_eq!(codes(&client.diagnostics(&uri, 2)), vec!["capi-boundary/provider-read"]);

    // Lone UTF-16 surrogates (invalid JSON strings): refused as malformed, the next request works.
    let lone = r#"{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"URI","version":3},"contentChanges":[{"text":"package nodepool // \ud800 \udc00\n"}]}}"#
        .replace("URI", &uri);
    client.send_raw(&lone);
    let lone_request = r#"{"jsonrpc":"2.0","id":901,"method":"textDocument/hover","params":{"textDocument":{"uri":"URI"},"position":{"line":0,"character":0}},"x":"\udfff"}"#
        .replace("URI", &uri);
    client.send_raw(&lone_request);
    assert!(client.response(json!(901)).get("error").is_some());
    client.still_serving(&uri);

    // A 5 MB document: skipped with the not-checked finding, not parsed; small again: checked.
    let big = format!("{PROVIDER_READ}var s = \"{}\"\n", "x".repeat(5 * 1024 * 1024));
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 4}, "contentChanges": [{"text": big}]}),
    );
    let diagnostics = client.diagnostics(&uri, 4);
    assert_eq!(codes(&diagnostics), vec!["internal/not-checked"], "{diagnostics:?}");
    assert_eq!(diagnostics[0]["severity"], 2, "warning");
    client.still_serving(&uri);
    // An incremental edit inside the oversized document still applies to the text.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 5},
               "contentChanges": [{"range": {"start": {"line": 5, "character": 0}, "end": {"line": 6, "character": 0}}, "text": ""}]}),
    );
    assert_eq!(codes(&client.diagnostics(&uri, 5)), vec!["capi-boundary/provider-read"]);

    // A YAML bomb opened in the editor, and a NUL byte.
    let bomb_path = root.join("clusters/bomb.yaml");
    let bomb = yaml_bomb("apiVersion: hypershift.openshift.io/v1beta1\nkind: NodePool\nspec:\n  replicas: 1\n  autoScaling: {min: 1, max: 2}\n");
    let bomb_uri = client.open(&bomb_path, &bomb);
    assert!(codes(&client.diagnostics(&bomb_uri, 1)).contains(&"lifecycle/replicas-with-autoscaling".to_string()));
    let nul_uri = client.open(&root.join(format!("{NODEPOOL_GO}/nul.go")), "package nodepool\u{0}\n");
    assert_eq!(codes(&client.diagnostics(&nul_uri, 1)), vec!["internal/not-checked"]);
    client.still_serving(&uri);
    client.shutdown();
}

#[cfg(feature = "fault-injection")] // needs the test hook (the test command's --all-features)
#[test]
fn the_server_survives_a_panicking_rule() {
    let (_dir, root) = workspace();
    let bad = write(&root, &format!("{NODEPOOL_GO}/explode.go"), PROVIDER_READ);
    let good = write(&root, &format!("{NODEPOOL_GO}/fine.go"), PROVIDER_READ);
    let mut client = Client::start_with(&root, json!({}), &[("INVARIANT_FAULT", "rules:explode")]);
    let bad_uri = client.open(&bad, PROVIDER_READ);
    assert_eq!(codes(&client.diagnostics(&bad_uri, 1)), vec!["internal/rule-panic"]);
    let good_uri = client.open(&good, PROVIDER_READ);
    assert_eq!(
        codes(&client.diagnostics(&good_uri, 1)),
        vec!["capi-boundary/provider-read"]
    );
    // Requests on the failing file are answered too.
    client.still_serving(&bad_uri);
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": bad_uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 9, "character": 0}},
               "context": {"diagnostics": []}}),
    );
    assert!(
        actions.get("result").is_some() || actions.get("error").is_some(),
        "{actions}"
    );
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": good_uri, "version": 2}, "contentChanges": [{"text": "package nodepool\n"}]}),
    );
    assert!(client.diagnostics(&good_uri, 2).is_empty());
    client.shutdown();
}

#[cfg(feature = "fault-injection")] // needs the test hook (the test command's --all-features)
#[test]
fn the_server_survives_a_panicking_notification_handler() {
    let (_dir, root) = workspace();
    let bad = write(&root, &format!("{NODEPOOL_GO}/explode.go"), PROVIDER_READ);
    let good = write(&root, &format!("{NODEPOOL_GO}/fine.go"), PROVIDER_READ);
    let mut client = Client::start_with(&root, json!({}), &[("INVARIANT_FAULT", "edit:explode")]);
    let bad_uri = client.open(&bad, PROVIDER_READ);
    assert_eq!(
        codes(&client.diagnostics(&bad_uri, 1)),
        vec!["capi-boundary/provider-read"]
    );
    // Applying this change panics inside `didChange`.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": bad_uri, "version": 2}, "contentChanges": [{"text": "package nodepool\n"}]}),
    );
    client.still_serving(&bad_uri);
    let good_uri = client.open(&good, PROVIDER_READ);
    assert_eq!(
        codes(&client.diagnostics(&good_uri, 1)),
        vec!["capi-boundary/provider-read"]
    );
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": good_uri, "version": 2}, "contentChanges": [{"text": "package nodepool\n"}]}),
    );
    assert!(client.diagnostics(&good_uri, 2).is_empty());
    client.shutdown();
}

#[test]
fn a_hostile_model_in_the_editor_keeps_the_last_good_one() {
    let (_dir, root) = workspace();
    std::fs::write(root.join(".invariant.yaml"), "severity:\n  capi-boundary: \"off\"\n").unwrap();
    let path = write(&root, &format!("{NODEPOOL_GO}/capacity.go"), PROVIDER_READ);
    let mut client = Client::start(&root, json!({}));
    let uri = client.open(&path, PROVIDER_READ);
    assert!(client.diagnostics(&uri, 1).is_empty());
    let config = root.join(".invariant.yaml");
    let config_uri = file_uri(&config);
    // A model file that is an alias bomb, named from the configuration.
    write(&root, "bomb-model.yaml", yaml_bomb("name: bomb\n"));
    std::fs::write(
        &config,
        "severity:\n  capi-boundary: \"off\"\nmodels: [bomb-model.yaml]\n",
    )
    .unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": config_uri, "type": 2}]}),
    );
    let model_uri = file_uri(&root.join("bomb-model.yaml"));
    let m = client.wait("model diagnostics", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == model_uri
            && !m["params"]["diagnostics"].as_array().unwrap().is_empty()
    });
    assert_eq!(m["params"]["diagnostics"][0]["code"], "model/invalid", "{m}");
    // The configuration in force is still the last good one: capi-boundary stays off.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": PROVIDER_READ}]}),
    );
    assert!(client.diagnostics(&uri, 2).is_empty());
    client.still_serving(&uri);
    client.shutdown();
}

// tree-sitter-yaml 0.7 aborts (debug) or writes past a 1024-byte buffer (release) when its
// indentation stack grows past ~250 levels; the parse refuses such text up front. Within the
// bound, no shape of block structure may reach the abort: a failure here kills the test binary.
proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 500, failure_persistence: None, ..Default::default() })]

    #[test]
    fn yaml_within_the_nesting_bound_never_reaches_the_scanner_overflow(
        lines in proptest::collection::vec((0usize..3, 0usize..3, proptest::bool::ANY), 1..200),
    ) {
        use invariant_lsp::syntax::{parse, yaml_too_deep, Lang};
        // Valid nesting, a staircase: each line a key one or two columns deeper than the last,
        // after up to two compact `- ` entries, some holding a block scalar.
        let (mut indent, mut previous) = (0, 0);
        let text: String = lines
            .iter()
            .enumerate()
            .map(|(i, (step, dashes, scalar))| {
                // Deeper than the previous line's key, which followed its compact entries.
                indent += step + 2 * previous;
                previous = *dashes;
                // A block scalar ends the staircase (deeper lines are its text): last line only.
                let value = if *scalar && i + 1 == lines.len() { format!(" |\n{}text", " ".repeat(indent + 2 * dashes + 1)) } else { String::new() };
                format!("{}{}k{i}:{value}\n", " ".repeat(indent), "- ".repeat(*dashes))
            })
            .collect();
        let parsed = parse(Lang::Yaml, &text, None);
        proptest::prop_assert_eq!(parsed.too_deep, yaml_too_deep(&text));
        proptest::prop_assert!(parsed.too_deep || parsed.tree.is_some() || parsed.timed_out);
    }
}
