"""report_scalar from many threads at once: every value stays with its own name."""

from __future__ import annotations

import sys
import threading

import meeshkan

THREADS = 8
POINTS = 20_000


def test_eight_threads_with_forced_switches_keep_every_value_with_its_name(agent, job_id) -> None:
    # Value k of thread t is t * 1e6 + k: a value under another thread's name, a lost or a doubled
    # point, or a point of one pair split from the other all show.
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        barrier = threading.Barrier(THREADS)

        def report(t: int) -> None:
            barrier.wait()
            for k in range(POINTS):
                if k % 2:
                    meeshkan.report_scalar(f"thread {t}", t * 1e6 + k)
                else:
                    meeshkan.report_scalar(f"thread {t}", t * 1e6 + k, f"pair {t}", -(t * 1e6 + k))

        threads = [threading.Thread(target=report, args=(t,)) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(old)
    assert meeshkan.flush(60)
    points = agent.points(job_id)
    by_name: dict[str, list[float]] = {}
    times: dict[tuple[str, float], int] = {}
    for name, value, wall in points:
        by_name.setdefault(name, []).append(value)
        times[(name, abs(value))] = wall
    for t in range(THREADS):
        assert sorted(by_name[f"thread {t}"]) == [t * 1e6 + k for k in range(POINTS)]
        assert sorted(by_name[f"pair {t}"]) == [-(t * 1e6 + k) for k in range(POINTS - 2, -1, -2)]
        # Each thread's own points arrive in the order it reported them.
        assert by_name[f"thread {t}"] == sorted(by_name[f"thread {t}"])
        # The two values of one call carry the same time.
        assert all(times[(f"pair {t}", t * 1e6 + k)] == times[(f"thread {t}", t * 1e6 + k)]
                   for k in range(0, POINTS, 2))
    assert len(points) == THREADS * POINTS * 3 // 2
