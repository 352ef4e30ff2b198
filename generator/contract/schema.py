"""The data contract: every CSV under ``site/docs/data/`` and what each column means.

This is the interface the site, readers, the interactive explorer and cluster sweeps share. Files are
tidy (one observation per row), UTF-8, comma-separated, with a header row; floats are written with
17 significant digits (round-trip exact); an empty field means "undefined" (NaN); ``inf``/``-inf``
are written as such; booleans are ``True``/``False``. Column order is as listed here, and
:func:`check_frame` enforces it before a file is written, so a change to the contract is a change to
this module (and to the data dictionary page, which is rendered from it).
"""

from __future__ import annotations

import pandas as pd

from generator.contract.datafile import Column, DataFile, _c  # noqa: F401  (re-exported)
from generator.contract.health import HEALTH
from generator.contract.phase import PHASE_FILES
from generator.contract.trainability import TRAINABILITY
from generator.contract.training import CLAIMS, TRAINING_FILES

KEYS = (
    _c("init", "str", "가중치 초기화(initialization) 방식 식별자", "weight initialization scheme identifier"),
    _c("activation", "str", "활성화 함수(activation) 식별자", "activation function identifier"),
    _c(
        "norm",
        "str",
        "정규화 방식: none, bn(affine → BN → 활성화), bn_post(활성화 → BN)",
        "normalization: none, bn (affine → BN → activation), bn_post (activation → BN)",
    ),
    _c(
        "seed",
        "int",
        "난수 시드(seed): 입력 X, 가중치, 상류 기울기 G를 결정",
        "random seed: fixes the input X, the weights and the upstream gradient G",
    ),
)

LAYER = _c("layer", "int", "은닉층 번호(1부터)", "hidden layer number (1-based)")

PROPAGATION = DataFile(
    "propagation.csv",
    "층별 순전파·역전파 통계: (init, activation, norm, seed, layer)마다 한 행",
    "Per-layer forward and backward statistics: one row per (init, activation, norm, seed, layer)",
    KEYS
    + (
        LAYER,
        _c("mean", "float", "층 출력 H의 평균", "mean of the layer output H"),
        _c("std", "float", "층 출력 H의 표준편차(std)", "standard deviation of the layer output H"),
        _c("min", "float", "층 출력 H의 최솟값", "minimum of the layer output H"),
        _c("max", "float", "층 출력 H의 최댓값", "maximum of the layer output H"),
        _c(
            "saturated_frac",
            "float",
            "포화 비율: 활성화 함수의 기울기가 최대 기울기의 1% 미만인 원소의 비율",
            "saturated fraction: share of units whose activation slope is below 1% of its maximum slope",
        ),
        _c("zero_frac", "float", "출력이 정확히 0인 원소의 비율", "share of outputs exactly equal to zero"),
        _c(
            "preact_std",
            "float",
            "사전 활성값(pre-activation) XW의 표준편차",
            "standard deviation of the pre-activation XW",
        ),
        _c(
            "grad_h_std",
            "float",
            "손실 L = Σ(H_L ⊙ G)/N에 대한 dL/dH의 표준편차",
            "standard deviation of dL/dH for the loss L = Σ(H_L ⊙ G)/N",
        ),
        _c("grad_w_norm", "float", "dL/dW의 프로베니우스 노름(Frobenius norm)", "Frobenius norm of dL/dW"),
        _c("grad_w_ratio", "float", "‖dL/dW‖ / ‖W‖ (W = 0이면 비어 있음)", "‖dL/dW‖ / ‖W‖ (empty when W = 0)"),
        _c(
            "theory_std",
            "float",
            "평균장(mean-field) 이론이 예측한 출력 표준편차 (norm = none이고 무작위 초기화일 때만)",
            "output std predicted by mean-field theory (only for norm = none with a random init)",
        ),
        _c(
            "diverged",
            "bool",
            "발산 여부: 출력에 유한하지 않은 값이 있거나 RMS가 diverge_rms를 넘으면 True (이후 층도 True)",
            "diverged: True once the output has a non-finite value or its RMS exceeds diverge_rms (and for every later layer)",
        ),
    ),
)

HISTOGRAMS = DataFile(
    "histograms.csv",
    "층 출력 히스토그램: 활성화 함수마다 고정된 구간(bin) 경계, 양 끝은 범위 밖 값을 모으는 구간",
    "Histograms of layer outputs on fixed bin edges per activation; the first and last bins collect values outside the range",
    KEYS
    + (
        LAYER,
        _c("bin", "int", "구간 번호: 0은 (−∞, lo), 마지막은 (hi, ∞)", "bin index: 0 is (−∞, lo), the last is (hi, ∞)"),
        _c("lo", "float", "구간 왼쪽 경계", "left bin edge"),
        _c("hi", "float", "구간 오른쪽 경계", "right bin edge"),
        _c("count", "int", "구간에 든 원소 수 (NaN 제외)", "number of values in the bin (NaN not counted)"),
    ),
)

SYMMETRY = DataFile(
    "symmetry.csv",
    "대칭성(symmetry) 실험: SGD 한 단계 전후의 서로 다른 은닉 유닛 수",
    "Symmetry experiment: distinct hidden units before and after one SGD step",
    (
        _c("init", "str", "초기화 방식 (constant 포함)", "initialization scheme (including constant)"),
        _c("activation", "str", "활성화 함수", "activation function"),
        _c("seed", "int", "난수 시드", "random seed"),
        LAYER,
        _c("phase", "str", "before(초기) 또는 after(SGD 한 단계 후)", "before (at init) or after (one SGD step)"),
        _c(
            "distinct_units",
            "int",
            "서로 다른 은닉 유닛 출력 열(column)의 수",
            "number of distinct hidden-unit output columns",
        ),
        _c("distinct_weights", "int", "서로 다른 입력 가중치 벡터의 수", "number of distinct incoming weight vectors"),
        _c("width", "int", "층의 폭(유닛 수): 가능한 최댓값", "layer width (units): the largest possible count"),
    ),
)

THEORY = DataFile(
    "theory.csv",
    "평균장 이론의 층별 예측 (norm = none, 무작위 초기화; 격자 깊이와 [theory] depth 중 큰 쪽까지)",
    "Mean-field predictions per layer (norm = none, random inits; to the larger of the grid depth and [theory] depth)",
    (
        KEYS[0],
        KEYS[1],
        LAYER,
        _c(
            "q",
            "float",
            "사전 활성값(pre-activation)의 2차 모멘트(second moment) q^l",
            "second moment q^l of the pre-activation",
        ),
        _c(
            "chi",
            "float",
            "χ(q^l) = σ_w² E[φ′(√q^l z)²]: 이 층을 거슬러 갈 때 기울기 제곱이 곱해지는 값 (표준편차는 √χ배)",
            "χ(q^l) = σ_w² E[φ′(√q^l z)²]: the factor the squared gradient picks up going back "
            "through this layer (its std: √χ)",
        ),
        _c("theory_mean", "float", "예측한 층 출력 평균", "predicted mean of the layer output"),
        _c("theory_std", "float", "예측한 층 출력 표준편차", "predicted standard deviation of the layer output"),
    ),
)

THEORY_FIXED = DataFile(
    "theory_fixed.csv",
    "평균장 재귀식(recursion)의 점근 거동: q¹ = σ_w²에서 출발한 q^l의 극한, χ₁, 성장률, 영역(regime). "
    "(init, activation)마다 한 행",
    "Asymptotics of the mean-field recursion: the limit of q^l started at q¹ = σ_w², χ₁, growth factor and "
    "regime; one row per (init, activation)",
    (
        KEYS[0],
        KEYS[1],
        _c("sigma_w2", "float", "σ_w² = fan_in · Var(W)", "σ_w² = fan_in · Var(W)"),
        _c("q1", "float", "출발점 q¹ = σ_w² · q⁰ (q⁰ = 1)", "starting point q¹ = σ_w² · q⁰ (q⁰ = 1)"),
        _c(
            "q_star",
            "float",
            "q¹에서 출발한 q^l이 다가가는 고정점 q* (0일 수 있고, 발산하면 inf)",
            "fixed point q* that q^l approaches from q¹ (may be 0; inf when it grows without bound)",
        ),
        _c(
            "chi1",
            "float",
            "χ₁ = σ_w² E[φ′(√q* z)²] (q* = 0이면 한쪽 극한, q* = inf이면 q = 10¹²에서)",
            "χ₁ = σ_w² E[φ′(√q* z)²] (one-sided limit at q* = 0, taken at q = 10¹² when q* = inf)",
        ),
        _c(
            "dfdq",
            "float",
            "F′(q*): 고정점에서 분산 사상 F(q) = σ_w² E[φ(√q z)²]의 기울기 (q* = inf이면 비어 있음)",
            "F′(q*): slope of the variance map F(q) = σ_w² E[φ(√q z)²] at the fixed point (empty when q* = inf)",
        ),
        _c(
            "growth",
            "float",
            "점근적인 층당 q 증가율 lim q^(l+1)/q^l (유한한 q* > 0이면 1)",
            "asymptotic per-layer growth factor of q, lim q^(l+1)/q^l (1 when q* is finite and positive)",
        ),
        _c(
            "fixed_point_stable",
            "bool",
            "q*가 유한하고 안정적(stable)인가: |F′(q*)| < 1, 또는 F′(q*) = 1이면서 q^l이 q*로 다가감",
            "whether q* is finite and stable: |F′(q*)| < 1, or F′(q*) = 1 with q^l moving towards q*",
        ),
        _c(
            "regime",
            "str",
            "ordered, critical, marginal, chaotic, explodes (규칙은 평균장 이론 페이지)",
            "ordered, critical, marginal, chaotic, explodes (rules on the mean-field theory page)",
        ),
    ),
)

_CASE = _c(
    "case",
    "str",
    "원본 노트의 코드 조각: small_tanh, large_tanh, xavier_tanh, xavier_relu, he_relu_as_printed, he_relu_corrected",
    "the source note's code snippet: small_tanh, large_tanh, xavier_tanh, xavier_relu, he_relu_as_printed, he_relu_corrected",
)

SEED_PRINTED = DataFile(
    "seed_printed.csv",
    "원본 노트에 인쇄된 숫자 (인용 자료; layer 0은 입력)",
    "Numbers printed in the source note (quotation data; layer 0 is the input)",
    (
        _CASE,
        _c("layer", "int", "층 번호 (0 = 입력)", "layer (0 = input)"),
        _c("mean", "float", "인쇄된 평균", "printed mean"),
        _c("std", "float", "인쇄된 표준편차", "printed standard deviation"),
    ),
)

SEED_CODE = DataFile(
    "seed_code.csv",
    "원본 노트의 코드를 쓰인 그대로 다시 실행한 결과 (layer 0은 입력)",
    "The source note's code re-run as written (layer 0 is the input)",
    (
        _CASE,
        KEYS[3],
        _c("layer", "int", "층 번호 (0 = 입력)", "layer (0 = input)"),
        _c("mean", "float", "측정한 평균", "measured mean"),
        _c("std", "float", "측정한 표준편차", "measured standard deviation"),
    ),
)

PLACEMENT = DataFile(
    "placement.csv",
    "BN 위치 비교용 추가 측정: 격자에 bn_post가 없을 때 bn_post(활성화 → BN)로 몇 가지 (init, activation)을 첫 시드로 "
    "다시 잰 층별 통계 (격자에 bn_post가 있으면 비어 있고, 비교는 propagation.csv의 행을 씀)",
    "Extra runs for the BN placement comparison: per-layer statistics of a few (init, activation) pairs with bn_post "
    "(activation → BN) at the first seed, when the grid has no bn_post (empty when it has: the comparison then uses "
    "propagation.csv)",
    tuple(c for c in PROPAGATION.columns if c.name != "theory_std"),
)

# The order is the order of the data dictionary, results and reproducibility pages (published).
DATA_FILES: dict[str, DataFile] = {
    f.name: f
    for f in (
        PROPAGATION,
        HISTOGRAMS,
        SYMMETRY,
        THEORY,
        THEORY_FIXED,
        SEED_PRINTED,
        SEED_CODE,
        PLACEMENT,
        HEALTH,
        *TRAINING_FILES,
        CLAIMS,
        *PHASE_FILES,
        TRAINABILITY,
    )
}


def check_frame(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with exactly the contract's columns in order; raise if any is missing or extra."""
    spec = DATA_FILES[name]
    missing = [c for c in spec.column_names if c not in df.columns]
    extra = [c for c in df.columns if c not in spec.column_names]
    if missing or extra:
        raise ValueError(f"{name}: columns do not match the contract (missing {missing}, extra {extra})")
    return df[spec.column_names]


def write_csv(name: str, df: pd.DataFrame, data_dir) -> None:
    """Write one contract file (atomically: a unique temp file renamed into place)."""
    from pathlib import Path

    from generator.common.atomic import open_atomic

    df = check_frame(name, df)
    with open_atomic(Path(data_dir) / name, "w", encoding="utf-8") as fh:
        df.to_csv(fh, index=False, float_format="%.17g", lineterminator="\n")


def read_csv(name: str, data_dir) -> pd.DataFrame:
    from pathlib import Path

    spec = DATA_FILES[name]
    dtypes = {
        c.name: {"str": "string", "int": "int64", "float": "float64", "bool": "bool"}[c.dtype] for c in spec.columns
    }
    df = pd.read_csv(Path(data_dir) / name, dtype={k: v for k, v in dtypes.items() if v != "bool"})
    for c in spec.columns:
        if c.dtype == "bool":
            df[c.name] = df[c.name].astype(bool)
        if c.dtype == "str":
            df[c.name] = df[c.name].astype(object)
    return check_frame(name, df)
