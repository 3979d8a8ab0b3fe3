#!/usr/bin/env python3
"""Smoke-test forecaster: naive (last value repeated) with a random-walk 95 % interval
last +- 1.96 * sd(one-step differences) * sqrt(k), lower bound clipped at 0.
Reads the case "input" JSON on stdin, prints {"forecast": {"mean", "lower", "upper"}}."""
import json
import math
import sys

inp = json.load(sys.stdin)
y = [v for v in inp['values'] if v is not None]
h = inp['horizon']
d = [b - a for a, b in zip(y, y[1:])]
m = sum(d) / len(d)
sd = math.sqrt(sum((x - m) ** 2 for x in d) / (len(d) - 1))
last = y[-1]
w = [1.96 * sd * math.sqrt(k) for k in range(1, h + 1)]
print(json.dumps({'forecast': {'mean': [last] * h,
                               'lower': [max(0.0, last - x) for x in w],
                               'upper': [last + x for x in w],
                               'model': 'naive'}}))
