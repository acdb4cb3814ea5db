"""`pyc check` against an importlib-rules audit in Python (bench/check_importlib.py) on a
CPython-compiled copy of the 3.12 stdlib, in timestamp and checked-hash modes:

    PYENV_VERSION=3.12.1 python3 bench/bench_check.py target/release/pyc [RUNS]

Runs alternate between the two tools; prints medians and the ratio as a Markdown table.
"""

import os
import statistics
import subprocess
import sys
import time

from stdlib_tree import fresh_stdlib_copy

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(pyc, runs, work):
    rows = []
    for mode in ("TIMESTAMP", "CHECKED_HASH"):
        tree = os.path.join(work, "Lib")
        fresh_stdlib_copy(tree, mode)
        python_cmd = [sys.executable, os.path.join(HERE, "check_importlib.py"), tree]
        pyc_cmd = [pyc, "check", tree]
        timed(python_cmd), timed(pyc_cmd)  # warm the page cache
        py_times, pyc_times = [], []
        for _ in range(runs):
            py_times.append(timed(python_cmd))
            pyc_times.append(timed(pyc_cmd))
        py, ours = statistics.median(py_times), statistics.median(pyc_times)
        rows.append((mode.lower().replace("_", "-"), py, ours))
    print("| mode | importlib rules in Python (median) | pyc check (median) | speed-up |")
    print("|---|---|---|---|")
    for mode, py, ours in rows:
        print("| %s | %.1f ms | %.1f ms | %.1fx |" % (mode, py * 1e3, ours * 1e3, py / ours))


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 11,
         "bench-work/bench-check")
