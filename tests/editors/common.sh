# Shared by tests/editors/*/run.sh: paths, the tool cache, and the server binary.
# shellcheck shell=bash
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Tools (Neovim venv, code-server, playwright-core) are cached across runs, keyed by version.
tools="${INVARIANT_EDITOR_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/invariant-lsp/editor-tools}"
artifacts_root="${INVARIANT_ARTIFACTS_ROOT:-$repo/tests/editors/artifacts}"
mkdir -p "$tools" "$artifacts_root"

say() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "${test_name:-editors}" "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }

# The server: $INVARIANT_LSP (set by tests/editors.rs from CARGO_BIN_EXE_invariant-lsp), else
# the release build, else the debug build.
server_binary() {
  local b
  for b in "${INVARIANT_LSP:-}" "$repo/target/release/invariant-lsp" "$repo/target/debug/invariant-lsp"; do
    if [ -n "$b" ] && [ -x "$b" ]; then
      printf '%s\n' "$b"
      return 0
    fi
  done
  die "no invariant-lsp binary: build it (cargo build --release) or set INVARIANT_LSP"
}

# A temporary copy of the sample workspace (the code actions edit files). Sets $workdir, $ws.
copy_sample_workspace() {
  workdir="$(mktemp -d "${TMPDIR:-/tmp}/invariant-${test_name:-editors}.XXXXXX")"
  ws="$workdir/sample-workspace"
  cp -r "$repo/tests/sample-workspace" "$ws"
}

# apt-get install, once per machine, of the Debian packages not yet installed.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "Debian packages ${missing[*]} are needed and apt-get is not available"
  [ "$(id -u)" = 0 ] || die "Debian packages ${missing[*]} are needed: install them (or run as root)"
  say "apt-get install ${missing[*]}"
  # One apt at a time even when both editor tests run in parallel.
  (
    flock 9
    if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n1)" ]; then
      apt-get update -qq >&2 || die "apt-get update failed"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
      || die "apt-get install ${missing[*]} failed"
  ) 9>"$tools/.apt.lock"
}
