"""What the finite-width phase measurements (phase_measured.csv) say: fitted depth scales and errors by width.

Contract
--------
:func:`xi_c_fits` -- one row per (activation, sigma_w2, sigma_b2, width): the correlation depth scale
``xi_c_fit`` fitted from the seed mean of the measured c^l, a 95 % interval over seeds (``xi_c_lo``,
``xi_c_hi``: t(0.975, S - 1) times the jackknife standard error of the S leave-one-seed-out fits; NaN
with one seed), ``n_seeds`` (the seeds averaged), beside the theory's ``xi_c_theory`` and ``regime`` (generator/engine/phase.py).
Why the seed mean and not one fit per seed: at finite width the fluctuation of c^l is driven by the
weights, so it is common to every input pair of a network and does not average out over pairs; only
independent weight draws (seeds) reduce it, and a per-seed fit in the chaotic phase is mostly noise.
What to expect: in the ordered phase |c^l - 1| falls to rounding level, so the fit has many clean layers:
on the default grid every ordered tanh/ReLU point with a "fit" at width 1000 is within 17 % of theory,
most within 2 % (tests/test_phase_measured.py checks two points at 15 %). In the chaotic phase c^l wanders
about c* by ~0.015 at width 1000 (8 seeds), with the same correlation length xi_c as the signal, so the
usable range is under two xi_c: with 3 seeds those points come out "inconclusive" (interval wider than the
estimate, or c not settled), not as a wrong number. Wider layers or many more seeds narrow it.

The fit rule: c_inf = the mean of c^l over the last quarter of the layers (the measured fixed point: at
finite width it differs from c* by O(1/N), which would bend log|c^l - c*| near the end), and the noise
floor = the standard deviation of c^l over those layers. Usable layers: q has converged (the theory's
q^l within ``Q_CONVERGED`` = 1 % of q*: before that the correlation map changes from layer to layer),
c^l is in the linear regime of the map (|c^l - c_inf| <= ``C_LINEAR`` = 0.1) and well above the noise
(|c^l - c_inf| > ``NOISE_FACTOR`` = 3 times the floor), taken from the first usable layer up to the first
layer that is not. log|c^l - c_inf| is fitted by least squares as a line in l; xi_c = -1 / slope. The
fit is inconclusive (``status = "inconclusive"``, ``reason`` says why) when c has not settled (the mean of
the third quarter of the layers differs from c_inf by more than 3 floors and ``SETTLED`` = 0.005 (5 % of
the fitted range): xi_c is too long for the depth,
and c_inf would be biased), with fewer than ``MIN_LAYERS`` = 4 usable layers or a slope >= 0, when the
95 % interval is undefined or wider than the estimate itself (``MAX_WIDTH_RATIO`` = 1: the seeds disagree
too much to state a number), and when the theory has no finite xi_c (explodes, critical); else "fit".

:func:`q_error` -- one row per (activation, sigma_w2, sigma_b2, width): ``rel_err`` = the mean over seeds
and layers of |q^l / q_theory^l - 1|, ``c_err`` = the mean of |c^l - c_theory^l|, with q_theory^l the
variance map from q^1 = sigma_w^2 q0 + sigma_b^2 and c_theory^l the correlation map at q^l from
c^1 = (sigma_w^2 q0 c0 + sigma_b^2) / q^1 (the first layer is linear in the inputs), and ``n_seeds``.
q0 and c0 are the measurement's ``[phase]`` values (they are not columns of the file).

:func:`phase_summary` -- per (activation, width) the mean rel_err and c_err over the points whose regime
is not ``explodes``, and per activation ``slope``: the least-squares slope of log(rel_err) against
log(width) (about -1/2 if the error is finite-width noise, -1 for a pure 1/N bias).

:func:`fit_agreement` -- per activation, at the largest width of :func:`xi_c_fits`'s frame: the points,
those fitted and inconclusive, the median of |xi_c_fit / xi_c_theory - 1| over the fitted ones and how many
are within ``XI_TOL`` = 15 % of theory (the issue's acceptance tolerance away from the critical line).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.analysis.student_t import quantile
from generator.engine.phase import correlation_map, phase_point, variance_map

POINT = ["activation", "sigma_w2", "sigma_b2", "width"]
Q_CONVERGED, C_LINEAR, NOISE_FACTOR, MIN_LAYERS, MAX_WIDTH_RATIO, SETTLED = 0.01, 0.1, 3.0, 4, 1.0, 0.005
XI_TOL = 0.15  # a fitted xi_c "agrees" with theory within this relative deviation


def theory_curves(activation, sigma_w2, sigma_b2, depth, q0=1.0, c0=0.5, points=48):
    """(q^l, c^l) of the mean-field maps for l = 1..depth (module doc), two float arrays."""
    q = np.empty(depth)
    c = np.empty(depth)
    q[0] = sigma_w2 * q0 + sigma_b2
    c[0] = (sigma_w2 * q0 * c0 + sigma_b2) / q[0]
    with np.errstate(all="ignore"):
        for layer in range(1, depth):
            q[layer] = variance_map(activation, sigma_w2, sigma_b2, q[layer - 1], points)
            finite = math.isfinite(q[layer - 1]) and q[layer - 1] > 0
            c[layer] = (
                correlation_map(activation, sigma_w2, sigma_b2, q[layer - 1], c[layer - 1], points)
                if finite
                else math.nan
            )
    return q, c


def fit_xi(layers: np.ndarray, c: np.ndarray, converged: np.ndarray) -> tuple[float, str]:
    """(xi_c, reason) for one seed's c^l (layers ascending); reason is "" when the fit succeeded."""
    if c.size < 2 * MIN_LAYERS or not np.isfinite(c).all():
        return math.nan, "c is not finite at every layer (the signal exploded or vanished)"
    quarter = max(2, len(c) // 4)
    tail = c[len(c) - quarter :]
    c_inf, floor = float(tail.mean()), float(tail.std())
    before = float(c[len(c) - 2 * quarter : len(c) - quarter].mean())
    if abs(before - c_inf) > max(NOISE_FACTOR * floor, SETTLED):
        return math.nan, "c has not settled by the last quarter of the layers: xi_c too long for this depth"
    gap = np.abs(c - c_inf)
    ok = converged & (gap <= C_LINEAR) & (gap > NOISE_FACTOR * floor) & (gap > 0)
    if not ok.any():
        return math.nan, "no layer with converged q and c in the linear regime above the noise"
    start = int(np.argmax(ok))
    end = start
    while end < len(c) and ok[end]:
        end += 1
    if end - start < MIN_LAYERS:
        return math.nan, f"{end - start} usable layers (at least {MIN_LAYERS} needed)"
    slope = np.polyfit(layers[start:end].astype(float), np.log(gap[start:end]), 1)[0]
    if slope >= 0:
        return math.nan, "log|c - c_inf| does not decrease with depth"
    return -1.0 / float(slope), ""


def _jackknife(full: float, leave_one_out: list[float]) -> tuple[float, float]:
    """95 % interval full -/+ t(0.975, n - 1) * jackknife standard error over the leave-one-seed-out fits
    (NaN with fewer than 2 seeds or when a leave-one-out fit fails)."""
    v = np.asarray(leave_one_out, dtype=float)
    n = v.size
    if n < 2 or not math.isfinite(full) or not np.isfinite(v).all():
        return math.nan, math.nan
    se = math.sqrt((n - 1) / n * float(np.sum((v - v.mean()) ** 2)))
    half = quantile(0.975, n - 1) * se
    return full - half, full + half


def _theory(activation, s2, b2, q0, points):
    pp = phase_point(activation, s2, b2, q0, points)
    return {"xi_c": pp["xi_c"], "regime": pp["regime"], "q_star": pp["q_star"]}


def theory_lookup(theory: pd.DataFrame):
    """A ``theory_fn`` for :func:`xi_c_fits` reading phase_theory.csv's rows (the measured points are
    theory-grid points, written with the same round-trip digits, so the lookup is exact)."""
    cols = ["xi_c", "regime", "q_star"]
    rows = {
        (a, float(s2), float(b2)): dict(zip(cols, rest, strict=True))
        for a, s2, b2, *rest in theory[["activation", "sigma_w2", "sigma_b2", *cols]].itertuples(index=False, name=None)
    }
    return lambda activation, s2, b2: rows[(activation, float(s2), float(b2))]


def xi_c_fits(
    measured: pd.DataFrame, theory_fn=None, q0: float = 1.0, c0: float = 0.5, points: int = 48
) -> pd.DataFrame:
    """Fitted and theoretical xi_c per (activation, sigma_w2, sigma_b2, width) (module doc).

    ``theory_fn(activation, sigma_w2, sigma_b2) -> dict(xi_c, regime, q_star)``; default: engine.phase
    (pass a lookup into phase_theory.csv to reuse it); ``points``: quadrature nodes ([phase] quadrature_points)."""
    theory_fn = theory_fn or (lambda a, s2, b2: _theory(a, s2, b2, q0, points))
    rows, cache = [], {}
    for (act, s2, b2, width), df in measured.groupby(POINT, sort=True):
        key = (act, s2, b2)
        if key not in cache:
            depth = int(measured["layer"].max())
            th = theory_fn(act, s2, b2)
            q_th, _ = theory_curves(act, s2, b2, depth, q0, c0, points)
            with np.errstate(all="ignore"):  # q* = 0 (critical, sigma_b = 0) or inf: never converged
                cache[key] = th, np.abs(q_th / th["q_star"] - 1.0) <= Q_CONVERGED
        th, converged_by_layer = cache[key]
        curves = df.pivot_table(index="layer", columns="seed", values="c", dropna=False).sort_index()
        layers = curves.index.to_numpy()
        conv = converged_by_layer[layers - 1]
        mean, why = fit_xi(layers, curves.mean(axis=1).to_numpy(), conv)
        leave_one_out = [fit_xi(layers, curves.drop(columns=s).mean(axis=1).to_numpy(), conv)[0] for s in curves]
        lo, hi = _jackknife(mean, leave_one_out)
        fits = [] if why else list(curves.columns)
        reasons = [why] if why else []
        if fits and not (math.isfinite(lo) and hi - lo <= MAX_WIDTH_RATIO * mean):
            fits, reasons = [], ["the interval over seeds is wider than the estimate (or undefined)"]
        finite_theory = th["regime"] in ("ordered", "chaotic") and math.isfinite(th["xi_c"])
        status = "fit" if fits and finite_theory else "inconclusive"
        reason = (
            "" if status == "fit" else (reasons[0] if not fits else f"theory regime {th['regime']}: no finite xi_c")
        )
        rows.append(
            dict(zip(POINT, (act, s2, b2, width)))
            | dict(xi_c_fit=mean, xi_c_lo=lo, xi_c_hi=hi, n_seeds=curves.shape[1], xi_c_theory=th["xi_c"])
            | dict(regime=th["regime"], status=status, reason=reason)
        )
    return pd.DataFrame(rows)


def q_error(measured: pd.DataFrame, q0: float = 1.0, c0: float = 0.5, points: int = 48) -> pd.DataFrame:
    """rel_err of q and c_err of c against the mean-field curves per (activation, sigma_w2, sigma_b2, width)."""
    rows, curves = [], {}
    depth = int(measured["layer"].max())
    for (act, s2, b2, width), df in measured.groupby(POINT, sort=True):
        if (act, s2, b2) not in curves:
            curves[(act, s2, b2)] = theory_curves(act, s2, b2, depth, q0, c0, points)
        q_th, c_th = curves[(act, s2, b2)]
        idx = df["layer"].to_numpy() - 1
        with np.errstate(all="ignore"):
            rel = np.abs(df["q"].to_numpy() / q_th[idx] - 1.0)
        c_abs = np.abs(df["c"].to_numpy() - c_th[idx])
        rows.append(
            dict(zip(POINT, (act, s2, b2, width)))
            | dict(rel_err=float(np.mean(rel)), c_err=float(np.mean(c_abs)), n_seeds=int(df["seed"].nunique()))
        )
    return pd.DataFrame(rows)


def phase_summary(errors: pd.DataFrame, regimes: pd.DataFrame) -> pd.DataFrame:
    """Per (activation, width): mean rel_err, c_err over non-exploding points, and the activation's slope.

    ``errors``: :func:`q_error`'s frame; ``regimes``: any frame with activation, sigma_w2, sigma_b2, regime
    (phase_theory.csv or :func:`xi_c_fits`'s frame)."""
    keys = ["activation", "sigma_w2", "sigma_b2"]
    reg = regimes[keys + ["regime"]].drop_duplicates(keys)
    df = errors.merge(reg, on=keys, how="left")
    df = df[df["regime"] != "explodes"]
    out = df.groupby(["activation", "width"], sort=True)[["rel_err", "c_err"]].mean().reset_index()
    slopes = {}
    for act, g in out.groupby("activation"):
        ok = g["rel_err"] > 0
        slopes[act] = (
            float(np.polyfit(np.log(g.loc[ok, "width"]), np.log(g.loc[ok, "rel_err"]), 1)[0])
            if ok.sum() >= 2
            else math.nan
        )
    out["slope"] = out["activation"].map(slopes)
    return out


def fit_agreement(fits: pd.DataFrame) -> pd.DataFrame:
    """Per activation at the largest width (module doc): activation, width, n_points, n_fit, n_inconclusive,
    xi_rel_median (NaN without a fit), n_within, xi_tol."""
    rows = []
    for act, f in fits.groupby("activation", sort=True):
        width = int(f["width"].max())
        f = f[f["width"] == width]
        ok = f[f["status"] == "fit"]
        rel = np.abs(ok["xi_c_fit"].to_numpy(float) / ok["xi_c_theory"].to_numpy(float) - 1.0)
        rows.append(
            dict(activation=act, width=width, n_points=len(f), n_fit=len(ok), n_inconclusive=len(f) - len(ok))
            | dict(
                xi_rel_median=float(np.median(rel)) if len(rel) else math.nan,
                n_within=int((rel <= XI_TOL).sum()),
                xi_tol=XI_TOL,
            )
        )
    return pd.DataFrame(rows)
