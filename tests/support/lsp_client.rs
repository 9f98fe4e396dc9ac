//! A stdio LSP client for the protocol tests: the real binary, driven as an editor would.
//! Shared by tests/lsp.rs and tests/robustness.rs (each uses a part of it).
#![allow(dead_code)]

use std::io::{BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use invariant_lsp::lsp::framing::read_message;
use serde_json::{json, Value};

pub struct Client {
    child: Child,
    pub stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
    backlog: Vec<Value>,
    /// The `initialize` response.
    pub init: Value,
}

pub const TIMEOUT: Duration = Duration::from_secs(30);

pub fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

impl Client {
    pub fn start(root: &Path, options: Value) -> Client {
        Client::start_with(root, options, &[])
    }

    /// Starts the server on `root` with `initializationOptions` and extra environment.
    pub fn start_with(root: &Path, options: Value, env: &[(&str, &str)]) -> Client {
        // What VS Code and Neovim announce: versioned edits that may create files.
        let capabilities = json!({"workspace": {"workspaceEdit": {"documentChanges": true, "resourceOperations": ["create", "rename", "delete"]}}});
        Client::start_full(root, options, env, capabilities)
    }

    /// Starts the server announcing exactly `capabilities`.
    pub fn start_caps(root: &Path, options: Value, capabilities: Value) -> Client {
        Client::start_full(root, options, &[], capabilities)
    }

    /// Starts the server with explicit client `capabilities`.
    pub fn start_full(root: &Path, options: Value, env: &[(&str, &str)], capabilities: Value) -> Client {
        let mut client = Client::start_uninitialized(root, options, env, capabilities);
        client.notify("initialized", json!({}));
        client
    }

    /// Starts the server and has `initialize` answered, but sends no `initialized`: the server
    /// has not started reading the workspace, so a document opened now stands, deterministically,
    /// for one opened while indexing runs. The caller sends `initialized`.
    pub fn start_uninitialized(root: &Path, options: Value, env: &[(&str, &str)], capabilities: Value) -> Client {
        let mut command = Command::new(env!("CARGO_BIN_EXE_invariant-lsp"));
        command
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("server starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(value) = read_message(&mut reader) {
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            incoming,
            next_id: 1,
            backlog: Vec::new(),
            init: Value::Null,
        };
        let init = client.request(
            "initialize",
            json!({"processId": null, "rootUri": file_uri(root), "capabilities": capabilities,
                   "workspaceFolders": [{"uri": file_uri(root), "name": "ws"}], "initializationOptions": options}),
        );
        assert!(
            init["result"]["capabilities"]["hoverProvider"]
                .as_bool()
                .unwrap_or(false),
            "{init}"
        );
        client.init = init;
        client
    }

    /// Whether a message already received (and not consumed by a wait) matches.
    pub fn received(&self, pred: impl Fn(&Value) -> bool) -> bool {
        self.backlog.iter().any(pred)
    }

    /// Every message already received (and not consumed by a wait) that matches.
    pub fn count_received(&self, pred: impl Fn(&Value) -> bool) -> usize {
        self.backlog.iter().filter(|m| pred(m)).count()
    }

    pub fn send_raw(&mut self, body: &str) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n{}", body.len(), body).unwrap();
        self.stdin.flush().unwrap();
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send_raw(&json!({"jsonrpc": "2.0", "method": method, "params": params}).to_string());
    }

    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send_raw(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string());
        id
    }

    pub fn wait(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return self.backlog.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self
                .incoming
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
            if message.get("method").is_some() && message.get("id").is_some() {
                let body = json!({"jsonrpc": "2.0", "id": message["id"], "result": null}).to_string();
                self.send_raw(&body);
            }
            if pred(&message) {
                return message;
            }
            self.backlog.push(message);
        }
    }

    pub fn response(&mut self, id: Value) -> Value {
        self.wait(&format!("response {id}"), move |m| {
            m["id"] == id && m.get("method").is_none()
        })
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.response(json!(id))
    }

    pub fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let m = self.wait(&format!("diagnostics for {uri} v{version}"), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == json!(version)
        });
        m["params"]["diagnostics"].as_array().cloned().unwrap_or_default()
    }

    pub fn open(&mut self, path: &Path, text: &str) -> String {
        let uri = file_uri(path);
        let language = if path.extension().is_some_and(|e| e == "go") {
            "go"
        } else {
            "yaml"
        };
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}),
        );
        uri
    }

    /// The code actions the server offers for one of its diagnostics, asked as an editor asks
    /// (the diagnostic's range, the diagnostic in the context).
    pub fn actions_for(&mut self, uri: &str, diagnostic: &Value) -> Vec<Value> {
        let answer = self.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": diagnostic["range"], "context": {"diagnostics": [diagnostic]}}),
        );
        answer["result"].as_array().cloned().unwrap_or_default()
    }

    /// The server is alive and answering: a valid request gets its response.
    pub fn still_serving(&mut self, uri: &str) {
        let hover = self.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}),
        );
        assert!(hover.get("result").is_some(), "{hover}");
    }

    pub fn shutdown(mut self) {
        let response = self.request("shutdown", Value::Null);
        assert!(response.get("error").is_none(), "{response}");
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

pub fn codes(diagnostics: &[Value]) -> Vec<String> {
    let mut c: Vec<String> = diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect();
    c.sort();
    c
}
