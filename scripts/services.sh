#!/usr/bin/env bash
# Makes sure the services imgate's tests need answer on loopback:
# Postgres on 127.0.0.1:5432 (user postgres, no password) and Redis on
# 127.0.0.1:6379. Uses them when they answer; otherwise installs them from
# Debian's packages if missing, and starts them. Also installs protoc,
# which the test command uses to check the generated XSYNC code, and
# promtool, which checks the Prometheus files in deploy/.
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

postgres
redis
tools
echo "services: postgres on 127.0.0.1:5432 and redis on 127.0.0.1:6379 answer"
