"""The docs site: `tools/docs.py` builds it (on a copy of the repo, so it never collides with a build in the checkout)
without a warning, every link inside the site and into the repository resolves, every module page documents its
exported names, the home page shows the grid and the stage-2 answer with its figure, the
Results page links every executed notebook in `runs/` and shows its figures, tables and written answers (and says what is
missing), and both pages render to a non-blank PNG in headless Chromium."""
import csv, html, importlib, json, os, re, shutil, subprocess, sys, tempfile
from urllib.parse import unquote
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
    for f in ROOT.iterdir():                                # pyproject.toml, README.md, LICENSE, ...: links may point at them
        if f.is_file(): shutil.copy(f, work)
    for d in ("nbs", "depthbreadth", "tools"):
        shutil.copytree(ROOT / d, work / d, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "sidebar.yml"))
    if RUNS.exists(): (work / "runs").symlink_to(RUNS)     # the evidence, read as it is in the checkout
    r = subprocess.run([sys.executable, "tools/docs.py", "--out", str(work / "_docs")], cwd=work, capture_output=True, text=True,
                       env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert r.returncode == 0, f"tools/docs.py failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    print(r.stdout.splitlines()[-1])
    (work / "docs-build.log").write_text(r.stdout + r.stderr)
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
        if documented: assert f'href="../depthbreadth/{mod.replace(".", "/")}.py#L' in text, f"{page} has no source links"
    assert n_documented >= 20, f"only {n_documented} functions/classes documented"


def test_build_prints_no_warning(site):
    "nbdev warns of a cell that mixes imports with other code (it runs the whole cell at docs time): none may be left."
    log = (site.parent / "docs-build.log").read_text()
    warnings = [line for line in log.splitlines() if "warning" in line.lower()]
    cells = {"".join(c["source"]).strip(): f"{nb.relative_to(ROOT)} cell {c.get('id')}" for nb in sorted((ROOT / "nbs").glob("*.ipynb"))
             for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"}
    mixed = [cells.get(src.strip(), "a cell") for src in re.findall(r"imports and other code\. See FAQ\.\n---\n(.*?)\n---\n", log, re.S)]
    assert not warnings, (f"{len(warnings)} warnings while building the docs (cells mixing an import with other code, which "
                          f"nbdev runs whole at docs time: {mixed}; put the import in a cell of its own); the build printed:\n"
                          f"{log[:8000]}")


def _ids(page: Path, cache: dict) -> set[str]:
    if page not in cache: cache[page] = set(re.findall(r'\bid="([^"]+)"', page.read_text()))
    return cache[page]


def test_no_dead_local_link(site):
    """Every relative link (href, src) of every page leads to a file, in the site or in the repository next to it, and a
    link to a page's #anchor to an element with that id. Links to other sites are not followed (no network)."""
    dead, n, ids = [], 0, {}
    for page in sorted(site.glob("*.html")):
        for link in sorted(set(re.findall(r'\b(?:href|src)="([^"]*)"', page.read_text()))):
            if not link or link.startswith(("#", "//")) or re.match(r"[a-z][a-z0-9+.-]*:", link, re.I): continue  # anchor, other site, data:
            path, _, anchor = unquote(link.split("?")[0]).partition("#")
            target = (page.parent / path).resolve()
            n += 1
            if not target.exists(): dead.append(f"{page.name}: {link} (no file {target})")
            elif anchor and target.suffix == ".html" and anchor not in _ids(target, ids): dead.append(f"{page.name}: {link} (no #{anchor})")
    print(f"{n} local links checked")
    assert n > 100, f"only {n} local links: the check is not reading the pages"
    assert not dead, f"{len(dead)} dead local links:\n" + "\n".join(dead[:60])


def test_no_link_to_the_unpublished_repository(site):
    "pyproject.toml's repository URL does not exist yet: the local site links into the checkout instead (tools/docs.py)."
    url = re.search(r'^Repository\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    linked = sorted({p.name for p in site.glob("*.html") if f'href="{url}' in p.read_text()})
    assert not linked, f"pages linking to {url}: {linked}"


def test_sidebar_lists_each_page_once(site):
    "One entry per page (12_bench.ipynb and bench.ipynb both wanted bench.html), and the evidence page still has its own."
    text = (site / "index.html").read_text()
    nav = re.findall(r'<a href="([^"]+)" class="sidebar-item-text sidebar-link">', text)
    assert len(nav) >= 20 and len(nav) == len(set(nav)), sorted(nav)
    titles = re.findall(r'class="sidebar-item-text sidebar-link"><span class="menu-text">([^<]+)<', text)
    assert len(titles) == len(set(titles)), sorted(titles)
    assert "Throughput benchmark" in titles and "Benchmark tools" in titles, titles


def test_long_code_cells_are_folded(site):
    "API pages show short examples; a longer code cell is folded under a summary, and code wraps instead of scrolling sideways."
    sys.path.insert(0, str(ROOT / "tools"))
    from docs import LONG_CELL
    n = 0
    for page in site.glob("*.html"):
        for summary, body in re.findall(r'<details class="long-cell"><summary>code, (\d+) lines</summary>(.*?)</details>', page.read_text(), re.S):
            assert int(summary) > LONG_CELL and "cell-code" in body, (page.name, summary)
            n += 1
        unfolded = re.sub(r'<details class="long-cell">.*?</details>', "", page.read_text(), flags=re.S)
        for code in re.findall(r'<pre class="[^"]*cell-code[^"]*"><code[^>]*>(.*?)</code></pre>', unfolded, re.S):
            assert code.rstrip("\n").count("\n") < LONG_CELL, f"{page.name}: an unfolded code cell of {code.count(chr(10)) + 1} lines"
    assert n >= 10, f"only {n} long cells folded"
    css = (site / "styles.css").read_text()
    assert "pre-wrap" in css and "details.long-cell" in css, "styles.css does not wrap code or style the folded cells"


def _page_text(html_text: str) -> str:
    "The visible text of a page: tags dropped, entities decoded, whitespace collapsed."
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", html_text)).split())


def _md_start(md: str, n: int = 40) -> str:
    "The first `n` characters of a markdown text as a browser shows it (emphasis and code marks dropped)."
    return " ".join(re.sub(r"[*`_]", "", md).split())[:n]


def test_home_page(site):
    "The front page: the question, the answer read from stage 2's tables, its figure, the two commands, the docs pages."
    text = (site / "index.html").read_text()
    assert "<title>" in text and "depthbreadth" in text and "The question." in _page_text(text)
    for page in ("results", "running", "gpu_kit", "development"):
        assert f'href="{page}.html"' in text, f"no link to the {page} page"
        assert (site / f"{page}.html").exists(), f"the {page} page was not built"
    assert "run.sh" in text and "test.sh" in text, "the two commands are missing from the home page"
    stage2 = RUNS / "stage2-cpu"
    if (stage2 / "final_table.csv").exists():
        assert 'convergence.png"' in text, "the home page does not show the stage-2 figure"
        from depthbreadth.answer import headline
        assert _md_start(headline(stage2)[0], 60) in _page_text(text), "the home page does not lead with the answer"
    assert "docs.sh" in (site / "development.html").read_text(), "the Development page does not say how to build the docs"


AREAS = {"Throughput benchmark": "bench", "Stage 1: pilot sweep": "pilot-*", "Stage 2": "stage2-*",
         "Attention backend": "backend", "Ad-hoc training runs": "adhoc"}   # section -> folders under runs/


def test_results_page_shows_the_evidence(site):
    """Per area: every executed notebook and data file linked, written answers shown, figures embedded (the PNG files, else the
    notebooks' own), CSV tables rendered; an area without an executed notebook says what is missing."""
    text = (site / "results.html").read_text()
    visible = _page_text(text)
    assert "What is here" in text
    n_images = 0
    for heading, pattern in AREAS.items():
        assert heading in text, f"Results page lacks the section {heading!r}"
        dirs = sorted(d for d in RUNS.glob(pattern) if d.is_dir() and any(d.glob("*.ipynb")))
        if not dirs:
            assert f"runs/{pattern}/" in text and "Not there yet" in text, f"{heading}: no note that the evidence is missing"
        for d in dirs:
            for f in sorted(d.glob("*.ipynb")) + sorted(d.glob("*.json")) + sorted(d.glob("*.csv")):
                assert f'href="../runs/{d.name}/{f.name}"' in text, f"{heading}: runs/{d.name}/{f.name} is not linked"
            for f in sorted(d.glob("*.md")):
                assert _md_start(f.read_text()) in visible, f"{heading}: runs/{d.name}/{f.name} is not shown"
            for f in sorted(d.glob("*.csv")):
                with open(f, newline="") as fh: rows = list(csv.DictReader(fh))
                keys = {r.get("tag", next(iter(r.values()))) for r in rows}          # the configs (first column if no `tag`)
                assert all(f"<td>{k}</td>" in text for k in keys), f"{heading}: the table runs/{d.name}/{f.name} is not shown"
            pngs = list(d.glob("*.png"))
            n_images += len(pngs) or sum(json.dumps(json.loads(nb.read_text())).count('"image/png"') for nb in d.glob("*.ipynb"))
    assert text.count("data:image/png") >= n_images, f"the Results page shows {text.count('data:image/png')} figures, runs/ has {n_images}"


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
