"""Import speed: a generated tree of 200 modules (a package with a config module and 9
subpackages, each with an `__init__` and 21 modules importing each other relatively) imported from its caches by
`pyc run` and by CPython 3.12, both from the same pycs (written by CPython's compileall):

    PYENV_VERSION=3.12.1 python3 bench/bench_imports.py target/release/pyc [RUNS]

Runs alternate between the two; each tool's start-up (an empty script) is measured the same way
and subtracted to give the import time alone. Prints medians as a Markdown table.
"""

import os
import shutil
import statistics
import subprocess
import sys
import time

SUBPACKAGES = 9
MODULES = 21  # per subpackage: 1 + 1 + 9 * (1 + 21) = 200 modules with gen/__init__, gen/config

MODULE = '''"""Generated module {p}.{m}."""
{imports}

TABLE = {{{table}}}
NAMES = ({names},)


class Shape{m}:
    """A class with a few methods."""

    sides = {m}

    def __init__(self, size):
        self.size = size

    def area(self):
        return self.size * self.size * self.sides

    def scaled(self, k):
        return Shape{m}(self.size * k)

    def __repr__(self):
        return f"Shape{m}({{self.size}})"


def total(values):
    acc = 0
    for v in values:
        if v % 2:
            acc += v * {m}
        else:
            acc -= v
    return acc


def describe(n):
    try:
        return [f"{{k}}={{v}}" for k, v in TABLE.items() if v > n]
    except TypeError as exc:
        raise ValueError("bad") from exc


CHECK = total(range({m}))
'''


def generate(root):
    shutil.rmtree(root, ignore_errors=True)
    pkg = os.path.join(root, "gen")
    os.makedirs(pkg)
    with open(os.path.join(pkg, "__init__.py"), "w") as f:
        f.write("".join(f"from . import p{p}\n" for p in range(SUBPACKAGES)))
    with open(os.path.join(pkg, "config.py"), "w") as f:
        f.write("LEVEL = 3\n")
    for p in range(SUBPACKAGES):
        sub = os.path.join(pkg, f"p{p}")
        os.makedirs(sub)
        with open(os.path.join(sub, "__init__.py"), "w") as f:
            f.write("".join(f"from . import m{m}\n" for m in range(MODULES)))
        for m in range(MODULES):
            text = MODULE.format(
                p=p,
                m=m,
                imports=f"from . import m{m - 1}" if m else "from .. import config",
                table=", ".join(f"'k{i}': {i * m}" for i in range(12)),
                names=", ".join(f"'n{i}'" for i in range(8)),
            )
            with open(os.path.join(sub, f"m{m}.py"), "w") as f:
                f.write(text)
    with open(os.path.join(root, "main.py"), "w") as f:
        f.write("import gen\nprint(len(gen.p8.m20.TABLE))\n")
    with open(os.path.join(root, "empty.py"), "w") as f:
        f.write("print(12)\n")
    subprocess.run([sys.executable, "-m", "compileall", "-q", root], check=True)


def timed(cmd, cwd):
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if r.returncode != 0 or r.stdout != b"12\n":
        sys.exit(f"{cmd} failed: {r.stdout!r} {r.stderr.decode()}")
    return elapsed


def main(pyc, runs, root):
    generate(root)
    modules = sum(1 for _, _, files in os.walk(os.path.join(root, "gen")) for f in files if f.endswith(".py"))
    assert modules == 200, modules
    cmds = {
        "CPython 3.12": [sys.executable],
        "pyc run": [pyc, "run"],
    }
    times = {(tool, script): [] for tool in cmds for script in ("main.py", "empty.py")}
    for _ in range(2):  # warm the page cache
        for tool, cmd in cmds.items():
            timed(cmd + ["main.py"], root)
    for _ in range(runs):
        for script in ("main.py", "empty.py"):
            for tool, cmd in cmds.items():
                times[(tool, script)].append(timed(cmd + [script], root))
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    print(f"200-module package tree from its pycs, median of {runs} alternating runs (load {os.getloadavg()[0]:.2f})")
    print()
    print("| tool | import 200 modules + start-up | start-up alone | imports alone |")
    print("|---|---|---|---|")
    for tool in cmds:
        total, empty = med[(tool, "main.py")], med[(tool, "empty.py")]
        print(f"| {tool} | {total:.1f} ms | {empty:.1f} ms | {total - empty:.1f} ms |")
    py = med[("CPython 3.12", "main.py")] - med[("CPython 3.12", "empty.py")]
    ours = med[("pyc run", "main.py")] - med[("pyc run", "empty.py")]
    print()
    print(f"imports alone: pyc {py / ours:.2f}x CPython's speed")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 21,
         os.path.abspath("bench-work/bench-imports"))
