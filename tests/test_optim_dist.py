"""Two gloo ranks started by torchrun train a tiny branched GPT to the same parameters as one process on the same global batch.

The single-process reference accumulates the global batch as two half-batch micro-batches (loss / 2 each), which is
what the two ranks compute between them; the ranks must match it to 1e-5 (here they agree bitwise). Against one forward of
the whole batch the parameters differ more (~1e-4, in the embedding tables only), in one process as much as across two:
fp32 summation order, amplified by AdamW at the embedding LR (1.5 at this width) where a gradient entry is close to zero."""
import math, os, subprocess, sys
from pathlib import Path
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import dist_optim_worker as worker

def max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max((a[k] - b[k]).abs().max().item() for k in a)

def test_torchrun_two_ranks_match_one_process(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(HERE / "dist_optim_worker.py"), str(tmp_path)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # runs while we compute the reference
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                                  # as the ranks: same kernels, same summation order
    try:
        ref = {mode: worker.train(mode, micro_batches=2)[0] for mode in ("muon", "groups")}
        whole = worker.train("muon")[0]
    finally: torch.set_num_threads(threads)
    torch.manual_seed(0)
    start = {n: p.detach() for n, p in worker.build_model(worker.GPTConfig(**worker.CFG)).named_parameters()}
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out[-3000:] + err[-6000:]
    assert max_diff(ref["muon"], start) > 1e-2                # the steps really moved the parameters
    assert max_diff(ref["muon"], whole) < 1e-3                # fp32 summation order only (see the docstring)
    for rank in (0, 1):
        res = torch.load(tmp_path / f"rank{rank}.pt")
        assert res["world"] == 2
        for mode in ("muon", "groups"):
            d = max_diff(res[mode], ref[mode])
            assert d <= 1e-5, f"rank {rank}, {mode}: max |param - single-process param| = {d:.3g}"
        assert max_diff(res["muon_resumed"], res["muon"]) <= 1e-6  # the per-rank optimizer file resumes exactly
        shapes = res["state_shapes"]
        # Muon state holds the owned chunk ceil(K/2): K=9 -> 5 (rank 1 owns 4 of its 5 slots), K=6 -> 3, K=24 -> 12
        assert shapes["muon(128, 32)"] == (5, 128, 32) and shapes["muon(1, 12)"] == (3, 1, 12) and shapes["muon(32, 32)"] == (12, 32, 32)
        assert shapes["wte"] == (32, 32) and shapes["resid"] == (3, 3)  # wte rows sharded 64/2; lambdas replicated

def test_torchrun_three_ranks_1x10(tmp_path):
    "The grid's 1x10 on 3 gloo ranks (NCCL differs only in the backend name): no Muon stack divides by 3, so each is padded."
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "3",
           str(HERE / "dist_optim_worker.py"), str(tmp_path), "1x10"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs = {mode: worker.train(mode, micro_batches=3, setup="1x10") for mode in ("muon", "groups")}  # (params, optimizer)
    finally: torch.set_num_threads(threads)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out[-3000:] + err[-6000:]
    ref = {mode: params for mode, (params, _) in runs.items()}
    torch.manual_seed(0)
    start = {n: p.detach() for n, p in worker.build_model(worker.GPTConfig(**worker.CFG_1x10)).named_parameters()}
    assert max_diff(ref["muon"], start) > 1e-2                # the steps really moved the parameters
    full = worker.state_shapes(runs["muon"][1])               # one process owns every matrix of a stack
    stacks = {name: shape[0] for name, shape in full.items() if name.startswith("muon")}
    assert sorted(stacks.values()) == [10, 10, 10, 20, 40] and all(k % 3 for k in stacks.values())
    for rank in (0, 1, 2):
        res = torch.load(tmp_path / f"rank{rank}.pt")
        assert res["world"] == 3
        for mode in ("muon", "groups"):
            d = max_diff(res[mode], ref[mode])
            assert d <= 1e-5, f"rank {rank}, {mode}: max |param - single-process param| = {d:.3g}"
        assert max_diff(res["muon_resumed"], res["muon"]) <= 1e-6
        for name, k in stacks.items(): assert res["state_shapes"][name][0] == math.ceil(k / 3), (name, res["state_shapes"][name])
        assert res["state_shapes"]["wte"] == (64, 32)         # 192 padded rows / 3 ranks
