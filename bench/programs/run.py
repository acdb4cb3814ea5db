"""Times `pyc run` against CPython 3.12 on bench/programs/*.py: median of N alternating runs
each, the ratio time(pyc)/time(CPython) per program, and their geometric mean.

Usage: PYENV_VERSION=3.12.1 python3 bench/programs/run.py PATH/TO/pyc [N]
"""

import math
import os
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(cmd, cwd):
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, capture_output=True)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"{cmd} failed: {r.stderr.decode()}")
    return dt, r.stdout


def main():
    pyc = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    ratios = []
    with tempfile.TemporaryDirectory() as work:
        for src in sorted(HERE.glob("*.py")):
            if src.name == "run.py":
                continue
            shutil.copy(src, work)
            py_compile.compile(os.path.join(work, src.name), cfile=os.path.join(work, src.stem + ".pyc"), doraise=True)
            ours, theirs = [], []
            for _ in range(n):
                t1, out1 = timed([pyc, "run", src.stem + ".pyc"], work)
                t2, out2 = timed([sys.executable, src.stem + ".pyc"], work)
                if out1 != out2:
                    sys.exit(f"{src.name}: output differs from CPython")
                ours.append(t1)
                theirs.append(t2)
            a, b = statistics.median(ours), statistics.median(theirs)
            ratios.append(a / b)
            print(f"{src.stem:20} pyc {a:7.3f}s  cpython {b:7.3f}s  ratio {a / b:5.2f}")
    print(f"geometric mean ratio: {math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}")


if __name__ == "__main__":
    main()
