"""Every command the README shows runs as written on a fresh clone, at a tiny size where it trains.

What counts as a command, and how it runs (the README, generated from `nbs/index.ipynb`, follows these conventions):

- **Commands are the lines of fenced blocks opened with ```` ```bash ````**, one command per line, in README order; a
  line ending in `\\` continues on the next; `# ...` comments are dropped. Other blocks (```` ``` ```` alone,
  ```` ```text ````, ```` ```python ````) hold output or code and are not run; neither are commands quoted inline in
  prose.
- They run in **one temporary clone** of this checkout (`git clone`; uncommitted changes of tracked files included,
  via `git stash create`), each in its own `bash`, and must exit 0. Lines that change the shell (`source`, `.`,
  `export`, `cd`) are replayed before every later command, so `source .venv/bin/activate` followed by
  `depthbreadth-train ...` works as it does in a terminal; a command may use what an earlier one wrote (a sampling
  command after a training one).
- `PATH` is a new terminal's: no virtual environment on it (a CLI needs `source .venv/bin/activate` first, as for a
  user). The clone's `.venv` is this test's Python environment (a link to it, when tools/setup.sh made it for this
  pyproject.toml, so the scripts take their ordinary path through tools/setup.sh without installing anything);
  otherwise `PYTHON` names this interpreter (tools/setup.sh then uses it as it is).
- **Tiny size** (`TINY` below): every command runs with `DEPTHBREADTH_TINY=1` (`./run.sh`: the tiny preset on a toy
  corpus, into `runs/tiny/` unless `--out` says where); `papermill` runs with `IN_TEST=1` (the notebooks shrink to
  their test size); the trainer's CLIs get `--preset tiny` and a toy corpus appended; `./test.sh` only collects the
  suite. Each takes seconds (30-40 s on a loaded 2-core machine), except `./gpu.sh --dry-run` (1-2 minutes: the GPU
  kit's whole path on the CPU).
- A dry run, `./test.sh` and `./docs.sh` must leave no file that git does not ignore (`CLEAN` below); commands that
  write runs may (a run the README asks for is the user's to keep).
- **Skipped, with the reason** (`SKIP` below): what needs a CUDA GPU, a network, changes the environment, or does not
  end (a server).
"""
import hashlib, os, re, shutil, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
STATE = re.compile(r"^(source|\.|export|cd)\s")          # commands that change the shell for the ones after them

SKIP = [  # (pattern on the command, reason): matched in order, first match wins
    (r"^(pip|python -m pip|uv pip)\s+install\b", "installs packages: needs a network and changes the environment"),
    (r"^\./gpu\.sh(\s+(?!--dry-run)\S.*)?$", "needs a CUDA GPU (./gpu.sh --dry-run is its CPU path, run here)"),
    (r"^jupyter\s+(lab|notebook)\b", "starts a server that does not end"),
    (r"^tools/wheelhouse\.sh\b", "downloads wheels: needs a network"),
]
TINY = [  # (pattern, arguments appended, environment added): first match wins
    (r"^(depthbreadth-train|python -m depthbreadth\.trainer|torchrun .*-m depthbreadth\.trainer)\b",
     "--preset tiny --corpus jsonl:{toy}", {}),
    (r"^(python -m )?papermill\b", "", {"IN_TEST": "1"}),
    (r"^\./test\.sh\b", "--collect-only -q", {}),
]
CLEAN = [r"--dry-run\b", r"^\./(test|docs)\.sh\b"]   # must leave no file git does not ignore (a dry run: a temp folder)
TIMEOUT_S = 600


def strip_comment(line: str) -> str:
    "`line` without its shell comment (a `#` at the start or after a blank, outside quotes)."
    quote = None
    for i, ch in enumerate(line):
        if quote: quote = None if ch == quote else quote
        elif ch in "'\"": quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()): return line[:i].rstrip()
    return line.rstrip()


def readme_commands(text: str) -> list[str]:
    "The commands of `text`'s ```bash blocks, in order, as written: continued lines joined, comments and blank lines dropped."
    commands = []
    for block in re.findall(r"^```bash[ \t]*\n(.*?)^```", text, re.M | re.S):
        for line in re.sub(r"[ \t]*\\\n\s*", " ", block).splitlines():
            if command := strip_comment(line).strip(): commands.append(command)
    return commands


def test_readme_commands_are_found():
    md = ("text\n```bash\n./run.sh     # the main job\n# a comment\n\nfoo --a 'b c' \\\n  --d\n```\n"
          "```\n./not-run\n```\n```bash\nx\n```\n")
    assert readme_commands(md) == ["./run.sh", "foo --a 'b c' --d", "x"]
    assert strip_comment("papermill a.ipynb -y 'x: 1 # not one' # a comment") == "papermill a.ipynb -y 'x: 1 # not one'"
    assert any(c.startswith("./run.sh") for c in readme_commands(README.read_text())), "the README shows no ./run.sh in a ```bash block"


def plan(command: str) -> tuple[str | None, str, dict]:
    "(the reason to skip `command`, or None; the command as it runs; the environment it adds to the common one)."
    for pattern, reason in SKIP:
        if re.search(pattern, command): return reason, command, {}
    for pattern, extra, env in TINY:
        if re.search(pattern, command): return None, f"{command} {extra}".strip(), env
    return None, command, {}


def test_plan():
    assert plan("./gpu.sh")[0] and plan("./gpu.sh --budget 3")[0]
    assert plan("./gpu.sh --dry-run") == (None, "./gpu.sh --dry-run", {})
    assert plan("pip install -e '.[gpu]'")[0] and plan("./run.sh") == (None, "./run.sh", {})
    assert plan("papermill nbs/train.ipynb x.ipynb -p depth 2")[2] == {"IN_TEST": "1"}
    assert plan("depthbreadth-train --depth 2")[1] == "depthbreadth-train --depth 2 --preset tiny --corpus jsonl:{toy}"


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    "A fresh clone of this checkout (with its uncommitted changes to tracked files), its .venv this test's environment."
    work = tmp_path_factory.mktemp("clone") / "depthbreadth"
    git = lambda *a, **k: subprocess.run(["git", *a], capture_output=True, text=True, check=True, **k).stdout.strip()
    stash = subprocess.run(["git", "stash", "create"], cwd=ROOT, capture_output=True, text=True)   # no stash entry made
    if stash.returncode: print(f"git stash create failed ({stash.stderr.strip()}): testing HEAD without uncommitted changes")
    commit = (stash.returncode == 0 and stash.stdout.strip()) or git("rev-parse", "HEAD", cwd=ROOT)
    git("clone", "--quiet", "--no-checkout", str(ROOT), str(work))
    git("-c", "advice.detachedHead=false", "checkout", "--quiet", commit, cwd=work)
    stamp = f".depthbreadth-{hashlib.sha1((work / 'pyproject.toml').read_bytes()).hexdigest()[:12]}"
    if sys.prefix != sys.base_prefix and (Path(sys.prefix) / stamp).exists():
        (work / ".venv").symlink_to(sys.prefix)             # set up for this pyproject.toml: setup.sh has nothing to do
    return work


def _env(clone: Path, toy: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "VIRTUAL_ENV", "MPLBACKEND")}
    env.pop("IN_TEST", None)                                  # only where TINY asks for it (the notebooks' test size)
    # a new terminal has no virtual environment active: drop every venv's bin/ from PATH (this test's own included), so
    # a script that ran the system python3 instead of the project's .venv fails here as it does for a new user
    path = env.get("PATH", "").split(os.pathsep)
    env["PATH"] = os.pathsep.join(p for p in path if p and not (Path(p).parent / "pyvenv.cfg").exists())
    env.update(DEPTHBREADTH_TINY="1", DEPTHBREADTH_NO_APT="1", PYTHONPATH=str(clone),
               DEPTHBREADTH_HOME=str(toy.parent / "home"), OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "1"))
    if not (clone / ".venv").exists(): env["PYTHON"] = sys.executable
    return env


def test_readme_commands_run_on_a_fresh_clone(clone, tmp_path):
    from depthbreadth.corpus import make_toy_corpus
    toy = make_toy_corpus(tmp_path / "toy")
    env, state, ran, skipped = _env(clone, toy), [], [], []
    for command in readme_commands(README.read_text()):
        reason, runs, extra_env = plan(command)
        if reason:
            skipped.append(f"{command}: {reason}"); continue
        runs = runs.format(toy=toy)
        script = "\n".join([*state, runs])
        before, t0 = _untracked(clone), time.perf_counter()
        r = subprocess.run(["bash", "-c", script], cwd=clone, env={**env, **extra_env}, capture_output=True, text=True,
                           timeout=TIMEOUT_S)
        seconds = time.perf_counter() - t0
        assert r.returncode == 0, (f"README command `{command}` (run as `{runs}` in a fresh clone) exited {r.returncode} "
                                   f"after {seconds:.0f} s:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}")
        ran.append(f"{seconds:5.1f} s  {runs}")
        for scratch in re.findall(r"everything is in (\S*depthbreadth-gpu-dry-run\.\w+)$", r.stdout, re.M):
            shutil.rmtree(scratch, ignore_errors=True)          # gpu.sh --dry-run's temporary folder
        if any(re.search(p, command) for p in CLEAN):
            left = sorted(_untracked(clone) - before)
            assert not left, f"`{command}` left files in the clone that git does not ignore:\n" + "\n".join(left[:30])
        if STATE.match(command): state.append(runs)
    print("\n".join(["ran:", *ran, "skipped:", *skipped]))
    assert ran, "no README command ran"


def _untracked(clone: Path) -> set[str]:
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=clone, capture_output=True,
                         text=True).stdout
    return {l for l in out.splitlines() if not l.endswith(" .venv")}
