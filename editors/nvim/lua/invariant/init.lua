-- invariant-lsp client for Neovim >= 0.10 (uses vim.lsp.config / vim.lsp.enable on 0.11+).
--
--   require("invariant").setup({ cmd = { "/path/to/invariant-lsp", "lsp" } })
--
-- Every option is optional; see :help invariant.
local M = {}

local NAME = "invariant"

---@class invariant.Options
---@field cmd? string[]                   server command (default { "invariant-lsp", "lsp" } from PATH)
---@field filetypes? string[]             default { "go", "yaml" }
---@field root_markers? string[]          searched upwards in this order (default { ".invariant.yaml", "go.mod", ".git" })
---@field models? string[]                domain-model files relative to the root (initializationOptions.models)
---@field severity? table<string,string>  rule or family -> off|hint|info|warning|error (initializationOptions.severity)
---@field init_options? table             merged over the two above
---@field capabilities? table             client capabilities (default: Neovim's)
---@field on_attach? fun(client: table, bufnr: integer)
---@field handlers? table<string, function>
---@field use_lsp_config? boolean       false: use vim.lsp.start from a FileType autocommand even on 0.11
---@field diagnostics? table|false       display of invariant's findings, given to vim.diagnostic.config for
---                                     its namespaces (default: virtual text, signs, underline, rounded float);
---                                     false: leave Neovim's display as it is
---@field float_on_hold? boolean        open the finding's float when the cursor rests on it (default false)
---@field border? string                border of hover and diagnostic floats (default "rounded")
---@field diagnostics_on? string        "type" (default) or "save": when findings update (initializationOptions.diagnosticsOn)

M.defaults = {
  cmd = { "invariant-lsp", "lsp" },
  filetypes = { "go", "yaml" },
  root_markers = { ".invariant.yaml", "go.mod", ".git" },
  border = "rounded",
  float_on_hold = false,
  diagnostics = {
    virtual_text = { source = "if_many", spacing = 2 },
    signs = true,
    underline = true,
    severity_sort = true,
    float = { source = true },
  },
}

--- The built-in model, read-only, from the server (go-to-definition lands there).
M.MODEL_SCHEME = "invariant-model"

---@type invariant.Options
M.options = vim.deepcopy(M.defaults)

--- Last `invariant/status` notification per client id: { state = "indexing"|"ready", model = ..., files = ... }
M.state = {}

local has_011 = vim.fn.has("nvim-0.11") == 1

local function notify(msg, level)
  vim.notify("invariant: " .. msg, level or vim.log.levels.INFO)
end

--- Root directory for a buffer: the nearest ancestor with the first marker, else the next marker...
---@param bufnr integer
---@return string|nil
function M.root_dir(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" or name:match("^%a[%w+.-]*://") or name:match("^" .. M.MODEL_SCHEME .. ":") then
    return nil
  end
  for _, marker in ipairs(M.options.root_markers) do
    local root = vim.fs.root(bufnr, marker)
    if root then
      return root
    end
  end
  return nil
end

local function init_options()
  local o = {}
  if M.options.models then
    o.models = M.options.models
  end
  if M.options.severity then
    o.severity = M.options.severity
  end
  if M.options.diagnostics_on then
    o.diagnosticsOn = M.options.diagnostics_on
  end
  return vim.tbl_deep_extend("force", o, M.options.init_options or {})
end

local function on_status(err, params, ctx)
  if err or type(params) ~= "table" then
    return
  end
  M.state[ctx.client_id] = params
  vim.api.nvim_exec_autocmds("User", { pattern = "InvariantStatus", modeline = false, data = params })
  if params.state == "ready" then
    vim.cmd.redrawstatus({ bang = true })
  end
end

--- A short text for a statusline, e.g. "invariant: indexing (12 files)" or "invariant: hypershift-data-plane".
---@param bufnr? integer
---@return string
function M.status(bufnr)
  for _, client in ipairs(M.clients(bufnr)) do
    local s = M.state[client.id]
    if s then
      if s.state == "indexing" then
        return ("invariant: indexing%s"):format(s.files and (" (" .. s.files .. " files)") or "")
      end
      return "invariant: " .. (s.model or s.state or "ready")
    end
    return "invariant: starting"
  end
  return ""
end

--- The invariant clients attached to a buffer (all of them when bufnr is nil).
---@param bufnr? integer
function M.clients(bufnr)
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  return get({ name = NAME, bufnr = bufnr })
end

--- The usual diagnostic display for invariant's namespaces (push and pull), hover borders, and
--- an optional float when the cursor rests on a finding.
local function on_attach(client, bufnr)
  local o = M.options
  if o.diagnostics then
    local display = vim.deepcopy(o.diagnostics)
    if type(display.float) == "table" then
      display.float.border = display.float.border or o.border
    end
    vim.diagnostic.config(display, vim.lsp.diagnostic.get_namespace(client.id, false))
    vim.diagnostic.config(display, vim.lsp.diagnostic.get_namespace(client.id, true))
  end
  vim.keymap.set("n", "K", function()
    if has_011 then
      vim.lsp.buf.hover({ border = o.border })
    else
      vim.lsp.buf.hover()
    end
  end, { buffer = bufnr, desc = "Hover (invariant: the domain model)" })
  if o.float_on_hold then
    vim.api.nvim_create_autocmd("CursorHold", {
      buffer = bufnr,
      callback = function()
        vim.diagnostic.open_float({ scope = "cursor", focus = false, border = o.border })
      end,
    })
  end
  if o.on_attach then
    o.on_attach(client, bufnr)
  end
end

local function config()
  local handlers = vim.tbl_extend("force", { ["invariant/status"] = on_status }, M.options.handlers or {})
  if not has_011 and M.options.border then
    handlers["textDocument/hover"] = handlers["textDocument/hover"]
      or vim.lsp.with(vim.lsp.handlers.hover, { border = M.options.border })
  end
  return {
    name = NAME,
    cmd = M.options.cmd,
    filetypes = M.options.filetypes,
    init_options = init_options(),
    capabilities = M.options.capabilities,
    on_attach = on_attach,
    handlers = handlers,
  }
end

--- `invariant-model:` buffers: the built-in model's text from a running server, read-only.
local function read_model_buffer(args)
  local buf = args.buf
  local client = M.clients()[1]
  local lines = { "# invariant-lsp is not running: the built-in model cannot be shown." }
  if client then
    local params = { uri = args.match }
    local response, err
    if has_011 then
      response, err = client:request_sync("invariant/modelSource", params, 5000, buf)
    else
      response, err = client.request_sync("invariant/modelSource", params, 5000, buf)
    end
    if response and response.result and response.result.text then
      lines = vim.split(response.result.text, "\n", { plain = true })
    else
      lines = { "# the built-in model could not be read: " .. vim.inspect(err or (response and response.err)) }
    end
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].readonly = true
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].swapfile = false
  vim.bo[buf].filetype = "yaml"
end

local augroup

--- Start (or reuse) the client for a buffer: the path for Neovim 0.10, without vim.lsp.config.
local function start_010(bufnr)
  local root = M.root_dir(bufnr)
  if not root then
    return
  end
  local cfg = config()
  cfg.root_dir = root
  cfg.workspace_folders = { { uri = vim.uri_from_fname(root), name = root } }
  cfg.filetypes = nil
  vim.lsp.start(cfg, { bufnr = bufnr })
end

---@param opts? invariant.Options
function M.setup(opts)
  M.options = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  if type(M.options.cmd) == "string" then
    M.options.cmd = { M.options.cmd }
  end
  if vim.fn.executable(M.options.cmd[1]) ~= 1 then
    notify(("server %q is not executable: set cmd in require('invariant').setup()"):format(M.options.cmd[1]),
      vim.log.levels.WARN)
  end

  vim.api.nvim_create_autocmd("BufReadCmd", {
    group = vim.api.nvim_create_augroup("invariant-model", { clear = true }),
    pattern = M.MODEL_SCHEME .. "://*",
    callback = read_model_buffer,
  })

  if has_011 and vim.lsp.config and vim.lsp.enable and M.options.use_lsp_config ~= false then
    local cfg = config()
    cfg.root_dir = function(bufnr, on_dir)
      local root = M.root_dir(bufnr)
      if root then
        on_dir(root)
      end
    end
    vim.lsp.config(NAME, cfg)
    vim.lsp.enable(NAME)
  else
    augroup = vim.api.nvim_create_augroup("invariant", { clear = true })
    vim.api.nvim_create_autocmd("FileType", {
      group = augroup,
      pattern = M.options.filetypes,
      callback = function(args)
        start_010(args.buf)
      end,
    })
    -- Buffers already open when setup() runs.
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(buf) and vim.tbl_contains(M.options.filetypes, vim.bo[buf].filetype) then
        start_010(buf)
      end
    end
  end
end

local function request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

--- The invariant diagnostic code under the cursor (else the first on the cursor line).
---@return string|nil
function M.code_at_cursor()
  local bufnr = vim.api.nvim_get_current_buf()
  local pos = vim.api.nvim_win_get_cursor(0)
  local row, col = pos[1] - 1, pos[2]
  local on_line = vim.diagnostic.get(bufnr, { lnum = row })
  local first
  for _, d in ipairs(on_line) do
    if d.source == "invariant" and d.code then
      first = first or d
      local end_col = d.end_lnum == row and d.end_col or math.huge
      if d.col <= col and col <= end_col then
        return tostring(d.code)
      end
    end
  end
  return first and tostring(first.code) or nil
end

--- Show a rule's explanation in a scratch markdown buffer (split). `code` defaults to the one under the cursor.
---@param code? string
---@param callback? fun(err: any, text: string|nil, bufnr: integer|nil)
function M.explain(code, callback)
  if code == nil or code == "" then
    code = M.code_at_cursor()
  end
  if not code then
    notify("no invariant diagnostic under the cursor; give a rule code, e.g. :InvariantExplain capi-boundary/provider-read",
      vim.log.levels.WARN)
    return
  end
  local client = M.clients(vim.api.nvim_get_current_buf())[1] or M.clients()[1]
  if not client then
    notify("the server is not running for this buffer", vim.log.levels.ERROR)
    return
  end
  local params = { command = "invariant.explain", arguments = { code } }
  request(client, "workspace/executeCommand", params, function(err, result)
    if err or type(result) ~= "string" then
      local msg = err and (err.message or vim.inspect(err)) or ("unexpected result " .. vim.inspect(result))
      notify(("cannot explain %s: %s"):format(code, msg), vim.log.levels.ERROR)
      if callback then
        callback(err or msg, nil, nil)
      end
      return
    end
    local name = "invariant://explain/" .. code
    local buf = vim.fn.bufnr(name)
    if buf == -1 then
      buf = vim.api.nvim_create_buf(false, true)
      vim.api.nvim_buf_set_name(buf, name)
    end
    vim.bo[buf].modifiable = true
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(result, "\n", { plain = true }))
    vim.bo[buf].modifiable = false
    vim.bo[buf].buftype = "nofile"
    vim.bo[buf].bufhidden = "wipe"
    vim.bo[buf].swapfile = false
    vim.bo[buf].filetype = "markdown"
    local win = vim.fn.bufwinid(buf)
    if win == -1 then
      vim.cmd("botright split")
      vim.api.nvim_win_set_buf(0, buf)
      vim.api.nvim_win_set_height(0, math.min(20, math.max(5, vim.api.nvim_buf_line_count(buf))))
      vim.keymap.set("n", "q", "<cmd>close<cr>", { buffer = buf, nowait = true, desc = "Close the explanation" })
    end
    if callback then
      callback(nil, result, buf)
    end
  end, vim.api.nvim_get_current_buf())
end

return M
