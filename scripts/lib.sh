# Shared by scripts/test and scripts/demo: install what is missing (Debian 12,
# as root, from Debian's packages only) and build with CMake into build/.
set -euo pipefail

MODELREG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$MODELREG_ROOT/build}

# Build and test dependencies (README "Dependencies"), plus the tools the tests drive.
BUILD_PACKAGES=(cmake g++ make pkg-config libsqlitecpp-dev libsqlite3-dev libcpp-httplib-dev
                libssl-dev nlohmann-json3-dev libgit2-dev libunistring-dev catch2 git openssl sqlite3 jq python3 curl clang-format
                docker-registry skopeo)
# PostgreSQL: libpq for the metadata backend (README "Dependencies"), the server for its tests.
BUILD_PACKAGES+=(libpq-dev postgresql)
# haproxy: the load balancer of examples/ha, run by its end-to-end test.
BUILD_PACKAGES+=(haproxy)
# dpkg-dev + file: CPack's .deb (scripts/package, its test) computes the package's
# dependencies with dpkg-shlibdeps; systemd: systemd-analyze checks the units.
BUILD_PACKAGES+=(dpkg-dev file systemd)
# python3-sklearn: the example training job (examples/train), which the
# monitoring end-to-end test and the Python client's train test run for real.
BUILD_PACKAGES+=(python3-sklearn)
# prometheus: its promtool checks that /metrics parses as Prometheus reads it.
BUILD_PACKAGES+=(prometheus)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then return 0; fi
  log "installing: ${missing[*]}"
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The web UI's browser test: Debian's chromium driven by npm's playwright-core
# (tests/web). node may come from outside dpkg (e.g. nodesource), so node and
# npm are checked as commands; npm ci runs only when node_modules is missing or
# older than the lock file.
ensure_browser_test_tools() {
  local want=()
  [[ -x /usr/bin/chromium ]] || want+=(chromium)
  command -v node >/dev/null || want+=(nodejs)
  command -v npm >/dev/null || want+=(npm)
  if ((${#want[@]})); then
    local sudo=""
    if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
    log "installing: ${want[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${want[@]}" >/dev/null
  fi
  local web="$MODELREG_ROOT/tests/web"
  if [[ ! -d $web/node_modules/playwright-core || $web/package-lock.json -nt $web/node_modules/.package-lock.json ]]; then
    log "installing the browser test's npm packages (tests/web)"
    npm ci --prefix "$web" --no-audit --no-fund >/dev/null
  fi
}

build() {
  log "configuring and building in $BUILD_DIR"
  cmake -S "$MODELREG_ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" "$@"
}
