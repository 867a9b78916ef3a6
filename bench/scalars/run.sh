#!/usr/bin/env bash
# Scalar benchmarks (issue 3, "Speed"). Usage: bash bench/scalars/run.sh [Configuration] [bench.py options]
# Builds the C# bench job, runs bench/scalars/bench.py with Debian's python3 (it has grpcio),
# and writes docs/benchmarks-scalars.md. About 3-5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
configuration=${1:-Release}
shift || true
# `./build.sh --target=Bench` publishes the native `meeshkan` (the Publish target) before it runs this script.
meeshkan=artifacts/meeshkan/meeshkan
[ -x "$meeshkan" ] || { echo "bench: $meeshkan is missing; run ./build.sh --target=Bench (or --target=Publish first)" >&2; exit 2; }
echo "Building bench/scalars/ScalarsJob ($configuration)"
dotnet build bench/scalars/ScalarsJob/ScalarsJob.csproj -c "$configuration" --nologo -v q
exec /usr/bin/python3 bench/scalars/bench.py \
  --meeshkan "$meeshkan" \
  --csharp-job "bench/scalars/ScalarsJob/bin/$configuration/net10.0/ScalarsJob.dll" \
  --out docs/benchmarks-scalars.md --build "$configuration, $(uname -m), Native AOT (artifacts/meeshkan, the installed tool)" "$@"
