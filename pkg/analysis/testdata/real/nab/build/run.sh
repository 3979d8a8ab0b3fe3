#!/bin/sh
# Rebuild the NAB cases (pkg/analysis/testdata/real/nab) from scratch (intermediate files go to ../work).
# Needs the NAB bare mirror (fetch github:numenta/NAB; path in $NAB_GIT or the default
# in select_cases.py), /usr/bin/python3 with numpy + statsmodels 0.13.5, R with forecast 8.20.
set -e
cd "$(dirname "$0")"/..
rm -rf work cases && mkdir work && cd work
/usr/bin/python3 ../build/select_cases.py > select.log
Rscript ../build/anchors.R nab1h 12
Rscript ../build/anchors.R nab2h 24
/usr/bin/python3 ../build/assemble.py ../cases
/usr/bin/python3 ../build/verify.py ../cases
