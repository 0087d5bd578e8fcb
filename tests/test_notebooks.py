"Run every notebook in nbs/ as one pytest test, each in a fresh process (no state leaks between notebooks)."
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT / "nbs").glob("*.ipynb") if not p.name.startswith(("_", ".")))
RUNNER = """
import sys
from nbdev.config import get_config
from nbdev.test import test_nb as run_nb
cfg = get_config()
skip = [f for f in str(cfg.tst_flags).split() if f not in sys.argv[2].split()]
ok, secs = run_nb(sys.argv[1], skip_flags=skip, force_flags=sys.argv[2].split(), basepath=cfg.config_path,
                  cell_timeout=int(cfg.cell_timeout))
print(f"{sys.argv[1]}: {'ok' if ok else 'FAILED'} in {secs:.1f}s")
sys.exit(0 if ok else 1)
"""

@pytest.mark.parametrize("nb", NBS, ids=[p.stem for p in NBS])
def test_notebook(nb):
    flags = os.environ.get("DEPTHBREADTH_TEST_FLAGS", "")
    r = subprocess.run([sys.executable, "-c", RUNNER, str(nb), flags], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, f"{nb.name} failed:\n{r.stdout[-4000:]}\n{r.stderr[-8000:]}"
