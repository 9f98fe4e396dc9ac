-- invariant-lsp for Neovim: commands. The client starts once require("invariant").setup() is called.
if vim.g.loaded_invariant then
  return
end
vim.g.loaded_invariant = true

if vim.fn.has("nvim-0.10") ~= 1 then
  vim.notify("invariant: Neovim >= 0.10 is required", vim.log.levels.WARN)
  return
end

vim.api.nvim_create_user_command("InvariantExplain", function(args)
  require("invariant").explain(args.args ~= "" and args.args or nil)
end, {
  nargs = "?",
  desc = "Explain an invariant rule (default: the diagnostic under the cursor)",
  complete = function(lead)
    local codes, seen = {}, {}
    for _, d in ipairs(vim.diagnostic.get(nil)) do
      local code = d.source == "invariant" and d.code and tostring(d.code)
      if code and not seen[code] and code:find(lead, 1, true) == 1 then
        seen[code] = true
        table.insert(codes, code)
      end
    end
    table.sort(codes)
    return codes
  end,
})

vim.api.nvim_create_user_command("InvariantStatus", function()
  local s = require("invariant").status()
  vim.notify(s ~= "" and s or "invariant: no client attached")
end, { desc = "Show the invariant server's status (indexing, model in force)" })
