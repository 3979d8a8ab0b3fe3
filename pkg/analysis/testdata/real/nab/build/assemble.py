#!/usr/bin/python3
"""Step 3: per group and series keep the first KEEP candidates on which R's ets
succeeded, add the naive and statsmodels anchors, write
cases/<group>_<series>_i<cut_index>.json (format of the SMD reference cases)."""
import json
import os
import sys
import warnings
from collections import Counter

import numpy as np
import statsmodels
from statsmodels.tsa.holtwinters import ExponentialSmoothing

SRC_REPO = 'github.com/numenta/NAB'
SRC_COMMIT = 'ea702d75cc2258d9d7dd35ca8e5e2539d71f3140'
GROUPS = ['nab1h', 'nab2h']
KEEP = 4

assert statsmodels.__version__.startswith('0.13.5'), statsmodels.__version__


def read_ets(group):
    ets = {}
    for ln in open('ets_%s_out.txt' % group):
        p = ln.rstrip('\n').split(';')
        if p[1] != 'ok':
            print('R ets failed on candidate', p[0], p[2], file=sys.stderr)
            continue
        ets[int(p[0])] = {
            'mean': [float(x) for x in p[3].split(',')],
            'lower': [float(x) for x in p[4].split(',')],
            'upper': [float(x) for x in p[5].split(',')],
            'model': p[2],
        }
    return ets


def main(outdir):
    cands = json.load(open('candidates.json'))
    ets = {}
    for g in GROUPS:
        ets.update(read_ets(g))
    os.makedirs(outdir, exist_ok=True)
    kept = Counter()
    kinds = Counter()
    dropped = 0
    for k, cd in enumerate(cands):
        g, s, H = cd['group'], cd['series'], cd['horizon']
        if kept[g, s] >= KEEP:
            continue
        if k not in ets:
            dropped += 1
            continue
        assert len(ets[k]['mean']) == H
        y = np.array(cd['values'], dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            fit = ExponentialSmoothing(y, trend='add', damped_trend=True).fit()
            sm = [float(v) for v in fit.forecast(H)]
        name = '%s_%s_i%05d' % (g, s, cd['cut_index'])
        case = {
            'name': name,
            'group': g,
            'source': '%s %s' % (SRC_REPO, cd['path']),
            'source_commit': SRC_COMMIT,
            'series': s,
            'kind': cd['kind'],
            'cut_index': cd['cut_index'],
            'history_start': cd['history_start'],
            'history_timestamps': cd['history_timestamps'],
            'future_timestamps': cd['future_timestamps'],
            'anomaly_points': cd['anomaly_points'],
            'anomaly_window_points': cd['anomaly_window_points'],
            'input': {'step_seconds': 300, 'values': cd['values'], 'period': None, 'horizon': H},
            'future': cd['future'],
            'anchors': {
                'naive': {'mean': [cd['values'][-1]] * H},
                'r_ets': ets[k],
                'sm_damped': {'mean': sm},
            },
        }
        path = os.path.join(outdir, name + '.json')
        assert not os.path.exists(path), path
        with open(path, 'w') as f:
            json.dump(case, f, separators=(',', ':'))
            f.write('\n')
        kept[g, s] += 1
        kinds[g, cd['kind']] += 1
    print('cases', sum(kept.values()), 'dropped (R ets failed)', dropped)
    for g in GROUPS:
        print(g, sum(v for (gg, _), v in kept.items() if gg == g),
              dict(sorted((kd, v) for (gg, kd), v in kinds.items() if gg == g)))
        print('  per series', dict(sorted((s, v) for (gg, s), v in kept.items() if gg == g)))


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '../cases')
