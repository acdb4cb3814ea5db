# The parts of the VM's os module written in Python (compiled by pyc-compiler when os is first
# imported); the system calls (_stat, listdir, mkdir, ...) are native.

environ = _environ()


def getenv(key, default=None):
    return environ.get(key, default)


class stat_result(tuple):
    """The result of stat(): ten items, and the st_* attributes (times as floats)."""

    n_sequence_fields = 10
    n_fields = 13

    def __new__(cls, items):
        self = tuple.__new__(cls, items[:10])
        self._float_times = items[10:]
        return self

    st_mode = property(lambda self: self[0])
    st_ino = property(lambda self: self[1])
    st_dev = property(lambda self: self[2])
    st_nlink = property(lambda self: self[3])
    st_uid = property(lambda self: self[4])
    st_gid = property(lambda self: self[5])
    st_size = property(lambda self: self[6])
    st_atime = property(lambda self: self._float_times[0])
    st_mtime = property(lambda self: self._float_times[1])
    st_ctime = property(lambda self: self._float_times[2])

    def __repr__(self):
        names = ["st_mode", "st_ino", "st_dev", "st_nlink", "st_uid", "st_gid", "st_size",
                 "st_atime", "st_mtime", "st_ctime"]
        return "os.stat_result(%s)" % ", ".join(
            "%s=%r" % (name, value) for name, value in zip(names, self))


def stat(path, *, follow_symlinks=True):
    return stat_result(_stat(path, follow_symlinks))


def lstat(path):
    return stat_result(_stat(path, False))


def makedirs(name, mode=0o777, exist_ok=False):
    head, tail = path.split(name)
    if not tail:
        head, tail = path.split(head)
    if head and tail and not path.exists(head):
        try:
            makedirs(head, exist_ok=exist_ok)
        except FileExistsError:
            pass
    try:
        mkdir(name, mode)
    except OSError:
        if not exist_ok or not path.isdir(name):
            raise


def removedirs(name):
    rmdir(name)
    head, tail = path.split(name)
    if not tail:
        head, tail = path.split(head)
    while head and tail:
        try:
            rmdir(head)
        except OSError:
            break
        head, tail = path.split(head)


def walk(top, topdown=True, onerror=None, followlinks=False):
    try:
        names = listdir(top)
    except OSError as error:
        if onerror is not None:
            onerror(error)
        return
    dirs, nondirs = [], []
    for name in names:
        full = path.join(top, name)
        if path.isdir(full) and (followlinks or not path.islink(full)):
            dirs.append(name)
        else:
            nondirs.append(name)
    if topdown:
        yield top, dirs, nondirs
    for name in dirs:
        yield from walk(path.join(top, name), topdown, onerror, followlinks)
    if not topdown:
        yield top, dirs, nondirs


def fspath(p):
    if isinstance(p, (str, bytes)):
        return p
    method = getattr(type(p), '__fspath__', None)
    if method is None:
        raise TypeError("expected str, bytes or os.PathLike object, not " + type(p).__name__)
    return method(p)
