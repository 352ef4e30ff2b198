"""Interruptions and concurrency: Ctrl-C, SIGTERM and kill -9 stop every worker; two builds serialize.

Each test starts ``python -m generator`` as a subprocess in its own session (as a terminal would run
it), on a grid slow enough that the pool is busy when the signal arrives.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from generator.common import atomic
from generator.common.paths import ROOT
from generator.pipeline.outputs import claim

sys.path.insert(0, str(Path(__file__).parent))
from sitebuild import write_config

# ~40 propagation tasks of a few hundred ms each: the pool is busy for several seconds
SLOW = {
    "propagation": {
        "samples": 2000,
        "width": 400,
        "depth": 30,
        "seeds": [0, 1, 2],
        "inits": ["small", "xavier", "he", "large"],
    }
}


def children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry))
    return out


def alive(pids: list[int]) -> list[int]:
    live = []
    for p in pids:
        try:
            state = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        if state[state.rindex(")") + 2] != "Z":
            live.append(p)
    return live


def start(stage: str, cfg: Path, *extra) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "generator",
            stage,
            "--config",
            str(cfg),
            "--executor",
            "process",
            "--workers",
            "2",
            *extra,
        ],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for_workers(proc: subprocess.Popen, n: int = 2, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = children(proc.pid)
        if len(kids) >= n:
            time.sleep(1.0)  # let them pick up their first chunk
            return children(proc.pid)
        if proc.poll() is not None:
            raise AssertionError(f"exited early: {proc.communicate()}")
        time.sleep(0.1)
    raise AssertionError("no workers started")


@pytest.fixture
def slow_cfg(tmp_path):
    return write_config(tmp_path / "run", overrides=SLOW)


def test_kill_9_of_the_main_process_leaves_no_worker(slow_cfg):
    proc = start("experiments", slow_cfg)
    workers = wait_for_workers(proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while alive(workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert alive(workers) == [], "workers outlived their parent"


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["sigint", "sigterm"])
def test_interrupt_stops_the_pool_within_5_s_and_cleans_up(slow_cfg, sig, code):
    root = slow_cfg.parent
    proc = start("site", slow_cfg)
    workers = wait_for_workers(proc)
    t0 = time.monotonic()
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # Ctrl-C reaches the whole foreground process group
    else:
        os.kill(proc.pid, sig)  # SIGTERM (kill, systemd, CI cancel) reaches the main process only
    _out, err = proc.communicate(timeout=30)
    elapsed = time.monotonic() - t0
    assert elapsed < 5, f"took {elapsed:.1f} s to stop"
    assert proc.returncode == code, (proc.returncode, err)
    assert "Traceback" not in err, err
    assert alive(workers) == []
    scratch = root / "cache" / "tmp"
    assert not scratch.exists() or not any(scratch.iterdir()), list(scratch.iterdir())
    assert not (root / "public").exists()  # never built: nothing half-made appears
    assert not list(root.glob(".public-*"))


def _hold_lock(path: Path):
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.ftruncate(fd, 0)
    os.write(fd, b"pid 4242, since a test\n")
    return fd


def test_second_build_waits_or_exits_2_naming_the_holder(tmp_path):
    cfg = write_config(tmp_path / "run")
    docs = tmp_path / "run" / "docs"
    claim(docs, "docs_dir")  # as the build holding the lock did
    fd = _hold_lock(docs / ".initlab.lock")
    try:
        out = subprocess.run(
            [sys.executable, "-m", "generator", "render", "--config", str(cfg), "--no-wait"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        lines = out.stderr.strip().splitlines()
        assert out.returncode == 2 and len(lines) == 1, out.stderr
        assert "another build holds" in lines[0] and "pid 4242" in lines[0], lines[0]
        # without --no-wait it says so and waits until the holder lets go
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "generator",
                "experiments",
                "--config",
                str(cfg),
                "--only",
                "init=he",
                "--only",
                "activation=relu",
                "--executor",
                "serial",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)
        assert proc.poll() is None, proc.communicate()
    finally:
        os.close(fd)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "waiting: another build holds" in err and "pid 4242" in err


def test_two_concurrent_site_builds_both_succeed(tmp_path):
    cfg = write_config(tmp_path / "run")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "generator", "site", "--config", str(cfg)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=900) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    errs = [e for _, e in results]
    assert sum("waiting: another build holds" in e for e in errs) == 1, errs
    waited = next(e for e in errs if "waiting: another build holds" in e)
    assert "site: up to date" in waited, waited  # the second found the first one's work
    public = tmp_path / "run" / "public"
    assert (public / "index.html").is_file() and (public / "en" / "index.html").is_file()
    assert not list((tmp_path / "run").glob(".public-*"))


def test_atomic_writes_never_tear_under_concurrent_writers(tmp_path):
    target = tmp_path / "f.bin"
    payloads = [bytes([i]) * (1 << 16) for i in range(2)]
    atomic.write_bytes(target, payloads[0])
    errors, torn, reads = [], [], [0]
    stop = threading.Event()

    def writer(data):
        try:
            for _ in range(200):
                atomic.write_bytes(target, data)
        except Exception as exc:  # any failure is the finding
            errors.append(exc)

    def reader():
        while not stop.is_set():
            data = target.read_bytes()
            reads[0] += 1
            if data not in payloads:
                torn.append(len(data))

    threads = [threading.Thread(target=writer, args=(p,)) for p in payloads]
    r = threading.Thread(target=reader)
    r.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    r.join()
    assert errors == [] and torn == [] and reads[0] > 0
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]  # no temporary file left
