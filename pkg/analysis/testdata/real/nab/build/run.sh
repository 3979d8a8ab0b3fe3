#!/bin/sh
# Rebuild the NAB cases (the *.json beside build/) from scratch; intermediate files go to
# ../work, which is removed at the end. Needs a git clone of github.com/numenta/NAB
# ($NAB_GIT, its git directory; default NAB/.git), /usr/bin/python3 with numpy + statsmodels
# 0.13.5, and R with forecast 8.20.
set -e
cd "$(dirname "$0")"/..
rm -rf work && mkdir work && cd work
/usr/bin/python3 ../build/select_cases.py > select.log
Rscript ../build/anchors.R nab1h 12
Rscript ../build/anchors.R nab2h 24
/usr/bin/python3 ../build/assemble.py cases
/usr/bin/python3 ../build/verify.py cases
rm -f ../*_i*.json && mv cases/*.json .. && cd .. && rm -rf work
