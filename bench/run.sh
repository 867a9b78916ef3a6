#!/usr/bin/env bash
# The `Bench` target: Meeshkan next to task-spooler (issue 6). Usage: bash bench/run.sh [Configuration] [--quick]
# Runs the native `meeshkan` (as installed) next to task-spooler: builds a hello-world and the bench runner, runs them,
# and writes docs/benchmarks.md. Takes about 5-10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=${1:-Release}
shift || true

# `./build.sh --target=Bench` publishes the native `meeshkan` (the Publish target) and installs task-spooler
# (build.sh's packages) before it runs this script.
meeshkan=artifacts/meeshkan/meeshkan
[ -x "$meeshkan" ] || { echo "bench: $meeshkan is missing; run ./build.sh --target=Bench (or --target=Publish first)" >&2; exit 2; }
command -v tsp >/dev/null || { echo "bench: tsp is missing; run ./build.sh --target=Bench (it installs task-spooler)" >&2; exit 2; }
out=artifacts/bench
rm -rf "$out"
dotnet build bench/HelloWorld/HelloWorld.csproj -c "$configuration" -o "$out/hello" --nologo -v q
# The same program as a native executable: the floor for `meeshkan`, which is one too.
dotnet publish bench/HelloWorld/HelloWorld.csproj -c "$configuration" -r "$(dotnet --info | sed -n 's/^ *RID: *//p' | head -1)" \
  -p:PublishAot=true -o "$out/hello-native" --nologo -v q
dotnet build bench/Meeshkan.Bench/Meeshkan.Bench.csproj -c "$configuration" -o "$out/runner" --nologo -v q

# Short: the agents' socket paths live under it (Unix allows 107 bytes).
work=$(mktemp -d /tmp/mkb.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "Python report_scalar cost (bench/python_report_scalar.py)"
/usr/bin/python3 bench/python_report_scalar.py | tee "$work/python.txt"
dotnet "$out/runner/Meeshkan.Bench.dll" --meeshkan "$meeshkan" --hello "$out/hello/HelloWorld" --hello-native "$out/hello-native/HelloWorld" \
  --work "$work" --out docs/benchmarks.md --notes bench/notes.md --python-results "$work/python.txt" \
  --build "$configuration, $(uname -m), Native AOT (artifacts/meeshkan from the Publish target, as the tool package installs it)" "$@"
