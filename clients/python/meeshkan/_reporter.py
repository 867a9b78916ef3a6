"""The scalar reporter: a cheap append on the training thread, batching and sending elsewhere.

``report_scalar`` validates its arguments and extends one flat list with ``name, value, time``: one
``list.extend`` call, atomic (under the GIL, and under a free-threaded build's per-list lock), so
threads reporting at once never pair one's name with another's value. No object outlives the call
but the list's three entries (none the garbage collector tracks); nothing else happens on the
caller's thread. A daemon thread wakes every
``SEND_INTERVAL`` seconds (or on flush), takes what was appended, builds column-wise
``ScalarBatch`` messages, evaluates callable conditions on the latest values and sends batches,
condition firings and notifications in order. If the agent cannot be reached it keeps a bounded
backlog, warns once and retries with backoff; it never raises into the training script.
"""

from __future__ import annotations

import atexit
import collections
import numbers
import os
import threading
import time
import uuid
from typing import Any, Callable

from . import _agent, _log, _unsent
from ._conditions import Condition

SEND_INTERVAL = 0.2
# Seconds a met callable condition is not checked again (the agent applies the real cooldown).
CONDITION_QUIET = 1.0
BATCH_POINTS = 50_000
MAX_BUFFERED_POINTS = 5_000_000
MAX_PENDING_EVENTS = 10_000
RETRY_INITIAL = 0.5
RETRY_MAX = 10.0
RPC_TIMEOUT = 10.0
AT_EXIT_TIMEOUT = 60.0

NOT_A_JOB = (
    "not running as a Meeshkan job; scalars are not recorded "
    "(submit the script with `meeshkan submit`, or use meeshkan.as_blocking_job)"
)

_time_ns = time.time_ns


class _Unreachable(Exception):
    """The agent did not answer; keep everything and retry later."""


class _PendingBatch:
    """A ScalarBatch waiting to be sent, with the name index used to extend it."""

    __slots__ = ("batch", "index", "points", "attempted")

    def __init__(self, batch: Any) -> None:
        self.batch = batch
        self.index: dict[str, int] = {}
        self.points = 0
        # Once sent (even if the reply was lost) the batch is frozen, so that a retry carries
        # exactly the same points under the same sequence number.
        self.attempted = False


class Reporter:
    """Buffers scalars and owns the background sender. One per process (see ``current``)."""

    def __init__(self, job_id: str | None = None) -> None:
        # name, value, time_ns, name, value, ...: each point added whole by one extend (atomic).
        self.points: list[Any] = []
        self._job_id = job_id
        self._lock = threading.Lock()
        self._flushed = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closing = False
        self._agent_lock = threading.Lock()
        self._agent: _agent.Agent | None = None
        self._agent_loaded = False
        self._events: collections.deque[tuple[str, str]] = collections.deque()
        self._conditions: list[Condition] = []
        self._quiet_until: dict[int, float] = {}
        # Owned by the background thread.
        self._pending: collections.deque[_PendingBatch] = collections.deque()
        self._pending_points = 0
        self._outbox: collections.deque[tuple[Any, ...]] = collections.deque()
        self._latest: dict[str, float] = {}
        self._client_id = str(uuid.uuid4())
        self._sequence = 0
        self._retry_at = 0.0
        self._backoff = RETRY_INITIAL
        self._flush_requested = 0
        self._flush_done = 0
        self._flush_ok = True
        # At exit: what the last cycle could not send goes to the job folder (see _unsent).
        self._spill_at_close = False
        self.spilled: tuple[int, str] | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Starts the background thread (idempotent). Reads MEESHKAN_JOB_ID the first time."""
        with self._lock:
            if self._thread is not None:
                return
            if self._job_id is None:
                self._job_id = _agent.job_id_from_env()
            self._thread = threading.Thread(
                target=self._run, name="meeshkan-reporter", daemon=True
            )
            self._thread.start()

    def close(self, timeout: float | None = 10.0) -> None:
        """Flushes, stops the thread and closes the channel (used by tests and at fork)."""
        if self._thread is not None:
            self.flush(timeout)
            with self._lock:
                self._closing = True
            self._wake.set()
            self._thread.join(timeout)
        with self._agent_lock:
            if self._agent is not None:
                self._agent.close()

    def close_and_spill(self, timeout: float) -> None:
        """At exit, after a failed flush: one last try, then what is left goes to the job folder."""
        if self._thread is None or not self._thread.is_alive():
            return
        with self._lock:
            self._closing = True
            self._spill_at_close = True
        self._wake.set()
        self._thread.join(timeout)

    def agent(self) -> _agent.Agent | None:
        """The connection to the agent, created on first use; None when grpc is missing."""
        with self._agent_lock:
            if not self._agent_loaded:
                self._agent_loaded = True
                self._agent = _agent.connect()
            return self._agent

    @property
    def job_id(self) -> str | None:
        with self._lock:
            if self._thread is None and self._job_id is None:
                return _agent.job_id_from_env()
            return self._job_id

    def set_job(self, job_id: str | None) -> None:
        """Scalars reported from now on belong to ``job_id`` (None: not a job)."""
        self.start()
        with self._lock:
            self._job_id = job_id
        self._wake.set()

    # ---- the caller's side -----------------------------------------------------------------

    def add_condition(self, condition: Condition) -> None:
        """Registers with the agent now if it answers, else queues the registration.

        Raises ValueError when the agent rejects the condition (INVALID_ARGUMENT).
        """
        self.start()
        job_id = self.job_id
        if job_id is None:
            _log.warn_once("not-a-job", NOT_A_JOB)
        else:
            agent = self.agent()
            if agent is not None:
                try:
                    self._register(agent, condition, job_id)
                except _Unreachable:
                    pass  # the background thread registers it once the agent answers
                except ValueError:
                    raise
        with self._lock:
            self._conditions.append(condition)
        self._wake.set()

    def notify(self, message: str) -> None:
        self.start()
        job_id = self.job_id
        if job_id is None:
            _log.warn_once("not-a-job", NOT_A_JOB)
            return
        self._events.append((job_id, message))
        self._wake.set()

    def flush(self, timeout: float | None = None) -> bool:
        """Waits until everything reported before the call was sent (or failed to be sent).

        Returns True when nothing is left waiting for the agent.
        """
        thread = self._thread
        if thread is None:
            return True
        if thread is threading.current_thread() or not thread.is_alive():
            return False
        with self._flushed:
            self._flush_requested += 1
            ticket = self._flush_requested
            self._wake.set()
            done = self._flushed.wait_for(lambda: self._flush_done >= ticket, timeout)
            return done and self._flush_ok

    # ---- the background thread -------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(SEND_INTERVAL)
            self._wake.clear()
            with self._lock:
                ticket = self._flush_requested
                closing = self._closing
            try:
                ok = self._cycle(force=ticket > self._flush_done or closing)
            except Exception as error:  # a bug here must not end reporting silently
                _log.warn_once(f"internal-{type(error).__name__}",
                               f"internal error in the reporter thread: {error!r}")
                ok = False
            with self._flushed:
                if ticket > self._flush_done:
                    self._flush_done = ticket
                    self._flush_ok = ok
                self._flushed.notify_all()
            if closing:
                if not ok and self._spill_at_close:
                    self._spill()
                return

    def _spill(self) -> None:
        """Appends the pending batches of the submitted job to its folder's unsent-scalars file."""
        job_id = _agent.job_id_from_env()
        folder = _unsent.job_folder()
        batches = [p for p in self._pending if job_id is not None and p.batch.job_id == job_id]
        if folder is None or not batches:
            return
        try:
            path = _unsent.append(folder, [p.batch for p in batches])
        except OSError as error:
            _log.warn_once("spill-failed", f"cannot write unsent scalars to {folder}: {error}")
            return
        for pending in batches:
            self._pending.remove(pending)
            self._pending_points -= pending.points
        self.spilled = (sum(p.points for p in batches), path)

    def buffered(self) -> list[tuple[str, float, int]]:
        """The points appended and not yet taken by the background thread (for tests)."""
        flat = self.points[:]
        return list(zip(flat[0::3], flat[1::3], flat[2::3]))

    def _take(self) -> tuple[list[str], list[float], list[int]]:
        # Slicing and deleting a prefix are single operations on the list (atomic under the GIL),
        # so points appended meanwhile by other threads stay, whole, for the next cycle.
        points = self.points
        count = len(points)  # a multiple of 3: each extend adds whole points
        if not count:
            return [], [], []
        taken = points[:count]
        del points[:count]
        return taken[0::3], taken[1::3], taken[2::3]

    def _cycle(self, force: bool) -> bool:
        events = [self._events.popleft() for _ in range(len(self._events))]
        taken = self._take()
        chunk = taken if taken[0] else None
        with self._lock:
            job_id = self._job_id
            conditions = list(self._conditions)
        if job_id is None:
            if chunk or events:
                _log.warn_once("not-a-job", NOT_A_JOB)
            if not self._pending and not self._outbox:
                return True
            chunk, events = None, []  # still send what a finished blocking job left behind
        agent = self.agent()
        if agent is None:
            return False
        if chunk and job_id is not None:
            self._build(agent, chunk, job_id)
            self._evaluate(conditions, chunk, job_id)
        for event_job, message in events:
            self._queue_event(("notify", event_job, message))
        if not (self._pending or self._outbox or self._unregistered(conditions, job_id)):
            return True
        if not force and time.monotonic() < self._retry_at:
            return False
        try:
            self._send(agent, conditions, job_id)
        except _Unreachable as error:
            self._backoff_after(agent, error)
            return False
        self._retry_at = 0.0
        self._backoff = RETRY_INITIAL
        return True

    def _build(self, agent: _agent.Agent, chunk: tuple[list[str], list[float], list[int]],
               job_id: str) -> None:
        names, values, times = chunk
        for start in range(0, len(names), BATCH_POINTS):
            end = min(start + BATCH_POINTS, len(names))
            self._append_points(agent, job_id, names[start:end], values[start:end],
                                times[start:end])
        while self._pending_points > MAX_BUFFERED_POINTS and len(self._pending) > 1:
            dropped = self._pending.popleft()
            self._pending_points -= dropped.points
            _log.warn_once(
                "buffer-full",
                f"more than {MAX_BUFFERED_POINTS:,} scalars are waiting for the agent; "
                "dropping the oldest",
            )

    def _append_points(self, agent: _agent.Agent, job_id: str, names: list[str],
                       values: list[float], times: list[int]) -> None:
        last = self._pending[-1] if self._pending else None
        if (last is None or last.attempted or last.batch.job_id != job_id
                or last.points + len(names) > BATCH_POINTS):
            self._sequence += 1
            last = _PendingBatch(agent.pb.ScalarBatch(
                job_id=job_id, client_id=self._client_id, sequence=self._sequence))
            self._pending.append(last)
        index = last.index
        known = len(index)
        name_index = [index.setdefault(name, len(index)) for name in names]
        if len(index) > known:
            last.batch.names.extend(list(index)[known:])
        last.batch.name_index.extend(name_index)
        last.batch.values.extend(values)
        last.batch.wall_time_us.extend([t // 1000 for t in times])
        last.points += len(names)
        self._pending_points += len(names)

    def _evaluate(self, conditions: list[Condition],
                  chunk: tuple[list[str], list[float], list[int]], job_id: str) -> None:
        """Walks the points in order and checks each callable condition whenever one of its
        scalars changes; the pairs of one ``report_scalar`` call (same timestamp) count as one
        change. A condition that was met is not checked again for ``CONDITION_QUIET`` seconds:
        the agent's cooldown would drop those firings anyway."""
        names, values, times = chunk
        latest = self._latest
        client_side = [c for c in conditions if c.evaluated_by_client and not c.rejected]
        now = time.monotonic()
        active = [c for c in client_side if self._quiet_until.get(c.local_id, 0.0) <= now]
        if not active:
            latest.update(zip(names, values))
            return
        watched = set().union(*(c.names for c in active))
        touched: set[str] = set()
        count = len(names)
        for i in range(count):
            name = names[i]
            latest[name] = values[i]
            if name in watched:
                touched.add(name)
            if not touched or (i + 1 < count and times[i + 1] == times[i]):
                continue
            for condition in list(active):
                if touched.isdisjoint(condition.names):
                    continue
                try:
                    met = condition.is_met(latest)
                except Exception as error:
                    _log.warn_once(f"condition-error-{condition.local_id}",
                                   f"condition {condition.description!r} raised {error!r}; "
                                   "it is skipped while it fails")
                    continue
                if met:
                    self._queue_event(("met", job_id, condition, condition.values(latest)))
                    self._quiet_until[condition.local_id] = now + CONDITION_QUIET
                    active.remove(condition)
            touched.clear()
            if not active:
                latest.update(zip(names[i + 1:], values[i + 1:]))
                return

    def _queue_event(self, event: tuple[Any, ...]) -> None:
        self._outbox.append(event)
        if len(self._outbox) > MAX_PENDING_EVENTS:
            self._outbox.popleft()
            _log.warn_once("events-full", "too many notifications waiting for the agent; "
                                          "dropping the oldest")

    @staticmethod
    def _unregistered(conditions: list[Condition], job_id: str | None) -> bool:
        return job_id is not None and any(job_id not in c.agent_ids and not c.rejected for c in conditions)

    def _send(self, agent: _agent.Agent, conditions: list[Condition], job_id: str | None) -> None:
        for condition in conditions:
            if job_id is not None and job_id not in condition.agent_ids and not condition.rejected:
                try:
                    self._register(agent, condition, job_id)
                except ValueError as error:
                    _log.warn_once(f"condition-rejected-{condition.local_id}", str(error))
        while self._pending:
            pending = self._pending[0]
            pending.attempted = True
            self._call(agent, "ReportScalars", pending.batch, "scalars")
            self._pending.popleft()
            self._pending_points -= pending.points
        pb = agent.pb
        while self._outbox:
            event = self._outbox[0]
            if event[0] == "notify":
                self._call(agent, "Notify", pb.NotifyRequest(job_id=event[1], message=event[2]),
                           "a notification")
            else:
                _, event_job, condition, values = event
                condition_id = condition.agent_ids.get(event_job)
                if condition_id:
                    self._call(agent, "ReportConditionMet", pb.ConditionMetRequest(
                        job_id=event_job, condition_id=condition_id, values=values),
                        "a condition")
            self._outbox.popleft()

    def _call(self, agent: _agent.Agent, method: str, request: Any, what: str) -> Any:
        """One RPC: raises _Unreachable on transient errors, warns and returns None otherwise."""
        try:
            return getattr(agent.report, method)(request, timeout=RPC_TIMEOUT)
        except agent.protocol.grpc.RpcError as error:
            code = _agent.status_code_name(error)
            if code in _agent.TRANSIENT_CODES:
                raise _Unreachable(error) from None
            details = _agent.status_details(error)
            if code in ("FAILED_PRECONDITION", "NOT_FOUND"):
                _log.warn_once(f"refused-{code}",
                               f"the agent refused {what} for job {request.job_id} ({code}: "
                               f"{details}); the job is finished or unknown, dropping it")
            else:
                _log.warn_once(f"refused-{method}-{code}",
                               f"the agent refused {what} ({code}: {details}); dropping it")
            return None

    def _register(self, agent: _agent.Agent, condition: Condition, job_id: str) -> None:
        """AddCondition for one job. ValueError if rejected, _Unreachable if no answer."""
        request = agent.pb.AddConditionRequest(
            job_id=job_id,
            expression=condition.expression or "",
            names=condition.names,
            description=condition.description,
            evaluated_by_client=condition.evaluated_by_client,
            only_reported=condition.only_reported,
            action="CONDITION_ACTION_" + condition.action.upper(),
        )
        try:
            reply = agent.report.AddCondition(request, timeout=RPC_TIMEOUT)
        except agent.protocol.grpc.RpcError as error:
            code = _agent.status_code_name(error)
            if code in _agent.TRANSIENT_CODES:
                raise _Unreachable(error) from None
            condition.rejected = True
            raise ValueError(f"the agent rejected condition {condition.description!r} "
                             f"({code}): {_agent.status_details(error)}") from None
        condition.agent_ids[job_id] = reply.condition_id
        if reply.names and not condition.names:
            condition.names = list(reply.names)

    def _backoff_after(self, agent: _agent.Agent, error: _Unreachable) -> None:
        cause = error.args[0] if error.args else error
        _log.warn_once(
            "unreachable",
            f"the Meeshkan agent is not reachable at {agent.path} "
            f"({_agent.status_code_name(cause)}); keeping scalars and retrying",
        )
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, RETRY_MAX)


# ---- the process-wide reporter and the hot path ------------------------------------------------

_current = Reporter()
_extend: Callable[[Any], None] = _current.points.extend
_started = False
_hooks_installed = False


def current() -> Reporter:
    return _current


def install(reporter: Reporter) -> Reporter:
    """Makes ``reporter`` the process-wide one (at fork, and in tests). Returns the old one."""
    global _current, _extend, _started
    old = _current
    _current = reporter
    _extend = reporter.points.extend
    _started = reporter.started
    return old


def start() -> Reporter:
    global _started, _hooks_installed
    reporter = _current
    reporter.start()
    _started = True
    if not _hooks_installed:
        _hooks_installed = True
        atexit.register(_at_exit)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork_in_child)
    return reporter


def _at_exit() -> None:
    reporter = _current
    if reporter.started and not reporter.flush(AT_EXIT_TIMEOUT):
        reporter.close_and_spill(2 * RPC_TIMEOUT)
        if reporter.spilled is not None:
            count, path = reporter.spilled
            _log.warn_once("spilled-at-exit",
                           f"the agent was not reachable at exit; {count:,} scalars were written to "
                           f"{path}, and the agent stores them when it records the job's end")
        if reporter._pending_points or reporter._outbox:
            _log.warn_once("lost-at-exit",
                           f"{reporter._pending_points:,} scalars could not be sent to the "
                           "agent before exit")


def _after_fork_in_child() -> None:
    # The parent's thread does not exist here and its backlog is the parent's to send.
    _log.reset_after_fork()
    install(Reporter(job_id=_current._job_id))


def report_scalar(name: str, value: float, *more: Any) -> None:
    """Reports one or more scalars: ``report_scalar(name, value, name2, value2, ...)``.

    Names are non-empty ``str``. Values are real numbers: ``int``, ``float``, ``bool`` (as 1.0
    and 0.0), numpy scalars, or anything with ``__float__`` such as a one-element tensor;
    NaN and infinities are kept. Raises TypeError for an odd number of arguments, a name that
    is not a str or a value that is not a number; ValueError for a name the agent would refuse
    (blank, longer than 512 characters, or with control characters), an int too large for a float
    or a multi-element array; nothing of a refused call is recorded. Costs well under 2 microseconds.
    """
    if more or type(name) is not str or name not in _good_names:
        return _report_checked(name, value, more)
    if type(value) is not float:
        value = _to_float(name, value)
    _extend((name, value, _time_ns()))
    if not _started:
        start()
    return None


def _report_checked(name: Any, value: Any, more: tuple[Any, ...]) -> None:
    if len(more) % 2:
        raise TypeError(
            f"report_scalar() takes name, value pairs; got {2 + len(more)} arguments"
        )
    pairs = [(name, value), *zip(more[::2], more[1::2])]
    points = [(_check_name(n), _to_float(n, v)) for n, v in pairs]
    now = _time_ns()
    # One extend: the pairs of one call stay together even with other threads reporting.
    _extend([item for point_name, point_value in points for item in (point_name, point_value, now)])
    if not _started:
        start()


# Names already checked, so that the common call skips the check; bounded like the agent's names per job.
_good_names: set[str] = set()
_GOOD_NAMES_KEPT = 10_000
# The agent's rule (ScalarName in Meeshkan.Contracts): not blank, at most 512 UTF-16 code units,
# no control characters (C0, DEL, C1).
MAX_NAME_LENGTH = 512
_CONTROL = frozenset(map(chr, [*range(0x20), *range(0x7F, 0xA0)]))


def _check_name(name: Any) -> str:
    if type(name) is not str and not isinstance(name, str):
        raise TypeError(f"scalar names must be str, not {type(name).__name__}: {name!r}")
    name = str(name)
    if name in _good_names:
        return name
    if not name or name.isspace():
        raise ValueError("scalar names must not be empty or blank")
    length = len(name.encode("utf-16-le", "surrogatepass")) // 2
    if length > MAX_NAME_LENGTH:
        raise ValueError(f"a scalar name is {length} characters long; use at most {MAX_NAME_LENGTH}")
    if not _CONTROL.isdisjoint(name):
        raise ValueError(f"scalar name {name!r} has control characters; use printable ones")
    if len(_good_names) < _GOOD_NAMES_KEPT:
        _good_names.add(name)
    return name


def _int_to_float(name: str, value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"value of {name!r} is too large for a float: {value}") from None


def _to_float(name: Any, value: Any) -> float:
    value_type = type(value)
    if value_type is float:
        return value
    if value_type is int:
        return _int_to_float(name, value)
    if isinstance(value, (str, bytes, bytearray)) or value is None:
        raise TypeError(f"value of {name!r} must be a number, not {value_type.__name__}")
    if isinstance(value, numbers.Real):
        try:
            return float(value)
        except OverflowError:
            raise ValueError(f"value of {name!r} is too large for a float: {value}") from None
    if getattr(value_type, "__float__", None) is None:
        raise TypeError(f"value of {name!r} must be a number, not {value_type.__name__}")
    try:
        return float(value)
    except (TypeError, ValueError) as error:  # e.g. a tensor with several elements
        raise ValueError(f"value of {name!r} must be a single number: {error}") from None
