//! What each fuzz target does with its input, and the properties it asserts. Shared by the fuzz
//! targets (`fuzz/fuzz_targets/*.rs`) and by `tests/robustness.rs`, which replays the committed
//! crash inputs and seed corpora through the same functions.
//!
//! Rules run under `catch_unwind` (a panic becomes `internal/rule-panic`), which would hide a
//! crash from the fuzzer: every target therefore fails on such a finding.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;

use invariant_lsp::db::{parse_file, Database, SourceFile};
use invariant_lsp::facts::Span;
use invariant_lsp::ide::host::Engine;
use invariant_lsp::lsp::document::{Change, Document};
use invariant_lsp::rules::Finding;
use invariant_lsp::text::Encoding;
use invariant_lsp::vfs::{from_bytes, from_editor};

/// Go paths the inputs land on: an adapt component (purity rules), the NodePool controller
/// (CAPI boundary), API types (condition naming).
const GO_PATHS: &[&str] = &[
    "control-plane-operator/controllers/hostedcontrolplane/v2/widget/deployment.go",
    "control-plane-operator/controllers/hostedcontrolplane/v2/widget/helpers.go",
    "hypershift-operator/controllers/nodepool/capacity.go",
    "api/hypershift/v1beta1/nodepool_conditions.go",
];

/// YAML paths: kustomizations (with a base), a manifest, an e2e fixture.
const YAML_PATHS: &[&str] = &[
    "deploy/overlays/dev/kustomization.yaml",
    "deploy/base/kustomization.yaml",
    "deploy/base/nodepool.yaml",
    "test/e2e/fixtures/status.yaml",
];

/// Separates the files of one input.
const GO_SEPARATOR: &[u8] = b"\n//~~\n";
const YAML_SEPARATOR: &[u8] = b"\n#~~\n";

/// An empty directory as workspace root: nothing outside the inputs is read.
fn fuzz_root() -> PathBuf {
    let root = std::env::temp_dir().join(format!("invariant-fuzz-root-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&root);
    root.canonicalize().unwrap_or(root)
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
    static SCRATCH: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

fn with_engine<R>(
    cell: &'static std::thread::LocalKey<RefCell<Option<Engine>>>,
    f: impl FnOnce(&mut Engine) -> R,
) -> R {
    cell.with(|slot| {
        let mut slot = slot.borrow_mut();
        let engine = slot.get_or_insert_with(|| Engine::new(Database::default(), fuzz_root(), &[]));
        f(engine)
    })
}

fn split<'a>(data: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(separator.len()).position(|w| w == separator) {
        out.push(&rest[..i]);
        rest = &rest[i + separator.len()..];
    }
    out.push(rest);
    out
}

/// Checks invariants every finding of `file` must hold; panics (for the fuzzer) if one fails.
fn assert_sane(engine: &Engine, file: SourceFile, findings: &[Finding]) {
    let text = file.text(&engine.db);
    for f in findings {
        assert!(
            f.code != "internal/rule-panic",
            "a rule panicked on {}: {}",
            file.path(&engine.db),
            f.message
        );
        assert!(
            f.span.start <= f.span.end && f.span.end as usize <= text.len(),
            "finding {} has span {:?} outside a text of {} bytes",
            f.code,
            f.span,
            text.len()
        );
    }
}

/// Loads the files of one input (removing the previous input's), checks every file, and asks
/// for hovers and code actions at a few offsets.
fn check_files(data: &[u8], separator: &[u8], paths: &[&str]) {
    with_engine(&ENGINE, |engine| {
        let parts = split(data, separator);
        let mut wanted = Vec::new();
        for (i, part) in parts.iter().take(paths.len()).enumerate() {
            let (text, note) = from_bytes(part.to_vec());
            engine.set_text(paths[i], text, note);
            wanted.push(paths[i]);
        }
        let stale: Vec<String> = engine
            .files
            .keys()
            .filter(|k| !wanted.contains(&k.as_str()))
            .cloned()
            .collect();
        for rel in stale {
            engine.remove(&rel);
        }
        engine.sync_file_set();
        let files = engine.all_files();
        for (file, findings) in engine.check_files(&files) {
            assert_sane(engine, file, &findings);
            let len = file.text(&engine.db).len();
            for offset in [0, len / 3, len / 2, len] {
                let _ = invariant_lsp::ide::hover::hover(&engine.db, engine.ws, file, offset);
            }
            let _ = invariant_lsp::ide::actions::actions(&engine.db, engine.ws, file, &findings, Span::new(0, len));
        }
    });
}

/// Go facts and rules (with cross-file purity) over up to four Go files.
pub fn go(data: &[u8]) {
    check_files(data, GO_SEPARATOR, GO_PATHS);
}

/// YAML facts and rules (kustomize graph, lifecycle, conditions) over up to four YAML files.
pub fn yaml(data: &[u8]) {
    check_files(data, YAML_SEPARATOR, YAML_PATHS);
}

/// Domain-model and configuration loading: parse, merge over the default model, compile.
pub fn model(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = invariant_lsp::model::load::parse_yaml::<invariant_lsp::config::Config>(".invariant.yaml", text);
    if let Ok(model) = invariant_lsp::model::load_model_text("fuzz-model.yaml", text) {
        let merged = invariant_lsp::model::load_default_model().merge(model.clone());
        for m in [model, merged] {
            if let Ok(compiled) = invariant_lsp::model::CompiledModel::compile(m, vec![]) {
                // Use what was compiled: components, providers, messages.
                let _ = compiled.component_for("hypershift-operator/controllers/nodepool/x.go");
                let _ = compiled.provider_for_import("sigs.k8s.io/cluster-api-provider-aws/v2/api/v1beta2");
                for rule in &compiled.model.rules {
                    let _ = compiled.message(&rule.code, &[("name", "x"), ("kind", "y")]);
                }
            }
        }
    }
}

/// A little-endian reader over the fuzz input.
struct Reader<'a> {
    data: &'a [u8],
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    /// A line or column: mostly small, sometimes huge (out of range).
    fn coordinate(&mut self) -> Option<u32> {
        let b = self.byte()?;
        Some(if b == 0xff { u32::MAX - 1 } else { u32::from(b % 64) })
    }
}

/// The reference model of LSP text synchronisation: a plain string edited at offsets computed
/// from scratch each time (no rope). Positions past the end of a line clamp to the line end
/// (before its `\n`), lines past the end clamp to the end of the text, a column inside a
/// character clamps to the character's start, and a reversed range is empty at its start.
pub fn reference_offset(text: &str, line: u32, character: u32, encoding: Encoding) -> usize {
    // Lines end as LSP says: at `\n`, `\r\n` or a lone `\r`.
    let bytes = text.as_bytes();
    let mut start = 0usize;
    for _ in 0..line {
        match text[start..].find(['\n', '\r']) {
            Some(i) => {
                let at = start + i;
                start = if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
                    at + 2
                } else {
                    at + 1
                };
            }
            None => return text.len(),
        }
    }
    let end = text[start..]
        .find(['\n', '\r'])
        .map(|i| start + i)
        .unwrap_or(text.len());
    let mut counted = 0usize;
    for (i, ch) in text[start..end].char_indices() {
        let width = match encoding {
            Encoding::Utf8 => ch.len_utf8(),
            Encoding::Utf16 => ch.len_utf16(),
        };
        if counted + width > character as usize {
            return start + i;
        }
        counted += width;
    }
    end
}

pub fn reference_apply(text: &mut String, change: &Change, encoding: Encoding) {
    match change.range {
        None => *text = change.text.clone(),
        Some(((sl, sc), (el, ec))) => {
            let start = reference_offset(text, sl, sc, encoding);
            let end = reference_offset(text, el, ec, encoding).max(start);
            text.replace_range(start..end, &change.text);
        }
    }
}

/// Comparable findings: code, span, severity and message.
pub fn summary(findings: &[Finding]) -> Vec<(String, Span, String, String)> {
    findings
        .iter()
        .map(|f| (f.code.clone(), f.span, format!("{:?}", f.severity), f.message.clone()))
        .collect()
}

/// One `didChange` as the server handles it: the document's changes, the engine's prior tree
/// edited to match, the text under the editor limits, then a check of the file.
pub fn did_change(
    engine: &mut Engine,
    rel: &str,
    doc: &mut Document,
    changes: &[Change],
    encoding: Encoding,
) -> Arc<Vec<Finding>> {
    let file = engine.files.get(rel).copied();
    let tree = file.and_then(|f| parse_file(&engine.db, f).tree.clone());
    let tree = doc.apply_all(changes, tree, encoding);
    let (text, note) = from_editor(doc.text());
    let tree = if note.is_some() { None } else { tree };
    let file = engine
        .set_text_with_tree(rel, text, note, tree)
        .expect("a checked language");
    invariant_lsp::rules::findings(&engine.db, engine.ws, file)
}

fn keep_only(engine: &mut Engine, rel: &str) {
    let stale: Vec<String> = engine.files.keys().filter(|k| k.as_str() != rel).cloned().collect();
    for k in stale {
        engine.remove(&k);
    }
}

/// Random edit scripts against the rope and the incremental tree. The document must end as
/// the reference model says, and its diagnostics must equal those of a from-scratch parse.
pub fn edits(data: &[u8]) {
    let mut r = Reader { data };
    let Some(head) = r.byte() else { return };
    let rel = if head & 1 == 0 {
        GO_PATHS[(head as usize >> 2) % GO_PATHS.len()]
    } else {
        YAML_PATHS[(head as usize >> 2) % YAML_PATHS.len()]
    };
    let encoding = if head & 2 == 0 { Encoding::Utf16 } else { Encoding::Utf8 };
    let initial_len = r.byte().unwrap_or(0) as usize * 4;
    let initial = String::from_utf8_lossy(r.take(initial_len)).into_owned();
    let mut batches: Vec<Vec<Change>> = vec![Vec::new()];
    while let Some(op) = r.byte() {
        if op & 0x80 != 0 {
            batches.push(Vec::new());
        }
        let range = if op & 0x40 != 0 {
            None
        } else {
            let (Some(sl), Some(sc), Some(el), Some(ec)) =
                (r.coordinate(), r.coordinate(), r.coordinate(), r.coordinate())
            else {
                break;
            };
            Some(((sl, sc), (el, ec)))
        };
        let len = (op & 0x3f) as usize;
        let text = String::from_utf8_lossy(r.take(len)).into_owned();
        if let Some(batch) = batches.last_mut() {
            batch.push(Change { range, text });
        }
    }

    with_engine(&ENGINE, |engine| {
        keep_only(engine, rel);
        let (text, note) = from_editor(initial.clone());
        engine.set_text(rel, text, note);
        engine.sync_file_set();
        let mut doc = Document::new(1, &initial);
        let mut expected = initial.clone();
        let mut last = Arc::default();
        for batch in &batches {
            last = did_change(engine, rel, &mut doc, batch, encoding);
            for change in batch {
                reference_apply(&mut expected, change, encoding);
            }
            assert_eq!(
                doc.text(),
                expected,
                "the rope disagrees with the reference after {batch:?}"
            );
        }
        let file = engine.files[rel];
        assert_sane(engine, file, &last);
        let incremental = summary(&last);
        let scratch = with_engine(&SCRATCH, |scratch| {
            keep_only(scratch, rel);
            let (text, note) = from_editor(expected.clone());
            let file = scratch.set_text(rel, text, note).expect("a checked language");
            scratch.sync_file_set();
            invariant_lsp::rules::findings(&scratch.db, scratch.ws, file)
        });
        assert_eq!(
            incremental,
            summary(&scratch),
            "incremental diagnostics differ from a from-scratch check of:\n{expected}"
        );
    });
}
