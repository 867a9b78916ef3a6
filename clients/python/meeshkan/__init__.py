"""Meeshkan: report scalars, conditions and notifications from a training script to the agent.

    import meeshkan
    meeshkan.add_condition("train loss", lambda loss: loss < 0.1)
    for epoch in range(100):
        meeshkan.report_scalar("train loss", loss, "eval loss", eval_loss)

Run the script with ``meeshkan submit`` (or wrap it in ``as_blocking_job``) and the agent records
the scalars and notifies you. Run by hand, the calls cost almost nothing and record nothing.
Reporting never raises into the script for a connection problem; it warns once on stderr.
Importing this package needs neither grpc nor protobuf.
"""

from __future__ import annotations

from typing import Any, Callable

from . import _conditions, _reporter
from ._control import is_running, restart, start, stop
from ._jobs import as_blocking_job, create_blocking_job
from ._reporter import report_scalar
from ._submit import SubmittedJob, submit_function, submit_notebook

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "add_condition",
    "as_blocking_job",
    "create_blocking_job",
    "flush",
    "is_running",
    "notify",
    "report_scalar",
    "restart",
    "start",
    "stop",
    "submit_function",
    "submit_notebook",
    "SubmittedJob",
]


def add_condition(
    *names: Any,
    condition: Callable[..., Any] | str | None = None,
    only_reported: bool = False,
    action: str = "notify",
) -> None:
    """Asks to be notified (or the job stopped) when a condition on reported scalars holds.

    Two forms:

    * ``add_condition("train loss", "eval loss", lambda t, e: abs(t - e) > 0.2)`` - scalar names
      and a callable, as the last positional argument or as ``condition=``. The callable takes
      one argument per name (checked now); it is evaluated in the background with the latest
      values, a scalar not reported yet counting as 1.
    * ``add_condition("eval_loss - train_loss > 0.2")`` - one expression the agent evaluates.

    ``only_reported=True`` makes notifications for this condition show only its own scalars.
    ``action="stop"`` makes the agent stop the job when the condition is met (SIGTERM, then SIGKILL
    after the grace period): it ends FAILED, stopped by this condition, and is not retried, e.g.
    ``add_condition("isnan([train loss])", action="stop")``. The default, ``"notify"``, notifies.
    Raises TypeError/ValueError for bad arguments, and ValueError when the agent rejects the
    condition (e.g. an expression it cannot parse). Outside a job the condition is kept for a
    later ``as_blocking_job``.
    """
    parsed = _conditions.parse(names, condition, only_reported, action)
    _reporter.start().add_condition(parsed)


def notify(message: str) -> None:
    """Sends a custom notification, after the scalars reported before it."""
    if not isinstance(message, str):
        raise TypeError(f"message must be str, not {type(message).__name__}")
    _reporter.start().notify(message)


def flush(timeout: float | None = None) -> bool:
    """Sends everything reported so far; True when nothing is left waiting for the agent.

    Returns False on timeout or when the agent cannot be reached (the data stays buffered and is
    retried). Called automatically at normal interpreter exit.
    """
    return _reporter.current().flush(timeout)
