-- Screenshot scene for the README (tests/editors/nvim/screenshot.sh): capacity.go with the
-- diagnostics, the hover on the provider type, and the plugin's status in the statusline.
-- The diagnostic display is the plugin's default (the README's setup), not configured here.
local repo = assert(os.getenv("INVARIANT_REPO"))
local bin = assert(os.getenv("INVARIANT_LSP"))
vim.opt.runtimepath:prepend(repo .. "/editors/nvim")
vim.opt.swapfile = false
vim.opt.shadafile = "NONE"
vim.opt.number = true
vim.opt.signcolumn = "yes"
vim.opt.termguicolors = true
vim.opt.laststatus = 2
vim.opt.wrap = false
vim.opt.cmdheight = 1
vim.opt.showmode = false
vim.opt.statusline = " %f %m%=%{v:lua.require'invariant'.status()}  %l:%c "
vim.cmd("filetype on")
vim.cmd("syntax on")

require("invariant").setup({ cmd = { bin, "lsp" } })

vim.api.nvim_create_autocmd("VimEnter", {
  once = true,
  callback = function()
    local buf = vim.api.nvim_get_current_buf()
    vim.wait(20000, function()
      for _, d in ipairs(vim.diagnostic.get(buf)) do
        if d.code == "capi-boundary/provider-read" then
          return true
        end
      end
      return false
    end, 50)
    vim.wait(3000, function()
      return require("invariant").status(buf):find("indexing") == nil and require("invariant").status(buf) ~= ""
    end, 50)
    local line = vim.api.nvim_buf_get_lines(buf, 22, 23, false)[1]
    local s = line:find("AzureMachine", 1, true)
    vim.api.nvim_win_set_cursor(0, { 23, s + 1 })
    vim.fn.winrestview({ topline = 7 }) -- the provider import and the loop both in view
    vim.api.nvim_win_set_cursor(0, { 23, s + 1 })
    -- After the main loop has seen the cursor move (CursorMoved would close the float).
    vim.defer_fn(function()
      vim.lsp.buf.hover({ border = "rounded", max_width = 104, max_height = 20 })
      vim.defer_fn(function()
        for _, w in ipairs(vim.api.nvim_list_wins()) do
          if vim.api.nvim_win_get_config(w).relative ~= "" then
            vim.wo[w].linebreak = true
          end
        end
        vim.cmd("redraw!")
        io.open(os.getenv("INVARIANT_DEMO_READY") or "/dev/null", "w"):close()
      end, 500)
    end, 300)
  end,
})
