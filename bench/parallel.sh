#!/usr/bin/env bash
# Several jobs at once (issue 15): 500 trivial jobs with 2 and 4 slots next to `tsp -S 2/4`, GPU handoff, memory with
# 10,000 jobs waiting; writes docs/benchmarks-parallel.md. A fake nvidia-smi (four GPUs) is put first on PATH unless
# MEESHKAN_REAL_GPUS=1. Usage: bash bench/parallel.sh [MEESHKAN_EXE] [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
meeshkan=${1:-artifacts/meeshkan/meeshkan}
shift || true
command -v tsp >/dev/null || { echo "bench: tsp is missing (apt-get install task-spooler)" >&2; exit 2; }
# The data folders and task-spooler's output go under $HOME, where ~/.meeshkan lives: on these machines creating a
# file in /tmp had grown to 0.5-0.9 ms after a day of tests, against 0.03-0.2 ms elsewhere on the same disk.
work=$(mktemp -d "${BENCH_DIR:-$HOME}/.mkp.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ "${MEESHKAN_REAL_GPUS:-0}" != 1 ]; then
  mkdir -p "$work/bin"
  cat >"$work/bin/nvidia-smi" <<'SMI'
#!/bin/sh
for i in 0 1 2 3; do echo "$i, GPU-fake-000$i, Fake GPU $i, 16384, 0"; done
SMI
  chmod +x "$work/bin/nvidia-smi"
  export PATH="$work/bin:$PATH"
fi
dotnet build bench/Meeshkan.Bench/Meeshkan.Bench.csproj -c Release -o "$work/runner" --nologo -v q
dotnet "$work/runner/Meeshkan.Bench.dll" --parallel --meeshkan "$meeshkan" --work "$work" --out docs/benchmarks-parallel.md "$@"
