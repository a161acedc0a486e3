# Sourced by scripts/run and scripts/test: installs what the local stack and the
# tests need, once, and says nothing when it is already there.
#   - Debian packages: prometheus (server + promtool)
#   - a Python venv in .venv/ (git-ignored) holding the AWS emulator, moto server
# Everything else (Rust crates) is cargo's job.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
export MOTO_SERVER="$VENV/bin/moto_server"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_apt() { # ensure_apt COMMAND PACKAGE...
  command -v "$1" >/dev/null && return
  shift
  echo "setup: installing $* (apt)" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_venv() {
  local requirements="$ROOT/scripts/requirements.txt"
  local stamp="$VENV/.requirements"
  cmp -s "$requirements" "$stamp" 2>/dev/null && return
  echo "setup: installing $(tr '\n' ' ' <"$requirements")(pip, into .venv/)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
}

setup() {
  set -euo pipefail
  ensure_apt prometheus prometheus
  ensure_venv
}
