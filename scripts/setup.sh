#!/usr/bin/env bash
# Installs payoutd's dependencies from Debian packages, as much as the command at hand needs:
#   setup.sh run     building and serving (make run, make build of the server alone) — the default
#   setup.sh deb     run, and what `make deb` packages with
#   setup.sh test    deb, and every test tool: compilers of the fuzz build, lint, PostgreSQL,
#                    Python, Chromium, Node.js and the npm packages of the browser tests, the
#                    doubles and the OpenAPI linter
#   setup.sh bench   test, and the benchmarks' reference server and load generator
# Each profile includes the ones above it. Idempotent: packages already present are skipped, so
# `make run` and `make test` stay fast.
set -euo pipefail

profile="${1:-run}"

# Building and serving: the compiler, CMake, and the libraries the server links.
run_packages=(
  g++ cmake make ccache pkg-config
  libboost1.81-dev            # Asio + Beast: the HTTP server
  libboost-url1.81-dev        # Boost.URL: percent-decoding of URLs, queries and forms
  libsqlite3-dev              # embedded store
  libpq-dev                   # PostgreSQL store (libpq)
  libssl-dev                  # SHA-256 request fingerprints, Mastercard's OAuth signatures
  libsodium-dev               # randomness, constant-time compares, the card vault
  libcurl4-openssl-dev        # outbound HTTP: callbacks from the outbox, the card networks
  libspdlog-dev libfmt-dev    # structured logs
  libcli11-dev                # command line
  libtomlplusplus-dev         # config files
  libkainjow-mustache-dev     # HTML templates that escape by default (header-only)
  libqrencode-dev             # the console's QR codes of TOTP secrets (enrolment)
  curl procps                 # the README's walk-throughs; ps and kill for the operator
)
# `make deb`: dpkg-shlibdeps reads the binary's library dependencies (dpkg-deb is in dpkg).
deb_packages=(
  dpkg-dev
)
# `make test`: the suite's tools.
test_packages=(
  libgtest-dev libgmock-dev   # unit tests
  clang libclang-rt-dev llvm  # fuzz targets: clang, libFuzzer + sanitizer runtimes, llvm-symbolizer
  clang-format clang-tidy     # scripts/lint.sh: the tree's format, and lint of the changed sources
  python3                     # end-to-end tests
  python3-jsonschema python3-yaml  # the e2e answers checked against docs/openapi (Draft 2020-12)
  postgresql                  # throwaway clusters for tests and benchmarks (initdb, pgbench)
  sqlite3                     # the store by hand (tests read it through Python's module)
  openssl                     # certificates and keys for the card networks' doubles
  chromium                    # browser tests of the hosted pages (driven by playwright-core)
  lintian                     # the Debian package's checks
  systemd                     # systemd-analyze verify of the package's unit
  prometheus                  # promtool checks the metrics and alert rules; a real scraper
  haproxy                     # real client addresses behind a proxy (PROXY protocol, X-Forwarded-For)
  patroni                     # scripts/ha-cluster.sh: the failover tests' three PostgreSQL nodes
  etcd-server                 # scripts/ha-cluster.sh: the DCS Patroni elects its leader in
  etcd-client                 # scripts/ha-cluster.sh: etcdctl reads the leader key
)
# `make bench`: the reference server and the load generator.
bench_packages=(
  nginx-light wrk
)

case "$profile" in
  run) packages=("${run_packages[@]}") ;;
  deb) packages=("${run_packages[@]}" "${deb_packages[@]}") ;;
  test) packages=("${run_packages[@]}" "${deb_packages[@]}" "${test_packages[@]}") ;;
  bench)
    packages=("${run_packages[@]}" "${deb_packages[@]}" "${test_packages[@]}"
              "${bench_packages[@]}")
    ;;
  *)
    echo "usage: setup.sh [run|deb|test|bench]" >&2
    exit 2
    ;;
esac
node_tooling=false
if [[ $profile == test || $profile == bench ]]; then node_tooling=true; fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js and npm run the browser tests and the doubles; Debian's packages unless the machine has
# them already.
if $node_tooling && { ! command -v node >/dev/null || ! command -v npm >/dev/null; }; then
  missing+=(nodejs npm)
fi

# The npm packages of the browser tests, of the network test doubles and of the OpenAPI linter
# (each directory's package-lock.json), installed once per lock.
install_node_tooling() {
  $node_tooling || return 0
  local root dir
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  for dir in "$root/tests/browser" "$root/tests/doubles" "$root/tools/openapi"; do
    if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.payoutd-lock" 2>/dev/null; then
      echo "setup: installing the npm packages of ${dir#"$root"/}"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
      cp "$dir/package-lock.json" "$dir/node_modules/.payoutd-lock"
    fi
  done
}

if ((${#missing[@]})); then
  echo "setup ($profile): installing ${missing[*]}"
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
