import subprocess, csv, io, datetime, collections, os
G=os.environ.get('NAB_GIT', 'NAB/.git')  # a clone of github.com/numenta/NAB
files=[l for l in subprocess.run(['git','--git-dir='+G,'ls-tree','-r','--name-only','HEAD','data/realAWSCloudwatch/','data/realKnownCause/'],capture_output=True,text=True).stdout.split() if l.endswith('.csv')]
for f in files:
    t=subprocess.run(['git','--git-dir='+G,'show','HEAD:'+f],capture_output=True,text=True).stdout
    r=list(csv.reader(io.StringIO(t)))
    hdr=r[0]; rows=r[1:]
    ts=[datetime.datetime.strptime(x[0],'%Y-%m-%d %H:%M:%S') for x in rows]
    v=[float(x[1]) for x in rows]
    d=collections.Counter(int((b-a).total_seconds()) for a,b in zip(ts,ts[1:]))
    # longest run of 300s spacing
    runs=[];s=0
    for i in range(1,len(ts)):
        if (ts[i]-ts[i-1]).total_seconds()!=300:
            runs.append(i-s); s=i
    runs.append(len(ts)-s)
    print(f.split('/')[-1], hdr, len(rows), ts[0], ts[-1], 'min',min(v),'max',max(v), 'ndist',len(set(v)), 'gaps:',dict(d.most_common(6)), 'runs>=1000:',[x for x in runs if x>=1000], 'nruns',len(runs))
