"""Training stage: gradients, data split, preprocessing, BN modes, verdict rules, smoke run, determinism."""

from __future__ import annotations

import dataclasses
import math
import tomllib

import numpy as np
import pandas as pd
import pytest

from generator.config import load as gconfig
from generator.contract import schema as contract
from generator.render import strings
from generator.pipeline.store import Cache
from generator.common.paths import ROOT
from generator.config.load import ConfigError
from generator.analysis import training as claims
from generator.pages import training as training_page
from generator.engine import digits as data
from generator.config.training import TrainingConfig
from generator.engine.mlp import MLP, softmax_loss

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


@pytest.mark.parametrize("norm,activation,dropout", [("bn", "tanh", 0.0), ("bn", "tanh", 0.3), ("none", "sigmoid", 0.3)])
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
    loss, d, probs = softmax_loss(logits, y)
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(4), y])), rel=1e-12)
    np.testing.assert_allclose(probs, p, rtol=1e-12)


# --- data ---------------------------------------------------------------------------------------


def test_split_is_stratified_disjoint_and_deterministic():
    x, y = data._digits()
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


# --- verdict rules on synthetic frames -----------------------------------------------------------


def _lr_frame(bn_fast: bool):
    rows = []
    for seed in range(3):
        for lr in (0.01, 0.1, 1.0, 10.0):
            for norm in ("none", "bn"):
                good = (norm == "bn") == bn_fast
                stable = lr <= (1.0 if good else 0.1)
                steps = (20.0 if good else 150.0) + seed if stable else math.nan
                rows.append(dict(norm=norm, learning_rate=lr, seed=seed, train_loss=0.1 if stable else math.nan,
                                 val_acc=0.95 if stable else math.nan, best_val_acc=0.95 if stable else 0.1,
                                 steps_to_target=steps, diverged=not stable, stable=stable))
    return pd.DataFrame(rows)


def test_speed_rule():
    assert claims.speed_claim(_lr_frame(True), 10)["verdict"] == "holds"
    assert claims.speed_claim(_lr_frame(False), 10)["verdict"] == "does_not_hold"


def _init_frame(bn_wide: bool):
    rows = []
    scales = [10.0 ** k for k in np.arange(-4, 1.01, 1 / 3)]
    for seed in range(3):
        for act in ("tanh", "relu"):
            for norm in ("none", "bn"):
                for i, s in enumerate(scales):
                    wide = (norm == "bn") == bn_wide
                    ok = 3 <= i <= 14 if wide else 9 <= i <= 10
                    rows.append(dict(activation=act, norm=norm, init_scale=s, seed=seed, train_loss=0.1,
                                     train_acc=1.0, val_acc=0.96 if ok else 0.2, diverged=False))
    return pd.DataFrame(rows)


def test_init_rule():
    assert claims.init_claim(_init_frame(True), 0.9)["verdict"] == "holds"
    assert claims.init_claim(_init_frame(False), 0.9)["verdict"] == "does_not_hold"


def _reg_frame(gaps: dict):
    rows = []
    for (norm, p), g in gaps.items():
        for seed, jitter in enumerate((-0.002, 0.0, 0.002)):
            rows.append(dict(norm=norm, dropout=p, seed=seed, train_loss=0.01, val_loss=0.3, train_acc=1.0,
                             val_acc=1.0 - g + jitter, gap=g - jitter, diverged=False))
    return pd.DataFrame(rows)


def test_overfitting_rule():
    like_dropout = {("none", 0.0): 0.10, ("bn", 0.0): 0.04, ("none", 0.3): 0.05, ("bn", 0.3): 0.03}
    weaker = {("none", 0.0): 0.10, ("bn", 0.0): 0.07, ("none", 0.3): 0.02, ("bn", 0.3): 0.02}
    worse = {("none", 0.0): 0.05, ("bn", 0.0): 0.08, ("none", 0.3): 0.02, ("bn", 0.3): 0.02}
    assert claims.overfitting_claim(_reg_frame(like_dropout), 360)["verdict"] == "holds"
    assert claims.overfitting_claim(_reg_frame(weaker), 360)["verdict"] == "partly"
    assert claims.overfitting_claim(_reg_frame(worse), 360)["verdict"] == "does_not_hold"


def _depth_frame(bn_converges: bool, ratio: float):
    rows = []
    for seed in range(3):
        for init in ("he", "xavier"):
            for norm in ("none", "bn"):
                for depth in (10, 30):
                    fails = norm == "none" and init == "xavier" and depth == 30
                    if norm == "bn":
                        fails = not bn_converges and init == "xavier" and depth == 30
                    rows.append(dict(init=init, norm=norm, depth=depth, seed=seed, train_loss=2.3 if fails else 0.05,
                                     val_acc=0.1 if fails else 0.95, best_val_acc=0.1 if fails else 0.95,
                                     steps_to_target=math.nan if fails else 50.0, diverged=False,
                                     grad_ratio=ratio if norm == "bn" else 1.0, rel_grad_first=0.1,
                                     status="stalled" if fails else "converged"))
    return pd.DataFrame(rows)


def test_vanishing_rule():
    empty = pd.DataFrame(columns=["norm", "seed", "step", "val_acc"])
    assert claims.vanishing_claim(_depth_frame(True, 2.0), empty, 0.9)["verdict"] == "holds"
    assert claims.vanishing_claim(_depth_frame(True, 500.0), empty, 0.9)["verdict"] == "partly"
    assert claims.vanishing_claim(_depth_frame(False, 2.0), empty, 0.9)["verdict"] == "does_not_hold"


def _pre_frame(center_helps: bool):
    rows = []
    for seed in range(3):
        for how in ("raw", "scale", "center", "standardize"):
            centred = how in ("center", "standardize")
            good = centred == center_helps
            for lr in (0.01, 0.1):
                rows.append(dict(preprocess=how, learning_rate=lr, seed=seed, train_loss=0.1, val_acc=0.9,
                                 best_val_acc=(0.97 if good else 0.90) + 0.001 * seed,
                                 steps_to_target=(30.0 if good else 120.0) + seed, diverged=False))
    return pd.DataFrame(rows)


def test_mean_subtraction_rule():
    assert claims.mean_claim(_pre_frame(True), 360, 10)["verdict"] == "holds"
    assert claims.mean_claim(_pre_frame(False), 360, 10)["verdict"] == "does_not_hold"


def _missing_evidence_cases():
    """Each rule on frames where the evidence it needs is missing (NaN or no rows of one arm)."""
    lr = _lr_frame(True).assign(steps_to_target=math.nan, stable=False)  # nothing reaches the target or is stable
    init = _init_frame(True).assign(val_acc=math.nan)
    reg = _reg_frame({("none", 0.0): 0.1, ("bn", 0.0): 0.04, ("none", 0.3): 0.05, ("bn", 0.3): 0.03}).assign(
        gap=math.nan, val_acc=math.nan)
    depth = _depth_frame(True, 2.0).assign(train_loss=math.nan, grad_ratio=math.nan)
    empty = pd.DataFrame(columns=["norm", "seed", "step", "val_acc", "train_loss"])
    pre = _pre_frame(True).assign(best_val_acc=math.nan, steps_to_target=math.nan)
    return {
        "speed": lambda: claims.speed_claim(lr, 10),
        "init": lambda: claims.init_claim(init, 0.9),
        "overfitting": lambda: claims.overfitting_claim(reg, 360),
        "vanishing": lambda: claims.vanishing_claim(depth, empty, 0.9),
        "mean": lambda: claims.mean_claim(pre, 360, 10),
    }


# Today's rules (kept as they are; issue 14 changes them) give a verdict even without evidence.
TODAY_WITHOUT_EVIDENCE = {"speed": "does_not_hold", "init": "does_not_hold", "overfitting": "does_not_hold",
                          "vanishing": "partly", "mean": "does_not_hold"}


@pytest.mark.parametrize("cid", claims.CLAIM_IDS)
def test_rule_without_evidence_today(cid):
    assert _missing_evidence_cases()[cid]()["verdict"] == TODAY_WITHOUT_EVIDENCE[cid]


@pytest.mark.xfail(strict=True, reason="issue 14: the rules have no 'inconclusive' verdict yet (see TODAY_WITHOUT_EVIDENCE)")
@pytest.mark.parametrize("cid", claims.CLAIM_IDS)
def test_rule_is_inconclusive_without_evidence(cid):
    assert _missing_evidence_cases()[cid]()["verdict"] == "inconclusive"


def test_claims_values_round_trip_through_json():
    c = claims.vanishing_claim(_depth_frame(True, 2.0), pd.DataFrame(columns=["norm", "seed", "step", "val_acc"]), 0.9)
    text = claims._json_values({**c["values"], "nan": math.nan, "third": 1 / 3, "np": np.float64(0.1)})
    back = claims.read_claims(pd.DataFrame({"claim_id": ["vanishing"], "verdict": [c["verdict"]], "values": [text]}))
    v = back["vanishing"]
    assert v["verdict"] == "holds" and v["failing_settings"] == ["xavier/30"] and v["rescued_settings"] == ["xavier/30"]
    assert v["third"] == 1 / 3 and v["np"] == 0.1 and math.isnan(v["nan"]) and v["balanced"] is True


def test_evidence_sentences_use_the_site_number_format():
    reg = _reg_frame({("none", 0.0): 0.10, ("bn", 0.0): 0.04, ("none", 0.3): 0.05, ("bn", 0.3): 0.03})
    v = claims.read_claims(pd.DataFrame([{"claim_id": "overfitting", "verdict": "holds",
                                          "values": claims._json_values(claims.overfitting_claim(reg, 360)["values"])}]))
    en = training_page.evidence_text("overfitting", v["overfitting"], "en")
    ko = training_page.evidence_text("overfitting", v["overfitting"], "ko")
    assert en == ("Generalization gap (train − validation accuracy): neither 10.0%, BN 4.0%, dropout 5.0%, both 3.0%; "
                  "validation accuracy 90.0%, 96.0%, 95.0%, 97.0%.")
    assert ko.startswith("일반화 격차(훈련 − 검증 정확도): 둘 다 없음 10.0%, BN 4.0%")
    speed = claims.speed_claim(_lr_frame(True), 10)["values"]
    text = training_page.evidence_text("speed", {**speed, "max_stable_lr_none": math.nan}, "en")
    assert "21.0 with BN (η=0.0100) vs 151 without (η=0.0100)" in text and "1.00 with BN vs — without" in text


# --- config -------------------------------------------------------------------------------------


@pytest.fixture
def registered(monkeypatch):
    """The [training] section registered for one test only (never leaks into other test modules)."""
    monkeypatch.setitem(gconfig.SECTIONS, "training", TrainingConfig)


@pytest.mark.parametrize("table,field", [
    ({"init_activations": ["tanh", "swish"]}, "training.init_activations[1]"),
    ({"depths": []}, "training.depths"),
    ({"batch_sizes": [1, 4]}, "training.batch_sizes[0]"),
    ({"preprocess": "whiten"}, "training.preprocess"),
    ({"lr_min": 1.0, "lr_max": 0.1}, "training.lr_max"),
    ({"stepz": 3}, "training.stepz"),
])
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
    raw["output"] = {"docs_dir": str(tmp_path / "docs"), "public_dir": str(tmp_path / "public"),
                     "cache_dir": str(tmp_path / "cache")}
    return gconfig.parse_config(raw)


SMALL_TRAINING = dict(
    seeds=[0, 1], width=16, steps=30, init_steps=20, eval_every=5, base_depth=2, init_depth=3,
    init_scale_points=4, lr_points=3, pre_lr_points=2, fig1_steps=30, depths=[2, 4], batch_sizes=[4, 32],
    batch_epochs=0.2, reg_train_size=100, reg_steps=30, target_accuracy=0.5,
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
    """claims.csv holds values only: ids, verdicts, key=value numbers and JSON; no sentence in any language."""
    import json
    import re

    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(df.columns) == ["claim_id", "verdict", "evidence", "values"]
    assert not any(c.endswith(("_ko", "_en")) for c in df.columns)
    text = path.read_text("utf-8")
    assert not re.search(r"[\uac00-\ud7a3]", text), "Hangul in claims.csv"
    for ev, values in zip(df["evidence"], df["values"]):
        assert all(re.fullmatch(r"[a-z0-9_]+=[^ ;]+", kv) for kv in ev.split("; ")), ev
        for k, x in json.loads(values).items():
            assert re.fullmatch(r"[a-z0-9_]+", k) and (x is None or isinstance(x, (bool, int, float, list))), (k, x)
            assert not isinstance(x, list) or re.fullmatch(r'[\[\]",a-z0-9_/]*', json.dumps(x, separators=(",", ":"))), (k, x)


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
        assert list(table.columns) == ["claim", "verdict", "evidence"]
        assert table["evidence"].str.len().min() > 0
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
    pages = [{"training": training_page.training_context(out, training_page.settings_of(dataclasses.asdict(cfg.training)))}, {"training": {"available": False}}, {}]
    for ctx in pages:
        ko, en = (render_page(env, "training", lang, {"pages": ctx}) for lang in ("ko", "en"))
        assert page_structure(ko) == page_structure(en)
    full = render_page(env, "training", "en", {"pages": pages[0]})
    for name in ("training_init", "training_lr", "training_speed", "training_fig1", "training_depth", "training_batch",
                 "training_reg", "training_preprocess"):
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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()
    assert out == ["propagation.csv", "histograms.csv", "symmetry.csv", "theory.csv", "theory_fixed.csv",
                   "seed_printed.csv", "seed_code.csv", "placement.csv", "health.csv", "training_init.csv", "training_lr.csv",
                   "training_speed.csv", "training_fig1.csv", "training_depth.csv", "training_depth_grads.csv",
                   "training_batch.csv", "training_reg.csv", "training_preprocess.csv", "claims.csv"]
    assert not hasattr(contract, "register_file")
