#!/usr/bin/env bash
# The dashboard in Chromium (issue 18): bash bench/Dashboard/run.sh [Configuration] [--points N] [--memory-seconds S]
# Needs the native `meeshkan` (the Publish target) and Debian's chromium (build.sh installs it). Writes the dashboard
# section of docs/benchmarks.md. About 3-5 minutes on 2 cores with the defaults (10,000,000 points, 120 s of memory).
set -euo pipefail
cd "$(dirname "$0")/../.."
configuration=${1:-Release}
shift || true
meeshkan=artifacts/meeshkan/meeshkan
[ -x "$meeshkan" ] || { echo "bench: $meeshkan is missing; run ./build.sh --target=Publish first" >&2; exit 2; }
[ -x /usr/bin/chromium ] || { echo "bench: /usr/bin/chromium is missing; run ./build.sh (it installs chromium)" >&2; exit 2; }
out=artifacts/bench-dashboard
dotnet build bench/Dashboard/Meeshkan.DashboardBench.csproj -c "$configuration" -o "$out" --nologo -v q
# Short: the agent's socket path lives under it (Unix allows 107 bytes).
work=$(mktemp -d /tmp/mkdb.XXXXXX)
trap 'rm -rf "$work"' EXIT
dotnet "$out/Meeshkan.DashboardBench.dll" --meeshkan "$meeshkan" --work "$work" --out docs/benchmarks.md "$@"
