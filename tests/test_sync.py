"nbdev-clean and nbdev-export must change nothing: notebooks are clean and depthbreadth/ is what they export."
import filecmp, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def _snapshot(root):
    return {p.relative_to(root): p.read_bytes() for d in ("nbs", "depthbreadth") for p in sorted((root / d).rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts}

def test_clean_and_export_change_nothing(tmp_path):
    work = tmp_path / "repo"
    work.mkdir()
    shutil.copy(ROOT / "pyproject.toml", work)
    for d in ("nbs", "depthbreadth"):
        shutil.copytree(ROOT / d, work / d, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    before = _snapshot(work)
    for cmd in ("nbdev-clean", "nbdev-export"):
        r = subprocess.run([str(BIN / cmd)], cwd=work, capture_output=True, text=True)
        assert r.returncode == 0, f"{cmd} failed: {r.stderr[-2000:]}"
    after = _snapshot(work)
    changed = sorted(str(k) for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"run `nbdev-clean && nbdev-export` and commit: these files change: {changed}"

def test_readme_is_generated_from_index():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "readme.py"), "--check"], cwd=ROOT)
    assert r.returncode == 0, "README.md is stale: run `python tools/readme.py` (it renders nbs/index.ipynb)"
