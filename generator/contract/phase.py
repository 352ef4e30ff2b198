"""The phase-diagram data files (``phase_*.csv``): columns, types, ko/en descriptions.

Part of the data contract (generator/contract/schema.py lists every file in the order the data
dictionary shows them). The phase stage (generator/pipeline/phase_stage.py) writes these files from the
``[phase]`` config; the theory columns are generator/engine/phase.py's, the measurements
generator/experiments/phase_run.py's.
"""

from __future__ import annotations

from generator.contract.datafile import Column, DataFile

_c = Column

_ACT = _c("activation", "str", "활성화 함수", "activation function")
_SW = _c("sigma_w2", "float", "가중치 분산 σ_w² (W ~ N(0, σ_w²/N))", "weight variance σ_w² (W ~ N(0, σ_w²/N))")
_SB = _c("sigma_b2", "float", "편향 분산 σ_b² (b ~ N(0, σ_b²))", "bias variance σ_b² (b ~ N(0, σ_b²))")
_QSTAR = _c(
    "q_star",
    "float",
    "분산 맵의 고정점 q* (사전 활성값 (pre-activation)의 분산이 깊이에 따라 다가가는 값); 발산하면 inf",
    "fixed point q* of the variance map (the pre-activation variance in the deep limit); inf when it grows without bound",
)

PHASE_THEORY = DataFile(
    "phase_theory.csv",
    "평균장 이론의 상도(phase diagram): (activation, sigma_w2, sigma_b2) 격자의 점마다 한 행",
    "Mean-field phase diagram: one row per (activation, sigma_w2, sigma_b2) point of the theory grid",
    (
        _ACT,
        _SW,
        _SB,
        _QSTAR,
        _c(
            "c_star",
            "float",
            "상관 맵의 안정 고정점 c* (질서 상에서는 1); explodes이면 비어 있음",
            "stable fixed point c* of the correlation map (1 in the ordered phase); empty when q explodes",
        ),
        _c(
            "chi1",
            "float",
            "χ₁ = σ_w² E[φ′(h)²] at q*: 1보다 크면 혼돈, 작으면 질서",
            "χ₁ = σ_w² E[φ′(h)²] at q*: above 1 chaos, below 1 order",
        ),
        _c("chi_c", "float", "c*에서 상관 맵의 기울기 χ_c", "slope χ_c of the correlation map at c*"),
        _c(
            "xi_q",
            "float",
            "분산의 깊이 척도 ξ_q (층 수); 임계선에서 inf",
            "depth scale ξ_q of the variance (layers); inf on the critical line",
        ),
        _c(
            "xi_c",
            "float",
            "상관의 깊이 척도 ξ_c = −1/ln χ_c (층 수); 임계선에서 inf",
            "depth scale ξ_c = −1/ln χ_c of the correlation (layers); inf on the critical line",
        ),
        _c(
            "regime",
            "str",
            "상태: ordered(질서), critical(임계), chaotic(혼돈), explodes(q가 무한히 커짐)",
            "regime: ordered, critical, chaotic, or explodes (q grows without bound)",
        ),
    ),
)

PHASE_CRITICAL = DataFile(
    "phase_critical.csv",
    "임계선 χ₁ = 1: 이론 격자의 σ_b²마다 임계 σ_w²와 그 점의 q*",
    "Critical line χ₁ = 1: the critical σ_w² at each σ_b² of the theory grid, with q* there",
    (
        _ACT,
        _SB,
        _c(
            "sigma_w2_critical",
            "float",
            "χ₁ = 1이 되는 σ_w²; 탐색 범위에서 없으면 비어 있음",
            "the σ_w² where χ₁ = 1; empty when there is none in the search range",
        ),
        _QSTAR,
    ),
)

PHASE_MEASURED = DataFile(
    "phase_measured.csv",
    "유한 너비 측정: 무작위 MLP에 입력 쌍을 통과시켜 잰 층별 q와 c, (activation, sigma_w2, sigma_b2, width, seed, layer)마다 한 행",
    "Finite-width measurements: per-layer q and c of random MLPs fed with input pairs; one row per "
    "(activation, sigma_w2, sigma_b2, width, seed, layer)",
    (
        _ACT,
        _SW,
        _SB,
        _c("width", "int", "층의 너비 N", "layer width N"),
        _c(
            "seed",
            "int",
            "난수 시드(seed): 입력과 가중치·편향을 결정 (같은 (seed, width)의 모든 점이 같은 가중치 뽑기를 공유)",
            "random seed: fixes the inputs, weights and biases (every point of one (seed, width) shares one weight draw)",
        ),
        _c("layer", "int", "층 번호 (1 = 첫 사전 활성값)", "layer (1 = the first pre-activation)"),
        _c(
            "q",
            "float",
            "입력들에 대한 |h|²/N의 평균 (h: 사전 활성값)",
            "mean over the inputs of |h|²/N (h: pre-activation)",
        ),
        _c(
            "c",
            "float",
            "입력 쌍들에 대한 사전 활성값 상관 h_a·h_b/(|h_a||h_b|)의 평균",
            "mean over the input pairs of the pre-activation correlation h_a·h_b/(|h_a||h_b|)",
        ),
        _c(
            "c_lag1",
            "float",
            "입력 쌍들에 걸친 공분산: 쌍 k의 상관 c_k가 이 층과 바로 앞 층에서 쌍 평균을 벗어난 정도의 곱의 평균 "
            "(혼돈 상의 ξ_c 추정에 씀); 첫 층에서 비어 있음",
            "covariance over the input pairs of each pair's correlation c_k at this layer and at the layer before: the "
            "mean of the product of their deviations from the pair means (used by the chaotic-phase ξ_c fit); empty at layer 1",
        ),
        _c(
            "c_lag2",
            "float",
            "c_lag1과 같되 두 층 앞과의 공분산; 첫 두 층에서 비어 있음",
            "as c_lag1, with the layer two before; empty at layers 1 and 2",
        ),
    ),
)

PHASE_FILES = (PHASE_THEORY, PHASE_CRITICAL, PHASE_MEASURED)
