"""Verdicts on the seed note's batch-norm claims, computed from the training CSVs by fixed rules.

Every comparison uses the mean over seeds. A difference between two means *counts* only when it
exceeds both twice its standard error (from the seed-to-seed spread, ``sqrt(se_a² + se_b²)``) and a
floor: one validation sample (1/N_val) for accuracies, one evaluation interval (``eval_every``) for
step counts. "Reaches the target" means validation accuracy ≥ ``target_accuracy`` (default 90%).

speed       "BN speeds up training (it allows higher learning rates)".
            faster: mean steps to the target at BN's best learning rate is smaller than without BN's
            (each at the learning rate with the fewest mean steps among those where every seed reaches
            the target), by a counted difference — or only BN reaches it.
            higher_lr: the largest learning rate that is stable on every seed (no divergence, final
            training loss < ln 10) is larger with BN.
            holds = faster and higher_lr; partly = exactly one; does_not_hold = neither.
init        "BN reduces the dependence on the initial weights".
            Per activation, count the weight scales (W = scale·N(0,1)) whose mean final validation
            accuracy reaches the target. holds = BN's count exceeds the no-BN count by at least one
            decade of the grid for every activation; partly = BN's count is larger for at least one
            activation; does_not_hold = otherwise.
overfitting "BN reduces over-fitting and can replace dropout" (small training set).
            gap = training accuracy − validation accuracy. reduces: BN's gap is smaller than plain's
            (counted). like_dropout: BN's gap is not (counted) larger than dropout's and BN's
            validation accuracy is not (counted) lower than dropout's.
            holds = reduces and like_dropout; partly = reduces only; does_not_hold = not reduces.
vanishing   "BN solves the vanishing-gradient problem".
            A *stalled* run is still at chance after training (final training loss ≥ 0.9·ln 10), the
            symptom of gradients too small to move the weights. A *failing* setting is one whose
            no-BN runs mostly stall: each (init, depth) of the depth experiment and the sigmoid network
            of the Fig. 1 analogue. rescued: its BN twin mostly does not stall. balanced: with BN, the
            first-to-last hidden layer gradient ratio ‖∂L/∂W₁‖/‖∂L/∂W_L‖ on the first minibatch (median
            over seeds) lies in [1/10, 10] at every depth.
            holds = at least one failing setting, all rescued, and balanced;
            partly = some rescued (or all, but gradients unbalanced — they explode instead), or no
            setting fails without BN; does_not_hold = failing settings exist and none is rescued.
mean        "Data preprocessing: subtract the mean" (no BN). Pairs (raw → center) and
            (scale → standardize) differ only in mean subtraction. Each preprocessing is taken at its
            best learning rate (as for speed). A pair improves when centring gives a counted higher
            best validation accuracy or counted fewer steps to the target, and is not counted worse on
            the other. holds = every pair improves; partly = some; does_not_hold = none.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.common.languages import LANGUAGES
from generator.contract import schema as contract
from generator.analysis.training import best_lr
from generator.engine.mlp import N_CLASSES

VERDICTS = ("holds", "partly", "does_not_hold")
CLAIM_IDS = ("speed", "init", "overfitting", "vanishing", "mean")
GRAD_BAND = 10.0  # balanced gradients: first/last ratio within [1/GRAD_BAND, GRAD_BAND]
SE_FACTOR = 2.0

CLAIMS = contract.DataFile(
    "claims.csv",
    "시드 글의 배치 정규화 주장에 대한 판정: 주장마다 한 행 (규칙은 generator/analysis/training_claims.py와 학습 실험 페이지에 있음)",
    "Verdicts on the seed note's batch-norm claims: one row per claim (rules in generator/analysis/training_claims.py and on the training page)",
    (
        contract.Column("claim_id", "str", "주장: speed, init, overfitting, vanishing, mean", "claim: speed, init, overfitting, vanishing, mean"),
        contract.Column("verdict", "str", "holds(성립), partly(부분적으로 성립), does_not_hold(성립하지 않음)", "holds, partly, does_not_hold"),
        contract.Column("evidence", "str", "판정에 쓴 수치 (key=value; 언어 중립)", "the numbers behind the verdict (key=value; language-neutral)"),
        contract.Column("evidence_ko", "str", "근거 (한국어 문장)", "evidence (Korean sentence)"),
        contract.Column("evidence_en", "str", "근거 (영어 문장)", "evidence (English sentence)"),
    ),
)
contract.register_file(CLAIMS)


# --- statistics -------------------------------------------------------------------------------


def mean_se(x) -> tuple[float, float]:
    x = np.asarray(pd.Series(x, dtype=float).dropna(), dtype=float)
    if x.size == 0:
        return math.nan, math.nan
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else 0.0


def counts(a, b, floor: float) -> int:
    """+1 if mean(a) is larger than mean(b) by a counted difference, −1 if smaller, 0 otherwise."""
    (ma, sa), (mb, sb) = mean_se(a), mean_se(b)
    if math.isnan(ma) or math.isnan(mb):
        return 0
    d = ma - mb
    margin = max(SE_FACTOR * math.hypot(sa, sb), floor)
    return 1 if d > margin else -1 if d < -margin else 0


def _fmt_pct(x) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def _fmt_steps(x) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.0f}"


def _fmt_g(x) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"


# --- the five rules ---------------------------------------------------------------------------


def speed_claim(lr: pd.DataFrame, eval_every: int) -> dict:
    pick = best_lr(lr, "norm").set_index("norm")["learning_rate"]
    steps = {}
    for norm in ("none", "bn"):
        d = lr[(lr["norm"] == norm) & (lr["learning_rate"] == pick[norm])]
        steps[norm] = d["steps_to_target"]
    m_none, m_bn = mean_se(steps["none"])[0], mean_se(steps["bn"])[0]
    reach_none, reach_bn = steps["none"].notna().all(), steps["bn"].notna().all()
    faster = (reach_bn and not reach_none) or (reach_bn and counts(steps["none"], steps["bn"], eval_every) > 0)
    stable = lr.groupby(["norm", "learning_rate"])["stable"].all().reset_index()
    lr_max = {n: float(stable[(stable["norm"] == n) & stable["stable"]]["learning_rate"].max()) for n in ("none", "bn")}
    higher = (not math.isnan(lr_max["bn"])) and (math.isnan(lr_max["none"]) or lr_max["bn"] > lr_max["none"])
    verdict = "holds" if faster and higher else "partly" if faster or higher else "does_not_hold"
    v = dict(steps_none=m_none, steps_bn=m_bn, best_lr_none=float(pick["none"]), best_lr_bn=float(pick["bn"]),
             max_stable_lr_none=lr_max["none"], max_stable_lr_bn=lr_max["bn"], faster=bool(faster), higher_lr=bool(higher))
    ko = (f"목표 정확도까지 평균 {_fmt_steps(m_bn)}단계(BN, η={_fmt_g(v['best_lr_bn'])}) 대 {_fmt_steps(m_none)}단계"
          f"(BN 없음, η={_fmt_g(v['best_lr_none'])}); 안정적인 최대 학습률 {_fmt_g(lr_max['bn'])}(BN) 대 {_fmt_g(lr_max['none'])}(BN 없음).")
    en = (f"Mean steps to the target: {_fmt_steps(m_bn)} with BN (η={_fmt_g(v['best_lr_bn'])}) vs {_fmt_steps(m_none)} without "
          f"(η={_fmt_g(v['best_lr_none'])}); largest stable learning rate {_fmt_g(lr_max['bn'])} with BN vs {_fmt_g(lr_max['none'])} without.")
    return dict(claim_id="speed", verdict=verdict, values=v, evidence_ko=ko, evidence_en=en)


def init_claim(init: pd.DataFrame, target: float) -> dict:
    scales = np.sort(init["init_scale"].unique())
    per_decade = 1.0 / float(np.mean(np.diff(np.log10(scales)))) if scales.size > 1 else 1.0
    m = init.groupby(["activation", "norm", "init_scale"])["val_acc"].mean().fillna(0.0).reset_index()
    good = m[m["val_acc"] >= target].groupby(["activation", "norm"]).size()
    acts = list(dict.fromkeys(init["activation"]))
    v, n_wide, n_decade = {}, 0, 0
    parts_ko, parts_en = [], []
    for a in acts:
        c_none, c_bn = int(good.get((a, "none"), 0)), int(good.get((a, "bn"), 0))
        v[f"working_scales_{a}_none"], v[f"working_scales_{a}_bn"] = c_none, c_bn
        n_wide += c_bn > c_none
        n_decade += c_bn - c_none >= per_decade - 1e-9
        parts_ko.append(f"{a}: {c_bn}개(BN) 대 {c_none}개(BN 없음)")
        parts_en.append(f"{a}: {c_bn} with BN vs {c_none} without")
    v["grid_points"] = int(scales.size)
    verdict = "holds" if acts and n_decade == len(acts) else "partly" if n_wide else "does_not_hold"
    ko = f"검증 정확도가 목표에 닿은 가중치 배율의 수 ({scales.size}개 중) — " + ", ".join(parts_ko) + "."
    en = f"Weight scales (of {scales.size}) whose validation accuracy reaches the target — " + "; ".join(parts_en) + "."
    return dict(claim_id="init", verdict=verdict, values=v, evidence_ko=ko, evidence_en=en)


def overfitting_claim(reg: pd.DataFrame, n_val: int) -> dict:
    p = float(reg.loc[reg["dropout"] > 0, "dropout"].max()) if (reg["dropout"] > 0).any() else 0.0

    def sel(norm, drop):
        return reg[(reg["norm"] == norm) & ((reg["dropout"] > 0) == drop)]

    plain, bn, do, both = sel("none", False), sel("bn", False), sel("none", True), sel("bn", True)
    floor = 1.0 / n_val
    reduces = counts(plain["gap"], bn["gap"], floor) > 0
    like_do = len(do) > 0 and counts(bn["gap"], do["gap"], floor) <= 0 and counts(do["val_acc"], bn["val_acc"], floor) <= 0
    verdict = "holds" if reduces and like_do else "partly" if reduces else "does_not_hold"
    g = {k: mean_se(d["gap"])[0] for k, d in (("none", plain), ("bn", bn), ("dropout", do), ("both", both))}
    a = {k: mean_se(d["val_acc"])[0] for k, d in (("none", plain), ("bn", bn), ("dropout", do), ("both", both))}
    v = {**{f"gap_{k}": x for k, x in g.items()}, **{f"val_acc_{k}": x for k, x in a.items()},
         "dropout_p": p, "reduces": bool(reduces), "like_dropout": bool(like_do),
         "dropout_reduces": bool(len(do) > 0 and counts(plain["gap"], do["gap"], floor) > 0)}
    ko = (f"일반화 격차(훈련 − 검증 정확도): 둘 다 없음 {_fmt_pct(g['none'])}, BN {_fmt_pct(g['bn'])}, 드롭아웃 {_fmt_pct(g['dropout'])}, "
          f"둘 다 {_fmt_pct(g['both'])}; 검증 정확도 {_fmt_pct(a['none'])}, {_fmt_pct(a['bn'])}, {_fmt_pct(a['dropout'])}, {_fmt_pct(a['both'])}.")
    en = (f"Generalization gap (train − validation accuracy): neither {_fmt_pct(g['none'])}, BN {_fmt_pct(g['bn'])}, dropout "
          f"{_fmt_pct(g['dropout'])}, both {_fmt_pct(g['both'])}; validation accuracy {_fmt_pct(a['none'])}, {_fmt_pct(a['bn'])}, "
          f"{_fmt_pct(a['dropout'])}, {_fmt_pct(a['both'])}.")
    return dict(claim_id="overfitting", verdict=verdict, values=v, evidence_ko=ko, evidence_en=en)


STALL = 0.9  # stalled: final training loss >= STALL * ln 10


def _stalls(train_loss: pd.Series) -> bool:
    """Most runs still at chance level (a diverged run, NaN, does not count as stalled)."""
    return bool((train_loss >= STALL * math.log(10)).sum() * 2 > len(train_loss)) if len(train_loss) else False


def vanishing_claim(depth: pd.DataFrame, fig1: pd.DataFrame, target: float) -> dict:
    failing, rescued = [], []
    for (init, dep), d in depth.groupby(["init", "depth"], sort=False):
        none, bn = d[d["norm"] == "none"], d[d["norm"] == "bn"]
        if len(none) and len(bn) and _stalls(none["train_loss"]):
            failing.append(f"{init}/{dep}")
            if not _stalls(bn["train_loss"]):
                rescued.append(f"{init}/{dep}")
    if len(fig1):
        # the last evaluation's mean minibatch loss stands in for the final training loss
        last = fig1.sort_values("step").groupby(["norm", "seed"]).tail(1)
        none, bn = last[last["norm"] == "none"], last[last["norm"] == "bn"]
        if len(none) and len(bn) and _stalls(none["train_loss"]):
            failing.append("sigmoid")
            if not _stalls(bn["train_loss"]):
                rescued.append("sigmoid")
    bnd = depth[depth["norm"] == "bn"]
    ratio = bnd.groupby(["init", "depth"])["grad_ratio"].median() if len(bnd) else pd.Series(dtype=float)
    worst = float(ratio.max()) if len(ratio) else math.nan
    least = float(ratio.min()) if len(ratio) else math.nan
    balanced = bool(len(ratio)) and bool(((ratio >= 1 / GRAD_BAND) & (ratio <= GRAD_BAND)).all())
    if failing and len(rescued) == len(failing) and balanced:
        verdict = "holds"
    elif rescued or not failing:
        verdict = "partly"
    else:
        verdict = "does_not_hold"
    v = dict(failing=len(failing), rescued=len(rescued), max_grad_ratio_bn=worst, min_grad_ratio_bn=least, balanced=balanced)
    fl = ", ".join(failing) or "—"
    ko = (f"BN 없이 학습이 멈춘(stalled) 설정 {len(failing)}개({fl}) 중 BN을 넣어 학습이 된 것 {len(rescued)}개; "
          f"BN 망의 첫 층/마지막 은닉층 기울기 비는 {_fmt_g(least)}–{_fmt_g(worst)}.")
    en = (f"{len(rescued)} of the {len(failing)} settings that stall without BN ({fl}) learn with BN; "
          f"with BN the first-to-last hidden layer gradient ratio is {_fmt_g(least)}–{_fmt_g(worst)}.")
    return dict(claim_id="vanishing", verdict=verdict, values=v, evidence_ko=ko, evidence_en=en)


PAIRS = (("raw", "center"), ("scale", "standardize"))


def mean_claim(pre: pd.DataFrame, n_val: int, eval_every: int) -> dict:
    pick = best_lr(pre, "preprocess").set_index("preprocess")["learning_rate"]
    at = {h: pre[(pre["preprocess"] == h) & (pre["learning_rate"] == lr)] for h, lr in pick.items()}
    v, better, tested, ko_parts, en_parts = {}, 0, 0, [], []
    for a, b in PAIRS:
        if a not in at or b not in at:
            continue
        tested += 1
        acc = counts(at[b]["best_val_acc"], at[a]["best_val_acc"], 1.0 / n_val)
        sa, sb = at[a]["steps_to_target"], at[b]["steps_to_target"]
        if sb.notna().all() and not sa.notna().all():
            fast = 1
        elif sa.notna().all() and not sb.notna().all():
            fast = -1
        else:
            fast = counts(sa, sb, eval_every)  # positive when centring needs fewer steps
        ok = (acc > 0 and fast >= 0) or (fast > 0 and acc >= 0)
        better += ok
        for h in (a, b):
            v[f"best_val_acc_{h}"] = mean_se(at[h]["best_val_acc"])[0]
            v[f"steps_{h}"] = mean_se(at[h]["steps_to_target"])[0]
            v[f"best_lr_{h}"] = float(pick[h])
        v[f"improves_{b}"] = bool(ok)
        ko_parts.append(f"{a} → {b}: 최고 검증 정확도 {_fmt_pct(v[f'best_val_acc_{a}'])} → {_fmt_pct(v[f'best_val_acc_{b}'])}, "
                        f"목표까지 {_fmt_steps(v[f'steps_{a}'])} → {_fmt_steps(v[f'steps_{b}'])}단계")
        en_parts.append(f"{a} → {b}: best validation accuracy {_fmt_pct(v[f'best_val_acc_{a}'])} → {_fmt_pct(v[f'best_val_acc_{b}'])}, "
                        f"steps to the target {_fmt_steps(v[f'steps_{a}'])} → {_fmt_steps(v[f'steps_{b}'])}")
    verdict = "holds" if tested and better == tested else "partly" if better else "does_not_hold"
    ko = "; ".join(ko_parts) + " (각 전처리의 최적 학습률에서)." if ko_parts else "비교할 전처리 쌍이 없습니다."
    en = "; ".join(en_parts) + " (each at its best learning rate)." if en_parts else "No preprocessing pair to compare."
    return dict(claim_id="mean", verdict=verdict, values=v, evidence_ko=ko, evidence_en=en)


# --- assembly ---------------------------------------------------------------------------------


def all_claims(frames: dict, t) -> list[dict]:
    from generator.engine.digits import load

    n_val = len(load(t.val_fraction, t.split_seed, t.preprocess, None)[3])
    return [
        speed_claim(frames["training_lr.csv"], t.eval_every),
        init_claim(frames["training_init.csv"], t.target_accuracy),
        overfitting_claim(frames["training_reg.csv"], n_val),
        vanishing_claim(frames["training_depth.csv"], frames["training_fig1.csv"], t.target_accuracy),
        mean_claim(frames["training_preprocess.csv"], n_val, t.eval_every),
    ]


def _evidence(values: dict) -> str:
    def f(x):
        if isinstance(x, bool):
            return str(x)
        if isinstance(x, float):
            return "nan" if math.isnan(x) else f"{x:.6g}"
        return str(x)

    return "; ".join(f"{k}={f(x)}" for k, x in values.items())


def claims_frame(frames: dict, t) -> pd.DataFrame:
    rows = [dict(claim_id=c["claim_id"], verdict=c["verdict"], evidence=_evidence(c["values"]),
                 evidence_ko=c["evidence_ko"], evidence_en=c["evidence_en"]) for c in all_claims(frames, t)]
    return pd.DataFrame(rows, columns=CLAIMS.column_names)


# --- page context -----------------------------------------------------------------------------


def _localize(df: pd.DataFrame, labels: dict[str, str]) -> dict[str, pd.DataFrame]:
    """{lang: df} with each column in ``labels`` replaced by its display label ``<key>.<value>``;
    columns named ``*_ko`` / ``*_en`` are kept for their own language only (renamed without suffix)."""
    from generator.render import strings

    out = {}
    for lang in LANGUAGES:
        d = df.copy()
        for col, key in labels.items():
            d[col] = [strings.t(lang, f"{key}.{v}") for v in d[col].astype(str)]
        for other in LANGUAGES:
            for col in [c for c in d.columns if c.endswith(f"_{other}")]:
                if other == lang:
                    d[col.removesuffix(f"_{lang}")] = d.pop(col)
                else:
                    d.pop(col)
        out[lang] = d
    return out


def _clean(d: dict) -> dict:
    """Integral floats become ints (so "5 epochs", not "5.00 epochs"); everything else unchanged."""
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in d.items()}


def training_context(frames: dict, t=None) -> dict:
    """Everything the training page shows, language-independent (numbers, DataFrames, verdicts).

    ``frames``: {csv name: DataFrame} (``run_training``'s result or the CSVs read back);
    ``t``: the TrainingConfig used (defaults when None). ``tables.<name>.<lang>`` are display tables
    whose category columns are already translated (numbers stay numbers, formatted by the template).
    """
    from generator.config.training import TrainingConfig
    from generator.engine.digits import load

    t = t or TrainingConfig()
    xt, _, xv, _ = load(t.val_fraction, t.split_seed, t.preprocess, None)
    found = {c["claim_id"]: c for c in all_claims(frames, t)}
    claims = {cid: {"verdict": c["verdict"], "evidence_ko": c["evidence_ko"], "evidence_en": c["evidence_en"], **c["values"]}
              for cid, c in found.items()}
    claims_df = pd.DataFrame([{"claim": cid, "verdict": claims[cid]["verdict"], "evidence_ko": claims[cid]["evidence_ko"],
                               "evidence_en": claims[cid]["evidence_en"]} for cid in CLAIM_IDS])

    lr = frames["training_lr.csv"]
    stable = lr.groupby(["norm", "learning_rate"])["stable"].all().reset_index()
    pick = best_lr(lr, "norm").set_index("norm")["learning_rate"]
    lr_rows = []
    for norm in ("none", "bn"):
        at = lr[(lr["norm"] == norm) & (lr["learning_rate"] == pick[norm])]
        ok = stable[(stable["norm"] == norm) & stable["stable"]]["learning_rate"]
        lr_rows.append({"norm": norm, "best_lr": float(pick[norm]), "steps": mean_se(at["steps_to_target"])[0],
                        "best_val_acc": mean_se(at["best_val_acc"])[0], "max_stable_lr": float(ok.max()) if len(ok) else math.nan})

    init = frames["training_init.csv"]
    m = init.groupby(["activation", "norm", "init_scale"])["val_acc"].mean().fillna(0.0).reset_index()
    init_rows = []
    for act, norm in ((a, n) for a in dict.fromkeys(init["activation"]) for n in ("none", "bn")):
        d = m[(m["activation"] == act) & (m["norm"] == norm)]
        good = d[d["val_acc"] >= t.target_accuracy]["init_scale"]
        sub = init[(init["activation"] == act) & (init["norm"] == norm)]
        n_div = int(sub.groupby("init_scale")["diverged"].any().sum())
        init_rows.append({"activation": act, "norm": norm, "n_good": int(len(good)), "n_div": n_div,
                          "lo": float(good.min()) if len(good) else math.nan, "hi": float(good.max()) if len(good) else math.nan,
                          "best_acc": float(d["val_acc"].max())})

    depth = frames["training_depth.csv"]
    dep_rows = []
    for init_name, norm, dep in ((i, n, k) for i in dict.fromkeys(depth["init"]) for n in ("none", "bn")
                                 for k in sorted(depth["depth"].unique())):
        d = depth[(depth["init"] == init_name) & (depth["norm"] == norm) & (depth["depth"] == dep)]
        if not len(d):
            continue
        dep_rows.append({"init": init_name, "norm": norm, "depth": int(dep), "best_val_acc": mean_se(d["best_val_acc"])[0],
                         "train_loss": mean_se(d["train_loss"])[0], "grad_ratio": float(d["grad_ratio"].median()),
                         "rel_grad_first": float(d["rel_grad_first"].median()),
                         "status": str(d["status"].value_counts().index[0])})

    batch = frames["training_batch.csv"].groupby("batch_size")[["train_acc", "val_acc", "val_acc_train_mode", "gap"]].mean().reset_index()
    reg = frames["training_reg.csv"]
    reg_rows = []
    for norm, drop in (("none", False), ("none", True), ("bn", False), ("bn", True)):
        d = reg[(reg["norm"] == norm) & ((reg["dropout"] > 0) == drop)]
        reg_rows.append({"setting": f"{norm}_{'dropout' if drop else 'plain'}", "train_acc": mean_se(d["train_acc"])[0],
                         "val_acc": mean_se(d["val_acc"])[0], "gap": mean_se(d["gap"])[0], "gap_se": mean_se(d["gap"])[1]})

    pre = frames["training_preprocess.csv"]
    ppick = best_lr(pre, "preprocess").set_index("preprocess")["learning_rate"]
    pre_rows = []
    for how, lr_best in ppick.items():
        d = pre[(pre["preprocess"] == how) & (pre["learning_rate"] == lr_best)]
        pre_rows.append({"preprocess": how, "best_lr": float(lr_best), "best_val_acc": mean_se(d["best_val_acc"])[0],
                         "steps": mean_se(d["steps_to_target"])[0]})

    fig1 = frames["training_fig1.csv"]
    f1 = fig1.groupby(["norm", "seed"])["steps_to_target"].first().groupby("norm").mean()
    f1_final = fig1[fig1["step"] == fig1["step"].max()].groupby("norm")["val_acc"].mean()
    f1_dist = {}
    for norm, d in fig1.groupby("norm"):
        per_seed = []
        # from the first evaluation after step 0: at step 0 BN's running statistics are still (0, 1)
        for _, ds in d[d["step"] > 0].sort_values("step").groupby("seed"):
            width = (ds["p85"] - ds["p15"]).to_numpy()
            per_seed.append({"drift": float(ds["p50"].max() - ds["p50"].min()), "width_start": float(width[0]),
                             "width_end": float(width[-1]), "p50_start": float(ds["p50"].iloc[0]), "p50_end": float(ds["p50"].iloc[-1])})
        f1_dist[norm] = {k: float(np.mean([r[k] for r in per_seed])) for k in per_seed[0]}
    floor = 1.0 / len(xv)
    n_lower = int((batch["gap"] < -floor).sum())
    n_higher = int((batch["gap"] > floor).sum())
    worst = batch.loc[batch["gap"].abs().idxmax()] if len(batch) else None
    norm_lbl = "fig.training.norm_short"
    return {
        "available": True,
        "cfg": _clean({
            "n_train": int(len(xt)), "n_val": int(len(xv)), "n_seeds": len(t.seeds), "seeds": list(t.seeds),
            "val_fraction": t.val_fraction, "split_seed": t.split_seed, "preprocess": t.preprocess,
            "width": t.width, "batch_size": t.batch_size, "learning_rate": t.learning_rate, "momentum": t.momentum,
            "steps": t.steps, "eval_every": t.eval_every, "target": t.target_accuracy,
            "base_depth": t.base_depth, "base_activation": t.base_activation, "base_init": t.base_init,
            "init_depth": t.init_depth, "init_steps": t.init_steps, "init_scale_min": t.init_scale_min,
            "init_scale_max": t.init_scale_max, "init_scale_points": t.init_scale_points,
            "lr_min": t.lr_min, "lr_max": t.lr_max, "lr_points": t.lr_points, "pre_lr_points": t.pre_lr_points,
            "fig1_depth": t.fig1_depth, "fig1_init_scale": t.fig1_init_scale, "fig1_learning_rate": t.fig1_learning_rate,
            "fig1_steps": t.fig1_steps, "depths": list(t.depths), "max_depth": max(t.depths),
            "depth_learning_rate": t.depth_learning_rate, "depth_momentum": t.depth_momentum,
            "batch_sizes": list(t.batch_sizes), "batch_epochs": t.batch_epochs, "dropout": t.dropout,
            "reg_train_size": t.reg_train_size, "reg_steps": t.reg_steps, "n_classes": N_CLASSES,
            "chance_loss": math.log(10), "stall_loss": STALL * math.log(10), "stall_fraction": STALL,
            "se_factor": SE_FACTOR, "grad_band": GRAD_BAND, "grad_band_inv": 1.0 / GRAD_BAND,
        }),
        "claims": claims,
        "verdicts": [claims[c]["verdict"] for c in CLAIM_IDS],
        "lr": {r["norm"]: r for r in lr_rows},
        "init": {f"{r['activation']}_{r['norm']}": r for r in init_rows},
        "depth": {f"{r['init']}_{r['norm']}_{r['depth']}": r for r in dep_rows},
        "batch": {int(r.batch_size): r._asdict() for r in batch.itertuples(index=False)},
        "reg": {r["setting"]: r for r in reg_rows},
        "pre": {r["preprocess"]: r for r in pre_rows},
        "fig1": {"steps_none": float(f1.get("none", math.nan)), "steps_bn": float(f1.get("bn", math.nan)),
                 "final_none": float(f1_final.get("none", math.nan)), "final_bn": float(f1_final.get("bn", math.nan)),
                 **{f"{k}_{norm}": v for norm, dd in f1_dist.items() for k, v in dd.items()}},
        "batch_summary": {"n": int(len(batch)), "n_train_lower": n_lower, "n_train_higher": n_higher,
                          "worst_batch": int(worst["batch_size"]) if worst is not None else 0,
                          "worst_gap": float(worst["gap"]) if worst is not None else math.nan,
                          "smallest_failed": bool(len(batch) and batch["val_acc"].iloc[0] < 2.0 / N_CLASSES)},
        "tables": {
            "claims": _localize(claims_df, {"claim": "training.claim", "verdict": "training.verdict"}),
            "lr": _localize(pd.DataFrame(lr_rows), {"norm": norm_lbl}),
            "init": _localize(pd.DataFrame(init_rows), {"activation": "fig.activation", "norm": norm_lbl}),
            "depth": _localize(pd.DataFrame(dep_rows), {"init": "fig.init", "norm": norm_lbl, "status": "training.status"}),
            "batch": _localize(batch, {}),
            "reg": _localize(pd.DataFrame(reg_rows), {"setting": "fig.training.reg"}),
            "pre": _localize(pd.DataFrame(pre_rows), {"preprocess": "fig.training.pre"}),
        },
    }
