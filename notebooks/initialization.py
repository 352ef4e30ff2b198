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
# # 초기화가 중요한 이유 · Why initialization matters
#
# This notebook re-runs the key figure of the page "Why initialization matters" on a small grid:
# the standard deviation of each layer's output for four weight initializations (small, large, Xavier,
# He) with tanh and ReLU. It imports the same engine that computes the site's numbers, so what you
# change here (sizes, seeds, another init) is measured exactly as the site measures it.
#
# Run it from a clone of the repository with the project installed (`pip install -e .`).

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from generator.engine.activations import get_activation
from generator.engine.inits import get_init, weight_variance
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
OUT = os.environ.get("INITLAB_NOTEBOOK_OUT")


# %% [markdown]
# ## The experiment in five lines
#
# A standard normal input `X` of shape (samples, width) goes through `DEPTH` layers `H = phi(H @ W)`
# with no bias. Every random number comes from one generator created from a seed and passed explicitly,
# so the same seed gives the same numbers on every machine.


# %%
def layer_stds(init, activation, rng):
    """Std of each layer's output for one draw of X and the weights (all from ``rng``)."""
    phi = get_activation(activation).forward
    h = rng.standard_normal((SAMPLES, WIDTH))
    stds = []
    for _ in range(DEPTH):
        h = phi(h @ get_init(init)(WIDTH, WIDTH, rng))
        stds.append(float(h.std()))
    return stds


for init in INITS:
    stds = layer_stds(init, "tanh", np.random.default_rng(0))
    print(
        f"{init:>7}: Var(W) = {weight_variance(init, WIDTH, WIDTH):.3g}, tanh std per layer "
        + " ".join(f"{s:.3g}" for s in stds)
    )


# %% [markdown]
# ## The measured grid
#
# `run_propagation` is the site's experiment: the same network, plus backward statistics and
# histograms. Its input and weight streams come from `SeedSequence(seed)`, so every init and activation
# sees the same input for one seed (paired comparisons). We average the per-layer std over the seeds.


# %%
def mean_std(init, activation, norm="none"):
    """Per-layer output std, mean over SEEDS, as the site's experiment measures it."""
    runs = [
        run_propagation(init=init, activation=activation, norm=norm, seed=s, samples=SAMPLES, width=WIDTH, depth=DEPTH)[
            "layers"
        ]["std"].to_numpy()
        for s in SEEDS
    ]
    return np.mean(runs, axis=0)


stds = {(init, act): mean_std(init, act) for act in ACTIVATIONS for init in INITS}

# %%
fig, axes = plt.subplots(1, len(ACTIVATIONS), figsize=(10, 4), sharey=True)
layers = np.arange(1, DEPTH + 1)
for ax, act in zip(axes, ACTIVATIONS):
    for init in INITS:
        ax.plot(layers, stds[init, act], marker="o", label=init)
    ax.set_yscale("log")
    ax.set_title(act)
    ax.set_xlabel("layer")
axes[0].set_ylabel("std of the layer output (log scale)")
axes[-1].legend()
fig.suptitle(f"Output std per layer (width {WIDTH}, {len(SEEDS)} seed(s))")
plt.show()

# %% [markdown]
# Small weights shrink the signal by about the same factor at every layer; large ones saturate tanh
# (std near 1, gradients near 0) and blow ReLU up; Xavier keeps tanh and He keeps ReLU at a steady scale.
# The page's figure shows the same curves for the full grid, with a band over ten seeds.

# %%
results = {f"{act}/{init}": float(stds[init, act][-1]) for act in ACTIVATIONS for init in INITS}
print(json.dumps(results, indent=1))
if OUT:  # the figure and the last-layer numbers, for tests/test_notebooks.py
    Path(OUT).mkdir(parents=True, exist_ok=True)
    fig.savefig(Path(OUT) / "initialization.png")
    (Path(OUT) / "initialization.json").write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
