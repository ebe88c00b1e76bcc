#!/usr/bin/env bash
# Runs the load-test scenarios of BENCHMARKS.md's target table against a
# fresh imgate on this machine and keeps each report (table and JSON).
#
#   scripts/loadtest-targets.sh MODE [SCENARIO...]
#
# MODE: embedded (one node, SQLite), pgredis (one node, Postgres + Redis)
# or cluster3 (three nodes on one Postgres and Redis). SCENARIO: idle,
# storm, chat, rest, group10k, group1k, mixed; default all of them.
# Reports go to $OUT (default /tmp/imgate-targets); IMGATE_BIN runs a
# prebuilt imgate instead of this tree's. Postgres and Redis
# must answer on 127.0.0.1:5432 (user postgres) and :6379 for pgredis and
# cluster3 (scripts/services.sh starts them); each run uses a database
# and a Redis key prefix of its own and drops the database after.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:?usage: $0 embedded|pgredis|cluster3 [scenario...]}
shift
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(idle storm chat rest group10k group1k mixed)
out=${OUT:-/tmp/imgate-targets}
duration=${DURATION:-20s}
mkdir -p "$out"
ulimit -n 20000

# IMGATE_BIN runs a binary built elsewhere (e.g. from an earlier commit,
# to compare before and after a change in one session) instead of this
# tree's.
imgate=${IMGATE_BIN:-$out/imgate}
[ -n "${IMGATE_BIN:-}" ] || go build -o "$out/imgate" ./cmd/imgate
go build -o "$out/imgate-loadtest" ./cmd/imgate-loadtest

run=$mode-$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${db:-}" ]; then psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null || true; fi
  rm -rf "$out/data-$run"
}
trap cleanup EXIT

store=(--data-dir "$out/data-$run")
bus=()
# On the embedded store any Postgres on the machine is someone else's.
pgcpu=(--postgres-cpu=false)
nodes=1
case $mode in
  embedded) ;;
  pgredis|cluster3)
    db=imgate_bench_$$
    psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $db" >/dev/null
    store=(--postgres "postgres://postgres@127.0.0.1:5432/$db?sslmode=disable")
    bus=(--redis redis://127.0.0.1:6379/0 --redis-prefix "imgatebench$$")
    pgcpu=()
    [ "$mode" = cluster3 ] && nodes=3
    ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac

creds=$("$imgate" app create --id loadtest --name loadtest --group-capacity 20000 "${store[@]}")
token=$(printf '%s' "$creds" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
urls=()
murls=()
for i in $(seq 0 $((nodes - 1))); do
  "$imgate" serve "${store[@]}" "${bus[@]}" --listen "127.0.0.1:$((18300 + i))" \
    --metrics-listen "127.0.0.1:$((19300 + i))" --pprof --node "n$i" --password-cost 4 --send-rate 100000 --user-send-rate 0 --max-conns-per-ip 0 \
    --log-level warn >"$out/$mode-node$i.log" 2>&1 &
  pids+=($!)
  urls+=("http://127.0.0.1:$((18300 + i))")
  murls+=("http://127.0.0.1:$((19300 + i))/metrics")
done
for u in "${urls[@]}"; do
  for _ in $(seq 1 100); do curl -sf "$u/healthz" >/dev/null && break; sleep 0.1; done
done
url=$(IFS=,; echo "${urls[*]}")
metrics=$(IFS=,; echo "${murls[*]}")

lt() {
  local name=$1; shift
  echo "== $mode $name: imgate-loadtest $*" | tee "$out/$mode-$name.txt"
  "$out/imgate-loadtest" "$@" --url "$url" --app-id loadtest --admin-token "$token" \
    --metrics-url "$metrics" "${pgcpu[@]}" --quiet | tee -a "$out/$mode-$name.txt" || true
}

for s in "${scenarios[@]}"; do
  case $s in
    idle) lt idle idle --devices 19000 --duration "$duration" --source-addrs 4 ;;
    storm) lt storm storm --devices 19000 --messages 5 --source-addrs 4 ;;
    chat) lt chat chat --pairs 2000 --rate 10000 --duration "$duration" ;;
    rest) lt rest chat --pairs 2000 --rate 10000 --duration "$duration" --via rest ;;
    group10k) lt group10k group --members 10000 --senders 4 --rate 30 --duration "$duration" --source-addrs 2 ;;
    group1k) lt group1k group --members 1000 --senders 40 --rate 1000 --duration 10s ;;
    mixed) lt mixed mixed --pairs 1000 --chat-rate 2000 --rest-share 0.25 --groups 5 --group-size 200 \
      --group-rate 10 --churn 5 --duration "$duration" ;;
    *) echo "unknown scenario $s" >&2 ;;
  esac
done
