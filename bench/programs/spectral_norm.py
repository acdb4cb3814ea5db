def eval_A(i, j):
    return 1.0 / ((i + j) * (i + j + 1) // 2 + i + 1)
def mul_Av(v):
    n = len(v)
    return [sum([eval_A(i, j) * v[j] for j in range(n)]) for i in range(n)]
def mul_Atv(v):
    n = len(v)
    return [sum([eval_A(j, i) * v[j] for j in range(n)]) for i in range(n)]
n = 150
u = [1.0] * n
for _ in range(10):
    v = mul_Atv(mul_Av(u))
    u = mul_Atv(mul_Av(v))
vBv = sum(a * b for a, b in zip(u, v))
vv = sum(b * b for b in v)
print(f"{(vBv / vv) ** 0.5:.9f}")
