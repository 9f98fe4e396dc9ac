//! Hostile workspaces (issue 11): a repository the user did not write must not hang the tool
//! (FIFOs, endless header lines), make it write or read outside the workspace, or make `check`
//! exit 0 over less than it was given; and ordinary editor setups (a symlinked workspace path,
//! reopened documents, removed folders) keep working. CLI cases run `check` (in-process, or the
//! binary with a watchdog that turns a hang into a failure); server cases run the real binary
//! over stdio.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use invariant_lsp::cli::check::{exit_code, run, EXIT_USAGE};
use invariant_lsp::config::load_workspace;
use invariant_lsp::db::Database;
use invariant_lsp::ide::host::Engine;
use invariant_lsp::vfs::{discover, read_confined, read_file};

#[path = "support/lsp_client.rs"]
mod lsp_client;
#[path = "support/workspace.rs"]
mod support_workspace;
use lsp_client::{codes, file_uri, Client};
use support_workspace::{workspace, write};

const PROVIDER_READ: &str = "package nodepool\n\nimport capz \"sigs.k8s.io/cluster-api-provider-azure/api/v1beta1\"\n\nvar m = &capz.AzureMachine{}\n";
const NODEPOOL_GO: &str = "hypershift-operator/controllers/nodepool";
/// A liveness bound for a child process (not a performance assertion): a hang is a failure,
/// not a stuck test run.
const WATCHDOG: Duration = Duration::from_secs(60);

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success());
}

fn is_root_user() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Runs the `check` binary in `dir`; returns (exit code, stdout, stderr). Killed (and the test
/// failed) if it has not ended within the watchdog bound.
fn check_bin(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_invariant-lsp"))
        .arg("check")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + WATCHDOG;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (
                status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("check {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn problems(json: &str, code: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == code)
        .cloned()
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Hangs: FIFOs and special files (CLI)
// ---------------------------------------------------------------------------------------------

#[test]
fn fifos_never_block_check_and_are_reported() {
    let (_dir, root) = workspace();
    write(&root, &format!("{NODEPOOL_GO}/capacity.go"), PROVIDER_READ);
    mkfifo(&root.join("models/fifo.yaml"));
    mkfifo(&root.join("named.go"));
    std::fs::write(root.join(".invariant.yaml"), "models: [models/fifo.yaml]\n").unwrap();
    // A model named in .invariant.yaml that is a FIFO: a located model error, exit 2.
    let (code, out, _) = check_bin(&root, &[".", "--format", "json"]);
    assert_eq!(code, EXIT_USAGE, "{out}");
    let unreadable = problems(&out, "model/unreadable");
    assert_eq!(unreadable.len(), 1, "{out}");
    assert!(
        unreadable[0]["path"].as_str().unwrap().ends_with("models/fifo.yaml"),
        "{out}"
    );
    assert!(
        unreadable[0]["message"]
            .as_str()
            .unwrap()
            .contains("not a regular file"),
        "{out}"
    );
    // A FIFO named on the command line: not checked, so exit 2 with its name.
    std::fs::write(root.join(".invariant.yaml"), "models: []\n").unwrap();
    let (code, out, _) = check_bin(&root, &["named.go", "--format", "json"]);
    assert_eq!(code, EXIT_USAGE, "{out}");
    let named = problems(&out, "internal/unreadable");
    assert_eq!(named.len(), 1, "{out}");
    assert!(named[0]["path"].as_str().unwrap().ends_with("named.go"), "{out}");
    // A model given with --model that is a FIFO.
    let (code, out, _) = check_bin(&root, &[".", "--model", "models/fifo.yaml", "--format", "json"]);
    assert_eq!(code, EXIT_USAGE, "{out}");
    assert_eq!(problems(&out, "model/unreadable").len(), 1, "{out}");
}

#[test]
fn a_file_swapped_for_a_fifo_after_discovery_is_reported_not_waited_on() {
    let (_dir, root) = workspace();
    let path = write(&root, &format!("{NODEPOOL_GO}/capacity.go"), PROVIDER_READ);
    let mut engine = Engine::new(Database::default(), root.clone(), &[]);
    let rels = discover(&root, std::slice::from_ref(&root), &engine.config().filter());
    assert_eq!(rels, vec![format!("{NODEPOOL_GO}/capacity.go")]);
    // Between discovery and the read, the file becomes a FIFO (nobody ever writes to it).
    std::fs::remove_file(&path).unwrap();
    mkfifo(&path);
    let problems = engine.load(&rels);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].code, "internal/unreadable");
    assert_eq!(problems[0].path, format!("{NODEPOOL_GO}/capacity.go"));
    assert!(problems[0].message.contains("not a regular file"), "{problems:?}");
    // The shared reader refuses devices the same way, and bounds what it reads.
    assert!(read_file(None, Path::new("/dev/zero"), 1024).is_err());
    assert!(read_confined(&root, &path).is_err());
}

// ---------------------------------------------------------------------------------------------
// Reads outside the workspace
// ---------------------------------------------------------------------------------------------

/// Reading a walked file does not resolve it first; one that became a symlink since the walk
/// is resolved then, and read when it stays inside the workspace (as before the walk).
#[test]
fn a_symlink_swapped_in_after_discovery_that_stays_inside_is_read() {
    let (_dir, root) = workspace();
    let file = write(&root, &format!("{NODEPOOL_GO}/a.go"), "package nodepool\n");
    let mut engine = Engine::new(Database::default(), root.clone(), &[]);
    let rels = discover(&root, std::slice::from_ref(&root), &engine.config().filter());
    assert_eq!(rels.len(), 1, "{rels:?}");
    let other = write(&root, "docs/b.go.txt", "package moved\n");
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&other, &file).unwrap();
    let problems = engine.load(&rels);
    assert!(problems.is_empty(), "{problems:?}");
    let loaded = engine.files[&rels[0]];
    assert_eq!(&**loaded.text(&engine.db), "package moved\n");
}

#[test]
fn a_symlink_swapped_in_after_discovery_is_never_read() {
    let outside = tempfile::tempdir().unwrap();
    let outside = outside.path().canonicalize().unwrap();
    write(&outside, "leak.go", PROVIDER_READ);
    write(&outside, "dir/leak.go", PROVIDER_READ);
    let (_dir, root) = workspace();
    let file = write(&root, &format!("{NODEPOOL_GO}/a.go"), "package nodepool\n");
    let sub = root.join(NODEPOOL_GO).join("sub");
    write(&root, &format!("{NODEPOOL_GO}/sub/leak.go"), "package sub\n");
    let mut engine = Engine::new(Database::default(), root.clone(), &[]);
    let rels = discover(&root, std::slice::from_ref(&root), &engine.config().filter());
    assert_eq!(rels.len(), 2, "{rels:?}");
    // The file itself, and a directory above another file, become symlinks leaving the root.
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(outside.join("leak.go"), &file).unwrap();
    std::fs::remove_dir_all(&sub).unwrap();
    std::os::unix::fs::symlink(outside.join("dir"), &sub).unwrap();
    let problems = engine.load(&rels);
    assert_eq!(problems.len(), 2, "both refused: {problems:?}");
    assert!(
        problems
            .iter()
            .all(|p| p.message.contains("outside the workspace root")),
        "{problems:?}"
    );
    assert!(engine.files.is_empty(), "nothing from outside was loaded");
}

// ---------------------------------------------------------------------------------------------
// Silently unchecked: every input not checked is exit 2 with a located message
// ---------------------------------------------------------------------------------------------

#[test]
fn a_non_utf8_file_name_is_reported_not_skipped() {
    use std::os::unix::ffi::OsStrExt;
    let (_dir, root) = workspace();
    let name = std::ffi::OsStr::from_bytes(b"bad-\xff-name.go");
    let dir = root.join(NODEPOOL_GO);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), PROVIDER_READ).unwrap();
    let report = run(std::slice::from_ref(&root), &[]).unwrap();
    assert_eq!(exit_code(&report), EXIT_USAGE);
    let problem = report
        .model_errors
        .iter()
        .find(|m| m.error.code == "internal/unreadable")
        .expect("the file is named as unchecked");
    assert!(problem.error.message.contains("not valid UTF-8"), "{problem:?}");
    assert!(problem.path.contains("bad-"), "{problem:?}");
}

#[test]
fn an_include_glob_that_does_not_compile_is_a_located_error() {
    let (_dir, root) = workspace();
    write(&root, &format!("{NODEPOOL_GO}/capacity.go"), PROVIDER_READ);
    std::fs::write(
        root.join(".invariant.yaml"),
        "models: []\ninclude:\n  - 'hack/**'\n  - 'a/{b'\n",
    )
    .unwrap();
    let loaded = load_workspace(&root, &[]);
    let error = loaded
        .errors
        .iter()
        .find(|e| e.message.contains("a/{b"))
        .unwrap_or_else(|| panic!("{:?}", loaded.errors));
    assert_eq!(error.code, "model/invalid");
    assert_eq!(error.path, ".invariant.yaml");
    assert_eq!(error.line, Some(3), "{error:?}");
    let report = run(std::slice::from_ref(&root), &[]).unwrap();
    assert_eq!(exit_code(&report), EXIT_USAGE);
}

#[test]
fn paths_in_two_workspaces_are_an_error_not_a_warning() {
    let (_a, first) = workspace();
    let (_b, second) = workspace();
    write(&first, "a.go", "package a\n");
    write(&second, "b.go", "package b\n");
    let err = run(&[first.clone(), second.clone()], &[]).expect_err("two roots are refused");
    assert!(err.contains(&second.display().to_string()), "{err}");
    let (code, _, stderr) = check_bin(&first, &[".", second.to_str().unwrap()]);
    assert_eq!(code, EXIT_USAGE, "{stderr}");
    assert!(stderr.contains("one workspace per run"), "{stderr}");
    // Two paths in the same workspace are fine.
    write(&first, "sub/c.go", "package sub\n");
    let report = run(&[first.join("a.go"), first.join("sub")], &[]).unwrap();
    assert_eq!(report.files_checked, 2);
}

#[test]
fn unreadable_files_and_directories_are_exit_2() {
    if is_root_user() {
        eprintln!(
            "SKIPPED unreadable_files_and_directories_are_exit_2: running as root, permissions do not stop reads"
        );
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let (_dir, root) = workspace();
    let file = write(&root, "locked.go", "package a\n");
    write(&root, "closed/x.go", "package closed\n");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(root.join("closed"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let report = run(std::slice::from_ref(&root), &[]).unwrap();
    std::fs::set_permissions(root.join("closed"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(exit_code(&report), EXIT_USAGE);
    let paths: Vec<_> = report
        .model_errors
        .iter()
        .filter(|m| m.error.code == "internal/unreadable")
        .map(|m| m.path.clone())
        .collect();
    assert!(paths.iter().any(|p| p.ends_with("locked.go")), "{paths:?}");
    assert!(paths.iter().any(|p| p.ends_with("closed")), "{paths:?}");
}

// ---------------------------------------------------------------------------------------------
// Writes outside the workspace
// ---------------------------------------------------------------------------------------------

#[test]
fn model_paths_that_leave_the_workspace_are_located_model_errors() {
    for bad in ["/root/.ssh/authorized_keys", "../../elsewhere.go", "a/../../b.go"] {
        let (_dir, root) = workspace();
        write(
            &root,
            "team-model.yaml",
            format!("providers:\n  - id: azure\n    platform_controller: {bad}\n"),
        );
        std::fs::write(root.join(".invariant.yaml"), "models: [team-model.yaml]\n").unwrap();
        let loaded = load_workspace(&root, &[]);
        let error = loaded
            .errors
            .iter()
            .find(|e| e.code == "model/outside-workspace")
            .unwrap_or_else(|| panic!("{bad}: {:?}", loaded.errors));
        assert_eq!(error.path, "team-model.yaml");
        assert_eq!(error.line, Some(2), "{error:?}");
        // The model in force is the default one, whose controller paths are inside.
        assert!(loaded
            .model
            .model
            .providers
            .iter()
            .all(|p| p.platform_controller.as_deref() != Some(bad)));
    }
}

fn sample_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sample-workspace");
    copy_dir(&src, dir.path());
    let root = dir.path().canonicalize().unwrap();
    (dir, root)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The titles of the code actions at the provider read in the sample's capacity.go, and every
/// URI their edits touch.
fn bridge_actions(client: &mut Client, root: &Path) -> (Vec<String>, Vec<String>) {
    // After indexing, so no index write cancels the code-action computation.
    client.wait("indexing done", |m| {
        m["method"] == "invariant/status" && m["params"]["state"] == "ready"
    });
    let path = root.join("hypershift-operator/controllers/nodepool/capacity.go");
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = client.open(&path, &text);
    let diagnostics = client.diagnostics(&uri, 1);
    let read = diagnostics
        .iter()
        .find(|d| d["code"] == "capi-boundary/provider-read")
        .unwrap_or_else(|| panic!("{diagnostics:?}"))
        .clone();
    let actions = client.actions_for(&uri, &read);
    let titles = actions
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_string())
        .collect();
    let mut uris = Vec::new();
    for a in &actions {
        for op in a["edit"]["documentChanges"].as_array().into_iter().flatten() {
            let uri = op["textDocument"]["uri"].as_str().or(op["uri"].as_str()).unwrap();
            uris.push(uri.to_string());
        }
    }
    (titles, uris)
}

#[test]
fn no_edit_is_offered_through_a_symlink_leaving_the_workspace() {
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("authorized_keys");
    std::fs::write(&victim, "ssh-ed25519 AAAA\n").unwrap();
    let (_dir, root) = sample_copy();
    let azure = root.join("hypershift-operator/controllers/nodepool/azure.go");
    std::fs::remove_file(&azure).unwrap();
    std::os::unix::fs::symlink(&victim, &azure).unwrap();
    let mut client = Client::start(&root, json!({}));
    let (titles, uris) = bridge_actions(&mut client, &root);
    assert!(!titles.iter().any(|t| t == "Use the annotation bridge"), "{titles:?}");
    assert!(uris.iter().all(|u| !u.contains("azure.go")), "{uris:?}");
    assert!(
        !titles.is_empty(),
        "the other fixes are still offered: {titles:?} {uris:?}"
    );
    client.shutdown();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "ssh-ed25519 AAAA\n");
}

#[test]
fn create_file_only_for_clients_that_announce_it() {
    let (_dir, root) = sample_copy();
    std::fs::remove_file(root.join("hypershift-operator/controllers/nodepool/azure.go")).unwrap();
    // A client announcing no resource operations gets no action that needs a file created.
    let mut client = Client::start_full(&root, json!({}), &[], json!({}));
    let (titles, _) = bridge_actions(&mut client, &root);
    assert!(!titles.iter().any(|t| t == "Use the annotation bridge"), "{titles:?}");
    client.shutdown();
    // One that announces `create` gets the bridge, with the file created inside the root.
    let mut client = Client::start(&root, json!({}));
    let (titles, uris) = bridge_actions(&mut client, &root);
    assert!(titles.iter().any(|t| t == "Use the annotation bridge"), "{titles:?}");
    let inside = file_uri(&root);
    assert!(uris.iter().all(|u| u.starts_with(&inside)), "{uris:?}");
    client.shutdown();
}

#[test]
fn rule_explanations_are_served_not_written_and_links_are_checked() {
    let (_dir, root) = workspace();
    let path = write(&root, &format!("{NODEPOOL_GO}/capacity.go"), PROVIDER_READ);
    write(
        &root,
        "links.yaml",
        "rule_docs_url: \"command:workbench.action.terminal.new?{code}\"\n",
    );
    std::fs::write(root.join(".invariant.yaml"), "models: [links.yaml]\n").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let tmp_path = tmp.path().to_str().unwrap().to_string();
    let mut client = Client::start_with(&root, json!({}), &[("TMPDIR", &tmp_path)]);
    let uri = client.open(&path, PROVIDER_READ);
    let diagnostics = client.diagnostics(&uri, 1);
    let read = diagnostics
        .iter()
        .find(|d| d["code"] == "capi-boundary/provider-read")
        .unwrap_or_else(|| panic!("{diagnostics:?}"));
    let href = read["codeDescription"]["href"].as_str().unwrap();
    assert_eq!(href, "invariant-rule:/capi-boundary/provider-read.md");
    // The link's text comes through the protocol.
    let explained = client.request(
        "workspace/executeCommand",
        json!({"command": "invariant.explain", "arguments": ["capi-boundary/provider-read"]}),
    );
    assert!(explained["result"]
        .as_str()
        .unwrap()
        .contains("capi-boundary/provider-read"));
    client.shutdown();
    let written: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(written.is_empty(), "nothing written to TMPDIR: {written:?}");
}

// ---------------------------------------------------------------------------------------------
// Hangs in the server
// ---------------------------------------------------------------------------------------------

#[test]
fn fifos_never_block_the_server() {
    let (_dir, root) = workspace();
    let path = write(&root, &format!("{NODEPOOL_GO}/capacity.go"), PROVIDER_READ);
    // A FIFO model at initialize (from the editor's options and from .invariant.yaml).
    mkfifo(&root.join("fifo-model.yaml"));
    std::fs::write(root.join(".invariant.yaml"), "models: [fifo-model.yaml]\n").unwrap();
    let mut client = Client::start(&root, json!({"models": ["fifo-model.yaml"]}));
    let uri = client.open(&path, PROVIDER_READ);
    assert_eq!(codes(&client.diagnostics(&uri, 1)), vec!["capi-boundary/provider-read"]);
    client.still_serving(&uri);
    // FIFOs announced as changed sources, and the configuration changed to name one.
    mkfifo(&root.join("x.go"));
    mkfifo(&root.join("x.yaml"));
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&root.join("x.go")), "type": 1},
                           {"uri": file_uri(&root.join("x.yaml")), "type": 2},
                           {"uri": file_uri(&root.join(".invariant.yaml")), "type": 2}]}),
    );
    client.still_serving(&uri);
    // A document whose file became a FIFO before didClose.
    let other = write(&root, "other.go", "package other\n");
    let other_uri = client.open(&other, "package other\n");
    client.diagnostics(&other_uri, 1);
    std::fs::remove_file(&other).unwrap();
    mkfifo(&other);
    client.notify("textDocument/didClose", json!({"textDocument": {"uri": other_uri}}));
    client.still_serving(&uri);
    // And the server keeps computing: an edit gets its diagnostics.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": "package nodepool\n"}]}),
    );
    assert!(client.diagnostics(&uri, 2).is_empty());
    client.shutdown();
}

#[test]
fn an_endless_header_line_does_not_stop_the_server() {
    let (_dir, root) = workspace();
    let path = write(&root, &format!("{NODEPOOL_GO}/capacity.go"), PROVIDER_READ);
    let mut client = Client::start(&root, json!({}));
    let uri = client.open(&path, PROVIDER_READ);
    client.diagnostics(&uri, 1);
    // 16 MB of one header line (no newline), then the end of the header block.
    let chunk = vec![b'X'; 1 << 20];
    for _ in 0..16 {
        client.stdin.write_all(&chunk).unwrap();
    }
    client.stdin.write_all(b"\r\n\r\n").unwrap();
    client.stdin.flush().unwrap();
    client.still_serving(&uri);
    client.shutdown();
}

// ---------------------------------------------------------------------------------------------
// The editor keeps working in ordinary setups
// ---------------------------------------------------------------------------------------------

#[test]
fn a_workspace_opened_through_a_symlink_gets_diagnostics() {
    let (_dir, root) = workspace();
    write(&root, &format!("{NODEPOOL_GO}/capacity.go"), PROVIDER_READ);
    let links = tempfile::tempdir().unwrap();
    let link = links.path().join("src");
    std::os::unix::fs::symlink(&root, &link).unwrap();
    let mut client = Client::start(&link, json!({}));
    let uri = client.open(&link.join(NODEPOOL_GO).join("capacity.go"), PROVIDER_READ);
    assert_eq!(codes(&client.diagnostics(&uri, 1)), vec!["capi-boundary/provider-read"]);
    client.still_serving(&uri);
    client.shutdown();
}

#[test]
fn reopening_with_a_lower_version_and_removing_a_folder_leave_no_stale_diagnostics() {
    let (_dir, root) = workspace();
    let path = write(&root, &format!("{NODEPOOL_GO}/capacity.go"), PROVIDER_READ);
    let mut client = Client::start(&root, json!({}));
    let uri = client.open(&path, "package nodepool\n");
    assert!(client.diagnostics(&uri, 1).is_empty());
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 7}, "contentChanges": [{"text": "package nodepool\n\n"}]}),
    );
    assert!(client.diagnostics(&uri, 7).is_empty());
    // Reopened at a lower version (4) with a finding in it: its diagnostics are published.
    client.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "go", "version": 4, "text": PROVIDER_READ}}),
    );
    assert_eq!(codes(&client.diagnostics(&uri, 4)), vec!["capi-boundary/provider-read"]);
    // Reopened without a close (a client restoring a session), also at a lower version.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 9}, "contentChanges": [{"text": PROVIDER_READ}]}),
    );
    client.diagnostics(&uri, 9);
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "go", "version": 5, "text": "package nodepool\n"}}),
    );
    assert!(client.diagnostics(&uri, 5).is_empty());
    // The folder is removed: its open document's diagnostics are cleared.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 6}, "contentChanges": [{"text": PROVIDER_READ}]}),
    );
    assert!(!client.diagnostics(&uri, 6).is_empty());
    client.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [], "removed": [{"uri": file_uri(&root), "name": "ws"}]}}),
    );
    let cleared = client.wait("cleared diagnostics", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && m["params"]["diagnostics"].as_array().is_some_and(|d| d.is_empty())
    });
    assert!(cleared["params"]["diagnostics"].as_array().unwrap().is_empty());
    client.shutdown();
}

#[test]
fn bom_lone_cr_and_crlf_are_counted_as_editors_count_them() {
    let (_dir, root) = workspace();
    let one_line = "package nodepool; import capz \"sigs.k8s.io/cluster-api-provider-azure/api/v1beta1\"; var m = &capz.AzureMachine{}\n";
    let column = one_line.find("capz.AzureMachine").unwrap() as u32;
    write(&root, &format!("{NODEPOOL_GO}/bom.go"), format!("\u{feff}{one_line}"));
    write(
        &root,
        &format!("{NODEPOOL_GO}/cr.go"),
        PROVIDER_READ.replace('\n', "\r"),
    );
    let crlf = "package nodepool\r\n\r\nimport capz \"sigs.k8s.io/cluster-api-provider-azure/api/v1beta1\"\r\n\r\n//invariant:ignore capi-boundary/provider-read\r\nvar m = &capz.AzureMachine{}\r\n";
    write(&root, &format!("{NODEPOOL_GO}/crlf.go"), crlf);
    let report = run(std::slice::from_ref(&root), &[]).unwrap();
    let at = |file: &str, code: &str| {
        report
            .findings
            .iter()
            .find(|f| f.path.ends_with(file) && f.finding.code == code)
            .unwrap_or_else(|| panic!("{file} {code}: {:?}", report.findings))
            .range
    };
    // The BOM is not a column.
    let bom = at("bom.go", "capi-boundary/provider-read");
    assert_eq!((bom.start.line, bom.start.character), (0, column));
    // Lone `\r` ends a line: the read is on line 4, as in the editor.
    let cr = at("cr.go", "capi-boundary/provider-read");
    assert_eq!((cr.start.line, cr.start.character), (4, 9));
    // The suppression's range ends before the `\r`.
    let missing = at("crlf.go", "suppression/missing-reason");
    let comment = "//invariant:ignore capi-boundary/provider-read";
    assert_eq!((missing.start.line, missing.start.character), (4, 0));
    assert_eq!((missing.end.line, missing.end.character), (4, comment.len() as u32));
}

#[test]
fn a_model_over_the_memory_budget_is_refused_before_parsing() {
    let (_dir, root) = workspace();
    let mut model = String::from("components:\n");
    let mut i = 0;
    while model.len() <= invariant_lsp::model::load::MAX_MODEL_BYTES {
        model += &format!("  - id: c{i}\n    side: management\n    paths: ['a{i}/**/*.go', 'b{i}/**']\n");
        i += 1;
    }
    write(&root, "big-model.yaml", &model);
    std::fs::write(root.join(".invariant.yaml"), "models: [big-model.yaml]\n").unwrap();
    let loaded = load_workspace(&root, &[]);
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    assert_eq!(loaded.errors[0].code, "model/too-large");
    assert_eq!(loaded.errors[0].path, "big-model.yaml");
}
