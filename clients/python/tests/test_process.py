"""Whole scripts in their own interpreter: exit, missing grpc, no agent."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from conftest import run_python

PYENV_PYTHON = "/root/.pyenv/versions/3.11.7/bin/python3"

REPORT_100K = """
import meeshkan
for i in range(100_000):
    meeshkan.report_scalar("loss", i)
meeshkan.report_scalar("last", -1.0)
print("done")
"""


def job_env(socket_path: str) -> dict[str, str]:
    return {"MEESHKAN_JOB_ID": str(uuid.uuid4()), "MEESHKAN_SOCKET": socket_path}


def test_nothing_reported_before_a_normal_exit_is_lost(agent) -> None:
    env = job_env(agent.socket_path)
    result = run_python(REPORT_100K, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done" and result.stderr == ""
    points = agent.points(env["MEESHKAN_JOB_ID"])
    assert len(points) == 100_001
    assert [v for name, v, _ in points if name == "loss"] == [float(i) for i in range(100_000)]


def test_an_uncaught_exception_still_flushes(agent) -> None:
    env = job_env(agent.socket_path)
    result = run_python("import meeshkan\nmeeshkan.report_scalar('loss', 1.0)\nraise SystemExit(3)",
                        env)
    assert result.returncode == 3
    assert len(agent.points(env["MEESHKAN_JOB_ID"])) == 1


def test_without_an_agent_the_script_finishes_with_one_warning(socket_path) -> None:
    started = time.monotonic()
    result = run_python(REPORT_100K, job_env(socket_path))
    assert result.returncode == 0 and result.stdout.strip() == "done"
    assert result.stderr.count("not reachable") == 1
    assert "could not be sent" in result.stderr
    assert time.monotonic() - started < 20


def test_run_by_hand_the_script_warns_once_and_records_nothing() -> None:
    result = run_python(REPORT_100K + "import meeshkan\nmeeshkan.notify('x')\n")
    assert result.returncode == 0 and result.stdout.strip() == "done"
    assert result.stderr.count("not running as a Meeshkan job; scalars are not recorded") == 1
    assert result.stderr.count("meeshkan:") == 1


GRPC_HIDDEN = "import sys\nsys.modules['grpc'] = None\n"
USE_ALL = """
import sys, meeshkan
assert 'grpc' not in sys.modules or sys.modules['grpc'] is None
meeshkan.report_scalar("loss", 1.0, "acc", 0.5)
meeshkan.add_condition("loss", lambda loss: loss < 2)
meeshkan.notify("hi")
with meeshkan.create_blocking_job("x"):
    meeshkan.report_scalar("loss", 2.0)
print(meeshkan.flush(2), meeshkan.is_running())
"""


@pytest.mark.parametrize("python, prelude", [
    ("/usr/bin/python3", GRPC_HIDDEN),
    pytest.param(PYENV_PYTHON, "", marks=pytest.mark.skipif(
        not os.path.exists(PYENV_PYTHON), reason="no pyenv interpreter here")),
])
def test_without_grpc_import_works_and_warns_once(python, prelude, socket_path) -> None:
    result = run_python(prelude + USE_ALL, job_env(socket_path), python=python)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]
    assert result.stderr.count("meeshkan:") == 1, result.stderr
    assert "cannot import grpc" in result.stderr
    assert python in result.stderr
    assert "python3-grpcio python3-protobuf" in result.stderr
    assert "--python /usr/bin/python3" in result.stderr


def test_import_has_no_side_effects() -> None:
    code = ("import sys, threading, meeshkan\n"
            "print(threading.active_count(), 'grpc' in sys.modules, meeshkan.__version__)\n"
            "print(sorted(meeshkan.__all__))")
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first == "1 False 0.1.0"
    assert second == str(sorted(["SubmittedJob", "__version__", "add_condition", "as_blocking_job",
                                 "create_blocking_job", "flush", "is_running", "notify",
                                 "report_scalar", "restart", "start", "stop",
                                 "submit_function", "submit_notebook"]))


FORKING = """
import os, meeshkan
meeshkan.report_scalar("parent", 1.0)
pid = os.fork()
if pid == 0:
    meeshkan.report_scalar("child", 2.0)
    raise SystemExit(0)
os.waitpid(pid, 0)
meeshkan.report_scalar("parent", 3.0)
"""


def test_a_forked_child_reports_through_its_own_reporter(agent) -> None:
    env = job_env(agent.socket_path)
    result = run_python(FORKING, env)
    assert result.returncode == 0, result.stderr
    points = sorted((name, value) for name, value, _ in agent.points(env["MEESHKAN_JOB_ID"]))
    assert points == [("child", 2.0), ("parent", 1.0), ("parent", 3.0)]
    client_ids = {batch.client_id for batch in agent.requests("ReportScalars")}
    assert len(client_ids) == 2
