"""``python -m meeshkan ARGS``: runs the ``meeshkan`` command (``MEESHKAN_CLI``, else on PATH).

``python -m meeshkan submit train.py`` from a virtual environment or conda interpreter submits
with ``--python`` set to that interpreter (unless ``--python`` is given), so the job runs in the
environment it was submitted from.
"""

from __future__ import annotations

import os
import sys

from ._control import cli_path

SUBMIT_SHORTHAND_SUFFIXES = (".py", ".ipynb")
# submit's options that take a value (the rest of the command line belongs to the job).
SUBMIT_VALUE_OPTIONS = ("-n", "--name", "-r", "--report-interval", "--python", "--cwd",
                        "--scalar-pattern")


def command_line(args: list[str], python: str) -> list[str]:
    """The CLI's arguments: ``args``, with ``--python`` added to a submit that does not name one."""
    if not args:
        return args
    if args[0] == "submit":
        options = args[1:]
    elif not args[0].startswith("-") and args[0].endswith(SUBMIT_SHORTHAND_SUFFIXES):
        options = args
    else:
        return args
    i = 0
    while i < len(options) and options[i].startswith("-"):
        if options[i] == "--python" or options[i].startswith("--python="):
            return args
        i += 2 if options[i] in SUBMIT_VALUE_OPTIONS else 1
    return ["submit", "--python", python, *options]


def main() -> int:
    try:
        cli = cli_path()
    except RuntimeError as error:
        print(f"meeshkan: {error}", file=sys.stderr)
        return 1
    args = command_line(sys.argv[1:], sys.executable)
    try:
        os.execv(cli, [cli, *args])
    except OSError as error:
        print(f"meeshkan: cannot run {cli}: {error.strerror}", file=sys.stderr)
        return 1
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
