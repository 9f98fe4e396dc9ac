//! Protocol-level tests: the real binary, driven over stdio exactly as an editor would.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

#[path = "support/lsp_client.rs"]
mod lsp_client;
use lsp_client::{codes, file_uri, Client};

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

fn position_of(text: &str, needle: &str) -> (u32, u32) {
    let offset = text.find(needle).unwrap_or_else(|| panic!("{needle} not in text"));
    let line = text[..offset].matches('\n').count() as u32;
    let col = text[..offset].rsplit('\n').next().unwrap().encode_utf16().count() as u32;
    (line, col)
}

#[test]
fn open_edit_hover_and_annotation_bridge() {
    let (_dir, root) = sample_copy();
    let mut client = Client::start(&root, json!({}));
    let path = root.join("hypershift-operator/controllers/nodepool/capacity.go");
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = client.open(&path, &text);
    let diagnostics = client.diagnostics(&uri, 1);
    assert!(
        codes(&diagnostics).contains(&"capi-boundary/provider-read".to_string()),
        "{diagnostics:?}"
    );
    let provider_read = diagnostics
        .iter()
        .find(|d| d["code"] == "capi-boundary/provider-read")
        .unwrap()
        .clone();
    assert_eq!(provider_read["source"], "invariant");
    assert!(
        provider_read["codeDescription"]["href"].as_str().is_some(),
        "{provider_read}"
    );

    // An incremental edit (insert a line with non-ASCII text above) moves the finding down.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 19, "character": 0}, "end": {"line": 19, "character": 0}}, "text": "// Ünïcödé 😀 note\n"}]}),
    );
    let moved = client.diagnostics(&uri, 2);
    let moved_read = moved
        .iter()
        .find(|d| d["code"] == "capi-boundary/provider-read")
        .unwrap();
    assert_eq!(
        moved_read["range"]["start"]["line"],
        json!(provider_read["range"]["start"]["line"].as_u64().unwrap() + 1)
    );
    let mut text = text.clone();
    let insert_at = text.match_indices('\n').nth(18).unwrap().0 + 1;
    text.insert_str(insert_at, "// Ünïcödé 😀 note\n");

    // Hover over the provider type explains the provider and the boundary.
    let (line, col) = position_of(&text, "AzureMachine{}");
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": col + 2}}),
    );
    let value = hover["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(value.contains("AzureMachine") && value.contains("Machine"), "{hover}");

    // The annotation bridge: one WorkspaceEdit across the generic file and azure.go.
    let range = moved_read["range"].clone();
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": range, "context": {"diagnostics": [moved_read]}}),
    );
    let actions = actions["result"].as_array().cloned().unwrap_or_default();
    let bridge = actions
        .iter()
        .find(|a| a["title"] == "Use the annotation bridge")
        .unwrap_or_else(|| panic!("{actions:?}"));
    let operations = bridge["edit"]["documentChanges"].as_array().unwrap();
    let mut new_texts = std::collections::HashMap::new();
    for op in operations {
        let Some(doc) = op.get("textDocument") else { continue };
        let target = doc["uri"].as_str().unwrap().to_string();
        let current = if target == uri {
            text.clone()
        } else {
            std::fs::read_to_string(target.trim_start_matches("file://")).unwrap_or_default()
        };
        new_texts.insert(target, apply_lsp_edits(&current, op["edits"].as_array().unwrap()));
    }
    assert!(new_texts.len() == 2, "edits both files: {:?}", new_texts.keys());
    let generic = new_texts[&uri].clone();
    assert!(generic.contains("GetAnnotations()"), "{generic}");
    assert!(!generic.contains("AzureMachine{}"), "{generic}");
    // The editor applies the edit: the generic document changes, the platform file is written.
    for (target, new_text) in &new_texts {
        if target != &uri {
            std::fs::write(target.trim_start_matches("file://"), new_text).unwrap();
            client.notify(
                "workspace/didChangeWatchedFiles",
                json!({"changes": [{"uri": target, "type": 2}]}),
            );
        }
    }
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": generic}]}),
    );
    let after = client.diagnostics(&uri, 3);
    assert!(
        !codes(&after).contains(&"capi-boundary/provider-read".to_string()),
        "{after:?}"
    );
    client.shutdown();
}

/// Applies LSP text edits (UTF-16 positions) to a text.
fn apply_lsp_edits(text: &str, edits: &[Value]) -> String {
    let offset = |pos: &Value| -> usize {
        let line = pos["line"].as_u64().unwrap() as usize;
        let character = pos["character"].as_u64().unwrap() as usize;
        let line_start = if line == 0 {
            0
        } else {
            text.match_indices('\n')
                .nth(line - 1)
                .map(|(i, _)| i + 1)
                .unwrap_or(text.len())
        };
        let mut units = 0;
        for (i, ch) in text[line_start..].char_indices() {
            if units >= character || ch == '\n' {
                return line_start + i;
            }
            units += ch.len_utf16();
        }
        text.len()
    };
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (start, end, new_text) in spans {
        out.replace_range(start..end, &new_text);
    }
    out
}

#[test]
fn cross_file_effects_and_stale_versions() {
    let (_dir, root) = sample_copy();
    let mut client = Client::start(&root, json!({}));
    let dir = root.join("control-plane-operator/controllers/hostedcontrolplane/v2/ingress");
    let deployment = std::fs::read_to_string(dir.join("deployment.go")).unwrap();
    let uri = client.open(&dir.join("deployment.go"), &deployment);
    let before = codes(&client.diagnostics(&uri, 1));
    assert!(before.contains(&"adapt-purity/clock".to_string()), "{before:?}");

    // Burst of edits: versions 2..=20, each appending a comment; only the last must be current.
    for v in 2..=20 {
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": v}, "contentChanges": [{"text": format!("{deployment}// edit {v}\n")}]}),
        );
    }
    let last = client.diagnostics(&uri, 20);
    assert_eq!(codes(&last), before);
    // A stale version (older than the stored one) is dropped: the next valid edit still works.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 5}, "contentChanges": [{"text": "garbage"}]}),
    );
    // Make formatStamp pure: the clock finding through the helper chain disappears.
    let pure = deployment.replace("return time.Now().Format(time.RFC3339)", "return \"fixed\"");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 21}, "contentChanges": [{"text": pure}]}),
    );
    let after = codes(&client.diagnostics(&uri, 21));
    assert!(!after.contains(&"adapt-purity/clock".to_string()), "{after:?}");
    assert!(after.contains(&"adapt-purity/environment".to_string()), "{after:?}");
    client.shutdown();
}

#[test]
fn hostile_requests_get_errors_and_the_server_keeps_serving() {
    let (_dir, root) = sample_copy();
    let mut client = Client::start(&root, json!({"severity": {"capi-boundary/provider-import": "off"}}));
    // Malformed JSON, an unknown method, unknown documents, out-of-range positions.
    client.send_raw("{not json");
    let unknown = client.request("invariant/noSuchMethod", json!({}));
    assert!(unknown.get("error").is_some(), "{unknown}");
    let missing = root.join("nope.go");
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": file_uri(&missing)}, "position": {"line": 0, "character": 0}}),
    );
    assert!(hover.get("error").is_some() || hover["result"].is_null(), "{hover}");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": file_uri(&missing), "version": 2}, "contentChanges": [{"text": "x"}]}),
    );
    let path = root.join("hypershift-operator/controllers/nodepool/guest.go");
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = client.open(&path, &text);
    let diagnostics = client.diagnostics(&uri, 1);
    // initializationOptions turned provider-import off.
    assert!(
        !codes(&diagnostics).contains(&"capi-boundary/provider-import".to_string()),
        "{diagnostics:?}"
    );
    let far = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 99999, "character": 99999}}),
    );
    assert!(far.get("error").is_none(), "{far}");
    let explain = client.request(
        "workspace/executeCommand",
        json!({"command": "invariant.explain", "arguments": ["capi-boundary/provider-read"]}),
    );
    assert!(
        explain["result"].as_str().unwrap_or_default().contains("annotation"),
        "{explain}"
    );
    let bad = client.request(
        "workspace/executeCommand",
        json!({"command": "invariant.explain", "arguments": ["no/such-rule"]}),
    );
    assert!(bad.get("error").is_some(), "{bad}");
    // Out-of-range edit ranges clamp; a 5 MB line and half-typed Go do not kill the server.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 500, "character": 3}, "end": {"line": 900, "character": 0}}, "text": "\nfunc broken( {\n"}]}),
    );
    client.diagnostics(&uri, 2);
    let big = format!("package nodepool\nvar s = \"{}\"\n", "x".repeat(5 * 1024 * 1024));
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": big}]}),
    );
    client.diagnostics(&uri, 3);
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 4}, "contentChanges": [{"text": text}]}),
    );
    let back = client.diagnostics(&uri, 4);
    assert!(
        codes(&back).contains(&"capi-boundary/hosted-cluster-reach".to_string()),
        "{back:?}"
    );
    client.shutdown();
}

#[test]
fn a_broken_model_keeps_the_last_good_one_and_says_where() {
    let (_dir, root) = sample_copy();
    let mut client = Client::start(&root, json!({}));
    let path = root.join("hypershift-operator/controllers/nodepool/guest.go");
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = client.open(&path, &text);
    assert!(codes(&client.diagnostics(&uri, 1)).contains(&"capi-boundary/provider-import".to_string()));
    // A typo in .invariant.yaml: a located model/... diagnostic on the file; the model in force stays.
    let config = root.join(".invariant.yaml");
    std::fs::write(
        &config,
        "severity:\n  capi-boundary/provider-import: \"off\"\nmodelz: []\n",
    )
    .unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&config), "type": 2}]}),
    );
    let config_uri = file_uri(&config);
    let m = client.wait("model diagnostics", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == config_uri
            && !m["params"]["diagnostics"].as_array().unwrap().is_empty()
    });
    let problem = &m["params"]["diagnostics"][0];
    assert_eq!(problem["code"], "model/invalid");
    assert_eq!(problem["range"]["start"]["line"], 2, "{problem}");
    // Fixed: the new configuration takes effect (provider-import turned off) and the problem clears.
    std::fs::write(&config, "severity:\n  capi-boundary/provider-import: \"off\"\n").unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&config), "type": 2}]}),
    );
    client.wait("cleared model diagnostics", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == config_uri
            && m["params"]["diagnostics"].as_array().unwrap().is_empty()
    });
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": text}]}),
    );
    let after = codes(&client.diagnostics(&uri, 2));
    assert!(
        !after.contains(&"capi-boundary/provider-import".to_string()),
        "{after:?}"
    );
    assert!(
        after.contains(&"capi-boundary/hosted-cluster-reach".to_string()),
        "{after:?}"
    );
    client.shutdown();
}

#[test]
fn multi_root_workspaces_use_each_roots_configuration() {
    let (_a, first) = sample_copy();
    let (_b, second) = sample_copy();
    std::fs::write(second.join(".invariant.yaml"), "severity:\n  capi-boundary: \"off\"\n").unwrap();
    let mut child_client = Client::start(&first, json!({}));
    child_client.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [{"uri": file_uri(&second), "name": "second"}], "removed": []}}),
    );
    let rel = "hypershift-operator/controllers/nodepool/capacity.go";
    let text = std::fs::read_to_string(first.join(rel)).unwrap();
    let one = child_client.open(&first.join(rel), &text);
    let two = child_client.open(&second.join(rel), &text);
    assert!(codes(&child_client.diagnostics(&one, 1)).contains(&"capi-boundary/provider-read".to_string()));
    let second_codes = codes(&child_client.diagnostics(&two, 1));
    assert!(
        !second_codes.iter().any(|c| c.starts_with("capi-boundary/")),
        "{second_codes:?}"
    );
    assert!(
        second_codes.contains(&"condition-naming/reason-literal".to_string()),
        "{second_codes:?}"
    );
    child_client.shutdown();
}

const DEPLOYMENT: &str = "control-plane-operator/controllers/hostedcontrolplane/v2/ingress/deployment.go";
const CONDITIONS: &str = "api/hypershift/v1beta1/nodepool_conditions.go";

fn is_publish_for(m: &Value, uri: &str) -> bool {
    m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
}

/// Makes the clock helper of deployment.go pure on disk and tells the server.
fn purify_on_disk(client: &mut Client, root: &Path) -> String {
    let path = root.join(DEPLOYMENT);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("return time.Now().Format(time.RFC3339)", "return \"fixed\""),
    )
    .unwrap();
    let uri = file_uri(&path);
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri, "type": 2}]}),
    );
    uri
}

#[test]
fn push_mode_publishes_the_whole_workspace_and_only_what_changed() {
    let (_dir, root) = sample_copy();
    // No pull capability: push. `window.workDoneProgress` announced: progress is created.
    let mut client = Client::start_caps(&root, json!({}), json!({"window": {"workDoneProgress": true}}));
    assert!(
        client.init["result"]["capabilities"]
            .get("diagnosticProvider")
            .is_none(),
        "{}",
        client.init
    );
    // A file never opened gets its findings once the workspace is indexed.
    let deployment = file_uri(&root.join(DEPLOYMENT));
    let first = client.wait("diagnostics for an unopened file", |m| is_publish_for(m, &deployment));
    assert!(first["params"]["version"].is_null(), "{first}");
    let first_codes = codes(first["params"]["diagnostics"].as_array().unwrap());
    assert!(
        first_codes.contains(&"adapt-purity/clock".to_string()),
        "{first_codes:?}"
    );
    assert!(client.received(|m| m["method"] == "window/workDoneProgress/create"));
    let conditions = file_uri(&root.join(CONDITIONS));
    client.wait("diagnostics for the conditions file", |m| {
        is_publish_for(m, &conditions)
    });

    // Keystrokes in one document republish that document, not the unchanged others.
    let capacity = root.join("hypershift-operator/controllers/nodepool/capacity.go");
    let text = std::fs::read_to_string(&capacity).unwrap();
    let capacity_uri = client.open(&capacity, &text);
    client.diagnostics(&capacity_uri, 1);
    for v in 2..=4 {
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": capacity_uri, "version": v},
                   "contentChanges": [{"text": format!("{text}// edit {v}\n")}]}),
        );
        client.diagnostics(&capacity_uri, v);
    }
    // A change on disk: the file's new findings are pushed; unchanged files are not.
    purify_on_disk(&mut client, &root);
    let after = client.wait("new findings of the changed file", |m| {
        is_publish_for(m, &deployment)
            && !codes(m["params"]["diagnostics"].as_array().unwrap()).contains(&"adapt-purity/clock".to_string())
    });
    assert!(
        codes(after["params"]["diagnostics"].as_array().unwrap()).contains(&"adapt-purity/environment".to_string()),
        "{after}"
    );
    // The conditions file (sorted before deployment.go) was never published again.
    assert_eq!(client.count_received(|m| is_publish_for(m, &conditions)), 0);
    client.shutdown();
}

#[test]
fn pull_mode_answers_document_and_workspace_pulls_with_result_ids() {
    let (_dir, root) = sample_copy();
    let caps = json!({"textDocument": {"diagnostic": {}}, "workspace": {"diagnostics": {"refreshSupport": true}}});
    let mut client = Client::start_caps(&root, json!({}), caps);
    let provider = client.init["result"]["capabilities"]["diagnosticProvider"].clone();
    assert_eq!(provider["workspaceDiagnostics"], json!(true), "{provider}");

    let deployment = file_uri(&root.join(DEPLOYMENT));
    let report = client.request("workspace/diagnostic", json!({"previousResultIds": []}));
    let items = report["result"]["items"].as_array().cloned().unwrap_or_default();
    let item = items
        .iter()
        .find(|i| i["uri"] == deployment.as_str())
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(item["kind"], "full");
    assert!(codes(item["items"].as_array().unwrap()).contains(&"adapt-purity/clock".to_string()));
    let previous: Vec<Value> = items
        .iter()
        .map(|i| json!({"uri": i["uri"], "value": i["resultId"]}))
        .collect();
    // Nothing changed: every file is reported unchanged.
    let again = client.request("workspace/diagnostic", json!({"previousResultIds": previous}));
    let again = again["result"]["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(again.len(), items.len());
    assert!(again.iter().all(|i| i["kind"] == "unchanged"), "{again:?}");

    // A document pull, then the same pull with its result id.
    let capacity = root.join("hypershift-operator/controllers/nodepool/capacity.go");
    let capacity_uri = client.open(&capacity, &std::fs::read_to_string(&capacity).unwrap());
    let doc = client.request(
        "textDocument/diagnostic",
        json!({"textDocument": {"uri": capacity_uri}}),
    );
    assert_eq!(doc["result"]["kind"], "full", "{doc}");
    assert!(codes(doc["result"]["items"].as_array().unwrap()).contains(&"capi-boundary/provider-read".to_string()));
    let id = doc["result"]["resultId"].clone();
    let doc = client.request(
        "textDocument/diagnostic",
        json!({"textDocument": {"uri": capacity_uri}, "previousResultId": id}),
    );
    assert_eq!(doc["result"]["kind"], "unchanged", "{doc}");

    // A change on disk: the server asks for a refresh, and the next pull has the new findings.
    purify_on_disk(&mut client, &root);
    client.wait("workspace/diagnostic/refresh", |m| {
        m["method"] == "workspace/diagnostic/refresh"
    });
    let previous: Vec<Value> = items
        .iter()
        .map(|i| json!({"uri": i["uri"], "value": i["resultId"]}))
        .collect();
    let changed = client.request("workspace/diagnostic", json!({"previousResultIds": previous}));
    let changed = changed["result"]["items"].as_array().cloned().unwrap_or_default();
    let item = changed.iter().find(|i| i["uri"] == deployment.as_str()).unwrap();
    assert_eq!(item["kind"], "full");
    assert!(!codes(item["items"].as_array().unwrap()).contains(&"adapt-purity/clock".to_string()));
    // Pull only: nothing was pushed, and no progress was created for a client without the capability.
    assert!(!client.received(|m| m["method"] == "textDocument/publishDiagnostics"));
    assert!(!client.received(|m| m["method"] == "window/workDoneProgress/create"));
    client.shutdown();
}

#[test]
fn save_mode_keeps_findings_until_the_document_is_saved() {
    let (_dir, root) = sample_copy();
    let caps = json!({"textDocument": {"diagnostic": {}}, "workspace": {"diagnostics": {}}});
    let mut client = Client::start_caps(&root, json!({"diagnosticsOn": "save"}), caps);
    let path = root.join(DEPLOYMENT);
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = client.open(&path, &text);
    let pull = |client: &mut Client| {
        let r = client.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
        codes(r["result"]["items"].as_array().unwrap())
    };
    assert!(pull(&mut client).contains(&"adapt-purity/clock".to_string()));
    let pure = text.replace("return time.Now().Format(time.RFC3339)", "return \"fixed\"");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": pure}]}),
    );
    assert!(
        pull(&mut client).contains(&"adapt-purity/clock".to_string()),
        "unsaved: unchanged"
    );
    client.notify("textDocument/didSave", json!({"textDocument": {"uri": uri}}));
    assert!(
        !pull(&mut client).contains(&"adapt-purity/clock".to_string()),
        "saved: updated"
    );
    client.shutdown();
}

#[test]
fn the_model_one_jump_away_and_fix_all() {
    let (_dir, root) = sample_copy();
    let mut client = Client::start(&root, json!({}));
    let caps = client.init["result"]["capabilities"].clone();
    assert_eq!(caps["definitionProvider"], json!(true), "{caps}");
    let path = root.join("hypershift-operator/controllers/nodepool/capacity.go");
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = client.open(&path, &text);
    client.diagnostics(&uri, 1);

    // Go to definition on a provider kind lands on the provider's entry in the built-in model.
    let (line, col) = position_of(&text, "AzureMachine{}");
    let def = client.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": col + 3}}),
    );
    let target = def["result"].clone();
    let target_uri = target["uri"].as_str().unwrap_or_else(|| panic!("{def}")).to_string();
    assert!(target_uri.starts_with("invariant-model:"), "{def}");
    let source = client.request("invariant/modelSource", json!({"uri": target_uri}));
    let model_text = source["result"]["text"].as_str().unwrap_or_else(|| panic!("{source}"));
    let model_line = model_text
        .lines()
        .nth(target["range"]["start"]["line"].as_u64().unwrap() as usize)
        .unwrap();
    assert_eq!(model_line.trim(), "- id: azure");

    // A workspace symbol for a lifecycle state.
    let symbols = client.request("workspace/symbol", json!({"query": "Upgrading"}));
    let symbols = symbols["result"].as_array().cloned().unwrap_or_default();
    let state = symbols
        .iter()
        .find(|s| s["name"] == "Upgrading" && s["containerName"] == "lifecycle state")
        .unwrap_or_else(|| panic!("{symbols:?}"));
    let at = state["location"]["range"]["start"]["line"].as_u64().unwrap() as usize;
    assert_eq!(model_text.lines().nth(at).unwrap().trim(), "- name: Upgrading");

    // Fix-all: asked with `context.only`, the fixes that need no choice (the selection
    // `check --fix` applies) in one action of kind source.fixAll.invariant; a reason constant
    // needs a person, so a file with only that gets no fix-all.
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}});
    let fix_all_of = |client: &mut Client, uri: &str| {
        let answer = client.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": whole, "context": {"diagnostics": [], "only": ["source.fixAll"]}}),
        );
        answer["result"].as_array().cloned().unwrap_or_default()
    };
    let none = fix_all_of(&mut client, uri.as_str());
    assert!(none.is_empty(), "{none:?}");
    let legacy = root.join("deploy/legacy/kustomization.yaml");
    std::fs::create_dir_all(legacy.parent().unwrap()).unwrap();
    let legacy_text = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nbases:\n  - ../base\n";
    std::fs::write(&legacy, legacy_text).unwrap();
    let legacy_uri = client.open(&legacy, legacy_text);
    client.diagnostics(&legacy_uri, 1);
    let fix_all = fix_all_of(&mut client, legacy_uri.as_str());
    assert_eq!(fix_all.len(), 1, "{fix_all:?}");
    assert_eq!(fix_all[0]["kind"], "source.fixAll.invariant");
    let operations = fix_all[0]["edit"]["documentChanges"].as_array().unwrap();
    assert!(
        operations
            .iter()
            .all(|op| op["textDocument"]["uri"] == legacy_uri.as_str()),
        "{operations:?}"
    );
    let fixed = apply_lsp_edits(legacy_text, operations[0]["edits"].as_array().unwrap());
    assert_eq!(
        fixed,
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base\n"
    );
    let (line, col) = position_of(&text, "\"capacity_error\"");
    let at = json!({"start": {"line": line, "character": col}, "end": {"line": line, "character": col}});
    let quick = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": at, "context": {"diagnostics": [], "only": ["quickfix"]}}),
    );
    let quick = quick["result"].as_array().cloned().unwrap_or_default();
    assert!(
        !quick.is_empty() && quick.iter().all(|a| a["kind"] == "quickfix"),
        "{quick:?}"
    );
    client.shutdown();
}

#[test]
fn an_edit_reaches_unopened_files_of_its_package_once_typing_pauses() {
    let (_dir, root) = sample_copy();
    let dir = root.join("control-plane-operator/controllers/hostedcontrolplane/v2/ingress");
    // adaptConfigMap (in deployment.go, never opened) calls a pure helper in another file.
    let deployment = std::fs::read_to_string(dir.join("deployment.go")).unwrap();
    std::fs::write(
        dir.join("deployment.go"),
        deployment.replace(
            "func adaptConfigMap(cpContext component.WorkloadContext, cm *corev1.ConfigMap) error {",
            "func adaptConfigMap(cpContext component.WorkloadContext, cm *corev1.ConfigMap) error {\n\t_ = helperStamp()",
        ),
    )
    .unwrap();
    let helper = "package ingress\n\nfunc helperStamp() string {\n\treturn \"fixed\"\n}\n";
    std::fs::write(dir.join("helper.go"), helper).unwrap();
    let mut client = Client::start_caps(&root, json!({}), json!({}));
    let deployment_uri = file_uri(&dir.join("deployment.go"));
    let first = client.wait("deployment.go indexed", |m| is_publish_for(m, &deployment_uri));
    let clock_in_config_map = |m: &Value| {
        m["params"]["diagnostics"].as_array().unwrap().iter().any(|d| {
            d["code"] == "adapt-purity/clock" && d["message"].as_str().unwrap_or("").contains("adaptConfigMap")
        })
    };
    assert!(!clock_in_config_map(&first), "{first}");
    // Typing a clock read into the helper: the helper is republished at once, and
    // deployment.go, whose adapt function now reads the clock through it, once typing pauses.
    let helper_uri = client.open(&dir.join("helper.go"), helper);
    client.diagnostics(&helper_uri, 1);
    let impure = "package ingress\n\nimport \"time\"\n\nfunc helperStamp() string {\n\treturn time.Now().String()\n}\n";
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": helper_uri, "version": 2}, "contentChanges": [{"text": impure}]}),
    );
    client.diagnostics(&helper_uri, 2);
    let after = client.wait("deployment.go republished after the pause", |m| {
        is_publish_for(m, &deployment_uri) && clock_in_config_map(m)
    });
    assert!(after["params"]["version"].is_null(), "{after}");
    client.shutdown();
}

/// "Suppress with a reason" stays a plain text edit even for a client that announces snippet
/// support for completions and (LSP 3.18) for workspace edits: a code action's edits may carry
/// a snippet only as a 3.18 `SnippetTextEdit`, which the protocol types this server is built on
/// can neither parse the capability for nor send, and a completion's `snippetSupport` does not
/// license snippets in a `WorkspaceEdit` (the client would write `${1:reason}` into the file).
/// The inserted placeholder is then reported as a missing reason until the user replaces it.
#[test]
fn the_suppression_fix_is_plain_text_and_its_placeholder_is_a_missing_reason() {
    let (_dir, root) = sample_copy();
    let capabilities = json!({
        "textDocument": {"completion": {"completionItem": {"snippetSupport": true}}},
        "workspace": {"workspaceEdit": {"documentChanges": true, "snippetEditSupport": true}}
    });
    let mut client = Client::start_caps(&root, json!({}), capabilities);
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
    let suppress = actions
        .iter()
        .find(|a| a["title"] == "Suppress with a reason: capi-boundary/provider-read")
        .unwrap_or_else(|| panic!("{actions:?}"));
    let operations = suppress["edit"]["documentChanges"].as_array().unwrap();
    assert_eq!(operations.len(), 1, "{suppress}");
    let edits = operations[0]["edits"].as_array().unwrap();
    let inserted = edits[0]["newText"].as_str().unwrap();
    assert!(
        inserted.contains("invariant:ignore capi-boundary/provider-read -- <why this is fine>"),
        "{inserted}"
    );
    assert!(
        !inserted.contains("${") && edits[0].get("insertTextFormat").is_none(),
        "{suppress}"
    );
    let fixed = apply_lsp_edits(&text, edits);
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let after = client.diagnostics(&uri, 2);
    assert!(
        !codes(&after).contains(&"capi-boundary/provider-read".to_string()),
        "suppressed: {after:?}"
    );
    let missing = after
        .iter()
        .find(|d| d["code"] == "suppression/missing-reason")
        .unwrap_or_else(|| panic!("the placeholder is not a reason: {after:?}"));
    assert!(
        missing["message"].as_str().unwrap().contains("only a placeholder"),
        "{missing}"
    );
    client.shutdown();
}

#[test]
fn the_baseline_reloads_when_its_file_changes() {
    let (_dir, root) = sample_copy();
    let config = root.join(".invariant.yaml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("baseline: baseline.json\n");
    std::fs::write(&config, text).unwrap();
    let baseline = root.join("baseline.json");
    let empty = "{\"version\": 1, \"tool\": \"invariant-lsp\", \"entries\": []}\n";
    std::fs::write(&baseline, empty).unwrap();
    let severities =
        |diagnostics: &[Value]| -> Vec<u64> { diagnostics.iter().map(|d| d["severity"].as_u64().unwrap()).collect() };
    let mut client = Client::start(&root, json!({}));
    let path = root.join("hypershift-operator/controllers/nodepool/guest.go");
    let source = std::fs::read_to_string(&path).unwrap();
    let uri = client.open(&path, &source);
    let before = client.diagnostics(&uri, 1);
    assert!(
        severities(&before).contains(&1),
        "errors while the baseline is empty: {before:?}"
    );

    // Every finding accepted (written by `check` itself): the open document's findings become hints.
    let written = std::process::Command::new(env!("CARGO_BIN_EXE_invariant-lsp"))
        .args(["check", "--write-baseline", "baseline.json"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    let is_hints_only = |m: &Value| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri.as_str()
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(|d| !d.is_empty() && d.iter().all(|d| d["severity"] == 4))
    };
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&baseline), "type": 2}]}),
    );
    let hinted = client.wait("the baselined findings as hints", is_hints_only);
    assert_eq!(
        hinted["params"]["diagnostics"].as_array().unwrap().len(),
        before.len(),
        "{hinted}"
    );

    // Emptied again: the findings stand out again.
    std::fs::write(&baseline, empty).unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&baseline), "type": 2}]}),
    );
    client.wait("the findings back at their severities", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri.as_str()
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d["severity"] == 1))
    });
    client.shutdown();
}

/// A reason returned by a method whose result becomes a condition's reason in another file of
/// the package (`job.go`'s `IsAvailable` → `status.go`'s `Reason: reason`), in a document
/// opened before the workspace is read (here: before `initialized`, the deterministic form of a
/// document opened while indexing runs). The first diagnostics published for it already see
/// the package (no findings computed from the open document alone), and the constant fix is
/// offered at the returned literal; applied, it gives the golden file of the fix-building case
/// `reason-constant-returned-method` (which gofmt, go vet and go build accept).
#[test]
fn a_returned_reason_opened_while_indexing_gets_its_constant_fix() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixbuild/cases/reason-constant-returned-method");
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&case.join("before"), dir.path());
    let root = dir.path().canonicalize().unwrap();
    let rel = "support/controlplane-component/job.go";
    let capabilities = json!({"workspace": {"workspaceEdit": {"documentChanges": true}}});
    let mut client = Client::start_uninitialized(&root, json!({}), &[], capabilities);
    let path = root.join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = client.open(&path, &text);
    client.notify("initialized", json!({}));
    let diagnostics = client.diagnostics(&uri, 1);
    let (line, col) = position_of(&text, "\"JobActive\"");
    let returned = diagnostics
        .iter()
        .find(|d| d["code"] == "condition-naming/reason-literal" && d["range"]["start"]["line"] == json!(line))
        .unwrap_or_else(|| panic!("no reason-literal at the returned \"JobActive\" (line {line}): {diagnostics:?}"))
        .clone();
    assert_eq!(returned["range"]["start"]["character"], json!(col), "{returned}");
    let actions = client.actions_for(&uri, &returned);
    let fix = actions
        .iter()
        .find(|a| a["title"] == "Use a constant `jobActiveReason`")
        .unwrap_or_else(|| panic!("{actions:?}"));
    assert_eq!(fix["diagnostics"], json!([returned]), "{fix}");
    let operations = fix["edit"]["documentChanges"].as_array().unwrap();
    assert_eq!(operations.len(), 1, "{fix}");
    assert_eq!(operations[0]["textDocument"]["uri"], json!(uri));
    let fixed = apply_lsp_edits(&text, operations[0]["edits"].as_array().unwrap());
    let golden = std::fs::read_to_string(case.join("after").join(rel)).unwrap();
    assert_eq!(fixed, golden);
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let after = client.diagnostics(&uri, 2);
    assert!(
        !after
            .iter()
            .any(|d| d["code"] == "condition-naming/reason-literal" && d["range"]["start"]["line"] == json!(line)),
        "{after:?}"
    );
    client.shutdown();
}

/// Issue 24.11: removing a workspace folder clears the diagnostics of every file of it that
/// was told any (open or not); an edit made while it is gone is kept, and adding the folder
/// back republishes the open document with that edit.
#[test]
fn a_removed_folder_clears_its_files_and_re_adding_it_republishes_the_edited_document() {
    let (_dir, root) = sample_copy();
    let mut client = Client::start(&root, json!({}));
    let deployment = file_uri(&root.join(DEPLOYMENT));
    client.wait("diagnostics for an unopened file", |m| {
        is_publish_for(m, &deployment) && !m["params"]["diagnostics"].as_array().unwrap().is_empty()
    });
    let capacity = root.join("hypershift-operator/controllers/nodepool/capacity.go");
    let text = std::fs::read_to_string(&capacity).unwrap();
    let uri = client.open(&capacity, &text);
    let before = client.diagnostics(&uri, 1);
    let read_line = |d: &[Value]| {
        d.iter()
            .find(|d| d["code"] == "capi-boundary/provider-read")
            .map(|d| d["range"]["start"]["line"].as_u64().unwrap())
    };
    let line = read_line(&before).expect("provider-read before");
    let folder = json!([{"uri": file_uri(&root), "name": "sample"}]);
    client.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [], "removed": folder}}),
    );
    let empty = |m: &Value, u: &str| is_publish_for(m, u) && m["params"]["diagnostics"].as_array().unwrap().is_empty();
    client.wait("the unopened file's diagnostics cleared", |m| empty(m, &deployment));
    client.wait("the open document's diagnostics cleared", |m| empty(m, &uri));
    // Typed while the folder is gone: two lines above everything.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "// one\n// two\n"}]}),
    );
    client.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": folder, "removed": []}}),
    );
    let after = client.diagnostics(&uri, 2);
    assert_eq!(
        read_line(&after),
        Some(line + 2),
        "the edit made while removed counts: {after:?}"
    );
    // Typing goes on being analysed.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3},
               "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "// three\n"}]}),
    );
    let typed = client.diagnostics(&uri, 3);
    assert_eq!(read_line(&typed), Some(line + 3), "{typed:?}");
    client.shutdown();
}

/// Issue 24.12: the annotation bridge's edit of a platform file that exists on disk but is
/// excluded from the analysis is positioned in that file's text: its imports go in its import
/// block and the writer after its code, never before its `package` clause.
#[test]
fn the_annotation_bridge_edits_an_excluded_platform_file_at_the_right_places() {
    let (_dir, root) = sample_copy();
    let platform_rel = "hypershift-operator/controllers/nodepool/azure.go";
    let config = std::fs::read_to_string(root.join(".invariant.yaml")).unwrap();
    std::fs::write(
        root.join(".invariant.yaml"),
        format!("{config}exclude: [\"{platform_rel}\"]\n"),
    )
    .unwrap();
    let platform_path = root.join(platform_rel);
    let platform = std::fs::read_to_string(&platform_path).unwrap();
    let mut client = Client::start(&root, json!({}));
    let capacity = root.join("hypershift-operator/controllers/nodepool/capacity.go");
    let text = std::fs::read_to_string(&capacity).unwrap();
    let uri = client.open(&capacity, &text);
    let diagnostics = client.diagnostics(&uri, 1);
    let read = diagnostics
        .iter()
        .find(|d| d["code"] == "capi-boundary/provider-read")
        .unwrap_or_else(|| panic!("{diagnostics:?}"))
        .clone();
    let actions = client.actions_for(&uri, &read);
    let bridge = actions
        .iter()
        .find(|a| a["title"] == "Use the annotation bridge")
        .unwrap_or_else(|| panic!("{actions:?}"));
    let platform_uri = file_uri(&platform_path);
    let operations = bridge["edit"]["documentChanges"].as_array().unwrap();
    assert!(
        !operations.iter().any(|op| op["kind"] == "create"),
        "azure.go exists: edited, not created: {operations:?}"
    );
    let edit = operations
        .iter()
        .find(|op| op["textDocument"]["uri"] == platform_uri)
        .unwrap_or_else(|| panic!("the platform file is edited: {operations:?}"));
    let after = apply_lsp_edits(&platform, edit["edits"].as_array().unwrap());
    assert!(after.starts_with("package nodepool\n"), "{after}");
    assert_eq!(after.matches("package nodepool").count(), 1, "{after}");
    assert_eq!(after.matches("import (").count(), 1, "{after}");
    assert!(after.contains("func azureMachineTemplate(name string)"), "{after}");
    let writer = after.find("func setAzureMachine").unwrap_or_else(|| panic!("{after}"));
    assert!(writer > after.find("func azureMachineTemplate").unwrap(), "{after}");
    let tree = invariant_lsp::syntax::parse(invariant_lsp::syntax::Lang::Go, &after, None)
        .tree
        .unwrap();
    assert!(!tree.root_node().has_error(), "{after}");
    client.shutdown();
}
