#!/usr/bin/env bash
# The main job: one training run of the 2x6 config at the cpu preset, executed through papermill into
# runs/adhoc/d2b6.ipynb (curves, summary, samples) with its run directory runs/adhoc/d2b6/ (metrics.jsonl, summary.json;
# ckpt/ stays out of git). A few minutes on 2 cores (the README gives the measured time and its machine; times scale
# with the machine). The run's log lines stream to the terminal as it trains; at the end three lines say the final
# val bpb, the tokens/sec (with the share of the time spent evaluating) and where the notebook is.
#
#   ./run.sh [--overwrite] [--out NOTEBOOK] [papermill arguments, e.g. -p tokens 2000000 or -p depth 12 -p branches 1]
#
# The notebook is written to --out (default runs/adhoc/d<depth>b<branches>.ipynb), the run directory next to it (the
# same name without .ipynb; -p run_dir DIR to choose another). A notebook or run directory that already holds a run is
# never replaced silently: run.sh refuses before anything runs and says how to overwrite it (--overwrite), write a new
# run next to it (--out) or continue it (-p resume True). It runs in the project's .venv (tools/setup.sh makes it on
# the first call; PYTHON=/path/to/python uses that interpreter instead), as test.sh, docs.sh and gpu.sh do.
#
#   DEPTHBREADTH_TINY=1 ./run.sh   the same path in seconds: the tiny preset on a toy corpus (the test suite's size),
#                                  into runs/tiny/ (ignored by git), so it never meets a committed run
set -e
here=$(cd "$(dirname "$0")" && pwd)
out= run_dir= overwrite=False resume=False depth=2 branches=6 args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) awk 'NR == 1 {next} !/^#/ {exit} {sub(/^# ?/, ""); print}' "$0"; exit 0;;   # the comment above
    --overwrite) overwrite=True; shift;;
    --out) out=$(realpath -m "$2"); shift 2;;
    -p|--parameters)
      [ $# -ge 3 ] || { echo "run.sh: $1 needs a name and a value" >&2; exit 2; }
      case "$2" in
        run_dir) run_dir=$(realpath -m "$3"); shift 3; continue;;   # passed on below, resolved against the caller's directory
        depth) depth=$3;; branches) branches=$3;; resume) resume=$3;; overwrite) overwrite=$3;;
      esac
      args+=("$1" "$2" "$3"); shift 3;;
    *) args+=("$1"); shift;;
  esac
done
area=adhoc
if [ -n "${DEPTHBREADTH_TINY:-}" ] && [ "$DEPTHBREADTH_TINY" != 0 ]; then export IN_TEST=1; area=tiny; fi   # train.ipynb: tiny
out=${out:-$here/runs/$area/d${depth}b${branches}.ipynb}
run_dir=${run_dir:-${out%.ipynb}}
source "$here/tools/setup.sh"
show() { local r; r=$(realpath -m --relative-to="$PWD" "$1"); case "$r" in ../*) echo "$1";; *) echo "$r";; esac; }
truthy() { case "$1" in True|true|1|yes) return 0;; *) return 1;; esac; }

# Never overwrite a finished (or interrupted) run without being asked: refuse before papermill touches the notebook.
ckpt=$(ls -A "$run_dir/ckpt" 2>/dev/null || true)
if { [ -e "$out" ] || [ -e "$run_dir/summary.json" ] || [ -e "$run_dir/metrics.jsonl" ] || [ -n "$ckpt" ]; } \
   && ! truthy "$overwrite" && ! truthy "$resume"; then
  {
    echo "run.sh: a run is already there: $(show "$out") (run directory $(show "$run_dir")/). Nothing was changed; choose one:"
    echo "  ./run.sh --overwrite ...                  replace it (committed files under runs/ change; git checkout -- runs/ restores them)"
    echo "  ./run.sh --out runs/adhoc/NAME.ipynb ...  write a new run next to it (run directory runs/adhoc/NAME/)"
    [ -n "$ckpt" ] && echo "  ./run.sh -p resume True ...               continue it from its latest checkpoint"
  } >&2
  exit 2
fi

mkdir -p "$(dirname "$out")"
echo "run.sh: training; log lines follow (the first run builds the corpus and tokenizer into \$DEPTHBREADTH_HOME first)"
# --stdout-file -: the notebook's printed lines (set-up, one line every few steps, evaluations) reach the terminal live.
if ! "$PY" -m papermill nbs/train.ipynb "$(show "$out")" -k python3 --no-progress-bar --stdout-file - --stderr-file /dev/stderr \
     -p depth "$depth" -p branches "$branches" "${args[@]}" -p run_dir "$(show "$run_dir")" -p overwrite "$overwrite"; then
  echo "run.sh: the run failed; the executed notebook $(show "$out") shows the cell and the error" >&2
  exit 1
fi
"$PY" - "$(show "$out")" "$(show "$run_dir")" <<'EOF'
import json, sys
from pathlib import Path
notebook, run_dir = sys.argv[1:]
s = json.loads((Path(run_dir) / "summary.json").read_text())
# the step-0 evaluation is there only with -p eval_at_start True
before = f"; {s['initial_val_bpb']:.4f} before training" if s.get("initial_val_bpb") is not None else ""
print(f"\nfinal val bpb {s['final_val_bpb']:.4f} (out-of-domain {s['final_val_ood_bpb']:.4f}{before}), status {s['status']}")
print(f"speed: {s['tok_per_sec_median']:,.0f} tokens/sec (median step), {s['tokens_done']:,} tokens in "
      f"{s['wall_time_s'] / 60:.1f} min, {100 * s['eval_share']:.1f}% of it evaluating")
print(f"notebook: {notebook} (curves, summary, samples; run directory {run_dir}/)")
EOF
