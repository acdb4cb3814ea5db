"""`pyc compile` against `python -m compileall` on a fresh copy of the stdlib (`make bench`).

    PYENV_VERSION=3.12.1 python3 bench/bench_compileall.py PYC [--runs N] [--work DIR]

Copies this interpreter's Lib/ (without site-packages and caches) twice under DIR, then
alternates the two tools on their own copy, N runs each (median):
  - full:   `-f -q -j0` (every cache rewritten, all cores);
  - no-op:  `-q -j0` over the tree the previous run left up to date;
  - full with `-j1`: one process each, so CPU times compare the work done, and pyc's
    scaling from one to all cores;
  - pyc's peak resident memory (wait4).
Wall times depend on the load of this shared machine; CPU times (user + system, the process
and the children it reaped, from wait4) much less, so both are printed.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time


def fresh_copy(dest):
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(
        sysconfig.get_paths()["stdlib"],
        dest,
        ignore=shutil.ignore_patterns("__pycache__", "site-packages"),
    )


def timed(cmd):
    """Wall time and CPU time in seconds, peak RSS in MB of one run (stdout discarded)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):  # 1: the test suite's deliberately broken files
        sys.exit(f"{cmd}: exit status {proc.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pyc")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="bench-work/compileall")
    args = ap.parse_args()
    ours_tree, theirs_tree = os.path.join(args.work, "pyc"), os.path.join(args.work, "cpython")
    fresh_copy(ours_tree)
    fresh_copy(theirs_tree)
    nsources = sum(
        f.endswith(".py") for _, _, files in os.walk(ours_tree) for f in files
    )
    ours_cmd = [args.pyc, "compile", "-q", "-j0", ours_tree]
    theirs_cmd = [sys.executable, "-m", "compileall", "-q", "-j0", theirs_tree]

    def force(cmd):
        return cmd[:-1] + ["-f", cmd[-1]]

    def one_worker(cmd):
        return [a if a != "-j0" else "-j1" for a in cmd]

    runs = {
        "full -j0": (force(theirs_cmd), force(ours_cmd)),
        "full -j1": (one_worker(force(theirs_cmd)), one_worker(force(ours_cmd))),
        "no-op -j0": (theirs_cmd, ours_cmd),
    }
    results = {(k, tool, m): [] for k in runs for tool in (0, 1) for m in ("wall", "cpu")}
    results["rss"] = []
    for _ in range(args.runs):
        for kind, cmds in runs.items():
            for tool, cmd in enumerate(cmds):
                wall, cpu, rss = timed(cmd)
                results[kind, tool, "wall"].append(wall)
                results[kind, tool, "cpu"].append(cpu)
                if tool == 1:
                    results["rss"].append(rss)
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"stdlib copy: {nsources} sources; {args.runs} alternating runs each, medians")
    for kind in runs:
        for m in ("wall", "cpu"):
            theirs, ours = med[kind, 0, m], med[kind, 1, m]
            print(f"{kind:9} {m:4}: compileall {theirs:.3f} s, pyc {ours:.3f} s,"
                  f" ratio {theirs / ours:.1f}x")
    j1, j0 = med["full -j1", 1, "wall"], med["full -j0", 1, "wall"]
    print(f"pyc scaling: -j1 {j1:.3f} s, -j0 ({os.cpu_count()} cores) {j0:.3f} s,"
          f" speed-up {j1 / j0:.2f}x")
    print(f"pyc peak RSS: {max(results['rss']):.1f} MB")
    print("(compileall -j0 CPU time leaves out its workers: they are not its children)")


if __name__ == "__main__":
    sys.exit(main())
