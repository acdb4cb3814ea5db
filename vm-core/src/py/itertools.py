# The parts of the VM's itertools written in Python (compiled by pyc-compiler when itertools is
# first imported); the native iterators are already in the namespace.

_chain = chain


class chain:
    """chain(*iterables): the items of each iterable in turn."""

    def __new__(cls, *iterables):
        return _chain(*iterables)

    @classmethod
    def from_iterable(cls, iterables):
        """Alternative chain() constructor taking a single iterable argument (lazily)."""
        for iterable in iterables:
            yield from iterable
