#!/usr/bin/env python3
"""Executes one notebook through Jupyter's own machinery (nbclient and the registered .NET Interactive kernel), in the
notebook's folder (as Jupyter does), and writes the executed copy with per-cell timings. Stops at the first failing cell; the copy then
holds that cell's error.
usage: execute-notebook.py NOTEBOOK EXECUTED_COPY [--kernel .net-csharp] [--cell-timeout SECONDS] [--cwd FOLDER] [--start-attempts N]
exit: 0 every cell ran, 1 a cell failed, 2 the notebook or the kernel could not be started (a kernel that dies before its
first cell is started again, up to --start-attempts times)"""
import argparse
import os
import random
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


# The .NET Interactive kernel's first output is a script that connects the live page to the kernel's local HTTP port
# (and fetches require.js from a CDN where the page lacks it). It does nothing in a saved copy and is not needed by the
# charts, which carry plotly.js themselves, so the executed copy leaves it out.
KERNEL_BOOTSTRAP = "dotnet-interactive-this-cell-"


def drop_kernel_bootstrap(notebook):
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = [o for o in cell.get("outputs", [])
                        if not (o.get("output_type") == "display_data" and KERNEL_BOOTSTRAP in "".join(o.get("data", {}).get("text/html", "")))]


def executed_any(notebook):
    return any(cell.cell_type == "code" and (cell.get("execution_count") is not None or cell.get("outputs")) for cell in notebook.cells)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("notebook")
    parser.add_argument("executed")
    parser.add_argument("--kernel", default=".net-csharp")
    parser.add_argument("--cell-timeout", type=int, default=3600)
    parser.add_argument("--cwd", help="the kernel's working folder (default: the notebook's)")
    parser.add_argument("--start-attempts", type=int, default=3,
                        help="kernel starts to try before giving up (kernels started at the same moment can collide on a port)")
    arguments = parser.parse_args()
    for attempt in range(1, arguments.start_attempts + 1):
        notebook = nbformat.read(arguments.notebook, as_version=4)
        client = NotebookClient(
            notebook,
            kernel_name=arguments.kernel,
            timeout=arguments.cell_timeout,
            startup_timeout=300,
            allow_errors=False,
            record_timing=True,
            resources={"metadata": {"path": arguments.cwd or os.path.dirname(os.path.abspath(arguments.notebook))}},
        )
        status = 0
        try:
            client.execute()
        except CellExecutionError as error:
            print(str(error)[-4000:], file=sys.stderr)
            status = 1
        except Exception as error:  # kernel missing, start-up failure or timeout, dead kernel
            print(f"{arguments.notebook}: {type(error).__name__}: {error}", file=sys.stderr)
            status = 2
        if status == 2 and not executed_any(notebook) and attempt < arguments.start_attempts:
            print(f"{arguments.notebook}: the kernel did not start (attempt {attempt} of {arguments.start_attempts}); starting another",
                  file=sys.stderr)
            time.sleep(random.uniform(1, 4))
            continue
        break
    drop_kernel_bootstrap(notebook)
    nbformat.write(notebook, arguments.executed)
    return status


if __name__ == "__main__":
    sys.exit(main())
