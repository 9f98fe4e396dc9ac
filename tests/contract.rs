//! Contracts between the Rust code and the domain model: every rule code the code can emit has a
//! model entry (so `explain`, hover, SARIF rule metadata and the editor's rule link all work for
//! it), and every rule in the model has an explanation.

use std::path::{Path, PathBuf};

/// Rule families: those of the registered rules' codes, the engine's, and `model` (the model's
/// own checks). A new rule's family needs no edit here.
fn families() -> Vec<String> {
    let model = default_model();
    let mut families: Vec<String> = invariant_lsp::rules::registry::RULES
        .iter()
        .flat_map(|r| r.codes(&model))
        .chain(
            invariant_lsp::rules::registry::ENGINE_CODES
                .iter()
                .map(|c| c.to_string()),
        )
        .filter_map(|c| c.split_once('/').map(|(f, _)| f.to_string()))
        .chain(["model".to_string()])
        .collect();
    families.sort();
    families.dedup();
    families
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Rule codes written as string literals in the server's source: `"family/name"`.
fn codes_in_source() -> Vec<(String, String)> {
    let re = regex::Regex::new(&format!(r#""((?:{})/[a-z0-9]+(?:-[a-z0-9]+)*)""#, families().join("|"))).unwrap();
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("server/src"), &mut files);
    assert!(files.len() > 10, "no server sources found");
    let mut codes = Vec::new();
    for file in files {
        if file.components().any(|c| c.as_os_str() == "bin") {
            continue; // the benchmark, not the product
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests make up codes on purpose.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for cap in re.captures_iter(text) {
            codes.push((cap[1].to_string(), file.display().to_string()));
        }
    }
    codes
}

#[test]
fn every_code_in_the_source_has_a_model_entry_with_an_explanation() {
    let model = invariant_lsp::config::load_workspace(&std::env::temp_dir().join("no-such-root"), &[]).model;
    let codes = codes_in_source();
    assert!(codes.len() > 20, "too few rule codes found in the source: {codes:?}");
    let mut missing = Vec::new();
    for (code, file) in &codes {
        match model.rule(code) {
            Some(rule) if !rule.explanation.trim().is_empty() => {}
            Some(_) => missing.push(format!("{code} (in {file}): model entry has no explanation")),
            None => missing.push(format!("{code} (in {file}): no model entry")),
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "rule codes without a model entry:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_model_rule_has_a_title_and_an_explanation() {
    let model = invariant_lsp::config::load_workspace(&std::env::temp_dir().join("no-such-root"), &[]).model;
    let rules = &model.model.rules;
    let families = families();
    assert!(rules.len() > 20);
    for rule in rules {
        assert!(!rule.title.trim().is_empty(), "{}: no title", rule.code);
        assert!(!rule.explanation.trim().is_empty(), "{}: no explanation", rule.code);
        let (family, name) = rule
            .code
            .split_once('/')
            .unwrap_or_else(|| panic!("{}: not family/name", rule.code));
        assert!(families.iter().any(|f| f == family), "{}: unknown family", rule.code);
        assert!(!name.is_empty());
    }
}

/// The architecture's one-way dependency: the database module holds inputs and per-file derived
/// data; analyses (purity, kustomize graph, findings) are tracked functions beside their rules.
/// So nothing under `server/src/db/` may name the rules layer (rules → db, never db → rules).
#[test]
fn the_database_never_depends_on_the_rules() {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("server/src/db"), &mut files);
    assert!(!files.is_empty(), "no sources under server/src/db");
    let mut offenders = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            if line.contains("crate::rules") || line.contains("super::rules") {
                offenders.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "db depends on rules (dependencies must point rules → db):\n{}",
        offenders.join("\n")
    );
}

fn default_model() -> std::sync::Arc<invariant_lsp::model::CompiledModel> {
    invariant_lsp::config::load_workspace(&std::env::temp_dir().join("no-such-root"), &[]).model
}

#[test]
fn every_code_of_every_registered_rule_has_a_model_entry() {
    let model = default_model();
    let rules = invariant_lsp::rules::registry::RULES;
    assert!(rules.len() >= 7, "too few registered rules");
    let mut missing = Vec::new();
    for rule in rules {
        let codes = rule.codes(&model);
        assert!(!codes.is_empty(), "rule {} declares no codes", rule.name);
        for code in codes {
            match model.rule(&code) {
                Some(entry) if entry.message.is_some() && !entry.explanation.trim().is_empty() => {}
                Some(_) => missing.push(format!(
                    "{code} (rule {}): entry without message or explanation",
                    rule.name
                )),
                None => missing.push(format!("{code} (rule {}): no model entry", rule.name)),
            }
        }
    }
    assert!(
        missing.is_empty(),
        "registered codes the model lacks:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_model_rule_entry_belongs_to_a_registered_rule() {
    let model = default_model();
    let mut owned: std::collections::BTreeSet<String> = invariant_lsp::rules::registry::ENGINE_CODES
        .iter()
        .map(|c| c.to_string())
        .collect();
    for rule in invariant_lsp::rules::registry::RULES {
        owned.extend(rule.codes(&model));
    }
    let orphans: Vec<&str> = model
        .model
        .rules
        .iter()
        .map(|r| r.code.as_str())
        // `model/*` findings come from loading and verifying the model itself, not from a rule.
        .filter(|code| !code.starts_with("model/") && !owned.contains(*code))
        .collect();
    assert!(
        orphans.is_empty(),
        "model rule entries no registered rule reports: {orphans:?}"
    );
}

/// Every finding of every fixture and of the sample workspace: no message, related message or
/// fix title keeps a `{placeholder}` of its template, and every code of every registered rule is
/// rendered at least once (so the check covers every template).
#[test]
fn no_rendered_message_keeps_a_placeholder() {
    use invariant_lsp::db::Database;
    use invariant_lsp::ide::host::Engine;
    use invariant_lsp::vfs::discover;
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut roots: Vec<PathBuf> = std::fs::read_dir(base.join("fixtures"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    roots.push(base.join("sample-workspace"));
    // `{{name}}` is ArgoCD's and Helm's templating, quoted from the user's files.
    let placeholder = regex::Regex::new(r"(^|[^{])\{[a-z_]+\}([^}]|$)").unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut problems = Vec::new();
    for root in roots {
        let root = root.canonicalize().unwrap();
        let mut engine = Engine::new(Database::default(), root.clone(), &[]);
        let rels = discover(&root, std::slice::from_ref(&root), &engine.config().filter());
        engine.load(&rels);
        let files: Vec<_> = rels.iter().filter_map(|r| engine.files.get(r).copied()).collect();
        for (file, findings) in engine.check_files(&files) {
            for f in findings.iter() {
                seen.insert(f.code.clone());
                let texts = std::iter::once(&f.message)
                    .chain(f.related.iter().map(|r| &r.message))
                    .chain(f.fixes.iter().map(|x| &x.title));
                for text in texts {
                    if placeholder.is_match(text) {
                        problems.push(format!("{}: {}: {text}", file.path(&engine.db), f.code));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "unfilled placeholders:\n{}", problems.join("\n"));
    let model = default_model();
    let unrendered: Vec<String> = invariant_lsp::rules::registry::RULES
        .iter()
        .flat_map(|r| r.codes(&model))
        .filter(|c| !seen.contains(c))
        .collect();
    assert!(
        unrendered.is_empty(),
        "registered codes no fixture renders (add a fixture): {unrendered:?}"
    );
}

/// The layers `lsp/` and `cli/` may not reach past the analysis API (`ide/analysis.rs`): the
/// database, the rules and the facts are reached through `AnalysisHost`/`Analysis` only.
const BEHIND_THE_API: &[&str] = &["db", "rules", "facts"];

/// Lines of `text` that reach one of `layers` directly: `crate::db…`, or a grouped
/// `use crate::{…, db, …}`.
fn reaches(text: &str, layers: &[&str]) -> Vec<String> {
    let names = layers.join("|");
    let direct = regex::Regex::new(&format!(r"crate::(?:{names})\b")).unwrap();
    let grouped = regex::Regex::new(&format!(r"crate::\{{[^}}]*\b(?:{names})\b")).unwrap();
    let mut out: Vec<String> = direct
        .find_iter(text)
        .chain(grouped.find_iter(text))
        .map(|m| {
            let line = text[..m.start()].lines().count().max(1);
            format!("line {line}: {}", m.as_str())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_protocol_and_command_layers_use_only_the_analysis_api() {
    // The check itself can fail.
    assert_eq!(reaches("use crate::db::Database;", BEHIND_THE_API).len(), 1);
    assert_eq!(reaches("use crate::{config, rules::Finding};", BEHIND_THE_API).len(), 1);
    assert!(reaches("use crate::ide::analysis::Finding; // crate::dbx", BEHIND_THE_API).is_empty());
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("server/src");
    assert!(src.join("ide/analysis.rs").is_file(), "the analysis API is gone");
    let mut offenders = Vec::new();
    for layer in ["lsp", "cli"] {
        let mut files = Vec::new();
        rust_files(&src.join(layer), &mut files);
        assert!(!files.is_empty(), "no sources under src/{layer}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for hit in reaches(&text, BEHIND_THE_API) {
                offenders.push(format!("{}: {hit}", file.display()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "lsp/ and cli/ must go through ide::analysis (AnalysisHost/Analysis), not reach these layers:\n{}",
        offenders.join("\n")
    );
}

/// Wording and names that belong to the domain model, never to a Rust string in the product:
/// a team with another model must not see HyperShift's repository, CAPI's alias, or English fix
/// titles and chain steps the model cannot change.
const MODEL_WORDS: &[&str] = &[
    "openshift",
    "HyperShift",
    "capiv1",
    "calls `",
    "Did you mean",
    "Use a constant",
    "Suppress",
    "Impure:",
    // Chain steps and related locations of capi-boundary and condition-naming/message-list.
    "names a provider",
    "loads a kubeconfig",
    "builds a client",
    "grows once per",
    "unbounded size",
];

#[test]
fn words_that_belong_to_the_model_are_not_rust_strings() {
    let literal = regex::Regex::new(r#""(?:[^"\\\n]|\\.)*""#).unwrap();
    let hits = |text: &str| -> Vec<String> {
        literal
            .find_iter(text)
            .filter(|m| MODEL_WORDS.iter().any(|w| m.as_str().contains(w)))
            .map(|m| m.as_str().to_string())
            .collect()
    };
    assert_eq!(hits(r#"let t = "Did you mean `{T}`?"; let ok = "fine";"#).len(), 1);
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("server/src"), &mut files);
    let mut found = Vec::new();
    for file in files {
        if file.components().any(|c| c.as_os_str() == "bin") {
            continue; // the benchmark generates a HyperShift-shaped tree on purpose
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests use the real domain's names on purpose.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for hit in hits(text) {
            found.push(format!("{}: {hit}", file.display()));
        }
    }
    assert!(
        found.is_empty(),
        "move these into domain-models/ (the model):\n{}",
        found.join("\n")
    );
}

/// The README says exactly which rules the sample workspace breaks (between the
/// `sample-codes` markers): that list is what `check` reports on it, no more, no fewer.
#[test]
fn the_readme_says_which_rules_the_sample_breaks() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let listed = readme
        .split("<!-- sample-codes -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- /sample-codes -->").next())
        .expect("README.md has no <!-- sample-codes --> list");
    let code = regex::Regex::new(r"`([a-z-]+/[a-z0-9-]+)`").unwrap();
    let mut listed: Vec<String> = code.captures_iter(listed).map(|c| c[1].to_string()).collect();
    listed.sort();
    let report = invariant_lsp::cli::check::run(&[repo.join("tests/sample-workspace")], &[]).unwrap();
    let mut found: Vec<String> = report.findings.iter().map(|f| f.finding.code.clone()).collect();
    found.sort();
    found.dedup();
    assert!(found.len() > 10, "{found:?}");
    assert_eq!(
        listed, found,
        "the README's sample-codes list and the codes `check` reports on tests/sample-workspace differ"
    );
}

/// Rule modules are declared by `server/build.rs` through `include!`, which `cargo fmt` does not
/// follow: check their formatting here (`rustfmt server/src/rules/*.rs` fixes it).
#[test]
fn the_rule_modules_are_formatted() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("server/src/rules");
    let mut modules = Vec::new();
    for entry in std::fs::read_dir(&rules).unwrap().flatten() {
        let path = entry.path();
        let file = if path.is_dir() { path.join("mod.rs") } else { path };
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if text.lines().any(|l| l.starts_with("pub static RULE:")) {
            modules.push(file);
        }
    }
    assert!(
        modules.len() >= 5,
        "rule modules under {}: {modules:?}",
        rules.display()
    );
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let edition = "2021";
    let out = match std::process::Command::new("rustfmt")
        .args(["--check", "--edition", edition])
        .args(&modules)
        .current_dir(repo)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("SKIPPED: rustfmt is not available ({e}); the rule modules' formatting is unchecked");
            return;
        }
    };
    assert!(
        out.status.success(),
        "rule modules are not formatted; run `rustfmt --edition {edition} server/src/rules/*.rs`:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// The layers (docs/architecture.md): modules import only layers below them, and no two modules
// that are not parent and child import each other, directly or around a loop.

/// The crate's top-level modules, lowest first. A module may import only modules earlier in this
/// list (and its own submodules); `lsp` and `cli` share the top and never import each other.
const LAYERS: &[&[&str]] = &[
    &["text"],
    &["syntax"],
    &["model"],
    &["vfs"],
    &["interrupt"],
    &["vcs"],
    &["config"],
    &["facts"],
    &["db"],
    &["rules"],
    &["ide"],
    &["lsp", "cli"],
];

fn layer_of(top: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&top))
}

/// Every module of `src/` (outside `bin/`) by its path (`facts::go::flow`), with its text less any
/// `#[cfg(test)] mod tests { .. }` at its end (tests may reach anywhere).
fn crate_modules() -> std::collections::BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("server/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut out = std::collections::BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap().with_extension("");
        let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        if parts.first().is_some_and(|p| p == "bin") {
            continue;
        }
        if parts.last().is_some_and(|p| p == "mod" || p == "lib" || p == "main") {
            parts.pop();
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let text = match text.find("#[cfg(test)]\nmod tests") {
            Some(at) => text[..at].to_string(),
            None => text,
        };
        out.insert(parts.join("::"), text);
    }
    out
}

/// The paths a module's text names, as crate paths: the leaves of every `use crate::…` /
/// `use super::…` / `use self::…` tree (groups expanded), and every inline `crate::a::b` or
/// `super::a` path. `here` is the module's own path.
fn referenced_paths(here: &str, text: &str) -> Vec<String> {
    fn strip_comments(text: &str) -> String {
        text.lines()
            .map(|l| match l.find("//") {
                Some(at) => &l[..at],
                None => l,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
    /// Expands a use tree (`a::{b, c::{d, e}}`) to its leaves (`a::b`, `a::c::d`, `a::c::e`).
    fn expand(prefix: &str, tree: &str, out: &mut Vec<String>) {
        let tree = tree.trim();
        match tree.find('{') {
            None => {
                let leaf = tree.split(" as ").next().unwrap().trim().trim_end_matches("::*");
                if !leaf.is_empty() {
                    out.push(format!("{prefix}{leaf}").trim_end_matches("::self").to_string());
                }
            }
            Some(open) => {
                let head = &tree[..open];
                let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
                let (mut depth, mut start) = (0, 0);
                let mut items = Vec::new();
                for (i, c) in inner.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            items.push(&inner[start..i]);
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
                items.push(&inner[start..]);
                for item in items {
                    expand(&format!("{prefix}{head}"), item, out);
                }
            }
        }
    }
    let text = strip_comments(text);
    let here: Vec<&str> = if here.is_empty() {
        vec![]
    } else {
        here.split("::").collect()
    };
    let absolute = |path: &str| -> Option<String> {
        let mut parts: Vec<&str> = path.split("::").map(str::trim).filter(|p| !p.is_empty()).collect();
        let mut base: Vec<&str> = match parts.first() {
            Some(&"crate") => {
                parts.remove(0);
                vec![]
            }
            Some(&"super") | Some(&"self") => here.clone(),
            _ => return None,
        };
        while let Some(&first) = parts.first() {
            match first {
                "super" => {
                    base.pop()?;
                }
                "self" => {}
                _ => break,
            }
            parts.remove(0);
        }
        base.extend(parts);
        Some(base.join("::"))
    };
    let mut leaves = Vec::new();
    let use_re = regex::Regex::new(r"(?s)\buse\s+((?:crate|super|self)::[^;]*);").unwrap();
    for m in use_re.captures_iter(&text) {
        expand("", &m[1], &mut leaves);
    }
    let inline = regex::Regex::new(r"\b(?:crate|super)(?:::(?:super|[A-Za-z_][A-Za-z0-9_]*))+").unwrap();
    let without_uses = use_re.replace_all(&text, "");
    leaves.extend(inline.find_iter(&without_uses).map(|m| m.as_str().to_string()));
    leaves.iter().filter_map(|l| absolute(l)).collect()
}

/// Module → the modules it imports (the longest known module prefixing each referenced path),
/// leaving out a module's own ancestors and descendants.
fn module_edges(
    modules: &std::collections::BTreeMap<String, String>,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let nested = |a: &str, b: &str| {
        a.is_empty() || b.is_empty() || a == b || a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"))
    };
    let mut edges = std::collections::BTreeMap::new();
    for (here, text) in modules {
        let mut to = std::collections::BTreeSet::new();
        for path in referenced_paths(here, text) {
            let parts: Vec<&str> = path.split("::").collect();
            let target = (1..=parts.len())
                .rev()
                .map(|i| parts[..i].join("::"))
                .find(|p| modules.contains_key(p));
            if let Some(target) = target {
                if !nested(here, &target) {
                    to.insert(target);
                }
            }
        }
        edges.insert(here.clone(), to);
    }
    edges
}

/// Strongly connected components of more than one module (Tarjan, iterative enough for a crate).
fn cycles(edges: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        index: std::collections::HashMap<&'a str, usize>,
        low: std::collections::HashMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: std::collections::HashSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        let edges = s.edges;
        for w in edges.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        edges,
        index: Default::default(),
        low: Default::default(),
        stack: vec![],
        on_stack: Default::default(),
        out: vec![],
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn the_module_graph_reader_sees_what_it_must() {
    // Use trees, groups, `super`, inline paths; comments and names that only look alike are not paths.
    let paths = referenced_paths(
        "rules::kustomize",
        "use crate::{config::Config, db::{go_facts, SourceFile as F}};\nuse super::registry::Rule;\n\
         fn f() { crate::facts::go::flow::x(); super::super::vfs::read(); } // crate::cli::nope\nlet crate_x = 1;",
    );
    for want in [
        "config::Config",
        "db::go_facts",
        "db::SourceFile",
        "rules::registry::Rule",
        "facts::go::flow::x",
        "vfs::read",
    ] {
        assert!(paths.iter().any(|p| p == want), "{want} not in {paths:?}");
    }
    assert!(
        !paths.iter().any(|p| p.starts_with("cli")),
        "a comment was read as a path: {paths:?}"
    );
    // A loop between siblings is found; a parent and its child may use each other.
    let mut modules = std::collections::BTreeMap::new();
    modules.insert("a".to_string(), "use crate::b::x;".to_string());
    modules.insert("b".to_string(), "fn g() { crate::a::y(); }".to_string());
    modules.insert("c".to_string(), "use crate::c::d::z;".to_string());
    modules.insert("c::d".to_string(), "use super::w;".to_string());
    assert_eq!(
        cycles(&module_edges(&modules)),
        vec![vec!["a".to_string(), "b".to_string()]]
    );
}

#[test]
fn modules_form_layers_without_cycles() {
    let modules = crate_modules();
    assert!(
        modules.contains_key("rules::registry") && modules.contains_key("ide::analysis"),
        "module map: {:?}",
        modules.keys()
    );
    let edges = module_edges(&modules);
    let found = cycles(&edges);
    assert!(
        found.is_empty(),
        "import cycles between modules that are not parent and child: {found:?}"
    );
    let mut wrong = Vec::new();
    for (from, tos) in &edges {
        let top = |m: &str| m.split("::").next().unwrap_or("").to_string();
        let (ft, Some(fl)) = (top(from), layer_of(&top(from))) else {
            if !from.is_empty() {
                wrong.push(format!(
                    "{from}: top-level module `{}` is in no layer (add it to LAYERS)",
                    top(from)
                ));
            }
            continue;
        };
        for to in tos {
            let tt = top(to);
            if tt == ft {
                continue;
            }
            match layer_of(&tt) {
                Some(tl) if tl < fl => {}
                _ => wrong.push(format!("{from} -> {to}")),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up or across the layers {LAYERS:?}:\n{}",
        wrong.join("\n")
    );
}
