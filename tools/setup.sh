# Sourced by run.sh, test.sh and .ci/run: make .venv with torch (CPU wheel if none) and the package with its dev extras.
# Idempotent: a stamp keyed on pyproject.toml skips the pip work when nothing changed.
set -e
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || { echo "setup: creating .venv"; "$PY" -m venv .venv; }
stamp=.venv/.depthbreadth-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q -U pip
  .venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/python -m pip install -q torch==2.13.0
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi
# MPLBACKEND is left as it is: a Jupyter kernel (papermill, the docs) then draws figures inline into the executed
# notebook, and a script without a display falls back to Agg by itself. (Exporting MPLBACKEND=agg here made every
# papermill kernel inherit it, and plt.show() in the executed notebooks drew nothing.)
export PATH="$PWD/.venv/bin:$PATH" OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
