"""Write README.md from nbs/index.ipynb without Quarto: markdown cells as they are, markdown outputs of visible cells (a
figure there carries a markdown image link to the committed PNG beside its embedded copy, so the README links the file).
`python tools/readme.py` writes it; `python tools/readme.py --check` exits 1 if README.md is stale."""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def render(nb_path=ROOT / "nbs" / "index.ipynb") -> str:
    nb = json.loads(nb_path.read_text())
    parts = ["<!-- generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file -->"]
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown": parts.append(src.strip())
        elif cell["cell_type"] == "code" and "#| hide" not in src:
            for out in cell.get("outputs", []):
                md = out.get("data", {}).get("text/markdown")
                if md: parts.append("".join(md).strip())
    return to_repo_links("\n\n".join(parts) + "\n")

def to_repo_links(text: str) -> str:
    """index.ipynb links as its docs page needs them (`results.ipynb`; files of the repository by their repository URL,
    which the docs build makes relative); the README sits at the repository's root, so a link to a notebook page gains
    `nbs/` and one into the repository becomes relative to the root."""
    text = re.sub(r"\]\((?:\.\./|https://github\.com/depthbreadth/depthbreadth/(?:blob|tree)/main/)", "](", text)
    return re.sub(r"\]\(([\w-]+\.ipynb)(#[\w-]*)?\)", r"](nbs/\1\2)", text)

if __name__ == "__main__":
    text, readme = render(), ROOT / "README.md"
    if "--check" in sys.argv:
        sys.exit(0 if readme.exists() and readme.read_text() == text else 1)
    readme.write_text(text)
