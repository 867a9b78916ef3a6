#!/bin/sh
# Regenerates the checked-in Python gRPC stubs in meeshkan/v1/ from protos/meeshkan/v1/*.proto.
# Uses Debian's protoc 3.21 + grpc_python_plugin: their output imports on Debian's protobuf 4.21
# (Grpc.Tools' bundled protoc does not). Usage: generate_stubs.sh [OUTPUT_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$here}
plugin=${GRPC_PYTHON_PLUGIN:-/usr/bin/grpc_python_plugin}
cd "$repo"
protoc -I protos \
  --python_out="$out" \
  --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python="$plugin" \
  protos/meeshkan/v1/*.proto
