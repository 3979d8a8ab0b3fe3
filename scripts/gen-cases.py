#!/usr/bin/python3
"""Generate extra statsmodels reference cases for package analysis.

Writes pkg/analysis/testdata/cases/x_*.json in the seed cases' format
({"name", "family", "input", "future", "reference"}), with the reference
computed by scripts/statsref.py (statsmodels 0.13.5). The shapes complement
the seed cases: short series, odd and even periods, gaps (also at the edges),
near-constant series, huge and tiny magnitudes, monotone counters and
trend + season. Everything is seeded, so a re-run rewrites identical files.

Usage: /usr/bin/python3 scripts/gen-cases.py [--out pkg/analysis/testdata/cases]

statsmodels' adfuller fits x_{t-1} without centring it, and for a level that
dwarfs the noise (1e12 + N(0, 1)) its pseudo-inverse loses most digits: the
statistic changes completely when the series is shifted by a constant, which
mathematically cannot change it (the regression has an intercept). For such
cases the ADF reference is statsmodels' result on the series shifted by
-x[0], and the case carries a "note" saying so.
"""
import argparse
import json
import math
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import statsref  # noqa: E402
from statsmodels.tsa.stattools import adfuller  # noqa: E402

warnings.simplefilter("ignore")


def seasonal(period, n, rng, harmonics=2):
    t = np.arange(n)
    s = np.zeros(n)
    for k in range(1, harmonics + 1):
        s += rng.uniform(0.5, 1.5) / k * np.sin(2 * np.pi * k * t / period + rng.uniform(0, 2 * np.pi))
    return s


def ar1(n, phi, rng, scale=1.0):
    e = rng.standard_normal(n) * scale
    x = np.empty(n)
    x[0] = e[0]
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


def with_gaps(x, rng, frac, lead=0, trail=0, runs=()):
    v = [float(a) for a in x]
    for i in range(len(v)):
        if rng.random() < frac:
            v[i] = None
    for i in range(lead):
        v[i] = None
    for i in range(trail):
        v[-1 - i] = None
    for start, length in runs:
        for i in range(start, min(start + length, len(v))):
            v[i] = None
    return v


# Each generator returns the whole series (input + held-out future).
def g_white(n, rng):
    return 10 + rng.standard_normal(n)


def g_ar1(n, rng):
    return 50 + ar1(n, 0.6, rng, 2.0)


def g_walk(n, rng):
    return 100 + np.cumsum(rng.standard_normal(n))


def g_season(period, trend=0.0, noise=0.3, phi=0.0, level=20.0, amp=3.0):
    def g(n, rng):
        t = np.arange(n)
        e = ar1(n, phi, rng, noise) if phi else rng.standard_normal(n) * noise
        return level + trend * t + amp * seasonal(period, n, rng) + e
    return g


def g_blips(n, rng):
    x = np.full(n, 42.0)
    for i in rng.choice(np.arange(10, n - 10), 3, replace=False):
        x[i] += rng.choice([-1.0, 2.5])
    return x


def g_steps(n, rng):
    x = np.empty(n)
    level = 5e10
    for i in range(n):
        if rng.random() < 0.02:
            level -= float(rng.integers(1, 50)) * 4096
        x[i] = level
    return x


def g_step_tail(n, rng):
    # A gauge that jumps right after the start and at the last input sample
    # (the held-out future has 30 samples): x_{t-1} is a non-zero constant
    # over the regression sample, so statsmodels adds no intercept, and most
    # lag columns are zero.
    x = np.full(n, 7.0)
    x[:3] = 5.0
    x[-31:] = 8.0
    return x


def g_steps_small(n, rng):
    x = np.empty(n)
    level = 1000.0
    for i in range(n):
        if rng.random() < 0.03:
            level += float(rng.integers(-20, 21))
        x[i] = level
    return x


def g_tiny_noise(n, rng):
    return 100 + 1e-9 * rng.standard_normal(n)


def g_huge_noise(n, rng):
    return 1e12 + rng.standard_normal(n)


def g_huge_walk(n, rng):
    return 1e12 + np.cumsum(rng.standard_normal(n)) * 100


def g_huge_season(n, rng):
    return 5e9 + 1e6 * seasonal(24, n, rng) + 1e5 * rng.standard_normal(n)


def g_counter_poisson(n, rng):
    return np.cumsum(rng.poisson(3, n)).astype(float)


def g_counter_bytes(n, rng):
    rate = 2e5 * (1.5 + seasonal(200, n, rng, 1)) * rng.lognormal(0, 0.2, n)
    return 1e10 + np.cumsum(rate * 5)


def g_small(n, rng):
    return 1e-6 * (3 + seasonal(12, n, rng) + 0.2 * rng.standard_normal(n))


def g_negative(n, rng):
    return -50 + 4 * seasonal(10, n, rng) + rng.standard_normal(n)


def g_alternating(n, rng):
    return 3 + np.where(np.arange(n) % 2 == 0, 1.0, -1.0) + 0.2 * rng.standard_normal(n)


def g_poisson_levels(n, rng):
    return rng.poisson(2, n).astype(float)


def g_random(n, rng):
    return rng.standard_normal(n)


# name, family, n (input length), period (None: not given), horizon, generator, gaps
CASES = [
    ("x_tiny_005", "tiny", 5, None, 3, g_random, None),
    ("x_tiny_010", "tiny", 10, None, 5, g_random, None),
    ("x_short_white_030", "white_noise", 30, None, 10, g_white, None),
    ("x_short_walk_060", "random_walk", 60, None, 12, g_walk, None),
    ("x_short_ar1_100", "ar1", 100, None, 20, g_ar1, None),
    ("x_period_002_100", "seasonal", 100, 2, 10, g_alternating, None),
    ("x_period_007_210", "seasonal", 210, 7, 14, g_season(7), None),
    ("x_period_010_300_negative", "seasonal", 300, 10, 20, g_negative, None),
    ("x_period_012_240_small", "seasonal", 240, 12, 24, g_small, None),
    ("x_period_024_480_trend", "trend_season", 480, 24, 48, g_season(24, trend=0.01), None),
    ("x_period_045_900", "seasonal", 900, 45, 90, g_season(45, phi=0.5), None),
    ("x_period_060_600_ar", "seasonal", 600, 60, 60, g_season(60, phi=0.7, noise=0.5), None),
    ("x_period_100_2000_trend", "trend_season", 2000, 100, 120, g_season(100, trend=-0.002), None),
    ("x_period_144_1440_trend", "trend_season", 1440, 144, 144, g_season(144, trend=0.005, phi=0.3), None),
    ("x_period_720_8640_trend", "trend_season", 8640, 720, 120, g_season(720, trend=1e-4, phi=0.5, amp=2), None),
    ("x_gaps_024_720", "gappy", 720, 24, 48, g_season(24), dict(frac=0.1, lead=5, trail=7)),
    ("x_gaps_runs_1000", "gappy", 1000, None, 60, g_walk, dict(frac=0.02, runs=((100, 50), (600, 80)))),
    ("x_gaps_edges_301", "gappy", 301, 15, 30, g_season(15), dict(frac=0.0, lead=20, trail=33)),
    ("x_near_constant_blips_500", "near_constant", 500, None, 30, g_blips, None),
    ("x_near_constant_steps_400", "near_constant", 400, None, 30, g_steps, None),
    ("x_near_constant_steps_small_400", "near_constant", 400, None, 30, g_steps_small, None),
    ("x_near_constant_tail_300", "near_constant", 300, None, 30, g_step_tail, None),
    ("x_near_constant_tiny_noise_500", "near_constant", 500, None, 30, g_tiny_noise, None),
    ("x_huge_noise_1000", "huge", 1000, None, 60, g_huge_noise, None),
    ("x_huge_walk_800", "huge", 800, None, 60, g_huge_walk, None),
    ("x_huge_season_720", "huge", 720, 24, 48, g_huge_season, None),
    ("x_counter_poisson_1000", "counter", 1000, None, 60, g_counter_poisson, None),
    ("x_counter_bytes_2000", "counter", 2000, 200, 120, g_counter_bytes, None),
    ("x_integer_levels_400", "integer", 400, None, 30, g_poisson_levels, None),
]


def adf_is_stable(x):
    """Whether adfuller gives the same answer for x and x shifted by -x[0]."""
    a = adfuller(x, regression="c", autolag="AIC")
    b = adfuller(x - x[0], regression="c", autolag="AIC")
    return a[2] == b[2] and abs(a[0] - b[0]) <= 1e-8 * abs(b[0]), b


def all_finite(obj):
    if isinstance(obj, float):
        return math.isfinite(obj)
    if isinstance(obj, dict):
        return all(all_finite(v) for v in obj.values())
    if isinstance(obj, list):
        return all(all_finite(v) for v in obj)
    return True


def make(spec, seed):
    name, family, n, period, horizon, gen, gaps = spec
    rng = np.random.default_rng(seed)
    full = gen(n + horizon, rng)
    x, future = full[:n], [float(v) for v in full[n:]]
    values = with_gaps(x, rng, **gaps) if gaps else [float(v) for v in x]
    inp = {"step_seconds": 5, "values": values, "period": period, "horizon": horizon}
    ref = statsref.analyze(inp)
    case = {"name": name, "family": family, "input": inp, "future": future, "reference": ref}
    if ref["adf"] is not None:
        filled = statsref.fill_gaps([np.nan if v is None else v for v in values])
        stable, b = adf_is_stable(filled)
        if not stable:
            ref["adf"] = statsref.adf_dict(b)
            case["note"] = (
                "adf: statsmodels on x - x[0]; on the raw series its adfuller "
                "loses precision (level >> noise) and the statistic is not "
                "reproducible"
            )
    ref.pop("reference_seconds", None)
    if not all_finite(ref):
        raise SystemExit(f"{name}: reference has non-finite numbers; pick another shape")
    return case


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "analysis", "testdata", "cases"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for i, spec in enumerate(CASES):
        case = make(spec, 1000 + i)
        path = os.path.join(args.out, spec[0] + ".json")
        with open(path, "w") as f:
            json.dump(case, f, allow_nan=False)
            f.write("\n")
        note = " (" + case["note"][:40] + "...)" if "note" in case else ""
        print(f"{path}: n={spec[2]} period={spec[3]}{note}")


if __name__ == "__main__":
    main()
