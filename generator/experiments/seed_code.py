"""The seed's printed numbers, as quotation data, and a faithful re-run of the seed's code.

Source: choidam, "[Deep Learning] Training NeuralNetwork(2) : Weight Initialization, Batch
Normalization", blog 개발아 담하자, 2020-05-26 (a study note on CS231n lecture 6).

``reference/seed_printouts.csv`` holds the three printouts the note shows (``case, layer, mean, std``;
layer 0 is the input). It is produced by :func:`parse_printouts` from the note's text (run
``python -m generator.experiments.seed_code PATH`` to regenerate it); tests re-parse the note when it is
available beside the repository. We keep only the numbers, not the note's prose or code.

:func:`run_seed_code` re-runs each snippet of the note as written (``np.random.randn`` replaced by an
explicit seeded Generator, Python 2 prints aside), including the He line exactly as printed
(``/ np.sqrt(2/fan_in)``) and the corrected form (``* np.sqrt(2/fan_in)``), so the site can set the
printed numbers next to what that code actually produces.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from generator.common.paths import PRINTOUTS_CSV, SEED_TEXT
from generator.contract.seed_cases import PRINTED_CASES, SEED_CASES, SEED_SIZES

# Each snippet's weight scale as a function of fan-in, as in the note's code; the names, activations
# and code lines are data in generator/contract/seed_cases.py.
SCALES = {
    "small_tanh": lambda fan_in: 0.01,
    "large_tanh": lambda fan_in: 1.0,
    "xavier_tanh": lambda fan_in: 1 / np.sqrt(fan_in),
    "xavier_relu": lambda fan_in: 1 / np.sqrt(fan_in),
    "he_relu_as_printed": lambda fan_in: 1 / np.sqrt(2 / fan_in),
    "he_relu_corrected": lambda fan_in: np.sqrt(2 / fan_in),
}

_LINE = re.compile(r"(input layer|hidden layer (\d+)) had mean (\S+) and std (\S+)")


def parse_printouts(text: str) -> pd.DataFrame:
    """Every 'input layer … / hidden layer i had mean m and std s' line, grouped into the printouts."""
    rows, case_index = [], -1
    for m in _LINE.finditer(text):
        if m.group(1) == "input layer":
            case_index += 1
            layer = 0
        else:
            layer = int(m.group(2))
        rows.append(
            {"case": PRINTED_CASES[case_index], "layer": layer, "mean": float(m.group(3)), "std": float(m.group(4))}
        )
    return pd.DataFrame(rows, columns=["case", "layer", "mean", "std"])


def load_printouts() -> pd.DataFrame:
    return pd.read_csv(PRINTOUTS_CSV)


def run_seed_code(
    case: str,
    seed: int,
    samples: int = SEED_SIZES["samples"],
    width: int = SEED_SIZES["width"],
    depth: int = SEED_SIZES["depth"],
) -> pd.DataFrame:
    """Re-run one snippet of the note; rows ``layer, mean, std`` with layer 0 the input."""
    (act_name, _), scale = SEED_CASES[case], SCALES[case]
    act = {"tanh": np.tanh, "relu": lambda x: np.maximum(0, x)}[act_name]
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((samples, width))
    rows = [{"layer": 0, "mean": float(h.mean()), "std": float(h.std())}]
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in range(1, depth + 1):
            w = rng.standard_normal((h.shape[1], width)) * scale(h.shape[1])
            h = act(h @ w)
            rows.append({"layer": layer, "mean": float(h.mean()), "std": float(h.std())})
    return pd.DataFrame(rows)


def seed_code_task(case: str, seed: int, **sizes) -> dict[str, pd.DataFrame]:
    """Runner task ``seed_code``: :func:`run_seed_code` as ``{"result": rows, "work": GEMM FLOPs}``.

    The FLOPs (one (samples, width) x (width, width) product per layer) are part of the build's
    matrix-multiply floor that ``make bench`` reports."""
    df = run_seed_code(case, seed, **sizes)
    p = inspect.signature(run_seed_code).parameters
    n, w, d = (sizes.get(k, p[k].default) for k in ("samples", "width", "depth"))
    return {"result": df, "work": pd.DataFrame({"gemm_flops": [2.0 * n * w * w * d]})}


def seed_code_tasks(seeds=(0, 1, 2), **sizes) -> list[dict]:
    """The params of every (case, seed) re-run, in the order of :func:`seed_code_frame`."""
    return [dict(case=case, seed=seed, **sizes) for case in SEED_CASES for seed in seeds]


def seed_code_assemble(tasks: list[dict], frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Tidy ``case, seed, layer, mean, std`` from :func:`seed_code_tasks` and their results."""
    parts = []
    for t, df in zip(tasks, frames):
        df = df.copy()
        df.insert(0, "seed", t["seed"])
        df.insert(0, "case", t["case"])
        parts.append(df)
    return pd.concat(parts, ignore_index=True)


def seed_code_frame(seeds=(0, 1, 2), **sizes) -> pd.DataFrame:
    """All cases × seeds, tidy: ``case, seed, layer, mean, std`` (computed here, in order)."""
    tasks = seed_code_tasks(seeds, **sizes)
    return seed_code_assemble(tasks, [run_seed_code(**t) for t in tasks])


if __name__ == "__main__":  # regenerate reference/seed_printouts.csv from the note's text
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else SEED_TEXT
    df = parse_printouts(src.read_text(encoding="utf-8"))
    PRINTOUTS_CSV.parent.mkdir(exist_ok=True)
    df.to_csv(PRINTOUTS_CSV, index=False, float_format="%.17g", lineterminator="\n")
    print(f"wrote {len(df)} rows to {PRINTOUTS_CSV}")
