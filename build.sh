#!/usr/bin/env bash
# Bootstraps a fresh Debian machine and runs a Cake target: ./build.sh --target=Test
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the tests and jobs need (Debian's Python is the one with grpcio; see README; Slurm and munge for the
# single-node cluster tests/Meeshkan.Slurm.Tests starts itself: no systemd needed).
packages=(python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc libprotobuf-dev python3-pytest
          python3-aiosmtpd task-spooler python3-torch python3-sklearn fonts-dejavu-core time
          slurmctld slurmd slurm-client munge
          python3-venv python3-setuptools python3-nbclient python3-ipykernel python3-cloudpickle chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet tool restore >/dev/null
exec dotnet cake build.cake "$@"
