# The parts of the VM's heapq written in Python (compiled by pyc-compiler when heapq is first
# imported); the native heap functions are already in the namespace.


class _Reversed:
    """A sort key that orders the other way round."""

    def __init__(self, key):
        self.key = key

    def __lt__(self, other):
        return other.key < self.key

    def __eq__(self, other):
        return self.key == other.key


def merge(*iterables, key=None, reverse=False):
    """Merge sorted inputs into a single sorted output, lazily; ties keep input order."""
    iterators = [iter(iterable) for iterable in iterables]

    def entry(value, order):
        sort_key = value if key is None else key(value)
        return (_Reversed(sort_key) if reverse else sort_key, order, value)

    heap = []
    for order, iterator in enumerate(iterators):
        for value in iterator:
            heap.append(entry(value, order))
            break
    heapify(heap)
    while heap:
        _, order, value = heap[0]
        yield value
        for value in iterators[order]:
            heapreplace(heap, entry(value, order))
            break
        else:
            heappop(heap)
