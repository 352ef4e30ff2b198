"""``make bench BASE=<rev> [ROUNDS=N] [STAGES=1]``: an older commit and this tree, side by side.

Both sides run on this machine in one run, interleaved (base, this tree, base, this tree, ...) so that
a change of machine load hits both alike. Each round measures, per side, with its own empty temporary
output and cache directories (nothing under the repository is touched but ``bench/compare.json``):

cold_s, cold_cpu_s  ``python -m generator site`` with empty caches: wall and CPU seconds (user + system of
                    the process and every descendant it waited for, i.e. core-seconds)
warm_s              the same again, nothing changed (the site stamp's "up to date" path)
edit_s              the same after one config line changed ([symmetry] learning_rate, as ``make bench``'s
                    edit_site_s)
gemm_flops[_<kind>] GEMM FLOPs this side's cold build performed: the sum of ``work/gemm_flops`` over every
                    task result in its cache (each task reports its own), per cache kind and in total. Read
                    from the files (any ``<cache>/<kind>/**.npz``), not through the store's API, so an
                    older revision's cache is counted the same way; no ``work`` at all gives no floor
gemm_floor_s        gemm_flops / the GEMM peak (``make bench``'s floor, generator/pipeline/bench.py). The
                    peak is measured once per run, in this process, at this tree's grid shapes
                    (bench.gemm_peak), so both sides' floors share one denominator
bare_mkdocs_s       ``mkdocs build`` alone on this side's generated docs, with this side's mkdocs.yml and the
                    navigation its own code generates (a subprocess in its tree writes the child config;
                    a tree from before generated navigation uses its mkdocs.yml as it is)
floor_ratio         cold_s / (gemm_floor_s + bare_mkdocs_s): ``make bench``'s cold-build target is <= 1.5
weight_*_bytes      page weight of this side's cold build (generator/pipeline/bench_weight.py): bytes of the
                    ko / en / shared files, total, and the largest page (HTML + images) per language
stage_<s>_wall_s,   with ``--stages`` (``STAGES=1``): a second cold build, stage by stage
stage_<s>_cpu_s     (``python -m generator experiments|figures|render|build``, the CLI of every revision),
                    wall and CPU seconds of each stage's subprocess (getrusage(RUSAGE_CHILDREN) deltas)

The base side runs from a temporary ``git worktree`` of ``<rev>`` (removed afterwards) with this
virtualenv's interpreter and ``PYTHONPATH`` set to the worktree, so the base's own ``generator`` package
is imported. A config inside the repository (the default ``experiments.toml``) is each side's own
version of that file; one outside it is shared by both. The report gives the median over rounds of
every number and ``ratio = this / base``; a cost ratio above 1.05 is flagged (not the floor's parts:
more work is what a change may add). Nothing is asserted: speed targets are read, not tested.
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from generator.common import atomic
from generator.common.paths import BENCH_DIR, ROOT
from generator.pipeline.bench_weight import numbers as weight_numbers
from generator.pipeline.bench_weight import weigh

TOLERANCE = 1.05
STAGES = ("experiments", "figures", "render", "build")
# Parts of the floor: a change may legitimately add work, so their ratio is shown but never flagged.
WORK_KEYS = ("gemm_flops", "gemm_floor_s", "bare_mkdocs_s")


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


def timed(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the subprocess ``cmd``: CPU is user + system time of it and of every
    descendant it waited for (a process pool's workers, mkdocs), from getrusage(RUSAGE_CHILDREN) before
    and after, so it counts core-seconds however many cores the command used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _generator(root: Path, command: str, conf: Path, timer=timed) -> tuple[float, float]:
    env = dict(os.environ, PYTHONPATH=str(root))
    return timer([sys.executable, "-m", "generator", command, "--config", str(conf), "--quiet"], root, env)


def cache_gemm_flops(cache_dir: Path) -> dict[str, float]:
    """``{kind: FLOPs}``: ``work/gemm_flops`` summed over every task result (``<kind>/**/*.npz``) in
    ``cache_dir``; kinds whose results report no work are left out."""
    out: dict[str, float] = {}
    for npz in sorted(Path(cache_dir).rglob("*.npz")):
        kind = npz.relative_to(cache_dir).parts[0]
        with np.load(npz, allow_pickle=False) as z:
            if "work/gemm_flops" in z.files:
                out[kind] = out.get(kind, 0.0) + float(np.sum(z["work/gemm_flops"]))
    return out


# Run in the side's own tree (its PYTHONPATH): writes the child mkdocs config of that revision's build
# (mkdocs.yml + the navigation its code generates, docs_dir moved) and prints its path.
# (No import statements in the script text: generator/common/imports.py scans this file's source for
# imports, and the script's are the side's, not this module's.)
_CHILD_CONFIG = r"""
json, sys, tempfile, importlib = map(__import__, ("json", "sys", "tempfile", "importlib"))
Path = __import__("pathlib").Path
parent, docs = Path(sys.argv[1]), sys.argv[2]
try:
    nav = importlib.import_module("generator.pipeline.nav")
except ImportError:  # before issue 13 mkdocs.yml held the navigation itself
    fd, name = tempfile.mkstemp(prefix=".bench-", suffix=".mkdocs.yml", dir=parent.parent)
    with open(fd, "w", encoding="utf-8") as fh:
        fh.write(f"INHERIT: {parent.name}\ndocs_dir: {json.dumps(docs)}\n")
    print(name)
else:
    print(nav.write_child_config(parent, {**nav.nav_settings(parent, nav.site_nav()), "docs_dir": docs}, ".bench-"))
"""


def bare_mkdocs(root: Path, docs: Path, out: Path, timer=timed) -> float:
    """Wall seconds of ``mkdocs build`` alone on ``docs`` with the site config of the code under ``root``."""
    env = dict(os.environ, PYTHONPATH=str(root), NO_MKDOCS_2_WARNING="1")
    made = subprocess.run(
        [sys.executable, "-c", _CHILD_CONFIG, str(root / "site" / "mkdocs.yml"), str(docs)],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    child = Path(made.stdout.strip().splitlines()[-1])
    try:
        wall, _ = timer([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(child), "-d", str(out)], root, env)
    finally:
        child.unlink(missing_ok=True)
    return wall


def floor(flops: dict[str, float], peak_gflops: float, cold_s: float, mkdocs_s: float) -> dict[str, float | None]:
    """The floor's numbers for one side: FLOPs (total and per kind), floor seconds and the ratio; no
    work reported gives floor and ratio None (no evidence of a floor is not a floor of zero)."""
    total = sum(flops.values())
    out: dict[str, float | None] = {"gemm_flops": total, **{f"gemm_flops_{k}": v for k, v in sorted(flops.items())}}
    out["gemm_floor_s"] = total / peak_gflops / 1e9 if total > 0 else None
    out["floor_ratio"] = None if out["gemm_floor_s"] is None else cold_s / (out["gemm_floor_s"] + mkdocs_s)
    return out


def time_stages(root: Path, conf: Path, timer=timed) -> dict[str, float]:
    """A cold build of ``conf`` stage by stage: ``stage_<s>_wall_s`` and ``stage_<s>_cpu_s`` per stage."""
    out = {}
    for stage in STAGES:
        out[f"stage_{stage}_wall_s"], out[f"stage_{stage}_cpu_s"] = _generator(root, stage, conf, timer)
    return out


def time_side(root: Path, config: Path, peak_gflops: float, stages: bool = False) -> dict[str, float | None]:
    """Every per-side number of one round for the code under ``root`` (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="initlab-bench-") as d:
        tmp = Path(d)
        conf = site_config(config, tmp)
        out: dict[str, float | None] = {}
        out["cold_s"], out["cold_cpu_s"] = _generator(root, "site", conf)
        out.update(weight_numbers(weigh(tmp / "public")))  # cheap: file sizes of the cold build's tree
        flops = cache_gemm_flops(tmp / "cache")  # before the warm and edit builds add anything
        out["bare_mkdocs_s"] = bare_mkdocs(root, tmp / "docs", tmp / "bare")
        out.update(floor(flops, peak_gflops, out["cold_s"], out["bare_mkdocs_s"]))
        out["warm_s"] = _generator(root, "site", conf)[0]
        if not edit_config(conf):
            raise SystemExit(f"bench: {config} has no [symmetry] 'learning_rate = 0.1' line to edit")
        out["edit_s"] = _generator(root, "site", conf)[0]
    if stages:
        with tempfile.TemporaryDirectory(prefix="initlab-stages-") as d:
            out.update(time_stages(root, site_config(config, Path(d))))
    return out


def side_config(config: str | Path, root: Path) -> Path:
    """The config file a side reads: a path inside this repository names that file in ``root`` (each
    side its own version); a path outside it is the same file for both."""
    path = Path(config) if Path(config).is_absolute() else ROOT / config
    try:
        path = root / path.resolve().relative_to(ROOT.resolve())
    except ValueError:
        pass
    if not path.is_file():
        raise SystemExit(f"bench: {path} does not exist in that tree")
    return path


def summarise(runs: dict[str, list[dict]]) -> tuple[dict, dict]:
    """(median per side and key over rounds, this / base per key); a key missing from a round, None in
    one, or zero in the base has no median or ratio (None)."""

    def med(rs, k):
        vals = [r.get(k) for r in rs]
        return None if any(v is None for v in vals) else statistics.median(vals)

    keys = list(dict.fromkeys(k for rs in runs.values() for r in rs for k in r))
    median = {side: {k: med(rs, k) for k in keys} for side, rs in runs.items()}
    b, t = median["base"], median["this"]
    ratio = {k: (t[k] / b[k] if b[k] and t[k] is not None else None) for k in keys}
    return median, ratio


def compare(base: str, config_name: str = "experiments.toml", rounds: int = 1, log=print, stages: bool = False) -> dict:
    from generator.config.load import load_config
    from generator.pipeline.bench_peak import gemm_peak

    rev = subprocess.run(
        ["git", "rev-parse", "--verify", f"{base}^{{commit}}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    p = load_config(side_config(config_name, ROOT), check_writable=False, check_memory=False).propagation
    log(f"bench: GEMM peak at {p.samples} x {p.width} ...")
    peak = gemm_peak(p.samples, p.width)
    runs: dict[str, list[dict]] = {"base": [], "this": []}
    with tempfile.TemporaryDirectory(prefix="initlab-base-") as d:
        tree = Path(d) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), rev], cwd=ROOT, check=True)
        try:
            for r in range(rounds):
                for side, root in (("base", tree), ("this", ROOT)):
                    log(f"bench: round {r + 1}/{rounds}, {side} ...")
                    runs[side].append(time_side(root, side_config(config_name, root), peak, stages))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    median, ratio = summarise(runs)
    res = {
        "base": rev,
        "rounds": rounds,
        "config": str(config_name),
        "stages": stages,
        "gemm_peak_gflops": peak,
        "gemm_shape": {"samples": p.samples, "width": p.width},
        "median": median,
        "runs": runs,
        "ratio": ratio,
    }
    atomic.write_text(BENCH_DIR / "compare.json", json.dumps(res, indent=2, sort_keys=True) + "\n")
    return res


_LABELS = {
    "cold_s": "cold site (s)",
    "gemm_floor_s": "GEMM floor (s)",
    "bare_mkdocs_s": "bare mkdocs (s)",
    "floor_ratio": "cold / (floor + bare mkdocs)",
    "cold_cpu_s": "cold site, core-seconds",
    "warm_s": "warm site (s)",
    "edit_s": "site after one edit (s)",
    "gemm_flops": "GEMM work (GFLOP)",
    **{
        f"weight_{k}_bytes": f"page weight, {k.replace('_', ' ')} (bytes)"
        for k in ("total", "ko", "en", "shared", "largest_page_ko", "largest_page_en")
    },
}


def _label(key: str) -> str:
    if key in _LABELS:
        return _LABELS[key]
    if key.startswith("gemm_flops_"):
        return f"GEMM work, {key[len('gemm_flops_') :]} (GFLOP)"
    m = re.fullmatch(r"stage_(\w+)_(wall|cpu)_s", key)
    if m:
        return f"stage {m[1]}, " + ("wall (s)" if m[2] == "wall" else "core-seconds")
    return key


def _cell(key: str, v: float | None) -> str:
    if v is None:
        return "—"
    if key.startswith("gemm_flops"):
        return f"{v / 1e9:.4g}"
    if key.startswith("weight_"):
        return f"{v:,.0f}"
    return f"{v:.3f}" if key == "floor_ratio" else f"{v:.2f}"


def table(res: dict) -> str:
    """Markdown table: the labelled numbers first (in :data:`_LABELS` order), then the rest as measured."""
    keys = [k for k in _LABELS if k in res["ratio"]] + [k for k in res["ratio"] if k not in _LABELS]
    rows = ["| | base " + res["base"][:10] + " | this tree | this / base |", "|---|---:|---:|---:|"]
    for k in keys:
        ratio, work = res["ratio"][k], k in WORK_KEYS or k.startswith("gemm_flops")
        flag = "" if ratio is None or work or ratio <= TOLERANCE else " (over +5 %)"
        base, this = (_cell(k, res["median"][side][k]) for side in ("base", "this"))
        rows.append(f"| {_label(k)} | {base} | {this} | {'—' if ratio is None else f'{ratio:.3f}{flag}'} |")
    if res.get("gemm_peak_gflops"):
        shape = res.get("gemm_shape", {})
        rows.append(
            f"\nGEMM peak {res['gemm_peak_gflops']:.1f} GFLOP/s at {shape.get('samples')} x "
            f"{shape.get('width')} (measured once, both sides' floors); medians of {res['rounds']} round(s)."
        )
    return "\n".join(rows)
