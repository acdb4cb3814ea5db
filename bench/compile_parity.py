"""Compiler parity (run by `make parity`): pyc's caches against CPython's, field by field.

    PYENV_VERSION=3.12.1 python3 bench/compile_parity.py PYC PYC_DIFF [--tree DIR] [--work DIR]

Copies a source tree (default: this interpreter's stdlib) twice, compiles one copy with
`python -m compileall -f` and the other with `pyc compile -f`, each from the copy's parent
directory so that the recorded filenames agree, then compares every code object recursively
(PYC_DIFF is the `pyc_diff` example of pyc-loader). Prints the share of files identical in
every field, the share byte-identical, the first differing field of the others, and checks
that both reject the same files on the same line. Exit status 1 below 95% or on any
rejection mismatch.
"""

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import warnings

THRESHOLD = 95.0


def copy_tree(src, dest):
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "site-packages"))


def cpython_rejections(root):
    """Source path (relative to root's parent) -> the line of CPython's SyntaxError, for every
    source CPython cannot compile."""
    out = {}
    parent = os.path.dirname(root)
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                source = f.read()
            rel = os.path.relpath(path, parent)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    compile(source, rel, "exec", dont_inherit=True)
            except SyntaxError as e:
                out[rel] = e.lineno
            except (ValueError, UnicodeDecodeError):
                out[rel] = 0
    return out


def pyc_rejections(output):
    """Parses `pyc compile -q` output: source -> line of the reported error."""
    out = {}
    current = None
    for line in output.splitlines():
        m = re.match(r"\*\*\* Error compiling '(.*)'\.\.\.$", line)
        if m:
            current = m.group(1)
            out[current] = 0
            continue
        m = re.match(r'  File ".*", line (\d+)$', line)
        if m and current is not None and out[current] == 0:
            out[current] = int(m.group(1))
    return out


def timed(cmd, cwd):
    # Frozenset constants are written in set iteration order, which for strings depends on
    # the hash seed: CPython's own output is reproducible only with a fixed seed, and pyc
    # writes the order of seed 0.
    env = dict(os.environ, PYTHONHASHSEED="0")
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, proc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pyc")
    ap.add_argument("pyc_diff")
    ap.add_argument("--tree", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--work", default="bench-work/compile")
    ap.add_argument("--show", type=int, default=40, help="differing files to list")
    args = ap.parse_args()
    pyc = os.path.abspath(args.pyc)
    name = os.path.basename(os.path.normpath(args.tree))
    ref_parent = os.path.abspath(os.path.join(args.work, "cpython"))
    our_parent = os.path.abspath(os.path.join(args.work, "pyc"))
    for parent in (ref_parent, our_parent):
        copy_tree(args.tree, os.path.join(parent, name))

    t_ref, ref = timed([sys.executable, "-m", "compileall", "-q", "-f", "-j0", name], ref_parent)
    t_ours, ours = timed([pyc, "compile", "-q", "-f", name], our_parent)
    print(f"compileall: {t_ref:.2f} s   pyc compile: {t_ours:.2f} s   (wall, one run each)")

    diff = subprocess.run(
        [args.pyc_diff, ref_parent, our_parent], capture_output=True, text=True, check=True
    )
    verdicts = collections.Counter()
    fields = collections.Counter()
    differing = []
    for line in diff.stdout.splitlines():
        word, _, rest = line.partition(" ")
        verdicts[word] += 1
        if word in ("differs", "unreadable"):
            differing.append(line)
            if word == "differs":
                field = rest.split(" ", 1)[1].split(":", 1)[0]
                fields[re.sub(r"\[\d+\]", "[]", field)] += 1
    total = sum(verdicts[w] for w in ("identical", "same-code", "differs", "missing", "unreadable"))
    same = verdicts["identical"] + verdicts["same-code"]
    share = 100.0 * same / total if total else 0.0
    print(f"files CPython compiled: {total}")
    print(f"identical in every field: {same} ({share:.2f}%)")
    print(f"byte-identical: {verdicts['identical']} ({100.0 * verdicts['identical'] / max(total, 1):.2f}%)")
    print(f"differ: {verdicts['differs']}, not compiled by pyc: {verdicts['missing']}, "
          f"unreadable: {verdicts['unreadable']}, compiled only by pyc: {verdicts['extra']}")
    if fields:
        print("first differing field (files):")
        for field, n in fields.most_common(20):
            print(f"  {n:6}  {field}")
    for line in differing[: args.show]:
        print("  " + line[:400])

    theirs = cpython_rejections(os.path.join(ref_parent, name))
    mine = pyc_rejections(ours.stdout)
    mismatches = []
    for path in sorted(set(theirs) | set(mine)):
        if theirs.get(path) != mine.get(path):
            mismatches.append((path, theirs.get(path), mine.get(path)))
    print(f"rejected by CPython: {len(theirs)}, by pyc: {len(mine)}, "
          f"disagreeing (file or line): {len(mismatches)}")
    for path, t, m in mismatches[: args.show]:
        print(f"  {path}: CPython line {t}, pyc line {m}")

    ok = share >= THRESHOLD and not mismatches
    print("ok" if ok else "FAIL", f"(need {THRESHOLD}% identical and no rejection mismatch)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
