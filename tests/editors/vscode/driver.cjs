// Drives real VS Code (code-server) in headless Debian Chromium through playwright-core.
// Run by tests/editors/vscode/run.sh, which installs everything, starts code-server with the
// extension (.vsix) installed and passes: CODE_URL, WORKSPACE, ARTIFACTS.
// Steps: open the sample workspace, open capacity.go, see capi-boundary/provider-read in the
// Problems panel, hover the provider type and read the model's text, run "Invariant: Explain rule",
// apply the "Use the annotation bridge" quick fix, see the problem disappear, save and check disk.
// Exit status 0 when every step passed. Screenshots go to ARTIFACTS.
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const url = process.env.CODE_URL;
const workspace = process.env.WORKSPACE;
const artifacts = process.env.ARTIFACTS;
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const TIMEOUT = Number(process.env.STEP_TIMEOUT_MS || 60000);
const CODE = "capi-boundary/provider-read";
const FILE = "hypershift-operator/controllers/nodepool/capacity.go";
const t0 = Date.now();

const logLines = [];
function log(msg) {
  const line = `[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}`;
  logLines.push(line);
  process.stderr.write(line + "\n");
}
function ok(msg) {
  log("ok   " + msg);
}
class Fail extends Error {}
function check(cond, msg) {
  if (!cond) throw new Fail(msg);
  ok(msg);
}

let shot = 0;
async function screenshot(page, name) {
  shot += 1;
  const file = path.join(artifacts, `${String(shot).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file });
  log(`     screenshot ${file}`);
  return file;
}

/** Polls fn until it returns a truthy value or the timeout passes; returns the last value. */
async function until(fn, timeout = TIMEOUT, every = 200) {
  const end = Date.now() + timeout;
  let v;
  for (;;) {
    try {
      v = await fn();
    } catch (e) {
      v = undefined;
    }
    if (v || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, every));
  }
}

async function problemsText(page) {
  return page.evaluate(() => {
    const el = document.querySelector(".markers-panel");
    if (!el) return null;
    return Array.from(el.querySelectorAll(".monaco-list-row"))
      .map((r) => r.innerText.replace(/\s+/g, " ").trim())
      .join("\n");
  });
}

/** Filters the Problems panel (it lists the whole workspace; its list renders visible rows only). */
async function filterProblems(page, text) {
  const input = page.getByPlaceholder(/^Filter \(e\.g\./).first();
  await input.waitFor({ state: "visible", timeout: TIMEOUT });
  await input.fill(text);
  await page.waitForTimeout(700);
}

async function statusText(page) {
  return page.evaluate(() => {
    const el = Array.from(document.querySelectorAll(".statusbar-item")).find((e) => /invariant\.status$/.test(e.id));
    return el ? `${el.innerText.trim()} | ${el.getAttribute("aria-label") || ""}` : null;
  });
}

/** Screen coordinates of the middle of `word` (exact, case-sensitive) on editor line `line` (1-based). */
async function wordBox(page, line, word) {
  return page.evaluate(
    ({ line, word }) => {
      const editor = document.querySelector(".editor-instance .monaco-editor") || document.querySelector(".monaco-editor");
      const lines = Array.from(editor.querySelectorAll(".view-lines .view-line"));
      const numbers = Array.from(editor.querySelectorAll(".margin-view-overlays .line-numbers"));
      const num = numbers.find((n) => n.textContent.trim() === String(line));
      if (!num) return null;
      const top = num.getBoundingClientRect().top;
      const row = lines.find((l) => Math.abs(l.getBoundingClientRect().top - top) < 3);
      if (!row) return null;
      const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const i = n.textContent.indexOf(word);
        if (i >= 0) {
          const range = document.createRange();
          range.setStart(n, i);
          range.setEnd(n, i + word.length);
          const r = range.getBoundingClientRect();
          return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
        }
      }
      return null;
    },
    { line, word },
  );
}

async function runCommand(page, title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: TIMEOUT });
  await input.fill(">" + title);
  const row = page.locator(".quick-input-widget .monaco-list-row", { hasText: title }).first();
  await row.waitFor({ state: "visible", timeout: TIMEOUT });
  await page.waitForTimeout(200);
  await row.click();
}

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 860 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => log(`     page error: ${String(e).slice(0, 200)}`));
  try {
    await steps(page);
  } catch (e) {
    try {
      await screenshot(page, "failure");
      log("     problems at failure:\n" + (await problemsText(page)));
      log("     status at failure: " + (await statusText(page)));
    } catch (_) {
      /* the page may be gone */
    }
    throw e;
  } finally {
    fs.writeFileSync(path.join(artifacts, "driver.log"), logLines.join("\n") + "\n");
    await browser.close();
  }
}

async function steps(page) {
  // 1. Open the sample workspace.
  await page.goto(`${url}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator(".monaco-workbench").waitFor({ timeout: TIMEOUT });
  await page.locator(".explorer-folders-view .monaco-list-row").first().waitFor({ timeout: TIMEOUT });
  ok("the workbench shows the sample workspace");

  // 2. Open the file with the CAPI-boundary violation (Quick Open, else the explorer).
  await page.keyboard.press("Control+P");
  const qi = page.locator(".quick-input-widget input");
  let opened = false;
  if (await qi.isVisible({ timeout: 5000 }).catch(() => false)) {
    await qi.fill("capacity.go");
    const row = page.locator(".quick-input-widget .monaco-list-row", { hasText: "capacity.go" }).first();
    await row.waitFor({ timeout: TIMEOUT });
    await page.keyboard.press("Enter");
    opened = await until(() => page.locator(".tab.active", { hasText: "capacity.go" }).isVisible(), 10000);
  }
  if (!opened) {
    log("     Quick Open did not open the file: using the explorer");
    await page.keyboard.press("Escape");
    for (const name of FILE.split("/")) {
      await page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`).first().click();
      await page.waitForTimeout(300);
    }
  }
  await page.locator(".tab.active", { hasText: "capacity.go" }).waitFor({ timeout: TIMEOUT });
  await page.locator(".view-lines .view-line").first().waitFor({ timeout: TIMEOUT });
  ok("capacity.go is open in an editor");

  // 3. The problem appears in the Problems panel.
  await page.keyboard.press("Control+Shift+M");
  await page.locator(".markers-panel").waitFor({ timeout: TIMEOUT });
  // A file never opened: its findings reach the Problems panel too.
  await filterProblems(page, "deployment.go");
  const unopened = await until(async () => {
    const t = await problemsText(page);
    return t && t.includes("deployment.go") && t.includes("adapt-purity/clock") ? t : null;
  });
  check(unopened, "the Problems panel lists adapt-purity/clock in deployment.go, which was never opened");
  await screenshot(page, "problems-unopened");
  await filterProblems(page, "capacity.go");
  const problems = await until(async () => {
    const t = await problemsText(page);
    return t && t.includes(CODE) ? t : null;
  });
  check(problems, `the Problems panel lists ${CODE}`);
  log("     problems:\n" + problems.replace(/^/gm, "       | "));
  check(
    problems.includes("condition-naming/reason-literal") && !problems.includes("condition-naming/message-list"),
    "the invariant.severity setting reached the server (message-list is off, reason-literal is not)",
  );
  const status = await until(async () => {
    const s = await statusText(page);
    return s && !/starting|indexing|error|stopped/i.test(s.split("|")[0]) ? s : null;
  }, 15000);
  log("     status bar: " + (await statusText(page)));
  check(status, "the status bar shows the model in force (indexing done)");
  await screenshot(page, "problems");

  // 4. Hover the provider type: the model's text.
  const box = await until(() => wordBox(page, 23, "AzureMachine"));
  check(box, "AzureMachine is found on line 23");
  await page.mouse.move(box.x - 30, box.y - 40);
  await page.mouse.move(box.x, box.y, { steps: 5 });
  const hoverSel = ".monaco-editor .monaco-hover:not(.hidden)";
  const hover = await until(async () => {
    const t = await page.locator(hoverSel).first().innerText({ timeout: 1000 });
    return t && /Azure/.test(t) && /Machine/.test(t) && t.length > 40 ? t : null;
  });
  check(hover, "the hover shows text about the provider type");
  log("     hover:\n" + hover.replace(/^/gm, "       | "));
  const mdHover = await page
    .locator(`${hoverSel} .hover-row.markdown-hover, ${hoverSel} .markdown-hover`)
    .allInnerTexts()
    .catch(() => []);
  check(
    mdHover.some((t) => t.includes("Azure") && t.includes("Machine")),
    "the markdown hover (from the server, not only the problem) mentions Azure and Machine",
  );
  check(
    mdHover.some((t) => t.includes("reconcileMachineDeploymentStatus") && t.includes("SetMirrorCondition")),
    "the hover shows the domain flow provider Machine → Machine → MachineDeployment → NodePool",
  );
  await screenshot(page, "hover");
  await page.mouse.move(5, 400);
  await page.keyboard.press("Escape");

  // 4b. Go to Definition on the provider kind opens the model entry (built-in model, read-only).
  await page.mouse.click(box.x, box.y);
  await page.keyboard.press("Escape");
  await page.keyboard.press("F12");
  const modelTab = await until(() => page.locator(".tab.active", { hasText: "hypershift-data-plane.yaml" }).isVisible());
  check(modelTab, "Go to Definition opens hypershift-data-plane.yaml");
  const entry = await until(async () => {
    const t = await page.evaluate(() => {
      const ed = document.querySelector(".editor-instance .monaco-editor") || document.querySelector(".monaco-editor");
      return ed ? ed.querySelector(".view-lines").innerText.replace(/\u00a0/g, " ") : "";
    });
    return t && t.includes("id: azure") ? t : null;
  });
  check(entry, "the model entry `- id: azure` is in view");
  await screenshot(page, "definition");
  await page.keyboard.press("Control+W");
  await page.locator(".tab.active", { hasText: "capacity.go" }).waitFor({ timeout: TIMEOUT });

  // 4c. A workspace symbol for a lifecycle state.
  await page.keyboard.press("Control+T");
  const symbolInput = page.locator(".quick-input-widget input");
  await symbolInput.waitFor({ state: "visible", timeout: TIMEOUT });
  await symbolInput.fill("#Upgrading");
  const symbolRow = await until(async () => {
    const rows = await page.locator(".quick-input-widget .monaco-list-row").allInnerTexts();
    return rows.find((r) => r.includes("Upgrading") && r.includes("lifecycle state")) || null;
  });
  check(symbolRow, "Go to Symbol in Workspace finds the lifecycle state Upgrading");
  await page.keyboard.press("Escape");

  // 5. "Invariant: Explain rule" with the cursor on the diagnostic opens the explanation.
  await page.mouse.click(box.x, box.y);
  await page.keyboard.press("Escape");
  await runCommand(page, "Invariant: Explain rule");
  const explainTab = page.locator(".tab", { hasText: `Rule ${CODE}` }).first();
  await explainTab.waitFor({ timeout: TIMEOUT });
  ok(`Explain rule opens a tab "Rule ${CODE}"`);
  const explained = await until(async () => {
    for (const f of page.frames()) {
      if (f === page.mainFrame()) continue;
      const t = await f
        .evaluate(() => {
          const b = document.querySelector("body.invariant-explanation");
          return b ? b.innerText : "";
        })
        .catch(() => "");
      if (t && t.includes(CODE) && /annotation bridge/i.test(t)) return t;
    }
    return null;
  }, 20000);
  check(explained, "the explanation (from the server) is rendered in the webview");
  log("     explanation starts: " + explained.slice(0, 160).replace(/\s+/g, " "));
  await screenshot(page, "explain");
  await page.keyboard.press("Control+W");
  await page.waitForTimeout(300);
  // Back to capacity.go.
  await page.locator(".tab", { hasText: "capacity.go" }).first().click();
  await page.waitForTimeout(300);

  // 6. The annotation-bridge quick fix. (VS Code saves files a refactoring touched that were not
  // open: files.refactoring.autoSave. Step 8 saves the rest.)
  const azurePath = path.join(workspace, "hypershift-operator/controllers/nodepool/azure.go");
  const capacityPath = path.join(workspace, FILE);
  const azureBefore = fs.readFileSync(azurePath, "utf8");
  const capacityBefore = fs.readFileSync(capacityPath, "utf8");
  const box2 = await until(() => wordBox(page, 23, "AzureMachine"));
  await page.mouse.click(box2.x, box2.y);
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+Period");
  const rows = page.locator(".action-widget .monaco-list-row");
  await rows.filter({ hasText: "Use the annotation bridge" }).first().waitFor({ state: "visible", timeout: TIMEOUT });
  const actions = await rows.allInnerTexts();
  log("     quick fixes: " + actions.map((a) => a.replace(/\s+/g, " ").trim()).join(" | "));
  check(actions.some((a) => /Suppress/.test(a)), 'a "Suppress with a reason" quick fix is offered too');
  await screenshot(page, "quickfix");
  // Keyboard, as a user would (a pointer block covers the widget for mouse clicks in headless mode).
  let focused = "";
  for (let i = 0; i < actions.length + 2; i++) {
    focused = await page
      .locator(".action-widget .monaco-list-row.focused")
      .first()
      .getAttribute("aria-label")
      .catch(() => "");
    if (focused === "Use the annotation bridge") break;
    await page.keyboard.press("ArrowDown");
    await page.waitForTimeout(100);
  }
  check(focused === "Use the annotation bridge", "the quick fix is selected in the menu");
  await page.keyboard.press("Enter");
  ok('applied "Use the annotation bridge"');

  // 7. The problem disappears (the panel lists the whole workspace: look at capacity.go's rows).
  await filterProblems(page, "capacity.go");
  const after = await until(async () => {
    const t = await problemsText(page);
    return t !== null && !t.includes(CODE) ? t : null;
  });
  check(after !== undefined && after !== null, `${CODE} is gone from the Problems panel`);
  await page.waitForTimeout(1500);
  const later = await problemsText(page);
  check(later !== null && !later.includes(CODE), "and stays gone");
  log("     problems after the fix:\n" + later.replace(/^/gm, "       | "));
  check(/condition-naming/.test(later), "the other findings are still listed (the server republished)");
  await page.mouse.move(5, 400);
  await screenshot(page, "fixed");

  // 7b. Fix All (source.fixAll) applies only the fixes that need no choice (those of
  // `check --fix`): a reason constant needs a person, so the reason literal stays reported.
  await runCommand(page, "Fix All");
  await filterProblems(page, "capacity.go");
  const keptLiteral = await until(async () => {
    const t = await problemsText(page);
    return t !== null && /invariant\W*condition-naming\/reason-literal\W*\[Ln/.test(t) ? t : null;
  });
  check(keptLiteral, "Fix All left condition-naming/reason-literal in capacity.go to a person");

  // 8. Save everything; both files are changed on disk.
  await runCommand(page, "File: Save All");
  const saved = await until(
    () => fs.readFileSync(azurePath, "utf8") !== azureBefore && fs.readFileSync(capacityPath, "utf8") !== capacityBefore,
    20000,
  );
  log(
    `     on disk: capacity.go ${fs.readFileSync(capacityPath, "utf8") !== capacityBefore ? "changed" : "unchanged"}, ` +
      `azure.go ${fs.readFileSync(azurePath, "utf8") !== azureBefore ? "changed" : "unchanged"}; dirty tabs: ` +
      (await page.locator(".tab.dirty").allInnerTexts()).join(", "),
  );
  check(saved, "after Save All, capacity.go and azure.go are changed on disk");
  fs.copyFileSync(capacityPath, path.join(artifacts, "capacity.go.after"));
  fs.copyFileSync(azurePath, path.join(artifacts, "azure.go.after"));
  log("PASS: VS Code end-to-end test");
}

main().then(
  () => process.exit(0),
  (e) => {
    log(e instanceof Fail ? `FAIL: ${e.message}` : `FAIL: ${e && e.stack ? e.stack : e}`);
    try {
      fs.writeFileSync(path.join(artifacts, "driver.log"), logLines.join("\n") + "\n");
    } catch (_) {
      /* ignore */
    }
    process.exit(1);
  },
);
