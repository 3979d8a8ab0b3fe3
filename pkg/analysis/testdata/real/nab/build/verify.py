#!/usr/bin/python3
"""Step 4 (checks): re-read every case's rows from the NAB commit and check values,
5-minute spacing, filters and anchors' lengths; print summary figures for README.md."""
import datetime as dt
import glob
import json
import sys
from collections import Counter

import numpy as np

sys.path.insert(0, __file__.rsplit('/', 1)[0])
import select_cases as S  # noqa: E402

ref = json.load(open(sorted(glob.glob('pkg/analysis/testdata/real/smd/smd5m_*.json'))[0]))
cache = {}
n = 0
acf = spikes = ah = af = wh = wf = short = 0
models = Counter()
for f in sorted(glob.glob(sys.argv[1] + '/*.json')):
    c = json.load(open(f))
    assert set(ref) - set(c) <= {'machine', 'column', 'cut_block'}, set(ref) - set(c)
    assert set(c['input']) == set(ref['input']) and set(c['anchors']) | {'r_stlf'} == set(ref['anchors'])
    path = c['source'].split(' ', 1)[1]
    if path not in cache:
        cache[path] = S.load(path)
    ts, vals = cache[path]
    i, s, H = c['cut_index'], c['history_start'], c['input']['horizon']
    y = c['input']['values']
    assert y == vals[s:i] and c['future'] == vals[i:i + H]
    assert all((ts[k + 1] - ts[k]).total_seconds() == 300 for k in range(s, i + H - 1))
    assert len(y) == min(2016, len(y)) and len(y) >= 1000 and len(c['future']) == H
    assert len(set(y)) >= 20 and max(Counter(y).values()) / len(y) < 0.5
    assert not all(v == y[-1] for v in c['future'])
    for a in ('naive', 'r_ets', 'sm_damped'):
        assert len(c['anchors'][a]['mean']) == H
    assert c['anchors']['naive']['mean'] == [y[-1]] * H
    assert min(y) >= 0 and min(c['future']) >= 0
    short += len(y) < 2016
    x = np.array(y)
    if len(x) > 600:
        xc = x - x.mean()
        r = (xc[288:] * xc[:-288]).sum() / (xc * xc).sum()
        acf += r > 0.3
    mad = 1.4826 * np.median(np.abs(x - np.median(x)))
    spikes += mad > 0 and (x.max() - np.median(x)) > 20 * mad
    ah += c['anomaly_points']['history'] > 0
    af += c['anomaly_points']['future'] > 0
    wh += c['anomaly_window_points']['history'] > 0
    wf += c['anomaly_window_points']['future'] > 0
    models[c['anchors']['r_ets']['model']] += 1
    n += 1
print('cases checked', n, '; histories shorter than 2016:', short)
print('lag-288 autocorrelation > 0.3:', acf, '; max > median + 20 robust sd:', spikes)
print('with NAB labelled anomaly points: history', ah, 'future', af,
      '; with points in NAB anomaly windows: history', wh, 'future', wf)
print('r_ets models', dict(models.most_common()))
