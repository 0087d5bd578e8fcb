#!/usr/bin/env bash
# The full test suite: notebooks clean and in sync with depthbreadth/, every notebook in nbs/ (one pytest
# test each, run like `nbdev-test --n-workers 1`, slow cells included), and tests/.
source "$(dirname "$0")/tools/setup.sh"
DEPTHBREADTH_TEST_FLAGS=${DEPTHBREADTH_TEST_FLAGS-slow} exec python -m pytest tests -v -rfE --durations=15 "$@"
