"""An in-process stand-in for the agent: ReportService and JobService on a Unix socket.

It records every request it receives and, like the real agent, stores a ScalarBatch only once
per (client_id, sequence). Knobs make it fail the way the real one can.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from concurrent import futures
from typing import Any, Callable

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from meeshkan.v1 import jobs_pb2, jobs_pb2_grpc, report_pb2, report_pb2_grpc, types_pb2  # noqa: E402


class FakeAgent(report_pb2_grpc.ReportServiceServicer, jobs_pb2_grpc.JobServiceServicer):
    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self.lock = threading.Lock()
        self.calls: list[tuple[str, Any]] = []  # every request, in arrival order
        self.stored: dict[tuple[str, int], Any] = {}
        # Codes to answer the next ReportScalars calls with, after storing the batch (a lost
        # reply), and a code to refuse every batch with (without storing).
        self.fail_after_store: list[grpc.StatusCode] = []
        self.refuse_scalars: grpc.StatusCode | None = None
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        report_pb2_grpc.add_ReportServiceServicer_to_server(self, self.server)
        jobs_pb2_grpc.add_JobServiceServicer_to_server(self, self.server)
        self.server.add_insecure_port("unix:" + socket_path)

    def start(self) -> "FakeAgent":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop(None).wait()

    # ---- what the tests read ------------------------------------------------------------------

    def requests(self, method: str) -> list[Any]:
        with self.lock:
            return [request for name, request in self.calls if name == method]

    def points(self, job_id: str | None = None) -> list[tuple[str, float, int]]:
        """Stored points, deduplicated, as (name, value, wall_time_us)."""
        with self.lock:
            batches = list(self.stored.values())
        return [
            (batch.names[index], value, wall)
            for batch in batches
            if job_id is None or batch.job_id == job_id
            for index, value, wall in zip(batch.name_index, batch.values, batch.wall_time_us)
        ]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()

    def _record(self, method: str, request: Any) -> None:
        copy = type(request)()
        copy.CopyFrom(request)
        with self.lock:
            self.calls.append((method, copy))

    # ---- ReportService --------------------------------------------------------------------

    def ReportScalars(self, request: Any, context: Any) -> Any:
        self._record("ReportScalars", request)
        if self.refuse_scalars is not None:
            context.abort(self.refuse_scalars, f"job {request.job_id} is finished")
        key = (request.client_id, request.sequence)
        with self.lock:
            duplicate = key in self.stored
            if not duplicate:
                copy = report_pb2.ScalarBatch()
                copy.CopyFrom(request)
                self.stored[key] = copy
            fail = self.fail_after_store.pop(0) if self.fail_after_store else None
        if fail is not None:
            context.abort(fail, "reply lost")
        return report_pb2.ReportScalarsResponse(accepted=len(request.values), duplicate=duplicate)

    def AddCondition(self, request: Any, context: Any) -> Any:
        self._record("AddCondition", request)
        if request.expression:
            try:
                compile(request.expression, "<condition>", "eval")
            except SyntaxError as error:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"cannot parse: {error.msg}")
        return report_pb2.AddConditionResponse(condition_id=str(uuid.uuid4()),
                                               names=request.names)

    def ReportConditionMet(self, request: Any, context: Any) -> Any:
        self._record("ReportConditionMet", request)
        return report_pb2.ConditionMetResponse(recorded=True)

    def Notify(self, request: Any, context: Any) -> Any:
        self._record("Notify", request)
        return report_pb2.NotifyResponse()

    def RegisterJob(self, request: Any, context: Any) -> Any:
        self._record("RegisterJob", request)
        return types_pb2.Job(id=str(uuid.uuid4()), number=1, name=request.name,
                             state=types_pb2.JOB_STATE_RUNNING, external=True, pid=request.pid)

    def FinishJob(self, request: Any, context: Any) -> Any:
        self._record("FinishJob", request)
        state = types_pb2.JOB_STATE_FINISHED if request.success else types_pb2.JOB_STATE_FAILED
        return types_pb2.Job(id=request.job_id, state=state, failure_reason=request.error)

    # ---- JobService ---------------------------------------------------------------------------

    def GetStatus(self, request: Any, context: Any) -> Any:
        self._record("GetStatus", request)
        return jobs_pb2.AgentStatus(version="fake", socket_path=self.socket_path, pid=os.getpid())
