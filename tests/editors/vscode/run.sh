#!/usr/bin/env bash
# VS Code end-to-end test of editors/vscode: packages the extension (.vsix, with the server
# bundled), installs it into real VS Code (code-server from npm), and drives the workbench in
# headless Debian Chromium (playwright-core) on a copy of tests/sample-workspace.
#   tests/editors/vscode/run.sh          # uses $INVARIANT_LSP, else target/release, else target/debug
# Installs what it needs on first use (Debian: chromium, ripgrep, build headers; npm: code-server,
# playwright-core into the tool cache). Exit status 0 when every step passed.
# Screenshots and logs: tests/editors/artifacts/vscode/.
set -euo pipefail
test_name=vscode
# shellcheck source-path=SCRIPTDIR source=../common.sh
source "$(dirname "$0")/../common.sh"
CODE_SERVER_VERSION=4.100.3 # VS Code 1.100.3; runs on Node 20
PLAYWRIGHT_VERSION=1.65.1
RIPGREP_CACHE_VERSION=1.15.11 # @vscode/ripgrep in code-server 4.100.3
RIPGREP_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
started=$(date +%s)
bin="$(server_binary)"
say "server: $bin"

command -v node >/dev/null || die "Node.js is needed (node >= 20)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node.js >= 20 is needed, found $(node --version)"

# --- Debian packages: the browser, ripgrep (code-server's install would fetch it from GitHub),
# and what code-server's native modules build against.
apt_install chromium ripgrep fonts-dejavu-core libkrb5-dev pkg-config libx11-dev libxkbfile-dev \
  libsecret-1-dev python3 make g++ curl
chromium_bin="$(command -v chromium || true)"
[ -n "$chromium_bin" ] || die "no chromium after apt-get install chromium"

# --- npm: code-server and playwright-core in the tool cache.
vs_tools="$tools/vscode-cs$CODE_SERVER_VERSION-pw$PLAYWRIGHT_VERSION"
code_server="$vs_tools/node_modules/.bin/code-server"
if ! [ -x "$code_server" ] || ! [ -f "$vs_tools/.installed" ]; then
  say "installing code-server $CODE_SERVER_VERSION and playwright-core $PLAYWRIGHT_VERSION into $vs_tools"
  rm -rf "$vs_tools"
  mkdir -p "$vs_tools"
  # @vscode/ripgrep's postinstall downloads rg from GitHub unless it finds the archive in its cache.
  rg_cache="${TMPDIR:-/tmp}/vscode-ripgrep-cache-$RIPGREP_CACHE_VERSION"
  if ! [ -f "$rg_cache/$RIPGREP_ASSET" ]; then
    mkdir -p "$rg_cache"
    rg_tmp="$(mktemp -d)"
    cp "$(command -v rg)" "$rg_tmp/rg"
    tar -C "$rg_tmp" -czf "$rg_cache/$RIPGREP_ASSET" rg
    rm -rf "$rg_tmp"
  fi
  cat >"$vs_tools/package.json" <<EOF
{"private": true, "name": "invariant-editor-tools-vscode",
 "dependencies": {"code-server": "$CODE_SERVER_VERSION", "playwright-core": "$PLAYWRIGHT_VERSION"}}
EOF
  # code-server's install scripts build its native modules (npm >= 11.13 runs no dependency
  # install scripts unless allowed).
  (cd "$vs_tools" && npm_config_dangerously_allow_all_scripts=true npm_config_yes=true npm_config_unsafe_perm=true \
    npm install --no-audit --no-fund --foreground-scripts --loglevel=error >"$vs_tools/install.log" 2>&1) \
    || { tail -n 40 "$vs_tools/install.log" >&2; die "npm install code-server@$CODE_SERVER_VERSION failed (log: $vs_tools/install.log)"; }
  [ -x "$vs_tools/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ] \
    || die "code-server installed without ripgrep (log: $vs_tools/install.log)"
  touch "$vs_tools/.installed"
fi
"$code_server" --version >/dev/null 2>&1 || die "code-server does not run: $("$code_server" --version 2>&1 | tail -n 3)"
say "tools ready after $(( $(date +%s) - started ))s"

copy_sample_workspace
art="$artifacts_root/vscode"
rm -rf "$art"
mkdir -p "$art"
say "workspace copy: $ws"

# --- Package the extension with the server bundled, install it into a fresh profile.
vsix="$workdir/invariant-lsp.vsix"
"$repo/editors/vscode/build.sh" --server "$bin" --out "$vsix" >"$art/build.log" 2>&1 \
  || { tail -n 30 "$art/build.log" >&2; die "editors/vscode/build.sh failed"; }
say "packaged $(du -h "$vsix" | cut -f1) .vsix"
ud="$workdir/user-data"
ext="$workdir/extensions"
mkdir -p "$ud/User" "$ext"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat >"$workdir/code-server.yaml" <<EOF
bind-addr: 127.0.0.1:$port
auth: none
cert: false
EOF
cat >"$ud/User/settings.json" <<'EOF'
{
  "workbench.startupEditor": "none",
  "security.workspace.trust.enabled": false,
  "workbench.tips.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "workbench.enableExperiments": false,
  "chat.commandCenter.enabled": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "editor.minimap.enabled": false,
  "git.enabled": false,
  "files.hotExit": "off",
  "workbench.editor.enablePreview": false,
  "editor.hover.delay": 150,
  "invariant.severity": { "condition-naming/message-list": "off" }
}
EOF
cs_args=(--config "$workdir/code-server.yaml" --user-data-dir "$ud" --extensions-dir "$ext")
"$code_server" "${cs_args[@]}" --install-extension "$vsix" >"$art/install-extension.log" 2>&1 \
  || { cat "$art/install-extension.log" >&2; die "code-server --install-extension failed"; }
ls "$ext"/invariant-lsp.invariant-lsp-*/server/invariant-lsp >/dev/null 2>&1 \
  || die "the installed extension has no bundled server"

# --- Start code-server (no invariant-lsp on its PATH: the extension must use the bundled binary).
cs_pid=""
cleanup() {
  if [ -n "$cs_pid" ] && kill -0 "$cs_pid" 2>/dev/null; then
    kill "$cs_pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$cs_pid" 2>/dev/null || break; sleep 0.3; done
    kill -9 "$cs_pid" 2>/dev/null || true
  fi
  # Logs of the extension host and of the Invariant output channel, for diagnosis.
  if [ -d "$ud/logs" ]; then cp -r "$ud/logs" "$art/code-server-logs" 2>/dev/null || true; fi
  rm -rf "$workdir"
}
trap cleanup EXIT
clean_path="$(dirname "$(command -v node)"):/usr/local/bin:/usr/bin:/bin"
env PATH="$clean_path" "$code_server" "${cs_args[@]}" --disable-telemetry --disable-update-check \
  --disable-workspace-trust --disable-getting-started-override --ignore-last-opened "$ws" \
  >"$art/code-server.log" 2>&1 &
cs_pid=$!
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
  kill -0 "$cs_pid" 2>/dev/null || { cat "$art/code-server.log" >&2; die "code-server exited"; }
  sleep 0.2
done
curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" || die "code-server did not answer on port $port"
say "code-server $CODE_SERVER_VERSION on port $port (pid $cs_pid)"

# --- Drive it.
status=0
CODE_URL="http://127.0.0.1:$port" WORKSPACE="$ws" ARTIFACTS="$art" CHROMIUM="$chromium_bin" \
  NODE_PATH="$vs_tools/node_modules" timeout 300 node "$repo/tests/editors/vscode/driver.cjs" || status=$?
say "driver exited with $status; $(( $(date +%s) - started ))s in all"
[ "$status" = 0 ] || die "the VS Code test failed (exit $status); see $art/driver.log and the screenshots in $art"
say "PASS"
