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
# # Xavier와 He 초기화 · Xavier (Glorot) and He (Kaiming) initialization
#
# This notebook re-runs the key figures of the Xavier and He pages on a small grid: the measured std of
# each layer's output (markers) next to the mean-field prediction (lines) for Xavier and He weights with
# tanh and ReLU. Xavier's variance 1/fan_in keeps tanh near its linear regime; ReLU zeroes half of its
# inputs, so it needs twice that variance (He, 2/fan_in) to keep the scale.
#
# Run it from a clone of the repository with the project installed (`pip install -e .`).

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from generator.engine import theory
from generator.engine.inits import get_init, weight_variance
from generator.experiments.propagation import run_propagation

# %% tags=["parameters"]
# The site measures 1000 samples x width 500 over ten seeds (experiments.toml); these sizes run in
# seconds. The tests set INITLAB_NOTEBOOK_SIZE=test (tiny sizes) and INITLAB_NOTEBOOK_OUT (a folder
# for the figure and the numbers).
TEST = os.environ.get("INITLAB_NOTEBOOK_SIZE") == "test"
SAMPLES, WIDTH, DEPTH = (64, 32, 4) if TEST else (500, 250, 10)
SEEDS = [0] if TEST else [0, 1, 2]
INITS = ["xavier", "he"]
ACTIVATIONS = ["tanh", "relu"]
OUT = os.environ.get("INITLAB_NOTEBOOK_OUT")

# %% [markdown]
# ## The variance each scheme promises
#
# An init is a sampler plus its variance formula. Drawing one matrix with an explicitly seeded generator
# shows the empirical variance next to the formula; `sigma_w^2 = fan_in * Var(W)` is what the theory uses.

# %%
rng = np.random.default_rng(0)
for init in INITS:
    w = get_init(init)(WIDTH, WIDTH, rng)
    var = weight_variance(init, WIDTH, WIDTH)
    print(f"{init:>6}: Var(W) formula {var:.4g}, sampled {w.var():.4g}, sigma_w^2 = {WIDTH * var:.3g}")


# %% [markdown]
# ## Measured against the mean-field theory
#
# `theory.mean_field` iterates `q_l = sigma_w^2 E[phi(sqrt(q_{l-1}) z)^2]` (the wide-network limit) and
# predicts the std of every layer's output; `run_propagation` measures it (mean over the seeds).


# %%
def measured_std(init, activation):
    runs = [
        run_propagation(
            init=init, activation=activation, norm="none", seed=s, samples=SAMPLES, width=WIDTH, depth=DEPTH
        )["layers"]["std"].to_numpy()
        for s in SEEDS
    ]
    return np.mean(runs, axis=0)


def predicted_std(init, activation):
    return theory.mean_field(activation, theory.sigma_w2(init, activation, WIDTH, WIDTH), DEPTH)["theory_std"]


measured = {(i, a): measured_std(i, a) for a in ACTIVATIONS for i in INITS}
predicted = {(i, a): predicted_std(i, a) for a in ACTIVATIONS for i in INITS}

# %%
fig, axes = plt.subplots(1, len(ACTIVATIONS), figsize=(10, 4), sharey=True)
layers = np.arange(1, DEPTH + 1)
for ax, act in zip(axes, ACTIVATIONS):
    for k, init in enumerate(INITS):
        color = f"C{k}"
        ax.plot(layers, predicted[init, act], color=color, label=f"{init} (theory)")
        ax.plot(layers, measured[init, act], "o", color=color, markerfacecolor="none", label=f"{init} (measured)")
    ax.set_yscale("log")
    ax.set_title(act)
    ax.set_xlabel("layer")
axes[0].set_ylabel("std of the layer output (log scale)")
axes[-1].legend()
fig.suptitle(f"Measured vs mean-field std per layer (width {WIDTH}, {len(SEEDS)} seed(s))")
plt.show()

# %% [markdown]
# With tanh both schemes keep a usable scale, Xavier's slowly shrinking (tanh squashes a little at each
# layer). With ReLU, Xavier halves the variance at every layer (the std falls by about 1/sqrt(2)), while
# He holds it constant. The pages show the same comparison for every registered init and activation.

# %%
results = {
    f"{act}/{init}": {"measured": float(measured[init, act][-1]), "theory": float(predicted[init, act][-1])}
    for act in ACTIVATIONS
    for init in INITS
}
print(json.dumps(results, indent=1))
if OUT:  # the figure and the last-layer numbers, for tests/test_notebooks.py
    Path(OUT).mkdir(parents=True, exist_ok=True)
    fig.savefig(Path(OUT) / "xavier_he.png")
    (Path(OUT) / "xavier_he.json").write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
