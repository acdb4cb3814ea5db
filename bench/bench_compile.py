"""In-process compilation speed: pyc's compiler against CPython's `compile()` (`make bench`).

    PYENV_VERSION=3.12.1 python3 bench/bench_compile.py COMPILE_TREE [--runs N] [ROOT]

Both read every `.py` under ROOT (default: this interpreter's stdlib, without site-packages)
into memory first and then compile all of them on one thread; only compilation is timed.
Runs alternate between the two; the medians and their ratio are printed, of wall times and
of CPU times (user + system of the process over the compilation), which the load of a shared
machine disturbs much less.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import time
import warnings


def sources(root):
    out = []
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "site-packages"))
        out.extend(os.path.join(dirpath, f) for f in sorted(files) if f.endswith(".py"))
    return out


def cpython_run(files):
    texts = []
    for path in files:
        with open(path, "rb") as f:
            texts.append((path, f.read()))
    failed = 0
    cpu_start = time.process_time()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path, text in texts:
            try:
                compile(text, path, "exec", dont_inherit=True)
            except (SyntaxError, ValueError):
                failed += 1
    return time.perf_counter() - start, time.process_time() - cpu_start, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("compile_tree")
    ap.add_argument("root", nargs="?", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    files = sources(args.root)
    ours, theirs, ours_cpu, theirs_cpu = [], [], [], []
    for _ in range(args.runs):
        t, cpu, failed = cpython_run(files)
        theirs.append(t)
        theirs_cpu.append(cpu)
        out = subprocess.run([args.compile_tree, *files], capture_output=True, text=True,
                             check=True)
        result = json.loads(out.stdout)
        ours.append(result["seconds"])
        ours_cpu.append(result["cpu_seconds"])
    median = statistics.median
    t_theirs, t_ours = median(theirs), median(ours)
    c_theirs, c_ours = median(theirs_cpu), median(ours_cpu)
    print(f"files: {len(files)} (CPython rejects {failed}, pyc rejects {result['failed']})")
    print(f"CPython compile(): median {t_theirs:.3f} s wall, {c_theirs:.3f} s CPU of {args.runs}")
    print(f"pyc compile_source: median {t_ours:.3f} s wall, {c_ours:.3f} s CPU of {args.runs}")
    print(f"ratio: {t_theirs / t_ours:.1f}x wall, {c_theirs / c_ours:.1f}x CPU")
    print(f"load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
