"""The docs site: `tools/docs.py` builds it (on a copy of the repo, so it never collides with a build in the checkout),
every module page documents its exported names, the home page and the Results page are there with their tables (the
Results page shows every piece of evidence that `runs/` holds and says what is missing), and both pages render to a
non-blank PNG in headless Chromium."""
import csv, importlib, json, os, re, shutil, subprocess, sys, tempfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "runs"
BROWSERS = ("chromium", "google-chrome", "google-chrome-stable", "chromium-browser")


def _modules() -> dict[str, str]:
    "module name -> page name, from each notebook's `#| default_exp` (nbdev names the page after the notebook, less its number)."
    out = {}
    for nb in sorted((ROOT / "nbs").glob("*.ipynb")):
        src = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code")
        if m := re.search(r"^#\|\s*default_exp\s+(\S+)", src, re.M):
            out[m.group(1)] = re.sub(r"^\d+[a-z]*_", "", nb.stem) + ".html"
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("docs") / "repo"
    work.mkdir()
    shutil.copy(ROOT / "pyproject.toml", work)
    for d in ("nbs", "depthbreadth", "tools"):
        shutil.copytree(ROOT / d, work / d, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "sidebar.yml"))
    if RUNS.exists(): (work / "runs").symlink_to(RUNS)     # the evidence, read as it is in the checkout
    r = subprocess.run([sys.executable, "tools/docs.py", "--out", str(work / "_docs")], cwd=work, capture_output=True, text=True,
                       env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert r.returncode == 0, f"tools/docs.py failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    print(r.stdout.splitlines()[-1])
    return work / "_docs"


def test_module_pages_document_exported_names(site):
    modules, n_documented = _modules(), 0
    assert len(modules) >= 5, modules
    for mod, page in modules.items():
        assert (site / page).exists(), f"no page {page} for module {mod}: {sorted(p.name for p in site.glob('*.html'))}"
        text = (site / page).read_text()
        m = importlib.import_module(f"depthbreadth.{mod}")
        documented = [n for n in getattr(m, "__all__", []) if callable(getattr(m, n)) and getattr(getattr(m, n), "__module__", None) == m.__name__]
        for name in documented:   # show_doc renders a section with the signature and the docstring (constants are not shown)
            assert f'id="{name.lower()}"' in text and name in text, f"{page} has no API section for depthbreadth.{mod}.{name}"
        n_documented += len(documented)
        if documented: assert f"blob/main/depthbreadth/{mod.replace('.', '/')}.py" in text, f"{page} has no source links"
    assert n_documented >= 20, f"only {n_documented} functions/classes documented"


def test_home_page(site):
    text = (site / "index.html").read_text()
    assert "<title>" in text and "depthbreadth" in text
    assert "84,934,656" in text, "the grid table (baseline parameters at C=768) is missing from the home page"
    assert "docs.sh" in text, "the home page does not say how to build the docs"
    assert 'href="results.html"' in text, "no link to the Results page"


def test_results_page_shows_the_evidence(site):
    text = (site / "results.html").read_text()
    for heading in ("What is here", "Throughput benchmark", "Stage 1: pilot sweep", "Stage 2", "Attention backend", "Ad-hoc training runs"):
        assert heading in text, f"Results page lacks the section {heading!r}"
    present = 0
    if files := sorted(RUNS.glob("bench/*.json")):
        present += 1
        assert all(f"runs/bench/{f.name}" in text for f in files)
    else: assert "runs/bench/&lt;device&gt;.json" in text and "Not there yet" in text
    if sweeps := sorted(RUNS.glob("pilot-*/ranking.csv")):
        present += 1
        for f in sweeps:
            with open(f, newline="") as fh: rows = list(csv.DictReader(fh))
            keys = {r.get("tag", next(iter(r.values()))) for r in rows}          # the configs (first column if no `tag`)
            assert f"runs/{f.parent.name}/ranking.csv" in text and all(f"<td>{k}</td>" in text for k in keys), f"ranking of {f.parent.name} not shown"
    else: assert "runs/pilot-cpu/" in text and "Not there yet" in text
    if stage2 := sorted(d for d in RUNS.glob("stage2-*") if d.is_dir()):
        present += 1
        assert all(f"runs/{d.name}/" in text for d in stage2)
    else: assert "runs/stage2-cpu/" in text
    if files := sorted(RUNS.glob("backend/*.json")):
        present += 1
        for f in files:
            assert f"<td>{f.stem}</td>" in text and f"<td>{json.loads(f.read_text())['selected']}</td>" in text, f"backend record {f.name} not shown"
    if runs := sorted(RUNS.glob("adhoc/*/summary.json")):
        present += 1
        assert all(f"<td>{s.parent.name}</td>" in text for s in runs)
    assert text.count("<table") >= 1 + present, "the Results page lacks its tables"


def _browser():
    if b := os.environ.get("DEPTHBREADTH_CHROMIUM"): return b
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


@pytest.mark.skipif(_browser() is None, reason="no Chromium/Chrome on this machine (test.sh installs Debian's chromium when run as root)")
@pytest.mark.parametrize("page", ["index.html", "results.html"])
def test_page_renders_in_chromium(site, page):
    from PIL import Image
    png = site.parent / f"{page}.png"
    with tempfile.TemporaryDirectory() as profile:
        r = subprocess.run([_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update", "--disable-sync",
                            f"--user-data-dir={profile}", "--hide-scrollbars", "--window-size=1280,1600", f"--screenshot={png}",
                            (site / page).as_uri()], capture_output=True, text=True, timeout=120)
    assert png.exists(), f"no screenshot of {page}: {r.stderr[-2000:]}"
    img = Image.open(png).convert("L")
    w, h = img.size
    hist = img.histogram()
    ink = sum(hist[:200]) / (w * h)                      # share of pixels clearly darker than the white page
    assert ink > 0.02, f"{page} renders (almost) blank: {ink:.1%} non-white pixels ({png})"
    top = img.crop((0, 0, w, 60)).histogram()            # the navbar is a coloured band
    assert sum(top[:200]) > 0.5 * w * 60, f"{page} has no navbar ({png})"
    print(f"{page}: {png} ({ink:.1%} ink)")
