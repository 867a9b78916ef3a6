"""Runs a function queued by ``meeshkan.submit_function``: ``python -m meeshkan._function FILE``.

Loads ``(func, args, kwargs)`` (cloudpickle), removes the file and calls the function; an exception
ends the job FAILED with its traceback on stderr.
"""

from __future__ import annotations

import os
import pickle
import sys


def main(path: str) -> None:
    with open(path, "rb") as file:
        func, args, kwargs = pickle.load(file)  # cloudpickle output loads with plain pickle
    os.unlink(path)
    result = func(*args, **kwargs)
    if result is not None:
        print(repr(result))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m meeshkan._function FILE", file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
