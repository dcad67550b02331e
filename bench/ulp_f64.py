"""Exact error of the f64 ln/exp where they differ from glibc.

examples/ulp.rs --dump FILE writes the inputs where this library's f64 ln/exp and
glibc's differ; this prints, against an exact (mpmath, 60 digits) reference,
the largest error of each in ulp. Needs mpmath (pip install mpmath).
Usage: python ulp_f64.py FILE
"""
import sys

import mpmath as mp

mp.mp.dps = 60


def ulp(v):
    import math
    return math.ulp(abs(v))


worst = {}
for line in open(sys.argv[1]):
    name, x, ours, glibc = line.split("\t")
    x, ours, glibc = float(x), float(ours), float(glibc)
    exact = mp.log(mp.mpf(x)) if name.startswith("ln") else mp.exp(mp.mpf(x))
    u = ulp(float(exact))
    e_ours = float(abs(mp.mpf(ours) - exact) / u)
    e_glibc = float(abs(mp.mpf(glibc) - exact) / u)
    w = worst.setdefault(name, [0, 0.0, 0.0, 0])
    w[0] += 1
    w[1] = max(w[1], e_ours)
    w[2] = max(w[2], e_glibc)
for name, (n, eo, eg) in ((k, v[:3]) for k, v in worst.items()):
    print(f"{name}: {n} inputs differ from glibc; max error there: ours {eo:.3f} ulp, glibc {eg:.3f} ulp")
