//! `render-diff` on a git repository built here with two commits on a feature branch: a
//! refactor that leaves the output identical (a resource moved to another file), a key
//! reorder, a real change, an ApplicationSet list element added, and a Helm source. Needs git
//! and kustomize (or kubectl); says SKIPPED loudly without them.

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn have(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd).args(args).output().is_ok_and(|o| o.status.success())
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n";

fn app(name: &str, path: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\nspec:\n  source:\n    repoURL: https://github.com/example/fleet.git\n    path: {path}\n  destination:\n    server: https://kubernetes.default.svc\n---\n"
    )
}

fn appset(envs: &[&str]) -> String {
    let elements: String = envs.iter().map(|e| format!("          - env: {e}\n")).collect();
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: envs\nspec:\n  generators:\n    - list:\n        elements:\n{elements}  template:\n    metadata:\n      name: 'set-{{{{env}}}}'\n    spec:\n      source:\n        repoURL: git@github.com:example/fleet.git\n        path: 'overlays/{{{{env}}}}'\n"
    )
}

fn prod_patch(replicas: u32) -> String {
    format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\npatches:\n  - patch: |-\n      - op: replace\n        path: /spec/replicas\n        value: {replicas}\n    target:\n      kind: Deployment\n      name: web\n")
}

#[test]
fn render_diff_reports_each_application() {
    if !have("git", &["--version"]) || !(have("kustomize", &["version"]) || have("kubectl", &["version", "--client"])) {
        eprintln!("\n*** SKIPPED render_diff_reports_each_application: needs git and kustomize or kubectl ***\n");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["remote", "add", "origin", "https://github.com/Example/fleet"]);
    write(root, "base/kustomization.yaml", "resources:\n  - web.yaml\n");
    write(root, "base/web.yaml", DEPLOYMENT);
    write(
        root,
        "overlays/dev/kustomization.yaml",
        "resources:\n  - ../../base\nnamePrefix: dev-\n",
    );
    write(root, "overlays/prod/kustomization.yaml", &prod_patch(3));
    write(
        root,
        "plain/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  a: \"1\"\n  b: \"2\"\n",
    );
    write(
        root,
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    write(
        root,
        "charts/web/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
    );
    let apps = [
        app("dev", "overlays/dev"),
        app("prod", "overlays/prod"),
        app("plain", "plain"),
        app("chart", "charts/web"),
        app("elsewhere", "not/in/this/tree").replace("example/fleet", "example/other"),
    ]
    .concat();
    write(root, "apps/apps.yaml", &format!("{apps}{}", appset(&["dev", "prod"])));
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "one"]);

    git(root, &["checkout", "-qb", "feature"]);
    // A refactor: the Deployment moves to another file; the output is identical.
    std::fs::remove_file(root.join("base/web.yaml")).unwrap();
    write(root, "base/deployment.yaml", DEPLOYMENT);
    write(root, "base/kustomization.yaml", "resources:\n  - deployment.yaml\n");
    // A key reorder.
    write(
        root,
        "plain/cm.yaml",
        "kind: ConfigMap\napiVersion: v1\ndata:\n  b: \"2\"\n  a: \"1\"\nmetadata:\n  name: plain\n",
    );
    // A real change.
    write(root, "overlays/prod/kustomization.yaml", &prod_patch(5));
    // A new ApplicationSet element, with its overlay.
    write(
        root,
        "overlays/qa/kustomization.yaml",
        "resources:\n  - ../../base\nnamePrefix: qa-\n",
    );
    write(
        root,
        "apps/apps.yaml",
        &format!("{apps}{}", appset(&["dev", "prod", "qa"])),
    );
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "two"]);
    let before = std::fs::read_to_string(root.join("plain/cm.yaml")).unwrap();

    // No --since: the merge base with `main`.
    let out = Command::new(env!("CARGO_BIN_EXE_invariant-lsp"))
        .args(["render-diff", "--format", "json"])
        .current_dir(root)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["version"], 1);
    let main = String::from_utf8(
        Command::new("git")
            .args(["rev-parse", "main"])
            .current_dir(root)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(json["since"], main.trim());
    let status = |name: &str| -> String {
        json["applications"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .map(|a| a["status"].as_str().unwrap().to_string())
            .unwrap_or_else(|| format!("absent: {json}"))
    };
    assert_eq!(status("dev"), "identical");
    assert_eq!(status("plain"), "identical");
    assert_eq!(status("prod"), "changed");
    assert_eq!(status("set-dev"), "identical");
    assert_eq!(status("set-prod"), "changed");
    assert_eq!(status("set-qa"), "added");
    assert!(
        status("elsewhere").starts_with("absent"),
        "another repository's source is not rendered"
    );
    if have("helm", &["version"]) {
        assert_eq!(status("chart"), "identical");
    } else {
        assert_eq!(status("chart"), "unrenderable");
        let chart = json["applications"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "chart")
            .unwrap();
        assert!(
            chart["reason"].as_str().unwrap().contains("helm is not installed"),
            "{chart}"
        );
    }
    let prod = json["applications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "prod")
        .unwrap();
    let diff = prod["diff"].as_str().unwrap();
    assert!(
        diff.contains("-  replicas: 3") && diff.contains("+  replicas: 5"),
        "{diff}"
    );
    // The work tree is untouched.
    assert_eq!(std::fs::read_to_string(root.join("plain/cm.yaml")).unwrap(), before);
    let status_out = Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        status_out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&status_out.stdout)
    );

    // Since HEAD: everything identical except what cannot be rendered.
    let out = Command::new(env!("CARGO_BIN_EXE_invariant-lsp"))
        .args(["render-diff", "--since", "HEAD", "--format", "markdown"])
        .current_dir(root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let expected = if have("helm", &["version"]) { 0 } else { 2 };
    assert_eq!(
        out.status.code(),
        Some(expected),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("| `prod` | `overlays/prod` | identical |"), "{text}");

    // A revision that does not exist is an error.
    let out = Command::new(env!("CARGO_BIN_EXE_invariant-lsp"))
        .args(["render-diff", "--since", "no-such-rev"])
        .current_dir(root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
