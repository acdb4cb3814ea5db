# The parts of the VM's collections written in Python (compiled by pyc-compiler when
# collections is first imported): ChainMap, UserDict, UserList, UserString, and the methods
# of the native Counter and OrderedDict that are simplest in Python.


def _od_popitem(self, last=True):
    if not self:
        raise KeyError('dictionary is empty')
    key = next(reversed(self)) if last else next(iter(self))
    value = self.pop(key)
    return key, value


OrderedDict.popitem = _od_popitem


def _counter_keep_positive(counter):
    for key in [key for key, count in counter.items() if not count > 0]:
        del counter[key]
    return counter


def _counter_pos(self):
    result = Counter()
    for key, count in self.items():
        if count > 0:
            result[key] = count
    return result


def _counter_neg(self):
    result = Counter()
    for key, count in self.items():
        if count < 0:
            result[key] = 0 - count
    return result


def _counter_or(self, other):
    if not isinstance(other, Counter):
        return NotImplemented
    result = Counter()
    for key, count in self.items():
        other_count = other[key]
        new = other_count if count < other_count else count
        if new > 0:
            result[key] = new
    for key, count in other.items():
        if key not in self and count > 0:
            result[key] = count
    return result


def _counter_and(self, other):
    if not isinstance(other, Counter):
        return NotImplemented
    result = Counter()
    for key, count in self.items():
        other_count = other[key]
        new = count if count < other_count else other_count
        if new > 0:
            result[key] = new
    return result


def _counter_subtract(self, iterable=None, /, **kwds):
    if iterable is not None:
        if hasattr(iterable, 'items'):
            for key, count in iterable.items():
                self[key] = self.get(key, 0) - count
        else:
            for key in iterable:
                self[key] = self.get(key, 0) - 1
    if kwds:
        self.subtract(kwds)


def _counter_iadd(self, other):
    for key, count in other.items():
        self[key] += count
    return _counter_keep_positive(self)


def _counter_isub(self, other):
    for key, count in other.items():
        self[key] -= count
    return _counter_keep_positive(self)


def _counter_le(self, other):
    if not isinstance(other, Counter):
        return NotImplemented
    return all(self[e] <= other[e] for c in (self, other) for e in c)


def _counter_lt(self, other):
    if not isinstance(other, Counter):
        return NotImplemented
    return self <= other and self != other


def _counter_ge(self, other):
    if not isinstance(other, Counter):
        return NotImplemented
    return all(self[e] >= other[e] for c in (self, other) for e in c)


def _counter_gt(self, other):
    if not isinstance(other, Counter):
        return NotImplemented
    return self >= other and self != other


def _counter_eq(self, other):
    if not isinstance(other, Counter):
        return NotImplemented
    return all(self[e] == other[e] for c in (self, other) for e in c)


Counter.__pos__ = _counter_pos
Counter.__neg__ = _counter_neg
Counter.__or__ = _counter_or
Counter.__and__ = _counter_and
Counter.__iadd__ = _counter_iadd
Counter.__isub__ = _counter_isub
Counter.__le__ = _counter_le
Counter.__lt__ = _counter_lt
Counter.__ge__ = _counter_ge
Counter.__gt__ = _counter_gt
Counter.__eq__ = _counter_eq
Counter.__ne__ = lambda self, other: NotImplemented if not isinstance(other, Counter) else not self == other
Counter.subtract = _counter_subtract


class ChainMap:
    """A view of several mappings as one: lookups search them in order, writes go to the first."""

    def __init__(self, *maps):
        self.maps = list(maps) or [{}]

    def __missing__(self, key):
        raise KeyError(key)

    def __getitem__(self, key):
        for mapping in self.maps:
            if key in mapping:
                return mapping[key]
        return self.__missing__(key)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def __len__(self):
        return len(set().union(*self.maps))

    def __iter__(self):
        seen = {}
        for mapping in reversed(self.maps):
            seen.update(dict.fromkeys(mapping))
        return iter(seen)

    def __contains__(self, key):
        return any(key in m for m in self.maps)

    def __bool__(self):
        return any(self.maps)

    def __repr__(self):
        return f'{self.__class__.__name__}({", ".join(map(repr, self.maps))})'

    def keys(self):
        return list(self)

    def items(self):
        return [(key, self[key]) for key in self]

    def values(self):
        return [self[key] for key in self]

    def copy(self):
        return self.__class__(self.maps[0].copy(), *self.maps[1:])

    __copy__ = copy

    def new_child(self, m=None, **kwargs):
        if m is None:
            m = kwargs
        elif kwargs:
            m.update(kwargs)
        return self.__class__(m, *self.maps)

    @property
    def parents(self):
        return self.__class__(*self.maps[1:])

    def __setitem__(self, key, value):
        self.maps[0][key] = value

    def __delitem__(self, key):
        try:
            del self.maps[0][key]
        except KeyError:
            raise KeyError(f'Key not found in the first mapping: {key!r}')

    def pop(self, key, *args):
        try:
            return self.maps[0].pop(key, *args)
        except KeyError:
            raise KeyError(f'Key not found in the first mapping: {key!r}')

    def popitem(self):
        try:
            return self.maps[0].popitem()
        except KeyError:
            raise KeyError('No keys found in the first mapping.')

    def clear(self):
        self.maps[0].clear()

    def __eq__(self, other):
        return dict(self.items()) == dict(other.items())

    def __or__(self, other):
        m = self.copy()
        m.maps[0].update(other)
        return m

    def __ior__(self, other):
        self.maps[0].update(other)
        return self


class UserDict:
    """A dict-like class whose contents are in the `data` attribute."""

    def __init__(self, dict=None, /, **kwargs):
        self.data = {}
        if dict is not None:
            self.update(dict)
        if kwargs:
            self.update(kwargs)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, key):
        if key in self.data:
            return self.data[key]
        if hasattr(self.__class__, "__missing__"):
            return self.__class__.__missing__(self, key)
        raise KeyError(key)

    def __setitem__(self, key, item):
        self.data[key] = item

    def __delitem__(self, key):
        del self.data[key]

    def __iter__(self):
        return iter(self.data)

    def __contains__(self, key):
        return key in self.data

    def __repr__(self):
        return repr(self.data)

    def __eq__(self, other):
        return self.data == (other.data if isinstance(other, UserDict) else other)

    def __or__(self, other):
        if isinstance(other, UserDict):
            return self.__class__(self.data | other.data)
        if isinstance(other, dict):
            return self.__class__(self.data | other)
        return NotImplemented

    def __ior__(self, other):
        self.data |= other.data if isinstance(other, UserDict) else other
        return self

    def keys(self):
        return self.data.keys()

    def items(self):
        return self.data.items()

    def values(self):
        return self.data.values()

    def get(self, key, default=None):
        return self[key] if key in self else default

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key, *default):
        if key in self:
            value = self[key]
            del self[key]
            return value
        if default:
            return default[0]
        raise KeyError(key)

    def popitem(self):
        return self.data.popitem()

    def clear(self):
        self.data.clear()

    def update(self, other=(), /, **kwds):
        if hasattr(other, "keys"):
            for key in other.keys():
                self[key] = other[key]
        else:
            for key, value in other:
                self[key] = value
        for key, value in kwds.items():
            self[key] = value

    def copy(self):
        result = self.__class__()
        result.data = self.data.copy()
        return result

    @classmethod
    def fromkeys(cls, iterable, value=None):
        d = cls()
        for key in iterable:
            d[key] = value
        return d


class UserList:
    """A list-like class whose contents are in the `data` attribute."""

    def __init__(self, initlist=None):
        self.data = []
        if initlist is not None:
            if type(initlist) == type(self.data):
                self.data[:] = initlist
            elif isinstance(initlist, UserList):
                self.data[:] = initlist.data[:]
            else:
                self.data = list(initlist)

    def __repr__(self):
        return repr(self.data)

    def _cast(self, other):
        return other.data if isinstance(other, UserList) else other

    def __lt__(self, other):
        return self.data < self._cast(other)

    def __le__(self, other):
        return self.data <= self._cast(other)

    def __eq__(self, other):
        return self.data == self._cast(other)

    def __gt__(self, other):
        return self.data > self._cast(other)

    def __ge__(self, other):
        return self.data >= self._cast(other)

    def __contains__(self, item):
        return item in self.data

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.__class__(self.data[i])
        return self.data[i]

    def __setitem__(self, i, item):
        self.data[i] = item

    def __delitem__(self, i):
        del self.data[i]

    def __iter__(self):
        return iter(self.data)

    def __add__(self, other):
        if isinstance(other, UserList):
            return self.__class__(self.data + other.data)
        if isinstance(other, type(self.data)):
            return self.__class__(self.data + other)
        return self.__class__(self.data + list(other))

    def __radd__(self, other):
        if isinstance(other, UserList):
            return self.__class__(other.data + self.data)
        if isinstance(other, type(self.data)):
            return self.__class__(other + self.data)
        return self.__class__(list(other) + self.data)

    def __iadd__(self, other):
        self.data += self._cast(other) if isinstance(other, UserList) else list(other)
        return self

    def __mul__(self, n):
        return self.__class__(self.data * n)

    __rmul__ = __mul__

    def __imul__(self, n):
        self.data *= n
        return self

    def append(self, item):
        self.data.append(item)

    def insert(self, i, item):
        self.data.insert(i, item)

    def pop(self, i=-1):
        return self.data.pop(i)

    def remove(self, item):
        self.data.remove(item)

    def clear(self):
        self.data.clear()

    def copy(self):
        return self.__class__(self)

    def count(self, item):
        return self.data.count(item)

    def index(self, item, *args):
        return self.data.index(item, *args)

    def reverse(self):
        self.data.reverse()

    def sort(self, /, *args, **kwds):
        self.data.sort(*args, **kwds)

    def extend(self, other):
        if isinstance(other, UserList):
            self.data.extend(other.data)
        else:
            self.data.extend(other)


class UserString:
    """A str-like class whose contents are in the `data` attribute."""

    def __init__(self, seq):
        if isinstance(seq, str):
            self.data = seq
        elif isinstance(seq, UserString):
            self.data = seq.data[:]
        else:
            self.data = str(seq)

    def __str__(self):
        return str(self.data)

    def __repr__(self):
        return repr(self.data)

    def __int__(self):
        return int(self.data)

    def __float__(self):
        return float(self.data)

    def __hash__(self):
        return hash(self.data)

    def _cast(self, other):
        return other.data if isinstance(other, UserString) else other

    def __eq__(self, other):
        return self.data == self._cast(other)

    def __lt__(self, other):
        return self.data < self._cast(other)

    def __le__(self, other):
        return self.data <= self._cast(other)

    def __gt__(self, other):
        return self.data > self._cast(other)

    def __ge__(self, other):
        return self.data >= self._cast(other)

    def __contains__(self, char):
        return self._cast(char) in self.data

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        return self.__class__(self.data[index])

    def __iter__(self):
        return iter(self.data)

    def __add__(self, other):
        if isinstance(other, UserString):
            return self.__class__(self.data + other.data)
        if isinstance(other, str):
            return self.__class__(self.data + other)
        return self.__class__(self.data + str(other))

    def __radd__(self, other):
        if isinstance(other, str):
            return self.__class__(other + self.data)
        return self.__class__(str(other) + self.data)

    def __mul__(self, n):
        return self.__class__(self.data * n)

    __rmul__ = __mul__

    def __mod__(self, args):
        return self.__class__(self.data % args)

    def __getattr__(self, name):
        # The str methods, with str results wrapped again.
        method = getattr(self.data, name)

        def call(*args, **kwargs):
            args = [a.data if isinstance(a, UserString) else a for a in args]
            result = method(*args, **kwargs)
            return self.__class__(result) if isinstance(result, str) else result
        return call
