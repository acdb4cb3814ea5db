# The VM's posixpath (os.path), written in Python; stat calls go through the os module.

sep = '/'
curdir = '.'
pardir = '..'
extsep = '.'
pathsep = ':'
altsep = None
devnull = '/dev/null'


def _os():
    import os
    return os


def isabs(s):
    return s.startswith('/')


def join(a, *p):
    path = a
    for b in p:
        if b.startswith('/'):
            path = b
        elif not path or path.endswith('/'):
            path += b
        else:
            path += '/' + b
    return path


def split(p):
    i = p.rfind('/') + 1
    head, tail = p[:i], p[i:]
    if head and head != '/' * len(head):
        head = head.rstrip('/')
    return head, tail


def splitext(p):
    sep_index = p.rfind('/')
    dot_index = p.rfind('.')
    if dot_index > sep_index:
        filename_index = sep_index + 1
        while filename_index < dot_index:
            if p[filename_index] != '.':
                return p[:dot_index], p[dot_index:]
            filename_index += 1
    return p, p[:0]


def basename(p):
    return p[p.rfind('/') + 1:]


def dirname(p):
    i = p.rfind('/') + 1
    head = p[:i]
    if head and head != '/' * len(head):
        head = head.rstrip('/')
    return head


def normpath(path):
    if path == '':
        return '.'
    initial_slashes = 2 if path.startswith('//') and not path.startswith('///') else (
        1 if path.startswith('/') else 0)
    new_comps = []
    for comp in path.split('/'):
        if comp in ('', '.'):
            continue
        if comp != '..' or (not initial_slashes and not new_comps) or (
                new_comps and new_comps[-1] == '..'):
            new_comps.append(comp)
        elif new_comps:
            new_comps.pop()
    path = '/'.join(new_comps)
    if initial_slashes:
        path = '/' * initial_slashes + path
    return path or '.'


def abspath(path):
    if not isabs(path):
        path = join(_os().getcwd(), path)
    return normpath(path)


def realpath(path, *, strict=False):
    return abspath(path)


def relpath(path, start=None):
    if not path:
        raise ValueError("no path specified")
    start = curdir if start is None else start
    start_list = [x for x in abspath(start).split('/') if x]
    path_list = [x for x in abspath(path).split('/') if x]
    i = len(commonprefix([start_list, path_list]))
    rel_list = [pardir] * (len(start_list) - i) + path_list[i:]
    if not rel_list:
        return curdir
    return join(*rel_list)


def commonprefix(m):
    if not m:
        return ''
    s1, s2 = min(m), max(m)
    for i, c in enumerate(s1):
        if c != s2[i]:
            return s1[:i]
    return s1


def expanduser(path):
    if not path.startswith('~'):
        return path
    i = path.find('/', 1)
    if i < 0:
        i = len(path)
    if i != 1:
        return path
    home = _os().environ.get('HOME')
    if home is None:
        return path
    home = home.rstrip('/')
    return (home + path[i:]) or '/'


def exists(path):
    try:
        _os().stat(path)
    except (OSError, ValueError):
        return False
    return True


def lexists(path):
    try:
        _os().lstat(path)
    except (OSError, ValueError):
        return False
    return True


def _mode(path, follow=True):
    try:
        return _os()._stat(path, follow)[0]
    except (OSError, ValueError):
        return None


def isdir(s):
    mode = _mode(s)
    return mode is not None and mode & 0o170000 == 0o040000


def isfile(path):
    mode = _mode(path)
    return mode is not None and mode & 0o170000 == 0o100000


def islink(path):
    mode = _mode(path, False)
    return mode is not None and mode & 0o170000 == 0o120000


def getsize(filename):
    return _os().stat(filename).st_size


def getmtime(filename):
    return _os().stat(filename).st_mtime


def getatime(filename):
    return _os().stat(filename).st_atime


def getctime(filename):
    return _os().stat(filename).st_ctime
