"""is_running / start / stop / restart: the agent is controlled through the meeshkan CLI."""

from __future__ import annotations

import os
import stat

import pytest

import meeshkan


@pytest.fixture
def fake_cli(short_dir, monkeypatch):
    """A stand-in CLI that appends its arguments to a log file."""
    log = os.path.join(short_dir, "cli.log")
    path = os.path.join(short_dir, "meeshkan")
    with open(path, "w") as script:
        script.write(f'#!/bin/sh\necho "$@" >> {log}\n[ "$1" != fail ]\n')
    os.chmod(path, stat.S_IRWXU)
    monkeypatch.setenv("MEESHKAN_CLI", path)
    return log


def test_is_running_asks_the_agent_for_its_status(agent, monkeypatch) -> None:
    monkeypatch.setenv("MEESHKAN_SOCKET", agent.socket_path)
    assert meeshkan.is_running()
    assert len(agent.requests("GetStatus")) == 1


def test_is_running_is_false_without_an_agent(socket_path, monkeypatch) -> None:
    monkeypatch.setenv("MEESHKAN_SOCKET", socket_path)
    assert meeshkan.is_running() is False


def test_the_socket_defaults_to_meeshkan_home(agent, short_dir, monkeypatch) -> None:
    monkeypatch.setenv("MEESHKAN_HOME", short_dir)  # agent listens on short_dir/agent.sock
    assert meeshkan.is_running()


def test_start_stop_and_restart_run_the_cli(fake_cli, socket_path, monkeypatch) -> None:
    monkeypatch.setenv("MEESHKAN_SOCKET", socket_path)
    assert meeshkan.start() is False  # the fake CLI starts nothing
    assert meeshkan.stop() is True
    assert meeshkan.restart() is False
    with open(fake_cli) as log:
        assert log.read().split() == ["start", "stop", "stop", "start"]


def test_a_missing_cli_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuntimeError, match="MEESHKAN_CLI"):
        meeshkan.start()


def test_a_failing_cli_is_an_error_with_its_status(short_dir, monkeypatch) -> None:
    path = os.path.join(short_dir, "broken")
    with open(path, "w") as script:
        script.write("#!/bin/sh\necho 'agent failed to start' >&2\nexit 3\n")
    os.chmod(path, stat.S_IRWXU)
    monkeypatch.setenv("MEESHKAN_CLI", path)
    with pytest.raises(RuntimeError, match="exit status 3: agent failed to start"):
        meeshkan.start()
