//! Real kustomize as the oracle for the `kustomize/*` verdicts. For every kustomization of
//! every fixture workspace (`tests/fixtures/*`):
//! - kustomize fails to build it exactly when we report something that breaks the build in it
//!   or in what it reaches (a missing, invalid or outside reference, a cycle, a duplicated
//!   resource, a strategic-merge patch that matches nothing);
//! - when it builds, removing a patch we call dead (`patch-target-missing`: a selector that
//!   matches nothing) leaves the output unchanged, and removing a patch we accept changes it
//!   (patches of included components too, judged in each including overlay).
//!
//! Kustomize is `kustomize build` or `kubectl kustomize` from PATH, else kustomize v5.5.0 built
//! with `go install` into `~/.cache/invariant-lsp/tools` (or `$INVARIANT_TOOLS`). Without any
//! of them the test says SKIPPED loudly and passes. Kustomizations that need the network
//! (remote bases, `helmCharts`) are listed as not judged.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use invariant_lsp::facts::yaml::{facts_of, YKind, YamlFacts};

const KUSTOMIZE_VERSION: &str = "v5.5.0";
const NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The command that builds a kustomization directory (the directory is appended).
fn kustomize() -> Result<Vec<String>, String> {
    let works = |cmd: &[&str]| {
        Command::new(cmd[0])
            .args(&cmd[1..])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if works(&["kustomize", "version"]) {
        return Ok(vec!["kustomize".into(), "build".into()]);
    }
    if works(&["kubectl", "version", "--client"]) {
        return Ok(vec!["kubectl".into(), "kustomize".into()]);
    }
    let cache = std::env::var_os("INVARIANT_TOOLS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/invariant-lsp/tools")))
        .ok_or("no HOME for the tool cache")?
        .join(format!("kustomize-{KUSTOMIZE_VERSION}"));
    let bin = cache.join("kustomize");
    if !bin.is_file() {
        std::fs::create_dir_all(&cache).map_err(|e| e.to_string())?;
        let out = Command::new("go")
            .args([
                "install",
                &format!("sigs.k8s.io/kustomize/kustomize/v5@{KUSTOMIZE_VERSION}"),
            ])
            .env("GOBIN", &cache)
            .env("GOFLAGS", "-mod=mod")
            .output()
            .map_err(|e| format!("neither kustomize nor kubectl on PATH, and no go to build it: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "go install kustomize {KUSTOMIZE_VERSION} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok(vec![bin.display().to_string(), "build".into()])
}

fn build(cmd: &[String], dir: &Path) -> Result<String, String> {
    let out = Command::new(&cmd[0])
        .args(&cmd[1..])
        .arg(dir)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// One finding of `check --format json`: (path, 1-based line) → (code, message).
type Findings = BTreeMap<(String, usize), Vec<(String, String)>>;

fn check(root: &Path) -> Findings {
    let out = Command::new(env!("CARGO_BIN_EXE_invariant-lsp"))
        .args(["check", ".", "--format", "json"])
        .current_dir(root)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check {}: {e}: {}",
            root.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut findings = Findings::new();
    for d in json["diagnostics"].as_array().unwrap() {
        let path = d["path"].as_str().unwrap().trim_start_matches("./").to_string();
        let line = d["range"]["start"]["line"].as_u64().unwrap() as usize + 1;
        findings.entry((path, line)).or_default().push((
            d["code"].as_str().unwrap().into(),
            d["message"].as_str().unwrap().into(),
        ));
    }
    findings
}

fn line_of(text: &str, offset: u32) -> usize {
    text[..offset as usize].matches('\n').count() + 1
}

/// A kustomization in a fixture: its path, facts and text.
struct K {
    path: String,
    text: String,
    facts: YamlFacts,
}

impl K {
    fn root(&self) -> Option<u32> {
        self.facts.docs.first().and_then(|d| d.root)
    }
    fn dir(&self) -> &str {
        self.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
    }
    fn is_component(&self) -> bool {
        self.root().and_then(|r| self.facts.scalar_at(r, "kind")) == Some("Component")
    }
    fn list(&self, path: &str) -> Vec<String> {
        let Some(root) = self.root() else { return vec![] };
        self.facts
            .at_path(root, path)
            .into_iter()
            .filter_map(|id| self.facts.scalar(id).map(str::to_string))
            .collect()
    }
    /// (list, index, line) of every patch entry.
    fn patches(&self) -> Vec<(&'static str, usize, usize)> {
        let Some(root) = self.root() else { return vec![] };
        let mut out = Vec::new();
        for list in ["patches", "patchesStrategicMerge", "patchesJson6902"] {
            for (i, item) in self.facts.at_path(root, &format!("{list}[]")).into_iter().enumerate() {
                let node = if self.facts.node(item).kind == YKind::Map {
                    self.facts.get(item, "path").or_else(|| self.facts.get(item, "patch"))
                } else {
                    Some(item)
                };
                if let Some(node) = node {
                    out.push((list, i, line_of(&self.text, self.facts.node(node).span.start)));
                }
            }
        }
        out
    }
}

fn join(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

fn kustomization_in(ks: &BTreeMap<String, K>, dir: &str) -> Option<String> {
    NAMES
        .iter()
        .map(|n| {
            if dir.is_empty() {
                n.to_string()
            } else {
                format!("{dir}/{n}")
            }
        })
        .find(|p| ks.contains_key(p))
}

/// The kustomizations `start` reaches (itself included), and whether it needs the network.
fn closure(ks: &BTreeMap<String, K>, start: &str) -> (BTreeSet<String>, bool) {
    let mut seen = BTreeSet::from([start.to_string()]);
    let mut pending = vec![start.to_string()];
    let mut network = false;
    while let Some(p) = pending.pop() {
        let k = &ks[&p];
        let root = k.root();
        network |= ["helmCharts", "helmChartInflationGenerator"]
            .iter()
            .any(|f| root.is_some_and(|r| k.facts.get(r, f).is_some()));
        for entry in k
            .list("resources[]")
            .into_iter()
            .chain(k.list("bases[]"))
            .chain(k.list("components[]"))
        {
            if entry.contains("://") || entry.starts_with("github.com/") || entry.contains("?ref=") {
                network = true;
                continue;
            }
            if let Some(next) = join(k.dir(), &entry).and_then(|d| kustomization_in(ks, &d)) {
                if seen.insert(next.clone()) {
                    pending.push(next);
                }
            }
        }
    }
    (seen, network)
}

/// Codes that make `kustomize build` fail.
fn breaks_build(code: &str, message: &str) -> bool {
    match code {
        "kustomize/missing-reference"
        | "kustomize/invalid-entry"
        | "kustomize/outside-workspace"
        | "kustomize/unreadable"
        | "kustomize/load-restricted"
        // Information (a file generated before the build), but it does fail this checkout's build.
        | "kustomize/missing-generated"
        | "kustomize/cycle" => true,
        "kustomize/duplicate-entry" => message.contains("under `resources`") || message.contains("under `bases`"),
        "kustomize/patch-target-missing" => message.contains("`kustomize build` fails"),
        _ => false,
    }
}

/// The fixture copied to a temporary directory with one patch entry removed from `k`.
fn without_patch(root: &Path, k: &K, list: &str, index: usize) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(root, tmp.path());
    let mut doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&k.text).unwrap();
    doc.get_mut(list)
        .and_then(|l| l.as_sequence_mut())
        .expect("patch list")
        .remove(index);
    std::fs::write(tmp.path().join(&k.path), serde_yaml_ng::to_string(&doc).unwrap()).unwrap();
    tmp
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let t = e.file_type().unwrap();
        if t.is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else if t.is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn load(root: &Path) -> BTreeMap<String, K> {
    let mut out = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = e.path();
            if e.file_type().unwrap().is_dir() {
                pending.push(path);
            } else if NAMES.contains(&e.file_name().to_string_lossy().as_ref()) {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                let text = std::fs::read_to_string(&path).unwrap();
                out.insert(
                    rel.clone(),
                    K {
                        path: rel,
                        facts: facts_of(&text),
                        text,
                    },
                );
            }
        }
    }
    out
}

#[test]
fn kustomize_agrees_with_our_verdicts() {
    let cmd = match kustomize() {
        Ok(cmd) => cmd,
        Err(why) => {
            eprintln!("\n*** SKIPPED kustomize_agrees_with_our_verdicts: no kustomize available: {why} ***\n");
            return;
        }
    };
    let mut disagreements = Vec::new();
    let (mut judged, mut patches_judged, mut not_judged) = (0, 0, Vec::new());
    // Component patch (fixture/path:line) → (removing it changed some includer's output, we call it dead).
    let mut component_patches: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    fixtures.sort();
    for root in fixtures {
        let ks = load(&root);
        if ks.is_empty() {
            continue;
        }
        let findings = check(&root);
        let name = root.file_name().unwrap().to_string_lossy().to_string();
        for (path, k) in &ks {
            if k.is_component() {
                continue; // built through the kustomizations that include it
            }
            let (reached, network) = closure(&ks, path);
            if network {
                not_judged.push(format!("{name}/{path} (needs the network)"));
                continue;
            }
            judged += 1;
            // Our verdict: a finding that breaks the build, here or in what it reaches (a
            // component's finding counts for the overlays its message names).
            let ours: Vec<String> = findings
                .iter()
                .filter(|((p, _), _)| reached.contains(p))
                .flat_map(|((p, line), fs)| fs.iter().map(move |(c, m)| (p, line, c, m)))
                .filter(|(p, _, c, m)| {
                    breaks_build(c, m) && (!ks[p.as_str()].is_component() || m.contains(path.as_str()))
                })
                .map(|(p, line, c, m)| format!("{p}:{line}: {c}: {m}"))
                .collect();
            let built = build(&cmd, &root.join(k.dir()));
            match (&built, ours.is_empty()) {
                (Ok(_), false) => disagreements.push(format!(
                    "{name}/{path}: kustomize builds it, but we report:\n    {}",
                    ours.join("\n    ")
                )),
                (Err(e), true) => disagreements.push(format!(
                    "{name}/{path}: kustomize fails and we report nothing that breaks the build: {e}"
                )),
                _ => {}
            }
            let Ok(output) = built else { continue };
            // Each patch of this kustomization and of its components: removing it must change
            // the output exactly when we accept it.
            let mut owners: Vec<&K> = vec![k];
            owners.extend(
                k.list("components[]")
                    .iter()
                    .filter_map(|c| join(k.dir(), c).and_then(|d| kustomization_in(&ks, &d)))
                    .map(|p| &ks[&p]),
            );
            for owner in owners {
                let entries = owner.patches();
                let items: Vec<Option<serde_yaml_ng::Value>> = {
                    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&owner.text).unwrap();
                    entries
                        .iter()
                        .map(|(list, index, _)| doc.get(*list).and_then(|l| l.get(*index)).cloned())
                        .collect()
                };
                for (n, &(list, index, line)) in entries.iter().enumerate() {
                    // A patch listed twice still applies once the other copy is removed.
                    if items.iter().enumerate().any(|(m, other)| m != n && *other == items[n]) {
                        continue;
                    }
                    let ours = findings.get(&(owner.path.clone(), line));
                    let dead = ours.is_some_and(|fs| {
                        fs.iter().any(|(c, m)| {
                            c == "kustomize/patch-target-missing"
                                && (!owner.is_component() || m.contains(path.as_str()))
                        })
                    });
                    let tmp = without_patch(&root, owner, list, index);
                    let after = build(&cmd, &tmp.path().join(k.dir()));
                    patches_judged += 1;
                    let what = format!("{name}/{path}: removing `{list}[{index}]` of {}:{line}", owner.path);
                    // A component's target-selector patch is dead only when it changes the
                    // output of no kustomization including it: judged after all of them.
                    let selector_finding = ours.is_some_and(|fs| {
                        fs.iter()
                            .any(|(c, m)| c == "kustomize/patch-target-missing" && m.contains("silently drops"))
                    });
                    let selector_entry = items[n].as_ref().is_some_and(|i| i.get("target").is_some());
                    if owner.is_component() && (selector_entry || selector_finding) {
                        let entry = component_patches
                            .entry(format!("{name}/{}:{line}", owner.path))
                            .or_insert((false, selector_finding));
                        match &after {
                            Err(e) => disagreements.push(format!("{what}: the build then fails: {e}")),
                            Ok(after) => entry.0 |= *after != output,
                        }
                        continue;
                    }
                    match after {
                        Err(e) => disagreements.push(format!("{what}: the build then fails: {e}")),
                        Ok(after) if dead && after != output => {
                            disagreements.push(format!("{what} changes the output, but we call the patch dead"))
                        }
                        Ok(after) if !dead && after == output => disagreements.push(format!(
                            "{what} leaves the output unchanged, but we accept the patch (no finding)"
                        )),
                        Ok(_) => {}
                    }
                }
            }
        }
    }
    for (patch, (changed, dead)) in &component_patches {
        match (changed, dead) {
            (true, true) => disagreements.push(format!(
                "{patch}: a component's patch changes an including kustomization's output, but we call it dead"
            )),
            (false, false) => disagreements.push(format!(
                "{patch}: a component's patch changes no including kustomization's output, but we accept it"
            )),
            _ => {}
        }
    }
    eprintln!(
        "kustomize oracle ({}): {judged} kustomizations and {patches_judged} patches judged; not judged: {not_judged:?}",
        cmd.join(" ")
    );
    assert!(judged > 10, "too few kustomizations judged: {judged}");
    assert!(
        disagreements.is_empty(),
        "kustomize disagrees with our verdicts:\n{}",
        disagreements.join("\n")
    );
}

/// Issue 24 item 8: kustomizations reached through symlinked directories inside the workspace
/// are followed (on real paths): a cycle through a link is reported as kustomize rejects it,
/// and a dead patch over a linked base is found.
#[cfg(unix)]
#[test]
fn symlinked_directories_are_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("base/kustomization.yaml", "resources:\n  - web.yaml\n");
    write(
        "base/web.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
    );
    std::os::unix::fs::symlink("base", root.join("linked-base")).unwrap();
    write(
        "overlay/kustomization.yaml",
        "resources:\n  - ../linked-base\npatches:\n  - target: {kind: Deployment, name: web}\n    patch: '[{\"op\": \"add\", \"path\": \"/metadata/labels\", \"value\": {\"a\": \"b\"}}]'\n  - target: {kind: Deployment, name: nothing}\n    patch: '[{\"op\": \"add\", \"path\": \"/metadata/labels\", \"value\": {\"a\": \"b\"}}]'\n",
    );
    write("a/kustomization.yaml", "resources:\n  - ../b-link\n");
    write("b/kustomization.yaml", "resources:\n  - ../a-link\n");
    std::os::unix::fs::symlink("a", root.join("a-link")).unwrap();
    std::os::unix::fs::symlink("b", root.join("b-link")).unwrap();
    let findings = check(root);
    let codes: Vec<(String, usize, String)> = findings
        .iter()
        .flat_map(|((p, l), fs)| fs.iter().map(move |(c, _)| (p.clone(), *l, c.clone())))
        .collect();
    assert!(
        codes.contains(&(
            "overlay/kustomization.yaml".into(),
            7,
            "kustomize/patch-target-missing".into()
        )),
        "{codes:?}"
    );
    assert!(
        !codes.contains(&(
            "overlay/kustomization.yaml".into(),
            5,
            "kustomize/patch-target-missing".into()
        )),
        "{codes:?}"
    );
    assert!(
        codes.iter().any(|(_, _, c)| c == "kustomize/cycle"),
        "a cycle through links is reported: {codes:?}"
    );
    if let Ok(cmd) = kustomize() {
        assert!(build(&cmd, &root.join("a")).is_err(), "kustomize rejects the cycle too");
        assert!(build(&cmd, &root.join("overlay")).is_ok());
    }
}
