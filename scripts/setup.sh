#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of payoutd from Debian packages.
# Idempotent: packages already present are skipped, so `make run` and `make test` stay fast.
set -euo pipefail

packages=(
  g++ cmake make ccache pkg-config
  libboost1.81-dev            # Asio + Beast: the HTTP server
  libboost-url1.81-dev        # Boost.URL: percent-decoding of URLs, queries and forms
  libsqlite3-dev sqlite3      # embedded store
  libpq-dev                   # PostgreSQL store (libpq)
  postgresql                  # throwaway clusters for tests and benchmarks (initdb, pgbench)
  libssl-dev                  # SHA-256 request fingerprints, Mastercard's OAuth signatures
  openssl                     # tests: certificates and keys for the card networks' doubles
  libsodium-dev               # randomness, constant-time compares, the card vault
  libcurl4-openssl-dev        # outbound HTTP: callbacks from the outbox, the card networks
  libspdlog-dev libfmt-dev    # structured logs
  libcli11-dev                # command line
  libtomlplusplus-dev         # config files
  libkainjow-mustache-dev     # HTML templates that escape by default (header-only)
  libgtest-dev libgmock-dev   # unit tests
  clang libclang-rt-dev llvm  # fuzz targets: clang, libFuzzer + sanitizer runtimes, llvm-symbolizer
  clang-format clang-tidy     # scripts/lint.sh: the tree's format, and lint of the changed sources
  python3                     # end-to-end tests (standard library only)
  nginx-light wrk             # benchmark: reference server and load generator
  prometheus                  # test: promtool checks the metrics and alert rules, a real scraper
  chromium                    # browser tests of the hosted pages (driven by playwright-core)
  haproxy                     # test: real client addresses behind a proxy (PROXY protocol, X-Forwarded-For)
  curl procps
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js and npm run the browser tests; Debian's packages unless the machine has them already.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

# The npm packages of the browser tests and of the network test doubles (each directory's
# package-lock.json), installed once per lock.
install_node_tooling() {
  local root dir
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  for dir in "$root/tests/browser" "$root/tests/doubles"; do
    if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.payoutd-lock" 2>/dev/null; then
      echo "setup: installing the npm packages of ${dir#"$root"/}"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
      cp "$dir/package-lock.json" "$dir/node_modules/.payoutd-lock"
    fi
  done
}

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  # A mirror can fail for a moment: retry a few times before giving up.
  for attempt in 1 2 3; do
    if "${sudo_cmd[@]}" apt-get update -qq &&
       "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
      install_node_tooling
      exit 0
    fi
    echo "setup: apt-get failed (attempt $attempt of 3)" >&2
    sleep $((attempt * 5))
  done
  exit 1
fi
install_node_tooling
