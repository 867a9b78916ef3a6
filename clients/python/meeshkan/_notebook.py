"""Runs a notebook as a job: ``python -m meeshkan._notebook NOTEBOOK.ipynb`` (what the agent runs for
``meeshkan submit analysis.ipynb``).

Cells run in order in a fresh ``python3`` kernel of this interpreter (nbclient), in the job's
environment, so ``import meeshkan`` in a cell reports to the job like any script. The executed
notebook, with its outputs, is saved in the job folder after every cell (``<job folder>/<name>``,
or next to the original as ``<name>.executed.ipynb`` outside a job). Cell output is copied to the
job's stdout/stderr as it arrives. A failing cell stops the run: its traceback goes to stderr (so
the failure notification shows it) and the exit status is 1.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from typing import Any

from . import _unsent

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Run in the kernel after the last cell so that its scalars reach the agent before the kernel stops.
FLUSH_CODE = "import sys\nif 'meeshkan' in sys.modules:\n    sys.modules['meeshkan'].flush(60)\n"


def output_path(notebook: str) -> str:
    folder = _unsent.job_folder()
    name = os.path.basename(notebook)
    if folder is not None:
        return os.path.join(folder, name)
    root, _ = os.path.splitext(notebook)
    return root + ".executed.ipynb"


def _echo(output: Any) -> None:
    kind = output.get("output_type")
    if kind == "stream":
        stream = sys.stderr if output.get("name") == "stderr" else sys.stdout
        stream.write(output.get("text", ""))
        stream.flush()
    elif kind in ("execute_result", "display_data"):
        text = output.get("data", {}).get("text/plain")
        if text:
            print(text, flush=True)


def run(notebook: str) -> int:
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
        from nbclient.util import run_sync
    except ImportError as error:
        print(f"meeshkan: cannot run notebooks with {sys.executable}: {error}. Install nbclient and "
              "ipykernel (Debian: apt-get install python3-nbclient python3-ipykernel), or submit "
              "with --python pointing at an interpreter that has them.", file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. cells without ids (older nbformat files)
            nb = nbformat.read(notebook, as_version=4)
    except Exception as error:  # not JSON, not a notebook
        print(f"meeshkan: {notebook} is not a valid notebook: {error}", file=sys.stderr)
        return 2
    saved = output_path(notebook)
    client = NotebookClient(nb, timeout=None, kernel_name="python3",
                            resources={"metadata": {"path": os.getcwd()}})
    status = 0
    # The kernel's debugger otherwise warns about frozen modules on every start.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as error:
                for output in cell.get("outputs", []):
                    if output.get("output_type") != "error":
                        _echo(output)
                print(f"meeshkan: cell {index + 1} of {os.path.basename(notebook)} failed:\n"
                      + ANSI.sub("", str(error)).strip(), file=sys.stderr, flush=True)
                status = 1
                break
            finally:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    nbformat.write(nb, saved)
            for output in cell.get("outputs", []):
                _echo(output)
        run_sync(client.kc.execute_interactive)(FLUSH_CODE, timeout=90, store_history=False,
                                      output_hook=lambda message: None)
    print(f"[meeshkan] executed notebook saved to {saved}", file=sys.stderr, flush=True)
    return status


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m meeshkan._notebook NOTEBOOK.ipynb", file=sys.stderr)
        sys.exit(2)
    sys.exit(run(sys.argv[1]))
