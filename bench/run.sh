#!/usr/bin/env bash
# payoutd benchmark: payouts/s through payoutd next to nginx serving a fixed JSON answer,
# both loaded by wrk with the same parameters on this machine. See bench/README.md.
set -euo pipefail
shopt -s inherit_errexit   # a failure inside $(...) fails the script too

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."   # the repo root: PAYOUTD and config paths are relative to it

# --- knobs ---------------------------------------------------------------------------------------
PAYOUTD="${PAYOUTD:-build/payoutd}"
NGINX="${NGINX:-/usr/sbin/nginx}"
CONFIG="${BENCH_CONFIG:-config/sandbox.toml}"
DURATION_S="${BENCH_DURATION_S:-10}"
WARMUP_S="${BENCH_WARMUP_S:-2}"
ENFORCE_FLOOR="${BENCH_ENFORCE_FLOOR:-0}"
ONLY="${BENCH_ONLY:-}"              # empty: both; "payoutd" or "nginx": only that one
TOPUP="${BENCH_TOPUP:-1}"           # credit the funder before the run so payouts can't run dry
KEEP_TMP="${BENCH_KEEP_TMP:-0}"     # 1: keep the temp dir (raw wrk output, logs) and print it
TLS="${BENCH_TLS:-0}"               # 1: both servers over HTTPS (TLS 1.3), the same certificate

# --- fixed by the benchmark's definition ---------------------------------------------------------
CONNECTIONS=64
THREADS=2
WRK_TIMEOUT=10s          # responses slower than this are left out of wrk's latency histogram
NGINX_WORKERS=2
FLOOR=0.25
TARGET=0.6
STARTUP_TIMEOUT_S=30
STOP_TIMEOUT_S=20

PRODUCT=best-partner
FUNDER=bonus-funder
PARTNER_TOKEN=sandbox-best-partner-token
ADMIN_TOKEN=sandbox-admin-token
PAYOUT_BODY='{"fromFunderId":"bonus-funder","toClientId":"sjrpngawef8770553957","transactionAmount":{"value":"1.00","currency":"RUB"}}'
PAYOUT_MINOR=100   # 1.00 RUB

tool=(python3 "$here/benchtool.py")

die() { echo "bench: FAIL: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
is_uint "$DURATION_S" && ((10#$DURATION_S >= 1)) || die "BENCH_DURATION_S must be an integer >= 1, got '$DURATION_S'"
is_uint "$WARMUP_S" || die "BENCH_WARMUP_S must be an integer >= 0, got '$WARMUP_S'"
DURATION_S=$((10#$DURATION_S)) WARMUP_S=$((10#$WARMUP_S))   # "08" is not octal here
[[ $ENFORCE_FLOOR == 0 || $ENFORCE_FLOOR == 1 ]] || die "BENCH_ENFORCE_FLOOR must be 0 or 1"
[[ $TLS == 0 || $TLS == 1 ]] || die "BENCH_TLS must be 0 or 1"
case "$ONLY" in
  "") run_payoutd=1 run_nginx=1 ;;
  payoutd) run_payoutd=1 run_nginx=0 ;;
  nginx) run_payoutd=0 run_nginx=1 ;;
  *) die "BENCH_ONLY must be empty, 'payoutd' or 'nginx', got '$ONLY'" ;;
esac

command -v wrk >/dev/null || die "wrk not found (make setup installs it)"
command -v curl >/dev/null || die "curl not found (make setup installs it)"
command -v python3 >/dev/null || die "python3 not found"
((TLS == 0)) || command -v openssl >/dev/null || die "openssl not found (make setup installs it)"
if ((run_payoutd)); then
  [[ -x $PAYOUTD ]] || die "payoutd binary '$PAYOUTD' not found or not executable (make build, or set PAYOUTD)"
  [[ -f $CONFIG ]] || die "config '$CONFIG' not found"
fi
if ((run_nginx)); then
  [[ -x $NGINX ]] || die "nginx binary '$NGINX' not found (make setup installs nginx-light, or set NGINX)"
fi

# --- temp dir and cleanup ------------------------------------------------------------------------
tmpdir="$(mktemp -d "${TMPDIR:-/tmp}/payoutd-bench.XXXXXX")"
payoutd_pid=""
nginx_pid=""
wrk_pid=""

# stop_proc NAME PID: SIGTERM, wait up to STOP_TIMEOUT_S, then SIGKILL. Sets stop_rc to the exit
# status. Must run in this shell (not in $(...)): only the parent can wait for a child.
stop_rc=0
stop_proc() {
  local name=$1 pid=$2 i
  stop_rc=0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT_S * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "bench: $name (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT_S}s, sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || stop_rc=$?
}

dump_file() {
  [[ -s $1 ]] || return 0
  echo "----- $(basename "$1") (last 60 lines) -----" >&2
  tail -n 60 "$1" >&2
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $wrk_pid ]]; then stop_proc wrk "$wrk_pid"; fi
  if [[ -n $payoutd_pid ]]; then stop_proc payoutd "$payoutd_pid"; fi
  if [[ -n $nginx_pid ]]; then stop_proc nginx "$nginx_pid"; fi
  if ((rc != 0 && rc != 130 && rc != 143)); then   # a failure, not Ctrl-C / SIGTERM
    local f
    for f in "$tmpdir"/wrk-*.txt "$tmpdir"/payoutd.out "$tmpdir"/payoutd.err \
             "$tmpdir"/nginx.err "$tmpdir"/nginx-error.log; do
      [[ -e $f ]] && dump_file "$f"
    done
  fi
  if [[ $KEEP_TMP == 1 ]]; then
    echo "bench: temp dir kept: $tmpdir" >&2
  else
    rm -rf "$tmpdir"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT
trap 'echo "bench: terminated" >&2; exit 143' TERM

# Unique per run; every transactionId is NONCE-PHASE-THREAD-COUNTER (see payout.lua).
nonce="b$(date -u +%y%m%d%H%M%S)-$$"

# With BENCH_TLS=1 both servers present one self-signed P-256 certificate for 127.0.0.1 and the
# load runs over TLS 1.3 keep-alive connections (wrk's OpenSSL negotiates the newest version).
scheme=http
curl_tls=()
if ((TLS)); then
  scheme=https
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$tmpdir/tls.key" -out "$tmpdir/tls.crt" 2>"$tmpdir/openssl.err" ||
    die "cannot make the test certificate: $(cat "$tmpdir/openssl.err")"
  curl_tls=(--cacert "$tmpdir/tls.crt" --tlsv1.3)
fi

# run_wrk LABEL SECONDS WRK_ARGS...: wrk's raw output goes to $tmpdir/wrk-LABEL.txt.
# wrk runs in the background and the shell waits for it: a foreground wrk would swallow Ctrl-C
# (it catches SIGINT, prints its results and exits 0, and bash then carries on with the script).
run_wrk() {
  local label=$1 secs=$2 rc=0
  shift 2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --timeout "$WRK_TIMEOUT" --latency "$@" \
    >"$tmpdir/wrk-$label.txt" 2>&1 </dev/null &
  wrk_pid=$!
  wait "$wrk_pid" || rc=$?
  wrk_pid=""
  ((rc == 0)) || die "wrk ($label) exited with status $rc"
}

# check_warmup LABEL: the warm-up must have produced answers and no errors, else stop early.
check_warmup() {
  local label=$1 summary
  summary="$("${tool[@]}" wrk-summary "$tmpdir/wrk-$label.txt")" || die "cannot parse wrk output ($label)"
  grep -qx 'non2xx=0' <<<"$summary" || die "$label: non-2xx answers during the warm-up"
  grep -qx 'requests=0' <<<"$summary" && die "$label: no request completed during the warm-up"
  return 0
}

# --- payoutd -------------------------------------------------------------------------------------
# http_to FILE CURL_ARGS... URL: prints the HTTP status (000 when no answer).
http_to() {
  local file=$1
  shift
  curl -sS --max-time 5 "${curl_tls[@]}" -o "$file" -w '%{http_code}' "$@" 2>>"$tmpdir/curl.err" || true
}

funder_url() { echo "$base/admin/v1/qiwi/products/$PRODUCT/funders/$FUNDER"; }

# Funder balance in minor units.
funder_balance() {
  local code
  code="$(http_to "$tmpdir/funder.json" -H "Authorization: Bearer $ADMIN_TOKEN" "$(funder_url)")"
  [[ $code == 200 ]] || die "GET $(funder_url) answered HTTP $code: $(head -c 400 "$tmpdir/funder.json" 2>/dev/null)"
  "${tool[@]}" balance-minor "$tmpdir/funder.json" || die "cannot read the funder's balance"
}

# The balance once the requests still in flight when wrk stopped have landed: unchanged across
# three reads 0.25 s apart.
settled_balance() {
  local prev cur i same=0
  prev="$(funder_balance)"
  for ((i = 0; i < 80; i++)); do
    sleep 0.25
    cur="$(funder_balance)"
    if [[ $cur == "$prev" ]]; then
      if ((++same >= 2)); then
        echo "$cur"
        return 0
      fi
    else
      same=0
    fi
    prev=$cur
  done
  die "the funder's balance kept changing for 20 s after wrk stopped"
}

bench_payoutd() {
  local i port="" line="" code=""
  mkdir -p "$tmpdir/data"
  local config=$CONFIG
  if ((TLS)); then
    # The config with an HTTPS listener beside the plain one (paths in it made absolute).
    config="$tmpdir/payoutd-tls.toml"
    PAYOUTD_CONFIG="$CONFIG" "${tool[@]}" tls-config --cert "$tmpdir/tls.crt" \
      --key "$tmpdir/tls.key" >"$config" || die "cannot write the HTTPS config"
  fi
  local -a cmd=("$PAYOUTD" serve --config "$config" --listen 127.0.0.1:0 --data-dir "$tmpdir/data")
  # stdbuf: line-buffer stdout in case the server writes it through stdio without flushing.
  if command -v stdbuf >/dev/null; then cmd=(stdbuf -oL -eL "${cmd[@]}"); fi
  "${cmd[@]}" >"$tmpdir/payoutd.out" 2>"$tmpdir/payoutd.err" </dev/null &
  payoutd_pid=$!

  for ((i = 0; i < STARTUP_TIMEOUT_S * 10; i++)); do
    if line="$(grep -hoE -m1 "listening on $scheme://127\\.0\\.0\\.1:[0-9]+" \
        "$tmpdir/payoutd.out" "$tmpdir/payoutd.err" 2>/dev/null | head -n1)" && [[ -n $line ]]; then
      port=${line##*:}
      break
    fi
    if ! kill -0 "$payoutd_pid" 2>/dev/null; then
      code=0; wait "$payoutd_pid" || code=$?; payoutd_pid=""
      die "payoutd exited with status $code before printing 'listening on $scheme://127.0.0.1:PORT'"
    fi
    sleep 0.1
  done
  [[ -n $port ]] || die "payoutd printed no 'listening on $scheme://127.0.0.1:PORT' line within ${STARTUP_TIMEOUT_S}s"
  base="$scheme://127.0.0.1:$port"

  for (( ; i < STARTUP_TIMEOUT_S * 10; i++)); do
    code="$(http_to /dev/null "$base/healthz")"
    [[ $code == 200 ]] && break
    kill -0 "$payoutd_pid" 2>/dev/null || die "payoutd exited while starting"
    sleep 0.1
  done
  [[ $code == 200 ]] || die "GET $base/healthz answered HTTP $code, not 200, within ${STARTUP_TIMEOUT_S}s"

  if [[ $TOPUP == 1 ]]; then
    # Enough for (warm-up + run + margin) s at 200k payouts/s; 1.00 RUB each.
    local amount=$(((WARMUP_S + DURATION_S + 5) * 200000))
    code="$(http_to "$tmpdir/credit.json" -X POST -H "Authorization: Bearer $ADMIN_TOKEN" \
      -H 'Content-Type: application/json' \
      --data "{\"amount\":{\"value\":\"$amount.00\",\"currency\":\"RUB\"}}" \
      "$(funder_url)/credits/bench-$nonce")"
    if [[ $code != 2?? ]]; then
      note "warning: topping up $FUNDER failed (HTTP $code), relying on its configured balance"
    fi
  fi

  # One payout by hand: a clear error now beats a run full of non-2xx answers.
  local smoke_url="$base/partner/openapi-payment-api/v1/funder-payouts/products/$PRODUCT/transactions/$nonce-s-0"
  code="$(http_to "$tmpdir/smoke.json" -X PUT -H "Authorization: Bearer $PARTNER_TOKEN" \
    -H 'Content-Type: application/json' --data "$PAYOUT_BODY" "$smoke_url")"
  if [[ $code != 200 ]] || ! grep -qE '"status"[[:space:]]*:[[:space:]]*"SUCCESS"' "$tmpdir/smoke.json"; then
    die "a first payout (PUT $smoke_url) answered HTTP $code: $(head -c 400 "$tmpdir/smoke.json" 2>/dev/null)"
  fi

  if ((WARMUP_S > 0)); then
    run_wrk payoutd-warmup "$WARMUP_S" -s "$here/payout.lua" "$base" -- "$nonce" w
    check_warmup payoutd-warmup
  fi

  local before after diff
  before="$(settled_balance)"
  run_wrk payoutd "$DURATION_S" -s "$here/payout.lua" "$base" -- "$nonce" m
  after="$(settled_balance)"
  diff=$((before - after))
  ((diff % PAYOUT_MINOR == 0)) || die "the funder's balance moved by $diff minor units, not a multiple of 1.00"
  ledger_payouts=$((diff / PAYOUT_MINOR))

  stop_proc payoutd "$payoutd_pid"
  payoutd_pid=""
  ((stop_rc == 0)) || die "payoutd exited with status $stop_rc after SIGTERM (expected 0)"
}

# --- nginx ---------------------------------------------------------------------------------------
bench_nginx() {
  local port code="" i
  port="$("${tool[@]}" free-port)"
  mkdir -p "$tmpdir/nginx"
  local nginx_listen_tls="" nginx_tls=""
  if ((TLS)); then
    nginx_listen_tls=" ssl"
    nginx_tls="        ssl_certificate $tmpdir/tls.crt;
        ssl_certificate_key $tmpdir/tls.key;
        ssl_protocols TLSv1.3;
"
  fi
  cat >"$tmpdir/nginx/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
daemon off;
pid $tmpdir/nginx/nginx.pid;
lock_file $tmpdir/nginx/nginx.lock;
error_log $tmpdir/nginx-error.log warn;

events {
    worker_connections 1024;
}

http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    client_body_temp_path $tmpdir/nginx/body;
    proxy_temp_path $tmpdir/nginx/proxy;
    fastcgi_temp_path $tmpdir/nginx/fastcgi;
    uwsgi_temp_path $tmpdir/nginx/uwsgi;
    scgi_temp_path $tmpdir/nginx/scgi;

    server {
        listen 127.0.0.1:$port$nginx_listen_tls;
$nginx_tls        location / {
            default_type application/json;
            return 200 '{"status":"SUCCESS"}';
        }
    }
}
EOF
  "$NGINX" -p "$tmpdir/nginx" -c "$tmpdir/nginx/nginx.conf" -e "$tmpdir/nginx-error.log" \
    >"$tmpdir/nginx.err" 2>&1 </dev/null &
  nginx_pid=$!

  local url="$scheme://127.0.0.1:$port/"
  for ((i = 0; i < 100; i++)); do
    code="$(curl -sS --max-time 2 "${curl_tls[@]}" -o /dev/null -w '%{http_code}' "$url" 2>/dev/null || true)"
    [[ $code == 200 ]] && break
    if ! kill -0 "$nginx_pid" 2>/dev/null; then
      nginx_pid=""
      die "nginx exited while starting"
    fi
    sleep 0.1
  done
  [[ $code == 200 ]] || die "nginx did not answer 200 on $url within 10 s"

  # nginx gets the very same requests as payoutd (the payout PUT with its body, a new path each
  # time, built by the same Lua script): the load generator then costs the same on both sides and
  # the ratio compares the servers, not wrk's fast path for a fixed GET against its Lua path.
  if ((WARMUP_S > 0)); then
    run_wrk nginx-warmup "$WARMUP_S" -s "$here/payout.lua" "$url" -- "$nonce" nw
    check_warmup nginx-warmup
  fi
  run_wrk nginx "$DURATION_S" -s "$here/payout.lua" "$url" -- "$nonce" nm

  stop_proc nginx "$nginx_pid"
  nginx_pid=""
  ((stop_rc == 0)) || note "warning: nginx exited with status $stop_rc"
}

# --- run -----------------------------------------------------------------------------------------
case "$ONLY" in
  "") what="payoutd, then nginx (worker_processes $NGINX_WORKERS)" ;;
  payoutd) what="payoutd only" ;;
  nginx) what="nginx only (worker_processes $NGINX_WORKERS)" ;;
esac
note "$what over $scheme: wrk -t$THREADS -c$CONNECTIONS, ${WARMUP_S}s warm-up + ${DURATION_S}s measured each"

ledger_payouts=0
base=""
((run_payoutd)) && bench_payoutd
((run_nginx)) && bench_nginx

report_args=(--tolerance "$CONNECTIONS" --nginx-workers "$NGINX_WORKERS"
             --floor "$FLOOR" --target "$TARGET" --enforce-floor "$ENFORCE_FLOOR")
((run_payoutd)) && report_args+=(--payoutd-wrk "$tmpdir/wrk-payoutd.txt" --ledger-payouts "$ledger_payouts")
((run_nginx)) && report_args+=(--nginx-wrk "$tmpdir/wrk-nginx.txt")
rc=0
"${tool[@]}" report "${report_args[@]}" || rc=$?
exit "$rc"
