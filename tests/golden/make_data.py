"""Write the golden pages' fixed synthetic dataset: ``tests/golden/data/`` (three contract CSVs + grid.json).

Run ONLY when the data contract changes (generator/contract/schema.py or grid.py), then regenerate the
golden pages (``make golden``) and review both diffs::

    python -m tests.golden.make_data

The values are closed forms, not engine runs, so the golden pages never depend on BLAS or libm bits:
every configuration's layer output std is ``c * q**l`` (l = 1..3), its gradient std ``g_L * b**(L - l)``,
with dyadic constants (exact in binary, so the seed means are exact too). The two seeds scale a
configuration by ``1 + 1/16`` and ``1 - 1/16``, except large + ReLU, whose seeds grow by 16 and 32 per
layer: seed 1 passes ``diverge_rms`` at layer 3 and is flagged diverged there, so the pages' DIVERGED
presentation is exercised. The verdicts this gives (index page): small -> vanishes, xavier and he ->
healthy, large + tanh -> saturates, large + ReLU -> explodes (diverged at layer 3).

Files are written through the contract's own writer (``schema.write_csv``: column check, 17-digit
floats) and read back with ``schema.read_csv`` (type check), so a contract change that this script
does not follow fails here, loudly.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from generator.contract import schema
from generator.contract.grid import GRID_FORMAT, read_grid, write_grid

DATA_DIR = Path(__file__).resolve().parent / "data"

DEPTH = 3
SEEDS = (0, 1)
INITS = ("small", "xavier", "he", "large")
ACTIVATIONS = ("tanh", "relu")
SAMPLES, WIDTH = 100, 50
DIVERGE_RMS = 10_000.0
UPSTREAM = 1 / 128  # gradient std at the last layer (dyadic, so every product below is exact)
SEED_SCALE = {0: 1 + 1 / 16, 1: 1 - 1 / 16}
W_NORM = {"small": 1 / 4, "xavier": 4.0, "he": 8.0, "large": 64.0}  # ||W|| per init (grad_w_ratio)
SIGMA_W2 = {"small": 1 / 64, "xavier": 1.0, "he": 2.0, "large": 16.0}

# (init, activation) -> c, q (forward: std_l = c q^l), b (backward: g_l = g_L b^(L-l)), saturated fraction
# of a tanh unit, chi1 (theory_fixed.csv; sqrt(chi1) = b except xavier + tanh, where it misses by 12.5 %).
CASES = {
    ("small", "tanh"): dict(c=1.0, q=1 / 4, b=1 / 4, sat=0.0, chi1=1 / 16),
    ("small", "relu"): dict(c=1.0, q=1 / 8, b=1 / 8, sat=None, chi1=1 / 64),
    ("xavier", "tanh"): dict(c=1.0, q=7 / 8, b=7 / 8, sat=1 / 64, chi1=1.0),
    ("xavier", "relu"): dict(c=1.0, q=5 / 8, b=5 / 8, sat=None, chi1=25 / 64),
    ("he", "tanh"): dict(c=1.0, q=31 / 32, b=31 / 32, sat=1 / 32, chi1=961 / 1024),
    ("he", "relu"): dict(c=3 / 4, q=1.0, b=1.0, sat=None, chi1=1.0),
    ("large", "tanh"): dict(c=31 / 32, q=1.0, b=1 / 4, sat=7 / 8, chi1=1 / 16),
    ("large", "relu"): dict(c=1.0, q=16.0, b=16.0, sat=None, chi1=256.0),
}


def _row(init: str, act: str, seed: int, layer: int) -> dict:
    k = CASES[(init, act)]
    relu = act == "relu"
    if (init, act) == ("large", "relu"):  # seeds differ in their growth; seed 1 diverges at layer 3
        q, scale = (16.0, 32.0)[seed], 1.0
    else:
        q, scale = k["q"], SEED_SCALE[seed]
    std = k["c"] * q**layer * scale
    grad = UPSTREAM * k["b"] ** (DEPTH - layer) * scale
    rms = (std * std + (std / 2) ** 2) ** 0.5 if relu else std
    return {
        "init": init,
        "activation": act,
        "norm": "none",
        "seed": seed,
        "layer": layer,
        "mean": std / 2 if relu else 0.0,
        "std": std,
        "min": 0.0 if relu else -2 * std,
        "max": 3 * std if relu else 2 * std,
        "saturated_frac": 0.5 if relu else k["sat"],
        "zero_frac": 0.5 if relu else 0.0,
        "preact_std": 2 * std if relu else (4.0 if init == "large" else std),
        "grad_h_std": grad,
        "grad_w_norm": 4 * grad,
        "grad_w_ratio": 4 * grad / W_NORM[init],
        "theory_std": k["c"] * k["q"] ** layer,
        "diverged": rms > DIVERGE_RMS,
    }


def propagation() -> pd.DataFrame:
    rows = [_row(i, a, s, layer) for i in INITS for a in ACTIVATIONS for s in SEEDS for layer in range(1, DEPTH + 1)]
    return pd.DataFrame(rows)


def theory_fixed() -> pd.DataFrame:
    rows = []
    for (init, act), k in CASES.items():
        chi1 = k["chi1"]
        explodes = (init, act) == ("large", "relu")
        regime = "explodes" if explodes else "ordered" if chi1 < 1 else "critical" if chi1 == 1 else "chaotic"
        q_star = float("inf") if explodes else (0.0 if act == "relu" or init == "small" else 1 / 2)
        rows.append(
            {
                "init": init,
                "activation": act,
                "sigma_w2": SIGMA_W2[init],
                "q1": SIGMA_W2[init],
                "q_star": q_star,
                "chi1": chi1,
                "dfdq": float("nan") if explodes else chi1 / 2,
                "growth": 16.0 if explodes else chi1 if q_star == 0.0 else 1.0,
                "fixed_point_stable": not explodes,
                "regime": regime,
            }
        )
    return pd.DataFrame(rows)


def theory() -> pd.DataFrame:
    """theory.csv: q^l = c^2 q^(2l) (the forward std squared) and chi = b^2 per layer (so the trajectory
    prediction of the backward factor is exactly b), theory_mean 0 and theory_std as in propagation.csv."""
    rows = []
    for (init, act), k in CASES.items():
        for layer in range(1, DEPTH + 1):
            std = k["c"] * k["q"] ** layer
            rows.append(
                {
                    "init": init,
                    "activation": act,
                    "layer": layer,
                    "q": std * std,
                    "chi": k["b"] ** 2,
                    "theory_mean": 0.0,
                    "theory_std": std,
                }
            )
    return pd.DataFrame(rows)


def grid_facts() -> dict:
    return {
        "format": GRID_FORMAT,
        "config_file": "make_data.py",
        "config_path": "tests/golden/make_data.py",
        "default_config": False,
        "sections": ["propagation", "symmetry", "theory"],
        "propagation": {
            "samples": SAMPLES,
            "width": WIDTH,
            "depth": DEPTH,
            "dtype": "float64",
            "inits": list(INITS),
            "activations": list(ACTIVATIONS),
            "norms": ["none"],
            "seeds": list(SEEDS),
            "hist_bins": 20,
            "diverge_rms": DIVERGE_RMS,
        },
        "symmetry": {
            "inits": ["zeros", "constant", "xavier"],
            "constant": 0.1,
            "activation": "tanh",
            "samples": 32,
            "width": 8,
            "depth": 3,
            "learning_rate": 0.1,
            "seed": 0,
        },
        "theory": {"quadrature_points": 64},
        "training": {},
        "trainability": {},
        "seed_code": {"samples": 1000, "width": 500, "depth": 10},
        "placement": {"activations": [], "inits": [], "seeds": [0], "from_grid": False},
    }


def main() -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for name, frame in (
        ("propagation.csv", propagation()),
        ("theory_fixed.csv", theory_fixed()),
        ("theory.csv", theory()),
    ):
        schema.write_csv(name, frame, DATA_DIR)
        schema.read_csv(name, DATA_DIR)  # the contract's type check
    write_grid(DATA_DIR, grid_facts())
    read_grid(DATA_DIR)
    print(f"wrote {DATA_DIR}: " + ", ".join(sorted(p.name for p in DATA_DIR.iterdir())))


if __name__ == "__main__":
    main()
