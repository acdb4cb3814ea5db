def make_adders(n):
    return [lambda x, k=k: x + k for k in range(n)]
def main():
    adders = make_adders(50)
    total = 0
    data = list(range(2000))
    for f in adders:
        total += sum(map(f, data))
    rows = [[(i * j) % 7 for j in range(60)] for i in range(600)]
    flat = sorted(v for row in rows for v in row if v)
    print(total, len(flat), flat[len(flat) // 2])
main()
