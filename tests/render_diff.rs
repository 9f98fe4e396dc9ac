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

fn app_entry<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["applications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no {name}: {json}"))
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
    // Another repository's source is listed and not compared (its definition file changed:
    // the change may affect it).
    assert_eq!(status("elsewhere"), "not-compared");
    let elsewhere = app_entry(&json, "elsewhere");
    assert_eq!(elsewhere["affected"], true, "{elsewhere}");
    assert!(
        elsewhere["reason"]
            .as_str()
            .unwrap()
            .contains("github.com/example/other"),
        "{elsewhere}"
    );
    if have("helm", &["version"]) {
        assert_eq!(status("chart"), "identical");
    } else {
        assert_eq!(status("chart"), "not-compared");
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

    // Since HEAD: nothing changed, so nothing is affected (even what cannot be rendered).
    let out = Command::new(env!("CARGO_BIN_EXE_invariant-lsp"))
        .args(["render-diff", "--since", "HEAD", "--format", "markdown"])
        .current_dir(root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("| `prod` | `overlays/prod` | identical |"), "{text}");
    assert!(text.contains("touches nothing any Application renders"), "{text}");
    assert!(
        text.trim_end()
            .lines()
            .last()
            .unwrap()
            .contains("identical, 0 changed, 0 added, 0 removed"),
        "the markdown ends with the counts per state: {text}"
    );

    // A revision that does not exist is an error.
    let out = Command::new(env!("CARGO_BIN_EXE_invariant-lsp"))
        .args(["render-diff", "--since", "no-such-rev"])
        .current_dir(root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn tools() -> bool {
    let ok =
        have("git", &["--version"]) && (have("kustomize", &["version"]) || have("kubectl", &["version", "--client"]));
    if !ok {
        eprintln!("\n*** SKIPPED render-diff test: needs git and kustomize or kubectl ***\n");
    }
    ok
}

/// A repository with a remote naming it, on `main`.
fn repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    git(tmp.path(), &["init", "-q", "-b", "main"]);
    git(
        tmp.path(),
        &["remote", "add", "origin", "https://github.com/example/fleet"],
    );
    tmp
}

fn commit(root: &Path, message: &str) {
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", message]);
}

/// `render-diff --since HEAD --format FORMAT` in `root`: exit code, stdout, stderr.
fn render_diff(root: &Path, format: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_invariant-lsp"))
        .args(["render-diff", "--since", "HEAD", "--format", format])
        .current_dir(root)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_of(root: &Path) -> (i32, serde_json::Value) {
    let (code, out, err) = render_diff(root, "json");
    let json = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, json)
}

fn entries<'a>(json: &'a serde_json::Value, name: &str) -> Vec<&'a serde_json::Value> {
    json["applications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["name"] == name)
        .collect()
}

fn cm(name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  v: \"{value}\"\n")
}

fn namespaced_app(namespace: &str, name: &str, path: &str) -> String {
    app(name, path).replace(
        &format!("  name: {name}\n"),
        &format!("  name: {name}\n  namespace: {namespace}\n"),
    )
}

#[test]
fn same_name_applications_in_two_namespaces_are_each_compared() {
    if !tools() {
        return;
    }
    let tmp = repo();
    let root = tmp.path();
    write(root, "a/cm.yaml", &cm("a", "1"));
    write(root, "b/cm.yaml", &cm("b", "1"));
    write(
        root,
        "apps/apps.yaml",
        &[
            namespaced_app("team-a", "web", "a"),
            namespaced_app("team-b", "web", "b"),
        ]
        .concat(),
    );
    commit(root, "one");
    write(root, "b/cm.yaml", &cm("b", "2"));
    let (code, json) = json_of(root);
    assert_eq!(code, 1, "{json}");
    let web = entries(&json, "web");
    assert_eq!(web.len(), 2, "both are listed: {json}");
    let status = |ns: &str| {
        web.iter()
            .find(|e| e["namespace"] == ns)
            .map(|e| e["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status("team-a"), "identical");
    assert_eq!(status("team-b"), "changed");
    assert_eq!(json["summary"]["changed"], 1);
    assert_eq!(json["summary"]["identical"], 1);

    // Alike in namespace and name, in two files (two app-of-apps trees): told apart by file.
    write(root, "apps/other.yaml", &namespaced_app("team-a", "web", "b"));
    commit(root, "two");
    write(root, "b/cm.yaml", &cm("b", "3"));
    let (code, json) = json_of(root);
    assert_eq!(code, 1, "{json}");
    let team_a: Vec<_> = entries(&json, "web")
        .into_iter()
        .filter(|e| e["namespace"] == "team-a")
        .collect();
    assert_eq!(team_a.len(), 2, "{json}");
    let by_file = |f: &str| team_a.iter().find(|e| e["defined_in"] == f).unwrap()["status"].clone();
    assert_eq!(by_file("apps/apps.yaml"), "identical");
    assert_eq!(by_file("apps/other.yaml"), "changed");
}

const CLUSTERS_SET: &str = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: per-cluster\n  namespace: argocd\nspec:\n  generators:\n    - clusters:\n        selector:\n          matchLabels: {env: prod}\n  template:\n    metadata:\n      name: '{{name}}-web'\n    spec:\n      source:\n        repoURL: https://github.com/example/fleet.git\n        path: 'clusters/{{name}}'\n      destination:\n        server: '{{server}}'\n";

#[test]
fn a_clusters_generator_is_not_compared_with_its_reason_and_a_docs_change_affects_nothing() {
    if !tools() {
        return;
    }
    let tmp = repo();
    let root = tmp.path();
    write(root, "README.md", "# fleet\n");
    write(root, "clusters/east/kustomization.yaml", "resources:\n  - ../../base\n");
    write(root, "base/kustomization.yaml", "resources:\n  - cm.yaml\n");
    write(root, "base/cm.yaml", &cm("web", "1"));
    write(root, "plain/cm.yaml", &cm("plain", "1"));
    write(root, "apps/set.yaml", CLUSTERS_SET);
    write(root, "apps/plain.yaml", &app("plain", "plain"));
    commit(root, "one");

    // A docs-only change: exit 0, and it says nothing is affected.
    write(root, "README.md", "# fleet\n\nMore words.\n");
    let (code, json) = json_of(root);
    assert_eq!(code, 0, "{json}");
    let set = entries(&json, "{{name}}-web");
    assert_eq!(set.len(), 1, "{json}");
    assert_eq!(set[0]["status"], "not-compared");
    assert_eq!(set[0]["applicationset"], "per-cluster");
    assert_eq!(set[0]["namespace"], "argocd");
    assert_eq!(set[0]["affected"], false);
    let reason = set[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("`clusters`") && reason.contains("not known offline"),
        "{reason}"
    );
    assert_eq!(json["summary"]["nothing-affected"], true);
    assert_eq!(json["summary"]["changed-files"], 1);
    let (code, text, _) = render_diff(root, "human");
    assert_eq!(code, 0);
    assert!(text.contains("touches nothing any Application renders"), "{text}");
    let last = text.trim_end().lines().last().unwrap();
    assert_eq!(
        last,
        format!(
            "2 Application source(s) since {}: 1 identical, 0 changed, 0 added, 0 removed, 1 not-compared (0 may be affected by the change)",
            &json["since"].as_str().unwrap()[..12]
        ),
        "{text}"
    );

    // A change the generated Applications may render (their base): exit 3, not 0.
    write(root, "base/cm.yaml", &cm("web", "2"));
    let (code, json) = json_of(root);
    assert_eq!(code, 3, "{json}");
    assert_eq!(entries(&json, "{{name}}-web")[0]["affected"], true);
    assert_eq!(json["summary"]["not-compared-affected"], 1);
    let (code, text, _) = render_diff(root, "markdown");
    assert_eq!(code, 3);
    assert!(
        text.trim_end()
            .lines()
            .last()
            .unwrap()
            .contains("1 not-compared (1 may be affected by the change)"),
        "{text}"
    );
}

#[test]
fn a_deleted_path_is_removed() {
    if !tools() {
        return;
    }
    let tmp = repo();
    let root = tmp.path();
    write(root, "gone/kustomization.yaml", "resources:\n  - cm.yaml\n");
    write(root, "gone/cm.yaml", &cm("gone", "1"));
    write(root, "apps/gone.yaml", &app("gone", "gone"));
    commit(root, "one");
    std::fs::remove_dir_all(root.join("gone")).unwrap();
    let (code, json) = json_of(root);
    assert_eq!(code, 1, "{json}");
    assert_eq!(entries(&json, "gone")[0]["status"], "removed", "{json}");
    assert_eq!(json["summary"]["removed"], 1);
}

#[test]
fn failure_reasons_are_whole_and_never_name_the_private_directory() {
    if !tools() {
        return;
    }
    let tmp = repo();
    let root = tmp.path();
    // A build error whose cause (the missing file) is at the end of a long message.
    let deep = (0..40).map(|i| format!("level-{i:02}")).collect::<Vec<_>>().join("/");
    write(
        root,
        "broken/kustomization.yaml",
        &format!("resources:\n  - {deep}/missing-resource.yaml\n"),
    );
    // A remote base with a long URL.
    let url = format!(
        "https://github.com/example/remote-bases//{}/base?ref=v1.2.3",
        (0..30).map(|i| format!("segment-{i:02}")).collect::<Vec<_>>().join("/")
    );
    write(root, "remote/kustomization.yaml", &format!("resources:\n  - {url}\n"));
    write(
        root,
        "apps/apps.yaml",
        &[app("broken", "broken"), app("remote", "remote")].concat(),
    );
    commit(root, "one");
    write(
        root,
        "broken/kustomization.yaml",
        &format!("resources:\n  - {deep}/missing-resource.yaml\ncommonLabels: {{a: b}}\n"),
    );
    write(
        root,
        "remote/kustomization.yaml",
        &format!("resources:\n  - {url}\nnamePrefix: x-\n"),
    );
    let (code, out, err) = render_diff(root, "json");
    assert_eq!(code, 3, "{out}{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let broken = entries(&json, "broken")[0]["reason"].as_str().unwrap().to_string();
    assert!(broken.len() > 400, "{broken}");
    assert!(broken.contains(&format!("{deep}/missing-resource.yaml")), "{broken}");
    let remote = entries(&json, "remote")[0]["reason"].as_str().unwrap().to_string();
    assert!(remote.contains(&url), "{remote}");
    for format in ["json", "human", "markdown"] {
        let (_, text, _) = render_diff(root, format);
        assert!(!text.contains("invariant-render-diff-"), "{format}: {text}");
        assert!(
            !text.contains(&*std::env::temp_dir().to_string_lossy()),
            "{format}: {text}"
        );
        assert!(!text.contains(&*root.to_string_lossy()), "{format}: {text}");
    }
}

#[test]
fn an_overlay_patching_the_source_path_is_judged_on_the_rendered_application() {
    if !tools() {
        return;
    }
    let tmp = repo();
    let root = tmp.path();
    write(root, "envs/dev/cm.yaml", &cm("web", "dev"));
    write(root, "envs/prod/cm.yaml", &cm("web", "prod-1"));
    write(root, "apps/base/kustomization.yaml", "resources:\n  - web.yaml\n");
    write(root, "apps/base/web.yaml", &app("web", "envs/dev"));
    write(
        root,
        "apps/prod/kustomization.yaml",
        "resources:\n  - ../base\npatches:\n  - target:\n      kind: Application\n      name: web\n    patch: |-\n      - op: replace\n        path: /spec/source/path\n        value: envs/prod\n",
    );
    commit(root, "one");
    write(root, "envs/prod/cm.yaml", &cm("web", "prod-2"));
    let (code, json) = json_of(root);
    assert_eq!(code, 1, "{json}");
    let web = entries(&json, "web");
    assert_eq!(web.len(), 1, "{json}");
    assert_eq!(web[0]["source"], "envs/prod");
    assert_eq!(web[0]["status"], "changed");
    assert!(web[0]["diff"].as_str().unwrap().contains("prod-2"), "{json}");
}

#[test]
fn nothing_is_read_through_a_link_out_of_the_repository() {
    if !tools() {
        return;
    }
    let outside = tempfile::tempdir().unwrap();
    for v in ["v1", "v2"] {
        write(
            outside.path(),
            &format!("{v}/secret.yaml"),
            &format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  token: TOPSECRET-{v}\n"),
        );
        write(
            outside.path(),
            &format!("{v}/kustomization.yaml"),
            "resources:\n  - secret.yaml\n",
        );
    }
    let tmp = repo();
    let root = tmp.path();
    let link = |target: &Path, at: &str| {
        let _ = std::fs::remove_file(root.join(at));
        std::fs::create_dir_all(root.join(at).parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, root.join(at)).unwrap();
    };
    // An Application path that is a link out.
    link(&outside.path().join("v1"), "linked");
    // A kustomization's resource file, and its base directory, through links out.
    link(&outside.path().join("v1/secret.yaml"), "k-file/secret.yaml");
    write(root, "k-file/kustomization.yaml", "resources:\n  - secret.yaml\n");
    link(&outside.path().join("v1"), "k-dir/base");
    write(root, "k-dir/kustomization.yaml", "resources:\n  - base\n");
    write(
        root,
        "apps/apps.yaml",
        &[app("linked", "linked"), app("k-file", "k-file"), app("k-dir", "k-dir")].concat(),
    );
    commit(root, "one");
    // The change points every link at another secret.
    link(&outside.path().join("v2"), "linked");
    link(&outside.path().join("v2/secret.yaml"), "k-file/secret.yaml");
    link(&outside.path().join("v2"), "k-dir/base");
    let (code, text, err) = render_diff(root, "markdown");
    assert!(!text.contains("TOPSECRET"), "{text}");
    assert_eq!(code, 3, "{text}{err}");
    for name in ["linked", "k-file", "k-dir"] {
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("no {name}: {text}"));
        assert!(
            row.contains("not compared") && row.contains("leads out of the repository"),
            "{row}"
        );
    }
    assert!(!text.contains(&*outside.path().to_string_lossy()), "{text}");
    let (_, json) = json_of(root);
    assert!(!json.to_string().contains("TOPSECRET"));
}

/// The confinement walk itself: a kustomization is followed through its bases, a link out
/// (a file, a directory, a path through one) is refused without naming its target.
#[test]
fn a_link_out_is_refused_and_a_kustomization_is_followed() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.yaml"), "kind: Secret\n").unwrap();
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    std::fs::create_dir_all(root.join("base")).unwrap();
    std::fs::create_dir_all(root.join("app")).unwrap();
    std::fs::write(root.join("base/kustomization.yaml"), "resources: [cm.yaml]\n").unwrap();
    std::fs::write(root.join("base/cm.yaml"), "kind: ConfigMap\n").unwrap();
    std::fs::write(
        root.join("app/kustomization.yaml"),
        "resources: [../base, https://example.com/x.yaml]\nconfigMapGenerator:\n- name: c\n  files: [k=data.txt]\n",
    )
    .unwrap();
    let c = invariant_lsp::cli::render_inputs::Confined::new(root).unwrap();
    let inputs = c.inputs_of("app").unwrap();
    assert!(inputs.reads("base/cm.yaml") && inputs.reads("app/kustomization.yaml"));
    assert!(!inputs.reads("README.md") && !inputs.reads("basement/x"));
    assert_eq!(inputs.remote, vec!["https://example.com/x.yaml".to_string()]);
    assert!(c.real("/etc").is_err() && c.real("../x").is_err());

    std::os::unix::fs::symlink(outside.path().join("secret.yaml"), root.join("base/s.yaml")).unwrap();
    let err = c.inputs_of("app").unwrap_err();
    assert!(err.contains("base/s.yaml") && err.contains("leads out"), "{err}");
    assert!(!err.contains(&*outside.path().to_string_lossy()), "{err}");
    std::os::unix::fs::symlink(outside.path(), root.join("linked")).unwrap();
    assert!(c.real("linked").is_err());
    assert!(c.real("linked/secret.yaml").is_err());
    assert!(c.real("linked/none").is_err());
}
