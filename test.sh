#!/usr/bin/env bash
# The full test suite: notebooks clean and in sync with depthbreadth/, every notebook in nbs/ (one pytest
# test each, run like `nbdev-test --n-workers 1`, slow cells included), and tests/.
source "$(dirname "$0")/tools/setup.sh"
# tests/test_docs.py screenshots the docs pages in a headless browser: where there is none and we may (root, apt-get, as in
# CI), install Debian's chromium; elsewhere that one test is skipped with a message.
if ! command -v chromium >/dev/null && ! command -v google-chrome >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "test.sh: installing chromium (apt-get) for the docs screenshot test"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; } \
    || echo "test.sh: could not install chromium; the screenshot test will be skipped"
fi
DEPTHBREADTH_TEST_FLAGS=${DEPTHBREADTH_TEST_FLAGS-slow} exec python -m pytest tests -v -rfE --durations=15 "$@"
