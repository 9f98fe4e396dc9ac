//! The editor clients, tested in the real editors on a copy of tests/sample-workspace:
//! - `nvim`: editors/nvim in headless Neovim 0.11 (tests/editors/nvim/run.sh);
//! - `vscode`: editors/vscode packaged as a .vsix, in code-server driven by headless Chromium
//!   (tests/editors/vscode/run.sh).
//!
//! Each script installs what it needs on first use (a Python venv, npm and Debian packages, cached
//! under ~/.cache/invariant-lsp/editor-tools) and fails loudly when it cannot: these tests never
//! skip. Set INVARIANT_SKIP_EDITOR_TESTS=1 to leave them out on a machine without the registries;
//! the tests then print that they were skipped and why.
//! Screenshots and logs land in tests/editors/artifacts/.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn run_editor_test(editor: &str) {
    if std::env::var_os("INVARIANT_SKIP_EDITOR_TESTS").is_some_and(|v| v == "1") {
        eprintln!("{editor} editor test SKIPPED: INVARIANT_SKIP_EDITOR_TESTS=1");
        return;
    }
    let script = repo().join("tests/editors").join(editor).join("run.sh");
    let start = Instant::now();
    let output = Command::new("bash")
        .arg(&script)
        .env("INVARIANT_LSP", env!("CARGO_BIN_EXE_invariant-lsp"))
        .current_dir(repo())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let secs = start.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "{editor} editor test failed ({}, after {secs:.1} s)\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    // Shown with --nocapture, and kept in the test's output otherwise.
    println!("{editor} editor test passed in {secs:.1} s\n{stderr}");
}

#[test]
fn nvim() {
    run_editor_test("nvim");
}

#[test]
fn vscode() {
    run_editor_test("vscode");
}
