"""Shared by the stdlib sweeps: a fresh copy of CPython's own Lib/ compiled by CPython."""

import compileall
import importlib.util
import os
import py_compile
import shutil
import sys
import sysconfig
import warnings


def fresh_stdlib_copy(dest, invalidation_mode=None):
    """Copy this interpreter's Lib/ (without site-packages and caches) to `dest`, compile it
    with compileall in `invalidation_mode`, and return the sources that did not compile
    (the test suite's deliberately broken files), as paths relative to `dest`."""
    src = sysconfig.get_paths()["stdlib"]
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(
        src, dest, ignore=shutil.ignore_patterns("__pycache__", "site-packages")
    )
    mode = py_compile.PycInvalidationMode[invalidation_mode or "TIMESTAMP"]
    with open(os.devnull, "w") as devnull, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stdout, sys.stdout = sys.stdout, devnull
        try:
            compileall.compile_dir(dest, quiet=2, workers=1, invalidation_mode=mode)
        finally:
            sys.stdout = stdout
    failed = []
    for root, dirs, files in os.walk(dest):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                if not os.path.exists(importlib.util.cache_from_source(path)):
                    failed.append(os.path.relpath(path, dest))
    return sorted(failed)
