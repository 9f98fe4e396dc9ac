// VS Code client for invariant-lsp: starts the server over stdio for Go and YAML files in
// workspaces that contain `.invariant.yaml` or a HyperShift layout, shows indexing progress and
// the model in force in the status bar, and offers "Explain rule" and "Restart server".
// Hover, diagnostics and quick fixes come straight from the server through vscode-languageclient.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vscode from "vscode";
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
} from "vscode-languageclient/node";

const SERVER_NAME = "invariant-lsp";
const EXPLAIN_SCHEME = "invariant-rule";
/** The built-in domain model, served read-only by the server (`invariant/modelSource`). */
const MODEL_SCHEME = "invariant-model";
/** Any of these in a folder (at any depth) is enough: Go code or kustomize YAML. */
const CONTENT_GLOB = "{**/*.go,**/kustomization.yaml,**/kustomization.yml}";

/** Files whose presence at a workspace folder's root marks it as one the server should guard. */
const WORKSPACE_MARKERS = [
  ".invariant.yaml",
  ".rh-agentic/team.yaml",
  "hypershift-operator/controllers",
  "control-plane-operator/controllers",
  "api/hypershift",
];

interface StatusParams {
  state: "indexing" | "ready" | string;
  model?: string;
  files?: number;
}

let client: LanguageClient | undefined;
let statusItem: vscode.StatusBarItem;
let output: vscode.OutputChannel;
let serverPath: string | undefined;
let lastStatus: StatusParams | undefined;
const explanations = new Map<string, string>();

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("Invariant");
  statusItem = vscode.window.createStatusBarItem("invariant.status", vscode.StatusBarAlignment.Left, 10);
  statusItem.name = "Invariant";
  statusItem.command = "invariant.showOutput";
  context.subscriptions.push(output, statusItem);

  // The server links each diagnostic to `invariant-rule:/<code>.md` and serves the text through
  // `invariant.explain` (it writes no files for it).
  const explainProvider = new (class implements vscode.TextDocumentContentProvider {
    async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
      const code = ruleFromExplainUri(uri);
      const cached = explanations.get(code);
      if (cached !== undefined || !client || !client.isRunning()) {
        return cached ?? "";
      }
      try {
        const text: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
          command: "invariant.explain",
          arguments: [code],
        });
        const markdown = typeof text === "string" ? text : JSON.stringify(text, null, 2);
        explanations.set(code, markdown);
        return markdown;
      } catch (err) {
        return `Cannot explain ${code}: ${String(err)}`;
      }
    }
  })();
  const modelProvider = new (class implements vscode.TextDocumentContentProvider {
    async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
      if (!client) {
        return "# The invariant-lsp server is not running.\n";
      }
      const result = await client.sendRequest<{ text: string }>("invariant/modelSource", { uri: uri.toString() });
      return result.text;
    }
  })();
  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(EXPLAIN_SCHEME, explainProvider),
    vscode.workspace.registerTextDocumentContentProvider(MODEL_SCHEME, modelProvider),
    vscode.commands.registerCommand("invariant.explainRule", (code?: unknown) => explainRule(code)),
    vscode.commands.registerCommand("invariant.restartServer", () => restartServer(context)),
    vscode.commands.registerCommand("invariant.showOutput", () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (
        e.affectsConfiguration("invariant.server") ||
        e.affectsConfiguration("invariant.models") ||
        e.affectsConfiguration("invariant.severity") ||
        e.affectsConfiguration("invariant.diagnostics")
      ) {
        output.appendLine("Settings changed: restarting the server.");
        await restartServer(context);
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(async () => {
      if (!client && (await guardedFolder())) {
        await startServer(context);
      }
    }),
  );

  if (!(await guardedFolder())) {
    output.appendLine(
      "No workspace folder contains .invariant.yaml, Go code or a kustomization: the server is not started.",
    );
    return;
  }
  await startServer(context);
}

export async function deactivate(): Promise<void> {
  await stopServer();
}

/** The first workspace folder with a marker (.invariant.yaml, a HyperShift layout), else the
 * first with Go code or a kustomization anywhere in it. */
async function guardedFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === "file");
  for (const folder of folders) {
    if (WORKSPACE_MARKERS.some((m) => fs.existsSync(path.join(folder.uri.fsPath, m)))) {
      return folder;
    }
  }
  for (const folder of folders) {
    const found = await vscode.workspace.findFiles(
      new vscode.RelativePattern(folder, CONTENT_GLOB),
      "{**/node_modules/**,**/vendor/**}",
      1,
    );
    if (found.length > 0) {
      return folder;
    }
  }
  return undefined;
}

function expandPath(p: string, folder: vscode.WorkspaceFolder | undefined): string {
  let out = p.trim();
  if (out.startsWith("~/") || out === "~") {
    out = path.join(os.homedir(), out.slice(1));
  }
  if (folder) {
    out = out.replace(/\$\{workspaceFolder\}/g, folder.uri.fsPath);
    if (!path.isAbsolute(out)) {
      out = path.join(folder.uri.fsPath, out);
    }
  }
  return out;
}

function isExecutable(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) {
      return false;
    }
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  const exe = process.platform === "win32" ? `${name}.exe` : name;
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, exe))) {
      return path.join(dir, exe);
    }
  }
  return undefined;
}

/**
 * Where the server binary is: the `invariant.server.path` setting, then `invariant-lsp` on PATH,
 * then the binary bundled in the extension (`server/invariant-lsp` inside the .vsix).
 */
export function findServer(
  context: vscode.ExtensionContext,
  folder: vscode.WorkspaceFolder | undefined,
): { path?: string; tried: string[] } {
  const tried: string[] = [];
  const configured = vscode.workspace.getConfiguration("invariant", folder).get<string>("server.path", "");
  if (configured && configured.trim() !== "") {
    const p = expandPath(configured, folder);
    tried.push(`setting invariant.server.path: ${p}`);
    // An explicit setting is never silently replaced by something else.
    return isExecutable(p) ? { path: p, tried } : { tried };
  }
  const fromPath = onPath(SERVER_NAME);
  tried.push(`PATH: ${fromPath ?? "not found"}`);
  if (fromPath) {
    return { path: fromPath, tried };
  }
  const exe = process.platform === "win32" ? `${SERVER_NAME}.exe` : SERVER_NAME;
  const bundled = context.asAbsolutePath(path.join("server", exe));
  tried.push(`bundled: ${bundled}`);
  if (fs.existsSync(bundled)) {
    // Zip extraction does not always keep the executable bit.
    if (!isExecutable(bundled)) {
      try {
        fs.chmodSync(bundled, 0o755);
      } catch {
        /* reported below */
      }
    }
    if (isExecutable(bundled)) {
      return { path: bundled, tried };
    }
  }
  return { tried };
}

function initializationOptions(folder: vscode.WorkspaceFolder | undefined): Record<string, unknown> {
  const cfg = vscode.workspace.getConfiguration("invariant", folder);
  const opts: Record<string, unknown> = {};
  const models = cfg.get<string[]>("models", []);
  if (models.length > 0) {
    opts.models = models;
  }
  const severity = cfg.get<Record<string, string>>("severity", {});
  if (Object.keys(severity).length > 0) {
    opts.severity = severity;
  }
  opts.diagnosticsOn = cfg.get<string>("diagnostics.on", "type");
  opts.diagnosticMode = cfg.get<string>("diagnostics.mode", "auto");
  return opts;
}

async function startServer(context: vscode.ExtensionContext): Promise<void> {
  const folder = await guardedFolder();
  const found = findServer(context, folder);
  if (!found.path) {
    serverPath = undefined;
    setStatus("$(error) Invariant", "The invariant-lsp server was not found.\n" + found.tried.join("\n"));
    output.appendLine("invariant-lsp not found; tried:\n  " + found.tried.join("\n  "));
    void vscode.window
      .showErrorMessage(
        "Invariant: the invariant-lsp server was not found. Set `invariant.server.path` or put invariant-lsp on PATH.",
        "Open Settings",
      )
      .then((choice) => {
        if (choice) {
          void vscode.commands.executeCommand("workbench.action.openSettings", "invariant.server.path");
        }
      });
    return;
  }
  serverPath = found.path;
  const extraArgs = vscode.workspace.getConfiguration("invariant", folder).get<string[]>("server.extraArgs", []);
  const run = {
    command: found.path,
    // No `transport`: TransportKind.stdio would append `--stdio` to the arguments. Stdio is the default.
    args: ["lsp", ...extraArgs],
    options: { cwd: folder?.uri.fsPath },
  };
  const serverOptions: ServerOptions = { run, debug: run };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "go" },
      { scheme: "file", language: "yaml" },
    ],
    workspaceFolder: folder,
    initializationOptions: initializationOptions(folder),
    outputChannel: output,
    synchronize: {
      fileEvents: [
        vscode.workspace.createFileSystemWatcher("**/.invariant.yaml"),
        vscode.workspace.createFileSystemWatcher("**/*.go"),
        vscode.workspace.createFileSystemWatcher("**/*.{yaml,yml}"),
      ],
    },
  };
  client = new LanguageClient("invariant", "Invariant", serverOptions, clientOptions);
  client.onDidChangeState((e) => {
    if (e.newState === State.Starting) {
      setStatus("$(sync~spin) Invariant: starting", `Starting ${serverPath}`);
    } else if (e.newState === State.Stopped) {
      setStatus("$(debug-stop) Invariant: stopped", "The server is not running. Run “Invariant: Restart server”.");
    }
  });
  // Registered before start so that the first "indexing" status is not missed.
  client.onNotification("invariant/status", (params: StatusParams) => {
    lastStatus = params;
    renderStatus();
  });
  setStatus("$(sync~spin) Invariant: starting", `Starting ${serverPath}`);
  output.appendLine(`Starting ${found.path} lsp (${found.tried.join("; ")})`);
  try {
    await client.start();
  } catch (err) {
    setStatus("$(error) Invariant", `The server failed to start: ${String(err)}`);
    output.appendLine(`The server failed to start: ${String(err)}`);
    return;
  }
  if (!lastStatus) {
    setStatus("$(sync~spin) Invariant: indexing", `Server: ${serverPath}`);
  } else {
    renderStatus();
  }
}

async function stopServer(): Promise<void> {
  const c = client;
  client = undefined;
  lastStatus = undefined;
  if (c) {
    try {
      await c.stop(5000);
    } catch (err) {
      output.appendLine(`Stopping the server: ${String(err)}`);
    }
    try {
      await c.dispose();
    } catch {
      /* already stopped */
    }
  }
}

async function restartServer(context: vscode.ExtensionContext): Promise<void> {
  await stopServer();
  await startServer(context);
}

function renderStatus(): void {
  const s = lastStatus;
  if (!s) {
    return;
  }
  const model = s.model ?? "built-in model";
  const files = typeof s.files === "number" ? `${s.files} files` : "";
  const tooltip = new vscode.MarkdownString(
    `**Invariant** — ${s.state}\n\nModel in force: \`${model}\`\n\n` +
      (files ? `Files indexed: ${files.split(" ")[0]}\n\n` : "") +
      `Server: \`${serverPath ?? "?"}\``,
  );
  if (s.state === "indexing") {
    setStatus(`$(sync~spin) Invariant: indexing${files ? ` (${files})` : ""}`, tooltip);
  } else if (s.state === "ready") {
    setStatus(`$(shield) Invariant: ${model}`, tooltip);
  } else {
    setStatus(`$(info) Invariant: ${s.state}`, tooltip);
  }
}

function setStatus(text: string, tooltip: string | vscode.MarkdownString): void {
  statusItem.text = text;
  statusItem.tooltip = tooltip;
  statusItem.show();
}

function explainUri(code: string): vscode.Uri {
  return vscode.Uri.from({ scheme: EXPLAIN_SCHEME, path: `/${code}.md` });
}

function ruleFromExplainUri(uri: vscode.Uri): string {
  return uri.path.replace(/^\//, "").replace(/\.md$/, "");
}

function diagnosticCode(d: vscode.Diagnostic): string | undefined {
  const c = d.code;
  if (c === undefined) {
    return undefined;
  }
  if (typeof c === "object") {
    return String(c.value);
  }
  return String(c);
}

/** The rule code to explain: the argument, else the invariant diagnostic under the cursor, else ask. */
async function pickRule(arg: unknown): Promise<string | undefined> {
  if (typeof arg === "string" && arg.trim() !== "") {
    return arg.trim();
  }
  const editor = vscode.window.activeTextEditor;
  const ours: vscode.Diagnostic[] = editor
    ? vscode.languages.getDiagnostics(editor.document.uri).filter((d) => d.source === "invariant")
    : [];
  if (editor) {
    const pos = editor.selection.active;
    const here =
      ours.find((d) => d.range.contains(pos)) ?? ours.find((d) => d.range.start.line === pos.line);
    const code = here && diagnosticCode(here);
    if (code) {
      return code;
    }
  }
  const codes = [...new Set(ours.map(diagnosticCode).filter((c): c is string => !!c))];
  if (codes.length > 0) {
    const picked = await vscode.window.showQuickPick([...codes, "Another rule…"], {
      placeHolder: "Rule to explain",
    });
    if (picked !== "Another rule…") {
      return picked;
    }
  }
  return vscode.window.showInputBox({
    prompt: "Rule code or family to explain",
    placeHolder: "capi-boundary/provider-read",
  });
}

async function explainRule(arg: unknown): Promise<void> {
  const code = await pickRule(arg);
  if (!code) {
    return;
  }
  if (!client || !client.isRunning()) {
    void vscode.window.showErrorMessage("Invariant: the server is not running.");
    return;
  }
  let text: unknown;
  try {
    text = await client.sendRequest(ExecuteCommandRequest.type, {
      command: "invariant.explain",
      arguments: [code],
    });
  } catch (err) {
    void vscode.window.showErrorMessage(`Invariant: cannot explain ${code}: ${String(err)}`);
    return;
  }
  const markdown = typeof text === "string" ? text : JSON.stringify(text, null, 2);
  explanations.set(code, markdown);
  await showExplanation(code, markdown);
}

let explainPanel: vscode.WebviewPanel | undefined;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);
}

/** Renders the explanation (markdown) in a webview titled with the rule; falls back to a text document. */
async function showExplanation(code: string, markdown: string): Promise<void> {
  let html: string | undefined;
  try {
    html = await vscode.commands.executeCommand<string>("markdown.api.render", markdown);
  } catch {
    html = undefined;
  }
  if (typeof html !== "string") {
    const doc = await vscode.workspace.openTextDocument(explainUri(code));
    await vscode.languages.setTextDocumentLanguage(doc, "markdown");
    await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    return;
  }
  const title = `Rule ${code}`;
  if (!explainPanel) {
    explainPanel = vscode.window.createWebviewPanel(
      "invariant.explanation",
      title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
      { enableScripts: false, enableFindWidget: true },
    );
    explainPanel.onDidDispose(() => (explainPanel = undefined));
  } else {
    explainPanel.title = title;
    explainPanel.reveal(vscode.ViewColumn.Beside);
  }
  const csp = explainPanel.webview.cspSource;
  explainPanel.webview.html = `<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline' ${csp}; img-src ${csp} https: data:;">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); line-height: 1.55; padding: 0 24px 24px; max-width: 62em; }
code, pre { font-family: var(--vscode-editor-font-family); }
pre { background: var(--vscode-textCodeBlock-background); padding: 8px 12px; overflow-x: auto; }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--vscode-panel-border); padding: 2px 8px; }
</style></head>
<body class="invariant-explanation" data-rule="${escapeHtml(code)}">${html}</body></html>`;
}
