"""Cost of meeshkan.report_scalar on the training thread: 1,000,000 calls in a tight loop.

Compares, in the same interpreter, a loop doing nothing, a loop calling a no-op function with the
same arguments, and a loop calling report_scalar("loss", i). Each case runs in a fresh process:
  agent    - inside a job, a fake agent (separate process) receives everything
  no-agent - inside a job, nothing listens on the socket (the client buffers and retries)
  by-hand  - outside any job (values are dropped)
Run with the interpreter that has grpc: /usr/bin/python3 bench/python_report_scalar.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "..", "clients", "python")
N = 1_000_000
REPEATS = 3

FAKE_AGENT = """
import sys, time
sys.path.insert(0, {tests!r})
from fake_agent import FakeAgent
agent = FakeAgent(sys.argv[1]).start()
print("ready", flush=True)
for line in sys.stdin:
    print(len(agent.points()), flush=True)
"""


def child() -> None:
    sys.path.insert(0, CLIENT)
    import meeshkan

    def noop(name: str, value: int) -> None:
        return None

    report = meeshkan.report_scalar
    rows = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for i in range(N):
            pass
        empty = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(N):
            noop("loss", i)
        call = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(N):
            report("loss", i)
        reported = time.perf_counter() - start
        rows.append((empty, call, reported))
    start = time.perf_counter()
    flushed = meeshkan.flush(60)
    flush_time = time.perf_counter() - start
    empty, call, reported = (statistics.median(column) for column in zip(*rows))
    us = 1e6 / N
    print(f"  empty loop        {empty * us:6.3f} us/iteration")
    print(f"  no-op call        {call * us:6.3f} us/call")
    print(f"  report_scalar     {reported * us:6.3f} us/call   (runs: "
          + ", ".join(f"{r * us:.3f}" for _, _, r in rows) + ")")
    print(f"  ratio report_scalar / empty loop = {reported / empty:5.1f}x, "
          f"/ no-op call = {reported / call:4.1f}x; over 1 us/call (issue 17): {reported * us > 1}")
    print(f"  flush after {REPEATS * N:,} points: {flush_time:.2f} s, delivered={flushed}")


def run_case(title: str, env: dict[str, str]) -> None:
    print(f"{title}:", flush=True)
    full = {k: v for k, v in os.environ.items() if not k.startswith("MEESHKAN_")}
    full.update(env)
    subprocess.run([sys.executable, __file__, "--child"], env=full, check=True,
                   stderr=subprocess.DEVNULL)


def main() -> None:
    folder = tempfile.mkdtemp(prefix="mkb", dir="/tmp")
    socket_path = os.path.join(folder, "agent.sock")
    tests = os.path.abspath(os.path.join(CLIENT, "tests"))
    agent = subprocess.Popen([sys.executable, "-c", FAKE_AGENT.format(tests=tests), socket_path],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert agent.stdout is not None and agent.stdin is not None
        assert agent.stdout.readline().strip() == "ready"
        print(f"python {sys.version.split()[0]} ({sys.executable}), {N:,} calls x {REPEATS}, "
              "medians")
        run_case("in a job, fake agent in another process",
                 {"MEESHKAN_JOB_ID": str(uuid.uuid4()), "MEESHKAN_SOCKET": socket_path})
        agent.stdin.write("count\n")
        agent.stdin.flush()
        print(f"  fake agent stored {int(agent.stdout.readline()):,} points")
        run_case("in a job, no agent listening",
                 {"MEESHKAN_JOB_ID": str(uuid.uuid4()),
                  "MEESHKAN_SOCKET": os.path.join(folder, "nobody.sock")})
        run_case("outside any job (run by hand)", {})
    finally:
        agent.kill()
        agent.wait()


if __name__ == "__main__":
    child() if "--child" in sys.argv else main()
