//! Hostile trees, second pass (issue 24, items 2, 5, 6, 7, 14, 15): what `check` writes never
//! goes through a link the tree ships; git run for `--new-from-rev` and `impact` executes
//! nothing the repository configures; `--fix` loses no edit saved meanwhile; `--fix --diff`
//! validates as `check` does and escapes control characters; an interrupted export leaves no
//! directory and no git child behind. Every case runs the real binary.

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/workspace.rs"]
mod support_workspace;
use support_workspace::{workspace, write};

/// A liveness bound for a child process (not a performance assertion).
const WATCHDOG: Duration = Duration::from_secs(120);

const LEGACY: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nbases:\n  - ../base\n";
const BASE: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cm.yaml\n";
const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n";

/// Runs the binary in `dir` with `args` and extra environment; (exit code, stdout, stderr).
fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_invariant-lsp"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + WATCHDOG;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} did not end within {WATCHDOG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    run_env(dir, args, &[])
}

/// A workspace with one fixable kustomization (`deploy/legacy`, `bases:` → `resources:`).
fn fixable() -> (tempfile::TempDir, PathBuf) {
    let (dir, root) = workspace();
    write(&root, "deploy/base/kustomization.yaml", BASE);
    write(&root, "deploy/base/cm.yaml", CM);
    write(&root, "deploy/legacy/kustomization.yaml", LEGACY);
    (dir, root)
}

// ---- item 2: writes never follow a link the tree ships ----

#[test]
fn output_through_a_committed_link_is_refused_and_the_target_untouched() {
    let (_dir, root) = fixable();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "keep\n").unwrap();
    symlink(&victim, root.join("invariant.sarif")).unwrap();
    let (code, _, stderr) = run(&root, &["check", "--output", "sarif=invariant.sarif"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("invariant.sarif") && stderr.contains("symbolic link"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep\n");
    assert!(root
        .join("invariant.sarif")
        .symlink_metadata()
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn a_dangling_link_creates_no_file_elsewhere() {
    let (_dir, root) = fixable();
    let outside = tempfile::tempdir().unwrap();
    let created = outside.path().join("new.json");
    symlink(&created, root.join("report.json")).unwrap();
    let (code, _, stderr) = run(&root, &["check", "--output", "json=report.json"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("report.json"), "{stderr}");
    assert!(!created.exists(), "a file was created through the dangling link");
    // Through a linked directory on the way, too.
    symlink(outside.path(), root.join("reports")).unwrap();
    let (code, _, stderr) = run(&root, &["check", "--output", "json=reports/r.json"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("reports"), "{stderr}");
    assert!(!outside.path().join("r.json").exists());
}

#[test]
fn write_baseline_through_a_link_is_refused() {
    let (_dir, root) = fixable();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.json");
    std::fs::write(&victim, "keep\n").unwrap();
    symlink(&victim, root.join("baseline.json")).unwrap();
    let (code, _, stderr) = run(&root, &["check", "--write-baseline", "baseline.json"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("baseline.json") && stderr.contains("symbolic link"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep\n");
}

#[test]
fn outputs_and_baselines_still_write_regular_files_keeping_their_mode() {
    let (_dir, root) = fixable();
    write(&root, "out/report.json", "old\n");
    std::fs::set_permissions(root.join("out/report.json"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let (code, _, stderr) = run(
        &root,
        &[
            "check",
            "--output",
            "json=out/report.json",
            "--output",
            "sarif=new.sarif",
        ],
    );
    assert_ne!(code, 2, "{stderr}");
    let json = std::fs::read_to_string(root.join("out/report.json")).unwrap();
    assert!(json.contains("\"diagnostics\""), "{json}");
    let mode = std::fs::metadata(root.join("out/report.json"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o640);
    assert!(std::fs::read_to_string(root.join("new.sarif"))
        .unwrap()
        .contains("2.1.0"));
    let (code, _, stderr) = run(&root, &["check", "--write-baseline", "b.json"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(std::fs::read_to_string(root.join("b.json"))
        .unwrap()
        .contains("\"entries\""));
}

#[test]
fn fix_writes_nothing_through_a_link_out_of_the_tree() {
    // A regression guard (discovery already resolved links to real paths inside the root): a
    // kustomization that is a link to one outside the workspace is neither fixed nor followed.
    let (_dir, root) = fixable();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("kustomization.yaml");
    std::fs::write(&victim, LEGACY).unwrap();
    std::fs::create_dir_all(root.join("deploy/linked")).unwrap();
    symlink(&victim, root.join("deploy/linked/kustomization.yaml")).unwrap();
    let (_, _, stderr) = run(&root, &["check", "--fix"]);
    assert!(stderr.contains("fixed deploy/legacy/kustomization.yaml"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), LEGACY);
    assert!(root
        .join("deploy/linked/kustomization.yaml")
        .symlink_metadata()
        .unwrap()
        .file_type()
        .is_symlink());
}

// ---- item 6: no lost update ----

#[test]
fn fix_leaves_a_file_saved_meanwhile_alone() {
    let (_dir, root) = fixable();
    let legacy = root.join("deploy/legacy/kustomization.yaml");
    // The fault-injection hook appends a line between the fix's read and its write, as an editor
    // saving the file meanwhile would.
    let (_, _, stderr) = run_env(&root, &["check", "--fix"], &[("INVARIANT_FAULT", "fix-race:legacy")]);
    assert!(
        stderr.contains("deploy/legacy/kustomization.yaml") && stderr.contains("changed since it was read"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&legacy).unwrap(),
        format!("{LEGACY}# saved meanwhile\n"),
        "the edit saved meanwhile is kept, and the fix is not applied over it"
    );
    // Without the race the fix applies.
    let (_, _, stderr) = run(&root, &["check", "--fix"]);
    assert!(stderr.contains("fixed deploy/legacy/kustomization.yaml"), "{stderr}");
    assert!(std::fs::read_to_string(&legacy).unwrap().contains("resources:"));
}

// ---- item 7: --fix --diff validates as check does ----

#[test]
fn fix_diff_over_a_broken_configuration_exits_2() {
    let (_dir, root) = fixable();
    std::fs::write(root.join(".invariant.yaml"), "models: [unclosed\n").unwrap();
    let (code, _, stderr) = run(&root, &["check"]);
    assert_eq!(code, 2, "check: {stderr}");
    let (code, _, stderr) = run(&root, &["check", "--fix", "--diff"]);
    assert_eq!(code, 2, "--fix --diff: {stderr}");
    assert!(stderr.contains(".invariant.yaml"), "{stderr}");
}

#[test]
fn fix_diff_over_a_file_it_cannot_read_exits_2() {
    let (_dir, root) = fixable();
    // A name that is not UTF-8: `check` cannot check it (exit 2), nor may `--fix --diff` pass it by.
    let name = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"deploy/legacy/bad\xff.yaml");
    std::fs::write(root.join(name), CM).unwrap();
    let (code, _, stderr) = run(&root, &["check"]);
    assert_eq!(code, 2, "check: {stderr}");
    let (code, diff, stderr) = run(&root, &["check", "--fix", "--diff"]);
    assert_eq!(code, 2, "--fix --diff: {stderr}");
    assert!(stderr.contains("bad"), "{stderr}");
    // The diff of what could be read is still printed.
    assert!(diff.contains("+resources:"), "{diff}");
}

#[test]
fn fix_diff_refuses_options_it_does_not_honour_and_validates_the_baseline() {
    let (_dir, root) = fixable();
    for extra in [
        &["--output", "json=out.json"][..],
        &["--write-baseline", "b.json"][..],
        &["--new-from-rev", "HEAD"][..],
    ] {
        let mut args = vec!["check", "--fix", "--diff"];
        args.extend_from_slice(extra);
        let (code, _, stderr) = run(&root, &args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(extra[0]), "{args:?}: {stderr}");
    }
    assert!(!root.join("out.json").exists() && !root.join("b.json").exists());
    let (code, _, stderr) = run(&root, &["check", "--fix", "--diff", "--baseline", "missing.json"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("missing.json"), "{stderr}");
}

// ---- item 15: --fix --diff escapes control characters ----

#[test]
fn fix_diff_escapes_control_characters_from_the_file() {
    let (_dir, root) = workspace();
    write(&root, "deploy/base/kustomization.yaml", BASE);
    write(&root, "deploy/base/cm.yaml", CM);
    write(
        &root,
        "deploy/legacy/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\n# \u{1b}]0;owned\u{7}\u{1b}[2J \u{202e}txt\nkind: Kustomization\nbases:\n  - ../base\n",
    );
    let (code, diff, stderr) = run(&root, &["check", "--fix", "--diff"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(diff.contains("+resources:"), "{diff}");
    assert!(
        !diff.chars().any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\u{202e}'),
        "raw control characters in {diff:?}"
    );
    assert!(diff.contains("\\u{1b}]0;owned\\u{7}\\u{1b}[2J \\u{202e}txt"), "{diff}");
}

// ---- item 5: git runs nothing the repository configures ----

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A repository with one commit (a fixable tree and a `.gitattributes` that selects the `evil`
/// filter and diff drivers for every file), a work tree that differs from it, and `configure`
/// applied to its `.git`; then `check --new-from-rev HEAD` and `impact --since HEAD` run in it.
/// Returns the directory where a mechanism that ran leaves its marker file.
fn run_git_commands(configure: impl FnOnce(&Path, &Path)) -> (tempfile::TempDir, tempfile::TempDir, PathBuf) {
    let (dir, root) = fixable();
    let marker_dir = tempfile::tempdir().unwrap();
    let markers = marker_dir.path().to_path_buf();
    write(&root, ".gitattributes", "* filter=evil diff=evil\n");
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["add", "."]);
    git(&root, &["commit", "-q", "-m", "one"]);
    configure(&root, &markers);
    // The work tree differs from HEAD (and its stat data from the index: git would clean it).
    std::fs::write(root.join("deploy/base/cm.yaml"), CM.replace("cm", "cm2")).unwrap();
    write(&root, "deploy/new/kustomization.yaml", LEGACY);
    let (code, _, stderr) = run(&root, &["check", "--new-from-rev", "HEAD", "--format", "json"]);
    assert!(code == 0 || code == 1, "check --new-from-rev: {code} {stderr}");
    let (code, _, stderr) = run(&root, &["impact", ".", "--since", "HEAD", "--format", "json"]);
    assert_eq!(code, 0, "impact: {stderr}");
    (dir, marker_dir, markers)
}

/// A shell script at `path` that creates `marker` when run (and passes stdin to stdout).
fn marker_script(path: &Path, marker: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("#!/bin/sh\ntouch '{}'\ncat\n", marker.display())).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn markers_left(markers: &Path) -> Vec<String> {
    let mut left: Vec<String> = std::fs::read_dir(markers)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        // Markers have plain names; scripts, configuration files and directories have a dot.
        .filter(|n| !n.contains('.'))
        .collect();
    left.sort();
    left
}

fn git_config(root: &Path, key: &str, value: &str) {
    git(root, &["config", key, value]);
}

#[test]
fn git_runs_no_fsmonitor_the_repository_configures() {
    let (_dir, _marker_dir, markers) = run_git_commands(|root, markers| {
        let hook = markers.join("fsmonitor.sh");
        marker_script(&hook, &markers.join("fsmonitor"));
        git_config(root, "core.fsmonitor", hook.to_str().unwrap());
    });
    assert_eq!(markers_left(&markers), Vec::<String>::new());
}

#[test]
fn git_runs_no_fsmonitor_from_an_included_file() {
    let (_dir, _marker_dir, markers) = run_git_commands(|root, markers| {
        let hook = markers.join("include.sh");
        marker_script(&hook, &markers.join("include"));
        let hook_if = markers.join("includeif.sh");
        marker_script(&hook_if, &markers.join("includeif"));
        // `include.path` to a file in the tree, and an `includeIf` that matches this repository.
        write(
            root,
            "included.cfg",
            format!("[core]\n\tfsmonitor = {}\n", hook.display()),
        );
        git_config(root, "include.path", "../included.cfg");
        let cond = markers.join("cond.cfg");
        std::fs::write(&cond, format!("[core]\n\tfsmonitor = {}\n", hook_if.display())).unwrap();
        git_config(
            root,
            &format!("includeIf.gitdir:{}/.git.path", root.display()),
            cond.to_str().unwrap(),
        );
    });
    assert_eq!(markers_left(&markers), Vec::<String>::new());
}

#[test]
fn git_runs_no_hooks() {
    let (_dir, _marker_dir, markers) = run_git_commands(|root, markers| {
        for hook in [
            "post-index-change",
            "post-checkout",
            "pre-commit",
            "reference-transaction",
        ] {
            marker_script(&root.join(".git/hooks").join(hook), &markers.join(hook));
        }
        // And a hooks path the configuration names.
        let dir = markers.join("hooks.d");
        marker_script(&dir.join("post-index-change"), &markers.join("hookspath"));
        git_config(root, "core.hooksPath", dir.to_str().unwrap());
    });
    assert_eq!(markers_left(&markers), Vec::<String>::new());
}

#[test]
fn git_runs_no_smudge_or_clean_filter() {
    let (_dir, _marker_dir, markers) = run_git_commands(|root, markers| {
        let smudge = markers.join("smudge.sh");
        marker_script(&smudge, &markers.join("smudge"));
        let clean = markers.join("clean.sh");
        marker_script(&clean, &markers.join("clean"));
        git_config(root, "filter.evil.smudge", smudge.to_str().unwrap());
        git_config(root, "filter.evil.clean", clean.to_str().unwrap());
        git_config(root, "filter.evil.required", "true");
    });
    assert_eq!(markers_left(&markers), Vec::<String>::new());
}

#[test]
fn git_runs_no_process_filter() {
    let (_dir, _marker_dir, markers) = run_git_commands(|root, markers| {
        let process = markers.join("process.sh");
        marker_script(&process, &markers.join("process"));
        git_config(root, "filter.evil.process", process.to_str().unwrap());
    });
    assert_eq!(markers_left(&markers), Vec::<String>::new());
}

#[test]
fn git_runs_no_textconv_external_diff_or_pager() {
    let (_dir, _marker_dir, markers) = run_git_commands(|root, markers| {
        for (key, name) in [
            ("diff.evil.textconv", "textconv"),
            ("diff.evil.command", "diffcommand"),
            ("diff.external", "external"),
            ("core.pager", "pager"),
            ("pager.diff", "pagerdiff"),
        ] {
            let script = markers.join(format!("{name}.sh"));
            marker_script(&script, &markers.join(name));
            git_config(root, key, script.to_str().unwrap());
        }
    });
    assert_eq!(markers_left(&markers), Vec::<String>::new());
}

#[test]
fn the_exported_revision_is_the_raw_committed_content() {
    // No filter applied on export: with a smudge filter configured, the old side is still the
    // blob, so the finding in HEAD is recognised as existing.
    let (_dir, root) = fixable();
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["add", "."]);
    git(&root, &["commit", "-q", "-m", "one"]);
    write(&root, ".gitattributes", "*.yaml filter=upper\n");
    git_config(&root, "filter.upper.smudge", "tr a-z A-Z");
    let (code, out, stderr) = run(&root, &["check", "--new-from-rev", "HEAD", "--format", "json"]);
    assert!(code == 0 || code == 1, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(report["new_from_rev"]["existing"].as_u64().unwrap() >= 1, "{out}");
}

// ---- item 14: owner-only export, cleaned on signals with the git child killed ----

fn alive(pid: i32) -> bool {
    // A zombie has ended; only its exit status is left for its parent.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

#[test]
fn an_interrupted_export_leaves_no_directory_and_no_git_child() {
    let (_dir, root) = fixable();
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["add", "."]);
    git(&root, &["commit", "-q", "-m", "one"]);
    let real_git = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    // A `git` first on PATH that hangs (recording its pid) where the export streams the tree.
    let bin = tempfile::tempdir().unwrap();
    let pidfile = bin.path().join("pid");
    std::fs::write(
        bin.path().join("git"),
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in cat-file|checkout-index) echo $$ > '{}'; exec sleep 600;; esac; done\nexec '{real_git}' \"$@\"\n",
            pidfile.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(bin.path().join("git"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default());
    for (signal, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "SIGINT")] {
        let _ = std::fs::remove_file(&pidfile);
        let mut child = Command::new(env!("CARGO_BIN_EXE_invariant-lsp"))
            .args(["check", "--new-from-rev", "HEAD"])
            .env("PATH", &path)
            .env("TMPDIR", tmp.path())
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + WATCHDOG;
        let git_pid: i32 = loop {
            if let Some(pid) = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                break pid;
            }
            assert!(Instant::now() < deadline, "{name}: the export never started");
            std::thread::sleep(Duration::from_millis(20));
        };
        let dirs: Vec<PathBuf> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("invariant-rev-"))
            .collect();
        assert_eq!(dirs.len(), 1, "{name}: {dirs:?}");
        let mode = std::fs::metadata(&dirs[0]).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{name}: the export directory is owner-only");
        // SAFETY: kill takes plain integers; the pid is our child's.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "{name}: check did not end");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(128 + signal), "{name}");
        let end = Instant::now() + Duration::from_secs(10);
        while alive(git_pid) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
        }
        let still = alive(git_pid);
        if still {
            // SAFETY: as above; the pid is the hanging `git` this test started.
            unsafe { libc::kill(git_pid, libc::SIGKILL) };
        }
        assert!(!still, "{name}: the git child outlived check");
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(left.is_empty(), "{name}: left behind {left:?}");
    }
}
