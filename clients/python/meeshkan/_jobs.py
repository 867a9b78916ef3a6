"""Blocking jobs: a script run by hand registers itself with the agent as a job.

Inside a job the agent started (``MEESHKAN_JOB_ID`` is set) there is nothing to register: the
function simply runs and reports to that job.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from typing import Any, Callable, Iterator, TypeVar

from . import _agent, _log, _reporter

F = TypeVar("F", bound=Callable[..., Any])

RPC_TIMEOUT = 5.0
FINISH_FLUSH_TIMEOUT = 60.0


@contextlib.contextmanager
def create_blocking_job(name: str, report_interval_secs: int | None = None) -> Iterator[str | None]:
    """Runs the ``with`` block as a job the agent lists (RUNNING, external).

    Registers the process (RegisterJob: name, report interval, command line, working directory,
    pid); scalars reported inside the block belong to it. On exit the scalars are flushed and the
    job is finished: successful, or failed with ``repr`` of the exception, which is re-raised.
    Yields the job id, or None when the agent cannot be reached (the block still runs).
    """
    _check_job_arguments(name, report_interval_secs)
    reporter = _reporter.start()
    if reporter.job_id is not None:
        yield reporter.job_id  # already a job: report to it
        return
    agent = reporter.agent()
    job_id = _register(agent, name, report_interval_secs) if agent is not None else None
    if job_id is None:
        yield None
        return
    reporter.set_job(job_id)
    try:
        yield job_id
    except SystemExit as error:
        success = error.code in (None, 0)
        _finish(reporter, agent, job_id, success, 0 if success else _exit_code(error.code),
                "" if success else repr(error))
        raise
    except BaseException as error:
        _finish(reporter, agent, job_id, False, 1, repr(error))
        raise
    else:
        _finish(reporter, agent, job_id, True, 0, "")


def as_blocking_job(job_name: str, report_interval_secs: int | None = None) -> Callable[[F], F]:
    """Decorator: each call of the function runs inside ``create_blocking_job``."""
    _check_job_arguments(job_name, report_interval_secs)

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with create_blocking_job(job_name, report_interval_secs):
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _check_job_arguments(name: Any, report_interval_secs: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"job name must be str, not {type(name).__name__}")
    if report_interval_secs is not None:
        if isinstance(report_interval_secs, bool) or not isinstance(report_interval_secs, (int, float)):
            raise TypeError("report_interval_secs must be a number of seconds or None")
        if report_interval_secs <= 0:
            raise ValueError("report_interval_secs must be positive")


def _register(agent: _agent.Agent, name: str, report_interval_secs: float | None) -> str | None:
    request = agent.pb.RegisterJobRequest(
        name=name,
        report_interval_seconds=int(report_interval_secs or 0),
        command=[sys.executable, *sys.argv],
        working_directory=os.getcwd(),
        pid=os.getpid(),
    )
    try:
        return agent.report.RegisterJob(request, timeout=RPC_TIMEOUT).id or None
    except agent.protocol.grpc.RpcError as error:
        _log.warn_once(
            "register-failed",
            f"could not register job {name!r} with the Meeshkan agent at {agent.path} "
            f"({_agent.status_code_name(error)}); running it without recording",
        )
        return None


def _finish(reporter: _reporter.Reporter, agent: _agent.Agent, job_id: str, success: bool,
            exit_code: int, error: str) -> None:
    reporter.flush(FINISH_FLUSH_TIMEOUT)
    reporter.set_job(None)
    request = agent.pb.FinishJobRequest(job_id=job_id, success=success, exit_code=exit_code,
                                        error=error)
    try:
        agent.report.FinishJob(request, timeout=RPC_TIMEOUT)
    except agent.protocol.grpc.RpcError as rpc_error:
        _log.warn_once("finish-failed",
                       f"could not tell the agent that job {job_id} ended "
                       f"({_agent.status_code_name(rpc_error)})")


def _exit_code(code: Any) -> int:
    return code if isinstance(code, int) else 1
