#!/usr/bin/env bash
# The `Bench` target: Meeshkan next to task-spooler (issue 6). Usage: bash bench/run.sh [Configuration] [--quick]
# Publishes `meeshkan` the way it is installed (Native AOT), builds a hello-world and the bench runner, runs them,
# and writes docs/benchmarks.md. Takes about 5-10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=${1:-Release}
shift || true

if ! command -v tsp >/dev/null; then
  echo "Installing task-spooler"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends task-spooler >/dev/null
fi

case "$(uname -m)" in
  aarch64) rid=linux-arm64 ;;
  *) rid=linux-x64 ;;
esac
out=artifacts/bench
rm -rf "$out"
echo "Publishing meeshkan ($configuration, $rid, Native AOT)"
dotnet publish src/Meeshkan.Cli/Meeshkan.Cli.csproj -c "$configuration" -r "$rid" -o artifacts/meeshkan --nologo -v q
dotnet build bench/HelloWorld/HelloWorld.csproj -c "$configuration" -o "$out/hello" --nologo -v q
dotnet build bench/Meeshkan.Bench/Meeshkan.Bench.csproj -c "$configuration" -o "$out/runner" --nologo -v q

# Short: the agents' socket paths live under it (Unix allows 107 bytes).
work=$(mktemp -d /tmp/mkb.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "Python report_scalar cost (bench/python_report_scalar.py)"
/usr/bin/python3 bench/python_report_scalar.py | tee "$work/python.txt"
dotnet "$out/runner/Meeshkan.Bench.dll" --meeshkan artifacts/meeshkan/meeshkan --hello "$out/hello/HelloWorld" \
  --work "$work" --out docs/benchmarks.md --notes bench/notes.md --python-results "$work/python.txt" \
  --build "$configuration, $rid, Native AOT (dotnet publish -r $rid, as the tool package installs it)" "$@"
