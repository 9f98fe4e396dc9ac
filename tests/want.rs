//! Fixture tests in the style of go/analysis: every file under `tests/fixtures/<name>/` may carry
//! `// want "code" ...` (Go) or `# want "code" ...` (YAML) on the line where a finding must
//! start. A wanted entry may also check the message: `"code: regexp"` (everything after the first
//! `": "` is a regular expression that must match somewhere in the finding's message).
//! Each fixture directory is a workspace; the runner checks it and asserts exactly the
//! wanted findings: no more, no fewer (as a multiset per line).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use invariant_lsp::db::{line_index, Database};
use invariant_lsp::ide::host::Engine;
use invariant_lsp::vfs::discover;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// One wanted finding: its code and, optionally, a regexp its message must match.
#[derive(Debug, Clone)]
struct Want {
    code: String,
    message: Option<regex::Regex>,
}

impl Want {
    fn parse(s: &str) -> Want {
        match s.split_once(": ") {
            Some((code, re)) => Want {
                code: code.to_string(),
                message: Some(regex::Regex::new(re).unwrap_or_else(|e| panic!("bad want regexp {re:?}: {e}"))),
            },
            None => Want {
                code: s.to_string(),
                message: None,
            },
        }
    }

    fn matches(&self, code: &str, message: &str) -> bool {
        self.code == code && self.message.as_ref().is_none_or(|re| re.is_match(message))
    }

    fn describe(&self) -> String {
        match &self.message {
            Some(re) => format!("{} (message ~ /{}/)", self.code, re.as_str()),
            None => self.code.clone(),
        }
    }
}

/// Entries wanted on a line: the quoted strings after `want`.
fn wanted_on(line: &str) -> Vec<Want> {
    let marker = line
        .find("// want ")
        .map(|i| i + 8)
        .or_else(|| line.find("# want ").map(|i| i + 7));
    let Some(start) = marker else {
        return Vec::new();
    };
    line[start..].split('"').skip(1).step_by(2).map(Want::parse).collect()
}

/// (path, 1-based line)
type Key = (String, usize);

fn check_fixture(dir: &Path) -> Result<usize, String> {
    let root = dir.canonicalize().unwrap();
    let mut engine = Engine::new(Database::default(), root.clone(), &[]);
    if !engine.model_errors.is_empty() {
        return Err(format!("model errors: {:?}", engine.model_errors));
    }
    let rels = discover(&root, std::slice::from_ref(&root), &engine.config().filter());
    engine.load(&rels);
    let mut want: BTreeMap<Key, Vec<Want>> = BTreeMap::new();
    for rel in &rels {
        let text = std::fs::read_to_string(root.join(rel)).unwrap_or_default();
        for (line, content) in text.lines().enumerate() {
            for w in wanted_on(content) {
                want.entry((rel.clone(), line + 1)).or_default().push(w);
            }
        }
    }
    let files: Vec<_> = rels.iter().filter_map(|r| engine.files.get(r).copied()).collect();
    // (code, message) per line
    let mut got: BTreeMap<Key, Vec<(String, String)>> = BTreeMap::new();
    for (file, findings) in engine.check_files(&files) {
        let lines = line_index(&engine.db, file);
        for f in findings.iter() {
            let key = (file.path(&engine.db).clone(), lines.line_of(f.span.start as usize) + 1);
            got.entry(key).or_default().push((f.code.clone(), f.message.clone()));
        }
    }
    let mut problems = Vec::new();
    // A message template whose placeholder was not filled ships a typo to every user.
    // (`{{name}}` is ArgoCD's and Helm's templating, quoted from the user's files.)
    let placeholder = regex::Regex::new(r"(^|[^{])\{[a-z_]+\}([^}]|$)").unwrap();
    for (key, found) in &got {
        for (code, message) in found {
            if placeholder.is_match(message) {
                problems.push(format!("unfilled placeholder: {}:{}: {code} — {message}", key.0, key.1));
            }
        }
    }
    let keys: std::collections::BTreeSet<&Key> = want.keys().chain(got.keys()).collect();
    for key in keys {
        let mut left: Vec<&(String, String)> = got.get(key).map(|g| g.iter().collect()).unwrap_or_default();
        // Wants with a message regexp first, so that a bare code does not take their finding.
        let mut wants: Vec<&Want> = want.get(key).map(|w| w.iter().collect()).unwrap_or_default();
        wants.sort_by_key(|w| w.message.is_none());
        for w in wants {
            match left.iter().position(|(c, m)| w.matches(c, m)) {
                Some(i) => {
                    left.remove(i);
                }
                None => {
                    let same_code: Vec<&str> = left
                        .iter()
                        .filter(|(c, _)| *c == w.code)
                        .map(|(_, m)| m.as_str())
                        .collect();
                    problems.push(format!(
                        "missing: {}:{}: {}{}",
                        key.0,
                        key.1,
                        w.describe(),
                        if same_code.is_empty() {
                            String::new()
                        } else {
                            format!(" — messages with that code here: {same_code:?}")
                        }
                    ));
                }
            }
        }
        for (code, message) in left {
            problems.push(format!("unexpected: {}:{}: {code} — {message}", key.0, key.1));
        }
    }
    if problems.is_empty() {
        Ok(want.values().map(Vec::len).sum())
    } else {
        Err(problems.join("\n"))
    }
}

#[test]
fn every_fixture_yields_exactly_its_wanted_findings() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    // The bundled sample workspace carries its wanted findings too.
    dirs.push(fixtures_dir().join("../sample-workspace"));
    assert!(!dirs.is_empty(), "no fixtures found");
    let mut failures = Vec::new();
    let mut total = 0;
    for dir in &dirs {
        match check_fixture(dir) {
            Ok(n) => {
                assert!(n > 0, "{}: a fixture must want at least one finding", dir.display());
                total += n;
            }
            Err(e) => failures.push(format!("== {}\n{e}", dir.display())),
        }
    }
    assert!(failures.is_empty(), "fixture mismatches:\n{}", failures.join("\n"));
    eprintln!("{} fixtures, {total} wanted findings matched", dirs.len());
}

#[test]
fn the_runner_sees_a_missing_finding() {
    // The runner itself must be able to fail: a marker with no finding behind it is reported.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".invariant.yaml"), "").unwrap();
    std::fs::create_dir_all(dir.path().join("hypershift-operator/controllers/nodepool")).unwrap();
    std::fs::write(
        dir.path().join("hypershift-operator/controllers/nodepool/x.go"),
        "package nodepool\n\nvar x = 1 // want \"capi-boundary/provider-read\"\n",
    )
    .unwrap();
    let err = check_fixture(dir.path()).unwrap_err();
    assert!(
        err.contains("missing: hypershift-operator/controllers/nodepool/x.go:3: capi-boundary/provider-read"),
        "{err}"
    );
}

#[test]
fn the_runner_checks_messages() {
    // A wanted message regexp that does not match the finding's message is a mismatch.
    let dir = tempfile::tempdir().unwrap();
    let nodepool = dir.path().join("hypershift-operator/controllers/nodepool");
    std::fs::create_dir_all(&nodepool).unwrap();
    let src = |want: &str| {
        format!(
            "package nodepool\n\nimport capiaws \"sigs.k8s.io/cluster-api-provider-aws/v2/api/v1beta2\"\n\nfunc f() {{\n\tm := &capiaws.AWSMachine{{}} // want {want}\n\t_ = m\n}}\n"
        )
    };
    std::fs::write(
        nodepool.join("x.go"),
        src("\"capi-boundary/provider-read: no such words\""),
    )
    .unwrap();
    let err = check_fixture(dir.path()).unwrap_err();
    assert!(err.contains("message ~ /no such words/"), "{err}");
    assert!(
        err.contains("unexpected: hypershift-operator/controllers/nodepool/x.go:6"),
        "{err}"
    );
    std::fs::write(
        nodepool.join("x.go"),
        src("\"capi-boundary/provider-read: AWSMachine\""),
    )
    .unwrap();
    assert_eq!(check_fixture(dir.path()), Ok(1));
}
