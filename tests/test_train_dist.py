"torchrun with 2 CPU ranks (gloo) trains like one process on the same global batch: equal loss curves."
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the tiny preset (4 steps of 512 tokens, eval every 2), with device batch 2 so that one process accumulates 4 micro-batches
ARGS = ["--preset", "tiny", "--depth", "2", "--branches", "2", "--device-batch-size", "2", "--allow-param-mismatch", "true"]

def _run(cmd, env):
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"

def _metrics(run_dir):
    return [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]

def test_torchrun_two_ranks_equal_single_process(tmp_path):
    sys.path.insert(0, str(ROOT))
    from depthbreadth.corpus import make_toy_corpus
    toy = make_toy_corpus(tmp_path / "toy")
    env = {**os.environ, "DEPTHBREADTH_HOME": str(tmp_path / "home"), "OMP_NUM_THREADS": "1"}
    args = ARGS + ["--corpus", f"jsonl:{toy}"]
    _run([sys.executable, "-m", "depthbreadth.trainer", *args, "--run-dir", str(tmp_path / "single")], env)
    _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "depthbreadth.trainer",
          *args, "--run-dir", str(tmp_path / "dist")], env)
    single, distributed = _metrics(tmp_path / "single"), _metrics(tmp_path / "dist")
    assert [r["step"] for r in single] == [r["step"] for r in distributed]
    for a, b in zip(single, distributed):
        for k in ("loss", "val_bpb", "val_ood_bpb"):
            if k in a: assert abs(a[k] - b[k]) <= 1e-5 * max(1.0, abs(a[k])), (k, a, b)
    s = json.loads((tmp_path / "dist" / "summary.json").read_text())
    assert s["world_size"] == 2 and s["plan"]["grad_accum"] == 2 and s["status"] == "complete"
    single_summary = json.loads((tmp_path / "single" / "summary.json").read_text())
    assert single_summary["plan"]["grad_accum"] == 4 and single_summary["steps_done"] == 4
