#!/usr/bin/env bash
# Scalars from a job's output (issue 17). Usage: bash bench/output_scalars/run.sh [Configuration] [bench.py options]
# Builds the CLI (its agent) and the parser bench in that configuration, then runs bench/output_scalars/bench.py with
# Debian's python3 and writes docs/benchmarks-output-scalars.md. About 3 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
configuration=${1:-Release}
shift || true
dotnet build src/Meeshkan.Cli/Meeshkan.Cli.csproj -c "$configuration" --nologo -v q
dotnet build bench/output_scalars/ParseBench/ParseBench.csproj -c "$configuration" --nologo -v q
exec /usr/bin/python3 bench/output_scalars/bench.py \
  --meeshkan "src/Meeshkan.Cli/bin/$configuration/net10.0/meeshkan" \
  --parse-bench "bench/output_scalars/ParseBench/bin/$configuration/net10.0/ParseBench.dll" \
  --out docs/benchmarks-output-scalars.md --build "$configuration, $(uname -m), the complete CLI's agent (JIT)" "$@"
