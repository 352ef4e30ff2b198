"""The runner task ``trainability``: one (activation, sigma_w^2, sigma_b^2, depth) cell trained on digits for
several seeds at once; returns each seed's validation accuracy.

Contract: :func:`trainability_run` ``(**params) -> {"trainability": DataFrame(seed, accuracy, diverged),
"work": DataFrame(seed, gemm_flops)}``. It is :func:`generator.experiments.training_run.train_run` (the
training engine: stacked seeds, each seed's numbers the same as alone, single-threaded BLAS) with the
mean-field network of Schoenholz et al. (2017): W ~ N(0, sigma_w^2 / fan_in) in every layer (``xavier``,
i.e. N(0, 1/fan_in), scaled by sqrt(sigma_w^2)), b ~ N(0, sigma_b^2) in every hidden layer (drawn after
the weights), no normalization, no dropout, plain minibatch SGD (no momentum) on standardized digits for
``steps`` steps. ``accuracy`` is the final validation accuracy in test mode; NaN when the run diverged
(non-finite loss or parameters), with ``diverged`` true.
"""

from __future__ import annotations

import math

import pandas as pd

from generator.experiments.training_run import train_run


def trainability_run(
    *,
    activation,
    sigma_w2,
    sigma_b2,
    depth,
    width,
    steps,
    batch_size,
    learning_rate,
    seeds,
    split_seed=0,
    val_fraction=0.2,
):
    out = train_run(
        depth=depth,
        width=width,
        activation=activation,
        init="xavier",
        init_scale=math.sqrt(sigma_w2),
        bias_var=sigma_b2,
        seeds=list(seeds),
        learning_rate=learning_rate,
        momentum=0.0,
        batch_size=batch_size,
        steps=steps,
        eval_every=steps,  # only the final accuracy is kept: no evaluations in between
        split_seed=split_seed,
        val_fraction=val_fraction,
        preprocess="standardize",
    )
    s = out["summary"]
    frame = pd.DataFrame({"seed": s["seed"], "accuracy": s["val_acc"], "diverged": s["diverged"]})
    return {"trainability": frame.reset_index(drop=True), "work": out["work"]}
