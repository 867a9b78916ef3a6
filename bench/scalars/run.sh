#!/usr/bin/env bash
# Scalar benchmarks (issue 3, "Speed"). Usage: bash bench/scalars/run.sh [Configuration] [bench.py options]
# Publishes the native CLI and builds the C# bench job, runs bench/scalars/bench.py with Debian's python3 (it has grpcio),
# and writes docs/benchmarks-scalars.md. About 3-5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
configuration=${1:-Release}
shift || true
case "$(uname -m)" in
  aarch64) rid=linux-arm64 ;;
  *) rid=linux-x64 ;;
esac
echo "Publishing meeshkan ($configuration, $rid, Native AOT) and building bench/scalars/ScalarsJob"
dotnet publish src/Meeshkan.Cli/Meeshkan.Cli.csproj -c "$configuration" -r "$rid" -o artifacts/meeshkan --nologo -v q
dotnet build bench/scalars/ScalarsJob/ScalarsJob.csproj -c "$configuration" --nologo -v q
exec /usr/bin/python3 bench/scalars/bench.py \
  --meeshkan artifacts/meeshkan/meeshkan \
  --csharp-job "bench/scalars/ScalarsJob/bin/$configuration/net10.0/ScalarsJob.dll" \
  --out docs/benchmarks-scalars.md --build "$configuration, $rid, Native AOT (the installed tool)" "$@"
