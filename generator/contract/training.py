"""The training data files (``training_*.csv``) and ``claims.csv``: columns, types, ko/en descriptions.

Part of the data contract (generator/contract/schema.py lists every file in the order the data
dictionary shows them). The training stage writes these files; the training and conclusions pages
and the training figures read them.
"""

from __future__ import annotations

from generator.contract.datafile import Column, DataFile

_c = Column


def _seed():
    return _c(
        "seed",
        "int",
        "난수 시드(seed): 가중치, 미니배치 순서, 드롭아웃 마스크를 결정",
        "random seed: fixes the weights, the minibatch order and the dropout masks",
    )


def _norm():
    return _c(
        "norm",
        "str",
        "정규화: none(없음) 또는 bn(배치 정규화, affine → BN → 활성화)",
        "normalization: none or bn (batch norm, affine → BN → activation)",
    )


_TRAIN_LOSS = _c(
    "train_loss",
    "float",
    "학습 끝의 훈련 손실(교차 엔트로피, 훈련 집합 전체, test 모드); 발산하면 비어 있음",
    "final training loss (cross-entropy on the whole training set, test mode); empty if diverged",
)
_TRAIN_ACC = _c("train_acc", "float", "학습 끝의 훈련 정확도 (test 모드)", "final training accuracy (test mode)")
_VAL_LOSS = _c("val_loss", "float", "학습 끝의 검증 손실", "final validation loss")
_VAL_ACC = _c(
    "val_acc",
    "float",
    "학습 끝의 검증 정확도 (test 모드: 이동 평균 통계)",
    "final validation accuracy (test mode: running statistics)",
)
_BEST = _c(
    "best_val_acc", "float", "평가 시점들 중 가장 높은 검증 정확도", "highest validation accuracy over the evaluations"
)
_STEPS = _c(
    "steps_to_target",
    "float",
    "검증 정확도가 처음 목표(target_accuracy)에 닿은 단계; 못 닿으면 비어 있음",
    "first step at which validation accuracy reached target_accuracy; empty if never",
)
_DIV = _c(
    "diverged",
    "bool",
    "발산: 손실이나 파라미터에 유한하지 않은 값이 생김",
    "diverged: the loss or a parameter became non-finite",
)
_LR = _c("learning_rate", "float", "학습률(learning rate) η", "learning rate η")

INIT = DataFile(
    "training_init.csv",
    "초기화 민감도: 모든 층 W = scale·N(0,1), (activation, norm, init_scale, seed)마다 한 행",
    "Init sensitivity: W = scale·N(0,1) in every layer; one row per (activation, norm, init_scale, seed)",
    (
        _c("activation", "str", "활성화 함수", "activation function"),
        _norm(),
        _c("init_scale", "float", "가중치 배율 scale", "weight scale"),
        _seed(),
        _TRAIN_LOSS,
        _TRAIN_ACC,
        _VAL_ACC,
        _DIV,
    ),
)
LR = DataFile(
    "training_lr.csv",
    "학습률 탐색: (norm, learning_rate, seed)마다 한 행",
    "Learning-rate sweep: one row per (norm, learning_rate, seed)",
    (
        _norm(),
        _LR,
        _seed(),
        _TRAIN_LOSS,
        _VAL_LOSS,
        _VAL_ACC,
        _BEST,
        _STEPS,
        _DIV,
        _c(
            "stable",
            "bool",
            "안정: 발산하지 않았고 마지막 훈련 손실이 ln 10(무작위 추측의 손실)보다 작음",
            "stable: did not diverge and the final training loss is below ln 10 (chance level)",
        ),
    ),
)
SPEED = DataFile(
    "training_speed.csv",
    "학습 속도: norm마다 가장 좋은 학습률에서의 검증 곡선, (norm, seed, step)마다 한 행",
    "Training speed: validation curves at each norm's best learning rate; one row per (norm, seed, step)",
    (
        _norm(),
        _LR,
        _seed(),
        _c("step", "int", "SGD 단계", "SGD step"),
        _c(
            "train_loss",
            "float",
            "직전 평가 이후 미니배치 손실의 평균",
            "mean minibatch loss since the previous evaluation",
        ),
        _c("val_loss", "float", "검증 손실", "validation loss"),
        _c("val_acc", "float", "검증 정확도", "validation accuracy"),
        _STEPS,
    ),
)
FIG1 = DataFile(
    "training_fig1.csv",
    "Ioffe & Szegedy 그림 1 재현: 시그모이드 망의 검증 정확도와 한 유닛 입력의 분위수, (norm, seed, step)마다 한 행",
    "Ioffe & Szegedy Fig. 1 analogue: validation accuracy and the percentiles of one unit's input; one row per (norm, seed, step)",
    (
        _norm(),
        _seed(),
        _c("step", "int", "SGD 단계", "SGD step"),
        _c(
            "train_loss",
            "float",
            "직전 평가 이후 미니배치 손실의 평균",
            "mean minibatch loss since the previous evaluation",
        ),
        _c("val_acc", "float", "검증 정확도", "validation accuracy"),
        _c(
            "p15",
            "float",
            "마지막 은닉층 0번 유닛의 시그모이드 입력, 검증 집합의 15번째 백분위수. train 모드로 읽음: 검증 집합을 섞어 "
            "N // batch_size개 미니배치로 나누고 각 배치의 통계로 정규화(이동 평균 통계는 건드리지 않음). 학습 초반에 아직 "
            "자리 잡지 않은 이동 평균 대신, 학습 단계가 실제로 보는 분포",
            "15th percentile over the validation set of the sigmoid input of unit 0 in the last hidden layer, read in "
            "train mode: the validation set shuffled into N // batch_size minibatches, each normalized with its own "
            "statistics (running statistics untouched) -- what the training steps see, not the running averages that "
            "are still warming up early in training",
        ),
        _c(
            "p50",
            "float",
            "같은 입력의 중앙값(50번째 백분위수, train 모드)",
            "its median (50th percentile, train mode)",
        ),
        _c("p85", "float", "같은 입력의 85번째 백분위수 (train 모드)", "its 85th percentile (train mode)"),
        _STEPS,
    ),
)
DEPTH = DataFile(
    "training_depth.csv",
    "깊이 실험(ReLU, 모멘텀 SGD): (init, norm, depth, seed)마다 한 행",
    "Depth experiment (ReLU, SGD with momentum): one row per (init, norm, depth, seed)",
    (
        _c("init", "str", "초기화: he 또는 xavier", "initialization: he or xavier"),
        _norm(),
        _c("depth", "int", "은닉층 수", "number of hidden layers"),
        _seed(),
        _TRAIN_LOSS,
        _VAL_LOSS,
        _VAL_ACC,
        _BEST,
        _STEPS,
        _DIV,
        _c(
            "grad_ratio",
            "float",
            "첫 미니배치에서 ‖∂L/∂W₁‖ / ‖∂L/∂W_depth‖ (첫 은닉층 대 마지막 은닉층)",
            "‖∂L/∂W₁‖ / ‖∂L/∂W_depth‖ on the first minibatch (first vs last hidden layer)",
        ),
        _c("rel_grad_first", "float", "첫 미니배치에서 ‖∂L/∂W₁‖ / ‖W₁‖", "‖∂L/∂W₁‖ / ‖W₁‖ on the first minibatch"),
        _c(
            "status",
            "str",
            "converged(최고 검증 정확도 ≥ 목표), stalled(훈련 손실 ≥ 0.9·ln 10), slow(그 사이), diverged",
            "converged (best val accuracy ≥ target), stalled (training loss ≥ 0.9·ln 10), slow (in between), diverged",
        ),
    ),
)
DEPTH_GRADS = DataFile(
    "training_depth_grads.csv",
    "깊이 실험의 층별 기울기 노름(첫 미니배치, 갱신 전): (init, norm, depth, seed, layer)마다 한 행",
    "Per-layer gradient norms of the depth runs (first minibatch, before any update): one row per (init, norm, depth, seed, layer)",
    (
        _c("init", "str", "초기화", "initialization"),
        _norm(),
        _c("depth", "int", "은닉층 수", "number of hidden layers"),
        _seed(),
        _c("layer", "int", "층 번호(1부터, depth+1은 출력층)", "layer number (1-based; depth+1 is the output layer)"),
        _c("grad_w_norm", "float", "‖∂L/∂W‖ (프로베니우스 노름)", "‖∂L/∂W‖ (Frobenius norm)"),
        _c("w_norm", "float", "‖W‖", "‖W‖"),
    ),
)
BATCH = DataFile(
    "training_batch.csv",
    "배치 크기와 BN (BN 없는 대조군 포함, 같은 에폭 수): (norm, batch_size, learning_rate, seed)마다 한 행. "
    "배치 크기마다 쓸 학습률은 분석 단계가 고름",
    "Batch size and BN, with a no-BN control, the same number of epochs at every batch size: one row per "
    "(norm, batch_size, learning_rate, seed); the analysis picks the learning rate per batch size",
    (
        _norm(),
        _c("batch_size", "int", "미니배치 크기", "minibatch size"),
        _LR,
        _seed(),
        _TRAIN_ACC,
        _VAL_ACC,
        _VAL_LOSS,
        _c(
            "val_acc_train_mode",
            "float",
            "train 모드 검증 정확도: 검증 집합을 N // batch_size개 배치(크기 batch_size 이상 2·batch_size 미만)로 나눠 배치 "
            "통계로 정규화; BN이 없으면(norm = none) 비어 있음",
            "validation accuracy in train mode: the validation set split into N // batch_size batches (batch_size to "
            "2·batch_size − 1 samples), each normalized with its own statistics; empty without BN (norm = none)",
        ),
        _c("gap", "float", "val_acc_train_mode − val_acc", "val_acc_train_mode − val_acc"),
        _DIV,
    ),
)
REG = DataFile(
    "training_reg.csv",
    "규제(regularization) 실험, 작은 훈련 집합, 여러 데이터 분할: (norm, dropout, split, seed)마다 한 행 "
    "(모든 조합이 같은 시드와 분할을 씀: 짝지은 비교)",
    "Regularization experiment on a small training set over several data splits: one row per (norm, dropout, "
    "split, seed) (every arm runs the same seeds and splits: a paired design)",
    (
        _norm(),
        _c("dropout", "float", "드롭아웃 확률 p (0 = 끔)", "dropout probability p (0 = off)"),
        _c(
            "split",
            "int",
            "데이터 분할 시드(split seed): 검증 집합과 작은 훈련 부분집합을 정함",
            "data split seed: draws the validation set and the small training subset",
        ),
        _seed(),
        _TRAIN_LOSS,
        _VAL_LOSS,
        _TRAIN_ACC,
        _VAL_ACC,
        _c("gap", "float", "train_acc − val_acc (일반화 격차)", "train_acc − val_acc (generalization gap)"),
        _DIV,
    ),
)
PRE = DataFile(
    "training_preprocess.csv",
    "입력 전처리 비교(BN 없음): (preprocess, learning_rate, seed)마다 한 행",
    "Input preprocessing (no BN): one row per (preprocess, learning_rate, seed)",
    (
        _c(
            "preprocess",
            "str",
            "raw(0..16 그대로), scale(÷s), center(−μ), standardize((x−μ)÷s); μ, s는 훈련 집합에서",
            "raw (0..16 as is), scale (÷s), center (−μ), standardize ((x−μ)÷s); μ and s from the training set",
        ),
        _LR,
        _seed(),
        _TRAIN_LOSS,
        _VAL_LOSS,
        _VAL_ACC,
        _BEST,
        _STEPS,
        _DIV,
    ),
)
TRAINING_FILES = (INIT, LR, SPEED, FIG1, DEPTH, DEPTH_GRADS, BATCH, REG, PRE)
FILES = TRAINING_FILES

CLAIMS = DataFile(
    "claims.csv",
    "원본 노트의 배치 정규화 주장에 대한 판정: 주장마다 한 행 (규칙은 generator/analysis/training_rules.py와 학습 실험 페이지에 있음)",
    "Verdicts on the source note's batch-norm claims: one row per claim (rules in generator/analysis/training_rules.py and on the training page)",
    (
        _c(
            "claim_id",
            "str",
            "주장: speed, init, overfitting, vanishing, mean",
            "claim: speed, init, overfitting, vanishing, mean",
        ),
        _c(
            "verdict",
            "str",
            "holds(성립), partly(부분적으로 성립), inconclusive(판단 보류), does_not_hold(성립하지 않음). 모든 시드로 내린 판정이되, 두 시드 절반의 판정이 다르면 inconclusive",
            "holds, partly, inconclusive or does_not_hold: the verdict on all seeds, or inconclusive when the two seed halves disagree",
        ),
        _c(
            "effect",
            "float",
            "주된 비교의 효과: 짝지은(같은 시드·분할) 차이의 평균, 주장이 예측하는 방향이 양수. 단위는 주장마다 다름 (values의 primary)",
            "effect of the primary comparison: mean paired difference (same seeds and splits), positive in the claimed direction; unit per claim (values' primary)",
        ),
        _c(
            "ci_low",
            "float",
            "effect의 95% t 구간 하한; 쌍이 2개 미만이면 비어 있음",
            "lower end of effect's 95% t interval; empty with fewer than 2 pairs",
        ),
        _c("ci_high", "float", "effect의 95% t 구간 상한", "upper end of effect's 95% t interval"),
        _c(
            "n_runs",
            "int",
            "주된 비교에 쓴 쌍의 수 (조건마다 실행 수)",
            "pairs in the primary comparison (runs per arm)",
        ),
        _c(
            "setting",
            "str",
            "실험 설정 (key=value; 언어 중립): 데이터, 너비, 깊이, 배치 크기, 학습률, 단계, 시드 수, 분할 수",
            "the setting (key=value; language-neutral): data set, width, depth, batch size, learning rate(s), steps, seeds, splits",
        ),
        _c(
            "verdict_a",
            "str",
            "짝수 번째 시드(정렬 후)만으로 내린 판정",
            "verdict on the seeds at even positions (sorted)",
        ),
        _c("verdict_b", "str", "홀수 번째 시드만으로 내린 판정", "verdict on the seeds at odd positions"),
        _c(
            "evidence",
            "str",
            "판정에 쓴 수치 (key=value; 언어 중립)",
            "the numbers behind the verdict (key=value; language-neutral)",
        ),
        _c(
            "values",
            "str",
            "판정과 근거 문장에 쓰이는 모든 값(JSON 객체): 비교마다 effect, ci_low, ci_high, n, margin, verdict; 수는 정밀도 손실 없이, 정의되지 않은 값은 null. 근거 문장은 사이트가 이 값으로 만듦",
            "every value the verdict and its evidence sentence use (JSON object): per comparison its effect, ci_low, ci_high, n, "
            "margin and verdict; numbers at full precision, null where undefined. The site writes the evidence sentences from these values",
        ),
    ),
)
