"""The verdict that `./gpu.sh` prints from the kit's `gpu.json` (written by `nbs/gpu.ipynb`): one line per config.

Two measurements sit on each line and are labelled apart, so they cannot be read against each other by mistake:

- **speed**, from the interleaved benchmark: tokens/sec as the *geometric* mean over the timed rounds, so that each
  config's ratio to the baseline (the mean of the paired per-round log ratios, `depthbreadth.bench.speed_table`) is
  exactly its tokens/sec over the baseline's. (The notebook's table shows the *median* tokens/sec beside that ratio;
  with a few noisy rounds the two disagree, e.g. a 1.17x ratio beside a lower median than the baseline's.)
- **training**, from the short compiled training: the loss at its first and last step (4 decimals), and that run's own
  tokens/sec and MFU. It is a check of the GPU path (finite, falling loss; no graph break), not a comparison: every
  config starts from the same embedding and head (one seed), the blocks' output projections start at zero, and the
  kit's token stream is a Markov chain that the embedding -> head path alone learns, so all configs follow nearly the
  same loss curve. A note says so when their last losses agree to 0.01.

After the verdict, the GPU cost model's predictions (`depthbreadth.costmodel`, `nbs/18_costmodel.ipynb`) beside the
measurements, per config: training tokens/sec and decode ms/token, with measured/predicted. On a GPU other than an
H100 or H200 the H100's prediction is printed, labelled so; a CPU run (the dry-run) gets one line saying there is
nothing to compare.

`python tools/gpu_verdict.py runs/gpu/<device>/gpu.json` prints it again.
"""
import json, math, sys
from pathlib import Path


def _num(x, fmt: str, unit: str = "") -> str:
    return "?" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:{fmt}}{unit}"


def geometric_tok_s(times: list[float], tokens_per_step: int) -> float:
    "Tokens/sec as the geometric mean over rounds of `tokens_per_step / seconds`."
    return math.exp(sum(math.log(tokens_per_step / t) for t in times) / len(times))


def verdict_lines(res: dict) -> list[str]:
    "The verdict of one kit run, from the contents of its `gpu.json`."
    env, params = res.get("environment", {}), res.get("params", {})
    bench, training = res.get("benchmark") or {}, res.get("training", {})
    table = {r["config"]: r for r in bench.get("table", [])}
    base = next((c for c, r in table.items() if r["ratio"] == 1.0 and r["ratio_lo"] == r["ratio_hi"]), "the baseline")
    n_micro = params.get("grad_accum")
    device, attention = env.get("device_name", env.get("device", "?")), env.get("backend", {}).get("selected")
    lines = [f"GPU kit on {device} (attention {attention}, torch {env.get('torch')}, preset {params.get('preset')}, "
             f"{n_micro} micro-batch{'es' if n_micro != 1 else ''} per step)"]
    if table:
        lines.append(f"speed: interleaved full steps, {bench.get('rounds')} timed rounds; tokens/sec is the geometric mean "
                     f"over the rounds, the ratio is that over {base}'s, with its 95% interval")
    if training:
        lines.append(f"training: {params.get('train_steps')} steps each, a check of the path (loss finite and "
                     "falling), not a comparison; its tokens/sec are that run's own")
    for tag in dict.fromkeys([*table, *training]):
        parts = []
        if tag in table:
            r, tok_s = table[tag], geometric_tok_s(bench["times"][tag], bench["tokens_per_step"][tag])
            interval = "" if tag == base else f" [{r['ratio_lo']:.3f}, {r['ratio_hi']:.3f}]"
            parts.append(f"speed {tok_s:,.0f} tok/s, {r['ratio']:.3f}x{interval}")
        else: parts.append("speed not benchmarked")
        if t := training.get(tag):
            losses = t.get("losses") or [math.nan]
            breaks = t.get("graph_breaks", 0) + t.get("steady_graph_breaks", 0)
            parts.append(f"training: loss {losses[0]:.4f} -> {losses[-1]:.4f}, {_num(t.get('tok_s'), ',.0f', ' tok/s')}, "
                         f"MFU {_num(t.get('mfu'), '.1f', '%')}, {_num(t.get('peak_mem_mb'), ',.0f', ' MiB')}, "
                         f"compile {_num(t.get('compile_s'), '.0f', ' s')}, {breaks} graph breaks, "
                         f"{t.get('recompiles')} recompiles")
        failed = [c.split(": ", 1)[1] for c, ok in res.get("checks", {}).items() if c.startswith(tag + ":") and not ok]
        if failed: parts.append("CHECK FAILED: " + "; ".join(failed))
        lines.append(f"{tag}: " + " | ".join(parts))
    last = [t["losses"][-1] for t in training.values() if t.get("losses")]
    if len(last) > 1 and max(last) - min(last) < 0.01:
        lines.append(f"note: the configs' last training losses agree to {max(last) - min(last):.4f}, as expected: same "
                     "embedding and head init, zero-initialized block outputs, and a token stream the embedding -> head "
                     "path learns alone")
    # decode latency: the notebook's own line (per-token latency ratios with their intervals, depthbreadth.frontier)
    lines += [line for line in res.get("verdict", []) if line.startswith("**Decode**")]
    for name, s in res.get("stages", {}).items():
        if s["status"] != "ok": lines.append(f"stage {name} {s['status']}: {s.get('error', '')[:300]}")
    return lines + cost_model_lines(res)


def cost_model_lines(res: dict) -> list[str]:
    "The cost model's predictions beside this run's measurements; one line, never an exception, if there are none."
    if res.get("cost_model"): return list(res["cost_model"])    # as the GPU notebook computed them (gpu.json)
    if not str(res.get("environment", {}).get("device", "")).startswith("cuda"):
        return ["cost model: its predictions are for a GPU; this run is on the CPU, so there is nothing to compare "
                "(the table for the gpu preset: nbs/18_costmodel.ipynb)"]
    try:
        from depthbreadth.costmodel import compare_lines
        return compare_lines(res)
    except Exception as e:                                    # the verdict above must not be lost to the model
        return [f"cost model: no comparison ({type(e).__name__}: {str(e)[:300]})"]


if __name__ == "__main__":
    print("\n".join(verdict_lines(json.loads(Path(sys.argv[1]).read_text()))))
