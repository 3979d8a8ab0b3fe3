#!/usr/bin/env bash
# bench-analyze.sh: time the whole `slapipe analyze` process against the
# statsmodels reference (scripts/statsref.py, /usr/bin/python3 with
# statsmodels 0.13.5) on the same 8640-sample inputs, side by side.
#
# Runs alternate (Go, Python, Go, ...) so that both see the same machine
# load; the table shows per-process medians of wall-clock time and of CPU
# time (user + system, which a loaded machine inflates less), the ratios,
# and checks that both computed the same ADF statistic. It also splits
# slapipe's time into the process start-up (the same binary rejecting an
# empty input: runtime and package initialisation, the same for every
# subcommand) and the analysis, and compares the latter with statsmodels'
# own timing of its calls, imports excluded.
#
# Usage: scripts/bench-analyze.sh [case ...]
#   cases are names from pkg/analysis/testdata/cases (default: three 8640-sample
#   series, one without a season and two with period 120; the period-720
#   cases take statsmodels about a minute each: add cpu_rate_1_001 to see).
# Environment: GO_RUNS (default 21), PY_RUNS (default 3).
set -euo pipefail

cd "$(dirname "$0")/.."
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
	cases=(random_walk_1_005 fs_avail_1_013 memory_free_1_010)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/slapipe" ./cmd/slapipe

GO_RUNS=${GO_RUNS:-21} PY_RUNS=${PY_RUNS:-3} /usr/bin/python3 - "$work" "${cases[@]}" <<'EOF'
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

work, names = sys.argv[1], sys.argv[2:]
go_runs, py_runs = int(os.environ["GO_RUNS"]), int(os.environ["PY_RUNS"])
go_cmd = [os.path.join(work, "slapipe"), "analyze"]
py_cmd = ["/usr/bin/python3", "scripts/statsref.py"]


def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd, path, check=True):
    with open(path, "rb") as f:
        c, t = cpu(), time.perf_counter()
        p = subprocess.run(cmd, stdin=f, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=check)
        return time.perf_counter() - t, cpu() - c, json.loads(p.stdout) if check else None


# The start-up of the process: the same binary on an input it rejects at
# once, so that the analysis' share of the whole can be told apart.
empty = os.path.join(work, "empty.json")
open(empty, "w").write("{}")

print(f"{'':<22} {'':>5} {'':>6} {'wall clock: whole process':^40} {'analysis only':^34} {'cpu time':^30}")
print(f"{'case':<22} {'n':>5} {'period':>6} {'slapipe':>9} {'start-up':>9} {'statsmodels':>12} {'ratio':>6} "
      f"{'slapipe':>9} {'statsmodels':>12} {'ratio':>7} "
      f"{'slapipe':>9} {'statsmodels':>12} {'ratio':>6}  adf statistic (go / statsmodels)")
ratios, cpu_ratios, engine_ratios = [], [], []
for name in names:
    case = json.load(open(f"pkg/analysis/testdata/cases/{name}.json"))
    path = os.path.join(work, name + ".json")
    json.dump(case["input"], open(path, "w"))
    go_t, st_t, py_t, go_c, py_c, py_compute = [], [], [], [], [], []
    for i in range(max(go_runs, py_runs)):
        if i < go_runs:
            dt, dc, go_out = run(go_cmd, path)
            go_t.append(dt)
            go_c.append(dc)
            st_t.append(run(go_cmd, empty, check=False)[0])
        if i < py_runs:
            dt, dc, py_out = run(py_cmd, path)
            py_t.append(dt)
            py_c.append(dc)
            # statsref.py times its own statsmodels calls (not the imports).
            py_compute.append(sum(py_out["reference_seconds"].values()))
    g, s, p = statistics.median(go_t), statistics.median(st_t), statistics.median(py_t)
    gc, pc = statistics.median(go_c), statistics.median(py_c)
    pe, ge = statistics.median(py_compute), max(g - s, 1e-4)
    ratios.append(p / g)
    cpu_ratios.append(pc / gc)
    engine_ratios.append(pe / ge)
    ga, pa = go_out["adf"], py_out["adf"]
    adf = f"{ga['statistic']:.9g} / {pa['statistic']:.9g}" if ga and pa else f"{ga} / {pa}"
    print(f"{name:<22} {len(case['input']['values']):>5} {str(case['input'].get('period')):>6} "
          f"{g * 1e3:>7.1f}ms {s * 1e3:>7.1f}ms {p * 1e3:>10.0f}ms {p / g:>5.0f}x "
          f"{ge * 1e3:>7.1f}ms {pe * 1e3:>10.0f}ms {pe / ge:>6.0f}x "
          f"{gc * 1e3:>7.1f}ms {pc * 1e3:>10.0f}ms {pc / gc:>5.0f}x  {adf}")


def geo(xs):
    return math.exp(sum(map(math.log, xs)) / len(xs))


print(f"geometric mean ratio: whole process {geo(ratios):.0f}x wall clock, {geo(cpu_ratios):.0f}x cpu time; "
      f"analysis only {geo(engine_ratios):.0f}x "
      f"(goal >= 100x end to end: {'met' if min(ratios) >= 100 else 'NOT met'} on wall clock)")
print(f"medians of {go_runs} slapipe and {py_runs} statsmodels runs, load average {os.getloadavg()[0]:.1f}; "
      "start-up: the same slapipe process on an input it rejects; analysis only: slapipe's whole process "
      "minus its start-up, statsmodels' own timing of its calls (statsref.py reference_seconds, imports excluded)")
EOF
