#!/usr/bin/env bash
# imgate's test command, the one CI runs: starts what the tests need, then
# vet, gofmt and the race-enabled tests, with the Postgres and Redis tests
# required rather than skipped. Extra arguments go to `go test`. The
# tests include the chaos suite's short plan (TestChaos in
# internal/clustertest, on a private Postgres and Redis; scripts/chaos.sh
# runs the full one).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh

echo "== go vet"
go vet ./...

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" $unformatted >&2
  exit 1
fi

echo "== generated code"
scripts/protogen.sh --check

echo "== prometheus config and alert rules"
promtool check config deploy/prometheus/prometheus.yml
promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts_test.yml

echo "== go test -race"
export IMGATE_REQUIRE_POSTGRES=1 IMGATE_REQUIRE_REDIS=1 IMGATE_REQUIRE_PROMTOOL=1 IMGATE_REQUIRE_S3=1
go test -race -count=1 -timeout 15m "$@" ./...
