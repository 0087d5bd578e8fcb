# Sourced by run.sh, test.sh, docs.sh, gpu.sh (and so .ci/run): the one place that decides which Python they run ($PY).
#
# Default: the project's .venv. The first call creates it with `python3 -m venv`, installs torch==2.13.0 when that venv
# has none (a wheel already on the machine if pip finds one offline; else, on Linux without an NVIDIA driver, the CPU
# wheel from download.pytorch.org, ~200 MB; else PyPI's wheel, which on Linux is the multi-GB CUDA build), then the
# package in editable mode with its dev extras. It prints a line per stage and its seconds at the end (28-30 s on 2
# cores whose pip had a local wheel mirror, 2026-12-07; the time scales with the network and the machine). A stamp keyed on
# pyproject.toml skips all of this when nothing changed, so later calls start at once.
# Not `set -e` here: the sourcing script keeps its own error handling (gpu.sh goes on after a failed stage).
#
# PYTHON=/path/to/python: use that interpreter as it is, no .venv and no pip (a machine whose environment is already
# prepared: a GPU machine with its CUDA torch and the offline wheelhouse of tools/wheelhouse.sh, a conda env, a test).
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
# Python writes the .pyc file of each module it imports (into .venv, and __pycache__/ here, which git ignores), also
# where the environment sets PYTHONDONTWRITEBYTECODE (this project's machines do): without them every process compiles
# the sources of torch, pandas and matplotlib again, 3.4 s more per process on 2 cores (2026-12-07), and the test suite
# and the main job start dozens of processes and kernels.
unset PYTHONDONTWRITEBYTECODE
fail() { echo "setup: $1 failed (the first set-up needs a network; run the command again to retry)" >&2; exit 1; }
if [ -n "${PYTHON:-}" ]; then
  command -v "$PYTHON" >/dev/null || { echo "setup: PYTHON=$PYTHON is not an interpreter on this machine" >&2; exit 2; }
  "$PYTHON" -c "import torch" 2>/dev/null \
    || { echo "setup: PYTHON=$PYTHON cannot import torch; unset PYTHON to use the project's .venv" >&2; exit 2; }
  PATH="$(dirname "$(command -v "$PYTHON")"):$PATH"      # its papermill, nbdev, jupyter and depthbreadth-* come first
else
  stamp=.venv/.depthbreadth-$(sha1sum pyproject.toml | cut -c1-12)
  if [ ! -f "$stamp" ]; then
    t0=$SECONDS
    echo "setup: preparing .venv (once per pyproject.toml; a line per stage; minutes, scaling with the network and the machine)"
    if [ ! -x .venv/bin/python ]; then
      echo "setup: creating .venv with $(python3 --version 2>&1) ($(command -v python3))"
      python3 -m venv .venv || fail "python3 -m venv .venv"
    fi
    # pip >= 21.3 installs a pyproject package in editable mode; only an older one is upgraded (seconds saved otherwise)
    if ! .venv/bin/python -c "import pip, sys; sys.exit(tuple(map(int, pip.__version__.split('.')[:2])) < (21, 3))"; then
      echo "setup: upgrading pip"
      .venv/bin/python -m pip install -q -U pip || fail "upgrading pip"
    fi
    if .venv/bin/python -c "import torch" 2>/dev/null; then
      echo "setup: torch $(.venv/bin/python -c 'import torch; print(torch.__version__)') is already installed; kept"
    else
      # torch alone: first from a wheel already on this machine (pip's find-links; no network, seconds), then from the
      # CPU index (dependencies come from PyPI with the package below), then PyPI's wheel. --no-compile: its .pyc files
      # are written on first import instead of for all of torch now (about 15 s less here).
      if echo "setup: installing torch==2.13.0 from a local wheel, if this machine's pip has one" \
         && .venv/bin/python -m pip install -q --no-compile --no-index --no-deps torch==2.13.0 2>/dev/null
      then :
      elif [ "$(uname -s)" = Linux ] && ! command -v nvidia-smi >/dev/null \
         && echo "setup: installing torch==2.13.0, the CPU wheel (no NVIDIA driver here; ~200 MB download)" \
         && .venv/bin/python -m pip install -q --no-compile --retries 1 --timeout 20 --no-deps torch==2.13.0 \
              --index-url https://download.pytorch.org/whl/cpu
      then :
      else
        echo "setup: installing torch==2.13.0 from PyPI (on Linux the CUDA build: several GB)"
        .venv/bin/python -m pip install -q --no-compile torch==2.13.0 || fail "installing torch"
      fi
    fi
    echo "setup: installing depthbreadth (editable) with its dev extras: nbdev, papermill, jupyter, matplotlib, pytest, ..."
    # --no-compile here too: pandas, matplotlib, jupyter and the rest get their .pyc files when a module is first imported
    .venv/bin/python -m pip install -q --no-compile -e '.[dev]' || fail "installing the package"
    touch "$stamp"
    echo "setup: .venv ready in $((SECONDS - t0)) s; activate it (source .venv/bin/activate) to reach depthbreadth-train and the others"
  fi
  PATH="$PWD/.venv/bin:$PATH"
fi
PY=${PYTHON:-$PWD/.venv/bin/python}                      # the scripts run "$PY", "$PY" -m papermill, "$PY" -m pytest
# MPLBACKEND is left as it is: a Jupyter kernel (papermill, the docs) then draws figures inline into the executed
# notebook, and a script without a display falls back to Agg by itself. (Exporting MPLBACKEND=agg here made every
# papermill kernel inherit it, and plt.show() in the executed notebooks drew nothing.)
export PATH OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
