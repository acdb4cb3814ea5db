# The VM's io module, written in Python: in-memory text and binary streams (StringIO,
# BytesIO), and `open`, which is the built-in.

import builtins as _builtins

open = _builtins.open
SEEK_SET = 0
SEEK_CUR = 1
SEEK_END = 2
DEFAULT_BUFFER_SIZE = 8192


class UnsupportedOperation(OSError, ValueError):
    pass


class _MemoryIO:
    """What StringIO and BytesIO share: a buffer, a position, reads, writes and seeks."""

    _empty = None

    def __init__(self, initial):
        self._buffer = initial
        self._pos = 0
        self._closed = False

    def _check(self):
        if self._closed:
            raise ValueError(self._closed_message)

    @property
    def closed(self):
        return self._closed

    def close(self):
        self._closed = True

    def __enter__(self):
        self._check()
        return self

    def __exit__(self, *exc):
        self.close()

    def __iter__(self):
        self._check()
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def readable(self):
        self._check()
        return True

    def writable(self):
        self._check()
        return True

    def seekable(self):
        self._check()
        return True

    def getvalue(self):
        self._check()
        return self._buffer

    def tell(self):
        self._check()
        return self._pos

    def seek(self, pos, whence=0):
        self._check()
        if whence == 0:
            if pos < 0:
                raise ValueError("negative seek position %r" % (pos,))
            self._pos = pos
        elif whence == 1:
            self._pos = max(0, self._pos + pos)
        elif whence == 2:
            self._pos = max(0, len(self._buffer) + pos)
        else:
            raise ValueError("invalid whence (%r, should be 0, 1 or 2)" % (whence,))
        return self._pos

    def read(self, size=-1):
        self._check()
        end = len(self._buffer) if size is None or size < 0 else self._pos + size
        data = self._buffer[self._pos:end]
        self._pos = min(max(end, self._pos), len(self._buffer)) if data else self._pos
        return data

    def readline(self, size=-1):
        self._check()
        newline = self._buffer.find(self._newline, self._pos)
        end = len(self._buffer) if newline < 0 else newline + 1
        if size is not None and size >= 0:
            end = min(end, self._pos + size)
        data = self._buffer[self._pos:end]
        self._pos = max(self._pos, min(end, len(self._buffer)))
        return data

    def readlines(self, hint=-1):
        return list(self)

    def write(self, data):
        self._check()
        if not isinstance(data, type(self._empty)):
            raise TypeError(self._write_type_error(data))
        if self._pos > len(self._buffer):
            self._buffer += self._padding * (self._pos - len(self._buffer))
        self._buffer = self._buffer[:self._pos] + data + self._buffer[self._pos + len(data):]
        self._pos += len(data)
        return len(data)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def truncate(self, size=None):
        self._check()
        size = self._pos if size is None else size
        if size < 0:
            raise ValueError("negative size value %r" % (size,))
        self._buffer = self._buffer[:size]
        return size

    def flush(self):
        self._check()

    def isatty(self):
        self._check()
        return False


class StringIO(_MemoryIO):
    """Text I/O in memory."""

    _empty = ""
    _newline = "\n"
    _padding = "\0"
    _closed_message = "I/O operation on closed file"

    def __init__(self, initial_value="", newline="\n"):
        if initial_value is None:
            initial_value = ""
        if not isinstance(initial_value, str):
            raise TypeError(
                "initial_value must be str or None, not %s" % type(initial_value).__name__)
        super().__init__(initial_value)

    def _write_type_error(self, data):
        return "string argument expected, got '%s'" % type(data).__name__


class BytesIO(_MemoryIO):
    """Binary I/O in memory."""

    _empty = b""
    _newline = b"\n"
    _padding = b"\0"
    _closed_message = "I/O operation on closed file."

    def __init__(self, initial_bytes=b""):
        super().__init__(bytes(initial_bytes) if initial_bytes is not None else b"")

    def _write_type_error(self, data):
        return "a bytes-like object is required, not '%s'" % type(data).__name__

    def getbuffer(self):
        return bytearray(self._buffer)
