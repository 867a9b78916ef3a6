#!/usr/bin/env bash
# Several jobs at once (issue 15): 500 trivial jobs with 2 and 4 slots next to `tsp -S 2/4`, GPU handoff, memory with
# 10,000 jobs waiting; writes docs/benchmarks-parallel.md. A fake nvidia-smi (four GPUs) is put first on PATH unless
# MEESHKAN_REAL_GPUS=1. Usage: bash bench/parallel.sh [MEESHKAN_EXE] [--quick] [--queue-only]
# (--queue-only: only the "all queued first" rows, printed, for trying a change quickly; OUT=/dev/null keeps the doc)
set -euo pipefail
cd "$(dirname "$0")/.."
meeshkan=${1:-artifacts/meeshkan/meeshkan}
shift || true
command -v tsp >/dev/null || { echo "bench: tsp is missing (apt-get install task-spooler)" >&2; exit 2; }
# The data folders and task-spooler's output go under $HOME (where ~/.meeshkan lives), or BENCH_DIR: BENCH_DIR=/dev/shm
# measures the queues without the disk. On these machines' virtual disks creating a file or folder grew from 0.03 ms to
# 0.5-0.9 ms within an hour of tests (new blocks), and a Meeshkan job makes four (its folder, stdout, stderr, exit_code)
# where a task-spooler job makes one (its output file).
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
dotnet "$work/runner/Meeshkan.Bench.dll" --parallel --meeshkan "$meeshkan" --work "$work" --out "${OUT:-docs/benchmarks-parallel.md}" "$@"
