"""Faults a run meets from outside, each in a real `depthbreadth-train` process (`python -m depthbreadth.trainer`, the
`tiny` preset on a toy corpus): a second run onto a directory in use, SIGTERM and SIGINT with an exact resume after
them, a write that fails (the file size limit fails it with EFBIG as a full disk fails it with ENOSPC), too little free
space, and a run directory this user may not write. Each ends in one line and exit status 2 (a signal: 128 + its
number), and the resume after it gives the losses of the run that nothing interrupted."""
import contextlib, json, os, resource, signal, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
STEPS = 30   # enough steps that a signal sent at step 3 arrives while the run trains


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    "The toy corpus and the caches (built once), and the metrics of the run that nothing interrupts."
    sys.path.insert(0, str(ROOT))
    from depthbreadth.corpus import make_toy_corpus
    tmp = tmp_path_factory.mktemp("reliability")
    toy = make_toy_corpus(tmp / "toy")
    env = {**os.environ, "DEPTHBREADTH_HOME": str(tmp / "home"), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    env.pop("DEPTHBREADTH_DEBUG", None)
    args = ["--preset", "tiny", "--depth", "2", "--branches", "3", "--allow-param-mismatch", "true",
            "--corpus", f"jsonl:{toy}", "--num-iterations", str(STEPS), "--eval-every", "10"]
    ref = _train(env, args, tmp / "reference")
    assert ref.returncode == 0, ref.stderr[-3000:]
    return dict(tmp=tmp, env=env, args=args, reference=_losses(tmp / "reference"))


def _cmd(args, run_dir, *extra):
    return [sys.executable, "-m", "depthbreadth.trainer", *args, "--run-dir", str(run_dir), *extra]


def _train(env, args, run_dir, *extra, **kw):
    return subprocess.run(_cmd(args, run_dir, *extra), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                          **kw)


def _rows(run_dir):
    return [json.loads(l) for l in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]


def _losses(run_dir):
    return [r["loss"] for r in _rows(run_dir) if "loss" in r]


def _wait_for(condition, proc, what, timeout=300):
    t0 = time.time()
    while not condition():
        assert proc.poll() is None, f"the run ended (rc {proc.returncode}) before {what}: {proc.stderr.read()[-3000:]}"
        assert time.time() - t0 < timeout, f"timed out waiting for {what}"
        time.sleep(0.01)


def _steps_done(run_dir):
    try: return max((r["step"] for r in _rows(run_dir) if "loss" in r), default=0)
    except (FileNotFoundError, json.JSONDecodeError): return 0


def _error_lines(stderr, prog="depthbreadth-train"):
    "The lines the trainer wrote as errors; none may be a traceback."
    assert "Traceback" not in stderr, stderr[-3000:]
    return [l for l in stderr.splitlines() if l.startswith(f"{prog}: ")]


def _same(losses, reference):
    assert len(losses) == len(reference), (losses, reference)
    assert all(abs(a - b) <= 1e-6 for a, b in zip(losses, reference)), (losses, reference)


def test_second_run_onto_a_directory_in_use_is_refused(env):
    run_dir = env["tmp"] / "busy"
    first = subprocess.Popen(_cmd(env["args"], run_dir), cwd=ROOT, env=env["env"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    lock = run_dir / ".lock"
    _wait_for(lambda: lock.exists() and lock.read_text().strip() == str(first.pid), first, "the first run's lock")
    os.kill(first.pid, signal.SIGSTOP)            # hold it there, lock taken, while the others start: no race on timing
    try:
        second = _train(env["env"], env["args"], run_dir, "--resume")
        third = _train(env["env"], env["args"], run_dir)            # a fresh start is refused the same way
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert first.wait(timeout=600) == 0, first.stderr.read()[-3000:]
    for refused in (second, third):
        lines = _error_lines(refused.stderr)
        assert refused.returncode == 2 and len(lines) == 1, refused.stderr[-3000:]
        assert f"depthbreadth-train: error: {run_dir} is in use by another run (pid {first.pid}, " in lines[0], lines
        assert lines[0].endswith("(--debug for the traceback)"), lines
    steps = [r["step"] for r in _rows(run_dir) if "loss" in r]
    assert steps == list(range(1, STEPS + 1))     # no step twice: the refused runs wrote nothing
    _same(_losses(run_dir), env["reference"])
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "complete"


def test_sigterm_and_sigint_stop_with_a_checkpoint_and_resume_exactly(env):
    run_dir, stops = env["tmp"] / "signals", []
    for sig, extra in ((signal.SIGTERM, ()), (signal.SIGINT, ("--resume",))):
        proc = subprocess.Popen(_cmd(env["args"], run_dir, *extra), cwd=ROOT, env=env["env"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        start = stops[-1] if stops else 0
        _wait_for(lambda: _steps_done(run_dir) >= start + 3, proc, f"step {start + 3}")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 128 + sig, (proc.returncode, err[-3000:])
        summary = json.loads((run_dir / "summary.json").read_text())
        step = summary["steps_done"]
        assert summary["status"] == "interrupted" and summary["reason"] == f"{sig.name} at step {step}"
        assert start + 3 <= step < STEPS, (start, step)
        assert f"{sig.name}: stopped at step {step} with a checkpoint" in out, out[-2000:]
        assert (run_dir / "ckpt" / f"meta_{step:06d}.json").exists() and not list((run_dir / "ckpt").glob(".*.tmp"))
        stops.append(step)
    done = _train(env["env"], env["args"], run_dir, "--resume")
    assert done.returncode == 0, done.stderr[-3000:]
    steps = [r["step"] for r in _rows(run_dir) if "loss" in r]
    assert steps == list(range(1, STEPS + 1))
    _same(_losses(run_dir), env["reference"])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "complete" and [r["step"] for r in summary["resumes"]] == stops
    assert [r["previous"]["status"] for r in summary["resumes"]] == ["interrupted", "interrupted"]


def _file_size_limit(limit):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_write_fault_and_full_disk_keep_the_last_checkpoint(env):
    run_dir, args = env["tmp"] / "full", env["args"] + ["--save-every", "4"]
    first = _train(env["env"], args, run_dir, "--stop-after", "4")
    assert first.returncode == 0, first.stderr[-3000:]
    kept = sorted(p.name for p in (run_dir / "ckpt").iterdir())
    # a write that fails: the step-8 checkpoint's model file meets the 64 kB file size limit (EFBIG, a real OS error)
    failed = _train(env["env"], args, run_dir, "--resume", preexec_fn=_file_size_limit(64_000))
    lines = _error_lines(failed.stderr)
    assert failed.returncode == 2 and len(lines) == 1, failed.stderr[-3000:]
    model_file = run_dir / "ckpt" / "model_000008.pt"
    assert lines[0].startswith(f"depthbreadth-train: error: cannot write {model_file}: File too large ("), lines
    assert " bytes needed, " in lines[0] and " bytes free there) (--debug for the traceback)" in lines[0], lines
    assert sorted(p.name for p in (run_dir / "ckpt").iterdir()) == kept   # no temporary, no model file without metadata
    # too little free space: refused before anything of the checkpoint is written
    patched = ("import sys, depthbreadth.checkpoint as c; c.free_bytes = lambda path: 10_000\n"
               "from depthbreadth.trainer import main; sys.exit(main(sys.argv[1:]))")
    refused = subprocess.run([sys.executable, "-c", patched, *args, "--run-dir", str(run_dir), "--resume"], cwd=ROOT,
                             env=env["env"], capture_output=True, text=True, timeout=600)
    lines = _error_lines(refused.stderr)
    assert refused.returncode == 2 and len(lines) == 1, refused.stderr[-3000:]
    assert f"not enough space to write checkpoint step 8 to {run_dir / 'ckpt'}: about " in lines[0], lines
    assert " bytes needed, 10,000 bytes free there" in lines[0], lines
    assert sorted(p.name for p in (run_dir / "ckpt").iterdir()) == kept
    # with room again the run continues from its last checkpoint, exactly; only the newest 2 checkpoints stay
    done = _train(env["env"], args, run_dir, "--resume")
    assert done.returncode == 0, done.stderr[-3000:]
    _same(_losses(run_dir), env["reference"])
    assert sorted(int(p.name[5:11]) for p in (run_dir / "ckpt").glob("meta_*.json")) == [28, 30]


@contextlib.contextmanager
def _unwritable(run_dir):
    """`run_dir` made unwritable for a run, and the reason the run will meet: without write permission (a user other
    than root); as root, a read-only file system mounted there (where mounting is allowed); else an injected EROFS."""
    run_dir.mkdir(parents=True)
    if os.geteuid() != 0:
        run_dir.chmod(0o555)
        try: yield [], "Permission denied"
        finally: run_dir.chmod(0o755)
    elif subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(run_dir)],
                        capture_output=True).returncode == 0:
        try: yield [], "Read-only file system"
        finally: subprocess.run(["umount", str(run_dir)], check=True)
    else:   # root without mount privileges (a plain container): the same error, where the run opens its first file
        inject = (f"import builtins, errno, sys\nimport depthbreadth.runtime as rt\nreal = builtins.open\n"
                  f"def ro(path, *a, **k):\n    if str(path).startswith({str(run_dir)!r}) and a and a[0][0] in 'wa':\n"
                  f"        raise OSError(errno.EROFS, 'Read-only file system', str(path))\n"
                  f"    return real(path, *a, **k)\n"
                  f"rt.open = ro\nfrom depthbreadth.trainer import main; sys.exit(main(sys.argv[1:]))")
        yield ["-c", inject], "Read-only file system"


def test_a_directory_that_cannot_be_written_is_one_line(env):
    run_dir = env["tmp"] / "read-only"
    with _unwritable(run_dir) as (how, reason):
        cmd = _cmd(env["args"], run_dir)
        if how: cmd = [sys.executable, *how, *cmd[3:]]
        r = subprocess.run(cmd, cwd=ROOT, env=env["env"], capture_output=True, text=True, timeout=600)
        lines = _error_lines(r.stderr)
        assert r.returncode == 2 and len(lines) == 1, r.stderr[-3000:]
        assert lines[0].startswith(f"depthbreadth-train: error: cannot write {run_dir / '.lock'}: {reason} ("), lines
        assert " bytes free there) (--debug for the traceback)" in lines[0], lines
        assert list(run_dir.iterdir()) == []
