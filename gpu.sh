#!/usr/bin/env bash
# The GPU half of the question in one command: the machine, the attention backend smoke test (nbs/backend_smoke.ipynb),
# a short compiled bf16 training of d12b1, d2b6 and d1b10 and the interleaved full-step benchmark of the grid
# (nbs/gpu.ipynb), then one verdict line per config and the GPU cost model's prediction beside each measurement
# (depthbreadth.costmodel). Executed notebooks and JSON land in runs/gpu/<device>/ (a dry run:
# a new temporary folder, so the checkout stays clean). A stage that fails is recorded (kit.json) and the later stages
# still run; the exit status is 0 only if all passed.
#
#   ./gpu.sh              one CUDA GPU; BUDGET_S (default 300) is the whole run's wall-clock budget
#   ./gpu.sh --dry-run    the same code path on the CPU at the tiny preset, in about a minute (also: DEVICE=cpu ./gpu.sh)
#   OUT=dir ./gpu.sh      write somewhere else
#
# It runs in the project's .venv, as run.sh, test.sh and docs.sh do (tools/setup.sh; the first call creates it, which
# needs a network). On a GPU machine without network whose Python already has CUDA torch and the wheelhouse
# (tools/wheelhouse.sh): PYTHON=python3 ./gpu.sh uses that interpreter as it is.
set -uo pipefail
cd "$(dirname "$0")"
DRY=0
for arg in "$@"; do
  case "$arg" in --dry-run) DRY=1 ;; *) echo "usage: $0 [--dry-run]" >&2; exit 2 ;; esac
done
[ "${DEVICE:-}" = cpu ] && DRY=1
source tools/setup.sh                             # "$PY": the project's .venv, or $PYTHON as it is
BUDGET_S=${BUDGET_S:-300}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1      # this checkout's package, installed or not
unset MPLBACKEND                                  # figures inline in the executed notebooks (a setup's agg would drop them)
export FLASH_ATTENTION_CUTE_DSL_CACHE_ENABLED=${FLASH_ATTENTION_CUTE_DSL_CACHE_ENABLED:-1}  # FA4's JIT kernels: compiled once, reused by the next process
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1}        # the kernels package (an FA3 source) must not wait for a network
if [ "$DRY" = 1 ]; then
  export CUDA_VISIBLE_DEVICES=""                  # the CPU path, even on a GPU machine
  PARAMS=(-p preset tiny -p train_steps 5 -p warmup_steps 1 -p grad_accum 1 -p rounds 3 -p compile_backend eager
          -p decode_rounds 2 -p decode_new_tokens 8 -y "{bench_configs: [baseline, F], decode_configs: [baseline, F, d3b1]}")
  SMOKE=()
else
  PARAMS=()
  SMOKE=(-p require_cuda True)
fi
SLUG=$("$PY" -c 'import torch
from depthbreadth.bench import device_slug
cuda = torch.cuda.is_available()
print(device_slug(dict(device="cuda" if cuda else "cpu", device_name=torch.cuda.get_device_name() if cuda else "cpu")))') || exit 1
if [ -z "${OUT:-}" ] && [ "$DRY" = 1 ]; then OUT=$(mktemp -d "${TMPDIR:-/tmp}/depthbreadth-gpu-dry-run.XXXXXX"); fi
OUT=${OUT:-runs/gpu/$SLUG}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)

STAGES=()
stage() {  # stage NAME COMMAND...: run it, record its exit status and seconds, go on either way
  local name=$1 t0=$SECONDS rc; shift
  echo "== $name"
  "$@"; rc=$?
  STAGES+=("$name:$rc:$((SECONDS - t0))")
  [ "$rc" = 0 ] || echo "== $name FAILED (exit $rc); the next stages still run"
}

environment() {
  "$PY" - <<'EOF'
import importlib, platform, torch
from importlib.metadata import PackageNotFoundError, version
print(f"python {platform.python_version()}, torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(f"device {p.name}, capability {p.major}.{p.minor}, {p.total_memory / 2**30:.0f} GiB, {p.multi_processor_count} SMs, "
          f"{torch.cuda.device_count()} visible")
else: print("device: CPU (no CUDA device visible)")
for package, module in (("flash-attn-4", "flash_attn.cute"), ("flash-attn-3", "flash_attn_interface"), ("flash-attn", "flash_attn"), ("kernels", "kernels")):
    try: installed = version(package)
    except PackageNotFoundError: installed = "not installed"
    try: mod = importlib.import_module(module); imports = "imports" + ("" if hasattr(mod, "flash_attn_func") or module == "kernels" else " (no flash_attn_func)")
    except Exception as e: imports = f"does not import ({type(e).__name__}: {str(e)[:160]})"
    print(f"{package} {installed}: {module} {imports}")
EOF
}

stage environment environment
stage backend_smoke "$PY" -m papermill nbs/backend_smoke.ipynb "$OUT/backend_smoke.ipynb" -k python3 --cwd nbs --no-progress-bar \
  -p out "$OUT/backend.json" "${SMOKE[@]}"
stage gpu "$PY" -m papermill nbs/gpu.ipynb "$OUT/gpu.ipynb" -k python3 --cwd nbs --no-progress-bar \
  -p out_dir "$OUT" -p budget_s $((BUDGET_S - SECONDS)) "${PARAMS[@]}"

"$PY" - "$OUT" "$DRY" "$SECONDS" "${STAGES[@]}" <<'EOF'
import json, sys
from pathlib import Path
out, dry, seconds = Path(sys.argv[1]), sys.argv[2] == "1", int(sys.argv[3])
stages = {n: dict(exit=int(rc), seconds=int(s)) for n, rc, s in (a.split(":") for a in sys.argv[4:])}
(out / "kit.json").write_text(json.dumps(dict(dry_run=dry, seconds=seconds, stages=stages), indent=1) + "\n")
print("== verdict")
gpu = out / "gpu.json"
sys.path.insert(0, "tools"); from gpu_verdict import verdict_lines     # speed and training labelled apart (see there)
print("\n".join(verdict_lines(json.loads(gpu.read_text()))) if gpu.exists() else "no verdict: the GPU notebook wrote no gpu.json")
for name, s in stages.items():
    if s["exit"]: print(f"stage {name} FAILED (exit {s['exit']})" + (f": see {out / name}.ipynb" if (out / f"{name}.ipynb").exists() else ""))
print(f"{'dry run' if dry else 'run'} took {seconds} s; everything is in {out}")
EOF
for s in "${STAGES[@]}"; do [ "$(echo "$s" | cut -d: -f2)" = 0 ] || exit 1; done
