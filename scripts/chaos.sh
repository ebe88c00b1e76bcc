#!/usr/bin/env bash
# The chaos suite: three imgate nodes on a private Postgres and Redis
# (started here on free ports, never the machine's shared 5432/6379) run
# the load tool's mixed scenario once per fault: kill -9 of a node (then
# restarted), a Redis restart, a Postgres restart, Postgres stopped 20 s,
# a node paused past the presence TTL, a slow consumer filled. After
# each it checks that every message was delivered exactly once and in
# order, every node is ready again within 30 s, sends refused during a
# store outage were answered at once with a store code, and no node's
# goroutines or RSS grew (internal/clustertest/chaos_test.go states the
# bounds). It exits non-zero on any violation.
#
#   scripts/chaos.sh            # the full plan (~10 min)
#   scripts/chaos.sh --short    # the plan CI runs (part of scripts/test.sh)
#
# Output (nodes' logs, one report per fault, chaos.log) goes to
# $IMGATE_CHAOS_OUT, default /tmp/imgate-chaos-<time>. Built without the
# race detector.
set -euo pipefail
cd "$(dirname "$0")/.."
plan=full
case "${1:-}" in
  --short) plan=short ;;
  "") ;;
  *) echo "usage: scripts/chaos.sh [--short]" >&2; exit 2 ;;
esac
out=${IMGATE_CHAOS_OUT:-/tmp/imgate-chaos-$(date -u +%Y%m%dT%H%M%S)}
mkdir -p "$out"
go test -c -o "$out/clustertest.test" ./internal/clustertest
echo "chaos: $plan plan, output in $out"
cd internal/clustertest
IMGATE_CHAOS="$plan" IMGATE_CHAOS_OUT="$out" IMGATE_REQUIRE_POSTGRES=1 \
  "$out/clustertest.test" -test.run '^TestChaos$' -test.v -test.timeout 30m 2>&1 | tee "$out/chaos.log"
