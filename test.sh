#!/usr/bin/env bash
# The full test suite: notebooks clean and in sync with depthbreadth/, every notebook in nbs/ (one pytest
# test each, run like `nbdev-test --n-workers 1`, slow cells included), and tests/.
threads=${OMP_NUM_THREADS:-}                             # the caller's, if set (tools/setup.sh sets a default)
source "$(dirname "$0")/tools/setup.sh"
# tests/test_docs.py screenshots the docs pages in a headless browser. Where there is none, and this runs as root with
# apt-get (as in CI, or a container), test.sh INSTALLS Debian's chromium package system-wide (about 40 s, once), and says so
# first; DEPTHBREADTH_NO_APT=1 skips that (the screenshot test is then skipped with a message, as it is elsewhere).
if ! command -v chromium >/dev/null && ! command -v google-chrome >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null \
   && [ -z "${DEPTHBREADTH_NO_APT:-}" ]; then
  echo "=================================================================================================================="
  echo "test.sh: running as root: installing the system package 'chromium' with apt-get for the docs screenshot test"
  echo "         (about 40 s, once; DEPTHBREADTH_NO_APT=1 ./test.sh skips this and that test)"
  echo "=================================================================================================================="
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; } \
    && echo "test.sh: chromium installed: $(command -v chromium)" \
    || echo "test.sh: could not install chromium; the screenshot test will be skipped"
fi
# The tests run on DEPTHBREADTH_TEST_WORKERS (default 2) pytest-xdist workers, each with OMP_NUM_THREADS = cores / workers
# (at least 1; a value the caller set is kept), so that the workers share the cores instead of oversubscribing them;
# tests/conftest.py hands out the longest tests first and keeps tests that share a costly fixture on one worker.
# DEPTHBREADTH_TEST_WORKERS=1 runs them one after the other in this process, as does a Python without pytest-xdist.
workers=${DEPTHBREADTH_TEST_WORKERS:-2} parallel=()
if [ "$workers" -gt 1 ]; then
  if "$PY" -c "import xdist" 2>/dev/null; then
    parallel=(-n "$workers" --dist load --no-loadscope-reorder)
    [ -n "$threads" ] || threads=$(( $(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN) / workers ))   # the cores this process may use
    export OMP_NUM_THREADS=$(( threads > 0 ? threads : 1 ))
  else
    echo "test.sh: pytest-xdist is not installed in $PY: the tests run one after the other"
  fi
fi
DEPTHBREADTH_TEST_FLAGS=${DEPTHBREADTH_TEST_FLAGS-slow} exec "$PY" -m pytest tests -v -rfE --durations=15 "${parallel[@]}" "$@"
