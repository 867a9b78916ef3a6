"""Fixtures: a fake agent on a short Unix socket path, and a fresh process-wide reporter."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from typing import Iterator

import pytest

CLIENT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, CLIENT_DIR)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_agent import FakeAgent  # noqa: E402
from meeshkan import _log, _reporter  # noqa: E402

PYTHON = "/usr/bin/python3"


@pytest.fixture
def short_dir() -> Iterator[str]:
    """A directory under /tmp: socket paths must stay under ~108 bytes."""
    path = tempfile.mkdtemp(prefix="mk", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def socket_path(short_dir: str) -> str:
    return os.path.join(short_dir, "agent.sock")


@pytest.fixture
def agent(socket_path: str) -> Iterator[FakeAgent]:
    fake = FakeAgent(socket_path).start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def fresh_reporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own reporter, warnings not yet shown and no job in the environment."""
    for name in ("MEESHKAN_JOB_ID", "MEESHKAN_SOCKET", "MEESHKAN_HOME", "MEESHKAN_CLI"):
        monkeypatch.delenv(name, raising=False)
    _log._shown.clear()
    old = _reporter.install(_reporter.Reporter())
    yield
    _reporter.current().close(timeout=5)
    _reporter.install(old)
    _log._shown.clear()


@pytest.fixture
def job_id(monkeypatch: pytest.MonkeyPatch, socket_path: str) -> str:
    """Makes this process look like a job the agent started, with the socket of ``agent``."""
    value = str(uuid.uuid4())
    monkeypatch.setenv("MEESHKAN_JOB_ID", value)
    monkeypatch.setenv("MEESHKAN_SOCKET", socket_path)
    return value


def run_python(code: str, env: dict[str, str] | None = None, python: str = PYTHON,
               timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Runs ``code`` in a new interpreter that imports meeshkan from this checkout."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MEESHKAN_")}
    full_env["PYTHONPATH"] = CLIENT_DIR
    full_env.update(env or {})
    return subprocess.run([python, "-c", code], env=full_env, capture_output=True, text=True,
                          timeout=timeout, check=False)
