# Sourced by scripts/run and scripts/test: installs what the local stack and the tests need,
# once, and prints nothing when it is all there already.
#   - Debian packages: prometheus (the server and promtool), prometheus-alertmanager (the
#     server and amtool), a C compiler (aws-lc-sys builds C), python3-venv, curl (the
#     exporter's TLS tests use it as the scraper)
#   - .venv/ (git-ignored): moto server (the AWS emulator), checkov and cargo-lambda, pinned in
#     scripts/requirements.txt
#   - terraform/tests/node_modules/ (git-ignored): HashiCorp's HCL parser, pinned in its
#     package-lock.json
# Rust crates are cargo's job; the toolchain is pinned in rust-toolchain.toml.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  echo "setup: installing $* (apt)" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ensure_apt COMMAND PACKAGE...: installs the packages unless COMMAND is already on PATH.
ensure_apt() {
  command -v "$1" >/dev/null || apt_install "${@:2}"
}

# ensure_venv: (re)builds .venv/ whenever scripts/requirements.txt changed; a failed install
# leaves no half-built .venv/ behind.
ensure_venv() {
  local requirements="$ROOT/scripts/requirements.txt" stamp="$ROOT/.venv/requirements.txt"
  cmp -s "$requirements" "$stamp" && return
  python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
  echo "setup: installing $(grep -v '^#' "$requirements" | tr '\n' ' ')(pip, into .venv/)" >&2
  rm -rf "$ROOT/.venv"
  if ! { python3 -m venv "$ROOT/.venv" &&
    "$ROOT/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"; }; then
    rm -rf "$ROOT/.venv"
    return 1
  fi
  cp "$requirements" "$stamp"
}

# ensure_npm DIR: installs DIR's locked npm packages whenever its package-lock.json changed.
ensure_npm() {
  local lock="$1/package-lock.json" stamp="$1/node_modules/.package-lock.stamp"
  cmp -s "$lock" "$stamp" && return
  echo "setup: installing the npm packages of ${1#"$ROOT"/} (npm ci)" >&2
  local log
  log=$(mktemp)
  if ! npm ci --prefix "$1" --silent --no-audit --no-fund >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
  cp "$lock" "$stamp"
}

setup() {
  ensure_apt cc gcc libc6-dev
  # mozjpeg-sys assembles libjpeg-turbo's x86 SIMD with nasm.
  ensure_apt nasm nasm
  ensure_apt python3 python3
  ensure_apt curl curl
  ensure_apt prometheus prometheus
  ensure_apt promtool prometheus
  ensure_apt prometheus-alertmanager prometheus-alertmanager
  ensure_apt amtool prometheus-alertmanager
  ensure_apt npm nodejs npm
  ensure_venv
  ensure_npm "$ROOT/terraform/tests"
}
