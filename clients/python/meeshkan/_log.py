"""One-line warnings on stderr, each shown at most once per process.

The client never raises into a training script for a reporting problem; it says so once instead.
"""

from __future__ import annotations

import sys
import threading

_lock = threading.Lock()
_shown: set[str] = set()


def warn_once(key: str, message: str) -> bool:
    """Prints ``meeshkan: message`` on stderr unless ``key`` was warned about before.

    Returns True when the message was printed.
    """
    with _lock:
        if key in _shown:
            return False
        _shown.add(key)
    try:
        print(f"meeshkan: {message}", file=sys.stderr, flush=True)
    except Exception:  # a closed stderr must not break the caller
        pass
    return True


def reset_after_fork() -> None:
    """A forked child has its own stderr story: let it warn again."""
    global _lock
    _lock = threading.Lock()
    _shown.clear()
