"""Training stage: gradients, data split, preprocessing, BN modes, verdict rules, smoke run, determinism."""

from __future__ import annotations

import dataclasses
import math
import tomllib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from generator.analysis import training as claims
from generator.common.paths import ROOT
from generator.config import load as gconfig
from generator.config.load import ConfigError
from generator.config.training import TrainingConfig
from generator.contract import schema as contract
from generator.engine import digits as data
from generator.engine.mlp import MLP, softmax_loss
from generator.pages import training as training_page
from generator.pipeline.store import Cache
from generator.render import strings

# --- gradient check ---------------------------------------------------------------------------


def _num_grad(f, arr, h=1e-6):
    g = np.zeros_like(arr)
    it = np.nditer(arr, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = arr[i]
        arr[i] = old + h
        fp = f()
        arr[i] = old - h
        fm = f()
        arr[i] = old
        g[i] = (fp - fm) / (2 * h)
    return g


def _rel(a, b):
    return float(np.linalg.norm(a - b) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b)))


@pytest.mark.parametrize(
    "norm,activation,dropout", [("bn", "tanh", 0.0), ("bn", "tanh", 0.3), ("none", "sigmoid", 0.3)]
)
def test_full_loss_gradient_check(norm, activation, dropout):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 5))
    y = rng.integers(0, 10, size=7)
    model = MLP(5, 2, 6, activation, "xavier", rng, init_scale=1.5, norm=norm, dropout=dropout)
    for k in model.params:  # non-trivial gamma, beta and biases
        if not k.startswith("W"):
            model.params[k] += 0.3 * rng.standard_normal(model.params[k].shape)

    def loss_only():
        # The same dropout mask on every call: a fresh generator with a fixed seed.
        return model.loss(x, y, "train", np.random.default_rng(123))[0]

    _, grads = model.loss(x, y, "train", np.random.default_rng(123))
    assert set(grads) == set(model.params)
    for k, p in model.params.items():
        num = _num_grad(loss_only, p)
        assert _rel(grads[k], num) < 1e-6, k


def test_softmax_loss_matches_definition():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((4, 10)) * 3
    y = np.array([0, 3, 9, 3])
    loss, _d, probs = softmax_loss(logits, y)
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(4), y])), rel=1e-12)
    np.testing.assert_allclose(probs, p, rtol=1e-12)


# --- data ---------------------------------------------------------------------------------------


def test_split_is_stratified_disjoint_and_deterministic():
    _x, y = data._digits()
    tr, va = data.split(y, 0.2, 0)
    tr2, va2 = data.split(y, 0.2, 0)
    np.testing.assert_array_equal(tr, tr2)
    np.testing.assert_array_equal(va, va2)
    assert len(np.intersect1d(tr, va)) == 0
    assert len(tr) + len(va) == len(y)
    for c in np.unique(y):
        n_c = int((y == c).sum())
        assert abs(int((y[va] == c).sum()) - 0.2 * n_c) <= 0.5 + 1e-9
    _, va3 = data.split(y, 0.2, 1)
    assert not np.array_equal(va, va3)


def test_preprocessing_uses_training_statistics_only():
    xt, _, xv, _ = data.load(0.2, 0, "raw")
    ct, _, cv, _ = data.load(0.2, 0, "center")
    st, _, sv, _ = data.load(0.2, 0, "standardize")
    assert xt.min() == 0 and xt.max() == 16
    np.testing.assert_allclose(ct.mean(axis=0), 0.0, atol=1e-12)
    mu = xt.mean(axis=0)
    np.testing.assert_allclose(cv, xv - mu, atol=1e-12)  # validation uses the TRAIN mean
    assert np.abs(cv.mean(axis=0)).max() > 1e-3  # ... so its own mean is not exactly zero
    assert st.std() == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(sv, (xv - mu) / (xt - mu).std(), atol=1e-12)
    with pytest.raises(ValueError, match="standardize"):
        data.preprocess(xt, xv, "whiten")


# --- batch norm modes inside the model ----------------------------------------------------------


def test_bn_model_train_and_test_modes_agree_and_test_mode_is_per_sample():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((50, 8)) * 3 + 1
    model = MLP(8, 3, 12, "relu", "he", rng, norm="bn")
    for p in model.bn_params:
        p["momentum"] = 1.0  # running statistics := this batch's
    train_logits = model.forward(x, "train")[0]
    n = len(x)
    for p in model.bn_params:
        p["running_var"] = p["running_var"] * (n - 1) / n  # undo the unbiased correction
    before = [dict(p) for p in model.bn_params]
    test_logits = model.predict_logits(x)
    np.testing.assert_allclose(test_logits, train_logits, rtol=1e-10, atol=1e-10)
    # test mode leaves running statistics alone and treats samples independently
    for p, q in zip(model.bn_params, before):
        np.testing.assert_array_equal(p["running_mean"], q["running_mean"])
    np.testing.assert_allclose(model.predict_logits(x[:1]), test_logits[:1], rtol=1e-12, atol=1e-12)
    # train mode does depend on the rest of the batch
    assert not np.allclose(model.forward(x[:5], "train")[0][:1], train_logits[:1])


# --- verdict rules on synthetic paired frames ------------------------------------------------------
# Ten seeds per arm (and three splits for over-fitting), noise from a seeded generator; each frame is
# built so that the rule's answer follows from the construction, not from a run.

SEEDS = range(10)


def test_flat_effect_is_inconclusive_and_an_interval_excluding_the_claim_does_not_hold():
    from generator.analysis.training_stats import compare

    d = np.array([1.0, -1.0] * 5)  # mean 0, sd √(10/9): the interval [−0.75, 0.75] reaches past the margin 0.5
    flat = compare(d, np.zeros(10), 0.5)
    half = stats.t.ppf(0.975, 9) * d.std(ddof=1) / math.sqrt(10)  # the closed form of the paired t interval
    assert flat["ci_low"] == pytest.approx(-half) and flat["ci_high"] == pytest.approx(half)
    assert flat["verdict"] == "inconclusive"
    tight = compare(0.01 * d, np.zeros(10), 0.5)  # the same null effect measured precisely: evidence of absence
    assert tight["ci_high"] < 0.5 and tight["verdict"] == "does_not_hold"
    assert compare(d + 2.0, np.zeros(10), 0.5)["verdict"] == "holds"
    assert compare([1.0], [0.0], 0.5)["verdict"] == "inconclusive"  # one pair: no interval


def test_bounds_block_the_verdict_they_cannot_support():
    """A censored value makes the effect a bound: a lower bound cannot show absence, an upper bound cannot show
    presence."""
    from generator.analysis.training_stats import compare

    up, zero = np.full(10, 5.0) + np.linspace(0, 0.1, 10), np.zeros(10)
    assert compare(up, zero, 1.0)["verdict"] == "holds"
    assert compare(up, zero, 1.0, claimed_bound=np.full(10, -1.0))["verdict"] == "inconclusive"  # claimed arm censored
    assert compare(up, zero, 1.0, other_bound=np.full(10, -1.0))["verdict"] == "holds"  # effect is at least this
    assert compare(zero, up, 1.0)["verdict"] == "does_not_hold"
    assert compare(zero, up, 1.0, other_bound=np.full(10, -1.0))["verdict"] == "inconclusive"
    assert compare(zero, up, 1.0, claimed_bound=np.full(10, -1.0))["verdict"] == "does_not_hold"


def test_equivalence_needs_the_whole_interval_inside_the_margin():
    from generator.analysis.training_stats import equivalent

    jitter = np.array([0.001, -0.001] * 5)
    assert equivalent(jitter, np.zeros(10), 0.01)["verdict"] == "holds"
    assert equivalent(jitter + 0.05, np.zeros(10), 0.01)["verdict"] == "does_not_hold"
    assert equivalent(jitter - 0.05, np.zeros(10), 0.01)["verdict"] == "does_not_hold"
    assert equivalent(100 * jitter, np.zeros(10), 0.01)["verdict"] == "inconclusive"  # mean 0, interval too wide


def _noise(seed, scale):
    return float(np.random.default_rng(1000 + seed).normal(0.0, scale))


def _lr_frame(bn_fast: bool, halves_disagree: bool = False):
    rows = []
    for seed in SEEDS:
        for lr in (0.01, 0.1, 1.0, 10.0):
            for norm in ("none", "bn"):
                good = (norm == "bn") == bn_fast
                stable = lr <= (1.0 if good else 0.1)
                steps = (20.0 if good else 150.0) + 3 * _noise(seed, 1.0) + seed
                if halves_disagree and norm == "bn" and seed % 2:
                    steps = 150.0 + 3 * _noise(seed, 1.0) + seed + _noise(seed + 50, 0.5)  # no faster than without BN
                rows.append(
                    dict(
                        norm=norm,
                        learning_rate=lr,
                        seed=seed,
                        train_loss=0.1 if stable else math.nan,
                        val_acc=0.95 if stable else math.nan,
                        best_val_acc=0.95 if stable else 0.1,
                        steps_to_target=steps if stable else math.nan,
                        diverged=not stable,
                        stable=stable,
                    )
                )
    return pd.DataFrame(rows)


def test_speed_rule():
    fast, slow = claims.speed_claim(_lr_frame(True), 10, 200), claims.speed_claim(_lr_frame(False), 10, 200)
    assert fast["verdict"] == "holds" and fast["effect"] == pytest.approx(
        130.0, abs=1e-9
    )  # paired: the seed terms cancel
    assert fast["values"]["higher_lr_effect"] == pytest.approx(1.0)  # one decade more
    assert slow["verdict"] == "does_not_hold" and slow["ci_high"] < 0


def test_verdict_that_differs_between_seed_halves_is_inconclusive():
    """BN is 130 steps faster on the even seeds and no faster on the odd ones: each half is sure of itself,
    the halves disagree, so the claim is inconclusive whatever all seeds together say."""
    c = claims.speed_claim(_lr_frame(True, halves_disagree=True), 10, 200)
    assert {c["verdict_a"], c["verdict_b"]} == {"holds", "partly"}
    assert c["verdict"] == "inconclusive" and c["values"]["verdict_all"] in ("holds", "partly")


def _init_frame(bn_wide: bool):
    rows = []
    scales = [10.0**k for k in np.arange(-4, 1.01, 1 / 3)]
    for seed in SEEDS:
        for act in ("tanh", "relu"):
            for norm in ("none", "bn"):
                for i, s in enumerate(scales):
                    wide = (norm == "bn") == bn_wide
                    lo = 3 + seed % 2  # the working range's edge moves by one grid point between seeds
                    ok = lo <= i <= 14 if wide else 9 <= i <= 10
                    rows.append(
                        dict(
                            activation=act,
                            norm=norm,
                            init_scale=s,
                            seed=seed,
                            train_loss=0.1,
                            train_acc=1.0,
                            val_acc=0.96 if ok else 0.2,
                            diverged=False,
                        )
                    )
    return pd.DataFrame(rows)


def test_init_rule():
    wide = claims.init_claim(_init_frame(True), 0.9)
    assert wide["verdict"] == "holds"
    # 11.5 working scales with BN vs 2 without, 3 grid points per decade
    assert wide["effect"] == pytest.approx((11.5 - 2) / 3)
    assert claims.init_claim(_init_frame(False), 0.9)["verdict"] == "does_not_hold"


def _reg_frame(arms: dict, sd: float = 0.004):
    """``arms``: {(norm, dropout): (gap, val_acc, val_loss)}; 3 splits × 10 seeds, paired noise."""
    rows = []
    for split in range(3):
        for seed in SEEDS:
            shared = _noise(100 * split + seed, sd)  # what a split/seed does to every arm alike
            for (norm, p), (g, acc, loss) in arms.items():
                own = _noise(500 + 40 * split + 4 * seed + 2 * (norm == "bn") + (p > 0), sd / 4)  # each run its own
                rows.append(
                    dict(
                        norm=norm,
                        dropout=p,
                        split=split,
                        seed=seed,
                        train_loss=0.01,
                        val_loss=loss * (1 + shared + own),
                        train_acc=1.0,
                        val_acc=acc + shared + own,
                        gap=g - shared - own,
                        diverged=False,
                    )
                )
    return pd.DataFrame(rows)


LIKE_DROPOUT = {
    ("none", 0.0): (0.10, 0.90, 0.40),
    ("bn", 0.0): (0.05, 0.95, 0.20),
    ("none", 0.3): (0.05, 0.952, 0.22),
    ("bn", 0.3): (0.03, 0.97, 0.15),
}


def test_overfitting_rule():
    weaker = {**LIKE_DROPOUT, ("bn", 0.0): (0.08, 0.92, 0.30)}
    worse = {**LIKE_DROPOUT, ("bn", 0.0): (0.12, 0.88, 0.45)}
    c = claims.overfitting_claim(_reg_frame(LIKE_DROPOUT))
    assert c["verdict"] == "holds" and c["n_runs"] == 30  # 3 splits × 10 seeds, paired
    assert c["effect"] == pytest.approx(0.5, abs=0.01)  # validation loss 0.40 -> 0.20
    assert claims.overfitting_claim(_reg_frame(weaker))["verdict"] == "partly"  # reduces, not like dropout
    assert claims.overfitting_claim(_reg_frame(worse))["verdict"] == "does_not_hold"


def test_like_dropout_is_an_equivalence_claim():
    """A BN arm indistinguishable from dropout only on a noisy frame is not "like dropout": the interval
    has to lie inside ±margin."""
    v = claims.overfitting_claim(_reg_frame(LIKE_DROPOUT, sd=0.16))["values"]
    assert abs(v["like_dropout_effect"]) < claims.ACC_MARGIN  # the mean difference alone looks "like dropout"
    assert v["like_dropout_ci_low"] < -claims.ACC_MARGIN or v["like_dropout_ci_high"] > claims.ACC_MARGIN
    assert v["like_dropout_verdict"] == "inconclusive"
    tight = claims.overfitting_claim(_reg_frame(LIKE_DROPOUT, sd=0.004))["values"]
    assert -claims.ACC_MARGIN < tight["like_dropout_ci_low"] < tight["like_dropout_ci_high"] < claims.ACC_MARGIN
    assert tight["like_dropout_verdict"] == "holds"


def _depth_frame(bn_converges: bool, ratio: float):
    rows = []
    for seed in SEEDS:
        for init in ("he", "xavier"):
            for norm in ("none", "bn"):
                for depth in (10, 30):
                    fails = norm == "none" and init == "xavier" and depth == 30
                    if norm == "bn":
                        fails = not bn_converges and init == "xavier" and depth == 30
                    acc = (0.1 if fails else 0.95) + _noise(seed + depth, 0.01)
                    rows.append(
                        dict(
                            init=init,
                            norm=norm,
                            depth=depth,
                            seed=seed,
                            train_loss=2.3 if fails else 0.05,
                            val_acc=acc,
                            best_val_acc=acc,
                            steps_to_target=math.nan if fails else 50.0,
                            diverged=False,
                            grad_ratio=ratio * 10 ** _noise(seed, 0.1) if norm == "bn" else 1.0,
                            rel_grad_first=0.1,
                            status="stalled" if fails else "converged",
                        )
                    )
    return pd.DataFrame(rows)


EMPTY_FIG1 = pd.DataFrame(columns=["norm", "seed", "step", "val_acc", "train_loss"])


def test_vanishing_rule():
    ok = claims.vanishing_claim(_depth_frame(True, 2.0), EMPTY_FIG1)
    assert ok["verdict"] == "holds" and ok["values"]["failing_settings"] == ["xavier_30"]
    assert (
        claims.vanishing_claim(_depth_frame(True, 500.0), EMPTY_FIG1)["verdict"] == "partly"
    )  # rescued, gradients explode
    assert claims.vanishing_claim(_depth_frame(False, 500.0), EMPTY_FIG1)["verdict"] == "does_not_hold"


def _pre_frame(center_helps: bool):
    rows = []
    for seed in SEEDS:
        for how in ("raw", "scale", "center", "standardize"):
            good = (how in ("center", "standardize")) == center_helps
            for lr in (0.01, 0.1):
                rows.append(
                    dict(
                        preprocess=how,
                        learning_rate=lr,
                        seed=seed,
                        train_loss=0.1,
                        val_acc=0.9,
                        best_val_acc=(0.97 if good else 0.90) + _noise(seed, 0.002),
                        steps_to_target=(30.0 if good else 120.0) + seed,
                        diverged=False,
                    )
                )
    return pd.DataFrame(rows)


def test_mean_subtraction_rule():
    assert claims.mean_claim(_pre_frame(True), 10, 200)["verdict"] == "holds"
    assert claims.mean_claim(_pre_frame(False), 10, 200)["verdict"] == "does_not_hold"


def test_scale_and_standardize_divide_by_different_numbers():
    """The page's pair scale → standardize is not "only the mean": s(raw) / s(centred) measured here."""
    xt = data.load(0.2, 0, "raw")[0]
    ratio = claims.divisor_ratio(0.2, 0)
    assert ratio == pytest.approx(xt.std() / (xt - xt.mean(axis=0)).std(), rel=1e-12)
    assert 1.3 < ratio < 1.5  # the 1.39: total variance = pixel-mean spread + within-pixel spread


def _missing_evidence_cases():
    """Each rule on frames where the evidence it needs is missing (NaN or no rows of one arm)."""
    lr = _lr_frame(True).assign(steps_to_target=math.nan, stable=False)  # nothing reaches the target or is stable
    init = _init_frame(True).assign(val_acc=math.nan)
    reg = _reg_frame(LIKE_DROPOUT).assign(gap=math.nan, val_acc=math.nan, val_loss=math.nan)
    depth = _depth_frame(True, 2.0).assign(train_loss=math.nan, grad_ratio=math.nan)
    pre = _pre_frame(True).assign(best_val_acc=math.nan, steps_to_target=math.nan)
    return {
        "speed": lambda: claims.speed_claim(lr, 10, 200),
        "init": lambda: claims.init_claim(init, 0.9),
        "overfitting": lambda: claims.overfitting_claim(reg),
        "vanishing": lambda: claims.vanishing_claim(depth, EMPTY_FIG1),
        "mean": lambda: claims.mean_claim(pre, 10, 200),
    }


@pytest.mark.parametrize("cid", claims.CLAIM_IDS)
def test_rule_is_inconclusive_without_evidence(cid):
    assert _missing_evidence_cases()[cid]()["verdict"] == "inconclusive"


@pytest.mark.parametrize("cid", claims.CLAIM_IDS)
def test_rule_with_the_claimed_arm_missing_is_inconclusive(cid):
    bn = lambda df: df[df["norm"] != "bn"]  # noqa: E731
    call = {
        "speed": lambda: claims.speed_claim(bn(_lr_frame(True)), 10, 200),
        "init": lambda: claims.init_claim(bn(_init_frame(True)), 0.9),
        "overfitting": lambda: claims.overfitting_claim(bn(_reg_frame(LIKE_DROPOUT))),
        "vanishing": lambda: claims.vanishing_claim(bn(_depth_frame(True, 2.0)), EMPTY_FIG1),
        "mean": lambda: claims.mean_claim(_pre_frame(True).query("preprocess in ['raw', 'scale']"), 10, 200),
    }[cid]
    assert call()["verdict"] == "inconclusive"


def test_claims_values_round_trip_through_json():
    c = claims.vanishing_claim(_depth_frame(True, 2.0), EMPTY_FIG1)
    text = claims._json_values({**c["values"], "nan": math.nan, "third": 1 / 3, "np": np.float64(0.1)})
    row = {
        "claim_id": "vanishing",
        "verdict": c["verdict"],
        "effect": c["effect"],
        "ci_low": c["ci_low"],
        "ci_high": c["ci_high"],
        "n_runs": c["n_runs"],
        "setting": "data=digits; seeds=10",
        "verdict_a": c["verdict_a"],
        "verdict_b": c["verdict_b"],
        "values": text,
    }
    v = claims.read_claims(pd.DataFrame([row]))["vanishing"]
    assert v["verdict"] == "holds" and v["failing_settings"] == ["xavier_30"] and v["rescued_settings"] == ["xavier_30"]
    assert v["third"] == 1 / 3 and v["np"] == 0.1 and math.isnan(v["nan"]) and v["balanced"] is True
    assert v["n_runs"] == 10 and v["effect"] == c["effect"] and v["verdict_a"] == c["verdict_a"]
    assert claims.parse_setting(v["setting"]) == [("data", "digits"), ("seeds", "10")]


def test_evidence_sentences_use_the_site_number_format():
    c = claims.overfitting_claim(_reg_frame(LIKE_DROPOUT))
    v = {**c["values"], "verdict_a": c["verdict_a"], "verdict_b": c["verdict_b"]}
    en = training_page.evidence_text("overfitting", v, "en")
    ko = training_page.evidence_text("overfitting", v, "ko")
    pct = training_page.filters.pct
    gap = f"{pct(v['gap_effect'], 'en')} [{pct(v['gap_ci_low'], 'en')}, {pct(v['gap_ci_high'], 'en')}]"
    assert f"generalization gap, no BN − BN: {gap} (margin 1.0%, 30 pairs) → holds" in en
    assert en.endswith(f"Seed halves: {c['verdict_a'].replace('_', ' ')} / {c['verdict_b'].replace('_', ' ')}.")
    assert "검증 손실" in ko and "시드 절반별 판정" in ko


# --- config -------------------------------------------------------------------------------------


@pytest.fixture
def registered(monkeypatch):
    """The [training] section registered for one test only (never leaks into other test modules)."""
    monkeypatch.setitem(gconfig.SECTIONS, "training", TrainingConfig)


@pytest.mark.parametrize(
    "table,field",
    [
        ({"init_activations": ["tanh", "swish"]}, "training.init_activations[1]"),
        ({"depths": []}, "training.depths"),
        ({"batch_sizes": [1, 4]}, "training.batch_sizes[0]"),
        ({"preprocess": "whiten"}, "training.preprocess"),
        ({"lr_min": 1.0, "lr_max": 0.1}, "training.lr_max"),
        ({"stepz": 3}, "training.stepz"),
    ],
)
def test_bad_training_config_names_the_field(registered, table, field):
    with pytest.raises(ConfigError) as exc:
        gconfig.build_section("training", table)
    assert str(exc.value).startswith(f"config error: {field}: ")


# --- the whole stage, reduced config --------------------------------------------------------------


def small_training_cfg(tmp_path):
    """configs/small.toml with its [training] table (or the test-size table below if it has none).
    The caller must have the section registered (see ``registered``)."""
    raw = tomllib.loads((ROOT / "configs" / "small.toml").read_text())
    raw.setdefault("training", SMALL_TRAINING)
    raw["output"] = {
        "docs_dir": str(tmp_path / "docs"),
        "public_dir": str(tmp_path / "public"),
        "cache_dir": str(tmp_path / "cache"),
    }
    return gconfig.parse_config(raw)


SMALL_TRAINING = dict(
    seeds=[0, 1],
    width=16,
    steps=30,
    init_steps=20,
    eval_every=5,
    base_depth=2,
    init_depth=3,
    init_scale_points=4,
    lr_points=3,
    pre_lr_points=2,
    fig1_steps=30,
    depths=[2, 4],
    batch_sizes=[4, 32],
    batch_epochs=0.2,
    reg_train_size=100,
    reg_steps=30,
    target_accuracy=0.5,
)


@pytest.fixture(scope="module")
def small_stage(tmp_path_factory):
    from generator.pipeline.training_stage import run_training

    tmp = tmp_path_factory.mktemp("training")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(gconfig.SECTIONS, "training", TrainingConfig)
        cfg = small_training_cfg(tmp)
    return cfg, run_training(cfg, Cache(tmp / "cache"), quiet=True), tmp


def test_stage_smoke_cache_and_determinism(small_stage):
    from generator.pipeline.training_stage import FILES, run_training

    cfg, out1, tmp = small_stage
    out2 = run_training(cfg, Cache(None), quiet=True, write=False)  # computed again from scratch
    names = [f.name for f in FILES] + ["claims.csv"]
    for name in names:
        assert (tmp / "docs" / "data" / name).is_file(), name
        assert len(out1[name]) > 0, name
        pd.testing.assert_frame_equal(out1[name], out2[name])
        back = contract.read_csv(name, tmp / "docs" / "data")  # the CSV round-trips through the contract
        pd.testing.assert_frame_equal(back.reset_index(drop=True), out1[name].reset_index(drop=True), check_dtype=False)
    verdicts = out1["claims.csv"].set_index("claim_id")["verdict"]
    assert list(verdicts.index) == list(claims.CLAIM_IDS)
    _assert_no_prose(tmp / "docs" / "data" / "claims.csv")
    assert set(verdicts) <= set(claims.VERDICTS)
    first = out1["__stats__"][0]
    assert first.computed == first.total > 0
    again = run_training(cfg, Cache(tmp / "cache"), quiet=True, write=False)["__stats__"][0]
    assert again.computed == 0 and again.hits == again.total


def _assert_no_prose(path):
    """claims.csv holds values only: ids, verdicts, numbers, key=value settings/evidence and JSON; no sentence in any
    language."""
    import json
    import re

    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert (
        list(df.columns)
        == claims.COLUMNS
        == [
            "claim_id",
            "verdict",
            "effect",
            "ci_low",
            "ci_high",
            "n_runs",
            "setting",
            "verdict_a",
            "verdict_b",
            "evidence",
            "values",
        ]
    )
    assert not any(c.endswith(("_ko", "_en")) for c in df.columns)
    text = path.read_text("utf-8")
    assert not re.search(r"[\uac00-\ud7a3]", text), "Hangul in claims.csv"
    for col in ("verdict", "verdict_a", "verdict_b"):
        assert set(df[col]) <= set(claims.VERDICTS), col
    for col in ("effect", "ci_low", "ci_high"):
        assert all(x == "" or math.isfinite(float(x)) for x in df[col]), col
    assert all(x.isdigit() for x in df["n_runs"])
    for ev, setting, values in zip(df["evidence"], df["setting"], df["values"]):
        assert all(re.fullmatch(r"[a-z0-9_]+=[^ ;]+", kv) for kv in ev.split("; ")), ev
        assert all(re.fullmatch(r"[a-z0-9_]+=[a-z0-9_./e+-]+", kv) for kv in setting.split("; ")), setting
        for k, x in json.loads(values).items():
            assert re.fullmatch(r"[a-z0-9_]+", k) and (x is None or isinstance(x, (bool, int, float, list, str))), (
                k,
                x,
            )
            assert not isinstance(x, str) or re.fullmatch(r"[a-z0-9_]+", x), (k, x)  # ids only (verdicts, part names)
            assert not isinstance(x, list) or re.fullmatch(
                r'[\[\]",a-z0-9_/]*', json.dumps(x, separators=(",", ":"))
            ), (k, x)


def test_page_context_and_figures(small_stage, tmp_path):
    import warnings

    from generator.figures.draw import render_figure
    from generator.figures.registry import FIGURES, TABLE_FILES, TRAINING_FIGURES, figure_jobs

    def render_training_figures(frames, out_dir, langs=("ko", "en"), target_accuracy=None):
        """Every training job of the registry, drawn from the stage's frames (keyed by CSV name)."""
        data = {k: frames[f] for k, f in TABLE_FILES.items() if f in frames}
        jobs = [j for j in figure_jobs(cfg, target_accuracy=target_accuracy) if j.name in TRAINING_FIGURES]
        return [render_figure(j.name, data, lang, out_dir, **j.kwargs) for j in jobs for lang in langs]

    cfg, out, _ = small_stage
    ctx = training_page.training_context(out, training_page.settings_of(dataclasses.asdict(cfg.training)))
    assert set(ctx["claims"]) == set(claims.CLAIM_IDS)
    for lang in ("ko", "en"):
        table = ctx["tables"]["claims"][lang]
        assert list(table.columns) == ["claim", "verdict", "effect", "primary", "halves", "n_runs"]
        for cid in claims.CLAIM_IDS:  # every comparison of every claim is shown with its interval and verdict
            parts = ctx["tables"]["parts"][cid][lang]
            assert len(parts) == len(ctx["claims"][cid]["parts"]) > 0
            assert ctx["evidence"][cid][lang] and ctx["settings"][cid][lang]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph (Hangul box) is a UserWarning
        paths = render_training_figures(out, tmp_path / "a", target_accuracy=cfg.training.target_accuracy)
    assert sorted(p.name for p in paths) == sorted(f"{n}.{lang}.svg" for n in TRAINING_FIGURES for lang in ("ko", "en"))
    assert set(TRAINING_FIGURES) <= set(FIGURES)
    again = render_training_figures(out, tmp_path / "b", langs=("ko",), target_accuracy=cfg.training.target_accuracy)
    for p in again:
        assert p.read_bytes() == (tmp_path / "a" / p.name).read_bytes()


def test_training_page_renders_in_both_languages_with_the_same_structure(small_stage, tmp_path):
    from generator.render.env import environment, page_structure, render_page

    cfg, out, _ = small_stage
    env = environment()
    pages = [
        {"training": training_page.training_context(out, training_page.settings_of(dataclasses.asdict(cfg.training)))},
        {"training": {"available": False}},
        {},
    ]
    for ctx in pages:
        ko, en = (render_page(env, "training", lang, {"pages": ctx}) for lang in ("ko", "en"))
        assert page_structure(ko) == page_structure(en)
    full = render_page(env, "training", "en", {"pages": pages[0]})
    for name in (
        "training_init",
        "training_lr",
        "training_speed",
        "training_fig1",
        "training_depth",
        "training_batch",
        "training_reg",
        "training_preprocess",
    ):
        assert f"figures/{name}.en.svg" in full
    verdicts = out["claims.csv"].set_index("claim_id")["verdict"]
    for cid in claims.CLAIM_IDS:  # every verdict on the page comes from claims.csv
        assert strings.t("en", f"training.claim.{cid}") in full
        assert f"**{strings.t('en', 'training.verdict.' + verdicts[cid])}**" in full


def test_page_templates_hold_no_decimal_literals():
    import re

    for lang in ("ko", "en"):
        text = (ROOT / "templates" / "pages" / f"training.{lang}.md.j2").read_text()
        assert not re.findall(r"(?<![\w.])\d+\.\d+", text), lang


def test_contract_is_static_and_keeps_the_published_order():
    """The training files are in the contract without importing the training stage (no registration at
    import), in the order the data dictionary, results and reproducibility pages have always shown them."""
    import subprocess
    import sys

    code = "from generator.contract.schema import DATA_FILES; print(' '.join(DATA_FILES))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    assert out == [
        "propagation.csv",
        "histograms.csv",
        "symmetry.csv",
        "theory.csv",
        "theory_fixed.csv",
        "seed_printed.csv",
        "seed_code.csv",
        "placement.csv",
        "health.csv",
        "training_init.csv",
        "training_lr.csv",
        "training_speed.csv",
        "training_fig1.csv",
        "training_depth.csv",
        "training_depth_grads.csv",
        "training_batch.csv",
        "training_reg.csv",
        "training_preprocess.csv",
        "claims.csv",
        "phase_theory.csv",
        "phase_critical.csv",
        "phase_measured.csv",
        "trainability.csv",
    ]
    assert not hasattr(contract, "register_file")
