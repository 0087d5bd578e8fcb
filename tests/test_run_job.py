"""The main job as a user runs it: `./run.sh` (its own set-up, papermill, the same environment; under `IN_TEST` the notebook
trains the `tiny` preset on a toy corpus) streams the training's log lines to the terminal, ends with a three-line summary,
writes an executed notebook that holds the curves (an embedded PNG) and no progress-bar noise, and a second `./run.sh`
onto the same notebook is refused before anything is touched (`--overwrite` then replaces it)."""
import json, os, re, subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run_sh(*args):
    env = {**os.environ, "IN_TEST": "1"}
    return subprocess.run(["bash", str(ROOT / "run.sh"), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def _outputs(nb: Path) -> list[dict]:
    return [o for c in json.loads(nb.read_text())["cells"] for o in c.get("outputs", [])]


def test_main_job(tmp_path):
    out, run_dir = tmp_path / "adhoc" / "d2b6.ipynb", tmp_path / "adhoc" / "d2b6"
    r = _run_sh("--out", str(out))
    assert r.returncode == 0, f"./run.sh failed:\n{r.stdout[-4000:]}\n{r.stderr[-6000:]}"

    # the terminal: the training's own lines (an evaluation line with train loss and speed), then the three summary lines
    assert re.search(r"^step 2/4 \| loss [\d.]+ \| [\d,]+ tok/s \| mfu [\d.]+% \| val bpb [\d.]+ \(ood [\d.]+\) \| \d+:\d\d elapsed", r.stdout, re.M), r.stdout
    last = r.stdout.strip().splitlines()[-3:]
    assert last[0].startswith("final val bpb ") and last[1].startswith("speed: ") and "tokens/sec" in last[1], last
    assert "before training" not in last[0] and re.search(r"min, [\d.]+% of it evaluating$", last[1]), last
    assert last[2].startswith(f"notebook: {out} ") and f"run directory {run_dir}/" in last[2], last

    # the executed notebook: the curves as an embedded PNG, the log lines, no tqdm bars or widget warnings
    outputs = _outputs(out)
    assert any("image/png" in o.get("data", {}) for o in outputs), "the executed notebook has no figure"
    text = "".join("".join(o.get("text", "")) for o in outputs if o["output_type"] == "stream")
    assert "step 4/4 | loss" in text and "status: complete" in text
    assert "IProgress" not in text and "TqdmWarning" not in text and "it/s]" not in text and "\r" not in text, text[-2000:]
    assert not [o for o in outputs if o["output_type"] == "error"]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["train_args"]["preset"] == "tiny"
    # the main job evaluates at 2 and 4 (tiny's eval_every), not at step 0; eval_share is the evaluations' part of the wall time
    evals = [r["step"] for r in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines()) if "val_bpb" in r]
    assert evals == [2, 4] and summary["initial_val_bpb"] is None, evals
    assert abs(summary["eval_share"] - summary["eval_time_s"] / summary["wall_time_s"]) < 1e-9

    # a second run onto the same notebook is refused before papermill or the trainer touch anything
    before = {p: p.read_bytes() for p in (out, run_dir / "summary.json", run_dir / "metrics.jsonl")}
    r = _run_sh("--out", str(out))
    assert r.returncode == 2 and "a run is already there" in r.stderr and "--overwrite" in r.stderr and "--out" in r.stderr, r.stderr
    assert all(p.read_bytes() == b for p, b in before.items()), "a refused rerun changed the first run's files"

    # --overwrite replaces it
    r = _run_sh("--out", str(out), "--overwrite")
    assert r.returncode == 0, f"./run.sh --overwrite failed:\n{r.stdout[-3000:]}\n{r.stderr[-4000:]}"
    assert out.read_bytes() != before[out] and any("image/png" in o.get("data", {}) for o in _outputs(out))
