//! Fixture tests in the style of go/analysis: every file under `tests/fixtures/<name>/` may carry
//! `// want "code" ...` (Go) or `# want "code" ...` (YAML) on the line where a finding must
//! start. Each fixture directory is a workspace; the runner checks it and asserts exactly the
//! wanted findings: no more, no fewer (as a multiset per line).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use invariant_lsp::db::{line_index, Database};
use invariant_lsp::workspace::{discover, Engine};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// Codes wanted on a line: the quoted strings after `want`.
fn wanted_on(line: &str) -> Vec<String> {
    let marker = line
        .find("// want ")
        .map(|i| i + 8)
        .or_else(|| line.find("# want ").map(|i| i + 7));
    let Some(start) = marker else {
        return Vec::new();
    };
    line[start..]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

type Key = (String, usize, String);

fn check_fixture(dir: &Path) -> Result<usize, String> {
    let root = dir.canonicalize().unwrap();
    let mut engine = Engine::new(Database::default(), root.clone(), &[]);
    if !engine.model_errors.is_empty() {
        return Err(format!("model errors: {:?}", engine.model_errors));
    }
    let rels = discover(&root, std::slice::from_ref(&root), &engine.config());
    engine.load(&rels);
    let mut want: BTreeMap<Key, usize> = BTreeMap::new();
    for rel in &rels {
        let text = std::fs::read_to_string(root.join(rel)).unwrap_or_default();
        for (line, content) in text.lines().enumerate() {
            for code in wanted_on(content) {
                *want.entry((rel.clone(), line + 1, code)).or_default() += 1;
            }
        }
    }
    let files: Vec<_> = rels.iter().filter_map(|r| engine.files.get(r).copied()).collect();
    let mut got: BTreeMap<Key, usize> = BTreeMap::new();
    let mut messages: BTreeMap<Key, String> = BTreeMap::new();
    for (file, findings) in engine.check_files(&files) {
        let lines = line_index(&engine.db, file);
        for f in findings.iter() {
            let key = (
                file.path(&engine.db).clone(),
                lines.line_of(f.span.start as usize) + 1,
                f.code.clone(),
            );
            *got.entry(key.clone()).or_default() += 1;
            messages.insert(key, f.message.clone());
        }
    }
    let mut problems = Vec::new();
    for (key, &n) in &want {
        let g = got.get(key).copied().unwrap_or(0);
        if g < n {
            problems.push(format!("missing: {}:{}: {} (wanted {n}, got {g})", key.0, key.1, key.2));
        }
    }
    for (key, &n) in &got {
        let w = want.get(key).copied().unwrap_or(0);
        if n > w {
            problems.push(format!(
                "unexpected: {}:{}: {} — {}",
                key.0, key.1, key.2, messages[key]
            ));
        }
    }
    if problems.is_empty() {
        Ok(want.values().sum())
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
