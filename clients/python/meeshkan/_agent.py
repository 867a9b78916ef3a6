"""Where the agent is, and a lazily created gRPC connection to it.

grpc and protobuf are imported only when a connection is first needed, so ``import meeshkan``
works in any interpreter; where they are missing, the caller gets None and one warning.
"""

from __future__ import annotations

import os
import sys
import threading
from types import ModuleType
from typing import Any, NamedTuple

from . import _log

MAX_MESSAGE_BYTES = 64 * 1024 * 1024

# Codes after which the same request may succeed later: keep it and retry.
# RESOURCE_EXHAUSTED is not here: the agent uses it to refuse a batch over a limit (too many distinct names), and
# retrying that forever would hold back every later scalar under a wrong "not reachable" warning.
# INTERNAL and UNKNOWN are what a call cut off by a stopping or killed agent can end with (a reset HTTP/2
# stream); a retried batch keeps its sequence number, so the agent never stores it twice.
TRANSIENT_CODES = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "ABORTED", "CANCELLED", "INTERNAL", "UNKNOWN",
                             "DATA_LOSS"})


def job_id_from_env() -> str | None:
    """The id of the submitted job this process runs as, or None (``MEESHKAN_JOB_ID``)."""
    return os.environ.get("MEESHKAN_JOB_ID") or None


def socket_path() -> str:
    """``MEESHKAN_SOCKET``, else ``$MEESHKAN_HOME/agent.sock`` (default ``~/.meeshkan``)."""
    explicit = os.environ.get("MEESHKAN_SOCKET")
    if explicit:
        return explicit
    home = os.environ.get("MEESHKAN_HOME") or os.path.join(os.path.expanduser("~"), ".meeshkan")
    return os.path.join(home, "agent.sock")


class RemoteAgent(NamedTuple):
    """The agent's TLS listener, for a job that cannot reach its socket (a Slurm job on a compute node)."""

    url: str
    token: str
    certificate_pem: str


def remote_from_env() -> RemoteAgent | None:
    """``MEESHKAN_AGENT_URL`` with ``MEESHKAN_AGENT_TOKEN`` (the job's token) and ``MEESHKAN_AGENT_CERT`` (the
    agent's certificate, PEM), checked against ``MEESHKAN_AGENT_FINGERPRINT``; None when the URL is not set."""
    url = os.environ.get("MEESHKAN_AGENT_URL")
    if not url:
        return None
    token = os.environ.get("MEESHKAN_AGENT_TOKEN", "")
    cert_path = os.environ.get("MEESHKAN_AGENT_CERT", "")
    try:
        with open(cert_path, encoding="ascii") as file:
            pem = file.read()
    except OSError as error:
        _log.warn_once("remote-cert", f"cannot read the agent's certificate {cert_path!r} ({error}); nothing is reported")
        return None
    expected = os.environ.get("MEESHKAN_AGENT_FINGERPRINT", "").replace(":", "").lower()
    if expected:
        import hashlib  # noqa: PLC0415
        import ssl  # noqa: PLC0415

        actual = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()
        if actual != expected:
            _log.warn_once("remote-cert", f"the certificate in {cert_path} is not the agent's (fingerprint mismatch); nothing is reported")
            return None
    return RemoteAgent(url, token, pem)


class Protocol(NamedTuple):
    """The grpc module and the generated stubs, loaded together."""

    grpc: ModuleType
    report_pb2: ModuleType
    report_grpc: ModuleType
    jobs_pb2: ModuleType
    jobs_grpc: ModuleType


_load_lock = threading.Lock()
_protocol: Protocol | None = None
_load_failed = False


def load_protocol() -> Protocol | None:
    """Imports grpc and the stubs once; on failure warns once and returns None."""
    global _protocol, _load_failed
    with _load_lock:
        if _protocol is not None or _load_failed:
            return _protocol
        try:
            import grpc  # noqa: PLC0415 - lazy on purpose

            from .v1 import jobs_pb2, jobs_pb2_grpc, report_pb2, report_pb2_grpc

            _protocol = Protocol(grpc, report_pb2, report_pb2_grpc, jobs_pb2, jobs_pb2_grpc)
        except Exception as error:  # ImportError, or a protobuf too old for the stubs
            _load_failed = True
            _log.warn_once(
                "no-grpc",
                f"cannot import grpc/protobuf in {sys.executable} ({error}); scalars, conditions "
                "and notifications are not sent to the agent. Install python3-grpcio "
                "python3-protobuf, or submit with --python /usr/bin/python3.",
            )
        return _protocol


def status_code_name(error: BaseException) -> str:
    """The gRPC status code name of an RpcError (e.g. ``UNAVAILABLE``), or ``UNKNOWN``."""
    code = getattr(error, "code", None)
    try:
        return code().name if callable(code) else "UNKNOWN"
    except Exception:
        return "UNKNOWN"


def status_details(error: BaseException) -> str:
    details = getattr(error, "details", None)
    try:
        return (details() if callable(details) else None) or str(error)
    except Exception:
        return str(error)


class Agent:
    """One channel to the agent (its socket, or its TLS listener for a remote job) with the two service stubs.
    Thread-safe."""

    def __init__(self, protocol: Protocol, path: str, remote: RemoteAgent | None = None) -> None:
        self.protocol = protocol
        self.path = remote.url if remote else path
        grpc = protocol.grpc
        options = [
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            # The default reconnect backoff grows to 120 s; an agent started later should be
            # found within seconds.
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.min_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 2000),
        ]
        if remote is None:
            # grpcio >= 1.57 would send the socket path as :authority; Kestrel rejects it.
            self._channel = grpc.insecure_channel("unix:" + path, options=[("grpc.default_authority", "localhost"), *options])
        else:
            # The agent's self-signed certificate is the only root trusted: that pins it. Its names include
            # localhost, whatever the host in the URL.
            credentials = grpc.composite_channel_credentials(
                grpc.ssl_channel_credentials(root_certificates=remote.certificate_pem.encode("ascii")),
                grpc.access_token_call_credentials(remote.token),
            )
            target = remote.url.split("://", 1)[-1].rstrip("/")
            self._channel = grpc.secure_channel(target, credentials, options=[("grpc.ssl_target_name_override", "localhost"), *options])
        self.report = protocol.report_grpc.ReportServiceStub(self._channel)
        self.jobs = protocol.jobs_grpc.JobServiceStub(self._channel)

    @property
    def pb(self) -> Any:
        """The report_pb2 module (request messages)."""
        return self.protocol.report_pb2

    def close(self) -> None:
        try:
            self._channel.close()
        except Exception:
            pass


def connect(path: str | None = None) -> Agent | None:
    """A new Agent for ``path`` (default: the TLS listener in ``MEESHKAN_AGENT_URL`` if set, else socket_path()),
    or None when grpc is unavailable."""
    protocol = load_protocol()
    if protocol is None:
        return None
    remote = remote_from_env() if path is None else None
    return Agent(protocol, path or socket_path(), remote)
