#!/usr/bin/env bash
# The soak: three imgate nodes on a private Postgres and Redis (started
# here, never the machine's shared ones) run the load tool's mixed
# scenario for DURATION (default 1h) at half the chat rate they keep up
# with, measured first in 15 s steps (or at RATE msgs/s when given).
# Every node's RSS and goroutines are sampled each minute; the run fails
# unless every message was delivered exactly once and in order and the
# samples are flat (the rule is in internal/clustertest/soak_test.go).
#
#   scripts/soak.sh [DURATION [RATE]]     # output in $IMGATE_SOAK_OUT,
#                                         # default /tmp/imgate-soak-<time>
#
# The imgate binary and the test are built without the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-1h}
out=${IMGATE_SOAK_OUT:-/tmp/imgate-soak-$(date -u +%Y%m%dT%H%M%S)}
mkdir -p "$out"
go test -c -o "$out/clustertest.test" ./internal/clustertest
echo "soak: $duration, output in $out"
cd internal/clustertest
IMGATE_SOAK="$duration" IMGATE_SOAK_RATE="${2:-}" IMGATE_SOAK_OUT="$out" IMGATE_REQUIRE_POSTGRES=1 \
  "$out/clustertest.test" -test.run '^TestSoak$' -test.v -test.timeout "${IMGATE_SOAK_TIMEOUT:-3h}" 2>&1 | tee "$out/soak.log"
