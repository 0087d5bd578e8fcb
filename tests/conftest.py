"""Scheduling for a parallel run: `./test.sh` runs the suite on 2 pytest-xdist workers.

- Tests that share an expensive module fixture run on one worker, so that it is built once: the docs build
  (test_docs), the GPU kit's dry run (test_gpu_kit), the reference run (test_reliability). The torchrun tests form one
  group too, so that two rendezvous never start at once. Every other test is a unit of its own (`SHARED` below; the
  scheduler is xdist's `LoadScopeScheduling` with these units: its own `--dist loadgroup` marks do not reach the
  scheduler under pytest 9).
- Units are handed out longest first, so that the last test a worker starts is a short one and the two workers finish
  together: `EXPECTED_S` holds the seconds each costly unit took in a serial run on 2 quiet cores (the groups and
  00_runtime: estimated from a parallel run on a busy machine); the others keep their order after them.

Without xdist (`pytest tests`) only the order changes."""
from pathlib import Path
import pytest

SHARED = {"test_docs.py": "docs", "test_gpu_kit.py": "gpu_kit", "test_reliability.py": "reliability",
          "test_train_dist.py": "torchrun", "test_optim_dist.py": "torchrun"}
EXPECTED_S = {"test_notebook[03_model]": 87, "test_notebook[compare]": 20, "test_notebook[08_trainer]": 80, "docs": 55,
              "reliability": 50, "gpu_kit": 32, "test_notebook[sweep]": 12, "test_notebook[11_study]": 30,
              "test_notebook[12_bench]": 29, "test_notebook[04_optim]": 26, "test_notebook[lr_sweep]": 10,
              "test_notebook[05a_data]": 23, "test_readme_commands_run_on_a_fresh_clone": 20,
              "test_notebook[02_attention]": 20, "test_notebook[00_runtime]": 15, "torchrun": 15, "test_main_job": 15}


def unit(nodeid: str) -> str:
    "The scheduling unit of a test: its module's group, or the test itself."
    return SHARED.get(Path(nodeid.partition("::")[0]).name, nodeid)


def pytest_collection_modifyitems(items):
    cost = lambda item: EXPECTED_S.get(unit(item.nodeid), EXPECTED_S.get(item.name, 0))
    items.sort(key=lambda item: -cost(item))              # stable: equal costs keep the collection order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str: return unit(nodeid)

    return UnitScheduling(config, log)
