"""Controlling the agent from Python by running the ``meeshkan`` command-line tool.

The executable is ``MEESHKAN_CLI`` when set (the agent exports it into every job's environment),
else ``meeshkan`` on PATH. One place spawns it: ``_run``.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from . import _agent

STATUS_TIMEOUT = 1.0
COMMAND_TIMEOUT = 60.0


def is_running() -> bool:
    """True when the agent answers GetStatus on its socket within about a second."""
    agent = _agent.connect()
    if agent is None:
        return False
    try:
        agent.jobs.GetStatus(agent.protocol.jobs_pb2.GetStatusRequest(), timeout=STATUS_TIMEOUT)
        return True
    except agent.protocol.grpc.RpcError:
        return False
    finally:
        agent.close()


def start() -> bool:
    """Starts the agent (``meeshkan start``); True when it is running afterwards."""
    _run("start")
    return is_running()


def stop() -> bool:
    """Stops the agent (``meeshkan stop``); True when it is no longer running."""
    _run("stop")
    return not is_running()


def restart() -> bool:
    """Stops then starts the agent; True when it is running afterwards."""
    stop()
    return start()


def cli_path() -> str:
    """The meeshkan executable; RuntimeError when there is none."""
    explicit = os.environ.get("MEESHKAN_CLI")
    if explicit:
        return explicit
    found = shutil.which("meeshkan")
    if found is None:
        raise RuntimeError("cannot find the meeshkan command: put it on PATH or set MEESHKAN_CLI")
    return found


def _run(command: str) -> None:
    """Runs ``meeshkan COMMAND``; RuntimeError with its output when it fails."""
    executable = cli_path()
    try:
        result = subprocess.run(
            [executable, command], stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=COMMAND_TIMEOUT, check=False,
        )
    except OSError as error:
        raise RuntimeError(f"cannot run {executable}: {error}") from error
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise RuntimeError(f"`meeshkan {command}` failed with exit status {result.returncode}"
                           + (f": {output}" if output else ""))
