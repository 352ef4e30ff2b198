# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 배치 정규화 · Batch normalization
#
# This notebook re-runs the key figure of the batch normalization page on a small grid: the std of the
# last layer's output for each random initialization and activation, without normalization and with
# batch normalization (BN) before the activation. Without BN the init decides the scale (orders of
# magnitude apart); with BN every init lands at the same scale.
#
# Run it from a clone of the repository with the project installed (`pip install -e .`).

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from generator.engine import layers
from generator.experiments.propagation import run_propagation

# %% tags=["parameters"]
# The site measures 1000 samples x width 500 over ten seeds (experiments.toml); these sizes run in
# seconds. The tests set INITLAB_NOTEBOOK_SIZE=test (tiny sizes) and INITLAB_NOTEBOOK_OUT (a folder
# for the figure and the numbers).
TEST = os.environ.get("INITLAB_NOTEBOOK_SIZE") == "test"
SAMPLES, WIDTH, DEPTH = (64, 32, 4) if TEST else (500, 250, 10)
SEEDS = [0] if TEST else [0, 1, 2]
INITS = ["small", "large", "xavier", "he"]
ACTIVATIONS = ["tanh", "relu"]
NORMS = ["none", "bn"]
OUT = os.environ.get("INITLAB_NOTEBOOK_OUT")

# %% [markdown]
# ## What BN does to one batch
#
# In training mode BN standardizes every unit over the batch, then scales by gamma and shifts by beta
# (here 1 and 0, as in the experiment). Whatever the scale of the weights, the output of BN has
# mean 0 and std 1 per unit (slightly less when the batch variance is tiny next to the eps BN adds to
# it), so the next activation always sees inputs of the same size.

# %%
rng = np.random.default_rng(0)
for scale in (0.01, 1.0, 100.0):
    a = scale * rng.standard_normal((SAMPLES, WIDTH))
    out, _ = layers.batchnorm_forward(a, np.ones(WIDTH), np.zeros(WIDTH), {"mode": "train"})
    print(f"input std {a.std():9.4g} -> after BN: mean {out.mean():+.1e}, std {out.std():.4f}")


# %% [markdown]
# ## The last layer's std over the grid
#
# `run_propagation` is the site's experiment (`norm="bn"`: Linear -> BN -> activation at every layer).
# We take the std of the last layer's output, mean over the seeds.


# %%
def last_std(init, activation, norm):
    return float(
        np.mean(
            [
                run_propagation(
                    init=init, activation=activation, norm=norm, seed=s, samples=SAMPLES, width=WIDTH, depth=DEPTH
                )["layers"]["std"].iloc[-1]
                for s in SEEDS
            ]
        )
    )


last = {(norm, act, init): last_std(init, act, norm) for norm in NORMS for act in ACTIVATIONS for init in INITS}

# %%
fig, axes = plt.subplots(1, len(NORMS), figsize=(10, 4), sharey=True)
x = np.arange(len(ACTIVATIONS))
for ax, norm in zip(axes, NORMS):
    for k, init in enumerate(INITS):
        ax.plot(
            x + 0.12 * (k - 1.5), [last[norm, a, init] for a in ACTIVATIONS], "o", markerfacecolor="none", label=init
        )
    ax.set_xticks(x, ACTIVATIONS)
    ax.set_yscale("log")
    ax.set_title(f"norm = {norm}")
axes[0].set_ylabel(f"std at layer {DEPTH} (log scale)")
axes[-1].legend()
fig.suptitle(f"Last-layer std per init (width {WIDTH}, {len(SEEDS)} seed(s))")
plt.show()

# %% [markdown]
# The spread is the ratio of the largest to the smallest last-layer std across inits, per activation.
# Without BN it spans orders of magnitude; with BN it is close to 1: the init no longer sets the scale.

# %%
spread = {
    f"{norm}/{act}": max(last[norm, act, i] for i in INITS) / min(last[norm, act, i] for i in INITS)
    for norm in NORMS
    for act in ACTIVATIONS
}
results = {"last_std": {"/".join(k): v for k, v in last.items()}, "spread": spread}
print(json.dumps(spread, indent=1))
if OUT:  # the figure and the numbers, for tests/test_notebooks.py
    Path(OUT).mkdir(parents=True, exist_ok=True)
    fig.savefig(Path(OUT) / "batchnorm.png")
    (Path(OUT) / "batchnorm.json").write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
