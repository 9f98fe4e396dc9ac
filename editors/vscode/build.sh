#!/usr/bin/env bash
# Build and package the VS Code extension with @vscode/vsce.
#   editors/vscode/build.sh [--server PATH/TO/invariant-lsp] [--out FILE.vsix]
# --server bundles that binary in the .vsix (as server/invariant-lsp); the extension uses it when
# neither the `invariant.server.path` setting nor PATH provides one.
# Packaging happens in a temporary staging copy, so the source tree only gains node_modules/.
# Prints the path of the .vsix on its last line.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
server=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --server) server="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 [--server PATH] [--out FILE.vsix]" >&2; exit 2 ;;
  esac
done
command -v npm >/dev/null || { echo "build.sh: npm (Node.js >= 20) is needed" >&2; exit 1; }
version="$(node -p "require('$here/package.json').version")"
out="${out:-$here/invariant-lsp-$version.vsix}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
if [ -n "$server" ] && ! [ -x "$server" ]; then
  echo "build.sh: --server $server is not an executable file" >&2
  exit 1
fi

# Dependencies (idempotent; fast when node_modules is up to date). One install at a time.
mkdir -p "$here/node_modules"
(
  cd "$here"
  flock 9
  npm install --no-audit --no-fund --loglevel=error >&2
) 9>"$here/node_modules/.invariant-build.lock"

stage="$(mktemp -d "${TMPDIR:-/tmp}/invariant-vsix.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
cp -r "$here/package.json" "$here/package-lock.json" "$here/tsconfig.json" "$here/.vscodeignore" \
  "$here/README.md" "$here/src" "$stage/"
ln -s "$here/node_modules" "$stage/node_modules"
# The JSON Schemas registered through `yamlValidation`: the shipped model schema, and the
# configuration schema from the server (the bundled one, else the release build).
repo="$(cd "$here/../.." && pwd)"
mkdir -p "$stage/schemas"
cp "$repo/domain-models/domain-model.schema.json" "$stage/schemas/domain-model.schema.json"
schema_server="${server:-$repo/target/release/invariant-lsp}"
if [ -x "$schema_server" ]; then
  "$schema_server" schema config >"$stage/schemas/invariant-config.schema.json"
else
  echo "build.sh: no server binary to generate the .invariant.yaml schema; build it first" >&2
  exit 1
fi
if [ -n "$server" ]; then
  mkdir -p "$stage/server"
  cp "$server" "$stage/server/invariant-lsp"
  chmod 755 "$stage/server/invariant-lsp"
fi
# vscode:prepublish type-checks and bundles src/ into out/extension.js (esbuild).
(cd "$stage" && npx --no-install vsce package --no-dependencies --skip-license --allow-missing-repository -o "$out" >&2)
echo "$out"
