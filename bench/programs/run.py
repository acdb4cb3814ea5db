"""Times `pyc run` against CPython 3.12 on bench/programs/*.py: median of N alternating runs
each, the ratio time(pyc)/time(CPython) per program, and their geometric mean; also the peak
resident memory of each (max over the runs) and the start-up time of a hello-world `pyc run`
against `python3.12 -S -c pass`.

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
    """Runs cmd; returns (seconds, stdout)."""
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, capture_output=True)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"{cmd} failed: {r.stderr.decode()}")
    return dt, r.stdout


def peak_rss_kib(cmd, cwd):
    """Peak resident memory of cmd, measured by GNU time (not polluted by our own fork)."""
    with tempfile.NamedTemporaryFile() as f:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", f.name, *cmd], cwd=cwd, capture_output=True, check=True)
        return int(open(f.name).read().split()[-1])


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
            mem_ours = peak_rss_kib([pyc, "run", src.stem + ".pyc"], work)
            mem_theirs = peak_rss_kib([sys.executable, src.stem + ".pyc"], work)
            a, b = statistics.median(ours), statistics.median(theirs)
            ratios.append(a / b)
            print(
                f"{src.stem:20} pyc {a:7.3f}s  cpython {b:7.3f}s  ratio {a / b:5.2f}"
                f"   peak RSS pyc {mem_ours / 1024:6.1f} MiB  cpython {mem_theirs / 1024:6.1f} MiB"
            )
        hello = os.path.join(work, "hello.py")
        with open(hello, "w") as f:
            f.write("pass\n")
        py_compile.compile(hello, cfile=os.path.join(work, "hello.pyc"), doraise=True)
        starts = [timed([pyc, "run", "hello.pyc"], work)[0] for _ in range(10)]
        cpy = [timed([sys.executable, "-S", "-c", "pass"], work)[0] for _ in range(10)]
    print(f"geometric mean ratio: {math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}")
    print(
        f"start-up (median of 10): pyc run hello.pyc {statistics.median(starts) * 1000:.1f} ms,"
        f" python3.12 -S -c pass {statistics.median(cpy) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
