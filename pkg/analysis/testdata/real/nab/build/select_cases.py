#!/usr/bin/python3
"""Step 1: deterministic choice of (series, cut) candidates from NAB.

Reads the CSV files (timestamp,value) of numenta/NAB at commit COMMIT straight
from a bare git mirror (git --git-dir=$NAB_GIT show COMMIT:<path>) plus
labels/combined_labels.json and labels/combined_windows.json (NAB's anomaly
points and windows, only recorded, never used for selection).

Segments: a series is split wherever two consecutive timestamps are not
exactly 300 s apart (gaps, duplicate timestamps, a backward step); values are
never rescaled or interpolated.
Cut positions (index i of the first future value, future = rows i..i+H-1):
  * segment of length L >= 2016 + H: every i with 2016 history rows and H
    future rows inside the segment (history = the 2016 rows before i);
  * 1000 + H <= L < 2016 + H: one position, i = segment end - H (history =
    the whole rest of the segment, 1000..2015 rows);
  * shorter segments: none.
Draws: random.Random(SEED); for group nab1h (H 12) then nab2h (H 24), for each
series in SERIES order, up to TRIES draws i = rng.choice(positions); a draw is
skipped when it lies less than MIN_SEP rows from a cut already taken for that
series in that group, or when it fails the SMD filters (history has >= 20
distinct values, its most common value covers < 50 %, the future is not all
equal to the last history value). Up to CANDIDATES per series and group are
kept (the first KEEP on which R's ets succeeds become cases; see assemble.py).

Writes candidates.json and candidates_<group>.csv (id then history values) for
anchors.R. Run with /usr/bin/python3 (standard library only), then `Rscript anchors.R`, then
/usr/bin/python3 assemble.py.
"""
import csv
import datetime as dt
import io
import json
import os
import random
import subprocess
from collections import Counter

# NAB_GIT: the git directory of a clone of github.com/numenta/NAB at COMMIT.
NAB_GIT = os.environ.get('NAB_GIT', 'NAB/.git')
COMMIT = 'ea702d75cc2258d9d7dd35ca8e5e2539d71f3140'
SEED = 20261207
STEP = 300
HIST = 2016          # 7 days of 5-minute values
MIN_HIST = 1000
GROUPS = [('nab1h', 12), ('nab2h', 24)]
TRIES = 60
CANDIDATES = 6       # spares, used only if R's ets fails on one of the first 4
KEEP = 4
MIN_SEP = 288        # one day between the cuts of one series within one group
MIN_DISTINCT = 20
MAX_MODE_SHARE = 0.5

# (path, metric kind). All 17 realAWSCloudwatch files plus the 5-minute
# machine/server metrics of realKnownCause (ambient_temperature is hourly,
# nyc_taxi half-hourly and the rogue_agent files are keystroke timings: left out).
SERIES = [
    ('data/realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv', 'ec2_cpu_utilization'),
    ('data/realAWSCloudwatch/ec2_cpu_utilization_53ea38.csv', 'ec2_cpu_utilization'),
    ('data/realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv', 'ec2_cpu_utilization'),
    ('data/realAWSCloudwatch/ec2_cpu_utilization_77c1ca.csv', 'ec2_cpu_utilization'),
    ('data/realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv', 'ec2_cpu_utilization'),
    ('data/realAWSCloudwatch/ec2_cpu_utilization_ac20cd.csv', 'ec2_cpu_utilization'),
    ('data/realAWSCloudwatch/ec2_cpu_utilization_c6585a.csv', 'ec2_cpu_utilization'),
    ('data/realAWSCloudwatch/ec2_cpu_utilization_fe7f93.csv', 'ec2_cpu_utilization'),
    ('data/realAWSCloudwatch/ec2_disk_write_bytes_1ef3de.csv', 'ec2_disk_write_bytes'),
    ('data/realAWSCloudwatch/ec2_disk_write_bytes_c0d644.csv', 'ec2_disk_write_bytes'),
    ('data/realAWSCloudwatch/ec2_network_in_257a54.csv', 'ec2_network_in'),
    ('data/realAWSCloudwatch/ec2_network_in_5abac7.csv', 'ec2_network_in'),
    ('data/realAWSCloudwatch/elb_request_count_8c0756.csv', 'elb_request_count'),
    ('data/realAWSCloudwatch/grok_asg_anomaly.csv', 'grok_asg_anomaly'),
    ('data/realAWSCloudwatch/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv', 'ec2_network_in'),
    ('data/realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv', 'rds_cpu_utilization'),
    ('data/realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv', 'rds_cpu_utilization'),
    ('data/realKnownCause/cpu_utilization_asg_misconfiguration.csv', 'asg_cpu_utilization'),
    ('data/realKnownCause/ec2_request_latency_system_failure.csv', 'ec2_request_latency'),
    ('data/realKnownCause/machine_temperature_system_failure.csv', 'machine_temperature'),
]

TFMT = '%Y-%m-%d %H:%M:%S'


def git_show(path):
    return subprocess.run(['git', '--git-dir=' + NAB_GIT, 'show', '%s:%s' % (COMMIT, path)],
                          check=True, capture_output=True, text=True).stdout


def load(path):
    rows = list(csv.reader(io.StringIO(git_show(path))))
    assert rows[0] == ['timestamp', 'value'], rows[0]
    ts = [dt.datetime.strptime(r[0], TFMT) for r in rows[1:]]
    vals = [float(r[1]) for r in rows[1:]]
    assert min(vals) >= 0, path
    return ts, vals


def segments(ts):
    """[start, end) index ranges in which consecutive timestamps are exactly STEP apart."""
    segs, s = [], 0
    for i in range(1, len(ts)):
        if (ts[i] - ts[i - 1]).total_seconds() != STEP:
            segs.append((s, i))
            s = i
    segs.append((s, len(ts)))
    return segs


def positions(segs, h):
    """list of (i, history start) cut positions."""
    out = []
    for s, e in segs:
        n = e - s
        if n >= HIST + h:
            out.extend((i, i - HIST) for i in range(s + HIST, e - h + 1))
        elif n >= MIN_HIST + h:
            out.append((e - h, s))
    return out


def in_windows(t, wins):
    return any(a <= t <= b for a, b in wins)


def main():
    labels = json.loads(git_show('labels/combined_labels.json'))
    windows = json.loads(git_show('labels/combined_windows.json'))
    data = {}
    for path, kind in SERIES:
        ts, vals = load(path)
        key = path[len('data/'):]
        lab = {dt.datetime.strptime(x, TFMT) for x in labels[key]}
        wins = [(dt.datetime.strptime(a[:19], TFMT), dt.datetime.strptime(b[:19], TFMT))
                for a, b in windows[key]]
        data[path] = (ts, vals, segments(ts), lab, wins)
    rng = random.Random(SEED)
    cands = []
    for group, h in GROUPS:
        for path, kind in SERIES:
            ts, vals, segs, lab, wins = data[path]
            pos = positions(segs, h)
            taken = []
            for _ in range(TRIES):
                if len(taken) >= CANDIDATES or not pos:
                    break
                i, s = rng.choice(pos)
                if any(abs(i - j) < MIN_SEP for j in taken):
                    continue
                hist = vals[s:i]
                fut = vals[i:i + h]
                cnt = Counter(hist)
                if len(cnt) < MIN_DISTINCT:
                    continue
                if max(cnt.values()) / len(hist) >= MAX_MODE_SHARE:
                    continue
                if all(v == hist[-1] for v in fut):   # naive MAE would be 0
                    continue
                taken.append(i)
                cands.append({
                    'group': group, 'horizon': h, 'path': path, 'kind': kind,
                    'series': os.path.basename(path)[:-4],
                    'cut_index': i, 'history_start': s, 'rank': len(taken) - 1,
                    'history_timestamps': [ts[s].strftime(TFMT), ts[i - 1].strftime(TFMT)],
                    'future_timestamps': [ts[i].strftime(TFMT), ts[i + h - 1].strftime(TFMT)],
                    'values': hist, 'future': fut,
                    'anomaly_points': {'history': sum(t in lab for t in ts[s:i]),
                                       'future': sum(t in lab for t in ts[i:i + h])},
                    'anomaly_window_points': {
                        'history': sum(in_windows(t, wins) for t in ts[s:i]),
                        'future': sum(in_windows(t, wins) for t in ts[i:i + h])},
                })
            print(group, os.path.basename(path), 'rows', len(ts),
                  'segments', [e - s for s, e in segs if e - s >= MIN_HIST + h],
                  'positions', len(pos), 'candidates', len(taken))
    json.dump(cands, open('candidates.json', 'w'))
    for group, h in GROUPS:
        with open('candidates_%s.csv' % group, 'w') as f:
            for k, cd in enumerate(cands):
                if cd['group'] == group:
                    f.write(str(k) + ',' + ','.join(repr(v) for v in cd['values']) + '\n')
    print('total candidates', len(cands), Counter(c['group'] for c in cands))


if __name__ == '__main__':
    main()
