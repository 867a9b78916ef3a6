#!/usr/bin/env bash
# Dependencies and timeouts (issue 16): how soon a dependant starts (submit --after, next to a naive shell pipeline and
# `tsp -D`), how late a timeout fires, 1,000 chained jobs against 1,000 independent ones; writes
# docs/benchmarks-pipeline.md. Usage: bash bench/pipeline.sh [MEESHKAN_EXE] [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
meeshkan=${1:-artifacts/meeshkan/meeshkan}
shift || true
command -v tsp >/dev/null || { echo "bench: tsp is missing (apt-get install task-spooler)" >&2; exit 2; }
work=$(mktemp -d /tmp/mkd.XXXXXX)
trap 'rm -rf "$work"' EXIT
dotnet build bench/Meeshkan.Bench/Meeshkan.Bench.csproj -c Release -o "$work/runner" --nologo -v q
dotnet "$work/runner/Meeshkan.Bench.dll" --pipeline --meeshkan "$meeshkan" --work "$work" --out docs/benchmarks-pipeline.md "$@"
