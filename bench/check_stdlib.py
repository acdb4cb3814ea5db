"""`pyc check` acceptance on CPython's own stdlib (run by `make parity`):

    PYENV_VERSION=3.12.1 python3 bench/check_stdlib.py target/release/pyc [WORKDIR]

1. a CPython-compiled copy of the 3.12 stdlib is all fresh (but for the sources CPython itself
   cannot compile, which are missing);
2. after a source is edited, a cache deleted, a source deleted and a cache truncated, exactly
   those four are reported, as stale, missing, orphan and corrupt;
3. in checked-hash mode, an edit that keeps size and mtime is reported stale.
"""

import json
import os
import subprocess
import sys

from stdlib_tree import fresh_stdlib_copy


def check(pyc, tree):
    out = subprocess.run([pyc, "check", "--format", "json", tree], capture_output=True, text=True)
    entries = [json.loads(line) for line in out.stdout.splitlines()]
    problems = sorted(
        (e["status"], os.path.relpath(e["cache"] or e["source"], tree))
        for e in entries
        if e["status"] not in ("fresh", "other")
    )
    return out.returncode, len(entries), problems


def main(pyc, work):
    ok = True

    def expect(what, got, want):
        nonlocal ok
        good = got == want
        ok &= good
        print("%s %s" % ("ok  " if good else "FAIL", what))
        if not good:
            print("   got:  %r\n   want: %r" % (got, want))

    tree = os.path.join(work, "Lib")
    failed = fresh_stdlib_copy(tree)
    code, n, problems = check(pyc, tree)
    print("%d files audited; %d sources CPython cannot compile" % (n, len(failed)))
    expect("CPython-compiled stdlib: all fresh but uncompilable sources",
           problems, sorted(("missing", f) for f in failed))

    edited, deleted_cache_src, deleted_src, truncated_src = (
        "json/decoder.py", "email/utils.py", "textwrap.py", "collections/__init__.py")
    tag = sys.implementation.cache_tag
    cache = lambda src: os.path.join(os.path.dirname(src), "__pycache__",
                                     os.path.basename(src)[:-3] + "." + tag + ".pyc")
    path = os.path.join(tree, edited)
    with open(path, "a") as f:
        f.write("\n# edited\n")
    st = os.stat(path)
    os.utime(path, (st.st_atime, st.st_mtime + 5))
    os.remove(os.path.join(tree, cache(deleted_cache_src)))
    os.remove(os.path.join(tree, deleted_src))
    with open(os.path.join(tree, cache(truncated_src)), "r+b") as f:
        f.truncate(1000)
    code, n, problems = check(pyc, tree)
    expect("four changes reported", [p for p in problems if p[1] not in failed], sorted([
        ("stale", cache(edited)), ("missing", deleted_cache_src),
        ("orphan", cache(deleted_src)), ("corrupt", cache(truncated_src))]))
    expect("exit status 1", code, 1)

    failed = fresh_stdlib_copy(tree, "CHECKED_HASH")
    code, n, problems = check(pyc, tree)
    expect("checked-hash stdlib: all fresh", problems, sorted(("missing", f) for f in failed))
    path = os.path.join(tree, edited)
    st = os.stat(path)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data.replace(b"JSONDecoder", b"JSONDEcoder", 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    code, n, problems = check(pyc, tree)
    expect("same size and mtime, new hash: stale",
           [p for p in problems if p[1] not in failed], [("stale", cache(edited))])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(os.path.abspath(sys.argv[1]),
                  sys.argv[2] if len(sys.argv) > 2 else "bench-work/check"))
