# The parts of the VM's string module written in Python (compiled by pyc-compiler when string is
# first imported): capwords and Template. The constants are already in the namespace.


def capwords(s, sep=None):
    return (sep or ' ').join(map(str.capitalize, s.split(sep)))


def _is_identifier_start(c):
    return c == '_' or ('a' <= c.lower() <= 'z')


def _is_identifier_char(c):
    return _is_identifier_start(c) or '0' <= c <= '9'


class Template:
    """A string class for supporting $-substitutions."""

    delimiter = '$'

    def __init__(self, template):
        self.template = template

    def _pieces(self):
        # (literal, name, start): name is None for a literal run, '' for an invalid placeholder.
        text, delim = self.template, self.delimiter
        i, n, literal = 0, len(text), []
        while i < n:
            if not text.startswith(delim, i):
                literal.append(text[i])
                i += 1
                continue
            j = i + len(delim)
            if text.startswith(delim, j):
                literal.append(delim)
                i = j + len(delim)
                continue
            if j < n and text[j] == '{':
                end = text.find('}', j)
                name = text[j + 1:end] if end != -1 else ''
                if name and _is_identifier_start(name[0]) and all(map(_is_identifier_char, name)):
                    yield ''.join(literal), name, i
                    literal = []
                    i = end + 1
                    continue
                yield ''.join(literal), '', i
                literal = []
                i = j
                continue
            k = j
            while k < n and (_is_identifier_char(text[k]) if k > j else _is_identifier_start(text[k])):
                k += 1
            if k == j:
                yield ''.join(literal), '', i
                literal = []
                i = j
                continue
            yield ''.join(literal), text[j:k], i
            literal = []
            i = k
        yield ''.join(literal), None, n

    def _invalid(self, start):
        lines = self.template[:start].splitlines(keepends=True)
        if not lines:
            colno, lineno = 1, 1
        else:
            colno = start - len(''.join(lines[:-1]))
            lineno = len(lines)
        raise ValueError('Invalid placeholder in string: line %d, col %d' % (lineno, colno))

    def _substitute(self, mapping, kws, safe):
        if mapping is None:
            mapping = kws
        elif kws:
            mapping = {**mapping, **kws}
        out = []
        for literal, name, start in self._pieces():
            out.append(literal)
            if name is None:
                continue
            if name == '':
                if not safe:
                    self._invalid(start)
                out.append(self.delimiter)
                continue
            try:
                out.append(str(mapping[name]))
            except KeyError:
                if not safe:
                    raise
                braced = self.template.startswith('{', start + len(self.delimiter))
                out.append(self.delimiter + ('{%s}' % name if braced else name))
        return ''.join(out)

    def substitute(self, mapping=None, /, **kws):
        return self._substitute(mapping, kws, False)

    def safe_substitute(self, mapping=None, /, **kws):
        return self._substitute(mapping, kws, True)

    def is_valid(self):
        return all(name != '' for _, name, _ in self._pieces())

    def get_identifiers(self):
        ids = []
        for _, name, _ in self._pieces():
            if name and name not in ids:
                ids.append(name)
        return ids
