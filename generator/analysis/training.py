"""The training analysis: verdicts on the seed note's batch-norm claims and the training page's numbers.

Values only (numbers, verdicts, ids; no sentences, no formatting): :func:`all_claims` applies the rules
below to the training frames, :func:`claims_frame` makes ``claims.csv`` of them (the ``values`` column
holds every value as JSON, :func:`read_claims` reads it back), :func:`page_numbers` gives the tables and
numbers the training page shows. The pages write the evidence sentences from these values.

Verdicts, computed from the training CSVs by fixed rules.

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

import json
import math

import numpy as np
import pandas as pd


VERDICTS = ("holds", "partly", "does_not_hold")
CLAIM_IDS = ("speed", "init", "overfitting", "vanishing", "mean")
GRAD_BAND = 10.0  # balanced gradients: first/last ratio within [1/GRAD_BAND, GRAD_BAND]
SE_FACTOR = 2.0


def best_lr(lr: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per group ``by``: the learning rate with the fewest mean steps to the target among those where
    every seed reaches it; if none does, the one with the highest mean best validation accuracy."""
    out = []
    for g, d in lr.groupby(by, sort=False):
        agg = d.groupby("learning_rate").agg(steps=("steps_to_target", "mean"), reached=("steps_to_target", lambda s: s.notna().all()),
                                             acc=("best_val_acc", "mean"))
        ok = agg[agg["reached"]]
        pick = ok["steps"].idxmin() if len(ok) else agg["acc"].fillna(-1).idxmax()
        out.append({by: g, "learning_rate": float(pick)})
    return pd.DataFrame(out)


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
    return dict(claim_id="speed", verdict=verdict, values=v)


def init_claim(init: pd.DataFrame, target: float) -> dict:
    scales = np.sort(init["init_scale"].unique())
    per_decade = 1.0 / float(np.mean(np.diff(np.log10(scales)))) if scales.size > 1 else 1.0
    m = init.groupby(["activation", "norm", "init_scale"])["val_acc"].mean().fillna(0.0).reset_index()
    good = m[m["val_acc"] >= target].groupby(["activation", "norm"]).size()
    acts = list(dict.fromkeys(init["activation"]))
    v, n_wide, n_decade = {}, 0, 0
    for a in acts:
        c_none, c_bn = int(good.get((a, "none"), 0)), int(good.get((a, "bn"), 0))
        v[f"working_scales_{a}_none"], v[f"working_scales_{a}_bn"] = c_none, c_bn
        n_wide += c_bn > c_none
        n_decade += c_bn - c_none >= per_decade - 1e-9
    v["grid_points"] = int(scales.size)
    v["activations"] = [str(a) for a in acts]
    verdict = "holds" if acts and n_decade == len(acts) else "partly" if n_wide else "does_not_hold"
    return dict(claim_id="init", verdict=verdict, values=v)


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
    return dict(claim_id="overfitting", verdict=verdict, values=v)


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
    v = dict(failing=len(failing), rescued=len(rescued), max_grad_ratio_bn=worst, min_grad_ratio_bn=least, balanced=balanced,
             failing_settings=failing, rescued_settings=rescued)
    return dict(claim_id="vanishing", verdict=verdict, values=v)


PAIRS = (("raw", "center"), ("scale", "standardize"))


def mean_claim(pre: pd.DataFrame, n_val: int, eval_every: int) -> dict:
    pick = best_lr(pre, "preprocess").set_index("preprocess")["learning_rate"]
    at = {h: pre[(pre["preprocess"] == h) & (pre["learning_rate"] == lr)] for h, lr in pick.items()}
    v, better, tested, pairs = {}, 0, 0, []
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
        pairs.append([a, b])
    v["pairs"] = pairs
    verdict = "holds" if tested and better == tested else "partly" if better else "does_not_hold"
    return dict(claim_id="mean", verdict=verdict, values=v)


# --- claims.csv -----------------------------------------------------------------------------------


def n_val_of(t) -> int:
    """Validation set size of the digits split ``t`` (a TrainingConfig-like object) describes."""
    from generator.engine.digits import load

    return len(load(t.val_fraction, t.split_seed, t.preprocess, None)[3])


def all_claims(frames: dict, t) -> list[dict]:
    """Every claim as ``{"claim_id", "verdict", "values"}``; ``t``: the TrainingConfig (or alike) used."""
    n_val = n_val_of(t)
    return [
        speed_claim(frames["training_lr.csv"], t.eval_every),
        init_claim(frames["training_init.csv"], t.target_accuracy),
        overfitting_claim(frames["training_reg.csv"], n_val),
        vanishing_claim(frames["training_depth.csv"], frames["training_fig1.csv"], t.target_accuracy),
        mean_claim(frames["training_preprocess.csv"], n_val, t.eval_every),
    ]


def _evidence(values: dict) -> str:
    """The language-neutral ``evidence`` column: scalar values as key=value (lists are in ``values`` only)."""
    def f(x):
        if isinstance(x, bool):
            return str(x)
        if isinstance(x, float):
            return "nan" if math.isnan(x) else f"{x:.6g}"
        return str(x)

    return "; ".join(f"{k}={f(x)}" for k, x in values.items() if not isinstance(x, list))


def _json_values(values: dict) -> str:
    """``values`` as JSON: floats round-trip exactly (repr), NaN becomes null."""
    def clean(x):
        if isinstance(x, float) and math.isnan(x):
            return None
        if isinstance(x, (np.floating, np.integer, np.bool_)):
            return clean(x.item())
        return [clean(y) for y in x] if isinstance(x, list) else x

    return json.dumps({k: clean(x) for k, x in values.items()}, ensure_ascii=False, separators=(",", ":"))


def claims_frame(frames: dict, t) -> pd.DataFrame:
    rows = [dict(claim_id=c["claim_id"], verdict=c["verdict"], evidence=_evidence(c["values"]),
                 values=_json_values(c["values"])) for c in all_claims(frames, t)]
    return pd.DataFrame(rows, columns=["claim_id", "verdict", "evidence", "values"])


def read_claims(df: pd.DataFrame) -> dict[str, dict]:
    """``claims.csv`` (as read through the contract) -> {claim_id: {"verdict", **values}}; null -> NaN."""
    out = {}
    for cid, verdict, values in zip(df["claim_id"], df["verdict"], df["values"]):
        v = {k: math.nan if x is None else x for k, x in json.loads(values).items()}
        out[str(cid)] = {"verdict": str(verdict), **v}
    return out


