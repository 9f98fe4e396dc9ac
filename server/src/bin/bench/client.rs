//! A minimal LSP client over the server's stdio, in this (separate) process: it times the
//! `initialize` response, waits for indexing, then types one character per `didChange` and
//! times each until the `publishDiagnostics` of that version arrives.

use std::io::{BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use invariant_lsp::lsp::framing::read_message;
use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(300);

pub struct Client {
    child: Child,
    stdin: ChildStdin,
    /// Messages with the instant the reader thread decoded them.
    incoming: Receiver<(Instant, Value)>,
    next_id: i64,
    pub started: Instant,
}

pub fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

impl Client {
    pub fn spawn(server: &Path) -> std::io::Result<Client> {
        let started = Instant::now();
        let mut child = Command::new(server)
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(value) = read_message(&mut reader) {
                if tx.send((Instant::now(), value)).is_err() {
                    return;
                }
            }
        });
        Ok(Client {
            child,
            stdin,
            incoming,
            next_id: 1,
            started,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn send(&mut self, body: &Value) -> Result<Instant, String> {
        let body = body.to_string();
        let sent = Instant::now();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{}", body.len(), body)
            .and_then(|_| self.stdin.flush())
            .map_err(|e| format!("writing to the server: {e}"))?;
        Ok(sent)
    }

    pub fn notify(&mut self, method: &str, params: Value) -> Result<Instant, String> {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}))
    }

    pub fn request(&mut self, method: &str, params: Value) -> Result<(Instant, Value), String> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        self.wait(&format!("response to {method}"), |m| {
            m["id"] == json!(id) && m.get("method").is_none()
        })
    }

    /// Waits for a message matching `pred` (answering server requests on the way); returns
    /// the instant it arrived.
    pub fn wait(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Result<(Instant, Value), String> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (at, message) = self
                .incoming
                .recv_timeout(left)
                .map_err(|_| format!("timed out waiting for {what}"))?;
            if message.get("method").is_some() && message.get("id").is_some() {
                self.send(&json!({"jsonrpc": "2.0", "id": message["id"], "result": null}))?;
            }
            if pred(&message) {
                return Ok((at, message));
            }
        }
    }

    /// Waits until the server has said nothing for `quiet` (answering its requests on the
    /// way), at most `max`: the workspace analysis has settled. Returns the time waited.
    pub fn settle(&mut self, quiet: Duration, max: Duration) -> Result<Duration, String> {
        let started = Instant::now();
        while started.elapsed() < max {
            match self.incoming.recv_timeout(quiet) {
                Ok((_, message)) => {
                    if message.get("method").is_some() && message.get("id").is_some() {
                        self.send(&json!({"jsonrpc": "2.0", "id": message["id"], "result": null}))?;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return Ok(started.elapsed() - quiet),
                Err(e) => return Err(format!("server gone while settling: {e}")),
            }
        }
        Ok(started.elapsed())
    }

    /// `initialize` + `initialized`; returns the time from spawning to the response.
    pub fn initialize(&mut self, root: &Path) -> Result<Duration, String> {
        let uri = file_uri(root);
        let (at, response) = self.request(
            "initialize",
            json!({"processId": std::process::id(), "rootUri": uri, "capabilities": {},
                   "workspaceFolders": [{"uri": uri, "name": "bench"}]}),
        )?;
        if response.get("result").is_none() {
            return Err(format!("initialize failed: {response}"));
        }
        let took = at - self.started;
        self.notify("initialized", json!({}))?;
        Ok(took)
    }

    pub fn shutdown(mut self) {
        let _ = self.request("shutdown", Value::Null);
        let _ = self.notify("exit", Value::Null);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A process's memory figures from /proc, in KiB: (VmRSS, VmHWM).
pub fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

pub struct Session {
    pub initialize: Duration,
    pub index: Duration,
    /// From indexing done to the workspace analysis settled (no message for 1.5 s).
    pub settle: Duration,
    pub open: Duration,
    /// The first keystroke after open; `keystrokes` are the ones after it.
    pub first_keystroke: Duration,
    pub keystrokes: Vec<Duration>,
    pub rss_ready_kib: u64,
    /// Resident once the workspace analysis settled, before any file is open.
    pub rss_settled_kib: u64,
    pub peak_rss_kib: u64,
}

/// Starts the server on `root`, waits for indexing, opens `file` and types `keys` characters.
pub fn keystroke_session(server: &Path, root: &Path, file: &Path, keys: usize) -> Result<Session, String> {
    let mut client = Client::spawn(server).map_err(|e| format!("starting {}: {e}", server.display()))?;
    let pid = client.pid();
    let initialize = client.initialize(root)?;
    let index_started = Instant::now();
    let (ready_at, _) = client.wait("invariant/status ready", |m| {
        m["method"] == "invariant/status" && m["params"]["state"] == "ready"
    })?;
    let index = ready_at - index_started;
    // Typing is measured once the workspace analysis has settled (its publications done).
    let settle = client.settle(Duration::from_millis(1500), Duration::from_secs(300))?;
    let rss_settled_kib = memory_kib(pid).map(|m| m.0).unwrap_or(0);
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let uri = file_uri(file);
    let sent = client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "go", "version": 1, "text": text}}),
    )?;
    let diagnostics_of = |uri: String, version: i64| {
        move |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri.as_str()
                && m["params"]["version"] == json!(version)
        }
    };
    let (at, _) = client.wait("diagnostics of the opened file", diagnostics_of(uri.clone(), 1))?;
    let open = at - sent;
    let rss_ready_kib = memory_kib(pid).map(|m| m.0).unwrap_or(0);
    client.settle(Duration::from_millis(500), Duration::from_secs(60))?;

    // Type statements into the middle of a function body, one character per change.
    let (mut line, mut character) = typing_position(&text);
    let typed = "\tlog.Info(\"invariant bench\", \"n\", n)\n";
    let mut keystrokes = Vec::with_capacity(keys);
    for (i, ch) in typed.chars().cycle().take(keys).enumerate() {
        let version = i as i64 + 2;
        let sent = client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"range": {"start": {"line": line, "character": character},
                                                 "end": {"line": line, "character": character}},
                                       "text": ch.to_string()}]}),
        )?;
        let (at, _) = client.wait(
            &format!("diagnostics of version {version}"),
            diagnostics_of(uri.clone(), version),
        )?;
        keystrokes.push(at - sent);
        if ch == '\n' {
            line += 1;
            character = 0;
        } else {
            character += 1;
        }
    }
    let peak_rss_kib = memory_kib(pid).map(|m| m.1).unwrap_or(0);
    client.shutdown();
    // The first keystroke after open is reported on its own.
    let first_keystroke = if keystrokes.is_empty() {
        Duration::ZERO
    } else {
        keystrokes.remove(0)
    };
    Ok(Session {
        initialize,
        index,
        settle,
        open,
        first_keystroke,
        keystrokes,
        rss_ready_kib,
        rss_settled_kib,
        peak_rss_kib,
    })
}

/// Only starts the server and times the `initialize` response.
pub fn initialize_only(server: &Path, root: &Path) -> Result<Duration, String> {
    let mut client = Client::spawn(server).map_err(|e| format!("starting {}: {e}", server.display()))?;
    let took = client.initialize(root)?;
    client.shutdown();
    Ok(took)
}

/// The start of the first statement line of a function body at or after the middle of the file.
fn typing_position(text: &str) -> (u32, u32) {
    let lines: Vec<&str> = text.lines().collect();
    let mid = lines.len() / 2;
    for (i, l) in lines.iter().enumerate().skip(mid) {
        let body_statement = l.starts_with('\t') && !l.starts_with("\t\t") && !l.trim_start().starts_with('}');
        if body_statement && i > 0 && lines[i - 1].trim_end().ends_with('{') {
            return (i as u32, 0);
        }
    }
    (mid as u32, 0)
}
