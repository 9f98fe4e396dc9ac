-- End-to-end test of editors/nvim in real headless Neovim (run by tests/editors/nvim/run.sh):
--   nvim --headless -u tests/editors/nvim/init.lua hypershift-operator/controllers/nodepool/capacity.go
-- in a temporary copy of tests/sample-workspace. Environment: INVARIANT_REPO (the repository),
-- INVARIANT_LSP (the server binary), INVARIANT_ARTIFACTS (where to write the log).
-- Exit status 0: every step passed; 1: a step failed (the reason is on stderr and in the log).

local repo = assert(os.getenv("INVARIANT_REPO"), "INVARIANT_REPO is not set")
local bin = assert(os.getenv("INVARIANT_LSP"), "INVARIANT_LSP is not set")
local artifacts = os.getenv("INVARIANT_ARTIFACTS") or "."
local TIMEOUT = tonumber(os.getenv("INVARIANT_NVIM_TIMEOUT_MS") or "") or 30000

vim.opt.runtimepath:prepend(repo .. "/editors/nvim")
vim.opt.swapfile = false
vim.opt.shadafile = "NONE"
vim.cmd("filetype on")
vim.lsp.set_log_level("warn")

local logfile = assert(io.open(artifacts .. "/" .. (os.getenv("INVARIANT_NVIM_LOG") or "nvim-test.log"), "w"))
local function log(...)
  local line = table.concat(vim.tbl_map(tostring, { ... }), " ")
  io.stderr:write(line .. "\n")
  logfile:write(line .. "\n")
  logfile:flush()
end

local failed = false
local function check(cond, msg)
  if not cond then
    error("FAIL: " .. msg, 0)
  end
  log("ok   " .. msg)
end

-- A severity override, to check that options reach the server as initializationOptions.
-- INVARIANT_NVIM_LEGACY=1: the Neovim 0.10 code path (vim.lsp.start from FileType) on this 0.11.
local legacy = os.getenv("INVARIANT_NVIM_LEGACY") == "1"
require("invariant").setup({
  cmd = { bin, "lsp" },
  severity = { ["condition-naming/message-list"] = "hint" },
  use_lsp_config = not legacy,
})

local function text_of(contents)
  -- MarkupContent | MarkedString | MarkedString[]
  if type(contents) == "string" then
    return contents
  end
  if contents.value then
    return contents.value
  end
  local parts = {}
  for _, c in ipairs(contents) do
    table.insert(parts, type(c) == "string" and c or c.value or "")
  end
  return table.concat(parts, "\n")
end

local function invariant_diags(buf, code)
  return vim.tbl_filter(function(d)
    return d.source == "invariant" and (code == nil or d.code == code)
  end, vim.diagnostic.get(buf))
end

local function request_sync(client, method, params, buf)
  local resp, err
  if vim.fn.has("nvim-0.11") == 1 then
    resp, err = client:request_sync(method, params, TIMEOUT, buf)
  else
    resp, err = client.request_sync(method, params, TIMEOUT, buf)
  end
  check(resp ~= nil, method .. " answered (" .. tostring(err) .. ")")
  check(resp.err == nil, method .. " without error: " .. vim.inspect(resp.err))
  return resp.result
end

local function main()
  local inv = require("invariant")
  local buf = vim.api.nvim_get_current_buf()
  local path = vim.api.nvim_buf_get_name(buf)
  log("file: " .. path .. (legacy and "  (vim.lsp.start path)" or "  (vim.lsp.config path)"))
  if not legacy then
    check(vim.lsp.config.invariant ~= nil, "registered with vim.lsp.config")
  end
  check(vim.bo[buf].filetype == "go", "the sample file has filetype go")
  check(vim.fn.exists(":InvariantExplain") == 2, ":InvariantExplain is defined by plugin/invariant.lua")

  -- 1. The server starts and attaches under the root found by .invariant.yaml.
  check(vim.wait(TIMEOUT, function()
    return #inv.clients(buf) > 0
  end, 20), "an invariant client attaches to the buffer")
  local client = inv.clients(buf)[1]
  log("     root: " .. tostring(client.config.root_dir) .. "  encoding: " .. client.offset_encoding)
  check(vim.fn.filereadable(client.config.root_dir .. "/.invariant.yaml") == 1, "the root holds .invariant.yaml")

  -- 2. The CAPI-boundary diagnostic arrives.
  local t0 = vim.uv.hrtime()
  check(vim.wait(TIMEOUT, function()
    return #invariant_diags(buf, "capi-boundary/provider-read") > 0
  end, 20), "diagnostic capi-boundary/provider-read is published")
  log(("     after %.0f ms"):format((vim.uv.hrtime() - t0) / 1e6))
  for _, d in ipairs(invariant_diags(buf)) do
    log(("     %d:%d %s %s"):format(d.lnum + 1, d.col + 1, d.code, d.message))
  end
  local ml = invariant_diags(buf, "condition-naming/message-list")[1]
  check(ml ~= nil and ml.severity == vim.diagnostic.severity.HINT,
    "the severity option reached the server (message-list is a hint)")
  local diag = invariant_diags(buf, "capi-boundary/provider-read")[1]
  check(diag.lnum == 22, "it is on line 23 (got " .. (diag.lnum + 1) .. ")")

  -- 3. Status notification (invariant/status) reaches the plugin.
  vim.wait(5000, function()
    local s = inv.state[client.id]
    return s ~= nil and s.state == "ready"
  end, 20)
  local st = inv.state[client.id]
  check(st ~= nil and st.state == "ready", "invariant/status reports ready: " .. vim.inspect(st))
  log("     statusline: " .. inv.status(buf))

  -- 4. Hover on the provider type reads the model's text.
  local line = vim.api.nvim_buf_get_lines(buf, 22, 23, false)[1]
  local s = line:find("capiazure.AzureMachine", 1, true)
  check(s ~= nil, "line 23 holds capiazure.AzureMachine")
  local col = s - 1 + #"capiazure." + 2
  vim.api.nvim_win_set_cursor(0, { 23, col })
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local hover = request_sync(client, "textDocument/hover", params, buf)
  check(hover ~= nil and hover.contents ~= nil, "hover has contents")
  local htext = text_of(hover.contents)
  log("     hover:\n" .. htext:gsub("^", "       | "):gsub("\n", "\n       | "))
  check(htext:find("Azure", 1, true) ~= nil, "hover mentions Azure")
  check(htext:find("Machine", 1, true) ~= nil, "hover mentions the generic Machine")

  -- The standard mapping (K = vim.lsp.buf.hover) opens a float with that text.
  vim.lsp.buf.hover()
  local float
  vim.wait(TIMEOUT, function()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(w).relative ~= "" then
        float = w
        return true
      end
    end
    return false
  end, 20)
  check(float ~= nil, "vim.lsp.buf.hover() opens a floating window")
  local ftext = table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(float), 0, -1, false), "\n")
  check(ftext:find("Azure", 1, true) ~= nil, "the hover float shows the model's text")
  vim.api.nvim_win_close(float, true)

  -- 4b. The domain flow on the provider Machine kind (provider Machine → ... → NodePool condition).
  check(htext:find("reconcileMachineDeploymentStatus", 1, true) ~= nil, "hover shows the domain flow to the NodePool")
  check(htext:find("SetMirrorCondition", 1, true) ~= nil, "the flow names the Machine step's function")

  -- 4c. The usual diagnostic display (setup's `diagnostics` option): virtual text in the namespace.
  local ns = vim.lsp.diagnostic.get_namespace(client.id, false)
  check(vim.diagnostic.config(nil, ns).virtual_text ~= false, "virtual text is on for invariant's findings")

  -- 4d. A finding in a file never opened reaches the quickfix list (the server pushes the workspace).
  check(vim.wait(TIMEOUT, function()
    for _, d in ipairs(vim.diagnostic.get(nil)) do
      if d.code == "adapt-purity/clock" then
        return true
      end
    end
    return false
  end, 20), "a finding of the unopened deployment.go is known to Neovim")
  vim.diagnostic.setqflist({ open = false })
  local qf_found = false
  for _, item in ipairs(vim.fn.getqflist()) do
    local name = vim.api.nvim_buf_get_name(item.bufnr)
    if name:find("ingress/deployment.go", 1, true) and item.text:find("clock", 1, true) then
      qf_found = true
    end
  end
  check(qf_found, "the quickfix list holds the clock finding of deployment.go (never opened)")

  -- 4e. Go to definition from the provider kind lands on the model entry (built-in model, read-only).
  local def = request_sync(client, "textDocument/definition", params, buf)
  local loc = def and (def.uri and def or def[1])
  check(loc ~= nil and loc.uri:find("^invariant%-model:") ~= nil, "definition points into the built-in model")
  local model_buf = vim.uri_to_bufnr(loc.uri)
  vim.fn.bufload(model_buf)
  log("     model buffer: " .. vim.api.nvim_buf_line_count(model_buf) .. " lines; first: "
    .. (vim.api.nvim_buf_get_lines(model_buf, 0, 1, false)[1] or ""))
  vim.lsp.util.show_document(loc, client.offset_encoding, { focus = true })
  local mbuf = vim.api.nvim_get_current_buf()
  local mline = vim.api.nvim_get_current_line()
  log("     definition: " .. vim.api.nvim_buf_get_name(mbuf) .. " : " .. mline)
  check(vim.trim(mline) == "- id: azure", "the cursor is on the azure provider entry")
  check(vim.bo[mbuf].readonly and not vim.bo[mbuf].modifiable, "the built-in model is read-only")
  vim.api.nvim_set_current_buf(buf)
  vim.api.nvim_win_set_cursor(0, { 23, col })

  -- 4f. A workspace symbol for a lifecycle state.
  local symbols = request_sync(client, "workspace/symbol", { query = "Upgrading" }, buf) or {}
  local state_symbol
  for _, sym in ipairs(symbols) do
    if sym.name == "Upgrading" and sym.containerName == "lifecycle state" then
      state_symbol = sym
    end
  end
  check(state_symbol ~= nil, "workspace/symbol finds the lifecycle state Upgrading")

  -- 5. :InvariantExplain (no argument: the diagnostic under the cursor) shows the explanation.
  local src_win = vim.api.nvim_get_current_win()
  vim.cmd("InvariantExplain")
  local ebuf
  vim.wait(TIMEOUT, function()
    ebuf = vim.fn.bufnr("invariant://explain/capi-boundary/provider-read")
    return ebuf ~= -1
  end, 20)
  check(ebuf ~= -1, ":InvariantExplain opens the explanation of capi-boundary/provider-read")
  local etext = table.concat(vim.api.nvim_buf_get_lines(ebuf, 0, -1, false), "\n")
  log("     explanation: " .. #etext .. " characters; first line: " .. (etext:match("[^\n]*") or ""))
  check(#etext > 40, "the explanation has text")
  check(vim.bo[ebuf].filetype == "markdown", "the explanation is shown as markdown")
  vim.api.nvim_win_close(vim.fn.bufwinid(ebuf), true)
  vim.api.nvim_set_current_win(src_win)

  -- 6. The annotation-bridge quick fix, applied through vim.lsp.util.apply_workspace_edit.
  local lsp_diag = diag.user_data and diag.user_data.lsp
  check(lsp_diag ~= nil, "the diagnostic keeps its LSP form")
  local actions = request_sync(client, "textDocument/codeAction", {
    textDocument = vim.lsp.util.make_text_document_params(buf),
    range = lsp_diag.range,
    context = { diagnostics = { lsp_diag }, only = { "quickfix" }, triggerKind = 1 },
  }, buf) or {}
  local titles, bridge, suppress = {}, nil, nil
  for _, a in ipairs(actions) do
    table.insert(titles, a.title)
    if a.title == "Use the annotation bridge" then
      bridge = a
    elseif a.title:find("^Suppress") then
      suppress = a
    end
  end
  log("     code actions: " .. table.concat(titles, " | "))
  check(bridge ~= nil, 'a code action titled "Use the annotation bridge" is offered')
  check(suppress ~= nil, 'a "Suppress with a reason" code action is offered')
  if bridge.edit == nil and bridge.command == nil then
    bridge = request_sync(client, "codeAction/resolve", bridge, buf)
  end
  check(bridge.edit ~= nil, "the quick fix carries a WorkspaceEdit")
  local before = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
  vim.lsp.util.apply_workspace_edit(bridge.edit, client.offset_encoding)
  if bridge.command then
    request_sync(client, "workspace/executeCommand", bridge.command, buf)
  end
  local after = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
  check(after ~= before, "the edit changed capacity.go")
  local azure = vim.fn.bufnr(vim.fs.joinpath(client.config.root_dir, "hypershift-operator/controllers/nodepool/azure.go"))
  check(azure ~= -1 and vim.bo[azure].modified, "the edit changed azure.go (adds a writer)")

  -- 7. The provider-read diagnostic disappears; the others stay (the server republished).
  check(vim.wait(TIMEOUT, function()
    return #invariant_diags(buf, "capi-boundary/provider-read") == 0
  end, 20), "capi-boundary/provider-read is gone after the fix")
  vim.wait(1000, function()
    return false
  end, 50) -- let any late publication arrive: it must not bring the diagnostic back
  check(#invariant_diags(buf, "capi-boundary/provider-read") == 0, "and stays gone")
  log("     remaining: " .. table.concat(vim.tbl_map(function(d)
    return d.code
  end, invariant_diags(buf)), ", "))
  check(#invariant_diags(buf) > 0, "the other findings in capacity.go are still reported")
  for _, d in ipairs(invariant_diags(azure)) do
    check(d.code ~= "capi-boundary/provider-read", "azure.go has no provider-read finding")
  end

  -- 8. Fix-all (source.fixAll) applies only the fixes that need no choice (those of
  -- `check --fix`): a reason constant needs a person, so the literal stays.
  check(table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n"):find('"capacity_error"', 1, true) ~= nil,
    "capacity.go holds the reason literal before fix-all")
  local fix_all = vim.lsp.buf_request_sync(buf, "textDocument/codeAction", {
    textDocument = vim.lsp.util.make_text_document_params(buf),
    range = { start = { line = 0, character = 0 }, ["end"] = { line = 0, character = 0 } },
    context = { only = { "source.fixAll" }, diagnostics = {} },
  }, TIMEOUT)
  local offered = 0
  for _, reply in pairs(fix_all or {}) do
    check(reply.err == nil, "source.fixAll answered without error")
    offered = offered + #(reply.result or {})
  end
  check(fix_all ~= nil and offered == 0, "fix-all offers nothing where every fix needs a choice")
  check(table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n"):find('"capacity_error"', 1, true) ~= nil,
    "the reason literal is left to a person")
  after = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")

  -- Save, so the artifacts show the edited files.
  vim.cmd("silent wall")
  local out = assert(io.open(artifacts .. "/capacity.go.after" .. (legacy and ".legacy" or ""), "w"))
  out:write(after .. "\n")
  out:close()
  log("PASS: neovim end-to-end test")
end

vim.api.nvim_create_autocmd("VimEnter", {
  once = true,
  -- Scheduled out of the autocommand, so that the autocommands the steps trigger (BufReadCmd of
  -- the built-in model) run as they do when a user types.
  callback = function() vim.schedule(function()
    local ok, err = xpcall(main, function(e)
      return tostring(e):find("^FAIL: ") and tostring(e) or debug.traceback(tostring(e), 2)
    end)
    if not ok then
      failed = true
      log(err)
      log("lsp log: " .. vim.lsp.get_log_path())
    end
    logfile:close()
    for _, c in ipairs(require("invariant").clients()) do
      c:stop()
    end
    vim.wait(2000, function()
      return #require("invariant").clients() == 0
    end, 20)
    vim.cmd(failed and "cquit 1" or "qall!")
  end) end,
})
