"""Build the documentation site into `_docs/` offline, without Quarto: `python tools/docs.py [--out DIR]`.

nbdev's own notebook processing (`proc_nbs`: `#| hide` applied, `show_doc` cells added and executed, so every page
has the API signatures and docstrings) writes processed notebooks into `_proc/`. nbdev runs the exported cells, the
`#| exec_doc` cells and every cell that imports something, which is why each notebook keeps its imports alone in their
own cells: a cell that mixed an import with other work would run whole here. `smalldocs` (pure Python) renders
that Quarto project into HTML. `nbs/results.ipynb` has `#| exec_doc` cells, so it is executed afresh on every build
and the Results page always shows what `runs/` holds now. Pages get Quarto's names (`config.html`, from each
notebook's `output-file`), so nbdev's doc links work offline too. Where Quarto exists (the GitHub Pages job),
`nbdev-docs` builds the same notebooks (`python tools/docs.py --quarto`)."""
import argparse, json, os, re, shutil, subprocess, sys, time
from pathlib import Path

HARMLESS = ("is not read by smalldocs", "unknown key format-links", "format commonmark is not built", "keep-md is ignored")  # Quarto-only keys of nbdev's _quarto.yml


def _quarto_names(cache: Path):
    """Rename `_proc/00_config.ipynb` to `_proc/config.ipynb` (its `output-file`), as Quarto names the page, and list
    the sidebar as home, Results, module pages, other notebooks."""
    renames = {}
    for nb in sorted(cache.glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        fm = "".join(cells[0]["source"]) if cells and cells[0]["cell_type"] == "raw" else ""
        m = re.search(r"^output-file:\s*(\S+)\.html\s*$", fm, re.M)
        if m and m.group(1) != nb.stem:
            nb.rename(nb.with_name(m.group(1) + ".ipynb")); renames[nb.name] = m.group(1) + ".ipynb"
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
    for page in built.glob("*.html"):                                # make them relative, so the local copy is whole
        text = page.read_text()
        if site in text: page.write_text(text.replace(f'href="{site}', 'href="'))
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
