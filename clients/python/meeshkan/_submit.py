"""Functions and notebooks as jobs: ``submit_function`` and ``submit_notebook`` (the original's API).

A function is serialised with cloudpickle (Debian: python3-cloudpickle) into the data folder's
``functions/`` (0600) and queued as ``<this python> -m meeshkan._function FILE``: it runs in a new
process, in this working directory and environment, and its ``report_scalar`` calls report to
that job. Serialising happens at the call, so a function that cannot be sent (a closure over a
lock, an open file, a generator...) is a TypeError there and nothing is queued.
"""

from __future__ import annotations

import os
import sys
import uuid
from typing import Any, Callable, NamedTuple

from . import _agent
from ._jobs import _check_job_arguments

RPC_TIMEOUT = 10.0


class SubmittedJob(NamedTuple):
    """The queued job: its number, UUID and name (``meeshkan list`` shows the same)."""

    number: int
    id: str
    name: str


def submit_function(func: Callable[..., Any], job_name: str | None = None,
                    report_interval: float | None = None, args: Any = None,
                    kwargs: dict[str, Any] | None = None) -> SubmittedJob:
    """Queues ``func(*args, **kwargs)`` as a new job; returns it. Raises TypeError when ``func``
    or its arguments cannot be serialised, RuntimeError when the agent cannot be reached."""
    if not callable(func):
        raise TypeError(f"func must be callable, not {type(func).__name__}")
    name = job_name if job_name is not None else getattr(func, "__name__", "function")
    _check_job_arguments(name, report_interval)
    args = tuple(args) if args is not None else ()
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError(f"kwargs must be a dict, not {type(kwargs).__name__}")
    try:
        import cloudpickle  # noqa: PLC0415 - only this call needs it
    except ImportError:
        raise RuntimeError("submit_function needs cloudpickle (Debian: apt-get install "
                           "python3-cloudpickle)") from None
    try:
        payload = cloudpickle.dumps((func, args, kwargs or {}))
    except Exception as error:
        raise TypeError(f"cannot send {name!r} to a job: it or its arguments cannot be serialised "
                        f"({type(error).__name__}: {error}); define it at module level and do not "
                        "capture locks, open files, sockets or generators") from None
    folder = os.path.join(_home(), "functions")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = os.path.join(folder, f"{uuid.uuid4()}.pkl")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(payload)
    try:
        return _submit([sys.executable, "-m", "meeshkan._function", path], name, report_interval)
    except BaseException:
        os.unlink(path)
        raise


def submit_notebook(job_name: str | None = None, report_interval: float | None = None) -> SubmittedJob:
    """From a running Jupyter notebook, queues that notebook (as last saved) as a job.

    The notebook's path comes from the kernel's environment: ``JPY_SESSION_NAME`` (Jupyter Server
    2 and JupyterLab 4 set it) or VS Code's ``__vsc_ipynb_file__``. Where neither exists the kernel
    cannot know its notebook, and a RuntimeError says to run ``meeshkan submit NOTEBOOK.ipynb``.
    """
    path = _this_notebook()
    name = job_name if job_name is not None else os.path.basename(path)
    _check_job_arguments(name, report_interval)
    return _submit([path], name, report_interval, python=sys.executable)


def _this_notebook() -> str:
    candidates = [os.environ.get("JPY_SESSION_NAME", "")]
    try:
        from IPython import get_ipython  # noqa: PLC0415

        shell = get_ipython()
        if shell is not None:
            candidates.append(shell.user_ns.get("__vsc_ipynb_file__", ""))
    except ImportError:
        pass
    for candidate in candidates:
        if candidate and candidate.endswith(".ipynb") and os.path.isfile(candidate):
            return os.path.abspath(candidate)
    raise RuntimeError("submit_notebook() cannot tell which notebook this is: the kernel was not "
                       "started by Jupyter Server 2+ (JPY_SESSION_NAME) or VS Code; save the "
                       "notebook and run `meeshkan submit path/to/notebook.ipynb`")


def _home() -> str:
    return os.environ.get("MEESHKAN_HOME") or os.path.join(os.path.expanduser("~"), ".meeshkan")


def _submit(command: list[str], name: str, report_interval: float | None,
            python: str = "") -> SubmittedJob:
    agent = _agent.connect()
    if agent is None:
        raise RuntimeError("cannot submit: grpc/protobuf cannot be imported in " + sys.executable)
    pb = agent.protocol.jobs_pb2
    request = pb.SubmitJobRequest(name=name, report_interval_seconds=int(report_interval or 0),
                                  working_directory=os.getcwd(), python=python)
    request.command.extend(command)
    for key, value in os.environ.items():
        if not key.startswith("MEESHKAN_JOB"):  # this process's own job is not the new one's
            request.environment[key] = value
    try:
        reply = agent.jobs.SubmitJob(request, timeout=RPC_TIMEOUT)
    except agent.protocol.grpc.RpcError as error:
        code = _agent.status_code_name(error)
        if code == "INVALID_ARGUMENT":
            raise ValueError(_agent.status_details(error)) from None
        raise RuntimeError(f"cannot submit to the agent at {agent.path} ({code}): "
                           f"{_agent.status_details(error)}; is it running (`meeshkan start`)?") from None
    finally:
        agent.close()
    return SubmittedJob(reply.job.number, reply.job.id, reply.job.name)
