#!/usr/bin/env bash
# Meeshkan on Slurm next to raw sbatch (issue 19): 50 jobs submitted and finished, how soon a state change in Slurm
# shows in `meeshkan list`, and what one poll costs with 500 Slurm jobs known. Starts its own single-node Slurm (as the
# tests do; needs root and build.sh's slurm packages). Prints a Markdown table (docs/slurm.md "Speed").
# Usage: bash bench/slurm/run.sh [MEESHKAN_EXE] [--quick]. About 4-6 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
meeshkan=${1:-artifacts/meeshkan/meeshkan}
shift || true
[ -x "$meeshkan" ] || { echo "bench: $meeshkan is missing; run ./build.sh --target=Publish first, or give the meeshkan to run" >&2; exit 2; }
work=$(mktemp -d /tmp/mks.XXXXXX)
trap 'rm -rf "$work"' EXIT
dotnet build bench/slurm/Meeshkan.SlurmBench.csproj -c Release -o "$work/runner" --nologo -v q
dotnet "$work/runner/Meeshkan.SlurmBench.dll" --meeshkan "$(realpath "$meeshkan")" --work "$work" "$@"
