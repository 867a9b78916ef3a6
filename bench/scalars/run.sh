#!/usr/bin/env bash
# Scalar benchmarks (issue 3, "Speed"). Usage: bash bench/scalars/run.sh [Configuration] [bench.py options]
# Builds the CLI and the C# bench job, runs bench/scalars/bench.py with Debian's python3 (it has grpcio),
# and writes docs/benchmarks-scalars.md. About 3-5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
configuration=${1:-Release}
shift || true
echo "Building meeshkan and bench/scalars/ScalarsJob ($configuration)"
dotnet build src/Meeshkan.Cli/Meeshkan.Cli.csproj -c "$configuration" --nologo -v q
dotnet build bench/scalars/ScalarsJob/ScalarsJob.csproj -c "$configuration" --nologo -v q
exec /usr/bin/python3 bench/scalars/bench.py \
  --meeshkan "src/Meeshkan.Cli/bin/$configuration/net10.0/meeshkan" \
  --csharp-job "bench/scalars/ScalarsJob/bin/$configuration/net10.0/ScalarsJob.dll" \
  --out docs/benchmarks-scalars.md --build "$configuration, dotnet build (JIT)" "$@"
