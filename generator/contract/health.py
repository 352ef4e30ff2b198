"""``health.csv``: one row per (init, activation, norm) -- the forward and backward labels and the numbers
behind them. The rules (thresholds, order) are generator/analysis/health.py's and are printed on the home
page; this module only names and describes the columns (label vocabularies listed in the descriptions are
checked against the analysis module by tests/test_health.py)."""

from __future__ import annotations

from generator.contract.datafile import DataFile, _c

_LAST = "마지막 은닉층 L"
HEALTH = DataFile(
    "health.csv",
    "구성별 건강 기록(health record): (init, activation, norm)마다 한 행, 순전파·역전파 판정과 그 근거 수치 "
    "(판정 규칙은 홈 페이지에 있음)",
    "Health record per configuration: one row per (init, activation, norm), the forward and backward labels and "
    "the numbers behind them (the rules are stated on the home page)",
    (
        _c("init", "str", "가중치 초기화(initialization) 방식 식별자", "weight initialization scheme identifier"),
        _c("activation", "str", "활성화 함수(activation) 식별자", "activation function identifier"),
        _c("norm", "str", "정규화 방식 (propagation.csv와 같음)", "normalization (as in propagation.csv)"),
        _c(
            "forward",
            "str",
            f"순전파 판정: explodes, vanishes, saturates, ok ({_LAST}의 표준편차와 포화 비율로)",
            "forward label: explodes, vanishes, saturates, ok (from the last hidden layer L's std and saturated fraction)",
        ),
        _c(
            "backward",
            "str",
            "역전파 판정: unmeasured, vanishes, explodes, ok (기울기 비 grad_ratio로)",
            "backward label: unmeasured, vanishes, explodes, ok (from the gradient ratio grad_ratio)",
        ),
        _c("healthy", "bool", "forward와 backward가 모두 ok이면 True", "True when both forward and backward are ok"),
        _c("n_seeds", "int", "구성의 시드(seed) 수", "number of seeds of the configuration"),
        _c("n_ok", "int", f"{_LAST}에서 발산하지 않은 시드 수", "seeds not diverged at the last layer L"),
        _c(
            "last_std",
            "float",
            f"{_LAST} 출력 표준편차의 시드 평균 (모든 시드가 발산하면 inf)",
            "seed mean of the last layer L's output std (inf when every seed diverged)",
        ),
        _c("last_std_lo", "float", "시드별 last_std의 최솟값", "minimum of the per-seed last-layer std"),
        _c("last_std_hi", "float", "시드별 last_std의 최댓값", "maximum of the per-seed last-layer std"),
        _c(
            "last_std_ci_low",
            "float",
            "last_std 시드 평균의 95% t 신뢰구간 하한 (시드 2개 미만이면 비어 있음)",
            "lower end of the 95 % t interval of the seed mean of last_std (empty with fewer than 2 seeds)",
        ),
        _c("last_std_ci_high", "float", "같은 구간의 상한", "upper end of the same interval"),
        _c(
            "saturated_frac",
            "float",
            f"{_LAST} 포화 비율의 시드 평균",
            "seed mean of the last layer L's saturated fraction",
        ),
        _c(
            "saturation_baseline",
            "float",
            "표준정규 입력에서 같은 활성화 함수의 포화 비율 (기준선)",
            "saturated fraction of the same activation on a standard normal input (the baseline)",
        ),
        _c(
            "first_diverged",
            "float",
            "어느 시드든 처음 발산한 층 (발산하지 않았으면 비어 있음)",
            "first layer at which any seed diverged (empty if none did)",
        ),
        _c("grad_first", "float", "층 1에서 dL/dH 표준편차의 시드 평균", "seed mean of the std of dL/dH at layer 1"),
        _c(
            "grad_last",
            "float",
            f"{_LAST}에서 dL/dH 표준편차의 시드 평균",
            "seed mean of the std of dL/dH at the last layer L",
        ),
        _c(
            "grad_ratio",
            "float",
            "기울기 비 grad_first / grad_last: 맨 위 층에 들어온 기울기 중 층 1까지 닿는 몫",
            "gradient ratio grad_first / grad_last: how much of the gradient entering the top layer reaches layer 1",
        ),
        _c("grad_ratio_lo", "float", "시드별 기울기 비의 최솟값", "minimum of the per-seed gradient ratio"),
        _c("grad_ratio_hi", "float", "시드별 기울기 비의 최댓값", "maximum of the per-seed gradient ratio"),
        _c(
            "forward_a",
            "str",
            "시드를 둘로 나눈 첫 절반(정렬한 시드의 짝수 번째)만으로 낸 순전파 판정 (빈 절반이면 empty)",
            "forward label on the first seed half (even positions of the sorted seeds; the word empty when the half has no seed)",
        ),
        _c(
            "forward_b",
            "str",
            "둘째 절반(홀수 번째)만으로 낸 순전파 판정",
            "forward label on the second seed half (odd positions)",
        ),
        _c("backward_a", "str", "첫 절반만으로 낸 역전파 판정", "backward label on the first seed half"),
        _c("backward_b", "str", "둘째 절반만으로 낸 역전파 판정", "backward label on the second seed half"),
        _c(
            "stability",
            "str",
            "stable(두 절반의 판정이 전체 판정과 같음), unstable(다름), untested(빈 절반이 있음)",
            "stable (both halves give the all-seed labels), unstable (they differ), untested (a half has no seed)",
        ),
    ),
)
