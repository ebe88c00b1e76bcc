#!/usr/bin/env bash
# Regenerates the Go code of the XSYNC schema (gateway/xsync/*.proto):
#   scripts/protogen.sh           write gateway/xsync/*.pb.go
#   scripts/protogen.sh --check   fail if they differ from what the .proto files give
# Needs protoc (Debian: protobuf-compiler); protoc-gen-go is built from the
# version go.mod pins, so the output depends only on the repository (and,
# in one header line, on protoc's version, which --check ignores).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protogen: install protoc (apt-get install protobuf-compiler)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
out=gateway/xsync
[ "${1:-}" = "--check" ] && out=$work/out && mkdir -p "$out"
protoc --plugin=protoc-gen-go="$work/protoc-gen-go" \
  -I gateway/xsync --go_out="$out" --go_opt=paths=source_relative \
  gateway/xsync/*.proto
if [ "${1:-}" = "--check" ]; then
  for f in "$out"/*.pb.go; do
    if ! diff -q -I '^// 	protoc  ' "$f" "gateway/xsync/$(basename "$f")" >/dev/null; then
      echo "protogen: gateway/xsync/$(basename "$f") is stale; run scripts/protogen.sh" >&2
      exit 1
    fi
  done
  echo "protogen: generated code is up to date"
else
  echo "protogen: wrote gateway/xsync/*.pb.go"
fi
