#!/usr/bin/env bash
# Makes sure the services imgate's tests need answer on loopback:
# Postgres on 127.0.0.1:5432 (user postgres, no password) and Redis on
# 127.0.0.1:6379. Uses them when they answer; otherwise installs them from
# Debian's packages if missing, and starts them. Also installs protoc,
# which the test command uses to check the generated XSYNC code, and
# promtool, which checks the Prometheus files in deploy/. And a local
# S3-protocol server on 127.0.0.1:7070 for the s3 file backend's tests:
# versitygw (Apache-2.0) over a directory, built once from its Go module
# into $HOME/.cache/imgate (a minute of compiling, then instant).
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() {
  for _ in $(seq 1 60); do answers "$1" && return 0; sleep 0.5; done
  echo "services: nothing answers on 127.0.0.1:$1" >&2; return 1
}
apt_updated=
install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

postgres() {
  answers 5432 && return 0
  command -v pg_ctlcluster >/dev/null || install postgresql
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  local hba=/etc/postgresql/$version/main/pg_hba.conf
  # The tests connect over TCP as postgres without a password.
  if ! as_root grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
    as_root sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster "$version" main start
  wait_for 5432
}

redis() {
  answers 6379 && return 0
  command -v redis-server >/dev/null || install redis-server
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  wait_for 6379
}

tools() {
  command -v protoc >/dev/null || install protobuf-compiler
  # The cluster tests start Redis servers of their own (to restart one,
  # and to build a Redis Cluster), even where a Redis already answers.
  command -v redis-server >/dev/null || install redis-server
  command -v redis-cli >/dev/null || install redis-tools
  # promtool checks the Prometheus configuration and alert rules in
  # deploy/prometheus; Debian ships it in the prometheus package (only
  # promtool is used, not the server).
  command -v promtool >/dev/null || install --no-install-recommends prometheus
}

# The versitygw release the tests run against, its keys (test-only, the
# defaults of internal/s3test) and where it keeps its buckets.
versitygw_version=v1.8.0
cache=${XDG_CACHE_HOME:-$HOME/.cache}/imgate
s3() {
  answers 7070 && return 0
  local bin=$cache/versitygw-$versitygw_version
  if [ ! -x "$bin" ]; then
    mkdir -p "$cache/bin"
    GOBIN="$cache/bin" GOFLAGS=-buildvcs=false go install "github.com/versity/versitygw/cmd/versitygw@$versitygw_version"
    mv "$cache/bin/versitygw" "$bin"
  fi
  mkdir -p "$cache/s3"
  # setsid: the server outlives this script, as Postgres and Redis do.
  setsid "$bin" --access imgate --secret imgate-secret --port 127.0.0.1:7070 posix "$cache/s3" \
    >"$cache/versitygw.log" 2>&1 </dev/null &
  wait_for 7070
}

postgres
redis
s3
tools
echo "services: postgres on 127.0.0.1:5432, redis on 127.0.0.1:6379 and S3 (versitygw) on 127.0.0.1:7070 answer"
