"""The training stage: ``[training]`` config -> runs (cached, any executor) -> tidy CSVs -> verdicts.

Every run is one ``training`` task (:func:`generator.experiments.training_run.train_run`), so each is cached by
the hash of its params and code and can run on any executor; identical runs requested by two
experiments are computed once. Experiments (each over ``cfg.training.seeds``):

a  init      W = scale·N(0,1) in every layer, scale on a log grid × {none, bn} × init_activations,
             ``init_depth`` × ``width``; final training loss and validation accuracy.
b  lr        base network × {none, bn} × log grid of learning rates: best / final validation accuracy,
             divergence, stability.
c  speed     validation curves of (b) at each norm's best learning rate (fewest mean steps to target).
d  fig1      Ioffe & Szegedy Fig. 1: ``fig1_depth`` sigmoid layers, W = ``fig1_init_scale``·N(0,1); validation
             accuracy and the 15/50/85th percentiles of one unit's sigmoid input over training.
e  depth     ReLU, {he, xavier} × depths × depth_norms, SGD with momentum; final metrics and the
             per-layer gradient norms on the first minibatch.
f  batch     base network with BN at each batch size for ``batch_epochs`` epochs (the same number of
             samples at every batch size): validation accuracy in test mode (running statistics) and in
             train mode (batch statistics).
g  reg       base network on a ``reg_train_size`` subset: {none, bn} × {no dropout, dropout}; train/val gap.
pre          base network without BN, each preprocessing × a log grid of learning rates.

Frames are returned keyed by CSV name (see :data:`FILES`); ``"__stats__"`` holds the runner's RunStats.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from generator.contract import schema as contract
from generator.analysis.training import best_lr
from generator.config.load import resolve
from generator.pipeline.runner import PendingTasks, register_task, submit_tasks

_c = contract.Column


def _seed():
    return _c("seed", "int", "난수 시드(seed): 가중치, 미니배치 순서, 드롭아웃 마스크를 결정", "random seed: fixes the weights, the minibatch order and the dropout masks")


def _norm():
    return _c("norm", "str", "정규화: none(없음) 또는 bn(배치 정규화, affine → BN → 활성화)", "normalization: none or bn (batch norm, affine → BN → activation)")


_TRAIN_LOSS = _c("train_loss", "float", "학습 끝의 훈련 손실(교차 엔트로피, 훈련 집합 전체, test 모드); 발산하면 비어 있음",
                 "final training loss (cross-entropy on the whole training set, test mode); empty if diverged")
_TRAIN_ACC = _c("train_acc", "float", "학습 끝의 훈련 정확도 (test 모드)", "final training accuracy (test mode)")
_VAL_LOSS = _c("val_loss", "float", "학습 끝의 검증 손실", "final validation loss")
_VAL_ACC = _c("val_acc", "float", "학습 끝의 검증 정확도 (test 모드: 이동 평균 통계)", "final validation accuracy (test mode: running statistics)")
_BEST = _c("best_val_acc", "float", "평가 시점들 중 가장 높은 검증 정확도", "highest validation accuracy over the evaluations")
_STEPS = _c("steps_to_target", "float", "검증 정확도가 처음 목표(target_accuracy)에 닿은 단계; 못 닿으면 비어 있음",
            "first step at which validation accuracy reached target_accuracy; empty if never")
_DIV = _c("diverged", "bool", "발산: 손실이나 파라미터에 유한하지 않은 값이 생김", "diverged: the loss or a parameter became non-finite")
_LR = _c("learning_rate", "float", "학습률(learning rate) η", "learning rate η")

INIT = contract.DataFile(
    "training_init.csv",
    "초기화 민감도: 모든 층 W = scale·N(0,1), (activation, norm, init_scale, seed)마다 한 행",
    "Init sensitivity: W = scale·N(0,1) in every layer; one row per (activation, norm, init_scale, seed)",
    (_c("activation", "str", "활성화 함수", "activation function"), _norm(),
     _c("init_scale", "float", "가중치 배율 scale", "weight scale"), _seed(), _TRAIN_LOSS, _TRAIN_ACC, _VAL_ACC, _DIV),
)
LR = contract.DataFile(
    "training_lr.csv",
    "학습률 탐색: (norm, learning_rate, seed)마다 한 행",
    "Learning-rate sweep: one row per (norm, learning_rate, seed)",
    (_norm(), _LR, _seed(), _TRAIN_LOSS, _VAL_ACC, _BEST, _STEPS, _DIV,
     _c("stable", "bool", "안정: 발산하지 않았고 마지막 훈련 손실이 ln 10(찍기 수준)보다 작음",
        "stable: did not diverge and the final training loss is below ln 10 (chance level)")),
)
SPEED = contract.DataFile(
    "training_speed.csv",
    "학습 속도: norm마다 가장 좋은 학습률에서의 검증 곡선, (norm, seed, step)마다 한 행",
    "Training speed: validation curves at each norm's best learning rate; one row per (norm, seed, step)",
    (_norm(), _LR, _seed(), _c("step", "int", "SGD 단계", "SGD step"),
     _c("train_loss", "float", "직전 평가 이후 미니배치 손실의 평균", "mean minibatch loss since the previous evaluation"),
     _c("val_loss", "float", "검증 손실", "validation loss"), _c("val_acc", "float", "검증 정확도", "validation accuracy"), _STEPS),
)
FIG1 = contract.DataFile(
    "training_fig1.csv",
    "Ioffe & Szegedy 그림 1 재현: 시그모이드 망의 검증 정확도와 한 유닛 입력의 분위수, (norm, seed, step)마다 한 행",
    "Ioffe & Szegedy Fig. 1 analogue: validation accuracy and the percentiles of one unit's input; one row per (norm, seed, step)",
    (_norm(), _seed(), _c("step", "int", "SGD 단계", "SGD step"),
     _c("train_loss", "float", "직전 평가 이후 미니배치 손실의 평균", "mean minibatch loss since the previous evaluation"),
     _c("val_acc", "float", "검증 정확도", "validation accuracy"),
     _c("p15", "float", "마지막 은닉층 0번 유닛의 시그모이드 입력, 검증 집합의 15번째 백분위수", "15th percentile over the validation set of the sigmoid input of unit 0 in the last hidden layer"),
     _c("p50", "float", "같은 입력의 중앙값(50번째 백분위수)", "its median (50th percentile)"),
     _c("p85", "float", "같은 입력의 85번째 백분위수", "its 85th percentile"), _STEPS),
)
DEPTH = contract.DataFile(
    "training_depth.csv",
    "깊이 실험(ReLU, 모멘텀 SGD): (init, norm, depth, seed)마다 한 행",
    "Depth experiment (ReLU, SGD with momentum): one row per (init, norm, depth, seed)",
    (_c("init", "str", "초기화: he 또는 xavier", "initialization: he or xavier"), _norm(),
     _c("depth", "int", "은닉층 수", "number of hidden layers"), _seed(), _TRAIN_LOSS, _VAL_ACC, _BEST, _STEPS, _DIV,
     _c("grad_ratio", "float", "첫 미니배치에서 ‖∂L/∂W₁‖ / ‖∂L/∂W_depth‖ (첫 은닉층 대 마지막 은닉층)",
        "‖∂L/∂W₁‖ / ‖∂L/∂W_depth‖ on the first minibatch (first vs last hidden layer)"),
     _c("rel_grad_first", "float", "첫 미니배치에서 ‖∂L/∂W₁‖ / ‖W₁‖", "‖∂L/∂W₁‖ / ‖W₁‖ on the first minibatch"),
     _c("status", "str", "converged(최고 검증 정확도 ≥ 목표), stalled(훈련 손실 ≥ 0.9·ln 10), slow(그 사이), diverged",
        "converged (best val accuracy ≥ target), stalled (training loss ≥ 0.9·ln 10), slow (in between), diverged")),
)
DEPTH_GRADS = contract.DataFile(
    "training_depth_grads.csv",
    "깊이 실험의 층별 기울기 노름(첫 미니배치, 갱신 전): (init, norm, depth, seed, layer)마다 한 행",
    "Per-layer gradient norms of the depth runs (first minibatch, before any update): one row per (init, norm, depth, seed, layer)",
    (_c("init", "str", "초기화", "initialization"), _norm(), _c("depth", "int", "은닉층 수", "number of hidden layers"), _seed(),
     _c("layer", "int", "층 번호(1부터, depth+1은 출력층)", "layer number (1-based; depth+1 is the output layer)"),
     _c("grad_w_norm", "float", "‖∂L/∂W‖ (프로베니우스 노름)", "‖∂L/∂W‖ (Frobenius norm)"), _c("w_norm", "float", "‖W‖", "‖W‖")),
)
BATCH = contract.DataFile(
    "training_batch.csv",
    "배치 크기와 BN: (batch_size, seed)마다 한 행",
    "Batch size and BN: one row per (batch_size, seed)",
    (_c("batch_size", "int", "미니배치 크기", "minibatch size"), _seed(), _TRAIN_ACC, _VAL_ACC,
     _c("val_acc_train_mode", "float", "train 모드 검증 정확도: 검증 집합을 N // batch_size개 배치(크기 batch_size 이상 2·batch_size 미만)로 나눠 배치 통계로 정규화",
        "validation accuracy in train mode: the validation set split into N // batch_size batches (batch_size to 2·batch_size − 1 samples), each normalized with its own statistics"),
     _c("gap", "float", "val_acc_train_mode − val_acc", "val_acc_train_mode − val_acc"), _DIV),
)
REG = contract.DataFile(
    "training_reg.csv",
    "규제(regularization) 실험, 작은 훈련 집합: (norm, dropout, seed)마다 한 행",
    "Regularization experiment on a small training set: one row per (norm, dropout, seed)",
    (_norm(), _c("dropout", "float", "드롭아웃 확률 p (0 = 끔)", "dropout probability p (0 = off)"), _seed(),
     _TRAIN_LOSS, _VAL_LOSS, _TRAIN_ACC, _VAL_ACC,
     _c("gap", "float", "train_acc − val_acc (일반화 격차)", "train_acc − val_acc (generalization gap)"), _DIV),
)
PRE = contract.DataFile(
    "training_preprocess.csv",
    "입력 전처리 비교(BN 없음): (preprocess, learning_rate, seed)마다 한 행",
    "Input preprocessing (no BN): one row per (preprocess, learning_rate, seed)",
    (_c("preprocess", "str", "raw(0..16 그대로), scale(÷s), center(−μ), standardize((x−μ)÷s); μ, s는 훈련 집합에서",
        "raw (0..16 as is), scale (÷s), center (−μ), standardize ((x−μ)÷s); μ and s from the training set"),
     _LR, _seed(), _TRAIN_LOSS, _VAL_ACC, _BEST, _STEPS, _DIV),
)
FILES = (INIT, LR, SPEED, FIG1, DEPTH, DEPTH_GRADS, BATCH, REG, PRE)
for _f in FILES:
    contract.register_file(_f)

KIND = "training"
register_task(KIND, "generator.experiments.training_run:train_run")


def _base(t) -> dict:
    return dict(
        depth=t.base_depth, width=t.width, activation=t.base_activation, init=t.base_init, init_scale=1.0,
        norm="none", dropout=0.0, learning_rate=t.learning_rate, momentum=t.momentum, batch_size=t.batch_size,
        steps=t.steps, eval_every=t.eval_every, seed=0, split_seed=t.split_seed, val_fraction=t.val_fraction,
        preprocess=t.preprocess, train_size=None, target_accuracy=t.target_accuracy, track_layer=None,
        eval_train_mode=False, record_grads=False,
    )


def plan(t) -> list[tuple[str, dict, dict]]:
    """Every run of the stage as (experiment, key columns, task params)."""
    from generator.engine.digits import load

    runs = []
    base = _base(t)
    n_train = len(load(t.val_fraction, t.split_seed, t.preprocess, None)[1])
    for s in t.seeds:
        for act in t.init_activations:
            for norm in ("none", "bn"):
                for scale in t.init_scales:
                    runs.append(("init", dict(activation=act, norm=norm, init_scale=scale, seed=s),
                                 dict(base, depth=t.init_depth, activation=act, init="large", init_scale=scale,
                                      norm=norm, seed=s, steps=t.init_steps, eval_every=t.init_steps)))
        for norm in ("none", "bn"):
            for lr in t.learning_rates:
                runs.append(("lr", dict(norm=norm, learning_rate=lr, seed=s), dict(base, norm=norm, learning_rate=lr, seed=s)))
            runs.append(("fig1", dict(norm=norm, seed=s),
                         dict(base, depth=t.fig1_depth, activation=t.fig1_activation, init="large",
                              init_scale=t.fig1_init_scale, norm=norm, learning_rate=t.fig1_learning_rate,
                              steps=t.fig1_steps, track_layer=t.fig1_depth, seed=s)))
        for init in t.depth_inits:
            for norm in t.depth_norms:
                for depth in t.depths:
                    runs.append(("depth", dict(init=init, norm=norm, depth=depth, seed=s),
                                 dict(base, depth=depth, activation="relu", init=init, norm=norm,
                                      learning_rate=t.depth_learning_rate, momentum=t.depth_momentum,
                                      record_grads=True, seed=s)))
        for b in t.batch_sizes:
            steps = max(1, math.ceil(t.batch_epochs * n_train / b))
            runs.append(("batch", dict(batch_size=b, seed=s),
                         dict(base, norm="bn", batch_size=b, steps=steps, eval_every=steps,
                              eval_train_mode=True, seed=s)))
        for norm in ("none", "bn"):
            for p in (0.0, t.dropout):
                runs.append(("reg", dict(norm=norm, dropout=p, seed=s),
                             dict(base, norm=norm, dropout=p, train_size=t.reg_train_size, steps=t.reg_steps,
                                  eval_every=t.reg_steps, seed=s)))
        for how in t.preprocess_options:
            for lr in t.pre_learning_rates:
                runs.append(("pre", dict(preprocess=how, learning_rate=lr, seed=s),
                             dict(base, preprocess=how, learning_rate=lr, seed=s)))
    return runs


def _key(params: dict) -> str:
    return json.dumps(params, sort_keys=True)


def _summaries(runs, results, exp) -> pd.DataFrame:
    rows = [dict(keys, **res["summary"].iloc[0].to_dict()) for (e, keys, _), res in zip(runs, results) if e == exp]
    return pd.DataFrame(rows)


def _curves(runs, results, exp, cols) -> pd.DataFrame:
    parts = []
    for (e, keys, _), res in zip(runs, results):
        if e == exp:
            c = res["curve"][[c for c in cols if c in res["curve"].columns]].copy()
            for i, (k, v) in enumerate(keys.items()):
                c.insert(i, k, v)
            parts.append(c)
    return pd.concat(parts, ignore_index=True)


def assemble(t, runs, results) -> dict[str, pd.DataFrame]:
    """Tidy frames (one per contract file) from the runs and their results."""
    chance = math.log(10)
    init = _summaries(runs, results, "init")
    lr = _summaries(runs, results, "lr")
    lr["stable"] = ~lr["diverged"].astype(bool) & (lr["train_loss"] < chance)
    pick = best_lr(lr, "norm")
    curves = _curves(runs, results, "lr", ["step", "train_loss", "val_loss", "val_acc"])
    speed = curves.merge(pick, on=["norm", "learning_rate"])
    speed = speed.merge(lr[["norm", "learning_rate", "seed", "steps_to_target"]], on=["norm", "learning_rate", "seed"])
    fig1 = _curves(runs, results, "fig1", ["step", "train_loss", "val_acc", "p15", "p50", "p85"])
    fig1_sum = _summaries(runs, results, "fig1")
    fig1 = fig1.merge(fig1_sum[["norm", "seed", "steps_to_target"]], on=["norm", "seed"])
    depth = _summaries(runs, results, "depth")
    grads = []
    for (e, keys, _), res in zip(runs, results):
        if e == "depth":
            g = res["grads"].copy()
            for i, (k, v) in enumerate(keys.items()):
                g.insert(i, k, v)
            grads.append(g)
    grads = pd.concat(grads, ignore_index=True)
    first = grads[grads["layer"] == 1].set_index(["init", "norm", "depth", "seed"])
    last_hidden = grads[grads["layer"] == grads["depth"]].set_index(["init", "norm", "depth", "seed"])
    idx = pd.MultiIndex.from_frame(depth[["init", "norm", "depth", "seed"]])
    depth["grad_ratio"] = (first["grad_w_norm"] / last_hidden["grad_w_norm"]).reindex(idx).to_numpy()
    depth["rel_grad_first"] = (first["grad_w_norm"] / first["w_norm"]).reindex(idx).to_numpy()
    depth["status"] = np.where(depth["diverged"].astype(bool), "diverged",
                      np.where(depth["best_val_acc"] >= t.target_accuracy, "converged",
                      np.where(depth["train_loss"] >= 0.9 * chance, "stalled", "slow")))
    batch = _summaries(runs, results, "batch")
    batch["gap"] = batch["val_acc_train_mode"] - batch["val_acc"]
    reg = _summaries(runs, results, "reg")
    reg["gap"] = reg["train_acc"] - reg["val_acc"]
    pre = _summaries(runs, results, "pre")
    frames = {
        INIT.name: init, LR.name: lr, SPEED.name: speed, FIG1.name: fig1,
        DEPTH.name: depth, DEPTH_GRADS.name: grads, BATCH.name: batch, REG.name: reg,
        PRE.name: pre,
    }
    return {name: contract.check_frame(name, df[[c for c in df.columns if c in _cols(name)]]) for name, df in frames.items()}


def _cols(name):
    return set(contract.DATA_FILES[name].column_names)


def run_training(cfg, cache, executor=None, quiet=False, write=True) -> dict[str, pd.DataFrame]:
    """Run (or load from ``cache``) every training run, write the CSVs and ``claims.csv``.

    Returns {csv name: frame} plus ``"__stats__"``: [RunStats] for the pipeline's summary line.
    """
    return finish_training(submit_training(cfg, cache, executor), quiet=quiet, write=write)


@dataclass
class PendingTraining:
    cfg: object
    runs: list
    keys: list
    pending: PendingTasks


def submit_training(cfg, cache, executor=None) -> PendingTraining:
    """Plan the runs and queue the cache misses on ``executor`` (see runner.submit_tasks)."""
    runs = plan(cfg.training)
    unique: dict[str, dict] = {}
    for _, _, params in runs:
        unique.setdefault(_key(params), params)
    keys = list(unique)
    return PendingTraining(cfg, runs, keys, submit_tasks(KIND, [unique[k] for k in keys], cache, executor))


def finish_training(p: PendingTraining, quiet=False, write=True) -> dict[str, pd.DataFrame]:
    """Wait for :func:`submit_training`'s runs, then assemble and (``write``) write the CSVs."""
    from generator.analysis.training_claims import CLAIMS, claims_frame

    t = p.cfg.training
    results, stats = p.pending.collect(quiet)
    by_key = dict(zip(p.keys, results))
    frames = assemble(t, p.runs, [by_key[_key(q)] for _, _, q in p.runs])
    frames[CLAIMS.name] = contract.check_frame(CLAIMS.name, claims_frame(frames, t))
    if write:
        data_dir = resolve(p.cfg.output.docs_dir) / "data"
        for name, df in frames.items():
            contract.write_csv(name, df, data_dir)
    frames["__stats__"] = [stats]
    return frames
