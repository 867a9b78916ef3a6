"""The checked-in gRPC stubs match what generate_stubs.sh makes from protos/ today."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess

import pytest
from conftest import CLIENT_DIR

GENERATED = os.path.join(CLIENT_DIR, "meeshkan", "v1")


@pytest.mark.skipif(shutil.which("protoc") is None, reason="protoc is not installed")
def test_checked_in_stubs_are_up_to_date(tmp_path) -> None:
    subprocess.run([os.path.join(CLIENT_DIR, "generate_stubs.sh"), str(tmp_path)], check=True)
    fresh_dir = tmp_path / "meeshkan" / "v1"
    fresh = sorted(p.name for p in fresh_dir.glob("*.py"))
    checked_in = sorted(p for p in os.listdir(GENERATED) if p.endswith(("_pb2.py", "_pb2_grpc.py")))
    assert fresh == checked_in, "stale stubs: run clients/python/generate_stubs.sh"
    differing = [name for name in fresh
                 if not filecmp.cmp(fresh_dir / name, os.path.join(GENERATED, name), shallow=False)]
    assert differing == [], f"stale stubs {differing}: run clients/python/generate_stubs.sh"
