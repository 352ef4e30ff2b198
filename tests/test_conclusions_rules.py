"""The "use Xavier for sigmoid/tanh" verdict needs the gradient to reach layer 1, not only a healthy forward."""

from __future__ import annotations

import numpy as np
import pandas as pd

from generator.analysis.claims import Runs, judge_xavier_tanh


def synthetic(grad_factor: dict) -> pd.DataFrame:
    """Xavier rows for sigmoid and tanh: flat forward std; the gradient std shrinks by grad_factor[act]
    per layer on the way back to layer 1."""
    rows = []
    depth = 6
    for act, f in grad_factor.items():
        for seed, layer in ((s, l) for s in range(4) for l in range(1, depth + 1)):
            rows.append(
                dict(
                    init="xavier",
                    activation=act,
                    norm="none",
                    seed=seed,
                    layer=layer,
                    mean=0.0,
                    std=0.5,
                    saturated_frac=0.0,
                    grad_w_ratio=0.1,
                    grad_h_std=1e-3 * f ** (depth - layer),
                    diverged=False,
                )
            )
    return pd.DataFrame(rows)


def test_vanishing_backward_makes_it_partly():
    prop = synthetic({"sigmoid": 0.25, "tanh": 1.0})  # sigmoid: 0.25^5 ~ 1e-3 of the output gradient
    j = judge_xavier_tanh(Runs(prop), ("sigmoid", "tanh"))
    assert j["verdict"] == "partly" and j["parts"] == {"sigmoid": "does_not_hold", "tanh": "holds"}
    assert j["values"]["sigmoid"]["n_ok"] == 0 and j["values"]["tanh"]["n_ok"] == 4
    assert np.isclose(j["values"]["sigmoid"]["gradflow"]["gm"], 0.25**5)


def test_both_flowing_holds():
    j = judge_xavier_tanh(Runs(synthetic({"sigmoid": 0.9, "tanh": 1.0})), ("sigmoid", "tanh"))
    assert j["verdict"] == "holds"
