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
# # 그래디언트 흐름 · Gradient flow
#
# This notebook re-runs the key figure of the gradients page on a small grid: the std of the gradient
# dL/dH_l backpropagated to each layer, for three initializations with tanh and ReLU, without
# normalization (solid) and with batch normalization (dashed). A gradient that shrinks by a constant
# factor per layer vanishes exponentially with depth; one that grows explodes.
#
# Run it from a clone of the repository with the project installed (`pip install -e .`).

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from generator.engine import theory
from generator.experiments.propagation import run_propagation

# %% tags=["parameters"]
# The site measures 1000 samples x width 500 over ten seeds (experiments.toml); these sizes run in
# seconds. The tests set INITLAB_NOTEBOOK_SIZE=test (tiny sizes) and INITLAB_NOTEBOOK_OUT (a folder
# for the figure and the numbers).
TEST = os.environ.get("INITLAB_NOTEBOOK_SIZE") == "test"
SAMPLES, WIDTH, DEPTH = (64, 32, 4) if TEST else (500, 250, 10)
SEEDS = [0] if TEST else [0, 1, 2]
INITS = ["small", "xavier", "he"]
ACTIVATIONS = ["tanh", "relu"]
NORMS = ["none", "bn"]
OUT = os.environ.get("INITLAB_NOTEBOOK_OUT")


# %% [markdown]
# ## Backward through the network
#
# `run_propagation` starts backward from L = sum(H_L * G) / N with a fixed random G (drawn from the seed,
# the same for every init), and records per layer the std of dL/dH_l (`grad_h_std`). Layer 1 is the
# farthest from the loss: that is where a vanishing gradient shows first.


# %%
def grad_std(init, activation, norm):
    """Per-layer std of dL/dH_l, mean over SEEDS."""
    runs = [
        run_propagation(init=init, activation=activation, norm=norm, seed=s, samples=SAMPLES, width=WIDTH, depth=DEPTH)[
            "layers"
        ]["grad_h_std"].to_numpy()
        for s in SEEDS
    ]
    return np.mean(runs, axis=0)


grads = {(norm, act, init): grad_std(init, act, norm) for norm in NORMS for act in ACTIVATIONS for init in INITS}

# %%
fig, axes = plt.subplots(1, len(ACTIVATIONS), figsize=(10, 4), sharey=True)
layers = np.arange(1, DEPTH + 1)
for ax, act in zip(axes, ACTIVATIONS):
    for k, init in enumerate(INITS):
        for norm, style in zip(NORMS, ("-", "--")):
            ax.plot(layers, grads[norm, act, init], style, marker="o", color=f"C{k}", label=f"{init}, {norm}")
    ax.set_yscale("log")
    ax.set_title(act)
    ax.set_xlabel("layer")
axes[0].set_ylabel("std of dL/dH (log scale)")
axes[-1].legend(fontsize="small")
fig.suptitle(f"Backpropagated gradient std per layer (width {WIDTH}, {len(SEEDS)} seed(s))")
plt.show()


# %% [markdown]
# ## The per-layer factor with BN
#
# With BN in front of the activation, the mean-field theory predicts the same per-layer gradient factor
# for every init (`theory.bn_gradient_factor`). The measured factor is the geometric mean of the
# layer-to-layer ratios, from the last layer back to the first.


# %%
def measured_factor(g):
    return float((g[0] / g[-1]) ** (1 / (len(g) - 1)))


factors = {"/".join(k): measured_factor(g) for k, g in grads.items()}
for act in ACTIVATIONS:
    print(
        f"{act}: BN theory factor {theory.bn_gradient_factor(act):.3f}, measured with BN "
        + ", ".join(f"{init} {factors[f'bn/{act}/{init}']:.3f}" for init in INITS)
    )

# %% [markdown]
# Small weights make the gradient vanish at once; with tanh, Xavier keeps it at a usable scale and with
# ReLU, He does. With BN every init gives about the same per-layer factor: the gradient no longer depends
# on the scale of the weights, though it still grows slowly with depth.

# %%
results = {"first_layer_grad_std": {"/".join(k): float(g[0]) for k, g in grads.items()}, "factor": factors}
print(json.dumps(results["first_layer_grad_std"], indent=1))
if OUT:  # the figure and the numbers, for tests/test_notebooks.py
    Path(OUT).mkdir(parents=True, exist_ok=True)
    fig.savefig(Path(OUT) / "gradients.png")
    (Path(OUT) / "gradients.json").write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
