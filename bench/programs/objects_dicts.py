class Task:
    def __init__(self, name, prio):
        self.name = name
        self.prio = prio
    def score(self):
        return self.prio * 2 + len(self.name)
def main():
    counts = {}
    tasks = [Task('t%d' % i, i % 17) for i in range(20000)]
    total = 0
    for _ in range(10):
        for t in tasks:
            total += t.score()
            counts[t.prio] = counts.get(t.prio, 0) + 1
    words = ' '.join(t.name for t in tasks).split()
    print(total, len(counts), len(words), sorted(counts.items())[:3])
main()
