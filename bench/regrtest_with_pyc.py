"""CPython 3.12's own regression tests run on a stdlib compiled by pyc (`make cpython-tests`).

    PYENV_VERSION=3.12.1 python3 bench/regrtest_with_pyc.py PYC [--work DIR] [TEST ...]

Makes two copies of this interpreter's prefix with every pyc deleted. One copy's lib directory
is compiled by CPython (`compileall --invalidation-mode unchecked-hash`), the other's by
`pyc compile --invalidation-mode unchecked-hash`, so each interpreter runs the bytecode it was
given without looking at the sources. Then the same language-heavy test modules run on both
(`-X frozen_modules=off`, so the core modules come from the pycs too) and the outcome of every
test case is compared. Exit status 1 when any test case ends differently.
"""

import argparse
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

TESTS = """
test_grammar test_patma test_scope test_exceptions test_generators test_coroutines test_class
test_descr test_fstring test_with test_dataclasses test_enum test_typing test_type_params
test_except_star test_sys_settrace test_traceback test_dis test_compile test_syntax
test_peepholer test_unparse test_string_literals test_keywordonlyarg
test_positional_only_arg test_named_expressions test_listcomps test_setcomps test_genexps
test_dictcomps test_funcattrs test_super test_contextlib test_contextlib_async test_asyncgen
test_unpack test_unpack_ex test_opcodes test_augassign test_bool test_int test_float
test_types test_builtin test_functools test_itertools test_inspect test_abc test_property
test_decorators test_global test_raise test_yield_from test_exception_group test_future_stmt
test_collections test_string test_re test_json test_pprint test_math test_statistics
test_ast test_symtable test_code test_frame test_pep646_syntax test_buffer
""".split()


def run(cmd, **kw):
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, **kw)


def make_prefix(dest):
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(sys.prefix, dest, symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return os.path.join(dest, "lib", "python%d.%d" % sys.version_info[:2])


def pycs(lib):
    """Relative paths of the caches under lib."""
    out = set()
    for dirpath, _, files in os.walk(lib):
        out.update(os.path.relpath(os.path.join(dirpath, f), lib) for f in files
                   if f.endswith(".pyc"))
    return out


def outcomes(junit):
    """test case id -> passed / failure / error / skipped."""
    out = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = "%s.%s" % (case.get("classname"), case.get("name"))
        status = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                status = child.tag
        out[name] = status
    return out


def run_tests(prefix, tests, junit):
    python = os.path.join(prefix, "bin", "python%d.%d" % sys.version_info[:2])
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYENV_VERSION", None)
    proc = run([python, "-X", "frozen_modules=off", "-m", "test", "-j2", "--junit-xml", junit,
                *tests], env=env, capture_output=True, text=True)
    tail = proc.stdout.strip().splitlines()[-12:]
    print("\n".join("    " + line for line in tail))
    return outcomes(junit)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pyc")
    ap.add_argument("--work", default="bench-work/regrtest")
    ap.add_argument("tests", nargs="*", default=TESTS)
    args = ap.parse_args()
    pyc = os.path.abspath(args.pyc)
    work = os.path.abspath(args.work)

    ref_lib = make_prefix(os.path.join(work, "cpython"))
    run([sys.executable, "-m", "compileall", "-q", "-j0", "--invalidation-mode",
         "unchecked-hash", ref_lib], check=False, stdout=subprocess.DEVNULL)
    our_lib = make_prefix(os.path.join(work, "pyc"))
    run([pyc, "compile", "-q", "--invalidation-mode", "unchecked-hash", our_lib],
        check=False, stdout=subprocess.DEVNULL)

    # Where pyc wrote no cache the interpreter would silently compile the source itself.
    missing = sorted(pycs(ref_lib) - pycs(our_lib))
    print(f"caches CPython wrote: {len(pycs(ref_lib))}, missing from pyc's tree: {len(missing)}")
    for path in missing[:20]:
        print("  missing", path)

    ref = run_tests(os.path.join(work, "cpython"), args.tests, os.path.join(work, "ref.xml"))
    ours = run_tests(os.path.join(work, "pyc"), args.tests, os.path.join(work, "ours.xml"))
    differ = sorted(k for k in set(ref) | set(ours) if ref.get(k) != ours.get(k))
    print(f"test cases: {len(ref)} with CPython's pycs, {len(ours)} with pyc's; "
          f"passed {sum(v == 'passed' for v in ref.values())} / "
          f"{sum(v == 'passed' for v in ours.values())}; ending differently: {len(differ)}")
    for k in differ[:60]:
        print(f"  {k}: CPython pycs {ref.get(k)}, pyc pycs {ours.get(k)}")
    return 1 if differ or missing else 0


if __name__ == "__main__":
    sys.exit(main())
