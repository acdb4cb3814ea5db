"""The baseline `pyc check` is measured against: a cache audit written in Python that applies
importlib's own rules (importlib._bootstrap_external's _classify_pyc, _validate_timestamp_pyc,
_validate_hash_pyc, then marshal.loads), as a CI job would write it.

    python3.12 bench/check_importlib.py DIR

Prints the same counts as `pyc check`; exit status 1 when anything is stale, missing, orphaned
or corrupt.
"""

import collections
import importlib.util
import marshal
import os
import sys
import types
from importlib import _bootstrap_external as ext


def audit_source(source):
    cache = importlib.util.cache_from_source(source)
    try:
        with open(cache, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return "missing"
    st = os.stat(source)
    details = {"name": source, "path": cache}
    try:
        flags = ext._classify_pyc(data, source, details)
        if flags & 0b1:
            if flags & 0b10:
                with open(source, "rb") as f:
                    source_hash = importlib.util.source_hash(f.read())
                ext._validate_hash_pyc(data, source_hash, source, details)
        else:
            ext._validate_timestamp_pyc(data, int(st.st_mtime), st.st_size, source, details)
    except ImportError as e:
        return "corrupt" if "bad magic" in str(e) or "invalid flags" in str(e) else "stale"
    except EOFError:
        return "corrupt"
    try:
        code = marshal.loads(memoryview(data)[16:])
    except (EOFError, ValueError, TypeError):
        return "corrupt"
    return "fresh" if isinstance(code, types.CodeType) else "corrupt"


def main(root):
    counts = collections.Counter()
    tag = sys.implementation.cache_tag
    for dirpath, dirnames, filenames in os.walk(root):
        if os.path.basename(dirpath) == "__pycache__":
            for name in filenames:
                if not name.endswith(".pyc"):
                    continue
                path = os.path.join(dirpath, name)
                parts = name.split(".")
                if len(parts) != 3 or parts[1] != tag:
                    counts["other"] += 1
                    continue
                if not os.path.exists(importlib.util.source_from_cache(path)):
                    counts["orphan"] += 1
            continue
        for name in filenames:
            if name.endswith(".py"):
                counts[audit_source(os.path.join(dirpath, name))] += 1
    print(", ".join("%d %s" % (counts[s], s) for s in
                    ("fresh", "stale", "missing", "orphan", "corrupt", "other")))
    return 1 if any(counts[s] for s in ("stale", "missing", "orphan", "corrupt")) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
