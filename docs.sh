#!/usr/bin/env bash
# Build the documentation site offline into _docs/ (open _docs/index.html): a page per notebook with the API, the home
# page from nbs/index.ipynb, and the Results page read from runs/ (nothing is re-trained). No Quarto needed.
source "$(dirname "$0")/tools/setup.sh"
exec "$PY" tools/docs.py "$@"
