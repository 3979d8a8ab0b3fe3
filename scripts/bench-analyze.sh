#!/usr/bin/env bash
# bench-analyze.sh: time the whole `slapipe analyze` process against the
# statsmodels reference (scripts/statsref.py, /usr/bin/python3 with
# statsmodels 0.13.5) on the same 8640-sample inputs, side by side.
#
# Runs alternate (Go, Python, Go, ...) so that both see the same machine
# load; the table shows per-process medians of wall-clock time and of CPU
# time (user + system, which a loaded machine inflates less), the ratios,
# and checks that both computed the same ADF statistic.
#
# Usage: scripts/bench-analyze.sh [case ...]
#   cases are names from analysis/testdata/cases (default: three 8640-sample
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


def run(cmd, path):
    with open(path, "rb") as f:
        c, t = cpu(), time.perf_counter()
        out = subprocess.run(cmd, stdin=f, stdout=subprocess.PIPE, check=True).stdout
        return time.perf_counter() - t, cpu() - c, json.loads(out)


print(f"{'':<22} {'':>5} {'':>6} {'wall clock':^30} {'cpu time':^30}")
print(f"{'case':<22} {'n':>5} {'period':>6} {'slapipe':>9} {'statsmodels':>12} {'ratio':>7} "
      f"{'slapipe':>9} {'statsmodels':>12} {'ratio':>7}  adf statistic (go / statsmodels)")
ratios, cpu_ratios = [], []
for name in names:
    case = json.load(open(f"analysis/testdata/cases/{name}.json"))
    path = os.path.join(work, name + ".json")
    json.dump(case["input"], open(path, "w"))
    go_t, py_t, go_c, py_c = [], [], [], []
    for i in range(max(go_runs, py_runs)):
        if i < go_runs:
            dt, dc, go_out = run(go_cmd, path)
            go_t.append(dt)
            go_c.append(dc)
        if i < py_runs:
            dt, dc, py_out = run(py_cmd, path)
            py_t.append(dt)
            py_c.append(dc)
    g, p = statistics.median(go_t), statistics.median(py_t)
    gc, pc = statistics.median(go_c), statistics.median(py_c)
    ratios.append(p / g)
    cpu_ratios.append(pc / gc)
    ga, pa = go_out["adf"], py_out["adf"]
    adf = f"{ga['statistic']:.9g} / {pa['statistic']:.9g}" if ga and pa else f"{ga} / {pa}"
    print(f"{name:<22} {len(case['input']['values']):>5} {str(case['input'].get('period')):>6} "
          f"{g * 1e3:>7.1f}ms {p * 1e3:>10.0f}ms {p / g:>6.0f}x "
          f"{gc * 1e3:>7.1f}ms {pc * 1e3:>10.0f}ms {pc / gc:>6.0f}x  {adf}")


def geo(xs):
    return math.exp(sum(map(math.log, xs)) / len(xs))


print(f"geometric mean ratio: wall clock {geo(ratios):.0f}x, cpu time {geo(cpu_ratios):.0f}x "
      f"(goal >= 100x end to end: {'met' if min(ratios) >= 100 else 'NOT met'} on wall clock; "
      f"medians of {go_runs} slapipe and {py_runs} statsmodels runs, load average {os.getloadavg()[0]:.1f})")
EOF
