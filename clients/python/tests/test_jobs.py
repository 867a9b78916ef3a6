"""as_blocking_job / create_blocking_job: a script run by hand becomes a job the agent lists."""

from __future__ import annotations

import os
import sys

import pytest

import meeshkan


@pytest.fixture
def agent_socket(monkeypatch, agent):
    monkeypatch.setenv("MEESHKAN_SOCKET", agent.socket_path)
    return agent


def test_as_blocking_job_registers_reports_and_finishes(agent_socket) -> None:
    agent = agent_socket

    @meeshkan.as_blocking_job("by-hand", 10)
    def train(epochs: int) -> str:
        for epoch in range(epochs):
            meeshkan.report_scalar("loss", 1.0 / (epoch + 1))
        return "trained"

    assert train(5) == "trained"
    [registration] = agent.requests("RegisterJob")
    assert registration.name == "by-hand"
    assert registration.report_interval_seconds == 10
    assert registration.pid == os.getpid()
    assert registration.working_directory == os.getcwd()
    assert registration.command[0] == sys.executable
    [finish] = agent.requests("FinishJob")
    assert finish.success and finish.exit_code == 0 and finish.error == ""
    assert len(agent.points(finish.job_id)) == 5  # all stored before FinishJob
    assert [name for name, _ in agent.calls][-1] == "FinishJob"


def test_an_exception_finishes_the_job_as_failed_and_propagates(agent_socket) -> None:
    agent = agent_socket

    @meeshkan.as_blocking_job("broken", 60)
    def train() -> None:
        meeshkan.report_scalar("loss", 1.0)
        raise RuntimeError("diverged")

    with pytest.raises(RuntimeError, match="diverged"):
        train()
    [finish] = agent.requests("FinishJob")
    assert not finish.success and finish.exit_code == 1
    assert finish.error == "RuntimeError('diverged')"


def test_create_blocking_job_yields_the_job_id_and_scalars_after_it_are_not_recorded(
        agent_socket, capsys) -> None:
    agent = agent_socket
    with meeshkan.create_blocking_job("ctx") as job_id:
        meeshkan.report_scalar("inside", 1.0)
    meeshkan.report_scalar("outside", 2.0)
    assert meeshkan.flush(5)
    assert [name for name, _, _ in agent.points()] == ["inside"]
    assert agent.requests("FinishJob")[0].job_id == job_id
    assert "not running as a Meeshkan job" in capsys.readouterr().err


def test_conditions_added_before_the_job_are_registered_for_it(agent_socket) -> None:
    agent = agent_socket
    meeshkan.add_condition("loss", lambda loss: loss < 1)
    with meeshkan.create_blocking_job("ctx") as job_id:
        meeshkan.report_scalar("loss", 0.5)
    [registration] = agent.requests("AddCondition")
    assert registration.job_id == job_id
    assert agent.requests("ReportConditionMet")[0].job_id == job_id


def test_without_an_agent_the_function_still_runs_with_one_warning(
        monkeypatch, socket_path, capsys) -> None:
    monkeypatch.setenv("MEESHKAN_SOCKET", socket_path)  # nobody listens there

    @meeshkan.as_blocking_job("lonely", 5)
    def train() -> int:
        meeshkan.report_scalar("loss", 1.0)
        return 42

    assert train() == 42
    err = capsys.readouterr().err
    assert err.count("could not register job 'lonely'") == 1


def test_inside_a_submitted_job_nothing_is_registered(agent, job_id) -> None:
    with meeshkan.create_blocking_job("nested") as current:
        meeshkan.report_scalar("loss", 1.0)
    assert current == job_id
    assert meeshkan.flush(5)
    assert agent.requests("RegisterJob") == [] and agent.requests("FinishJob") == []
    assert len(agent.points(job_id)) == 1


@pytest.mark.parametrize("args, error", [
    ((3, 10), TypeError), (("x", "10"), TypeError), (("x", 0), ValueError), (("x", True), TypeError),
])
def test_argument_errors(args, error) -> None:
    with pytest.raises(error):
        meeshkan.as_blocking_job(*args)
    with pytest.raises(error):
        with meeshkan.create_blocking_job(*args):
            pass
