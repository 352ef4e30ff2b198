"""``make bench BASE=<rev>``: site build times of an older commit and of this tree, side by side.

Both sides run on this machine in one run, interleaved (base, this tree, base, this tree, ...) so that
a change of machine load hits both alike. Each round times, per side, with its own empty temporary
output and cache directories (nothing under the repository is touched):

cold_s   ``python -m generator site`` with empty caches
warm_s   the same again, nothing changed (the site stamp's "up to date" path)
edit_s   the same after one config line changed ([symmetry] learning_rate, as ``make bench``'s edit_site_s)

The base side runs from a temporary ``git worktree`` of ``<rev>`` (removed afterwards) with this
virtualenv's interpreter and ``PYTHONPATH`` set to the worktree, so the base's own ``generator`` package
is imported. The report gives the median over rounds and ``ratio = this / base``; a ratio above 1.05
is flagged. Nothing is asserted: speed targets are read, not tested.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generator.common import atomic
from generator.common.paths import BENCH_DIR, ROOT

TOLERANCE = 1.05


def site_config(src: Path, tmp: Path) -> Path:
    """``tmp/bench.toml``: the config ``src`` with every output directory moved under ``tmp``."""
    text = src.read_text("utf-8")
    for key, sub in (("docs_dir", "docs"), ("public_dir", "public"), ("cache_dir", "cache")):
        text = re.sub(rf"^{key}\s*=.*$", f'{key} = "{tmp / sub}"', text, flags=re.M)
    out = tmp / "bench.toml"
    out.write_text(text, "utf-8")
    return out


def edit_config(conf: Path) -> bool:
    """The one-edit build's edit: ``[symmetry] learning_rate = 0.1`` becomes 0.11 in ``conf`` (3 tasks,
    2 figures, every page, mkdocs); False when the config has no such line."""
    text = conf.read_text("utf-8")
    edited = re.sub(r"^learning_rate = 0\.1$", "learning_rate = 0.11", text, count=1, flags=re.M)
    conf.write_text(edited, "utf-8")
    return edited != text


def _site(root: Path, conf: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(root))
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "generator", "site", "--config", str(conf), "--quiet"],
                   cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def time_side(root: Path, config_name: str) -> dict[str, float]:
    """cold, warm and one-edit ``site`` times of the code under ``root``."""
    with tempfile.TemporaryDirectory(prefix="initlab-bench-") as d:
        conf = site_config(root / config_name, Path(d))
        out = {"cold_s": _site(root, conf), "warm_s": _site(root, conf)}
        if not edit_config(conf):
            raise SystemExit(f"bench: {config_name} has no [symmetry] 'learning_rate = 0.1' line to edit")
        out["edit_s"] = _site(root, conf)
    return out


def compare(base: str, config_name: str = "experiments.toml", rounds: int = 1, log=print) -> dict:
    rev = subprocess.run(["git", "rev-parse", "--verify", f"{base}^{{commit}}"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    runs: dict[str, list[dict]] = {"base": [], "this": []}
    with tempfile.TemporaryDirectory(prefix="initlab-base-") as d:
        tree = Path(d) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), rev], cwd=ROOT, check=True)
        try:
            for r in range(rounds):
                for side, root in (("base", tree), ("this", ROOT)):
                    log(f"bench: round {r + 1}/{rounds}, {side} ...")
                    runs[side].append(time_side(root, config_name))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    med = {side: {k: statistics.median(x[k] for x in rs) for k in rs[0]} for side, rs in runs.items()}
    res = {"base": rev, "rounds": rounds, "config": config_name, "median": med, "runs": runs,
           "ratio": {k: med["this"][k] / med["base"][k] for k in med["base"]}}
    atomic.write_text(BENCH_DIR / "compare.json", json.dumps(res, indent=2, sort_keys=True) + "\n")
    return res


def table(res: dict) -> str:
    rows = ["| time | base " + res["base"][:10] + " | this tree | this / base |", "|---|---:|---:|---:|"]
    for k, ratio in res["ratio"].items():
        flag = "" if ratio <= TOLERANCE else " (over +5 %)"
        rows.append(f"| {k} | {res['median']['base'][k]:.2f} s | {res['median']['this'][k]:.2f} s | "
                    f"{ratio:.3f}{flag} |")
    return "\n".join(rows)
