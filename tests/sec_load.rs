//! Issue 24, the loading side: nothing a tree ships can slip past the gate by size, blow up in
//! memory as YAML, hang `check` as a baseline, or be reported at the wrong place. Each test
//! fails on the code before the fix (noted per test).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use invariant_lsp::config::load_workspace;

#[path = "support/workspace.rs"]
mod support_workspace;
use support_workspace::{workspace, write};

const PROVIDER_READ: &str = "package nodepool\n\nimport capz \"sigs.k8s.io/cluster-api-provider-azure/api/v1beta1\"\n\nvar m = &capz.AzureMachine{}\n";
const NODEPOOL_GO: &str = "hypershift-operator/controllers/nodepool";
/// A liveness bound for a child process (not a performance assertion): a hang is a failure.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Runs the `check` binary in `dir`; returns (exit code, stdout, stderr); a hang fails the test.
/// Its output is drained while it runs (a full pipe must not look like a hang).
fn check_bin(dir: &Path, args: &[&str]) -> (i32, String, String) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_invariant-lsp"))
        .arg("check")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            pipe.read_to_string(&mut text).ok();
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + WATCHDOG;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (
                status.code().unwrap_or(-1),
                stdout.join().unwrap(),
                stderr.join().unwrap(),
            );
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("check {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn diagnostics(json: &str, code: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == code)
        .cloned()
        .collect()
}

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success());
}

// ---------------------------------------------------------------------------------------------
// Item 3: the gate is not evaded by size (before: an `info` finding and exit 0)
// ---------------------------------------------------------------------------------------------

/// A provider read padded past 2 MiB with comments.
fn padded_violation() -> String {
    format!("{PROVIDER_READ}{}", "// filler line\n".repeat(3 * 1024 * 1024 / 15))
}

#[test]
fn a_violation_padded_past_the_size_limit_fails_check() {
    let (_dir, root) = workspace();
    write(&root, &format!("{NODEPOOL_GO}/big.go"), padded_violation());
    write(&root, &format!("{NODEPOOL_GO}/small.go"), "package nodepool\n");
    // Found by the walk.
    let (code, out, _) = check_bin(&root, &[".", "--format", "json"]);
    assert_eq!(code, 2, "{out}");
    let not_checked = diagnostics(&out, "internal/not-checked");
    assert_eq!(not_checked.len(), 1, "{out}");
    assert!(not_checked[0]["path"].as_str().unwrap().ends_with("big.go"), "{out}");
    assert!(
        not_checked[0]["message"]
            .as_str()
            .unwrap()
            .contains("2097152 byte limit"),
        "{out}"
    );
    // Named on the command line.
    let (code, out, _) = check_bin(&root, &[&format!("{NODEPOOL_GO}/big.go"), "--format", "json"]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(diagnostics(&out, "internal/not-checked").len(), 1, "{out}");
    // The summary states the limit and what happens over it.
    let (code, out, _) = check_bin(&root, &["."]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("files over 2097152 bytes are not checked and fail the run"),
        "{out}"
    );
}

#[test]
fn a_binary_source_file_fails_check() {
    let (_dir, root) = workspace();
    let mut binary = PROVIDER_READ.as_bytes().to_vec();
    binary.insert(10, 0);
    write(&root, &format!("{NODEPOOL_GO}/binary.go"), binary);
    let (code, out, _) = check_bin(&root, &[".", "--format", "json"]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(diagnostics(&out, "internal/not-checked").len(), 1, "{out}");
}

#[test]
fn an_excluded_path_or_a_raised_limit_lets_a_large_file_through() {
    let (_dir, root) = workspace();
    write(&root, &format!("{NODEPOOL_GO}/big.go"), padded_violation());
    // Excluded by the user's configuration: not checked, knowingly; a clean run.
    std::fs::write(
        root.join(".invariant.yaml"),
        format!("exclude: ['{NODEPOOL_GO}/big.go']\n"),
    )
    .unwrap();
    let (code, out, _) = check_bin(&root, &[".", "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    // The limit raised: checked, and its violation found.
    std::fs::write(root.join(".invariant.yaml"), "max_file_size: 4194304\n").unwrap();
    let (code, out, _) = check_bin(&root, &[".", "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(diagnostics(&out, "capi-boundary/provider-read").len(), 1, "{out}");
    assert!(diagnostics(&out, "internal/not-checked").is_empty(), "{out}");
    // The limit lowered below a small file: that file is not checked.
    std::fs::write(root.join(".invariant.yaml"), "max_file_size: 100\n").unwrap();
    write(&root, &format!("{NODEPOOL_GO}/read.go"), PROVIDER_READ);
    let (code, out, _) = check_bin(&root, &[&format!("{NODEPOOL_GO}/read.go"), "--format", "json"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        diagnostics(&out, "internal/not-checked")[0]["message"]
            .as_str()
            .unwrap()
            .contains("over the 100 byte limit"),
        "{out}"
    );
    // Out of range: a located configuration error.
    std::fs::write(root.join(".invariant.yaml"), "models: []\nmax_file_size: 0\n").unwrap();
    let loaded = load_workspace(&root, &[]);
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    assert_eq!(loaded.errors[0].line, Some(1), "{:?}", loaded.errors);
}

// ---------------------------------------------------------------------------------------------
// Item 4: YAML amplification (before: 200 KB x 300 aliases loaded into ~140 MB, 1,000 into
// ~410 MB, and both exit 0 with the model in force)
// ---------------------------------------------------------------------------------------------

/// A model whose `hover` entries all name one `size`-byte string by alias, `aliases` times.
fn alias_model(size: usize, aliases: usize) -> String {
    let mut s = format!("name: &big \"{}\"\nhover:\n", "x".repeat(size));
    for i in 0..aliases {
        s += &format!("  - names: [N{i}]\n    markdown: *big\n");
    }
    s
}

#[test]
fn a_model_whose_aliases_expand_past_the_budget_is_a_located_error() {
    for aliases in [300, 1000] {
        let (_dir, root) = workspace();
        write(&root, "team.yaml", alias_model(200_000, aliases));
        std::fs::write(root.join(".invariant.yaml"), "models: [team.yaml]\n").unwrap();
        write(&root, &format!("{NODEPOOL_GO}/read.go"), PROVIDER_READ);
        let loaded = load_workspace(&root, &[]);
        assert_eq!(loaded.errors.len(), 1, "{aliases}: {:?}", loaded.errors);
        let error = &loaded.errors[0];
        assert_eq!(
            (error.path.as_str(), error.code),
            ("team.yaml", "model/too-large"),
            "{error:?}"
        );
        // At the anchor whose replay crossed the budget, naming the key path of the alias.
        assert_eq!(error.line, Some(0), "{error:?}");
        assert!(error.message.contains("expands"), "{error:?}");
        assert!(error.message.contains("hover["), "{error:?}");
        // The default model stays in force.
        assert_eq!(loaded.model.sources.len(), 1, "{:?}", loaded.model.sources);
        let (code, out, _) = check_bin(&root, &[".", "--format", "json"]);
        assert_eq!(code, 2, "{out}");
        assert_eq!(diagnostics(&out, "model/too-large").len(), 1, "{out}");
    }
    // The same shape within the budget loads: anchors are not refused as such.
    let (_dir, root) = workspace();
    write(&root, "team.yaml", alias_model(1_000, 100));
    std::fs::write(root.join(".invariant.yaml"), "models: [team.yaml]\n").unwrap();
    let loaded = load_workspace(&root, &[]);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert_eq!(loaded.model.sources.len(), 2);
}

#[test]
fn a_configuration_whose_aliases_expand_past_the_budget_is_refused() {
    let (_dir, root) = workspace();
    let mut config = format!("repository: &big [\"{}\"]\nexclude:\n", "y".repeat(300_000));
    for _ in 0..50 {
        config += "  - *big\n";
    }
    std::fs::write(root.join(".invariant.yaml"), config).unwrap();
    let loaded = load_workspace(&root, &[]);
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    assert_eq!(loaded.errors[0].code, "model/too-large");
    assert_eq!(loaded.errors[0].path, ".invariant.yaml");
}

// ---------------------------------------------------------------------------------------------
// Item 9: one model listed many times (before: 800 loads and merges, ~10 s)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_model_listed_800_times_is_loaded_and_merged_once() {
    let (_dir, root) = workspace();
    write(
        &root,
        "models/team.yaml",
        "components:\n  - id: team-generic\n    paths: ['team/**']\n    generic: true\n",
    );
    // Two spellings of one real path, and a symlink to it.
    std::os::unix::fs::symlink(root.join("models/team.yaml"), root.join("alias.yaml")).unwrap();
    let mut config = String::from("models:\n");
    for i in 0..800 {
        let spelled = [
            "models/team.yaml",
            "./models/team.yaml",
            "models/../models/team.yaml",
            "alias.yaml",
        ][i % 4];
        config += &format!("  - {spelled}\n");
    }
    std::fs::write(root.join(".invariant.yaml"), config).unwrap();
    let loaded = load_workspace(&root, &[]);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert_eq!(
        loaded.model.sources,
        vec![
            invariant_lsp::model::DEFAULT_MODEL_PATH.to_string(),
            "models/team.yaml".to_string()
        ]
    );
    let teams = loaded
        .model
        .model
        .components
        .iter()
        .filter(|c| c.id == "team-generic")
        .count();
    assert_eq!(teams, 1);
}

// ---------------------------------------------------------------------------------------------
// Items 10 and 13: baselines (before: a FIFO hung `check`; the server ignored a baseline over
// 1 MiB that `check` applied)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_fifo_named_as_the_baseline_never_hangs_check() {
    let (_dir, root) = workspace();
    write(&root, &format!("{NODEPOOL_GO}/read.go"), PROVIDER_READ);
    mkfifo(&root.join("baseline.json"));
    // By flag.
    let (code, _, err) = check_bin(&root, &[".", "--baseline", "baseline.json"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    // By configuration.
    std::fs::write(root.join(".invariant.yaml"), "baseline: baseline.json\n").unwrap();
    let (code, _, err) = check_bin(&root, &["."]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn a_baseline_over_one_mebibyte_is_honoured_by_check_and_the_server_alike() {
    let (_dir, root) = workspace();
    write(&root, &format!("{NODEPOOL_GO}/read.go"), PROVIDER_READ);
    // The real baseline, written by check.
    let (code, _, err) = check_bin(&root, &[".", "--write-baseline", "baseline.json"]);
    assert_eq!(code, 0, "{err}");
    let mut baseline: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("baseline.json")).unwrap()).unwrap();
    let real = baseline["entries"][0]["fingerprint"].as_str().unwrap().to_string();
    // Padded past 1 MiB with (few, long) entries for files that are gone.
    let entries = baseline["entries"].as_array_mut().unwrap();
    let mut filler = entries[0].clone();
    for i in 0..60 {
        filler["fingerprint"] = Value::String(format!("{i:064}"));
        filler["path"] = Value::String(format!("gone/{i}.go"));
        filler["message"] = Value::String("m".repeat(20_000));
        entries.push(filler.clone());
    }
    let text = serde_json::to_string_pretty(&baseline).unwrap();
    assert!(text.len() > 1024 * 1024, "{}", text.len());
    std::fs::write(root.join("baseline.json"), text).unwrap();
    std::fs::write(root.join(".invariant.yaml"), "baseline: baseline.json\n").unwrap();
    // check applies it...
    let (code, out, err) = check_bin(&root, &[".", "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    // ...and the server's configuration holds its fingerprints (shown as hints).
    let loaded = load_workspace(&root, &[]);
    assert!(loaded.config.baseline_fingerprints.contains(&real));
    assert_eq!(loaded.config.baseline_fingerprints.len(), 61);
}

// ---------------------------------------------------------------------------------------------
// Item 16: an invalid pattern in a workspace model is located there (before: .invariant.yaml:1:1)
// ---------------------------------------------------------------------------------------------

#[test]
fn an_invalid_glob_or_pattern_in_a_model_file_is_located_at_its_line() {
    let (_dir, root) = workspace();
    write(
        &root,
        "models/team.yaml",
        "# team model\ncomponents:\n  - id: team-generic\n    paths:\n      - 'team/**'\n      - 'team/{a,b'\n    generic: true\n",
    );
    std::fs::write(root.join(".invariant.yaml"), "models: [models/team.yaml]\n").unwrap();
    let loaded = load_workspace(&root, &[]);
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    let error = &loaded.errors[0];
    assert_eq!(error.path, "models/team.yaml", "{error:?}");
    assert_eq!(error.line, Some(5), "{error:?}");
    assert!(error.message.contains("team/{a,b"), "{error:?}");

    write(
        &root,
        "models/team.yaml",
        "conditions:\n  prefilter_words: [Team]\n  value_pattern: '^[A-Z'\n",
    );
    let loaded = load_workspace(&root, &[]);
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    let error = &loaded.errors[0];
    assert_eq!(
        (error.path.as_str(), error.line),
        ("models/team.yaml", Some(2)),
        "{error:?}"
    );
}
