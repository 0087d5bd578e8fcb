#!/usr/bin/env bash
# The main job: execute nbs/00_config.ipynb through papermill into runs/ (the grid table).
# The trainer issue replaces this with a training run.
source "$(dirname "$0")/tools/setup.sh"
mkdir -p runs/adhoc
papermill nbs/00_config.ipynb runs/adhoc/config.ipynb -k python3 --cwd nbs "$@"
echo "executed notebook: runs/adhoc/config.ipynb"
