"""``trainability.csv``: columns, types, ko/en descriptions (issue 17 item 7).

Part of the data contract (generator/contract/schema.py lists every file in the order the data dictionary
shows them). The trainability stage (generator/pipeline/trainability_stage.py) writes it; the analysis in
generator/analysis/trainability.py and the order-and-chaos page read it.
"""

from __future__ import annotations

from generator.contract.datafile import Column, DataFile

_c = Column

TRAINABILITY = DataFile(
    "trainability.csv",
    "학습 가능성(trainability): 편향이 있는 MLP를 digits로 정해진 단계만큼 SGD로 학습한 뒤의 검증 정확도, "
    "(activation, sigma_w2, sigma_b2, depth, seed)마다 한 행 (Schoenholz et al. 2017 Fig. 5에 해당)",
    "Trainability: validation accuracy of an MLP with biases after a fixed number of plain SGD steps on digits, "
    "one row per (activation, sigma_w2, sigma_b2, depth, seed) (the analogue of Schoenholz et al. 2017 Fig. 5)",
    (
        _c("activation", "str", "활성화 함수 (모든 은닉층)", "activation function (every hidden layer)"),
        _c(
            "sigma_w2",
            "float",
            "가중치 분산 배율 σ_w²: 모든 층에서 W ~ N(0, σ_w²/fan_in)",
            "weight variance σ_w²: W ~ N(0, σ_w²/fan_in) in every layer",
        ),
        _c(
            "sigma_b2",
            "float",
            "편향 분산 σ_b²: 모든 은닉층에서 b ~ N(0, σ_b²)",
            "bias variance σ_b²: b ~ N(0, σ_b²) in every hidden layer",
        ),
        _c("depth", "int", "은닉층 수 (정규화 없음)", "number of hidden layers (no normalization)"),
        _c(
            "seed",
            "int",
            "난수 시드(seed): 가중치·편향, 미니배치 순서를 결정",
            "random seed: fixes the weights, the biases and the minibatch order",
        ),
        _c(
            "accuracy",
            "float",
            "학습 끝의 검증 정확도 (10개 클래스: 찍기 수준은 0.1); 발산하면 비어 있음",
            "final validation accuracy (10 classes: chance is 0.1); empty if the run diverged",
        ),
    ),
)
