"""Worker for `test_optim_dist.py`: a few `MuonAdamW` steps of a tiny branched GPT on a fixed global batch.

`train()` runs on this process's share of every global batch: all of it without `torch.distributed`, 1/W of it
on each of W ranks under `torchrun`. Run as a script (by torchrun: `dist_optim_worker.py OUT_DIR [SETUP]`, SETUP one
of `SETUPS`, default 3x3) it trains in three ways and saves this rank's final parameters and optimizer-state shapes
to `OUT_DIR/rank{r}.pt`."""
import sys
from pathlib import Path
import torch
import torch.distributed as dist
from depthbreadth.runtime import dist_info
from depthbreadth.config import GPTConfig
from depthbreadth.model import build_model
from depthbreadth.optim import MuonAdamW, optimizer_groups

# D=3, R=3: Muon stacks of 9 (c_fc, mlp.c_proj), 6 (ve_gate), 18 (c_k/c_v) and 24 ((C,C): c_q, c_proj, split, collect)
# matrices, so with 2 ranks some stacks split unevenly; wte/lm_head/VE (64 rows) are sharded, the lambdas replicated.
CFG = dict(sequence_len=16, vocab_size=64, n_layer=3, n_head=2, n_kv_head=1, n_embd=32, n_branches=3, split_collect=True)
# D=1, R=10 (the grid's 1x10) for 3 ranks: Muon stacks of 10, 20 and 40 matrices, none a multiple of 3, so every stack is
# padded and the last rank owns fewer; the vocabulary pads to 192 rows, so wte/lm_head/VE are sharded 64 rows per rank.
CFG_1x10 = dict(sequence_len=16, vocab_size=192, n_layer=1, n_head=2, n_kv_head=1, n_embd=32, n_branches=10, split_collect=True)
SETUPS = {"3x3": (CFG, 4, 5), "1x10": (CFG_1x10, 6, 2)}   # name -> (config, global batch in sequences (a multiple of the ranks), steps)
# 3 ranks sum a gradient in another order than 3 accumulated micro-batches (2 ranks cannot: a+b == b+a). The averaged
# gradients agree to rounding (<2e-8 here), but AdamW at eps 1e-10 turns the rounding-level sign of an entry that is ~0
# (the residual scalars' first gradient is ~5e-12: zero-init projections) into a full step at its LR (measured: up to
# 2.3 apart after 5 steps). AdamW eps 1e-3 keeps rounding noise small in the update without changing what is tested:
# which rank owns, reduces and gathers which slice. Muon amplifies such noise too, from its third step on (MuonEq scales
# a near-dead relu^2 row of c_fc up to the mean row norm: 4e-4 apart after 3 steps, 1.5e-7 after 2), so 1x10 runs 2 steps:
# the first Muon update with a non-zero gradient is the second (the zero-init projections give c_fc none before).
ADAMW_EPS = {"3x3": None, "1x10": 1e-3}

def _with_eps(groups: list[dict], eps: float | None) -> list[dict]:
    return groups if eps is None else [{**g, "eps": eps} if g["kind"] == "adamw" else g for g in groups]
N_GLOBAL, STEPS = 4, 5

def batches(cfg: dict = CFG, n_global: int = N_GLOBAL, steps: int = STEPS) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(1234)
    return [torch.randint(cfg["vocab_size"], (n_global, cfg["sequence_len"] + 1), generator=g) for _ in range(steps)]

# "muon": every group at its default LR; "groups": split, collect and value embeddings at LRs of their own, so the split
# and the collect are Muon stacks of their own (3 or 10 matrices: uneven over the ranks)
MODES = {"muon": {}, "groups": dict(split_lr=0.01, collect_lr=0.005, value_embed_lr=0.6)}

def train(mode: str = "muon", micro_batches: int = 1, resume_at: int | None = None, save_dir: Path | None = None,
          setup: str = "3x3"):
    """Final parameters and the optimizer. One process may split each global batch into `micro_batches` accumulated
    parts (loss / micro_batches each), as the ranks do; with `resume_at` the optimizer goes through a file after that step."""
    rank, world = dist_info()
    cfg, n_global, steps = SETUPS[setup]
    torch.manual_seed(0)
    model = build_model(GPTConfig(**cfg))
    make = lambda: MuonAdamW(_with_eps(optimizer_groups(model, weight_decay=0.2, **MODES[mode]), ADAMW_EPS[setup]))
    opt, per = make(), n_global // world
    for i, b in enumerate(batches(cfg, n_global, steps)):
        for m in (b[rank * per:(rank + 1) * per]).chunk(micro_batches):
            (model(m[:, :-1], m[:, 1:]) / micro_batches).backward()
        opt.step()
        model.zero_grad(set_to_none=True)
        if i == resume_at:                                       # per-rank optimizer file, as a checkpoint keeps it
            path = Path(save_dir) / f"optim_rank{rank}.pt"
            torch.save(opt.state_dict(), path)
            opt = make()
            opt.load_state_dict(torch.load(path))
    return {n: p.detach().clone() for n, p in model.named_parameters()}, opt

def state_shapes(opt) -> dict:
    "Shape of each group's first state tensor on this rank (Muon: the owned chunk; AdamW: the owned rows)."
    key = lambda g: "momentum_buffer" if g["kind"] == "muon" else "exp_avg"
    return {g["name"]: tuple(opt.state[g["params"][0]][key(g)].shape) for g in opt.param_groups}

if __name__ == "__main__":
    out, setup = Path(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else "3x3")
    dist.init_process_group("gloo")
    rank, world = dist_info()
    res = {}
    res["muon"], opt = train("muon", setup=setup)
    res["state_shapes"] = state_shapes(opt)
    res["groups"], _ = train("groups", setup=setup)
    res["muon_resumed"], _ = train("muon", resume_at=SETUPS[setup][2] // 2, save_dir=out, setup=setup)
    res["world"] = world
    torch.save(res, out / f"rank{rank}.pt")
    dist.destroy_process_group()
