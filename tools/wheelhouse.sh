#!/usr/bin/env bash
# Offline install of what ./gpu.sh needs beyond a CUDA PyTorch machine: FlashAttention-4 with its CuTe-DSL stack, papermill
# and ipykernel. Build the wheelhouse on a machine with network, carry it over (in parts if a transfer is size-limited),
# install it there without network.
#
#   On the networked machine (any OS; pip downloads the target's wheels by platform tag):
#     tools/wheelhouse.sh [--python 3.12] [--cuda 13|12] [--have target-freeze.txt] [--part-mb 60] [--out .whl] [extra reqs...]
#       --have: `python3 -m pip list --format=freeze` run on the target. Its versions constrain the resolution and its
#               packages are not downloaded (without it only torch and its CUDA libraries are left out).
#       Wheels larger than --part-mb MiB are split into NAME.whl.part00, .part01, ... (split -b); SHA256SUMS has the wholes.
#   On the GPU machine, from the repository root:
#     tools/wheelhouse.sh --install .whl     # cat the parts back together, check SHA256SUMS, pip install --no-index
set -euo pipefail
PY=${PYTHON:-python3}
PYVER=3.12 CUDA=13 HAVE="" OUT=.whl PART_MB=60 INSTALL=""   # .whl: git-ignored
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --python) PYVER=$2; shift 2 ;;
    --cuda) CUDA=$2; shift 2 ;;
    --have) HAVE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --part-mb) PART_MB=$2; shift 2 ;;
    --install) INSTALL=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) EXTRA+=("$1"); shift ;;
  esac
done

if [ -n "$INSTALL" ]; then
  cd "$INSTALL"
  for first in *.part00; do
    [ -e "$first" ] || continue
    whole=${first%.part00}
    cat "$whole".part[0-9][0-9] > "$whole" && rm "$whole".part[0-9][0-9]
    echo "joined $whole"
  done
  sha256sum -c --quiet SHA256SUMS
  "$PY" -m pip install --no-index --find-links . -r requirements.txt
  exit 0
fi

case "$CUDA" in 13) FA4='flash-attn-4[cu13]==4.0.0b36' ;; 12) FA4='flash-attn-4==4.0.0b36' ;; *) echo "--cuda 12 or 13" >&2; exit 2 ;; esac
REQS=("$FA4" papermill ipykernel "${EXTRA[@]}")
PLATFORM=(--only-binary=:all: --implementation cp --python-version "$PYVER" --platform manylinux_2_28_x86_64
          --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64
          --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform any)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
CONSTRAINT=()
if [ -n "$HAVE" ]; then   # pinned target versions, minus local builds (torch 2.11.0+cu130 is on no index)
  grep -E '^[A-Za-z0-9_.-]+==[^+[:space:]]+$' "$HAVE" > "$tmp/have.txt" || true
  CONSTRAINT=(-c "$tmp/have.txt")
fi
"$PY" -m pip install --dry-run --quiet --ignore-installed --report "$tmp/report.json" --target "$tmp/none" \
  "${PLATFORM[@]}" "${CONSTRAINT[@]}" "${REQS[@]}"
"$PY" - "$tmp/report.json" "${HAVE:-/dev/null}" > "$tmp/need.txt" <<'EOF'
import json, re, sys
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
have = {norm(l.split("==")[0]) for l in open(sys.argv[2]) if "==" in l}
torch_stack = re.compile(r"^(torch|triton|nvidia-(cublas|cuda-cupti|cuda-nvrtc|cuda-runtime|cudnn|cufft|cufile|curand|cusolver|"
                         r"cusparse|cusparselt|nccl|nvjitlink|nvshmem|nvtx)(-cu\d+)?)$")
for item in json.load(open(sys.argv[1]))["install"]:
    name, ver = item["metadata"]["name"], item["metadata"]["version"]
    if norm(name) not in have and not torch_stack.match(norm(name)): print(f"{name}=={ver}")
EOF
mkdir -p "$OUT"
"$PY" -m pip download --quiet --no-deps "${PLATFORM[@]}" -d "$OUT" -r "$tmp/need.txt"
printf '%s\n' "${REQS[@]}" > "$OUT/requirements.txt"
(cd "$OUT" && sha256sum *.whl > SHA256SUMS)
for f in "$OUT"/*.whl; do
  if [ "$(stat -c %s "$f")" -gt $((PART_MB * 1048576)) ]; then
    split -b "${PART_MB}M" -d -a 2 "$f" "$f.part" && rm "$f"
    echo "split $(basename "$f") into $(ls "$f".part* | wc -l) parts of at most $PART_MB MiB"
  fi
done
echo "wheelhouse $OUT: $(wc -l < "$tmp/need.txt") wheels, $(du -sh "$OUT" | cut -f1); on the GPU machine: tools/wheelhouse.sh --install $OUT"
