def run(n):
    total = 0.0
    acc = 0
    for i in range(n):
        x = i * 0.5
        total += x * x - x / 3.0
        acc = (acc + i * 7) % 1000003
    return total, acc
print(run(1500000))
