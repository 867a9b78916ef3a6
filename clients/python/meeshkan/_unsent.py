"""What a job could not deliver before it exited, kept in its job folder for the agent.

At exit, scalar batches the agent did not acknowledge (it was stopped or restarting) are appended
to ``<job folder>/unsent-scalars``: each batch a varint length and a serialised ``ScalarBatch``
(protobuf's length-delimited format), written with one ``write`` on an ``O_APPEND`` file. The
agent reads the file when it records the job's end (or re-adopts the ended job) and stores each
batch once: batches keep their ``client_id`` and ``sequence``, so a batch that did reach the agent
before is not stored twice. The C# SDK writes the same file.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

FILE_NAME = "unsent-scalars"


def job_folder() -> str | None:
    """The submitted job's folder (``MEESHKAN_JOB_FOLDER``, set by the agent), if it exists."""
    folder = os.environ.get("MEESHKAN_JOB_FOLDER")
    if not folder:
        home, number = os.environ.get("MEESHKAN_HOME"), os.environ.get("MEESHKAN_JOB_NUMBER")
        if not home or not number:
            return None
        folder = os.path.join(home, "jobs", number)
    return folder if os.path.isdir(folder) else None


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def append(folder: str, batches: Iterable[Any]) -> str:
    """Appends the batches to the folder's file in one write; returns the file's path."""
    data = bytearray()
    for batch in batches:
        payload = batch.SerializeToString()
        data += _varint(len(payload))
        data += payload
    path = os.path.join(folder, FILE_NAME)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    return path
