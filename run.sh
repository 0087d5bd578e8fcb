#!/usr/bin/env bash
# The main job: one training run of the 2x6 config at the cpu preset, executed through papermill into runs/adhoc/.
# Extra arguments go to papermill (e.g. `./run.sh -p tokens 1000000`).
source "$(dirname "$0")/tools/setup.sh"
mkdir -p runs/adhoc
papermill nbs/train.ipynb runs/adhoc/d2b6.ipynb -k python3 -p depth 2 -p branches 6 "$@"
echo "executed notebook: runs/adhoc/d2b6.ipynb (run directory runs/adhoc/d2b6/)"
