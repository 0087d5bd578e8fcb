"""Worker for `test_optim_dist.py`: a few `MuonAdamW` steps of a tiny branched GPT on a fixed global batch.

`train()` runs on this process's share of every global batch: all of it without `torch.distributed`, 1/W of it
on each of W ranks under `torchrun`. Run as a script (by torchrun) it trains in three ways and saves this rank's
final parameters and optimizer-state shapes to `OUT_DIR/rank{r}.pt`."""
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
N_GLOBAL, STEPS = 4, 5

def batches() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(1234)
    return [torch.randint(CFG["vocab_size"], (N_GLOBAL, CFG["sequence_len"] + 1), generator=g) for _ in range(STEPS)]

def train(batched_optimizer: str = "muon", micro_batches: int = 1, resume_at: int | None = None, save_dir: Path | None = None):
    """Final parameters and the optimizer. One process may split each global batch into `micro_batches` accumulated
    halves (loss / micro_batches each), as a rank does; with `resume_at` the optimizer goes through a file after that step."""
    rank, world = dist_info()
    torch.manual_seed(0)
    model = build_model(GPTConfig(**CFG))
    make = lambda: MuonAdamW(optimizer_groups(model, weight_decay=0.2, batched_optimizer=batched_optimizer))
    opt, per = make(), N_GLOBAL // world
    for i, b in enumerate(batches()):
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
    out = Path(sys.argv[1])
    dist.init_process_group("gloo")
    rank, world = dist_info()
    res = {}
    res["muon"], opt = train("muon")
    res["state_shapes"] = state_shapes(opt)
    res["adamw"], _ = train("adamw")
    res["muon_resumed"], _ = train("muon", resume_at=2, save_dir=out)
    res["world"] = world
    torch.save(res, out / f"rank{rank}.pt")
    dist.destroy_process_group()
