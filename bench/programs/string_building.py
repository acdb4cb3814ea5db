def build(n):
    parts = []
    for i in range(n):
        parts.append(f"{i}:{i * i % 97}")
    s = ",".join(parts)
    words = s.split(",")
    total = 0
    for w in words:
        k, v = w.split(":")
        total += len(k) + int(v)
    return total, len(s), s[:20].upper()
print(build(200000))
