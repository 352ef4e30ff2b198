"""Issue 17 item 3: the trainability experiment (config, bias init, task, stage, contract, analysis)."""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pandas as pd
import pytest

from generator.analysis import trainability as an
from generator.common.errors import ConfigError
from generator.common.paths import ROOT
from generator.config import load as gconfig
from generator.config.trainability import TrainabilityConfig
from generator.contract import schema as contract
from generator.contract.trainability import TRAINABILITY
from generator.engine import phase
from generator.engine.mlp import MLP
from generator.experiments.trainability_run import trainability_run
from generator.pipeline.runner import SerialExecutor
from tests.gradcheck import numerical_gradient, rel_error

# --- config -----------------------------------------------------------------------------------------


def test_default_grid_straddles_the_critical_point_and_has_a_seed_interval():
    t = TrainabilityConfig()
    crit = phase.sigma_w2_critical(t.activation, t.sigma_b2)
    w = t.sigma_w2s
    assert len(w) == t.sigma_w2_points and w[0] == t.sigma_w2_min and w[-1] == t.sigma_w2_max
    assert np.allclose(np.diff(w), np.diff(w)[0])  # linear
    assert w[0] < crit < w[-1]
    assert any(v < crit for v in w[1:]) and any(v > crit for v in w[:-1])  # more than the two ends each side
    assert len(t.seeds) >= 2
    # deep enough that both sides reach past 6 xi_c at the grid's ends
    assert max(t.depths) > an.DEPTH_FACTOR * phase.phase_point(t.activation, w[0], t.sigma_b2)["xi_c"]
    assert max(t.depths) > an.DEPTH_FACTOR * phase.phase_point(t.activation, w[-1], t.sigma_b2)["xi_c"]


def test_experiments_toml_spells_out_the_defaults():
    raw = tomllib.loads((ROOT / "experiments.toml").read_text())
    assert gconfig.build_section("trainability", raw["trainability"]) == TrainabilityConfig()


@pytest.mark.parametrize(
    "table,field,needle",
    [
        ({"activation": "swish"}, "trainability.activation", "valid: "),
        ({"sigma_b2": -0.1}, "trainability.sigma_b2", ">= 0"),
        ({"sigma_w2_min": 3.0, "sigma_w2_max": 2.0}, "trainability.sigma_w2_max", "must be > sigma_w2_min"),
        ({"sigma_w2_points": 1}, "trainability.sigma_w2_points", ">= 2"),
        ({"seeds": [0]}, "trainability.seeds", "at least 2 seeds"),
        ({"seeds": [0, 0]}, "trainability.seeds", "duplicate"),
        ({"depths": []}, "trainability.depths", "empty"),
        ({"learning_rate": 0.0}, "trainability.learning_rate", "> 0"),
        ({"stepz": 3}, "trainability.stepz", "unknown key; valid: activation"),
    ],
)
def test_bad_trainability_config_names_the_field(table, field, needle):
    with pytest.raises(ConfigError) as exc:
        gconfig.build_section("trainability", table)
    msg = str(exc.value)
    assert msg.startswith(f"config error: {field}: ") and needle in msg


def test_activation_error_lists_the_choices():
    with pytest.raises(ConfigError) as exc:
        gconfig.build_section("trainability", {"activation": "swish"})
    assert "tanh" in str(exc.value) and "relu" in str(exc.value)


def test_small_config_has_a_tiny_trainability_section():
    raw = tomllib.loads((ROOT / "configs" / "small.toml").read_text())
    t = gconfig.parse_config(raw).trainability
    assert "trainability" in raw
    assert len(t.sigma_w2s) * len(t.depths) * max(t.depths) < len(TrainabilityConfig().sigma_w2s) * 80
    assert t.sigma_w2s[0] < phase.sigma_w2_critical(t.activation, t.sigma_b2) < t.sigma_w2s[-1]


# --- the network's initial draws -------------------------------------------------------------------


def test_bias_and_weight_init_statistics():
    """W ~ N(0, s2 / fan_in) in every layer and b ~ N(0, b2) in every hidden layer (the task's recipe)."""
    s2, b2, width, depth = 2.5, 0.05, 400, 3
    m = MLP(64, depth, width, "tanh", "xavier", np.random.default_rng(0), math.sqrt(s2), bias_var=b2)
    for l in range(1, depth + 2):
        w = m.params[f"W{l}"]
        # relative sd of a sample variance of n normals is sqrt(2 / n): allow 5 of them
        assert abs(w.var() * w.shape[0] / s2 - 1) < 5 * math.sqrt(2 / w.size), l
        assert abs(w.mean()) < 5 * math.sqrt(s2 / w.shape[0] / w.size)
    b = np.concatenate([m.params[f"b{l}"] for l in range(1, depth + 1)])
    assert abs(b.var() / b2 - 1) < 5 * math.sqrt(2 / b.size)
    assert abs(b.mean()) < 5 * math.sqrt(b2 / b.size)
    assert not m.params[f"b{depth + 1}"].any()  # the output layer's bias stays zero


def test_zero_bias_variance_draws_nothing_and_biases_never_move_the_weights():
    make = lambda **kw: MLP(8, 3, 5, "tanh", "xavier", np.random.default_rng(7), 1.3, **kw)  # noqa: E731
    plain, zero, biased = make(), make(bias_var=0.0), make(bias_var=0.5)
    for k, v in plain.params.items():
        assert np.array_equal(v, zero.params[k]), k  # bit-identical: the old behaviour
        if k.startswith("W"):
            assert np.array_equal(v, biased.params[k]), k
    assert all(biased.params[f"b{l}"].any() for l in (1, 2, 3))
    with pytest.raises(ValueError, match="norm='none'"):
        MLP(8, 3, 5, "tanh", "xavier", np.random.default_rng(7), bias_var=0.5, norm="bn")
    with pytest.raises(ValueError, match="bias_var"):
        MLP(8, 3, 5, "tanh", "xavier", np.random.default_rng(7), bias_var=-1.0)


def test_gradients_with_drawn_biases():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((6, 5)), rng.integers(0, 10, size=6)
    m = MLP(5, 2, 4, "tanh", "xavier", rng, math.sqrt(2.0), bias_var=0.3)
    _, grads = m.loss(x, y)
    for k, p in m.params.items():
        num = numerical_gradient(lambda _: m.loss(x, y)[0], p)
        assert rel_error(grads[k], num) < 1e-6, k


# --- the task ---------------------------------------------------------------------------------------

TASK = dict(activation="tanh", sigma_b2=0.05, width=16, batch_size=32, learning_rate=0.01, seeds=[0, 1])


def test_task_is_deterministic_and_returns_one_row_per_seed():
    a = trainability_run(sigma_w2=1.5, depth=3, steps=20, **TASK)
    b = trainability_run(sigma_w2=1.5, depth=3, steps=20, **TASK)
    pd.testing.assert_frame_equal(a["trainability"], b["trainability"])
    assert list(a["trainability"].columns) == ["seed", "accuracy", "diverged"]
    assert a["trainability"]["seed"].tolist() == [0, 1]


def test_shallow_cell_trains_and_deep_ordered_cell_stays_at_chance():
    # the same recipe for both cells; a larger step than the default so 150 steps suffice at width 16
    task = {**TASK, "learning_rate": 0.05}
    shallow = trainability_run(sigma_w2=1.5, depth=2, steps=150, **task)["trainability"]["accuracy"]
    deep = trainability_run(sigma_w2=1.0, depth=40, steps=150, **task)["trainability"]["accuracy"]
    six_xi = an.DEPTH_FACTOR * phase.phase_point("tanh", 1.0, 0.05)["xi_c"]
    assert 40 > six_xi  # the deep cell is beyond 6 xi_c: strongly ordered
    assert (shallow > 0.7).all(), shallow.tolist()  # 7x chance
    assert (deep < an.CHANCE + an.MARGIN).all(), deep.tolist()


# --- the stage and the contract ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_stage(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("trainability")
    raw = tomllib.loads((ROOT / "configs" / "small.toml").read_text())
    raw["output"] = {k: str(tmp / k) for k in ("docs_dir", "public_dir", "cache_dir")}
    return gconfig.parse_config(raw), tmp


def test_stage_output_follows_the_contract_and_a_second_run_is_skipped(small_stage, capsys):
    from generator.pipeline import trainability_stage as stage

    cfg, tmp = small_stage
    finish = stage.start_trainability(cfg, True, SerialExecutor())
    assert finish is not None
    stats = finish()
    assert stats[0].computed == len(cfg.trainability.sigma_w2s) * len(cfg.trainability.depths)
    data = tmp / "docs_dir" / "data"
    df = contract.read_csv(TRAINABILITY.name, data)
    assert (
        list(df.columns)
        == TRAINABILITY.column_names
        == [
            "activation",
            "sigma_w2",
            "sigma_b2",
            "depth",
            "seed",
            "accuracy",
        ]
    )
    t = cfg.trainability
    assert len(df) == len(t.sigma_w2s) * len(t.depths) * len(t.seeds)
    assert sorted(df["sigma_w2"].unique()) == t.sigma_w2s and sorted(df["depth"].unique()) == sorted(t.depths)
    assert (df["activation"] == t.activation).all() and (df["sigma_b2"] == t.sigma_b2).all()
    assert df["accuracy"].between(0, 1).all()
    assert (data / stage.MANIFEST).is_file()
    first = (data / TRAINABILITY.name).read_bytes()
    assert stage.start_trainability(cfg, False, SerialExecutor()) is None  # current: nothing queued
    assert "trainability: inputs unchanged" in capsys.readouterr().err
    (data / stage.MANIFEST).unlink()  # forces a rerun: every task from the cache, same bytes
    again = stage.start_trainability(cfg, True, SerialExecutor())()
    assert again[0].hits == again[0].total and (data / TRAINABILITY.name).read_bytes() == first


def test_trainability_file_is_in_the_data_dictionary():
    assert contract.DATA_FILES[TRAINABILITY.name] is TRAINABILITY
    assert all(c.ko and c.en and c.ko != c.en for c in TRAINABILITY.columns)


# --- analysis -----------------------------------------------------------------------------------------


def test_xi_c_curve_equals_the_engine():
    w = [1.0, 1.5, 1.76, 2.5, 4.0]
    curve = an.xi_c_curve("tanh", 0.05, w)
    assert curve["sigma_w2"].tolist() == w
    for s2, xi, six in curve[["sigma_w2", "xi_c", "six_xi_c"]].itertuples(index=False):
        assert xi == phase.phase_point("tanh", s2, 0.05, points=an.QUAD_POINTS)["xi_c"]
        assert xi == pytest.approx(phase.phase_point("tanh", s2, 0.05, points=96)["xi_c"], rel=1e-9)
        assert six == an.DEPTH_FACTOR * xi
    # xi_c peaks at the critical point and falls off on both sides
    assert curve["xi_c"].idxmax() == 2


def test_cell_status_rule():
    th = an.CHANCE + an.MARGIN
    assert an.cell_status(th + 0.01, 0.9, 3, 0) == "trained"
    assert an.cell_status(0.05, th - 0.01, 3, 0) == "untrained"
    assert an.cell_status(th - 0.01, th + 0.01, 3, 0) == "inconclusive"
    assert an.cell_status(math.nan, math.nan, 1, 0) == "inconclusive"
    assert an.cell_status(math.nan, math.nan, 0, 2) == "untrained"  # every seed diverged


def _frame(rows):
    return pd.DataFrame(rows, columns=TRAINABILITY.column_names)


def test_accuracy_grid_and_summary_on_known_cells():
    # sigma_w2 = 1.0: xi_c ~ 3.6, so depth 5 is within 6 xi_c and depth 60 beyond
    rows = [("tanh", 1.0, 0.05, 5, s, a) for s, a in ((0, 0.9), (1, 0.92), (2, 0.88))]
    rows += [("tanh", 1.0, 0.05, 60, s, a) for s, a in ((0, 0.1), (1, 0.1), (2, 0.11))]
    grid = an.accuracy_grid(_frame(rows))
    assert grid["depth"].tolist() == [5, 60]
    assert grid["mean"].iloc[0] == pytest.approx(0.9) and grid["lo"].iloc[0] < 0.9 < grid["hi"].iloc[0]
    assert grid["side"].tolist() == ["within", "beyond"] and grid["status"].tolist() == ["trained", "untrained"]
    s = an.trainability_summary(grid)
    assert s["verdict"] == "holds" and s["within_share_trained"] == 1.0 and s["beyond_trained"] == 0
    b = an.boundary(grid)
    assert b["deepest_trained"].tolist() == [5.0] and b["shallowest_untrained"].tolist() == [60.0]
    # a deep cell that trains contradicts the claim
    rows[3:] = [("tanh", 1.0, 0.05, 60, s, a) for s, a in ((0, 0.8), (1, 0.85), (2, 0.82))]
    s = an.trainability_summary(an.accuracy_grid(_frame(rows)))
    assert s["verdict_beyond_untrained"] == "does_not_hold" and s["verdict"] == "partly"


def test_diverged_seeds_are_counted_not_averaged():
    rows = [("tanh", 4.0, 0.05, 5, 0, math.nan), ("tanh", 4.0, 0.05, 5, 1, math.nan)]
    grid = an.accuracy_grid(_frame(rows))
    assert grid["n_diverged"].tolist() == [2] and math.isnan(grid["mean"].iloc[0])
    assert grid["status"].tolist() == ["untrained"]


def test_cells_without_a_depth_scale_count_on_neither_side():
    # ReLU with a bias: past sigma_w2 = 2 the variance map has no fixed point (explodes), xi_c is undefined
    assert math.isnan(phase.phase_point("relu", 3.0, 0.05)["xi_c"])
    rows = [("relu", 3.0, 0.05, 5, s, a) for s, a in ((0, 0.9), (1, 0.91))]
    grid = an.accuracy_grid(_frame(rows))
    assert grid["side"].tolist() == ["undefined"]
    s = an.trainability_summary(grid)
    assert s["within_cells"] == s["beyond_cells"] == 0 and s["verdict"] == "inconclusive"
