"""Build the documentation site into `_docs/` offline, without Quarto: `python tools/docs.py [--out DIR]`.

nbdev's own notebook processing (`proc_nbs`: `#| hide` applied, `show_doc` cells added and executed, so every page
has the API signatures and docstrings) writes processed notebooks into `_proc/`. nbdev runs the exported cells, the
`#| exec_doc` cells and every cell that imports something, which is why each notebook keeps its imports alone in their
own cells: a cell that mixed an import with other work would run whole here. `smalldocs` (pure Python) renders
that Quarto project into HTML. Code cells longer than `LONG_CELL` lines (mostly tests) are folded under a one-line
summary, and links into the repository (source, evidence in `runs/`) are made relative to the checkout, since the
repository URL in `pyproject.toml` is not published yet. `nbs/results.ipynb` has `#| exec_doc` cells, so it is
executed afresh on every build and the Results page always shows what `runs/` holds now. Pages get Quarto's names (`config.html`, from each
notebook's `output-file`), so nbdev's doc links work offline too. Where Quarto exists (the GitHub Pages job),
`nbdev-docs` builds the same notebooks (`python tools/docs.py --quarto`)."""
import argparse, json, os, re, shutil, subprocess, sys, time
from pathlib import Path

HARMLESS = ("is not read by smalldocs", "unknown key format-links", "format commonmark is not built", "keep-md is ignored")  # Quarto-only keys of nbdev's _quarto.yml


LONG_CELL = 12   # lines: a longer code cell (mostly tests) is folded into a <details> a reader opens on demand
_CODE_CELL = re.compile(r'<div class="code-copy-outer-scaffold"><div class="sourceCode" id="cb\d+"><pre class="[^"]*\bcell-code\b[^"]*">'
                        r'<code[^>]*>(.*?)</code></pre></div><button[^>]*><i class="bi"></i></button></div>', re.S)


def fold_long_cells(page: str) -> tuple[str, int]:
    "`page` with every code cell longer than `LONG_CELL` lines folded under a summary line; and how many were folded."
    n = 0
    def fold(m):
        nonlocal n
        lines = m.group(1).rstrip("\n").count("\n") + 1
        if lines <= LONG_CELL: return m.group(0)
        n += 1
        return f'<details class="long-cell"><summary>code, {lines} lines</summary>{m.group(0)}</details>'
    return _CODE_CELL.sub(fold, page), n


def _repair_anchors(site: Path) -> int:
    """nbdev links a name in backticks to its section (`GPT.forward` -> `model.html#gpt.forward`), also where the page
    documents no such section (a method without its own `show_doc`, a private helper): point those at the enclosing
    section that exists (`#gpt`), else at the page. Returns how many links changed."""
    ids = {p.name: set(re.findall(r'\bid="([^"]+)"', p.read_text())) for p in site.glob("*.html")}
    n = 0
    def fix(m, page):
        nonlocal n
        target, anchor = m.group(2) or page, m.group(3)
        if target not in ids or anchor in ids[target]: return m.group(0)
        parts = anchor.split(".")
        while parts and ".".join(parts) not in ids[target]: parts.pop()
        n += 1
        return f'{m.group(1)}{m.group(2) or ""}#{".".join(parts)}"' if parts else f'{m.group(1)}{target}"'
    for page in site.glob("*.html"):
        text = page.read_text()
        new = re.sub(r'(href=")([\w.-]+\.html)?#([^"]+)"', lambda m: fix(m, page.name), text)
        if new != text: page.write_text(new)
    return n


def _title_name(nb: Path) -> str:
    "A free file name for `nb` from its `# Title` (e.g. `throughput-benchmark.ipynb`), for a notebook whose name is taken."
    cells = json.loads(nb.read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] in ("raw", "markdown"))
    m = re.search(r"^title:\s*[\"']?(.+?)[\"']?\s*$", text, re.M) or re.search(r"^#\s+(.+)$", text, re.M)  # nbdev's front matter
    title = m.group(1) if m else nb.stem + " notebook"
    name = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    while (nb.parent / f"{name}.ipynb").exists(): name += "-notebook"
    return f"{name}.ipynb"


def _quarto_names(cache: Path):
    """Rename `_proc/00_config.ipynb` to `_proc/config.ipynb` (its `output-file`), as Quarto names the page, and list
    the sidebar as home, Results, module pages, other notebooks."""
    targets = {}
    for nb in sorted(cache.glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        fm = "".join(cells[0]["source"]) if cells and cells[0]["cell_type"] == "raw" else ""
        m = re.search(r"^output-file:\s*(\S+)\.html\s*$", fm, re.M)
        if m and m.group(1) != nb.stem: targets[nb.name] = m.group(1) + ".ipynb"
    renames = {}
    for old, new in targets.items():
        if (cache / new).exists() and new not in targets:   # a notebook already has that name (12_bench -> bench.ipynb, the
            aside = _title_name(cache / new)                # evidence notebook): it moves aside, the module keeps the
            (cache / new).rename(cache / aside); renames[new] = aside   # name nbdev's doc links point at
        (cache / old).rename(cache / new); renames[old] = new
    sidebar = cache / "sidebar.yml"
    if sidebar.exists():
        entries = re.findall(r"^\s*- (\S+\.ipynb)\s*$", sidebar.read_text(), re.M)
        evidence = ["train.ipynb", "backend_smoke.ipynb", "bench.ipynb", "sweep.ipynb", "compare.ipynb"]   # in the study's order
        rank = lambda e: (e != "index.ipynb", e != "results.ipynb", not re.match(r"\d", e),
                          evidence.index(e) if e in evidence else len(evidence), e)
        order = sorted(entries, key=rank)
        sidebar.write_text("website:\n  sidebar:\n    contents:\n" + "".join(f"      - {renames.get(e, e)}\n" for e in order))
    return renames


def build(out: Path | None = None, verbose: bool = False) -> Path:
    "Process every notebook in `nbs/` and render the site; returns the folder holding `index.html`."
    from nbdev.config import get_config
    from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
    from nbdev.doclinks import _build_modidx
    from nbdev.serve import proc_nbs
    cfg = get_config()
    os.chdir(cfg.config_path)
    out = Path(out).resolve() if out else cfg.doc_path
    refresh_quarto_yml()                      # nbs/nbdev.yml from pyproject.toml; nbs/_quarto.yml is committed
    _build_modidx()                           # doc links for `names` in prose
    nbdev_sidebar.__wrapped__()               # nbs/sidebar.yml (gitignored)
    # force: the Results page depends on runs/, not only on its notebook, so a cached _proc/ page would be stale.
    # n_workers=0: one process, so torch and the package are imported once for all notebooks.
    t0 = time.time()
    cache = proc_nbs(n_workers=0, force=True)
    print(f"docs: processed the notebooks in {time.time() - t0:.1f} s", flush=True)
    _quarto_names(cache)
    r = subprocess.run([sys.executable, "-m", "smalldocs.cli", "render", str(cache)], capture_output=True, text=True)
    lines = (r.stdout + r.stderr).splitlines()
    shown = [l for l in lines if verbose or not any(h in l for h in HARMLESS)]
    if shown: print("\n".join(shown))
    if r.returncode: raise RuntimeError(f"smalldocs render failed (exit {r.returncode})")
    built = cache / cfg.doc_path.name
    if not (built / "index.html").exists(): raise RuntimeError(f"smalldocs wrote no index.html into {built}")
    site = f"{cfg.doc_host}{cfg.doc_baseurl}".rstrip("/") + "/"   # nbdev's doc links point at the published site:
    repo = tuple(f"{cfg.git_url}/{kind}/{cfg.branch}/" for kind in ("blob", "tree"))   # source and evidence links at a
    to_repo = os.path.relpath(cfg.config_path, out).replace(os.sep, "/") + "/"           # repository not published yet:
    n_folded = 0                                                      # both relative, so the local copy is whole
    for page in built.glob("*.html"):
        text = page.read_text()
        text = text.replace(f'href="{site}', 'href="')
        for r in repo: text = text.replace(f'href="{r}', f'href="{to_repo}').replace(f'src="{r}', f'src="{to_repo}')
        text, n = fold_long_cells(text)
        n_folded += n
        page.write_text(text)
    n_repaired = _repair_anchors(built)
    if verbose: print(f"docs: folded {n_folded} code cells longer than {LONG_CELL} lines; {n_repaired} doc links to an "
                      "undocumented member now point at its class (or page)")
    shutil.rmtree(out, ignore_errors=True)
    shutil.move(str(built), str(out))
    return out


def build_quarto() -> Path:
    """The same notebooks through nbdev's real `nbdev-docs` (Quarto must be on PATH: the GitHub Pages job), with the
    same cell processing as the offline build."""
    from nbdev.config import get_config
    from nbdev.quarto import nbdev_docs
    if not shutil.which("quarto"): raise RuntimeError("--quarto needs Quarto on PATH; without it run `python tools/docs.py`")
    cfg = get_config()
    os.chdir(cfg.config_path)
    shutil.rmtree(cfg.config_path / "_proc", ignore_errors=True)   # as force=True above: Results must be re-executed
    nbdev_docs.__wrapped__(n_workers=0)
    return cfg.doc_path


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: _docs/ of the repo)")
    ap.add_argument("--verbose", action="store_true", help="also print smalldocs' warnings about Quarto-only settings")
    ap.add_argument("--quarto", action="store_true", help="render with Quarto through nbdev-docs instead of smalldocs")
    a = ap.parse_args()
    t0 = time.time()
    site = build_quarto() if a.quarto else build(a.out, a.verbose)
    print(f"docs: {site / 'index.html'} ({len(list(site.glob('*.html')))} pages, {time.time() - t0:.1f} s)")
